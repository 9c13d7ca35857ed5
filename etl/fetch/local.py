"""Copy a local dump (a file, or a folder of files) into staging, reading nothing from outside it.

The URL itself may be a symbolic link (the operator named it), but it must lead to a regular file
or a folder: a FIFO, socket or device is a ``FetchError`` found by ``stat``, never opened. Inside a
folder only regular files and folders are read. Each entry is looked at without following links
and opened relative to its folder's descriptor with ``O_NOFOLLOW | O_NONBLOCK``, then checked
again on the open descriptor, so an entry swapped for a link or a FIFO between the look and the
open is refused too. A symbolic link (to a file outside the folder, to ``/dev/zero``, anywhere), a
FIFO, a socket, a device, a file over the size cap or with a name that is not UTF-8, a folder nested
deeper than ``MAX_DEPTH`` is refused as ``unsafe_file``; a file that cannot be opened is ``unreadable_file``. The rest of the folder is copied.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from etl.errors import FetchError, NoDumpError
from etl.fetch.limits import Deadline, LimitExceeded, Sink
from etl.records import UNREADABLE_FILE, UNSAFE_FILE

_CHUNK = 1 << 20
#: Folders nested deeper than this are not read (each level holds a descriptor while it is walked).
MAX_DEPTH = 64
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class Copied:
    """A regular file copied to staging: its path inside the dump, size and sha256."""

    rel: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Refused:
    """An entry of a dump folder that was not read, with the reason code and why."""

    rel: str
    reason: str
    detail: str


def kind_of(mode: int) -> str:
    """What a file of this mode is, in words."""
    for test, name in (
        (stat.S_ISREG, "regular file"),
        (stat.S_ISDIR, "folder"),
        (stat.S_ISLNK, "symbolic link"),
        (stat.S_ISFIFO, "FIFO (named pipe)"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return name
    return "special file"


def is_folder(path: str) -> bool:
    """Whether the local dump ``path`` is a folder; a missing path is a ``NoDumpError``, a path
    that is neither a regular file nor a folder a ``FetchError`` (messages name no path: the
    caller puts the URL in front)."""
    try:
        st = os.stat(path)  # the URL itself may be a link: the operator chose it
    except (FileNotFoundError, NotADirectoryError):
        raise NoDumpError("does not exist") from None
    except OSError as exc:
        raise FetchError(f"cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        return True
    if stat.S_ISREG(st.st_mode):
        return False
    raise FetchError(f"is a {kind_of(st.st_mode)}, not a file or a folder; refusing to read it")


def copy_file(path: str, target: Path, max_bytes: int, deadline_seconds: float) -> Copied:
    """Copy the local regular file ``path`` to ``target``; over the size cap is a ``FetchError``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise FetchError(f"cannot be opened: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FetchError(f"is a {kind_of(mode)}, not a file or a folder; refusing to read it")
        size, sha = _copy_fd(fd, target, max_bytes, deadline_seconds)
    except LimitExceeded as exc:
        raise FetchError(str(exc)) from None
    except OSError as exc:  # reading the dump, not writing staging (the Sink turns those into FetchError)
        raise FetchError(f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    return Copied(target.name, size, sha)


def copy_folder(
    path: str, raw_dir: Path, max_bytes: int, deadline_seconds: float
) -> tuple[list[Copied], list[Refused]]:
    """Copy every regular file under the folder ``path`` into ``raw_dir``; refuse everything else."""
    copied: list[Copied] = []
    refused: list[Refused] = []
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise FetchError(f"cannot be opened: {exc.strerror}") from None
    try:
        _walk(top, "", raw_dir, max_bytes, deadline_seconds, copied, refused)
    finally:
        os.close(top)
    return copied, refused


def _display(rel: str) -> str:
    """A path as text that any store takes: bytes that are not UTF-8 shown as ``\\xNN``."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _walk(
    dfd: int,
    prefix: str,
    raw_dir: Path,
    max_bytes: int,
    deadline_seconds: float,
    copied: list[Copied],
    refused: list[Refused],
) -> None:
    with os.scandir(dfd) as entries:
        names = sorted(e.name for e in entries)
    for name in names:
        rel = prefix + name
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            refused.append(Refused(_display(rel), UNSAFE_FILE, "its name is not valid UTF-8"))
            continue
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except OSError as exc:
            refused.append(Refused(rel, UNREADABLE_FILE, f"cannot be looked at: {exc.strerror}"))
            continue
        if stat.S_ISLNK(st.st_mode):
            try:
                target = os.readlink(name, dir_fd=dfd)
            except OSError:
                target = "?"
            refused.append(
                Refused(rel, UNSAFE_FILE, f"a symbolic link (to {_display(target)}); links in a dump are not followed")
            )
        elif stat.S_ISDIR(st.st_mode):
            if prefix.count("/") >= MAX_DEPTH:
                refused.append(Refused(rel, UNSAFE_FILE, f"a folder nested deeper than {MAX_DEPTH} levels; not read"))
                continue
            try:
                sub = os.open(name, _DIR_FLAGS, dir_fd=dfd)
            except OSError as exc:
                refused.append(Refused(rel, UNREADABLE_FILE, f"a folder that cannot be opened: {exc.strerror}"))
                continue
            try:
                _walk(sub, rel + "/", raw_dir, max_bytes, deadline_seconds, copied, refused)
            finally:
                os.close(sub)
        elif stat.S_ISREG(st.st_mode):
            outcome = _copy_entry(dfd, name, rel, raw_dir, max_bytes, deadline_seconds)
            (copied if isinstance(outcome, Copied) else refused).append(outcome)  # type: ignore[arg-type]
        else:
            refused.append(Refused(rel, UNSAFE_FILE, f"a {kind_of(st.st_mode)}, not a regular file; not read"))


def _copy_entry(
    dfd: int, name: str, rel: str, raw_dir: Path, max_bytes: int, deadline_seconds: float
) -> Copied | Refused:
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dfd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Refused(rel, UNSAFE_FILE, "became a symbolic link while the dump was read; not followed")
        return Refused(rel, UNREADABLE_FILE, f"cannot be opened: {exc.strerror}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Refused(rel, UNSAFE_FILE, f"a {kind_of(st.st_mode)}, not a regular file; not read")
        if st.st_size > max_bytes:
            return Refused(rel, UNSAFE_FILE, f"{st.st_size} bytes, over the {max_bytes} byte limit of one fetched file")
        size, sha = _copy_fd(fd, raw_dir / rel, max_bytes, deadline_seconds)
        return Copied(rel, size, sha)
    except LimitExceeded as exc:
        return Refused(rel, UNSAFE_FILE, f"grew to {exc}")
    except OSError as exc:  # reading the dump; a failed write to staging is a FetchError (Sink)
        return Refused(rel, UNREADABLE_FILE, f"cannot be read: {exc.strerror}")
    finally:
        os.close(fd)


def _copy_fd(fd: int, target: Path, max_bytes: int, deadline_seconds: float) -> tuple[int, str]:
    deadline = Deadline(deadline_seconds)
    with Sink(target, max_bytes) as sink:
        while chunk := os.read(fd, _CHUNK):
            sink.write(chunk)
            deadline.check()
    return sink.size, sink.sha256
