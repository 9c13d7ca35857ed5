"""Warehouse views and the README's named queries, on SQLite and a real PostgreSQL server."""

import datetime as dt

import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa

from etl.config import load_sources
from etl.load import queries, warehouse
from tests.support import ROOT
from tests.support.runs import run_pipeline

DAY = dt.date(2021, 4, 7)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def loaded(request, tmp_path):
    """The sample day loaded into a fresh warehouse; yields (engine, lake articles table)."""
    url = f"sqlite:///{tmp_path / 'wh.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    sources = list(load_sources(ROOT / "config" / "sources.yaml").values())
    summary = run_pipeline(sources, DAY, tmp_path / "data", url, run_id="views")
    assert summary["status"] == "ok"
    lake = ds.dataset(tmp_path / "data" / "lake" / "articles", partitioning="hive").to_table()
    engine = warehouse.engine_for(url)
    yield engine, lake
    engine.dispose()


def test_every_named_query_runs(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        for name in queries.QUERIES:
            columns, rows = queries.run_query(conn, name)
            assert columns and rows, f"{name} returned nothing on the sample day"


def test_articles_per_source_day_adds_up_to_the_lake(loaded):
    engine, lake = loaded
    with engine.connect() as conn:
        _, rows = queries.run_query(conn, "articles_per_source_day", start="2021-04-07", end="2021-04-07")
        _, none = queries.run_query(conn, "articles_per_source_day", start="2021-04-08", end="2021-04-30")
    assert sum(r[2] for r in rows) == lake.num_rows
    assert sum(r[4] for r in rows) == lake.num_rows - lake["duplicate_of"].null_count
    assert {r[1] for r in rows} == {"sample_seed", "sample_bbc", "sample_csv", "sample_jsonl"}
    assert none == []


def test_the_copied_story_forms_a_cluster_across_sources(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        _, clusters = queries.run_query(conn, "duplicate_clusters")
        members = conn.execute(
            sa.text("select source, duplicate_kind from articles where duplicate_of is not null")
        ).all()
    # the JSONL dump carries an agency's copy of the seed story about the Orange Line
    assert len(clusters) == 1
    canonical_source, copies, copy_sources = clusters[0][1], clusters[0][4], clusters[0][6]
    assert copies == 1 and copy_sources == 1
    assert {canonical_source, members[0][0]} == {"sample_seed", "sample_jsonl"}
    assert members[0][1] == "near"


def test_entities_datelines_and_comentions(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        _, top = queries.run_query(conn, "top_entities", start="2021-04-01", end="2021-04-30", limit=50)
        _, cities = queries.run_query(conn, "dateline_cities", limit=50)
        _, pairs = queries.run_query(conn, "entity_comentions", limit=500)
        mentioned = conn.execute(sa.text("select count(distinct article_id) from mentions")).scalar_one()
        entity_rows = conn.execute(sa.text("select count(*) from entities")).scalar_one()
        distinct = conn.execute(sa.text("select count(distinct entity_id) from mentions")).scalar_one()
    names = {r[0]: r for r in top}
    assert "لاہور" in names and names["لاہور"][1] == "location"
    assert names["لاہور"][2] >= 2  # the seed story and its copy
    assert {"لاہور", "پشاور", "کوئٹہ"} <= {r[0] for r in cities}
    assert all(a < b for a, b, _ in pairs)
    assert mentioned >= 5 and entity_rows == distinct
