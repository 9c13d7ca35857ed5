"""Task ``write_lake``: resolve the day's duplicates across its shards and replace its lake partitions.

Every fetched source has at least one shard, so the results name every source the run replaces,
and the day (``day`` is needed only when there are no results).

For each source, same-key duplicates are resolved first (``etl.dedup.same_key``: the first record
of an article loads), then articles another day of the lake already holds become duplicates of
that day's record (``etl.dedup.other_days``: an article belongs to the day that first holds it).
Then the copy search runs once over every source's loaded articles and the
earlier days (``etl.dedup.copies``). Then each source's partitions are written
(``SourceWriter``). Memory stays bounded by a shard, not the day: duplicates are resolved from the
key and signature columns alone, and every table is written a shard at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl import failpoints, memory, schema
from etl.contracts import LakeReport, ShardResult, SourceReport
from etl.dedup import copies, other_days, same_key
from etl.errors import InvariantError
from etl.load import lake
from etl.settings import Settings
from etl.tasks import shard_outputs

log = logging.getLogger("etl")


@dataclass(frozen=True)
class SourcePlan:
    """One source's shards, in shard-id order, with the record keys of each shard's articles that
    load, and the ``duplicates`` rows of those that do not."""

    results: list[ShardResult]
    kept: list[pa.Array]
    duplicates: pa.Table


def plan_source(results: list[ShardResult], lake_root: lake.Location | None = None) -> SourcePlan:
    """Resolve a source's duplicates over all its shards, from their key columns alone: the same
    article twice in the day (``same_key``), and, with ``lake_root``, articles another day of the
    lake holds (``other_days``: every record of such an article points at that day's record)."""
    results = sorted(results, key=lambda r: r["shard_id"])
    parts = []
    for i, r in enumerate(results):
        keys = shard_outputs.read(r, "articles", ["article_id", "source_file", "record_no"])
        parts.append(keys.append_column("shard", pa.array(np.full(keys.num_rows, i, dtype=np.int32))))
    keys = pa.concat_tables(parts).sort_by([("source_file", "ascending"), ("record_no", "ascending")])
    keep, duplicates = same_key.first_of_each_key(keys)
    kept_rows = keys.take(pa.array(keep, type=pa.int64()))
    if lake_root is not None and results:
        held = other_days.held_elsewhere(lake_root, results[0]["day"], results[0]["source"], kept_rows["article_id"])
        if held.num_rows:
            elsewhere = pc.is_in(kept_rows["article_id"], value_set=held["article_id"])
            kept_rows = kept_rows.filter(pc.invert(elsewhere))
            duplicates = pa.concat_tables(
                [
                    duplicates.filter(pc.invert(pc.is_in(duplicates["article_id"], value_set=held["article_id"]))),
                    other_days.duplicate_rows(keys, held),
                ]
            ).sort_by([("source_file", "ascending"), ("record_no", "ascending")])
    # the kept records of each shard, so a shard is filtered against its own few, not the day's
    shard_of = kept_rows["shard"].to_numpy()
    kept_keys = same_key.record_keys(kept_rows)
    return SourcePlan(results, [kept_keys.filter(pa.array(shard_of == i)) for i in range(len(results))], duplicates)


def _day_signatures(plans: dict[str, SourcePlan], sig_schema: pa.Schema) -> Iterator[pa.Table]:
    """The signature rows of the day's loaded articles, a shard at a time."""
    for plan in plans.values():
        for result, kept in zip(plan.results, plan.kept):
            part = same_key.kept_rows(shard_outputs.read(result, "signatures"), kept, sig_schema, [])
            if part.num_rows != len(kept):
                raise InvariantError(f"shard {result['shard_id']}: {part.num_rows} signatures for {len(kept)} articles")
            yield part


#: The tables written a shard at a time, with the columns rows are sorted by within a shard (after
#: ``article_id``).
STREAMED = {
    "articles": (schema.ARTICLES, []),
    "sentences": (schema.SENTENCES, ["sentence_no"]),
    "mentions": (schema.MENTIONS, ["field", "position"]),
    "signatures": (schema.SIGNATURES, []),
}


#: How many of the ``STREAMED`` tables are written at once. Reading, sorting, encoding and
#: compressing Parquet run in Arrow's C++ without the GIL, so two threads keep two cores busy; each
#: holds one shard's part of its table, so memory grows with the threads (on 78,954 real articles in
#: shards of up to 39,000: a peak of 641-659 MB with two, 778-820 MB with four, at the same speed).
WRITER_THREADS = 2


class SourceWriter:
    """Writes one source's partitions of the day and counts what it wrote.

    The four large tables (articles, sentences, mentions, signatures) are written by
    ``WRITER_THREADS`` threads, a table each at a time. Each thread takes its own table's part of
    every shard (``_parts``) and reports what it wrote through ``_tally``, under this writer's one
    lock.
    """

    def __init__(self, lake_root: lake.Location, day: str, name: str, plan: SourcePlan, found: pa.Table):
        self.lake_root, self.day, self.name, self.plan, self.found = lake_root, day, name, plan, found
        self._lock = threading.Lock()
        self.rows: Counter[str] = Counter()
        self.copies = 0
        self.entities: dict[str, tuple[str, str]] = {}

    def _tally(self, table: str, part: pa.Table) -> None:
        copies, named = 0, []
        if table == "signatures":
            copies = pc.sum(pc.is_valid(part["duplicate_of"])).as_py() or 0
        elif table == "mentions" and part.num_rows:
            # each entity once, as its last mention in the part names it (a later one wins)
            enc = part["entity_id"].combine_chunks().dictionary_encode()
            codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
            _, last = np.unique(codes[::-1], return_index=True)
            rows = part.select(schema.ENTITIES.names).take(pa.array(np.sort(len(codes) - 1 - last)))
            named = list(zip(*(rows[c].to_pylist() for c in schema.ENTITIES.names)))
        with self._lock:
            self.rows[table] += part.num_rows
            self.copies += copies
            for eid, etype, ename in named:
                self.entities[eid] = (etype, ename)

    def _parts(self, table: str, target: pa.Schema, order: list[str]) -> Iterator[pa.Table]:
        for result, kept in zip(self.plan.results, self.plan.kept):  # one shard at a time
            part = same_key.kept_rows(shard_outputs.read(result, table), kept, target, order)
            if table == "articles":
                part = copies.mark_copies(part, self.found)
            elif table == "signatures":
                part = copies.point_signatures(part, self.found)
            self._tally(table, part)
            yield part

    def write(self) -> SourceReport:
        with ThreadPoolExecutor(max_workers=WRITER_THREADS, thread_name_prefix="write_lake") as pool:
            futures = {
                table: pool.submit(
                    lake.replace_partition,
                    self.lake_root,
                    table,
                    self.day,
                    self.name,
                    self._parts(table, target, order),
                )
                for table, (target, order) in STREAMED.items()
            }
            files = {table: future.result() for table, future in futures.items()}
        entity_rows = pa.table(
            [list(self.entities), [v[0] for v in self.entities.values()], [v[1] for v in self.entities.values()]],
            schema=schema.ENTITIES,
        ).sort_by("entity_id")
        rejects = pa.concat_tables(
            [shard_outputs.read(r, "rejects").cast(schema.REJECTS) for r in self.plan.results]
        ).sort_by([("source_file", "ascending"), ("record_no", "ascending")])
        for table, data in (("entities", entity_rows), ("rejects", rejects), ("duplicates", self.plan.duplicates)):
            files[table] = lake.replace_partition(self.lake_root, table, self.day, self.name, data)
        repairs = sum((Counter(r.get("repairs", {})) for r in self.plan.results), Counter())
        log.info(
            "lake %s %s: %d articles (%d copies of others), %d sentences, %d mentions, %d duplicates, %d rejects",
            self.day,
            self.name,
            self.rows["articles"],
            self.copies,
            self.rows["sentences"],
            self.rows["mentions"],
            self.plan.duplicates.num_rows,
            rejects.num_rows,
        )
        return SourceReport(
            records_in=sum(r["records_in"] for r in self.plan.results),
            loaded=self.rows["articles"],
            duplicates=self.plan.duplicates.num_rows,
            rejected=rejects.num_rows,
            sentences=self.rows["sentences"],
            mentions=self.rows["mentions"],
            copies=self.copies,
            files=files,
            repairs=dict(sorted(repairs.items())),
        )


def write_lake(shard_results: list[ShardResult], settings: Settings, day: str | None = None) -> LakeReport:
    """Resolve duplicates across the day's shards and replace the day's lake partitions."""
    began = time.perf_counter()
    day = day or shard_results[0]["day"]
    by_source: dict[str, list[ShardResult]] = {}
    for res in shard_results:
        by_source.setdefault(res["source"], []).append(res)
    plans = {name: plan_source(by_source[name], settings.lake) for name in sorted(by_source)}
    memory.release()  # what the transform left in the allocators, in a one-process run
    found = copies.find_copies(
        _day_signatures(plans, schema.SIGNATURES),
        sum(len(k) for plan in plans.values() for k in plan.kept),
        settings.lake,
        day,
        settings.dedup_days,
    )
    memory.release()  # the copy search's working arrays
    report = {name: SourceWriter(settings.lake, day, name, plan, found).write() for name, plan in plans.items()}
    failpoints.hit("lake_written")
    stages = {
        "fetch": max((r.get("fetch_seconds", 0.0) for r in shard_results), default=0.0),
        "transform": round(sum(r.get("seconds", 0.0) for r in shard_results), 3),
        "write_lake": round(time.perf_counter() - began, 3),
    }
    return LakeReport(
        day=day,
        lake=str(settings.lake),
        staging=sorted({r["staging"] for r in shard_results}),
        sources=report,
        stages=stages,
    )
