"""Safe expansion of ``.tar.gz``/``.tgz``/``.tar``, ``.zip`` and ``.gz`` dumps.

Every member lands inside the destination folder: absolute paths, ``..`` components, links
and device files are refused, and the total size and compression ratio are capped so that a
zip bomb stops with a clear error instead of filling the disk. A member that comes again (the
same path twice in one archive) is not written again: the first copy is kept, and the repeat is
listed with its position so that the fetch can reject it. A staging disk that fails (full, read
only) is a ``FetchError`` naming the file, not a broken archive.
"""

from __future__ import annotations

import gzip
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from etl.fetch.limits import DISK_ERRNOS, write_error

MAX_TOTAL_BYTES = 4 * 1024**3
MAX_RATIO = 200
_CHUNK = 1 << 20


class ArchiveError(ValueError):
    """An archive is corrupt or unsafe to expand."""


def archive_kind(name: str) -> str | None:
    n = name.lower()
    if n.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    if n.endswith(".tar"):
        return "tar"
    if n.endswith(".zip"):
        return "zip"
    if n.endswith(".gz"):
        return "gz"
    return None


def stem(name: str) -> str:
    """The archive's name without its archive suffix (``day.tar.gz`` -> ``day``)."""
    for suffix in (".tar.gz", ".tgz", ".tar", ".zip", ".gz"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Member:
    """A regular file of an archive: its position among the archive's members (1 for the first),
    where it was written, and whether an earlier member had already written that path."""

    position: int
    path: Path
    repeat: bool = False


def expand(archive: Path, dest: Path, max_total: int = MAX_TOTAL_BYTES, max_ratio: int = MAX_RATIO) -> list[Path]:
    """Expand ``archive`` into ``dest``; return the regular files written (each path once)."""
    return [m.path for m in expand_members(archive, dest, max_total, max_ratio) if not m.repeat]


def expand_members(
    archive: Path, dest: Path, max_total: int = MAX_TOTAL_BYTES, max_ratio: int = MAX_RATIO
) -> list[Member]:
    """Expand ``archive`` into ``dest``; return its regular files in archive order, repeats included."""
    kind = archive_kind(archive.name)
    _mkdir(dest)
    budget = min(max_total, max(archive.stat().st_size, 1) * max_ratio)
    try:
        if kind in ("tar.gz", "tar"):
            return _expand_tar(archive, dest, budget)
        if kind == "zip":
            return _expand_zip(archive, dest, budget)
        if kind == "gz":
            target = dest / stem(archive.name)
            with gzip.open(archive, "rb") as src, _create(target) as out:
                _copy_capped(src, out, budget, archive.name)
            return [Member(1, target)]
    except OSError as exc:
        if exc.errno in DISK_ERRNOS:
            raise write_error(exc.filename or dest, exc) from None
        raise ArchiveError(f"{archive.name}: corrupt or truncated {kind} archive ({exc})") from exc
    except ArchiveError:
        raise
    except (
        tarfile.TarError,
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        # RuntimeError: an encrypted zip member; NotImplementedError: a compression method zipfile lacks
        raise ArchiveError(f"{archive.name}: corrupt or truncated {kind} archive ({exc})") from exc
    raise ArchiveError(f"{archive.name}: not an archive")


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in DISK_ERRNOS:
            raise write_error(folder, exc) from None
        raise


def _create(target: Path):
    try:
        return open(target, "wb")
    except OSError as exc:
        if exc.errno in DISK_ERRNOS:
            raise write_error(target, exc) from None
        raise


def _safe_member(name: str, archive: str) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise ArchiveError(f"{archive}: member {name!r} would be written outside the staging folder")
    return p


def _copy_capped(src, out, budget: int, archive: str) -> int:
    written = 0
    while chunk := src.read(_CHUNK):
        written += len(chunk)
        if written > budget:
            raise ArchiveError(
                f"{archive}: expands past the {budget} byte limit "
                f"(size or compression-ratio cap); refusing a possible zip bomb"
            )
        try:
            out.write(chunk)
        except OSError as exc:
            raise write_error(out.name, exc) from None
    return written


def _expand_tar(archive: Path, dest: Path, budget: int) -> list[Member]:
    files: list[Member] = []
    written: set[Path] = set()
    used = 0
    with tarfile.open(archive, "r:*") as tar:
        for position, member in enumerate(tar, 1):
            rel = _safe_member(member.name, archive.name)
            if member.isdir():
                continue
            if not member.isfile():
                raise ArchiveError(f"{archive.name}: member {member.name!r} is a link or special file")
            target = dest / rel
            if target in written:
                files.append(Member(position, target, repeat=True))
                continue
            _mkdir(target.parent)
            src = tar.extractfile(member)
            # extractfile gives None only for a member that is not a regular file, refused above
            assert src is not None
            with src, _create(target) as out:
                used += _copy_capped(src, out, budget - used, archive.name)
            written.add(target)
            files.append(Member(position, target))
    return files


def _expand_zip(archive: Path, dest: Path, budget: int) -> list[Member]:
    files: list[Member] = []
    written: set[Path] = set()
    used = 0
    with zipfile.ZipFile(archive) as zf:
        for position, info in enumerate(zf.infolist(), 1):
            rel = _safe_member(info.filename, archive.name)
            if info.is_dir():
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise ArchiveError(f"{archive.name}: member {info.filename!r} is a symbolic link")
            target = dest / rel
            if target in written:
                files.append(Member(position, target, repeat=True))
                continue
            _mkdir(target.parent)
            with zf.open(info) as src, _create(target) as out:
                used += _copy_capped(src, out, budget - used, archive.name)
            written.add(target)
            files.append(Member(position, target))
    return files
