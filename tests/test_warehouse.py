"""Warehouse loads on SQLite and on a real PostgreSQL 15 server: upserts, replacement, one transaction."""

import datetime as dt

import pytest
import sqlalchemy as sa

from etl import pipeline
from etl.load import warehouse
from etl.pipeline import ROOT

DAY = dt.date(2021, 4, 7)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wh.db'}"
    return request.getfixturevalue("pg_url")


def _sample_sources():
    return list(pipeline.load_config(ROOT / "config" / "sources.yaml").values())


def _rows(url, sql):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def test_sample_run_loads_every_table(url, tmp_path):
    summary = pipeline.run(_sample_sources(), DAY, tmp_path / "data", url, run_id="r1")
    assert summary["status"] == "ok"
    assert summary["records_in"] == summary["loaded"] + summary["duplicates"] + summary["rejected"]
    counts = summary["warehouse_tables"]
    assert counts["articles"] == summary["loaded"] == 12
    assert counts["rejects"] == 2 and counts["duplicates"] == 1
    assert counts["sources"] == 4 and counts["runs"] == 1 and counts["dumps"] == 4
    assert counts["sentences"] == sum(s["sentences"] for s in summary["sources"].values())
    reasons = _rows(url, "select source, reason from rejects order by source")
    assert reasons == [("sample_csv", "empty_body"), ("sample_jsonl", "bad_json")]
    dup = _rows(url, "select d.source_file, d.record_no, a.record_no from duplicates d "
                     "join articles a on a.article_id = d.article_id")
    assert dup == [("news.csv", 3, 1)]
    runs = _rows(url, "select run_id, status, records_in, loaded, duplicates, rejected from runs")
    assert runs == [("r1", "ok", 15, 12, 1, 2)]


def test_rerun_replaces_and_never_duplicates(url, tmp_path):
    sources = _sample_sources()
    pipeline.run(sources, DAY, tmp_path / "data", url, run_id="r1")
    before = _rows(url, "select article_id, headline, word_count from articles order by article_id")
    sents = _rows(url, "select count(*) from sentences")
    pipeline.run(sources, DAY, tmp_path / "data", url, run_id="r2")
    assert _rows(url, "select article_id, headline, word_count from articles order by article_id") == before
    assert _rows(url, "select count(*) from sentences") == sents
    assert _rows(url, "select count(*) from runs") == [(2,)]


def test_rerun_after_dump_shrinks_removes_old_rows(url, tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "a.txt").write_text("سرخی ایک\n\nپہلی خبر کا متن۔", encoding="utf-8")
    (dump / "b.txt").write_text("سرخی دو\n\nدوسری خبر کا متن۔", encoding="utf-8")
    from etl.config import make_source
    src = make_source("tiny", str(dump), "seed_txt")
    pipeline.run([src], DAY, tmp_path / "data", url, run_id="a")
    assert _rows(url, "select count(*) from articles where source = 'tiny'") == [(2,)]
    (dump / "b.txt").unlink()
    pipeline.run([src], DAY, tmp_path / "data", url, run_id="b")
    assert _rows(url, "select headline from articles where source = 'tiny'") == [("سرخی ایک",)]
    assert _rows(url, "select count(*) from sentences s join articles a on a.article_id = s.article_id "
                      "where a.source = 'tiny'") == _rows(url, "select count(*) from sentences")


def test_failed_load_rolls_back(url, tmp_path):
    engine = warehouse.engine_for(url)
    good = {"articles": [], "sentences": [], "rejects": [], "duplicates": []}
    bad_article = {"article_id": "x" * 16}  # missing NOT NULL columns
    run = {"run_id": "r", "day": DAY, "started_at": dt.datetime.now(dt.UTC), "finished_at": dt.datetime.now(dt.UTC),
           "status": "loaded", "sources": "s", "records_in": 1, "loaded": 1, "duplicates": 0, "rejected": 0}
    with pytest.raises(sa.exc.SQLAlchemyError):
        warehouse.load_run(engine, DAY, {"s": {**good, "articles": [bad_article]}}, run, [], [])
    assert warehouse.table_counts(engine)["runs"] == 0
    engine.dispose()


def test_url_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv(warehouse.ENV_URL, "postgresql+psycopg://u@h/db")
    assert warehouse.resolve_url(tmp_path) == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv(warehouse.ENV_URL)
    assert warehouse.resolve_url(tmp_path, conn_id=None) == f"sqlite:///{(tmp_path / 'warehouse.db').resolve()}"


def test_airflow_connection_gives_the_url(monkeypatch, pg_url):
    import sqlalchemy as sa
    u = sa.make_url(pg_url)
    monkeypatch.setenv("AIRFLOW_CONN_URDU_WAREHOUSE", f"postgres://{u.username}@{u.host}:{u.port}/{u.database}")
    url = warehouse.url_from_airflow_connection("urdu_warehouse")
    assert url == f"postgresql+psycopg://{u.username}@{u.host}:{u.port}/{u.database}"
    engine = warehouse.engine_for(url)
    assert warehouse.table_counts(engine)["articles"] == 0
    engine.dispose()
