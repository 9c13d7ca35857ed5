"""The run, stage by stage: fetch -> transform (per shard) -> write lake -> load warehouse -> check.

Each function is one Airflow task (see ``dags/urdu_news_nightly.py``) and takes and returns
only small JSON-able dicts (paths and counts), so the same calls run under Airflow, from the
command line (``python -m etl``) and in tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import sqlalchemy as sa

from etl import __version__ as ETL_VERSION
from etl import failpoints, report, schema
from etl.config import Source, load_sources, make_source
from etl.enrich import batch as enrichment
from etl.enrich import dedup
from etl.fetch import NoDumpError, fetch_dump
from etl.load import lake, warehouse
from etl.read import read_file, split_file
from etl.read.tabular import Span
from etl.records import TRANSFORM_ERROR, Reject
from etl.text.normalize import NORMALIZER_VERSION
from etl.transform import clean_record, clean_records, segment_articles

log = logging.getLogger("etl")

ROOT = Path(__file__).resolve().parents[1]
FILES_PER_SHARD = 400
#: A CSV or JSONL file larger than this is cut into shards of whole records of about this size
#: (``URDU_ETL_SHARD_MB`` overrides it), so a shard, not a dump, bounds a task's memory and a
#: large file spreads over workers.
SHARD_BYTES = 8 << 20
#: Copies are looked for among the day's articles and those of this many earlier days
#: (``URDU_ETL_DEDUP_DAYS``): wire copies and rewrites of a story appear within days.
DEDUP_DAYS = 30
DEFAULT_TZ = "Asia/Karachi"


class RunCheckError(RuntimeError):
    """The run's outputs break an invariant (counts that do not add up, lake and warehouse disagree)."""


def data_dir() -> Path:
    return Path(os.environ.get("URDU_ETL_DATA_DIR", ROOT / "data")).resolve()


def lake_location(root: Path) -> lake.Location:
    """Where the lake is: ``URDU_ETL_LAKE_URL`` (a local folder or an fsspec URL such as
    ``s3://bucket/prefix``), else ``<data dir>/lake``."""
    url = os.environ.get("URDU_ETL_LAKE_URL", "").strip()
    if not url:
        return root / "lake"
    where = lake.resolve(url)
    return where.resolve() if isinstance(where, Path) else where  # tasks may run in other folders


def sources_file() -> Path:
    return Path(os.environ.get("URDU_ETL_SOURCES", ROOT / "config" / "sources.yaml"))


def resolve_day(date_param: str | None, interval_start: dt.datetime | None, tz: str | None = None) -> dt.date:
    """The day a run processes: the ``date`` param when given, else the data interval's start day."""
    if date_param:
        try:
            return dt.date.fromisoformat(str(date_param).strip())
        except ValueError as exc:
            raise ValueError(f"date {date_param!r} is not a YYYY-MM-DD date") from exc
    if interval_start is None:
        raise ValueError("no date given and the run has no data interval")
    zone = ZoneInfo(tz or os.environ.get("URDU_ETL_TIMEZONE", DEFAULT_TZ))
    return interval_start.astimezone(zone).date()


def select_sources(all_sources: dict[str, Source], names: list[str] | None) -> list[Source]:
    if not names:
        return [all_sources[n] for n in sorted(all_sources)]
    unknown = [n for n in names if n not in all_sources]
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)}; declared: {', '.join(sorted(all_sources))}")
    return [all_sources[n] for n in sorted(set(names))]


def _spec(source: Source) -> dict:
    return {"name": source.name, "url": source.url, "format": source.format, "columns": source.columns,
            "encoding": source.encoding, "required": list(source.required)}


def run_key(run_id: str) -> str:
    """A file-name-safe form of a run id, naming the run's staging folder."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)[:120]


def fetch(sources: list[Source], day: dt.date, root: Path, dump_url: str | None = None,
          missing_ok: bool = True, run_id: str = "manual") -> list[dict]:
    """Fetch every source's dump for ``day`` and cut the staged files into shards.

    Files are staged under ``staging/<day>/<run>/``, so concurrent runs never share a folder.
    A source with no dump for the day is logged and skipped when ``missing_ok``, else an error.
    """
    if dump_url and len(sources) != 1:
        raise ValueError("an explicit dump URL needs exactly one source to say how to read it")
    staging = root / "staging" / day.isoformat() / run_key(run_id)
    shards: list[dict] = []
    began = time.perf_counter()
    for source in sources:
        try:
            manifest = fetch_dump(source, day, staging, dump_url)
        except NoDumpError as exc:
            if not missing_ok:
                raise
            log.warning("%s", exc)
            continue
        log.info("fetched %s for %s: %d file(s), %d bytes, sha256 %s", source.name, day,
                 len(manifest["files"]), manifest["bytes"], manifest["sha256"][:12])
        failpoints.hit("fetched")
        shards.extend(plan_shards(manifest, source, staging))
    for shard in shards:  # how long the stage took travels with its output, for the run report
        shard["fetch_seconds"] = round(time.perf_counter() - began, 3)
    return shards


def shard_bytes() -> int:
    """How large a shard of a CSV or JSONL file is: ``URDU_ETL_SHARD_MB`` or ``SHARD_BYTES``."""
    value = os.environ.get("URDU_ETL_SHARD_MB")
    if not value:
        return SHARD_BYTES
    try:
        mb = float(value)
    except ValueError:
        raise ValueError(f"URDU_ETL_SHARD_MB={value!r} is not a number of megabytes") from None
    if mb <= 0:
        raise ValueError(f"URDU_ETL_SHARD_MB={value!r} must be more than 0")
    return max(1, int(mb * (1 << 20)))


def plan_shards(manifest: dict, source: Source, staging: Path, target_bytes: int | None = None) -> list[dict]:
    """Cut a dump into shards; a shard's id comes from its files (and byte span), never its position.

    Article-per-file formats group up to ``FILES_PER_SHARD`` files in a shard. A CSV or JSONL
    file is a shard of its own, and one larger than ``target_bytes`` (``shard_bytes()``) is cut
    into spans of whole records of about that size (``etl.read.split_file``).
    """
    files = manifest["files"]
    target = target_bytes or shard_bytes()
    units: list[tuple[list[str], dict | None]] = []
    if source.format in ("csv", "jsonl"):
        for rel in files:
            spans = split_file(Path(manifest["files_dir"]) / rel, source, target)
            units += [([rel], span.as_dict()) for span in spans] if spans else [([rel], None)]
    else:
        units = [(files[i:i + FILES_PER_SHARD], None) for i in range(0, len(files), FILES_PER_SHARD)]
    shards = []
    for i, (group, span) in enumerate(units or [([], None)]):
        key = "\n".join(group) + (f"@{span['start']}-{span['end']}" if span else "")
        shards.append({
            "shard_id": f"{source.name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}",
            "source": _spec(source),
            "day": manifest["day"],
            "staging": str(staging),
            "dump_sha256": manifest["sha256"],
            "files_dir": manifest["files_dir"],
            "files": group,
            "span": span,
            # rejects found while fetching (archives that would not expand) travel with the first shard
            "rejects": manifest["rejects"] if i == 0 else [],
        })
    return shards


def shard_fingerprint(shard: dict) -> str:
    """What a shard's output depends on: its files, the dump's bytes, the source spec, the text rules."""
    key = json.dumps({"shard": shard["shard_id"], "files": shard["files"], "span": shard.get("span"),
                      "dump": shard.get("dump_sha256"),
                      "source": shard["source"], "rejects": shard["rejects"], "day": shard["day"],
                      "normalizer": NORMALIZER_VERSION, "enrichment": enrichment.ENRICHMENT_VERSION,
                      "etl": ETL_VERSION}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(key.encode()).hexdigest()


def transform_shard(shard: dict) -> dict:
    """Read, clean, segment and enrich one shard; write its rows to staging Parquet.

    The outputs appear all at once (written to a temporary folder, then renamed) with a
    ``_SUCCESS.json`` holding the shard's fingerprint and result. A shard whose outputs are
    already there for the same fingerprint (a retried task, a resumed run) is not redone.
    """
    out_dir = Path(shard["staging"]) / "shards" / shard["shard_id"]
    fingerprint = shard_fingerprint(shard)
    marker = out_dir / "_SUCCESS.json"
    if marker.exists():
        done = json.loads(marker.read_text(encoding="utf-8"))
        if done.get("fingerprint") == fingerprint:
            log.info("shard %s already done for these inputs; reusing its outputs", shard["shard_id"])
            return done["result"]
    began = time.perf_counter()
    spec = shard["source"]
    source = make_source(spec["name"], spec["url"], spec["format"], spec["columns"], spec["encoding"],
                         spec["required"])
    day = dt.date.fromisoformat(shard["day"])
    articles, rejects = [], list(shard["rejects"])
    records_in = len(rejects)
    files_dir = Path(shard["files_dir"])
    span = Span(**shard["span"]) if shard.get("span") else None
    read = []
    for rel in shard["files"]:
        for rec in read_file(files_dir / rel, rel, source, span):
            records_in += 1
            read.append(rec)
    for out in _clean_all(read, day, source):
        if isinstance(out, Reject):
            rejects.append(out.as_row())
        else:
            articles.append(out)
    article_table, sentences = segment_articles(pa.Table.from_pylist(articles, schema=schema.ARTICLES))
    article_table, mentions = enrichment.enrich(article_table, sentences)
    signatures = enrichment.signatures(article_table)
    reject_rows = [{"source_file": r["file"], **{k: r[k] for k in ("record_no", "reason", "detail", "excerpt")}}
                   for r in rejects]
    repairs: Counter = Counter()
    for a in articles:
        if a["repairs"]:
            repairs.update(json.loads(a["repairs"]))
    result = {"shard_id": shard["shard_id"], "source": spec["name"], "day": shard["day"], "out_dir": str(out_dir),
              "staging": shard["staging"], "records_in": records_in, "articles": len(articles),
              "rejected": len(rejects), "repairs": dict(sorted(repairs.items())),
              "fetch_seconds": shard.get("fetch_seconds", 0.0), "seconds": round(time.perf_counter() - began, 3)}
    tmp = out_dir.with_name(f".{out_dir.name}.{uuid.uuid4().hex}")
    tmp.mkdir(parents=True)
    pq.write_table(article_table, tmp / "articles.parquet")
    pq.write_table(sentences, tmp / "sentences.parquet")
    pq.write_table(mentions, tmp / "mentions.parquet")
    pq.write_table(signatures, tmp / "signatures.parquet")
    pq.write_table(pa.Table.from_pylist(reject_rows, schema=schema.REJECTS), tmp / "rejects.parquet")
    (tmp / "_SUCCESS.json").write_text(json.dumps({"fingerprint": fingerprint, "result": result}), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    log.info("shard %s: %d records in, %d articles, %d rejected", shard["shard_id"], records_in,
             len(articles), len(rejects))
    failpoints.hit("shard_done")
    return result


def _clean_all(read: list, day: dt.date, source: Source) -> list:
    """The records read (and the readers' rejects), cleaned in one batch (``clean_records``); if the
    batch fails, record by record, so that only the records that fail become rejects."""
    records = [rec for rec in read if not isinstance(rec, Reject)]
    try:
        cleaned = iter(clean_records(records, day, source.required))
    except Exception:
        log.exception("batch cleaning of %d %s records failed; cleaning them one by one", len(records), source.name)
        cleaned = (_clean_guarded(rec, day, source) for rec in records)
    return [rec if isinstance(rec, Reject) else next(cleaned) for rec in read]


def _clean_guarded(rec, day: dt.date, source: Source):
    """``clean_record``, with any unexpected failure on one record turned into that record's reject."""
    try:
        return clean_record(rec, day, source.required)
    except Exception as exc:  # one bad record must not fail its shard
        log.exception("record %s#%s of %s failed to transform", rec.file, rec.record_no, source.name)
        return Reject(source.name, rec.file, rec.record_no, TRANSFORM_ERROR, f"{type(exc).__name__}: {exc}")


def write_lake(shard_results: list[dict], root: Path, day: str | None = None) -> dict:
    """Resolve duplicates across the day's shards and replace the day's lake partitions.

    Every fetched source has at least one shard, so the results name every source the run
    replaces, and the day (``day`` is needed only when there are no results).

    Two kinds of duplicate. When one source lists the same article (same URL or id) more than
    once, the first in dump order loads and the others are recorded in ``duplicates``, pointing
    at it. Copies of one story under different URLs or sites all load, and each copy's
    ``duplicate_of`` names the cluster's canonical article, found against this run and the
    ``dedup_days()`` earlier days in the lake (``etl.enrich.dedup``).

    Memory stays bounded by a shard, not the day: duplicates are resolved from the key and
    signature columns alone, then each shard's rows are written into the partitions as their own
    files (sorted by article within a shard), one shard at a time.
    """
    began = time.perf_counter()
    day = day or shard_results[0]["day"]
    lake_root = lake_location(root)
    by_source: dict[str, list[dict]] = {}
    for res in shard_results:
        by_source.setdefault(res["source"], []).append(res)
    sig_schema = schema.signatures_schema(dedup.signature_type())
    plans: dict[str, dict] = {}
    for name in sorted(by_source):
        results = sorted(by_source[name], key=lambda r: r["shard_id"])
        keys = _concat([_numbered(_shard_table(r, "articles", ["article_id", "source_file", "record_no"]), i)
                        for i, r in enumerate(results)], None)
        keys = keys.sort_by([("source_file", "ascending"), ("record_no", "ascending")])
        keep, dups = _dedup_by_key(keys)
        kept_rows = keys.take(pa.array(keep, type=pa.int64()))
        # the kept records of each shard, so a shard is filtered against its own few, not the day's
        shard_of = kept_rows["shard"].to_numpy()
        kept_keys = _row_key(kept_rows)
        kept = [kept_keys.filter(pa.array(shard_of == i)) for i in range(len(results))]
        plans[name] = {"results": results, "kept": kept, "duplicates": dups}
    found = _find_copies(plans, sig_schema, lake_root, day)
    report: dict[str, dict] = {}
    for name, plan in plans.items():
        results, kept = plan["results"], plan["kept"]
        written = Counter()
        entities: dict[str, tuple[str, str]] = {}

        def parts(table: str, target: pa.Schema, order: list[str]):
            for r, kept_here in zip(results, kept):  # one shard at a time
                part = _kept(_shard_table(r, table), kept_here, target, order)
                if table == "articles":
                    part = enrichment.mark_duplicates(part, found)
                elif table == "signatures":
                    part = _point_signatures(part, found)
                    written["copies"] += pc.sum(pc.is_valid(part["duplicate_of"])).as_py() or 0
                elif table == "mentions":
                    for eid, etype, ename in zip(*(part[c].to_pylist() for c in schema.ENTITIES.names)):
                        entities[eid] = (etype, ename)
                written[table] += part.num_rows
                yield part

        # the four large tables are written side by side: reading, sorting, encoding and
        # compressing Parquet run in Arrow's C++ without the GIL
        streams = {"articles": (schema.ARTICLES, []), "sentences": (schema.SENTENCES, ["sentence_no"]),
                   "mentions": (schema.MENTIONS, ["field", "position"]), "signatures": (sig_schema, [])}
        with ThreadPoolExecutor(max_workers=len(streams), thread_name_prefix="write_lake") as pool:
            futures = {table: pool.submit(lake.replace_partition, lake_root, table, day, name,
                                          parts(table, target, order))
                       for table, (target, order) in streams.items()}
            files = {table: future.result() for table, future in futures.items()}
        entity_rows = pa.table([list(entities), [v[0] for v in entities.values()],
                                [v[1] for v in entities.values()]], schema=schema.ENTITIES).sort_by("entity_id")
        rejects = _concat([_shard_table(r, "rejects") for r in results], schema.REJECTS).sort_by(
            [("source_file", "ascending"), ("record_no", "ascending")])
        for table, data in (("entities", entity_rows), ("rejects", rejects), ("duplicates", plan["duplicates"])):
            files[table] = lake.replace_partition(lake_root, table, day, name, data)
        copies = written["copies"]
        repairs = sum((Counter(r.get("repairs", {})) for r in results), Counter())
        report[name] = {"records_in": sum(r["records_in"] for r in results), "loaded": written["articles"],
                        "duplicates": plan["duplicates"].num_rows, "rejected": rejects.num_rows,
                        "sentences": written["sentences"], "mentions": written["mentions"], "copies": copies,
                        "files": files, "repairs": dict(sorted(repairs.items()))}
        log.info("lake %s %s: %d articles (%d copies of others), %d sentences, %d mentions, %d duplicates, "
                 "%d rejects", day, name, written["articles"], copies, written["sentences"], written["mentions"],
                 plan["duplicates"].num_rows, rejects.num_rows)
    staging = sorted({r["staging"] for r in shard_results})
    failpoints.hit("lake_written")
    stages = {"fetch": max((r.get("fetch_seconds", 0.0) for r in shard_results), default=0.0),
              "transform": round(sum(r.get("seconds", 0.0) for r in shard_results), 3),
              "write_lake": round(time.perf_counter() - began, 3)}
    return {"day": day, "lake": str(lake_root), "staging": staging, "sources": report, "stages": stages}


def _shard_table(result: dict, table: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(Path(result["out_dir"]) / f"{table}.parquet", columns=columns)


def _numbered(table: pa.Table, shard: int) -> pa.Table:
    """``table`` with a ``shard`` column: which of the source's shards each row came from."""
    return table.append_column("shard", pa.array(np.full(table.num_rows, shard, dtype=np.int32)))


def _kept(table: pa.Table | None, kept: pa.Array, target: pa.Schema, order: list[str]) -> pa.Table:
    """The rows of ``table`` whose record (``file#record_no``) is in ``kept``, sorted by article then ``order``."""
    if table is None or not table.num_rows:
        return target.empty_table()
    table = table.filter(pc.is_in(_row_key(table), value_set=kept))
    return table.sort_by([(k, "ascending") for k in ("article_id", *order)]).select(target.names).cast(target)


def dedup_days() -> int | None:
    """How many earlier days the copy search looks back over: ``URDU_ETL_DEDUP_DAYS`` (a number
    of days, or ``all``), default ``DEDUP_DAYS``. The window bounds its memory: every article in
    it holds a 512-byte signature in memory while a day is written."""
    value = os.environ.get("URDU_ETL_DEDUP_DAYS", "").strip().lower()
    if not value:
        return DEDUP_DAYS
    if value == "all":
        return None
    if not value.isdigit():
        raise ValueError(f"URDU_ETL_DEDUP_DAYS={value!r} is not a number of days or 'all'")
    return int(value)


def history_signatures(lake_root: lake.Location, day: str, days: int | None = None) -> pa.Table | None:
    """Signatures of the articles the lake holds from the ``days`` days before ``day`` (None: all)."""
    if not lake.table_exists(lake_root, "signatures"):
        return None
    fs, root = lake.filesystem(lake_root)
    dataset = ds.dataset(f"{root}/signatures", filesystem=lake.arrow_filesystem(fs), format="parquet",
                         partitioning="hive", exclude_invalid_files=True, ignore_prefixes=[".", "_"])
    window = ds.field("ingest_date") < day
    if days is not None:
        window &= ds.field("ingest_date") >= (dt.date.fromisoformat(day) - dt.timedelta(days=days)).isoformat()
    table = dataset.to_table(filter=window,
                             columns=["article_id", "content_hash", "published_at", "duplicate_of", "signature",
                                      "ingest_date"])
    return table if table.num_rows else None


def _find_copies(plans: dict[str, dict], sig_schema: pa.Schema, lake_root: lake.Location, day: str) -> pa.Table:
    """Copies of one story across the day's sources and earlier days: ``dedup.find_duplicates``'s result.

    The day's signatures are read a shard at a time into one matrix, the only copy of them held.
    """
    total = sum(len(kept_here) for plan in plans.values() for kept_here in plan["kept"])
    if not total:
        return dedup.RESULT_SCHEMA.empty_table()
    matrix = np.empty((total, dedup.NUM_PERM), dtype=np.uint32)
    meta, at = [], 0
    for plan in plans.values():
        for r, kept_here in zip(plan["results"], plan["kept"]):
            part = _kept(_shard_table(r, "signatures"), kept_here, sig_schema, [])
            if part.num_rows != len(kept_here):
                raise RunCheckError(f"shard {r['shard_id']}: {part.num_rows} signatures for {len(kept_here)} articles")
            matrix[at:at + part.num_rows] = dedup.signature_matrix(part["signature"])
            at += part.num_rows
            meta.append(part.drop_columns(["signature"]))
    batch = pa.concat_tables(meta)
    history = history_signatures(lake_root, day, dedup_days())
    if history is not None:  # an article filed again on a later day is not a copy of its older self
        history = history.filter(pc.invert(pc.is_in(history["article_id"], value_set=batch["article_id"])))
    found = dedup.find_duplicates(batch, history, batch_signatures=matrix)
    log.info("dedup %s: %d of %d articles are copies (%d exact, %d near)", day, found.num_rows,
             batch.num_rows, pc.sum(pc.equal(found["kind"], "exact")).as_py() or 0,
             pc.sum(pc.equal(found["kind"], "near")).as_py() or 0)
    return found


def _point_signatures(sigs: pa.Table, found: pa.Table) -> pa.Table:
    """The signatures with ``duplicate_of`` filled, so later days follow a copy to its canonical."""
    canon = enrichment.found_for(sigs["article_id"], found, "duplicate_of")
    return sigs.set_column(sigs.schema.get_field_index("duplicate_of"), "duplicate_of", canon)


def _concat(parts: list[pa.Table], target: pa.Schema | None) -> pa.Table | None:
    if not parts:
        return target.empty_table() if target is not None else None
    table = pa.concat_tables(parts)
    return table.cast(target) if target is not None else table


def _row_key(table: pa.Table) -> pa.Array:
    """``file#record_no`` for each row: a record's identity within its dump."""
    nos = pc.cast(table["record_no"], pa.string())
    return pc.binary_join_element_wise(table["source_file"], nos, "#")


def _dedup_by_key(arts: pa.Table) -> tuple[list[int], pa.Table]:
    first: dict[str, int] = {}
    keep: list[int] = []
    rows = []
    ids, files, nos = (arts[c].to_pylist() for c in ("article_id", "source_file", "record_no"))
    for i, aid in enumerate(ids):
        j = first.setdefault(aid, i)
        if j == i:
            keep.append(i)
        else:
            rows.append({"source_file": files[i], "record_no": nos[i], "article_id": aid,
                         "duplicate_of_file": files[j], "duplicate_of_record_no": nos[j], "reason": "same_key"})
    return keep, pa.Table.from_pylist(rows, schema=schema.DUPLICATES)


def load_warehouse(lake_report: dict, url: str, run_id: str, started_at: dt.datetime,
                   sources: list[Source]) -> dict:
    """Load the day's lake partitions into the warehouse in one transaction; record the run."""
    began = time.perf_counter()
    day = dt.date.fromisoformat(lake_report["day"])
    lake_root = lake.resolve(lake_report["lake"])
    rows = {name: {t: _warehouse_rows(lake_root, t, lake_report["day"], name) for t in schema.TABLES}
            for name in lake_report["sources"]}
    totals = _totals(lake_report)
    run = {"run_id": run_id, "day": day, "started_at": started_at, "finished_at": dt.datetime.now(dt.UTC),
           "status": "loaded", "sources": ",".join(sorted(lake_report["sources"])), **totals}
    dump_rows = []
    for name, rep in lake_report["sources"].items():
        manifest = _manifest(lake_report["staging"], name)
        dump_rows.append({"run_id": run_id, "source": name, "day": day, "url": manifest.get("url", ""),
                          "bytes": manifest.get("bytes", 0), "sha256": manifest.get("sha256", ""),
                          "files": len(manifest.get("files", [])),
                          **{k: rep[k] for k in warehouse.ACCOUNTING}})
    engine = warehouse.engine_for(url)
    try:
        written = warehouse.load_run(engine, day, rows, run, dump_rows,
                                     [warehouse.sources_row(s, run_id) for s in sources if s.name in rows])
    finally:
        engine.dispose()
    log.info("warehouse %s: %s", engine.url.render_as_string(hide_password=True), written)
    return {"run_id": run_id, "day": lake_report["day"], "written": written,
            "seconds": round(time.perf_counter() - began, 3)}


def _warehouse_rows(lake_root: lake.Location, table: str, day: str, source: str) -> Iterator[pa.RecordBatch]:
    """A partition's rows as the warehouse stores them (lists as text), a batch at a time."""
    return _warehouse_rows_of(table, lake.iter_partition(lake_root, table, day, source, schema.TABLES[table]))


def _warehouse_rows_of(table: str, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Lake batches of ``table`` as the warehouse stores them: tokens joined by spaces, keyword and
    flag lists as JSON text, column-wise."""
    for batch in batches:
        if table == "sentences":
            batch = batch.set_column(batch.schema.get_field_index("tokens"), "tokens",
                                     pc.binary_join(batch.column("tokens"), " "))
        elif table == "articles":
            for name in ("keywords", "quality_flags"):
                batch = batch.set_column(batch.schema.get_field_index(name), name, _json_lists(batch.column(name)))
        yield batch


_JSON_ESCAPES = r'[\\"\x00-\x1f]'


def _json_lists(lists: pa.Array) -> pa.Array:
    """Each list of strings as ``json.dumps(list, ensure_ascii=False)`` writes it, column-wise
    (values that JSON would escape send the batch through ``json.dumps``)."""
    values = pc.list_flatten(lists)
    if len(values) and pc.any(pc.match_substring_regex(values, _JSON_ESCAPES)).as_py():
        return pa.array([json.dumps(v, ensure_ascii=False) for v in lists.to_pylist()], pa.string())
    joined = pc.binary_join_element_wise("[\"", pc.binary_join(lists, '", "'), "\"]", "")
    empty = pc.equal(pc.list_value_length(lists), 0)
    return pc.if_else(pc.is_null(lists), "null", pc.if_else(empty, "[]", joined))


def _manifest(staging: list[str], source: str) -> dict:
    for folder in staging:
        path = Path(folder) / source / "manifest.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    return {}


def _totals(lake_report: dict) -> dict[str, int]:
    return {k: sum(rep[k] for rep in lake_report["sources"].values()) for k in warehouse.ACCOUNTING}


def check(lake_report: dict, load_report: dict, root: Path, url: str) -> dict:
    """Verify the run's invariants, record its status and write ``runs/<day>/summary.json``.

    Invariants: for every source, records in = loaded + duplicates + rejected; the warehouse
    holds, for the day and source, exactly the rows the lake holds.
    """
    began = time.perf_counter()
    day = lake_report["day"]
    problems = []
    engine = warehouse.engine_for(url)
    try:
        with engine.begin() as conn:
            for name, rep in sorted(lake_report["sources"].items()):
                if rep["records_in"] != rep["loaded"] + rep["duplicates"] + rep["rejected"]:
                    problems.append(f"{name}: {rep['records_in']} records in but {rep['loaded']} loaded + "
                                    f"{rep['duplicates']} duplicates + {rep['rejected']} rejected")
                for table, expected in (("articles", rep["loaded"]), ("rejects", rep["rejected"]),
                                        ("duplicates", rep["duplicates"])):
                    t = warehouse.metadata.tables[table]
                    got = conn.execute(sa.select(sa.func.count()).select_from(t).where(
                        t.c.ingest_date == dt.date.fromisoformat(day), t.c.source == name)).scalar_one()
                    if got != expected:
                        problems.append(f"{name}: warehouse {table} has {got} rows for {day}, lake has {expected}")
            status = "failed" if problems else "ok"
            conn.execute(warehouse.runs.update().where(warehouse.runs.c.run_id == load_report["run_id"])
                         .values(status=status, finished_at=dt.datetime.now(dt.UTC)))
        tables = warehouse.table_counts(engine)
    finally:
        engine.dispose()
    summary = {"run_id": load_report["run_id"], "day": day, "status": status, **_totals(lake_report),
               "sources": {n: {k: r.get(k) for k in (*warehouse.ACCOUNTING, "sentences", "mentions", "copies", "repairs")}
                           for n, r in lake_report["sources"].items()},
               "partitions": sorted({str(Path(f).parent) for r in lake_report["sources"].values()
                                     for fs in r["files"].values() for f in fs}),
               "lake": lake_report["lake"],
               "warehouse": url_for_display(url), "warehouse_tables": tables, "problems": problems,
               "stages": {**lake_report.get("stages", {}), "load_warehouse": load_report.get("seconds", 0.0),
                          "check": round(time.perf_counter() - began, 3)}}
    out = root / "runs" / day
    out.mkdir(parents=True, exist_ok=True)
    try:  # the report is for people: a failure to draw it is logged, and never fails the run
        summary["report"] = report.build_report(summary, lake_report["lake"], out)["html"]
        log.info("run report: %s", Path(summary["report"]).resolve().as_uri())
    except Exception:
        log.exception("could not build the run report for %s", day)
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    if problems:
        raise RunCheckError("run check failed: " + "; ".join(problems))
    clear_staging(lake_report)
    return summary


def clear_staging(lake_report: dict) -> None:
    """Drop a checked run's staged copies of the dumps and its shard outputs; keep the manifests."""
    for folder in map(Path, lake_report["staging"]):
        shutil.rmtree(folder / "shards", ignore_errors=True)
        for name in lake_report["sources"]:
            shutil.rmtree(folder / name / "files", ignore_errors=True)


def url_for_display(url: str) -> str:
    """A warehouse URL without its password, for logs and summaries."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def format_summary(summary: dict) -> str:
    """The run summary as a few lines of text for a terminal."""
    lines = [f"Run {summary['run_id']} for {summary['day']}: {summary['status']}",
             f"  records in {summary['records_in']}, loaded {summary['loaded']}, "
             f"duplicates {summary['duplicates']}, rejected {summary['rejected']}",
             f"  {'source':<24}{'in':>8}{'loaded':>8}{'dup':>6}{'rejected':>10}{'copies':>8}{'sentences':>11}"
             f"{'mentions':>10}"]
    for name, r in sorted(summary["sources"].items()):
        lines.append(f"  {name:<24}{r['records_in']:>8}{r['loaded']:>8}{r['duplicates']:>6}"
                     f"{r['rejected']:>10}{r.get('copies') or 0:>8}{r['sentences']:>11}{r.get('mentions') or 0:>10}")
    repairs = sum((Counter(r.get("repairs", {})) for r in summary["sources"].values()), Counter())
    if repairs:
        lines.append("  cleaning: " + ", ".join(f"{k} {v}" for k, v in sorted(repairs.items())))
    tables = Counter(Path(p).parts[0] for p in summary["partitions"])
    lines.append(f"  partitions written: {len(summary['partitions'])} under {summary.get('lake', 'the lake')} ("
                 + ", ".join(f"{t} {n}" for t, n in sorted(tables.items())) + ")")
    lines.append(f"  warehouse {summary['warehouse']}: " +
                 ", ".join(f"{t} {n}" for t, n in summary["warehouse_tables"].items()))
    if summary.get("stages"):
        lines.append("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in summary["stages"].items()))
    if summary.get("report"):
        lines.append(f"  report {summary['report']}")
    for p in summary["problems"]:
        lines.append(f"  PROBLEM: {p}")
    return "\n".join(lines)


def _progress(enabled: bool):
    """A progress bar on stderr: bytes of input done, throughput, records and articles so far."""
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                    console=Console(stderr=True), disable=not enabled, transient=True)


def run(sources: list[Source], day: dt.date, root: Path, url: str, run_id: str | None = None,
        dump_url: str | None = None, missing_ok: bool = True, progress: bool = False) -> dict:
    """Every stage in order, in this process: what the DAG does, without a scheduler.

    ``progress`` draws a progress bar over the transform (bytes of input, records, throughput) on
    stderr, for people running it by hand.
    """
    started = dt.datetime.now(dt.UTC)
    run_id = run_id or f"cli__{day.isoformat()}__{started.strftime('%Y%m%dT%H%M%S%f')}"
    shards = fetch(sources, day, root, dump_url, missing_ok, run_id)
    results = []
    sizes = [s["span"]["end"] - s["span"]["start"] if s.get("span") else
             sum((Path(s["files_dir"]) / f).stat().st_size for f in s["files"] if (Path(s["files_dir"]) / f).is_file())
             for s in shards]
    with _progress(progress) as bar:
        task = bar.add_task("transform", total=sum(sizes) or None, info="")
        records = loaded = 0
        for shard, size in zip(shards, sizes):
            res = transform_shard(shard)
            results.append(res)
            records, loaded = records + res["records_in"], loaded + res["articles"]
            bar.update(task, advance=size, info=f"{records} records, {loaded} articles, "
                                                f"shard {len(results)}/{len(shards)}")
    lake_report = write_lake(results, root, day.isoformat())
    load_report = load_warehouse(lake_report, url, run_id, started, sources)
    return check(lake_report, load_report, root, url)


def load_config(path: Path | None = None) -> dict[str, Source]:
    return load_sources(path or sources_file())
