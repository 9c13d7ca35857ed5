"""The Parquet lake: hive-partitioned tables, written atomically, one partition per (day, source).

Layout: ``<lake>/<table>/ingest_date=YYYY-MM-DD/source=NAME/part-00000.parquet``. A partition is
built in ``<lake>/_tmp/`` and swapped in with renames, so readers never see a partial file,
and a re-run of a day replaces exactly that day's partitions of the sources it ran.
Files hold no run metadata, so the same input always gives byte-identical Parquet. When two runs
of the same day swap a partition at the same time, the last rename wins and both are complete.
"""

from __future__ import annotations

import errno
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl import failpoints

ROWS_PER_FILE = 200_000
TMP = "_tmp"


def partition_dir(lake: Path, table: str, day: str, source: str) -> Path:
    return lake / table / f"ingest_date={day}" / f"source={source}"


def replace_partition(lake: Path, table: str, day: str, source: str,
                      data: pa.Table | Iterable[pa.Table]) -> list[str]:
    """Make ``data`` the whole content of one partition; no rows removes the partition.

    ``data`` is a table, or tables written one after another (a shard at a time, so a day never
    needs to sit whole in memory). Returns the written files relative to ``lake``.
    """
    final = partition_dir(lake, table, day, source)
    tmp_root = lake / TMP
    tmp_root.mkdir(parents=True, exist_ok=True)
    staged = tmp_root / f"{table}-{uuid.uuid4().hex}"
    staged.mkdir()
    files = []
    try:
        for part in ([data] if isinstance(data, pa.Table) else data):
            for start in range(0, part.num_rows, ROWS_PER_FILE):
                name = f"part-{len(files):05d}.parquet"
                pq.write_table(part.slice(start, ROWS_PER_FILE), staged / name, compression="zstd")
                files.append(str((final / name).relative_to(lake)))
                failpoints.hit("lake_file")
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    if not files:
        staged.rmdir()
        _retire(final, tmp_root)
        return files
    final.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(10):  # another run of the same day may swap in its partition at the same moment
        _retire(final, tmp_root)
        try:
            staged.rename(final)
            break
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    else:
        raise RuntimeError(f"could not replace lake partition {final}: another writer kept replacing it")
    return files


def _retire(final: Path, tmp_root: Path) -> None:
    """Move a partition out of the table (one rename), then delete it."""
    old = tmp_root / f"old-{uuid.uuid4().hex}"
    try:
        final.rename(old)
    except FileNotFoundError:
        return
    shutil.rmtree(old, ignore_errors=True)


def read_partition(lake: Path, table: str, day: str, source: str, schema: pa.Schema) -> pa.Table:
    """Read one partition back whole (an absent partition reads as an empty table)."""
    return pa.Table.from_batches(list(iter_partition(lake, table, day, source, schema)), schema)


def iter_partition(lake: Path, table: str, day: str, source: str, schema: pa.Schema,
                   batch_size: int = 5_000) -> Iterator[pa.RecordBatch]:
    """Read one partition back a batch at a time, so a large day never sits whole in memory."""
    folder = partition_dir(lake, table, day, source)
    for path in sorted(folder.glob("*.parquet")) if folder.exists() else []:
        with pq.ParquetFile(path) as f:
            for batch in f.iter_batches(batch_size=batch_size, columns=schema.names):
                yield batch
