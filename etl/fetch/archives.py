"""Safe expansion of ``.tar.gz``/``.tgz``/``.tar``, ``.zip`` and ``.gz`` dumps.

Every member lands inside the destination folder: absolute paths, ``..`` components, links
and device files are refused, and the total size and compression ratio are capped so that a
zip bomb stops with a clear error instead of filling the disk.
"""

from __future__ import annotations

import gzip
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

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


def expand(archive: Path, dest: Path, max_total: int = MAX_TOTAL_BYTES, max_ratio: int = MAX_RATIO) -> list[Path]:
    """Expand ``archive`` into ``dest``; return the regular files written."""
    kind = archive_kind(archive.name)
    dest.mkdir(parents=True, exist_ok=True)
    budget = min(max_total, max(archive.stat().st_size, 1) * max_ratio)
    try:
        if kind in ("tar.gz", "tar"):
            return _expand_tar(archive, dest, budget)
        if kind == "zip":
            return _expand_zip(archive, dest, budget)
        if kind == "gz":
            target = dest / stem(archive.name)
            with gzip.open(archive, "rb") as src, open(target, "wb") as out:
                _copy_capped(src, out, budget, archive.name)
            return [target]
    except (tarfile.TarError, zipfile.BadZipFile, gzip.BadGzipFile, EOFError, OSError) as exc:
        raise ArchiveError(f"{archive.name}: corrupt or truncated {kind} archive ({exc})") from exc
    raise ArchiveError(f"{archive.name}: not an archive")


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
        out.write(chunk)
    return written


def _expand_tar(archive: Path, dest: Path, budget: int) -> list[Path]:
    files: list[Path] = []
    used = 0
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            rel = _safe_member(member.name, archive.name)
            if member.isdir():
                continue
            if not member.isfile():
                raise ArchiveError(f"{archive.name}: member {member.name!r} is a link or special file")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            # extractfile gives None only for a member that is not a regular file, refused above
            assert src is not None
            with src, open(target, "wb") as out:
                used += _copy_capped(src, out, budget - used, archive.name)
            files.append(target)
    return files


def _expand_zip(archive: Path, dest: Path, budget: int) -> list[Path]:
    files: list[Path] = []
    used = 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            rel = _safe_member(info.filename, archive.name)
            if info.is_dir():
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise ArchiveError(f"{archive.name}: member {info.filename!r} is a symbolic link")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                used += _copy_capped(src, out, budget - used, archive.name)
            files.append(target)
    return files
