"""Download (or copy) one source's dump for a day into the run's staging folder.

Any fsspec URL works: local paths, ``file://``, ``http(s)://``, ``s3://`` (with s3fs installed).
A URL may name one file, an archive, or a folder of files. Archives are expanded safely. The
manifest records every fetched file's URL (its password as ``***``), size and sha256.

Every file is held to the same limits however it arrives (``etl.fetch.limits``): an overall
deadline (``URDU_ETL_FETCH_DEADLINE``, a timeout: retried), a size cap (``URDU_ETL_FETCH_MAX_MB``),
and a staging disk that fails (full, read only) stops the fetch with a ``StorageError`` naming the
file (``etl.housekeeping``), with the source's staging folder removed. Web files come by one streaming GET (``etl.fetch.web``) with
the login of ``etl.fetch.credentials``; local ones are read without following links or opening
FIFOs and devices (``etl.fetch.local``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import time
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

import fsspec
from fsspec.implementations.local import LocalFileSystem

from etl.config import Source
from etl.contracts import RejectRow
from etl.errors import EtlError, FetchError, NoDumpError, TransientFetchError, UnclassifiedFetchError
from etl.fetch import local, web
from etl.fetch.archives import ArchiveError, archive_kind, expand_members, stem
from etl.fetch.credentials import Login, login_for, mask, redact, scrub, split_userinfo
from etl.fetch.limits import Deadline, LimitExceeded, Sink, write_error
from etl.records import UNSAFE_FILE, Reject
from etl.settings import Settings

_CHUNK = 1 << 20
log = logging.getLogger("etl")
BAD_ARCHIVE = "bad_archive"
DUPLICATE_FILE = "duplicate_file"


def _safe_name(name: str, url: str, web: bool) -> str:
    """A fetched file's path inside the dump (URL-decoded for web URLs), never outside the staging folder."""
    if web:
        name = unquote(name.split("?", 1)[0].split("#", 1)[0])
    name = name.replace("\\", "/")
    p = PurePosixPath(name)
    if not p.parts or p.is_absolute() or ".." in p.parts:
        raise FetchError(f"{url}: refusing the file name {name!r}, which points outside the dump")
    return str(p)


def _web(url: str) -> bool:
    return urlparse(url).scheme in ("http", "https")


def _login(url: str, source: str) -> tuple[str, Login | None]:
    """The URL to request (no userinfo) and the login to send: the URL's own, else the source's
    Airflow connection or the netrc entry of the host (``etl.fetch.credentials``)."""
    bare, given = split_userinfo(url)
    if given is not None and given.password:
        return bare, given
    found = login_for(bare, source)
    if found is not None and (given is None or found.user == given.user):
        return bare, found
    return bare, given


def fetch_dump(
    source: Source, day: dt.date, staging: Path, url: str | None = None, settings: Settings | None = None
) -> dict:
    """Stage ``source``'s dump for ``day`` under ``staging/<source>/`` and return its manifest.

    Transient faults (server errors, timeouts, a deadline passed, truncated transfers) are retried
    with exponential backoff (``settings``: ``fetch_attempts``, ``fetch_backoff``, ``fetch_timeout``,
    ``fetch_deadline``); a missing dump (``NoDumpError``) and other errors are not. The manifest (also
    written as ``manifest.json``) lists the fetched files with their bytes and sha256, the readable
    files after expansion, and rejects: archives that could not be expanded, files that appear
    twice, and entries of a folder that are not read (links, FIFOs, devices, files over the cap).
    On any failure the source's staging folder is removed.
    """
    url = url or source.url_for(day)
    settings = settings or Settings.from_env()
    root = staging / source.name
    shown = redact(url)
    secrets: list[str] = []
    try:
        return _fetch(source, day, url, shown, root, settings, secrets)
    except FetchError as exc:
        shutil.rmtree(root, ignore_errors=True)
        message = scrub(str(exc), secrets)
        if message == str(exc):
            raise
        raise type(exc)(message) from None
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _fetch(source: Source, day: dt.date, url: str, shown: str, root: Path, settings: Settings, secrets: list[str]):
    login = None
    target = url
    if _web(url):
        target, login = _login(url, source.name)
        if login is not None:
            secrets.append(login.password)
            mask(login.password)
    else:
        given = split_userinfo(url)[1]
        if given is not None:
            secrets.append(given.password)
    attempts, backoff = settings.fetch_attempts, settings.fetch_backoff
    for attempt in range(1, attempts + 1):
        try:
            fetched, refused = _download(url, target, login, shown, root, source.name, day, settings)
            break
        except TransientFetchError as exc:
            if attempt == attempts:
                raise TransientFetchError(f"{exc} (gave up after {attempts} attempts)") from exc
            wait = backoff * 2 ** (attempt - 1)
            log.warning("%s; attempt %d of %d, retrying in %.1f s", scrub(str(exc), secrets), attempt, attempts, wait)
            time.sleep(wait)
    return _stage(source, day, shown, root, fetched, refused)


def _stage(source: Source, day: dt.date, shown: str, root: Path, fetched: list[dict], refused: list) -> dict:
    """Expand the archives among the fetched files and move every readable file to ``files/``."""
    raw_dir, files_dir = root / "raw", root / "files"
    files: list[str] = []
    rejects: list[RejectRow] = [Reject(source.name, r.rel, 0, r.reason, r.detail).as_row() for r in refused]
    # where each path of the dump came from; names of archives and refused entries are taken too, so
    # that no two rejects share a key (source, file, record_no) with each other or with a reader's
    staged: dict[str, str] = {r.rel: "an entry that was not read" for r in refused}
    staged.update({i["file"]: "an archive" for i in fetched if archive_kind(i["file"])})

    def stage(src: Path, rel: str, origin: str, position: int, where: str) -> None:
        if rel in staged:
            detail = f"{rel} appears more than once in the dump (first: {staged[rel]}); only the first copy is read"
            rejects.append(Reject(source.name, origin, position, DUPLICATE_FILE, detail).as_row())
            return
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            detail = "its name is not valid UTF-8"
            rejects.append(Reject(source.name, origin, position, UNSAFE_FILE, detail).as_row())
            return
        target = files_dir / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            src.replace(target)
        except OSError as exc:
            raise write_error(target, exc) from None
        files.append(rel)
        staged[rel] = where

    # plain files first: a file of the dump is never the repeat; a copy of it inside an archive is
    plain = [i for i in fetched if not archive_kind(i["file"])]
    for item in plain:
        stage(raw_dir / item["file"], item["file"], item["file"], 0, item["file"])
    for item in fetched:
        raw = raw_dir / item["file"]
        kind = archive_kind(raw.name)
        if not kind:
            continue
        # a .gz holds one file, which takes the archive's name; other archives get a folder
        parent = PurePosixPath(item["file"]).parent
        base = parent if kind == "gz" else PurePosixPath(stem(item["file"]))
        tmp = raw_dir / ".expand"
        try:
            members = expand_members(raw, tmp)
        except ArchiveError as exc:
            rejects.append(Reject(source.name, item["file"], 0, BAD_ARCHIVE, str(exc)).as_row())
        else:
            for m in members:
                rel = str(base / m.path.relative_to(tmp).as_posix())
                if m.repeat:
                    detail = f"member {m.position} repeats {rel} of the same archive; only the first copy is read"
                    rejects.append(Reject(source.name, item["file"], m.position, DUPLICATE_FILE, detail).as_row())
                    continue
                stage(m.path, rel, item["file"], m.position, f"member {m.position} of {item['file']}")
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(raw_dir, ignore_errors=True)
    manifest = {
        "source": source.name,
        "day": day.isoformat(),
        "url": shown,
        "format": source.format,
        "fetched": fetched,
        "bytes": sum(i["bytes"] for i in fetched),
        "sha256": _combined_sha(fetched),
        "files_dir": str(files_dir),
        "files": sorted(files),
        "rejects": rejects,
    }
    path = root / "manifest.json"
    try:
        path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as exc:
        raise write_error(path, exc) from None
    return manifest


def _download(
    url: str, target: str, login: Login | None, shown: str, root: Path, source: str, day: dt.date, settings: Settings
) -> tuple[list[dict], list[local.Refused]]:
    """Copy every file the URL names into ``root/raw``; returns their manifest entries and the
    entries of a folder that were not read. ``target`` is the URL to request (no userinfo)."""
    try:
        shutil.rmtree(root, ignore_errors=True)
        raw = root / "raw"
        for folder in (raw, root / "files"):
            try:
                folder.mkdir(parents=True)
            except OSError as exc:
                raise write_error(folder, exc) from None
        if _web(url):
            name = _safe_name(PurePosixPath(urlparse(target).path).name, shown, web=True)
            size, sha = web.download(
                target,
                raw / name,
                login=login,
                timeout=settings.fetch_timeout,
                deadline=Deadline(settings.fetch_deadline),
                max_bytes=settings.fetch_max_bytes,
            )
            return [{"url": shown, "file": name, "bytes": size, "sha256": sha}], []
        fs, path = fsspec.core.url_to_fs(url)
        if isinstance(fs, LocalFileSystem):
            return _copy_local(path, shown, raw, settings)
        return _copy_remote(fs, path, shown, raw, settings), []
    except NoDumpError as exc:
        raise NoDumpError(f"no dump for source {source} on {day}: {shown} {exc}") from None
    except FetchError as exc:
        raise type(exc)(f"fetching {source} for {day} from {shown} failed: {exc}") from None
    except EtlError:  # a staging disk that is full or read only (StorageError), already one line
        raise
    except (TimeoutError, ConnectionError) as exc:
        raise TransientFetchError(
            f"fetching {source} for {day} from {shown} failed: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:  # other errors of any fsspec backend: whether they pass, only a retry tells
        raise UnclassifiedFetchError(
            f"fetching {source} for {day} from {shown} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _copy_local(path: str, shown: str, raw: Path, settings: Settings) -> tuple[list[dict], list[local.Refused]]:
    max_bytes, deadline = settings.fetch_max_bytes, settings.fetch_deadline
    if not local.is_folder(path):
        name = PurePosixPath(path).name
        copied = local.copy_file(path, raw / name, max_bytes, deadline)
        return [{"url": shown, "file": name, "bytes": copied.size, "sha256": copied.sha256}], []
    copied_files, refused = local.copy_folder(path, raw, max_bytes, deadline)
    fetched = [
        {"url": f"{shown.rstrip('/')}/{c.rel}", "file": c.rel, "bytes": c.size, "sha256": c.sha256}
        for c in sorted(copied_files, key=lambda c: c.rel)
    ]
    return fetched, refused


def _copy_remote(fs, path: str, shown: str, raw: Path, settings: Settings) -> list[dict]:
    """Copy the file or folder an fsspec URL of another store (``s3://`` ...) names, file by file."""
    try:
        info = fs.info(path)
    except FileNotFoundError:
        raise NoDumpError("does not exist") from None
    if info.get("type") == "directory":
        base = path.rstrip("/")
        members = [(m, _safe_name(m[len(base) + 1 :], shown, False)) for m in sorted(fs.find(path))]
    else:
        members = [(path, _safe_name(PurePosixPath(path).name, shown, False))]
    fetched = []
    for member, name in members:
        deadline = Deadline(settings.fetch_deadline)
        try:
            with fs.open(member, "rb") as src, Sink(raw / name, settings.fetch_max_bytes) as sink:
                while chunk := src.read(_CHUNK):
                    sink.write(chunk)
                    deadline.check()
        except LimitExceeded as exc:
            raise FetchError(f"{name}: {exc}") from None
        entry_url = shown if member == path else f"{shown.rstrip('/')}/{name}"
        fetched.append({"url": entry_url, "file": name, "bytes": sink.size, "sha256": sink.sha256})
    return fetched


def _combined_sha(fetched: list[dict]) -> str:
    if len(fetched) == 1:
        return fetched[0]["sha256"]
    digest = hashlib.sha256()
    for item in sorted(fetched, key=lambda i: i["file"]):
        digest.update(f"{item['file']}\0{item['sha256']}\n".encode())
    return digest.hexdigest()
