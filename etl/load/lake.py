"""The Parquet lake: hive-partitioned tables, one partition per (day, source), on a local disk or an object store.

Layout: ``<lake>/<table>/ingest_date=YYYY-MM-DD/source=NAME/part-00000.parquet``. ``<lake>`` is a
local folder (a ``Path``, or a string without a scheme) or any fsspec URL such as
``s3://bucket/prefix`` (``resolve``); every read and write goes through the location's fsspec
filesystem, and, where pyarrow wants a filesystem, through ``arrow_filesystem`` (pyarrow's own
for a local folder, ``PyFileSystem(FSSpecHandler(fs))`` otherwise). Files hold no run metadata,
so the same input always gives byte-identical Parquet, on either kind of storage.

A partition is always written whole into ``<lake>/_tmp/`` first, so a run that dies while it
writes leaves the partition as it was. How the new files then replace the old differs:

* A local folder is swapped in with renames: the old folder is moved aside in one rename, the
  staged folder renamed into its place. A reader never sees a partial file nor a mixture of two
  versions of a partition; it may, for the instant between the two renames, see no partition.
  When two runs of the same day swap a partition at the same time, the last rename wins and
  both are complete.
* An object store has no rename of a folder. The staged files are copied (server-side) to their
  final names, overwriting the old files of the same name, then every other file of the
  partition is deleted, then the staged copies. Each object appears whole (a PUT or COPY is
  atomic), but for the moment of the copies and deletes (one request per file, well under a
  second for a day's partition) a reader that lists the partition may see new files beside old
  ones, and one that listed it just before may find a file gone when it opens it. A re-run is
  idempotent: the same input gives the same names and bytes, and the deletes remove what an
  earlier, larger version left. Two runs replacing the same partition at once with different
  rows can leave a mixture (and each may delete the other's extra files): run one writer of a
  (day, source) at a time; a re-run repairs it. A run killed while writing leaves its staged
  objects under ``_tmp/``, which readers skip (``_``-prefixed); they can be deleted at any time
  no run is writing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from etl import failpoints, housekeeping
from etl.errors import StorageError
from etl.settings import lake_location

ROWS_PER_FILE = 200_000
TMP = "_tmp"

Location = Path | str  # a local folder, or an fsspec URL (``s3://bucket/prefix``)


def resolve(location: str | os.PathLike) -> Location:
    """A lake location as a ``Path`` (a local folder, also from a ``file://`` URL) or a URL string."""
    return lake_location(location)


def filesystem(lake: Location) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem holding the lake and the lake's root path on it.

    Storage options come from the environment as fsspec and the filesystem's package read them
    (for S3: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, or
    ``FSSPEC_S3_KEY``/``FSSPEC_S3_SECRET``/``FSSPEC_S3_ENDPOINT_URL``).
    """
    lake = resolve(lake)
    if isinstance(lake, Path):
        return LocalFileSystem(), lake.absolute().as_posix()
    fs, root = fsspec.core.url_to_fs(lake)
    return fs, root.rstrip("/")


def arrow_filesystem(fs: fsspec.AbstractFileSystem) -> pafs.FileSystem:
    """A pyarrow filesystem over ``fs``: pyarrow's own for a local disk, else fsspec's through a handler."""
    if isinstance(fs, LocalFileSystem):
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def _relative(table: str, day: str, source: str, name: str = "") -> str:
    """A partition's folder (or a file in it, ``name``) relative to the lake's root."""
    folder = f"{table}/ingest_date={day}/source={source}"
    return f"{folder}/{name}" if name else folder


def partition_dir(lake: Location, table: str, day: str, source: str) -> Location:
    """The partition's folder: a ``Path`` for a local lake, a URL for any other."""
    lake = resolve(lake)
    tail = _relative(table, day, source)
    return lake / tail if isinstance(lake, Path) else f"{lake}/{tail}"


def replace_partition(
    lake: Location, table: str, day: str, source: str, data: pa.Table | Iterable[pa.Table]
) -> list[str]:
    """Make ``data`` the whole content of one partition; no rows removes the partition.

    ``data`` is a table, or tables written one after another (a shard at a time, so a day never
    needs to sit whole in memory). Returns the written files relative to ``lake``. A storage fault
    (a full disk, a quota, a read-only or forbidden lake) is a ``StorageError`` naming the
    partition and the file; the staged files are removed and the partition keeps its old files.
    """
    lake = resolve(lake)
    fs, root = filesystem(lake)
    final = f"{root}/{_relative(table, day, source)}"
    hold = None
    if isinstance(lake, Path):  # locked while it exists, so no other run's sweep takes it for a leftover
        with housekeeping.writing(lake / TMP, housekeeping.LAKE_ERRNOS, "create the lake's staging folder"):
            hold = housekeeping.claim(lake / TMP / housekeeping.entry_name(table))
        assert hold is not None
        staged = hold.path.as_posix()
    else:
        staged = f"{root}/{TMP}/{housekeeping.entry_name(table)}"
    names: list[str] = []
    current = staged
    try:
        sink = arrow_filesystem(fs)
        for part in [data] if isinstance(data, pa.Table) else data:
            for start in range(0, part.num_rows, ROWS_PER_FILE):
                name = f"part-{len(names):05d}.parquet"
                current = f"{staged}/{name}"
                pq.write_table(part.slice(start, ROWS_PER_FILE), current, compression="zstd", filesystem=sink)
                names.append(name)
                failpoints.hit("lake_file")
        current = final
        if isinstance(lake, Path):
            _swap_local(lake, Path(staged), Path(final), bool(names))
        else:
            _swap_objects(fs, staged, final, names)
    except BaseException as exc:
        _remove_staged(fs, staged)
        cause = housekeeping.storage_cause(exc, housekeeping.LAKE_ERRNOS) if isinstance(exc, Exception) else None
        if cause is None or isinstance(exc, StorageError):
            raise
        raise housekeeping.storage_error(
            cause, current, "write lake partition", f"{final} keeps its old files"
        ) from exc
    finally:
        if hold is not None:
            hold.release()
    return [_relative(table, day, source, n) for n in names]


def _remove_staged(fs: fsspec.AbstractFileSystem, staged: str) -> None:
    if isinstance(fs, LocalFileSystem):
        shutil.rmtree(staged, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            fs.rm(staged, recursive=True)


def _swap_local(lake: Path, staged: Path, final: Path, any_rows: bool) -> None:
    """Rename the staged folder into the partition's place, the old one set aside first and deleted
    after; when the rename fails for another reason than a concurrent writer, the old one goes back."""
    tmp_root = lake / TMP
    if not any_rows:
        staged.rmdir()
        _retire(final, tmp_root)
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(10):  # another run of the same day may swap in its partition at the same moment
        old = housekeeping.set_aside(final, tmp_root, "old")
        try:
            staged.rename(final)
        except OSError as exc:
            if old is not None and exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                with contextlib.suppress(OSError):
                    old.path.rename(final)
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            continue
        finally:
            if old is not None:
                shutil.rmtree(old.path, ignore_errors=True)  # gone when it went back into place
                old.release()
        return
    raise RuntimeError(f"could not replace lake partition {final}: another writer kept replacing it")


def _retire(final: Path, tmp_root: Path) -> None:
    """Move a partition out of the table (one rename), then delete it."""
    old = housekeeping.set_aside(final, tmp_root, "old")
    if old is not None:
        shutil.rmtree(old.path, ignore_errors=True)
        old.release()


def _swap_objects(fs: fsspec.AbstractFileSystem, staged: str, final: str, names: list[str]) -> None:
    """Copy the staged files over the partition's, delete the partition's other files, then the staged ones."""
    if names:
        fs.copy([f"{staged}/{n}" for n in names], [f"{final}/{n}" for n in names])
    keep = {f"{final}/{n}" for n in names}
    gone = [p for p in _list_files(fs, final) if p not in keep] + [f"{staged}/{n}" for n in names]
    if gone:
        fs.rm(gone)  # one bulk delete: the old partition's other files and the staged copies
    fs.invalidate_cache(staged)


def _list_files(fs: fsspec.AbstractFileSystem, folder: str) -> list[str]:
    """Every file directly in ``folder``, sorted by name (none when it does not exist); no cached listing."""
    fs.invalidate_cache(folder)
    try:
        entries = fs.ls(folder, detail=True)
    except FileNotFoundError:
        return []
    return sorted(e["name"].rstrip("/") for e in entries if e["type"] == "file")


def partition_files(lake: Location, table: str, day: str, source: str) -> list[str]:
    """The partition's Parquet files, in name order, as paths on ``filesystem(lake)[0]``."""
    fs, root = filesystem(lake)
    return [p for p in _list_files(fs, f"{root}/{_relative(table, day, source)}") if p.endswith(".parquet")]


def open_parquet(lake: Location, path: str) -> pq.ParquetFile:
    """A Parquet file of the lake (a path from ``partition_files``), read through the lake's filesystem."""
    return pq.ParquetFile(path, filesystem=arrow_filesystem(filesystem(lake)[0]))


def open_partition(lake: Location, table: str, day: str, source: str, attempts: int = 5) -> list[pq.ParquetFile]:
    """Every Parquet file of one partition, opened together, in name order (close them after).

    Another run of the same day may swap the partition between its listing and the opening of a
    file (the old files are renamed aside, then deleted): the partition is then listed and opened
    again. Once open, a local file stays readable whatever happens to its name."""
    for attempt in range(attempts):
        opened: list[pq.ParquetFile] = []
        try:
            for path in partition_files(lake, table, day, source):
                opened.append(open_parquet(lake, path))
            return opened
        except FileNotFoundError:
            for f in opened:
                f.close()
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def read_partition(lake: Location, table: str, day: str, source: str, schema: pa.Schema) -> pa.Table:
    """Read one partition back whole (an absent partition reads as an empty table)."""
    return pa.Table.from_batches(list(iter_partition(lake, table, day, source, schema)), schema)


def iter_partition(
    lake: Location, table: str, day: str, source: str, schema: pa.Schema, batch_size: int = 5_000
) -> Iterator[pa.RecordBatch]:
    """Read one partition back a batch at a time, so a large day never sits whole in memory; its
    files are opened together first (``open_partition``), so a concurrent swap cannot take one away;
    each is let go once read (``each_file``)."""
    for f in each_file(lake, table, day, source):
        yield from f.iter_batches(batch_size=batch_size, columns=schema.names)


def each_file(lake: Location, table: str, day: str, source: str) -> Iterator[pq.ParquetFile]:
    """The files of one partition, opened together (``open_partition``) and handed out one at a
    time: each is closed and let go when the caller moves on, the rest closed when it stops. A
    ``ParquetFile`` keeps what it read in memory until it is dropped, closed or not."""
    files = open_partition(lake, table, day, source)
    try:
        while files:
            with files.pop(0) as f:
                yield f
    finally:
        for rest in files:
            rest.close()


def table_exists(lake: Location, table: str) -> bool:
    """Whether the lake holds any partition of ``table``; forgets cached listings, so a reader that
    follows (a ``pyarrow.dataset`` over the table) sees what other processes wrote since."""
    fs, root = filesystem(lake)
    fs.invalidate_cache()
    return fs.isdir(f"{root}/{table}")
