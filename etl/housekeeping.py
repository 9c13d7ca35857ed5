"""Leftovers of killed runs, and storage that cannot be written.

**Leftovers.** A run works in two kinds of scratch space: its staging folder
``<data>/staging/<day>/<run>/`` (the fetched files, the shard outputs, the manifests) and, while it
replaces a lake partition, an entry of ``<lake>/_tmp/`` (the staged partition, or the old one set
aside). A run that finishes clears what it no longer needs (``etl.tasks.check.clear_staging``
marks its staging folder *checked*, kept for its manifests). A run that is killed (SIGKILL, a lost
worker, a machine that went down) leaves both behind. Every run's fetch (``tidy``) removes the
leftovers of the killed runs of **its own day** and every dead entry of ``<lake>/_tmp/``, and logs
one line naming them and the bytes freed. Staging folders of other days are never touched (a
paused Airflow run of another day may still need them); re-run that day, or delete them by hand.

**Liveness.** Two runs of one day may run at once, and under Airflow the tasks of one run are
separate processes, possibly on different machines sharing the data dir, with pauses between
them. An entry is removed only when it is proven dead:

* *Locks.* Every process working in an entry holds an ``fcntl.flock`` on the entry's directory for
  as long as it works there: ``urdu-etl run|ingest`` holds a shared lock on its staging folder from
  its start to its end (``hold_run``), so does an Airflow ``fetch`` task while it fetches; a lake
  writer holds an exclusive lock on its ``_tmp`` entry from its creation to its removal. A cleaner
  takes the lock without waiting: if it cannot, someone is working there right now and the entry
  stays. Entries are created, and set aside, under a shared lock of their parent folder, which a
  cleaner takes exclusively while it looks, so it never sees an entry before its owner locks it.
* *Whose lock it is.* A lock only proves something on the kernel that took it (``flock`` on a
  network share is not seen across machines, or not taken at all). Each entry says which kernel
  made it (the boot id, else the host name): a staging folder in its ``.owner.json``, a ``_tmp``
  entry in its name. An entry that is unlocked, was made on this kernel, and whose maker holds its
  lock for all the entry's life (a single-process run's staging folder, any ``_tmp`` entry) is
  dead: it is removed at once.
* *Age.* Anything else (a folder of an Airflow run, whose tasks hold no lock between them; one made
  on another machine; a share where locks fail; a lake on an object store, ``s3://``, which has no
  locks) is removed only when unlocked and its newest file or folder is older than
  ``URDU_ETL_STALE_AFTER`` (6 hours): longer than a run pauses between its tasks, retries
  included. Set it longer when tasks may wait longer (a pool that is full for hours, a task cleared
  by hand the next day).

A checked run's folder is never removed. A removed staging folder is first renamed (to
``.gone-*``), so a run resumed under the same id never finds half of its old shard outputs.
A killed run that is resumed (``--run-id``) after another run of its day swept it only redoes its
shards.

**Storage that cannot be written.** A full disk (``ENOSPC``), a used-up quota (``EDQUOT``), a file
larger than the file system or the process allows (``EFBIG``), a read-only file system
(``EROFS``), and on the lake permission denied (``EACCES``, ``EPERM``) are a ``StorageError``
(``StorageFull`` for the first two, which may pass), one line naming the path, exit code 7 on the
command line (``etl/errors.py``). What the failed write had staged is removed; a lake partition
keeps its old files (``etl.load.lake``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from etl.errors import EtlError, FetchError, StorageError, StorageFull

log = logging.getLogger("etl")

OWNER = ".owner.json"
GONE = ".gone-"

#: Write errors that say the storage, not the data, is at fault (any write).
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})
#: On the lake, where every call writes, a refused permission is one too.
LAKE_ERRNOS = WRITE_ERRNOS | {errno.EACCES, errno.EPERM}


def _kernel() -> str:
    """Which kernel this process runs on: processes that share it see each other's ``flock``."""
    with contextlib.suppress(OSError):
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    return socket.gethostname()


KERNEL = _kernel()
#: The kernel's short tag, as ``_tmp`` entry names carry it.
KERNEL_TAG = hashlib.sha256(KERNEL.encode()).hexdigest()[:8]


# ---------------------------------------------------------------- locks


class Lock:
    """An open directory with an ``flock`` on it (``locked`` is False where the file system has none)."""

    def __init__(self, path: Path, fd: int, locked: bool):
        self.path, self.fd, self.locked = path, fd, locked

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the last descriptor drops the flock
            self.fd = -1

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()


def _flock(fd: int, exclusive: bool, wait: bool) -> bool | None:
    """Lock ``fd``: True when locked, False when someone else holds it, None when locks fail here."""
    op = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(fd, op)
        return True
    except BlockingIOError:
        return False
    except OSError as exc:  # ENOLCK, EBADF (an exclusive flock over NFS on a read-only fd), EOPNOTSUPP
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            return False
        return None


def _open_dir(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        return None


@contextlib.contextmanager
def _guard(parent: Path, exclusive: bool) -> Iterator[None]:
    """The parent folder's lock: shared while an entry is made or set aside, exclusive while a cleaner looks."""
    fd = _open_dir(parent)
    try:
        if fd is not None:
            _flock(fd, exclusive, wait=True)
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _same(path: Path, fd: int) -> bool:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def claim(folder: Path, exclusive: bool = True, create: bool = True) -> Lock | None:
    """Lock ``folder`` for as long as the returned ``Lock`` lives, making it first when ``create``.

    Waits while another process holds it (a cleaner removing it, another writer retiring it); when
    it was removed or replaced meanwhile, starts again. None: ``create`` is false and it does not exist.
    """
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        with _guard(parent, exclusive=False):
            if create:
                folder.mkdir(exist_ok=True)
            fd = _open_dir(folder)
            if fd is None:
                return None
            got = _flock(fd, exclusive, wait=False)
            if got is not False:
                return Lock(folder, fd, bool(got))
        _flock(fd, exclusive, wait=True)
        if _same(folder, fd):
            return Lock(folder, fd, True)
        os.close(fd)


def set_aside(folder: Path, tmp_root: Path, prefix: str) -> Lock | None:
    """Move ``folder`` into ``tmp_root`` under a new name (one rename), locked; None when it does not exist."""
    while True:
        fd = _open_dir(folder)
        if fd is None:
            return None
        got = _flock(fd, exclusive=True, wait=True)
        if not _same(folder, fd):  # another writer moved it first
            os.close(fd)
            continue
        tmp_root.mkdir(parents=True, exist_ok=True)
        aside = tmp_root / entry_name(prefix)
        with _guard(tmp_root, exclusive=False):
            try:
                folder.rename(aside)
            except FileNotFoundError:
                os.close(fd)
                continue
        return Lock(aside, fd, bool(got))


def entry_name(prefix: str) -> str:
    """A new ``_tmp`` entry's name: what it holds, the kernel of its maker, a random part."""
    return f"{prefix}-{KERNEL_TAG}-{uuid.uuid4().hex}"


# ---------------------------------------------------------------- holding a run's staging folder

_held: dict[str, Lock] = {}


def run_folder(staging: Path, day: str, run_id: str) -> Path:
    from etl.tasks.fetch import run_key  # the fetch task names the folders

    return staging / day / run_key(run_id)


def hold_run(staging: Path, day: str, run_id: str, single_process: bool) -> Path:
    """Lock the run's staging folder (made if need be) until this process ends or ``finish`` is called.

    ``single_process``: this process holds the lock to the run's end (``urdu-etl run|ingest``), so
    an unlocked folder of it is a dead run's. A process that holds the folder already keeps its hold.
    """
    folder = run_folder(staging, day, run_id)
    if str(folder) in _held:
        return folder
    with writing(folder, WRITE_ERRNOS):
        lock = claim(folder, exclusive=False)
        assert lock is not None
        owner = {"kernel": KERNEL, "host": socket.gethostname(), "pid": os.getpid(), "holds_lock": single_process}
        (folder / OWNER).write_text(json.dumps(owner), encoding="utf-8")
    _held[str(folder)] = lock
    return folder


def finish(folder: Path) -> None:
    """Mark a checked run's staging folder as kept (its manifests), never a leftover; drop this process's hold."""
    if folder.is_dir():
        with writing(folder, WRITE_ERRNOS):
            (folder / OWNER).write_text(json.dumps({"state": "checked", "kernel": KERNEL}), encoding="utf-8")
    lock = _held.pop(str(folder), None)
    if lock is not None:
        lock.release()


def _owner(folder: Path) -> dict[str, Any]:
    try:
        owner = json.loads((folder / OWNER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


# ---------------------------------------------------------------- sweeping


def _walk(path: Path) -> tuple[int, float]:
    """Bytes of the files under ``path`` and the newest modification time of anything there."""
    size, newest = 0, 0.0
    try:
        st = path.lstat()
    except FileNotFoundError:
        return 0, 0.0
    newest = st.st_mtime
    if not path.is_dir() or path.is_symlink():
        return st.st_size, newest
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            with contextlib.suppress(FileNotFoundError):
                st = os.lstat(os.path.join(top, name))
                newest = max(newest, st.st_mtime)
                if name in files:
                    size += st.st_size
    return size, newest


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _stale(path: Path, stale_after: float, now: float) -> bool:
    return now - _walk(path)[1] >= stale_after


def _sweep_staging(day_dir: Path, keep: str, stale_after: float) -> list[tuple[str, int]]:
    """Remove the dead run folders of one day's staging (never ``keep``, never a checked one)."""
    if not day_dir.is_dir():
        return []
    now, doomed = time.time(), []
    with _guard(day_dir, exclusive=True):
        for entry in sorted(day_dir.iterdir()):
            if entry.name == keep or entry.is_symlink() or not entry.is_dir():
                continue
            if entry.name.startswith(".") and not entry.name.startswith(GONE):
                continue
            fd = _open_dir(entry)
            if fd is None:
                continue
            lock = Lock(entry, fd, False)
            got = _flock(fd, exclusive=True, wait=False)
            if got is False:  # a live process works there
                lock.release()
                continue
            owner = _owner(entry)
            if owner.get("state") == "checked":
                lock.release()
                continue
            proven = got and (
                entry.name.startswith(GONE) or (owner.get("holds_lock") and owner.get("kernel") == KERNEL)
            )
            if not proven and not _stale(entry, stale_after, now):
                lock.release()
                continue
            gone = entry if entry.name.startswith(GONE) else day_dir / f"{GONE}{uuid.uuid4().hex}"
            with contextlib.suppress(FileNotFoundError):
                entry.rename(gone)
                doomed.append((entry, gone, lock))
                continue
            lock.release()
    removed = []
    for entry, gone, lock in doomed:
        size = _walk(gone)[0]
        _remove(gone)
        lock.release()
        removed.append((f"staging/{day_dir.name}/{entry.name}", size))
    return removed


def _tmp_tag(name: str) -> str | None:
    """The kernel tag in a ``_tmp`` entry's name (``<what>-<tag>-<random>``); None in older names."""
    parts = name.split("-")
    return parts[1] if len(parts) == 3 and len(parts[1]) == 8 else None


def _sweep_local_tmp(tmp_root: Path, stale_after: float) -> list[tuple[str, int]]:
    """Remove the dead entries of a local lake's ``_tmp``."""
    if not tmp_root.is_dir():
        return []
    now, doomed = time.time(), []
    with _guard(tmp_root, exclusive=True):
        for entry in sorted(tmp_root.iterdir()):
            fd = _open_dir(entry)
            lock = Lock(entry, -1 if fd is None else fd, False)
            got = None if fd is None else _flock(fd, exclusive=True, wait=False)
            if got is False:
                continue
            if (got and _tmp_tag(entry.name) == KERNEL_TAG) or _stale(entry, stale_after, now):
                doomed.append((entry, lock))
            else:
                lock.release()
    removed = []
    for entry, lock in doomed:
        size = _walk(entry)[0]
        _remove(entry)
        lock.release()
        removed.append((f"lake/_tmp/{entry.name}", size))
    return removed


def _modified(info: dict[str, Any]) -> float:
    """An object's modification time from an fsspec listing (s3fs ``LastModified``, else ``mtime``/``created``)."""
    for key in ("LastModified", "mtime", "created"):
        value = info.get(key)
        if value is None:
            continue
        return value.timestamp() if hasattr(value, "timestamp") else float(value)
    return 0.0


def _sweep_remote_tmp(lake_root: str, stale_after: float) -> list[tuple[str, int]]:
    """Remove the entries of an object store lake's ``_tmp`` that no write touched for ``stale_after``."""
    from etl.load import lake

    fs, root = lake.filesystem(lake_root)
    tmp = f"{root}/{lake.TMP}"
    fs.invalidate_cache(tmp)
    try:
        entries = fs.ls(tmp, detail=True)
    except FileNotFoundError:
        return []
    now, removed = time.time(), []
    for entry in entries:
        name = entry["name"].rstrip("/")
        files = fs.find(name, detail=True) if entry["type"] == "directory" else {name: entry}
        if not files or now - max(_modified(i) for i in files.values()) < stale_after:
            continue
        with contextlib.suppress(FileNotFoundError):
            fs.rm(list(files), recursive=False)
        removed.append(
            (f"lake/{lake.TMP}/{name.rsplit('/', 1)[-1]}", sum(int(i.get("size") or 0) for i in files.values()))
        )
    return removed


def sweep(staging: Path, lake_root: Path | str, day: str, keep: str, stale_after: float) -> list[tuple[str, int]]:
    """Remove the killed runs' leftovers of ``day`` (staging, never the folder ``keep``) and the lake's
    dead ``_tmp`` entries; log one line of what went, and how many bytes. Returns (name, bytes)."""
    from etl.load import lake

    removed = _sweep_staging(staging / day, keep, stale_after)
    if isinstance(lake_root, Path):
        removed += _sweep_local_tmp(lake_root / lake.TMP, stale_after)
    else:
        removed += _sweep_remote_tmp(lake_root, stale_after)
    if removed:
        names = ", ".join(n for n, _ in removed[:5]) + (f" and {len(removed) - 5} more" if len(removed) > 5 else "")
        log.info(
            "removed leftovers of killed runs: %s (%d entries, %d bytes)",
            names,
            len(removed),
            sum(b for _, b in removed),
        )
    return removed


def tidy(settings: Any, day: Any, run_id: str) -> Path:
    """What a run's fetch does first: hold its staging folder, then sweep the killed runs' leftovers."""
    day = str(day)
    folder = hold_run(settings.staging, day, run_id, single_process=False)
    from etl.load import lake

    sweep(settings.staging, lake.resolve(settings.lake), day, folder.name, settings.stale_after)
    return folder


# ---------------------------------------------------------------- storage errors


def storage_cause(exc: BaseException, errnos: frozenset[int] = WRITE_ERRNOS) -> OSError | None:
    """The ``OSError`` of a storage fault among ``exc`` and its causes, if any."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in errnos:
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


def storage_error(cause: OSError, path: Path | str, what: str = "write", then: str = "") -> StorageError:
    """A one-line ``StorageError`` (``StorageFull`` for a full disk or quota) naming the file that
    failed (``path`` when the error does not name one), and ``then``, what became of the rest."""
    code = cause.errno or 0
    cls = StorageFull if code in (errno.ENOSPC, errno.EDQUOT) else StorageError
    where = cause.filename or path
    tail = f"; {then}" if then else ""
    return cls(f"cannot {what} {where}: {os.strerror(code)} ({errno.errorcode.get(code, code)}){tail}")


@contextlib.contextmanager
def writing(path: Path | str, errnos: frozenset[int] = WRITE_ERRNOS, what: str = "write") -> Iterator[None]:
    """Turn a storage fault inside the block into a ``StorageError`` naming ``path``."""
    try:
        yield
    except StorageError:
        raise
    except EtlError as exc:
        cause = storage_cause(exc, errnos) if isinstance(exc, FetchError) else None
        if cause is None:
            raise
        raise storage_error(cause, path, what) from exc
    except Exception as exc:
        cause = storage_cause(exc, errnos)
        if cause is None:
            raise
        raise storage_error(cause, path, what) from exc


F = TypeVar("F", bound=Callable[..., Any])


def storage_errors(where: Callable[[Any], Path]) -> Callable[[F], F]:
    """Decorate a task: a storage fault escaping it becomes a ``StorageError`` naming the failing file,
    else ``where(settings)`` (``settings``: the call's ``Settings`` argument)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from etl.settings import Settings

            settings = next((a for a in (*args, *kwargs.values()) if isinstance(a, Settings)), None)
            with writing(where(settings) if settings is not None else "the data dir"):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
