"""Download (or copy) one source's dump for a day into the run's staging folder.

Any fsspec URL works: local paths, ``file://``, ``http(s)://``, ``s3://`` (with s3fs installed).
A URL may name one file, an archive, or a local folder of files. Archives are expanded
safely. The manifest records every fetched file's URL, size and sha256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

import aiohttp
import fsspec

from etl.config import Source
from etl.contracts import RejectRow
from etl.errors import FetchError, NoDumpError, TransientFetchError, UnclassifiedFetchError
from etl.fetch.archives import ArchiveError, archive_kind, expand, stem
from etl.records import Reject
from etl.settings import Settings

_CHUNK = 1 << 20
log = logging.getLogger("etl")
BAD_ARCHIVE = "bad_archive"
DUPLICATE_FILE = "duplicate_file"


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


def _safe_name(name: str, url: str, web: bool) -> str:
    """A fetched file's path inside the dump (URL-decoded for web URLs), never outside the staging folder."""
    if web:
        name = unquote(name.split("?", 1)[0].split("#", 1)[0])
    name = name.replace("\\", "/")
    p = PurePosixPath(name)
    if not p.parts or p.is_absolute() or ".." in p.parts:
        raise FetchError(f"{url}: refusing the file name {name!r}, which points outside the dump")
    return str(p)


def _probe_http(url: str, source: str, day: dt.date, timeout: float) -> None:
    """Tell "no dump for the day" (404, 410) from a server or network fault, which fsspec conflates."""
    for method in ("HEAD", "GET"):
        req = urllib.request.Request(url, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout):
                return
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                raise NoDumpError(f"no dump for source {source} on {day}: {url} answered {exc.code}") from exc
            if exc.code == 405 and method == "HEAD":
                continue
            error = TransientFetchError if exc.code >= 500 or exc.code == 429 else FetchError
            raise error(f"fetching {source} for {day} from {url} failed: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TransientFetchError(f"fetching {source} for {day} from {url} failed: {exc}") from exc


def _web(url: str) -> bool:
    return urlparse(url).scheme in ("http", "https")


def _list(fs, path: str, url: str, source: str, day: dt.date, timeout: float) -> list[tuple[str, str]]:
    """``(fsspec path, name inside the dump)`` of every file the URL names."""
    web = _web(url)
    if web:
        _probe_http(url, source, day, timeout)
    try:
        info = fs.info(path)
    except FileNotFoundError as exc:
        raise NoDumpError(f"no dump for source {source} on {day}: {url} does not exist") from exc
    if info.get("type") == "directory":
        base = path.rstrip("/")
        return [(m, _safe_name(m[len(base) + 1 :], url, web)) for m in sorted(fs.find(path))]
    name = PurePosixPath(urlparse(url).path).name if web else PurePosixPath(path).name
    return [(path, _safe_name(name, url, web))]


def fetch_dump(
    source: Source, day: dt.date, staging: Path, url: str | None = None, settings: Settings | None = None
) -> dict:
    """Stage ``source``'s dump for ``day`` under ``staging/<source>/`` and return its manifest.

    Transient faults (server errors, timeouts, truncated transfers) are retried with exponential
    backoff (``settings``: ``fetch_attempts``, ``fetch_backoff``, ``fetch_timeout``); a missing dump
    (``NoDumpError``) and other errors are not. The manifest (also written
    as ``manifest.json``) lists the fetched files with their bytes and sha256, the readable files
    after expansion, and rejects for archives that could not be expanded and for files that appear
    twice.
    """
    url = url or source.url_for(day)
    settings = settings or Settings.from_env()
    attempts, backoff, timeout = settings.fetch_attempts, settings.fetch_backoff, settings.fetch_timeout
    root = staging / source.name
    for attempt in range(1, attempts + 1):
        try:
            fetched, _ = _download(url, root, source.name, day, timeout)
            break
        except TransientFetchError as exc:
            if attempt == attempts:
                raise TransientFetchError(f"{exc} (gave up after {attempts} attempts)") from exc
            wait = backoff * 2 ** (attempt - 1)
            log.warning("%s; attempt %d of %d, retrying in %.1f s", exc, attempt, attempts, wait)
            time.sleep(wait)
    raw_dir, files_dir = root / "raw", root / "files"

    files: list[str] = []
    rejects: list[RejectRow] = []

    staged: set[str] = set()

    def stage(src: Path, rel: str, origin: str) -> None:
        if rel in staged:
            rejects.append(
                Reject(
                    source.name,
                    origin,
                    0,
                    DUPLICATE_FILE,
                    f"{rel} appears more than once in the dump; only the first copy is read",
                ).as_row()
            )
            return
        target = files_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        src.replace(target)
        files.append(rel)
        staged.add(rel)

    for item in fetched:
        raw = raw_dir / item["file"]
        kind = archive_kind(raw.name)
        if not kind:
            stage(raw, item["file"], item["file"])
            continue
        # a .gz holds one file, which takes the archive's name; other archives get a folder
        parent = PurePosixPath(item["file"]).parent
        base = parent if kind == "gz" else PurePosixPath(stem(item["file"]))
        tmp = raw_dir / ".expand"
        try:
            expanded = expand(raw, tmp)
        except ArchiveError as exc:
            rejects.append(Reject(source.name, item["file"], 0, BAD_ARCHIVE, str(exc)).as_row())
        else:
            for p in expanded:
                stage(p, str(base / p.relative_to(tmp).as_posix()), item["file"])
        shutil.rmtree(tmp, ignore_errors=True)
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


def _download(url: str, root: Path, source: str, day: dt.date, timeout: float) -> tuple[list[dict], str]:
    """Copy every file the URL names into ``root/raw``; returns their manifest entries and the fsspec path."""
    try:
        options = (
            {"client_kwargs": {"timeout": aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)}}
            if _web(url)
            else {}
        )
        fs, path = fsspec.core.url_to_fs(url, **options)
        members = _list(fs, path, url, source, day, timeout)
        shutil.rmtree(root, ignore_errors=True)
        (root / "raw").mkdir(parents=True)
        (root / "files").mkdir()
        fetched = []
        for member, name in members:
            size, sha = _copy(fs, member, root / "raw" / name)
            fetched.append(
                {
                    "url": url if member == path else f"{url.rstrip('/')}/{name}",
                    "file": name,
                    "bytes": size,
                    "sha256": sha,
                }
            )
        return fetched, path
    except FetchError:
        raise
    except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
        raise TransientFetchError(
            f"fetching {source} for {day} from {url} failed: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:  # other errors of any fsspec backend: whether they pass, only a retry tells
        raise UnclassifiedFetchError(
            f"fetching {source} for {day} from {url} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _combined_sha(fetched: list[dict]) -> str:
    if len(fetched) == 1:
        return fetched[0]["sha256"]
    digest = hashlib.sha256()
    for item in sorted(fetched, key=lambda i: i["file"]):
        digest.update(f"{item['file']}\0{item['sha256']}\n".encode())
    return digest.hexdigest()
