"""Large CSV and JSONL files cut into shards of whole records: every record read once, with the
number it has when the file is read whole, and a day run in many shards loads what it loads in one."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import random
import sqlite3
import tempfile
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.config import make_source
from etl.errors import ConfigError
from etl.read import read_file, split_file
from etl.read.tabular import Span, splittable
from etl.tasks.fetch import fetch
from tests.support.airflow import dag_test
from tests.support.runs import run_pipeline, settings_for

COLUMNS = {"external_id": "id", "headline": "title", "url": "link", "body": "content"}
WORDS = ["خبر", "لاہور", "وزیراعظم", "۲۰۲۴", "کے", "خلاف", "news", "ہے۔", '"قوسین"', "،"]


def _records(path: Path, rel: str, source, span=None) -> list[tuple]:
    """What the reader yields, comparable across runs: kind, number and fields or reason."""
    return [
        (type(r).__name__, r.record_no, getattr(r, "fields", None) or (r.reason, r.detail))
        for r in read_file(path, rel, source, span)
    ]


def _assert_parts_read_the_file(path: Path, source, target: int) -> int:
    spans = split_file(path, source, target) or []
    whole = _records(path, path.name, source)
    if spans:
        assert spans[0].start == 0 and spans[-1].end == path.stat().st_size
        assert all(a.end == b.start for a, b in zip(spans, spans[1:]))
        parts = [r for span in spans for r in _records(path, path.name, source, span)]
        assert parts == whole
    return len(spans)


_row = st.tuples(
    st.lists(st.sampled_from(WORDS + ["\n", "\r\n", ","]), min_size=0, max_size=30), st.booleans(), st.booleans()
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_row, min_size=1, max_size=60), target=st.integers(1, 400), bom=st.booleans(), crlf=st.booleans())
def test_csv_parts_read_exactly_the_records_of_the_file(rows, target, bom, crlf):
    """Quoted fields with line breaks, blank lines, CRLF, a byte-order mark, short rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["id", "title", "link", "content"])
    for i, (words, blank_after, short) in enumerate(rows):
        writer.writerow([str(i), f"سرخی {i}", f"https://example.pk/{i}"] + ([] if short else [" ".join(words)]))
        if blank_after:
            buf.write("\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dump.csv"
        path.write_bytes((codecs.BOM_UTF8 if bom else b"") + buf.getvalue().encode("utf-8"))
        _assert_parts_read_the_file(path, make_source("news", "u", "csv", COLUMNS), target)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(_row, min_size=1, max_size=60),
    target=st.integers(1, 400),
    bad=st.sets(st.integers(0, 59), max_size=5),
)
def test_jsonl_parts_read_exactly_the_records_of_the_file(rows, target, bad):
    """Blank and whitespace-only lines, lines that are not JSON, records after them."""
    lines = []
    for i, (words, blank_after, _) in enumerate(rows):
        lines.append(json.dumps({"id": i, "title": f"سرخی {i}", "content": " ".join(words)}, ensure_ascii=False))
        if i in bad:
            lines.append('{"id": ' + str(i) + ', "content": "نامکمل')
        if blank_after:
            lines.append("   ")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dump.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _assert_parts_read_the_file(path, make_source("news", "u", "jsonl", COLUMNS), target)


def test_which_files_are_cut(tmp_path):
    rows = "".join(f'{i},سرخی {i},https://example.pk/{i},"پہلا جملہ۔\nدوسرا جملہ {i}۔"\n' for i in range(400))
    text = "id,title,link,content\n" + rows
    src = make_source("news", "u", "csv", COLUMNS)
    (tmp_path / "big.csv").write_text(text, encoding="utf-8")
    assert _assert_parts_read_the_file(tmp_path / "big.csv", src, 4_000) > 5
    # a single-byte code page (Windows Arabic) is cut like UTF-8
    cp = make_source("news", "u", "csv", COLUMNS, encoding="cp1256")
    (tmp_path / "cp.csv").write_bytes(text.encode("cp1256", errors="replace"))
    assert _assert_parts_read_the_file(tmp_path / "cp.csv", cp, 4_000) > 5
    # read whole: a small file, UTF-16 (cannot be cut at a byte offset), a foreign byte-order mark
    assert split_file(tmp_path / "big.csv", src, 10 << 20) is None
    utf16 = make_source("news", "u", "csv", COLUMNS, encoding="utf-16")
    (tmp_path / "u16.csv").write_text(text, encoding="utf-16")
    assert not splittable("utf-16") and split_file(tmp_path / "u16.csv", utf16, 4_000) is None
    (tmp_path / "bom.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert split_file(tmp_path / "bom.csv", src, 4_000) is None
    # a file with no line break after its first record cannot be cut
    (tmp_path / "one.jsonl").write_text(json.dumps({"content": "خبر " * 5_000}, ensure_ascii=False), encoding="utf-8")
    assert split_file(tmp_path / "one.jsonl", make_source("news", "u", "jsonl", COLUMNS), 4_000) is None


VOCABULARY = [
    "لاہور",
    "کراچی",
    "اسلام",
    "آباد",
    "پشاور",
    "کوئٹہ",
    "حکومت",
    "عدالت",
    "اسمبلی",
    "اجلاس",
    "بجٹ",
    "تعلیم",
    "صحت",
    "پانی",
    "بجلی",
    "سڑک",
    "ٹیکس",
    "زراعت",
    "کسان",
    "مزدور",
    "طلبہ",
    "اساتذہ",
    "ڈاکٹر",
    "مریض",
    "ہسپتال",
    "سکول",
    "کالج",
    "بارش",
    "سیلاب",
    "گرمی",
    "سردی",
    "ٹرین",
    "بس",
    "پولیس",
    "شہری",
    "وزیر",
    "افسر",
    "رپورٹ",
    "منصوبہ",
    "فیصلہ",
    "اعلان",
    "مطالبہ",
    "احتجاج",
    "معاہدہ",
]


def _day_dump(folder: Path) -> Path:
    """A day's CSV of 600 articles: a URL repeated far apart (same-key duplicates across shards),
    the same story under two URLs (a copy), rows with no body (rejects), bodies with line breaks."""
    rng = random.Random(7)
    lines = ["id,title,link,content"]
    for i in range(600):
        link = f"https://example.pk/{i % 550}"  # records 550..599 repeat the URLs of records 0..49
        sentences = [" ".join(rng.choices(VOCABULARY, k=12)) + "۔" for _ in range(6)]
        body = f'"{" ".join(sentences[:3])}\n{" ".join(sentences[3:])}"'
        if i in (10, 400):
            body = '"' + " ".join(" ".join(VOCABULARY[k : k + 10]) + "۔" for k in range(0, 40, 5)) + '"'
        lines.append(f"{i},سرخی {i},{link},{body if i % 97 else ''}")
    path = folder / "news.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lake_rows(lake: Path) -> dict[str, list]:
    out = {}
    for table in ("articles", "sentences", "mentions", "entities", "rejects", "duplicates", "signatures"):
        rows = ds.dataset(lake / table, format="parquet", partitioning="hive").to_table().to_pylist()
        out[table] = sorted(map(repr, rows))
    return out


def test_a_day_in_many_shards_loads_what_it_loads_in_one(tmp_path, monkeypatch):
    dump = _day_dump(tmp_path)
    source = make_source("news", str(dump), "csv", COLUMNS)
    day = dt.date(2024, 5, 2)
    results = {}
    for name, shard_mb in (("whole", "64"), ("cut", "0.02")):
        monkeypatch.setenv("URDU_ETL_SHARD_MB", shard_mb)
        root = tmp_path / name
        shards = fetch([source], day, settings_for(root), run_id=name)
        summary = run_pipeline([source], day, root, f"sqlite:///{root / 'warehouse.db'}", run_id=name)
        results[name] = (len(shards), summary, _lake_rows(root / "lake"))
    (n_whole, whole, whole_rows), (n_cut, cut, cut_rows) = results["whole"], results["cut"]
    assert n_whole == 1 and n_cut >= 10
    assert cut["status"] == whole["status"] == "ok"
    counts = {k: whole["sources"]["news"][k] for k in ("records_in", "loaded", "duplicates", "rejected", "copies")}
    # rejected: the 7 empty bodies (records 0, 97 ... 582); duplicates: 550..599 repeat a URL,
    # but for 550 (its first record, 0, was rejected) and 582 (rejected itself)
    assert counts == {"records_in": 600, "loaded": 545, "duplicates": 48, "rejected": 7, "copies": 1}
    assert {k: cut["sources"]["news"][k] for k in counts} == counts
    assert cut_rows == whole_rows


def _folder_dump(folder: Path) -> Path:
    """Seven small CSV files and, between them, the 600-article day of ``_day_dump`` (cut at
    URDU_ETL_SHARD_MB=0.02)."""
    folder.mkdir()
    _day_dump(folder).rename(folder / "d-big.csv")
    for k in range(7):
        rows = [f"s{k}-{i},سرخی,https://example.pk/s{k}/{i},{' '.join(VOCABULARY[i : i + 9])}۔" for i in range(3)]
        (folder / f"{'a' if k < 3 else 'z'}-{k}.csv").write_text(
            "id,title,link,content\n" + "\n".join(rows) + "\n", encoding="utf-8"
        )
    return folder


def _read_back(shards: list, source) -> list[tuple]:
    """Every record the shards (of ``source``) read, as ``_records`` gives them, with its file."""
    out = []
    for shard in shards:
        span = Span(**shard["span"]) if shard["span"] else None
        for rel in shard["files"]:
            out += [(rel, *r) for r in _records(Path(shard["files_dir"]) / rel, rel, source, span)]
    return sorted(out, key=repr)


def test_a_day_of_more_shards_than_airflow_maps_is_planned_coarser(tmp_path, monkeypatch, caplog):
    """With ``max_shards`` (Airflow's ``max_map_length``) the day is cut into coarser shards that
    read every record exactly once; a day that fits is planned as without the limit; more
    sources than the limit is a configuration error that says what to change."""
    dump = _folder_dump(tmp_path / "dump")
    source = make_source("news", str(dump), "csv", COLUMNS)
    day = dt.date(2024, 5, 2)
    monkeypatch.setenv("URDU_ETL_SHARD_MB", "0.02")
    free = fetch([source], day, settings_for(tmp_path / "free"), run_id="free")
    assert len(free) >= 15 and sum(1 for s in free if s["span"]) >= 10
    same = fetch([source], day, settings_for(tmp_path / "same"), run_id="same", max_shards=len(free))
    assert [s["shard_id"] for s in same] == [s["shard_id"] for s in free]
    with caplog.at_level("WARNING", logger="etl"):
        fitted = fetch([source], day, settings_for(tmp_path / "fit"), run_id="fit", max_shards=4)
    assert 1 <= len(fitted) <= 4 < len(free)
    assert f"the day makes {len(free)} shards" in caplog.text and "max_map_length = 4" in caplog.text
    records = _read_back(free, source)
    assert len(records) == 600 + 21 and _read_back(fitted, source) == records  # every record once, numbered as before
    # the files in their order, the big one's spans side by side
    assert list(dict.fromkeys(f for s in fitted for f in s["files"])) == sorted(p.name for p in dump.iterdir())
    two = [source, make_source("other", str(dump), "csv", COLUMNS)]
    with pytest.raises(ConfigError, match=r"dumps of 2 sources.*max_map_length = 1\).*AIRFLOW__CORE__MAX_MAP_LENGTH"):
        fetch(two, day, settings_for(tmp_path / "two"), run_id="two", max_shards=1)


def test_the_dag_plans_a_day_of_more_shards_than_airflow_maps_coarser_and_loads_it_all(airflow_db, tmp_path):
    """``dag.test()`` with ``[core] max_map_length = 3`` over a day cut into more shards than that:
    Airflow refuses to map a longer list, so the fetch task plans fewer, larger shards, says so,
    and the run loads what the day holds."""
    dump = _day_dump(tmp_path)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - name: news\n    url: {dump}\n    format: csv\n"
        "    columns: {external_id: id, headline: title, url: link, body: content}\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    result = dag_test(
        airflow_db,
        data,
        {"date": "2024-05-02"},
        URDU_ETL_SOURCES=str(sources),
        URDU_ETL_SHARD_MB="0.02",
        AIRFLOW__CORE__MAX_MAP_LENGTH="3",
    )
    assert result["state"] == "success", result["log"][-3000:]
    assert 1 <= result["instances"]["transform"] <= 3
    assert "more than Airflow maps over one task's result ([core] max_map_length = 3)" in result["log"]
    with sqlite3.connect(data / "warehouse.db") as db:
        assert db.execute("select count(*) from articles").fetchone() == (545,)
        assert db.execute("select count(*) from rejects").fetchone() == (7,)
