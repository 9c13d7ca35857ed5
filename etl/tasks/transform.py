"""Task ``transform``: read, clean, segment and enrich one shard; stage its rows as Parquet.

The outputs appear all at once (``etl.tasks.shard_outputs``) with the shard's fingerprint. A shard
whose outputs are already there for the same fingerprint (a retried task, a resumed run) is not
redone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from etl import __version__ as ETL_VERSION
from etl import failpoints, schema
from etl.articles import clean_record, clean_records, segment_articles
from etl.config import Source, source_from_spec
from etl.contracts import Shard, ShardResult
from etl.dedup import minhash
from etl.enrich import columns as enrichment
from etl.errors import InvariantError
from etl.read import count_records, read_file
from etl.read.tabular import Span
from etl.records import TRANSFORM_ERROR, UNACCOUNTED, RawRecord, Reject
from etl.tasks import shard_outputs
from etl.text.normalize import NORMALIZER_VERSION

log = logging.getLogger("etl")


def shard_fingerprint(shard: Shard) -> str:
    """What a shard's output depends on: its files, the dump's bytes, the source spec, the text rules."""
    key = json.dumps(
        {
            "shard": shard["shard_id"],
            "files": shard["files"],
            "span": shard.get("span"),
            "dump": shard.get("dump_sha256"),
            "source": shard["source"],
            "rejects": shard["rejects"],
            "day": shard["day"],
            "normalizer": NORMALIZER_VERSION,
            "enrichment": enrichment.ENRICHMENT_VERSION,
            "etl": ETL_VERSION,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(key.encode()).hexdigest()


def transform_shard(shard: Shard) -> ShardResult:
    """Read, clean, segment and enrich one shard, in batches of ``BATCH_CHARS``; write its rows to
    staging Parquet."""
    out_dir = shard_outputs.folder(shard["staging"], shard["shard_id"])
    fingerprint = shard_fingerprint(shard)
    done = shard_outputs.finished(out_dir, fingerprint)
    if done is not None:
        log.info("shard %s already done for these inputs; reusing its outputs", shard["shard_id"])
        return done
    began = time.perf_counter()
    source = source_from_spec(shard["source"])
    day = dt.date.fromisoformat(shard["day"])
    rejects = list(shard["rejects"])
    spec = shard.get("span")
    span = Span(**spec) if spec else None
    read: list[RawRecord | Reject] = []
    for rel in shard["files"]:
        read.extend(read_accounted(Path(shard["files_dir"]) / rel, rel, source, span))
    records_in = len(rejects) + len(read)
    outputs: dict[str, list[pa.Table]] = {"articles": [], "sentences": [], "mentions": [], "signatures": []}
    repairs: Counter = Counter()
    articles = 0
    for batch in batches(read):
        cleaned = []
        for out in clean_all(batch, day, source):
            if isinstance(out, Reject):
                rejects.append(out.as_row())
            else:
                cleaned.append(out)
        articles += len(cleaned)
        for a in cleaned:
            if a["repairs"]:
                repairs.update(json.loads(a["repairs"]))
        article_table, sentences = segment_articles(pa.Table.from_pylist(cleaned, schema=schema.ARTICLES))
        del cleaned  # the batch's Python objects go before the next batch's come
        article_table, mentions = enrichment.enrich(article_table, sentences)
        outputs["articles"].append(article_table)
        outputs["sentences"].append(sentences)
        outputs["mentions"].append(mentions)
        outputs["signatures"].append(minhash.signature_table(article_table, mentions))
    reject_rows = [
        {"source_file": r["file"], **{k: r[k] for k in ("record_no", "reason", "detail", "excerpt")}} for r in rejects
    ]
    result = ShardResult(
        shard_id=shard["shard_id"],
        source=source.name,
        day=shard["day"],
        out_dir=str(out_dir),
        staging=shard["staging"],
        records_in=records_in,
        articles=articles,
        rejected=len(rejects),
        repairs=dict(sorted(repairs.items())),
        fetch_seconds=shard.get("fetch_seconds", 0.0),
        seconds=round(time.perf_counter() - began, 3),
    )
    shard_outputs.write(
        out_dir,
        {
            **{table: pa.concat_tables(parts) for table, parts in outputs.items()},
            "rejects": pa.Table.from_pylist(reject_rows, schema=schema.REJECTS),
        },
        fingerprint,
        result,
    )
    log.info("shard %s: %d records in, %d articles, %d rejected", shard["shard_id"], records_in, articles, len(rejects))
    failpoints.hit("shard_done")
    return result


#: Characters of fields a shard transforms at once (about 2 MB of Urdu text): the batch's Python
#: objects (cleaned records, per-article fields) are what a worker's memory grows with, so a shard of
#: any size is transformed in batches of this size and its outputs joined in order. The outputs do not
#: depend on it: every article is transformed on its own.
BATCH_CHARS = 1 << 20


def batches(read: list[RawRecord | Reject], limit: int | None = None) -> Iterator[list[RawRecord | Reject]]:
    """``read`` in consecutive batches whose records' fields hold ``limit`` (default ``BATCH_CHARS``)
    characters or more, the last one less; at least one batch, empty for nothing read."""
    limit = limit or BATCH_CHARS
    batch: list[RawRecord | Reject] = []
    size = 0
    for rec in read:
        batch.append(rec)
        if isinstance(rec, RawRecord):
            size += sum(len(v) for v in rec.fields.values() if v)
        if size >= limit:
            yield batch
            batch, size = [], 0
    if batch or not read:
        yield batch


def read_accounted(path: Path, rel: str, source: Source, span: Span | None) -> list[RawRecord | Reject]:
    """The records of one file (or span), checked against a count of its lines that does not
    parse them (``etl.read.count_records``): every non-blank line that holds records must be
    covered by what the reader yielded (``lines``). Lines it missed become one
    ``unaccounted_records`` reject each, so records in never shrinks with a reader's fault; a
    reader that claims more lines than the file has is a bug, an ``InvariantError``. A file
    rejected whole counts as one record and is not checked.
    """
    read = list(read_file(path, rel, source, span))
    if any(isinstance(r, Reject) and r.record_no == 0 for r in read):
        return read
    expected = count_records(path, source, span)
    if expected is None:
        return read
    covered = sum(r.lines for r in read)
    if covered > expected:
        raise InvariantError(
            f"{source.name}: the reader of {rel} yielded records covering {covered} lines, "
            f"but the file holds {expected} non-blank record lines"
        )
    if covered < expected:
        missing = expected - covered
        log.error("%s: %d line(s) of %s not accounted for by its reader", source.name, missing, rel)
        last = max((r.record_no for r in read), default=span.first_no if span else 0)
        detail = f"{missing} of the file's {expected} non-blank record lines were not accounted for by the reader"
        read.extend(Reject(source.name, rel, last + 1 + i, UNACCOUNTED, detail) for i in range(missing))
    return read


def clean_all(read: list[RawRecord | Reject], day: dt.date, source: Source) -> list[dict | Reject]:
    """The records read (and the readers' rejects), cleaned in one batch (``clean_records``); if the
    batch fails, record by record, so that only the records that fail become rejects."""
    records = [rec for rec in read if not isinstance(rec, Reject)]
    try:
        cleaned = iter(clean_records(records, day, source.required))
    except Exception:
        log.exception("batch cleaning of %d %s records failed; cleaning them one by one", len(records), source.name)
        cleaned = (_clean_guarded(rec, day, source) for rec in records)
    return [rec if isinstance(rec, Reject) else next(cleaned) for rec in read]


def _clean_guarded(rec: RawRecord, day: dt.date, source: Source) -> dict | Reject:
    """``clean_record``, with any unexpected failure on one record turned into that record's reject."""
    try:
        return clean_record(rec, day, source.required)
    except Exception as exc:  # one bad record must not fail its shard
        log.exception("record %s#%s of %s failed to transform", rec.file, rec.record_no, source.name)
        return Reject(source.name, rec.file, rec.record_no, TRANSFORM_ERROR, f"{type(exc).__name__}: {exc}")
