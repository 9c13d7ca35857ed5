"""Download (or copy) one source's dump for a day into the run's staging folder.

Any fsspec URL works: local paths, ``file://``, ``http(s)://``, ``s3://`` (with s3fs installed).
A URL may name one file, an archive, or a local folder of files. Archives are expanded
safely. The manifest records every fetched file's URL, size and sha256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import fsspec

from etl.config import Source
from etl.fetch.archives import ArchiveError, archive_kind, expand, stem
from etl.records import Reject

_CHUNK = 1 << 20
BAD_ARCHIVE = "bad_archive"


class FetchError(RuntimeError):
    """A dump could not be fetched (network error, permission, truncated transfer)."""


class NoDumpError(FetchError):
    """The source published no dump for the day: the URL does not exist."""


def _copy(fs, path: str, target: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with fs.open(path, "rb") as src, open(target, "wb") as out:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def fetch_dump(source: Source, day: dt.date, staging: Path, url: str | None = None) -> dict:
    """Stage ``source``'s dump for ``day`` under ``staging/<source>/`` and return its manifest.

    The manifest (also written as ``manifest.json``) lists the fetched files with their
    bytes and sha256, the readable files after expansion, and rejects for archives that
    could not be expanded.
    """
    url = url or source.url_for(day)
    root = staging / source.name
    shutil.rmtree(root, ignore_errors=True)
    raw_dir, files_dir = root / "raw", root / "files"
    raw_dir.mkdir(parents=True)
    files_dir.mkdir()
    try:
        fs, path = fsspec.core.url_to_fs(url)
        if not fs.exists(path):
            raise NoDumpError(f"no dump for source {source.name} on {day}: {url} does not exist")
        if fs.isdir(path):
            base = path.rstrip("/")
            members = sorted(p for p in fs.find(path) if not fs.isdir(p))
            names = [p[len(base) + 1:] for p in members]
        else:
            members, names = [path], [path.rstrip("/").rsplit("/", 1)[-1]]
        fetched = []
        for member, name in zip(members, names):
            size, sha = _copy(fs, member, raw_dir / name)
            fetched.append({"url": url if member == path else f"{url.rstrip('/')}/{name}",
                            "file": name, "bytes": size, "sha256": sha})
    except FetchError:
        raise
    except Exception as exc:  # network and filesystem errors from any fsspec backend
        raise FetchError(f"fetching {source.name} for {day} from {url} failed: "
                         f"{type(exc).__name__}: {exc}") from exc

    files: list[str] = []
    rejects: list[dict] = []
    for item in fetched:
        raw = raw_dir / item["file"]
        kind = archive_kind(raw.name)
        if kind:
            # a .gz holds one file, which takes the archive's name; other archives get a folder
            dest = files_dir / (Path(item["file"]).parent if kind == "gz" else stem(item["file"]))
            try:
                expanded = expand(raw, dest)
            except ArchiveError as exc:
                shutil.rmtree(dest, ignore_errors=True)
                rejects.append(Reject(source.name, item["file"], 0, BAD_ARCHIVE, str(exc)).as_row())
                continue
            files.extend(str(p.relative_to(files_dir)) for p in expanded)
        else:
            target = files_dir / item["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            raw.replace(target)
            files.append(item["file"])
    shutil.rmtree(raw_dir, ignore_errors=True)
    manifest = {
        "source": source.name,
        "day": day.isoformat(),
        "url": url,
        "format": source.format,
        "fetched": fetched,
        "bytes": sum(i["bytes"] for i in fetched),
        "sha256": _combined_sha(fetched),
        "files_dir": str(files_dir),
        "files": sorted(files),
        "rejects": rejects,
    }
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def _combined_sha(fetched: list[dict]) -> str:
    if len(fetched) == 1:
        return fetched[0]["sha256"]
    digest = hashlib.sha256()
    for item in sorted(fetched, key=lambda i: i["file"]):
        digest.update(f"{item['file']}\0{item['sha256']}\n".encode())
    return digest.hexdigest()
