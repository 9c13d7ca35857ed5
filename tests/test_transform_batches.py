"""A shard is transformed in batches of ``BATCH_CHARS`` characters (``etl/tasks/transform.py``), so
a worker's memory does not grow with the shard. Its outputs do not depend on the batch size: a shard
cut into many batches stages exactly the tables of one batch, rejects in the same places."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest

from etl import cli
from etl.config import make_source
from etl.records import RawRecord, Reject
from etl.tasks import shard_outputs, transform
from etl.tasks.fetch import fetch
from tests.support.runs import news_article, settings_for

DAY = "2024-03-05"
TABLES = ("articles", "sentences", "mentions", "signatures", "rejects")


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    rng = random.Random(7)
    lines = []
    for i in range(30):
        lines.append(json.dumps(news_article(rng, i), ensure_ascii=False))
        if i in (4, 17):
            lines.append("{not json")  # a reader's reject between the records
        if i == 11:
            lines.append(json.dumps({"id": "empty", "title": "خالی", "text": ""}))  # a cleaning reject
    lines.append(lines[3].replace('"n3"', '"copy-of-n3"'))
    path = tmp_path_factory.mktemp("dump") / "news.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _transform(dump: Path, data: Path, monkeypatch, batch_chars: int | None) -> tuple[dict, dict]:
    """The shard's result and its staged tables, and how many batches it was transformed in."""
    if batch_chars is not None:
        monkeypatch.setattr(transform, "BATCH_CHARS", batch_chars)
    calls = []
    segment = transform.segment_articles
    monkeypatch.setattr(transform, "segment_articles", lambda table: calls.append(table.num_rows) or segment(table))
    source = make_source("gen", str(dump), "jsonl", cli._mapping("external_id=id,headline=title,body=text"))
    [shard] = fetch([source], dt.date.fromisoformat(DAY), settings_for(data), run_id="b")
    result = transform.transform_shard(shard)
    monkeypatch.undo()
    assert sum(calls) == result["articles"]
    return result, {t: shard_outputs.read(result, t) for t in TABLES} | {"batches": len(calls)}


def test_a_shard_in_many_batches_stages_what_one_batch_stages(dump, tmp_path, monkeypatch):
    whole, whole_tables = _transform(dump, tmp_path / "one", monkeypatch, None)
    cut, cut_tables = _transform(dump, tmp_path / "many", monkeypatch, 300)
    assert whole_tables.pop("batches") == 1 and cut_tables.pop("batches") >= 10
    assert whole["articles"] == cut["articles"] == 31 and whole["rejected"] == cut["rejected"] == 3
    assert whole["records_in"] == cut["records_in"] == 34
    assert whole["repairs"] == cut["repairs"]
    for table in TABLES:
        assert cut_tables[table].equals(whole_tables[table]), table
    assert whole_tables["sentences"].num_rows > 31 and whole_tables["rejects"].num_rows == 3


def test_batches_cover_the_records_in_order_at_the_limit():
    records = [RawRecord("s", "f", i, {"body": "x" * (i % 7 + 1), "title": None}) for i in range(50)]
    read = records[:20] + [Reject("s", "f", 99, "bad_json", "no")] + records[20:]
    cut = list(transform.batches(read, 10))
    assert [r for b in cut for r in b] == read
    assert len(cut) > 5
    for b in cut[:-1]:
        assert sum(len(r.fields["body"]) for r in b if isinstance(r, RawRecord)) >= 10
        assert sum(len(r.fields["body"]) for r in b[:-1] if isinstance(r, RawRecord)) < 10
    assert list(transform.batches([], 10)) == [[]]
    assert list(transform.batches(read)) == [read]  # the default holds them all
