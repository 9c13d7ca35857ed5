"""Warehouse loads on SQLite and on a real PostgreSQL server: upserts, replacement, one transaction."""

import datetime as dt

import pytest
import sqlalchemy as sa

from etl.config import load_sources
from etl.load import warehouse, warehouse_url
from etl.settings import Settings
from etl.tasks.load_warehouse import warehouse_rows
from tests.support import ROOT
from tests.support.runs import run_pipeline

DAY = dt.date(2021, 4, 7)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wh.db'}"
    return request.getfixturevalue("pg_url")


def _sample_sources():
    return list(load_sources(ROOT / "config" / "sources.yaml").values())


def _rows(url, sql):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def test_sample_run_loads_every_table(url, tmp_path):
    summary = run_pipeline(_sample_sources(), DAY, tmp_path / "data", url, run_id="r1")
    assert summary["status"] == "ok"
    assert summary["records_in"] == summary["loaded"] + summary["duplicates"] + summary["rejected"]
    counts = summary["warehouse_tables"]
    assert counts["articles"] == summary["loaded"] == 12
    assert counts["rejects"] == 2 and counts["duplicates"] == 1
    assert counts["sources"] == 4 and counts["runs"] == 1 and counts["dumps"] == 4
    assert counts["sentences"] == sum(s["sentences"] for s in summary["sources"].values())
    reasons = _rows(url, "select source, reason from rejects order by source")
    assert reasons == [("sample_csv", "empty_body"), ("sample_jsonl", "bad_json")]
    dup = _rows(
        url,
        "select d.source_file, d.record_no, a.record_no from duplicates d "
        "join articles a on a.article_id = d.article_id",
    )
    assert dup == [("news.csv", 3, 1)]
    runs = _rows(url, "select run_id, status, records_in, loaded, duplicates, rejected from runs")
    assert runs == [("r1", "ok", 15, 12, 1, 2)]


def test_rerun_replaces_and_never_duplicates(url, tmp_path):
    sources = _sample_sources()
    run_pipeline(sources, DAY, tmp_path / "data", url, run_id="r1")
    before = _rows(url, "select article_id, headline, word_count from articles order by article_id")
    sents = _rows(url, "select count(*) from sentences")
    run_pipeline(sources, DAY, tmp_path / "data", url, run_id="r2")
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
    run_pipeline([src], DAY, tmp_path / "data", url, run_id="a")
    assert _rows(url, "select count(*) from articles where source = 'tiny'") == [(2,)]
    (dump / "b.txt").unlink()
    run_pipeline([src], DAY, tmp_path / "data", url, run_id="b")
    assert _rows(url, "select headline from articles where source = 'tiny'") == [("سرخی ایک",)]
    assert _rows(
        url, "select count(*) from sentences s join articles a on a.article_id = s.article_id where a.source = 'tiny'"
    ) == _rows(url, "select count(*) from sentences")


def test_failed_load_rolls_back(url, tmp_path):
    engine = warehouse.engine_for(url)
    good = {"articles": [], "sentences": [], "rejects": [], "duplicates": []}
    bad_article = {"article_id": "x" * 16}  # missing NOT NULL columns
    run = {
        "run_id": "r",
        "day": DAY,
        "started_at": dt.datetime.now(dt.UTC),
        "finished_at": dt.datetime.now(dt.UTC),
        "status": "loaded",
        "sources": "s",
        "records_in": 1,
        "loaded": 1,
        "duplicates": 0,
        "rejected": 0,
    }
    with pytest.raises(sa.exc.SQLAlchemyError):
        warehouse.load_run(engine, DAY, {"s": {**good, "articles": [bad_article]}}, run, [], [])
    assert warehouse.table_counts(engine)["runs"] == 0
    engine.dispose()


def test_url_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("URDU_ETL_WAREHOUSE_URL", "postgresql+psycopg://u@h/db")
    assert warehouse_url.resolve_url(Settings.from_env()) == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("URDU_ETL_WAREHOUSE_URL")
    monkeypatch.setenv("URDU_ETL_DATA_DIR", str(tmp_path))
    assert warehouse_url.resolve_url(Settings.from_env()) == f"sqlite:///{tmp_path.resolve() / 'warehouse.db'}"


def test_airflow_connection_gives_the_url(monkeypatch, pg_url):
    import sqlalchemy as sa

    u = sa.make_url(pg_url)
    monkeypatch.setenv("AIRFLOW_CONN_URDU_WAREHOUSE", f"postgres://{u.username}@{u.host}:{u.port}/{u.database}")
    url = warehouse_url.url_from_airflow_connection("urdu_warehouse")
    assert url == f"postgresql+psycopg://{u.username}@{u.host}:{u.port}/{u.database}"
    engine = warehouse.engine_for(url)
    assert warehouse.table_counts(engine)["articles"] == 0
    engine.dispose()


def _table_rows(url: str, table: str) -> list[tuple]:
    """Every row of ``table`` in a form both databases give alike: times in UTC, floats as repr."""

    def norm(v):
        if isinstance(v, dt.datetime):
            return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()
        if isinstance(v, dt.date):
            return v.isoformat()
        return repr(v) if isinstance(v, float) else v

    t = warehouse.metadata.tables[table]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(norm(v) for v in r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
    finally:
        engine.dispose()


def test_postgresql_copy_loads_exactly_what_sqlite_inserts(pg_url, tmp_path):
    """On PostgreSQL the pipeline's rows travel as CSV that Arrow writes (``COPY ... FORMAT csv``);
    on SQLite as Python values. Every column of every row must arrive the same: empty strings
    stay empty (not NULL), NULLs stay NULL, float32 scores keep every digit, times keep their zone,
    quotes, commas and line breaks inside text survive."""
    import pyarrow as pa

    from etl import schema

    urls = {"sqlite": f"sqlite:///{tmp_path / 'wh.db'}", "postgresql": pg_url}
    for name, url in urls.items():
        summary = run_pipeline(_sample_sources(), DAY, tmp_path / name, url, run_id="r1")
        assert summary["status"] == "ok"
    for table in ("articles", "sentences", "mentions", "entities", "rejects", "duplicates"):
        assert _table_rows(urls["postgresql"], table) == _table_rows(urls["sqlite"], table), table

    # hand-made values that CSV could mangle, through the same load
    import pyarrow.dataset as ds

    art = (
        ds.dataset(tmp_path / "sqlite" / "lake" / "articles", partitioning="hive")
        .to_table(columns=schema.ARTICLES.names)
        .to_pylist()[0]
    )
    art.update(
        summary=None,
        article_id="edge-1",
        source_file="f.jsonl",
        record_no=1,
        headline="",
        body='قول "نقل"، دوسرا,\nتیسرا',
        keywords=['a"b', "ج"],
        quality_flags=[],
        category_confidence=0.41633325815200806,
        published_at=dt.datetime(2021, 4, 7, 3, 4, 5, 123456, tzinfo=dt.UTC),
        word_count=3,
    )
    batch = pa.RecordBatch.from_pylist([art], schema=schema.ARTICLES)
    converted = list(warehouse_rows("articles", [batch]))
    run = {
        "run_id": "r-edge",
        "day": DAY,
        "started_at": dt.datetime.now(dt.UTC),
        "finished_at": dt.datetime.now(dt.UTC),
        "status": "loaded",
        "sources": "edge",
        "records_in": 1,
        "loaded": 1,
        "duplicates": 0,
        "rejected": 0,
    }
    for url in urls.values():
        engine = warehouse.engine_for(url)
        try:
            warehouse.load_run(engine, DAY, {"edge": {"articles": converted}}, run, [], [])
        finally:
            engine.dispose()
    pick = (
        "select headline, body, keywords, quality_flags, category_confidence, summary from articles "
        "where article_id = 'edge-1'"
    )
    sqlite_row, pg_row = _rows(urls["sqlite"], pick), _rows(urls["postgresql"], pick)
    assert pg_row == sqlite_row == [("", 'قول "نقل"، دوسرا,\nتیسرا', '["a\\"b", "ج"]', "[]", 0.41633325815200806, None)]


def test_sqlite_values_converted_by_arrow_are_what_sqlalchemy_binds():
    """Dates, times in microseconds and floats become the driver's values in Arrow: each is what
    SQLAlchemy's own bind processor makes of the Python value, edge years and nulls included."""
    import pyarrow as pa

    dialect = sa.create_engine("sqlite://").dialect
    utc = dt.UTC
    cases = [
        (sa.Date(), pa.date32(), [dt.date(2024, 3, 5), dt.date(5, 1, 1), dt.date(9999, 12, 31), None]),
        (
            sa.DateTime(timezone=True),
            pa.timestamp("us", tz="UTC"),
            [dt.datetime(2024, 3, 5, 23, 59, 59, 999999, utc), dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=utc), None],
        ),
        (sa.DateTime(), pa.timestamp("us"), [dt.datetime(2024, 3, 5, 0, 0, 0, 1), None]),
        (sa.Float(), pa.float32(), [0.4163332581520080566, 1e-30, None]),
        (sa.Float(), pa.float64(), [0.1, None]),
    ]
    for kind, arrow_type, values in cases:
        proc = kind.dialect_impl(dialect).bind_processor(dialect)
        column = pa.array(values, arrow_type)
        assert warehouse._sqlite_values(column, proc) == [proc(v) for v in column.to_pylist()], kind


def test_the_version_strings_fit_their_warehouse_columns():
    """PostgreSQL refuses a value longer than its ``varchar(n)``: every version the pipeline writes
    (each a composite of its parts' versions, which grow as parts are added) must fit."""
    import re

    from etl import schema
    from etl.enrich.columns import ENRICHMENT_VERSION
    from etl.text.normalize import NORMALIZER_VERSION

    width = {
        c.name: int(re.fullmatch(r"varchar\((\d+)\)", c.sql_type).group(1))
        for c in schema.ARTICLES_TABLE.columns
        if c.name.endswith("_version")
    }
    assert len(ENRICHMENT_VERSION) <= width["enrichment_version"], ENRICHMENT_VERSION
    assert len(NORMALIZER_VERSION) <= width["normalizer_version"], NORMALIZER_VERSION


def _index_names(engine) -> set[str]:
    with engine.connect() as conn:
        return {
            r[0]
            for r in conn.exec_driver_sql("select name from sqlite_master where type = 'index' and name like 'ix_%'")
        }


def test_sqlite_builds_indexes_after_the_rows_of_a_big_load_and_keeps_them_on_failure(tmp_path):
    """A load into an empty table (or one it more than doubles) drops the table's secondary indexes
    and builds them after the rows, inside its transaction: they exist after a load, and a failed
    load leaves them as they were. A table that keeps more rows than the load brings keeps them."""
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    engine = warehouse.engine_for(url)
    want = {str(i.name) for t in warehouse.TABLES.values() for i in t.indexes}
    assert {"ix_articles_day_source", "ix_mentions_entity"} <= want
    assert _index_names(engine) == want
    run = {
        "run_id": "r",
        "day": DAY,
        "started_at": dt.datetime.now(dt.UTC),
        "finished_at": dt.datetime.now(dt.UTC),
        "status": "loaded",
        "sources": "s",
        "records_in": 1,
        "loaded": 1,
        "duplicates": 0,
        "rejected": 0,
    }
    with pytest.raises(sa.exc.SQLAlchemyError):
        warehouse.load_run(engine, DAY, {"s": {"articles": [{"article_id": "x" * 16}]}}, run, [], [], {"articles": 1})
    assert _index_names(engine) == want
    engine.dispose()

    summary = run_pipeline(_sample_sources(), DAY, tmp_path / "data", url, run_id="r1")
    assert summary["status"] == "ok"
    engine = warehouse.engine_for(url)
    assert _index_names(engine) == want
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("explain query plan select * from mentions where entity_id = 'x'").all()
        assert "ix_mentions_entity" in str(plan)
        conn.rollback()
        with conn.begin() as tx:  # the decision, in transactions rolled back: 12 articles kept
            assert warehouse._drop_indexes(conn, {"articles": 5, "mentions": 0}) == []
            tx.rollback()
        with conn.begin() as tx:
            dropped = warehouse._drop_indexes(conn, {"articles": 50, "mentions": 10**6})
            assert {str(i.name) for i in dropped} == {
                i.name for i in (*warehouse.articles.indexes, *warehouse.mentions.indexes)
            }
            tx.rollback()
    assert _index_names(engine) == want
    engine.dispose()
