"""End-to-end: the real DAG, run by Airflow's ``dag.test()``, over the bundled sample and the real corpora."""

import csv
import hashlib
import json
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa

from tests.support import ROOT

SAMPLE_DAY = "2021-04-07"


def _run_dag(conf: dict):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["urdu_news_nightly"]
    dag_run = dag.test(run_conf=conf)
    assert dag_run.state == "success", f"DAG run ended {dag_run.state}"
    return dag_run


def _lake_digest(lake: Path) -> dict[str, str]:
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(lake.rglob("*.parquet"))
    }


def _warehouse_digest(url: str) -> dict[str, str]:
    from etl.load import warehouse

    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in ("articles", "sentences", "rejects", "duplicates", "mentions", "entities"):
            t = warehouse.metadata.tables[table]
            rows = conn.execute(sa.select(t).order_by(*t.primary_key.columns)).all()
            out[table] = hashlib.sha256(repr([tuple(map(str, r)) for r in rows]).encode()).hexdigest()
    engine.dispose()
    return out


def _table(lake: Path, name: str):
    return ds.dataset(lake / name, format="parquet", partitioning="hive").to_table()


def test_sample_day_end_to_end_and_idempotent(airflow_db, data_dir):
    _run_dag({"date": SAMPLE_DAY})
    lake = data_dir / "lake"
    summary = json.loads((data_dir / "runs" / SAMPLE_DAY / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "ok"
    assert summary["records_in"] == 15
    assert (summary["loaded"], summary["duplicates"], summary["rejected"]) == (12, 1, 2)
    articles = _table(lake, "articles")
    assert articles.num_rows == 12
    assert sorted(set(articles["source"].to_pylist())) == ["sample_bbc", "sample_csv", "sample_jsonl", "sample_seed"]
    assert set(articles["ingest_date"].to_pylist()) == {SAMPLE_DAY}
    assert _table(lake, "sentences").num_rows == summary["warehouse_tables"]["sentences"]
    seed = articles.filter(ds.field("source") == "sample_seed").to_pylist()
    bajwa = next(a for a in seed if a["source_file"].startswith("000_"))
    assert bajwa["dateline_city"] == "راولپنڈی" and bajwa["photo_credit"] == "فوٹو/اسکرین گریب نیو نیوز"
    url = f"sqlite:///{data_dir / 'warehouse.db'}"
    first_lake, first_wh = _lake_digest(lake), _warehouse_digest(url)

    _run_dag({"date": SAMPLE_DAY})
    assert _lake_digest(lake) == first_lake  # byte-identical Parquet
    assert _warehouse_digest(url) == first_wh
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from runs where status = 'ok'")).scalar_one() == 2
        assert conn.execute(sa.text("select count(*) from articles")).scalar_one() == 12
    engine.dispose()
    assert not list((lake / "_tmp").iterdir())  # no temporary files left behind
    runs = sorted((data_dir / "staging" / SAMPLE_DAY).iterdir())
    assert len(runs) == 2  # one staging folder per run
    for staging in runs:
        assert not (staging / "shards").exists() and not (staging / "sample_csv" / "files").exists()
        assert json.loads((staging / "sample_csv" / "manifest.json").read_text())["bytes"] > 0


def test_lake_is_readable_by_pandas_and_duckdb(airflow_db, data_dir):
    import duckdb
    import pandas as pd

    _run_dag({"date": SAMPLE_DAY, "sources": ["sample_csv", "sample_seed"]})
    lake = data_dir / "lake"
    frame = pd.read_parquet(lake / "articles")
    assert len(frame) == 6 and set(frame["source"].astype(str)) == {"sample_csv", "sample_seed"}
    rows = duckdb.sql(
        f"select source, count(*) from read_parquet('{lake}/articles/*/*/*.parquet', "
        "hive_partitioning = true) group by source order by source"
    ).fetchall()
    assert rows == [("sample_csv", 3), ("sample_seed", 3)]


def test_warehouse_on_postgresql(airflow_db, data_dir, pg_url, monkeypatch):
    monkeypatch.setenv("URDU_ETL_WAREHOUSE_URL", pg_url)
    _run_dag({"date": SAMPLE_DAY})
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from articles")).scalar_one() == 12
        assert conn.execute(sa.text("select status from runs")).scalar_one() == "ok"
    engine.dispose()
    assert not (data_dir / "warehouse.db").exists()


def test_explicit_dump_url_for_one_source(airflow_db, data_dir, tmp_path):
    other = tmp_path / "late.csv"
    other.write_text(
        "id,title,link,content,gold_label\n9,دیر سے آنے والی خبر,https://example.pk/late,"
        "حیدرآباد: یہ خبر دیر سے موصول ہوئی۔,misc\n",
        encoding="utf-8",
    )
    _run_dag({"date": SAMPLE_DAY, "sources": ["sample_csv"], "dump_url": str(other)})
    articles = _table(data_dir / "lake", "articles").to_pylist()
    assert [(a["source"], a["url"], a["dateline_city"]) for a in articles] == [
        ("sample_csv", "https://example.pk/late", "حیدرآباد")
    ]


@pytest.mark.slow
@pytest.mark.timeout(900)  # a whole run or cluster; pytest.ini gives every other test 300 s
def test_real_corpora_end_to_end(airflow_db, data_dir, corpora, tmp_path, monkeypatch):
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"""
sources:
  - name: bbc_voa
    url: {corpora / "bbc_voa"}
    format: bbc_doc
  - name: news_b
    url: {corpora / "news_sites" / "geo_jang_express_dunya_2024b.csv"}
    format: csv
    columns: {{external_id: id, headline: title, url: link, body: content, category: gold_label}}
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("URDU_ETL_SOURCES", str(sources))
    _run_dag({"date": "2024-11-08"})
    summary = json.loads((data_dir / "runs" / "2024-11-08" / "summary.json").read_text(encoding="utf-8"))
    bbc, news = summary["sources"]["bbc_voa"], summary["sources"]["news_b"]

    # every file of the folder and every CSV row is accounted for
    assert bbc["records_in"] == sum(1 for p in (corpora / "bbc_voa").rglob("*") if p.is_file())
    csv.field_size_limit(sys.maxsize)
    with open(corpora / "news_sites" / "geo_jang_express_dunya_2024b.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert news["records_in"] == len(rows)
    for rep in (bbc, news):
        assert rep["records_in"] == rep["loaded"] + rep["duplicates"] + rep["rejected"]
    assert bbc["loaded"] > 1900 and news["loaded"] > 1000
    # duplicates are the repeated links, each pointing at a loaded article with the same URL
    assert news["duplicates"] == len(rows) - len({r["link"] for r in rows})

    lake = data_dir / "lake"
    url = f"sqlite:///{data_dir / 'warehouse.db'}"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        for name, rep in summary["sources"].items():
            n = conn.execute(sa.text("select count(*) from articles where source = :s"), {"s": name}).scalar_one()
            assert n == rep["loaded"] == _table(lake, "articles").filter(ds.field("source") == name).num_rows
        orphans = conn.execute(
            sa.text(
                "select count(*) from duplicates d left join articles a on a.article_id = d.article_id "
                "where a.article_id is null"
            )
        ).scalar_one()
        assert orphans == 0
        cats = dict(
            conn.execute(
                sa.text("select category_raw, count(*) from articles where source = 'bbc_voa' group by category_raw")
            ).all()
        )
        assert set(cats) == {"politics", "sports", "miscleneous", "entertainment", "misc"}
        dated = conn.execute(
            sa.text("select count(*) from articles where source = 'bbc_voa' and published_at is not null")
        ).scalar_one()
        assert dated == bbc["loaded"]
    engine.dispose()
