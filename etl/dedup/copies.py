"""The copy search of a day: its articles against each other and against earlier days in the lake.

``find_copies`` reads the day's signatures a shard at a time into one matrix (the only copy of
them held), and their second-stage columns (sketch, numbers, entities) into flat numpy arrays, a
shard at a time too, so that no Arrow copy of the day's columns is kept; then the signatures of
the ``days`` earlier days from the lake, and clusters them all (``etl.dedup.clusters``). Its result marks the articles (``mark_copies``) and the signatures the
lake keeps (``point_signatures``), so that later days follow a copy to its canonical article.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from etl import memory, schema
from etl.dedup import clusters, minhash, other_days, rewrites
from etl.load import lake

log = logging.getLogger("etl")


def window_start(day: str, days: int) -> str:
    """The first day of the ``days`` days before ``day``, saturating at ``date.min`` (a window
    reaching before year 1 starts there; no date arithmetic overflows)."""
    start = dt.date.fromisoformat(day).toordinal() - max(days, 0)
    return dt.date.fromordinal(max(start, dt.date.min.toordinal())).isoformat()


def history_signatures(
    lake_root: lake.Location,
    day: str,
    days: int | None = None,
    wanted: np.ndarray | Callable[[], np.ndarray] | None = None,
) -> pa.Table | None:
    """Signatures of the articles the lake holds from the ``days`` days before ``day`` (None: all).

    With ``wanted`` (the day's sketch values, sorted), each sketch is cut to those values as it is
    read, a record batch at a time, and its whole size kept as ``sketch_size``
    (``rewrites.restrict``): the window is held at the size of what it shares with the day.
    ``wanted`` may be a function that gives them, called only when there is a record batch to cut."""
    if not lake.table_exists(lake_root, "signatures"):
        return None
    window = ds.field("ingest_date") < day
    if days is not None:
        window &= ds.field("ingest_date") >= window_start(day, days)
    columns = [*schema.SIGNATURES.names, "ingest_date"]

    def read() -> pa.Table:
        data = other_days.lake_dataset(lake_root, "signatures")
        if wanted is None:
            return data.to_table(filter=window, columns=columns)
        parts = []
        for part in data.to_batches(filter=window, columns=columns):
            sketch, size = rewrites.restrict(part.column("sketch"), wanted() if callable(wanted) else wanted)
            table = pa.Table.from_batches([part]).drop_columns(["sketch"])
            parts.append(table.append_column("sketch", sketch).append_column("sketch_size", pa.array(size, pa.int32())))
        return pa.concat_tables(parts) if parts else pa.table({"article_id": pa.array([], pa.string())})

    table = other_days.retry_vanished(read)
    return table if table.num_rows else None


def find_copies(
    day_signatures: Iterable[pa.Table], total: int, lake_root: lake.Location, day: str, days: int | None
) -> pa.Table:
    """Copies among the day's loaded articles and against the ``days`` earlier days (None: all):
    ``clusters.find_duplicates``'s result. ``day_signatures`` yields the signature rows of the day's
    loaded articles a shard at a time, ``total`` rows in all."""
    if not total:
        return clusters.RESULT_SCHEMA.empty_table()
    matrix = np.empty((total, minhash.NUM_PERM), dtype=np.uint32)
    # the second stage's columns go flat a shard at a time, so the day's are held once, as numpy
    stage2: dict[str, list[rewrites.Flat]] = {name: [] for name in clusters.STAGE2}
    meta, at = [], 0
    for part in day_signatures:
        matrix[at : at + part.num_rows] = minhash.signature_matrix(part["signature"])
        at += part.num_rows
        for name, parts in stage2.items():
            parts.append(
                rewrites.flat(
                    part[name] if name in part.column_names else pa.nulls(part.num_rows, rewrites.list_type())
                )
            )
        meta.append(part.drop_columns([c for c in ("signature", *stage2) if c in part.column_names]))
    batch = pa.concat_tables(meta)
    del meta
    # made only when some earlier day has signatures to read, once
    wanted = functools.cache(lambda: rewrites.distinct_values(stage2["sketch"]))
    history = history_signatures(lake_root, day, days, wanted)
    wanted.cache_clear()
    memory.release()  # the sort behind ``wanted`` and the history's reading
    if history is not None:  # an article filed again on a later day is not a copy of its older self
        history = history.filter(pc.invert(pc.is_in(history["article_id"], value_set=batch["article_id"])))
    found = clusters.find_duplicates(batch, history, batch_signatures=matrix, batch_stage2=stage2)
    log.info(
        "dedup %s: %d of %d articles are copies (%d exact, %d near, %d rewrite), %d in stories",
        day,
        pc.sum(pc.is_valid(found["duplicate_of"])).as_py() or 0,
        batch.num_rows,
        *(pc.sum(pc.equal(found["kind"], kind)).as_py() or 0 for kind in ("exact", "near", "rewrite")),
        pc.sum(pc.is_valid(found["story_id"])).as_py() or 0,
    )
    return found


def found_for(ids: pa.Array | pa.ChunkedArray, found: pa.Table, column: str) -> pa.Array:
    """``column`` of the copy search's result for each of ``ids``; null where an id is no copy."""
    if not found.num_rows:
        return pa.nulls(len(ids), found.schema.field(column).type)
    return found[column].combine_chunks().take(pc.index_in(ids, value_set=found["article_id"]))


def mark_copies(articles: pa.Table, found: pa.Table) -> pa.Table:
    """Fill ``duplicate_of``, ``duplicate_kind``, ``duplicate_similarity`` and ``story_id`` from the search's result."""
    for name, col in (
        ("duplicate_of", "duplicate_of"),
        ("duplicate_kind", "kind"),
        ("duplicate_similarity", "similarity"),
        ("story_id", "story_id"),
    ):
        values = found_for(articles["article_id"], found, col).cast(schema.ARTICLES.field(name).type)
        articles = articles.set_column(articles.schema.get_field_index(name), name, values)
    return articles


def point_signatures(sigs: pa.Table, found: pa.Table) -> pa.Table:
    """The signatures with ``duplicate_of`` and ``story_id`` filled, so later days follow a copy to
    its canonical and an article to its story."""
    for name in ("duplicate_of", "story_id"):
        sigs = sigs.set_column(sigs.schema.get_field_index(name), name, found_for(sigs["article_id"], found, name))
    return sigs
