"""The lake on an object store: the sample day with ``URDU_ETL_LAKE_URL=s3://…`` against moto's S3 server.

The S3 lake must hold the same files, byte for byte, as a local lake of the same run; a re-run
must leave the same objects (no duplicates, no staged leftovers); the warehouse load, the run
report and the next day's duplicate search must read the lake from S3.
"""

import datetime as dt
import hashlib
import json
import re
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa

from etl import schema
from etl.config import load_sources, make_source
from etl.dedup.copies import history_signatures
from etl.load import lake
from tests.support import ROOT
from tests.support.runs import run_pipeline
from tests.test_enrich_pipeline import HEADER, MAP, OTHER, STORY

DAY = dt.date(2021, 4, 7)
LAKE_TABLES = {*schema.TABLES, "signatures"}
LAYOUT = re.compile(r"(?P<table>[a-z]+)/ingest_date=2021-04-07/source=(?P<source>sample_[a-z]+)/part-\d{5}\.parquet")


@pytest.fixture
def s3_lake(s3_server, monkeypatch):
    """A fresh bucket on the test S3 server, and ``URDU_ETL_LAKE_URL`` pointing at ``s3://<bucket>/lake``."""
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    url = f"s3://{bucket}/lake"
    fs, _ = lake.filesystem(url)
    fs.mkdir(bucket)
    monkeypatch.setenv("URDU_ETL_LAKE_URL", url)
    return url


def _objects(url: str) -> dict[str, str]:
    """Every object under the lake URL, relative to it, with the sha256 of its bytes."""
    fs, root = lake.filesystem(url)
    fs.invalidate_cache()
    return {path[len(root) + 1 :]: hashlib.sha256(fs.cat_file(path)).hexdigest() for path in fs.find(root)}


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def _rows(location, table: str) -> list[dict]:
    fs, root = lake.filesystem(location)
    data = ds.dataset(
        f"{root}/{table}", filesystem=lake.arrow_filesystem(fs), format="parquet", partitioning="hive"
    ).to_table()
    return sorted(data.to_pylist(), key=repr)


def _warehouse_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"select count(*) from {t}")).scalar_one() for t in schema.TABLES}
    engine.dispose()
    return counts


def _sample_sources():
    return list(load_sources(ROOT / "config" / "sources.yaml").values())


def test_sample_day_on_s3_matches_a_local_lake_and_reruns_in_place(tmp_path, s3_lake, monkeypatch):
    sources = _sample_sources()
    s3_root, s3_wh = tmp_path / "s3", f"sqlite:///{tmp_path / 's3.db'}"
    began = time.perf_counter()
    summary = run_pipeline(sources, DAY, s3_root, s3_wh, run_id="s3-1")
    s3_seconds = time.perf_counter() - began
    assert summary["status"] == "ok" and summary["lake"] == s3_lake
    assert not (s3_root / "lake").exists()  # nothing of the lake went to the data dir

    monkeypatch.delenv("URDU_ETL_LAKE_URL")
    local_root, local_wh = tmp_path / "local", f"sqlite:///{tmp_path / 'local.db'}"
    began = time.perf_counter()
    local = run_pipeline(sources, DAY, local_root, local_wh, run_id="local-1")
    local_seconds = time.perf_counter() - began
    assert local["lake"] == str(local_root / "lake")
    print(f"sample day: S3 lake {s3_seconds:.2f} s, local lake {local_seconds:.2f} s")

    # the hive layout, and the same files, byte for byte, as the local lake's
    objects = _objects(s3_lake)
    assert objects and all(LAYOUT.fullmatch(key) for key in objects), sorted(objects)
    assert {m["table"] for m in map(LAYOUT.fullmatch, objects)} == LAKE_TABLES
    assert objects == _files(local_root / "lake")
    assert sorted({key.rsplit("/", 1)[0] for key in objects}) == summary["partitions"]
    for table in LAKE_TABLES:
        assert _rows(s3_lake, table) == _rows(local_root / "lake", table), table

    # the load and the check read the lake from S3: the warehouse holds what the S3 lake holds
    counts = _warehouse_counts(s3_wh)
    assert (
        counts == _warehouse_counts(local_wh) == {t: n for t, n in summary["warehouse_tables"].items() if t in counts}
    )
    for table in counts:  # an entity named by several sources is one warehouse row
        held = _rows(s3_lake, table)
        assert counts[table] == len({r["entity_id"] for r in held} if table == "entities" else held), table
    assert counts["articles"] == summary["loaded"] == 12
    report = (Path(summary["report"]).parent / "report.json").read_text(encoding="utf-8")
    assert '"notes": []' in report  # the report read the same rows from S3 as the summary states

    # a re-run of the day: the same objects, no staged leftovers, no duplicate rows
    monkeypatch.setenv("URDU_ETL_LAKE_URL", s3_lake)
    again = run_pipeline(sources, DAY, s3_root, s3_wh, run_id="s3-2")
    assert again["status"] == "ok"
    assert _objects(s3_lake) == objects
    assert _warehouse_counts(s3_wh) == counts


def test_replacing_a_partition_on_s3_removes_what_the_old_one_had_more_of(s3_lake, monkeypatch):
    monkeypatch.setattr(lake, "ROWS_PER_FILE", 2)
    rows = lambda n: pa.Table.from_pylist(
        [{"source_file": f"f{i}", "record_no": i, "reason": "r", "detail": "", "excerpt": ""} for i in range(n)],
        schema=schema.REJECTS,
    )
    assert len(lake.replace_partition(s3_lake, "rejects", "d", "s", rows(5))) == 3
    lake.replace_partition(s3_lake, "rejects", "d2", "s", rows(1))
    assert lake.replace_partition(s3_lake, "rejects", "d", "s", rows(3)) == [
        "rejects/ingest_date=d/source=s/part-00000.parquet",
        "rejects/ingest_date=d/source=s/part-00001.parquet",
    ]
    assert sorted(_objects(s3_lake)) == [
        "rejects/ingest_date=d/source=s/part-00000.parquet",
        "rejects/ingest_date=d/source=s/part-00001.parquet",
        "rejects/ingest_date=d2/source=s/part-00000.parquet",
    ]
    assert lake.read_partition(s3_lake, "rejects", "d", "s", schema.REJECTS).num_rows == 3

    def failing():  # a writer that dies half-way leaves the old partition whole and nothing staged
        yield rows(4)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        lake.replace_partition(s3_lake, "rejects", "d", "s", failing())
    assert lake.read_partition(s3_lake, "rejects", "d", "s", schema.REJECTS).num_rows == 3
    assert not [k for k in _objects(s3_lake) if k.startswith(lake.TMP)]

    assert lake.replace_partition(s3_lake, "rejects", "d", "s", rows(0)) == []  # no rows: no partition
    assert sorted(_objects(s3_lake)) == ["rejects/ingest_date=d2/source=s/part-00000.parquet"]
    assert lake.read_partition(s3_lake, "rejects", "d", "s", schema.REJECTS).num_rows == 0


def test_a_copy_on_a_later_day_is_found_in_the_s3_lake(tmp_path, s3_lake):
    def run(name, day, rows):
        path = tmp_path / f"{name}-{day}.csv"
        path.write_text(HEADER + "".join(f'{i},"{t}",{u},"{b}",{c}\n' for i, t, u, b, c in rows), encoding="utf-8")
        summary = run_pipeline(
            [make_source(name, str(path), "csv", MAP)],
            day,
            tmp_path / "data",
            f"sqlite:///{tmp_path / 'wh.db'}",
            run_id=f"{name}-{day}",
        )
        assert summary["status"] == "ok"
        return {
            a["url"]: a
            for a in lake.read_partition(s3_lake, "articles", day.isoformat(), name, schema.ARTICLES).to_pylist()
        }

    first = run("site_a", dt.date(2024, 11, 7), [(1, "تعلیم کا منصوبہ", "https://site-a.pk/1", STORY, "pakistan")])
    copy = STORY.replace("آج", "بدھ کے روز").replace("مگر", "لیکن")
    later = run(
        "site_b",
        dt.date(2024, 11, 8),
        [
            (1, "منصوبے کا اعلان", "https://site-b.pk/9", copy, "pakistan"),
            (2, "بارش", "https://site-b.pk/10", OTHER, "pakistan"),
        ],
    )
    assert not (tmp_path / "data" / "lake").exists()
    assert later["https://site-b.pk/9"]["duplicate_of"] == first["https://site-a.pk/1"]["article_id"]
    assert later["https://site-b.pk/9"]["duplicate_kind"] == "near"
    assert later["https://site-b.pk/10"]["duplicate_of"] is None
    history = history_signatures(s3_lake, "2024-11-09")
    assert sorted(history["ingest_date"].to_pylist()) == ["2024-11-07", "2024-11-08", "2024-11-08"]


def test_the_dag_writes_and_loads_an_s3_lake(airflow_db, data_dir, s3_lake):
    from tests.test_e2e import SAMPLE_DAY, _run_dag

    _run_dag({"date": SAMPLE_DAY})
    summary = json.loads((data_dir / "runs" / SAMPLE_DAY / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "ok" and summary["lake"] == s3_lake and summary["loaded"] == 12
    objects = _objects(s3_lake)
    assert sorted({key.rsplit("/", 1)[0] for key in objects}) == summary["partitions"]
    assert all(LAYOUT.fullmatch(key) for key in objects)
    assert not (data_dir / "lake").exists()
    assert _warehouse_counts(f"sqlite:///{data_dir / 'warehouse.db'}")["articles"] == 12
