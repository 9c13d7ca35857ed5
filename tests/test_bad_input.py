"""Bad input never fails a run or loses a record: each becomes a reject with a reason, or a clear error."""

import datetime as dt

import pytest
import sqlalchemy as sa

from etl.config import ConfigError, make_source
from etl.load import warehouse, warehouse_url
from etl.settings import Settings
from tests.support.runs import run_pipeline

DAY = dt.date(2024, 11, 8)
COLS = {"headline": "title", "body": "content", "url": "link"}


def _run(tmp_path, name, fmt, content: bytes, columns=None, **kw):
    dump = tmp_path / f"dump.{fmt}"
    dump.write_bytes(content)
    src = make_source(name, str(dump), fmt, columns if columns is not None else COLS, **kw)
    return run_pipeline([src], DAY, tmp_path / "data", f"sqlite:///{tmp_path / 'wh.db'}")


def _reasons(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'wh.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select record_no, reason from rejects order by record_no")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize(
    "fmt, content, columns",
    [
        ("csv", b"title,content,link\n", None),  # header only
        ("csv", b"", None),  # empty file
        ("jsonl", b"not json\n{broken\n", {"body": "b"}),  # nothing valid
        ("seed_txt", b" \n\t\n", {}),  # whitespace only
    ],
)
def test_a_source_with_no_articles_still_completes(tmp_path, fmt, content, columns):
    dump = tmp_path / ("d.txt" if fmt == "seed_txt" else f"d.{fmt}")
    dump.write_bytes(content)
    src = make_source("s", str(dump), fmt, columns if columns is not None else COLS)
    summary = run_pipeline([src], DAY, tmp_path / "data", f"sqlite:///{tmp_path / 'wh.db'}")
    assert summary["status"] == "ok" and summary["loaded"] == 0
    assert summary["records_in"] == summary["rejected"]


def test_nul_bytes_and_lone_surrogates_are_rejected_not_fatal(tmp_path):
    content = ('{"b": "پہلی خبر"}\n{"b": "ٹوٹا \\ud83d حصہ"}\n{"b": "نل\\u0000بائٹ"}\n{"b": "آخری خبر"}\n').encode()
    summary = _run(tmp_path, "s", "jsonl", content, {"body": "b"})
    assert (summary["loaded"], summary["rejected"]) == (2, 2)
    assert _reasons(tmp_path) == [(2, "invalid_characters"), (3, "invalid_characters")]


def test_bom_with_utf8_spelled_differently(tmp_path):
    summary = _run(tmp_path, "s", "csv", "\ufefflink,title,content\nu1,سرخی,متن\n".encode(), encoding="utf8")
    assert summary["loaded"] == 1
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'wh.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("select url from articles")).scalar_one() == "u1"
    engine.dispose()


def test_required_fields_are_validated_and_enforced(tmp_path):
    with pytest.raises(ConfigError, match="unknown field"):
        make_source("s", "x", "csv", COLS, required=["body", "bogus"])
    summary = _run(
        tmp_path,
        "s",
        "csv",
        "title,content,link\n,متن ایک,u1\nسرخی,متن دو,u2\n".encode(),
        required=["body", "headline"],
    )
    assert (summary["loaded"], summary["rejected"]) == (1, 1)
    assert _reasons(tmp_path) == [(1, "missing_field")]


def test_warehouse_from_an_older_schema_is_refused_clearly(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("create table sentences (article_id text, sentence_no int)"))
    engine.dispose()
    with pytest.raises(warehouse.WarehouseError, match="sentences lacks column"):
        warehouse.engine_for(url)


def test_cli_finds_the_warehouse_in_the_airflow_connection_variable(monkeypatch, pg_url):
    u = sa.make_url(pg_url)
    monkeypatch.delenv("URDU_ETL_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_URDU_WAREHOUSE", f"postgresql://{u.username}@{u.host}:{u.port}/{u.database}")
    assert (
        warehouse_url.resolve_url(Settings.from_env())
        == f"postgresql+psycopg://{u.username}@{u.host}:{u.port}/{u.database}"
    )
