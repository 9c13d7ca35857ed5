"""Records of one source that carry the same article (same URL or id): the first loads, the rest are duplicates."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from etl import schema


def record_keys(table: pa.Table) -> pa.Array:
    """``file#record_no`` for each row: a record's identity within its dump."""
    nos = pc.cast(table["record_no"], pa.string())
    return pc.binary_join_element_wise(table["source_file"], nos, "#")


def first_of_each_key(keys: pa.Table) -> tuple[list[int], pa.Table]:
    """The rows of ``keys`` (article_id, source_file, record_no; in dump order) to load: the first of
    each ``article_id``. Returns their indices and a ``duplicates`` row for every other record,
    pointing at the record that loads."""
    first: dict[str, int] = {}
    keep: list[int] = []
    rows = []
    ids, files, nos = (keys[c].to_pylist() for c in ("article_id", "source_file", "record_no"))
    for i, aid in enumerate(ids):
        j = first.setdefault(aid, i)
        if j == i:
            keep.append(i)
        else:
            rows.append(
                {
                    "source_file": files[i],
                    "record_no": nos[i],
                    "article_id": aid,
                    "duplicate_of_file": files[j],
                    "duplicate_of_record_no": nos[j],
                    "reason": "same_key",
                }
            )
    return keep, pa.Table.from_pylist(rows, schema=schema.DUPLICATES)


def kept_rows(table: pa.Table | None, kept: pa.Array, target: pa.Schema, order: list[str]) -> pa.Table:
    """The rows of a shard's ``table`` whose record (``file#record_no``) is in ``kept``, sorted by
    article then ``order``, with ``target``'s columns."""
    if table is None or not table.num_rows:
        return target.empty_table()
    table = table.filter(pc.is_in(record_keys(table), value_set=kept))
    return table.sort_by([(k, "ascending") for k in ("article_id", *order)]).select(target.names).cast(target)
