"""An article belongs to the day that first holds it: the same article filed again on another day is a duplicate.

The warehouse keeps one row per ``article_id`` (a hash of the source and the article's natural
key), so an article can be filed under one day only. When a day is written, a record whose
article is already held *as an article* by another day of the lake (same source) becomes a row of
``duplicates`` (reason ``same_article_other_day``) pointing at that day's record, in the lake and
so in the warehouse. The choice is stable: a re-run of either day, in any order, keeps the article
where it is, and never changes what another day holds.

The lookup reads only the ``article_id`` column (and the holder's provenance) of the source's other
partitions, filtered against the day's own ids as it is scanned, so memory follows the day and the
matches, not the lake. It spans every day, not the copy search's window: the warehouse's key does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from etl import schema
from etl.load import lake

REASON = "same_article_other_day"

#: What the lookup returns: one row per held article, the earliest day that holds it.
HELD = pa.schema(
    [("article_id", pa.string()), ("source_file", pa.string()), ("record_no", pa.int64()), ("ingest_date", pa.string())]
)

T = TypeVar("T")


def lake_dataset(lake_root: lake.Location, table: str) -> ds.Dataset:
    """A lake table as a ``pyarrow.dataset`` of its declared schema, partition columns as strings
    (a source named ``2024`` stays a string), skipping staged (``_tmp``) and hidden folders. The
    schema is given, not inferred: a table whose only partition is being swapped by another run
    has no file to infer it from, and reads as empty."""
    fs, root = lake.filesystem(lake_root)
    return ds.dataset(
        f"{root}/{table}",
        schema=pa.unify_schemas([schema.ALL[table].arrow, schema.PARTITIONING]),
        filesystem=lake.arrow_filesystem(fs),
        format="parquet",
        partitioning=ds.partitioning(schema.PARTITIONING, flavor="hive"),
        exclude_invalid_files=True,
        ignore_prefixes=[".", "_"],
    )


def retry_vanished(read: Callable[[], T], attempts: int = 5) -> T:
    """``read()``, again when a file it listed vanished before it was opened: another run of a day
    swapped that partition in the meantime (the lake replaces a partition whole, by renames)."""
    for attempt in range(attempts):
        try:
            return read()
        except FileNotFoundError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def held_elsewhere(lake_root: lake.Location, day: str, source: str, ids: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Which of ``ids`` another day of ``source`` holds as an article: one ``HELD`` row per id, the
    earliest such day (the lake of an older version may hold an article under several days)."""
    if not len(ids) or not lake.table_exists(lake_root, "articles"):
        return HELD.empty_table()
    wanted = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    where = (ds.field("source") == source) & (ds.field("ingest_date") != day) & ds.field("article_id").isin(wanted)
    found = retry_vanished(lambda: lake_dataset(lake_root, "articles").to_table(filter=where, columns=HELD.names))
    found = found.cast(HELD)
    if not found.num_rows:
        return HELD.empty_table()
    found = found.sort_by([("article_id", "ascending"), ("ingest_date", "ascending"), ("source_file", "ascending")])
    ids_sorted = found["article_id"].to_pylist()
    first = [i for i, aid in enumerate(ids_sorted) if i == 0 or ids_sorted[i - 1] != aid]
    return found.take(pa.array(first, pa.int64()))


def duplicate_rows(records: pa.Table, held: pa.Table) -> pa.Table:
    """A ``duplicates`` row for every record of ``records`` (article_id, source_file, record_no)
    whose article ``held`` says another day holds, pointing at that day's record."""
    mine = records.filter(pc.is_in(records["article_id"], value_set=held["article_id"]))
    at = pc.index_in(mine["article_id"], value_set=held["article_id"])
    return pa.table(
        {
            "source_file": mine["source_file"],
            "record_no": mine["record_no"],
            "article_id": mine["article_id"],
            "duplicate_of_file": held["source_file"].take(at),
            "duplicate_of_record_no": held["record_no"].take(at),
            "reason": pa.array([REASON] * mine.num_rows, pa.string()),
        }
    ).cast(schema.DUPLICATES)
