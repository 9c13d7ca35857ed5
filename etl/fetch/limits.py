"""Limits every fetched file is held to, however it arrives: a deadline, a size cap, and writes to
staging that fail in one clear line (a full disk is a ``StorageError`` naming the file it could not write)."""

from __future__ import annotations

import contextlib
import hashlib
import time
from pathlib import Path

from etl.errors import EtlError, FetchError, TransientFetchError
from etl.housekeeping import WRITE_ERRNOS, storage_error

#: Errors of the staging disk, not of the dump: they stop the fetch (``write_error``).
DISK_ERRNOS = WRITE_ERRNOS


class LimitExceeded(Exception):
    """A file is larger than the fetch's size cap; the caller makes it a reject or a ``FetchError``."""


class Deadline:
    """The time one file's fetch may take, whatever pace its bytes come at (``URDU_ETL_FETCH_DEADLINE``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def check(self) -> None:
        if self.remaining() <= 0:
            raise TransientFetchError(
                f"took longer than the {self.seconds:g} s deadline for one file (URDU_ETL_FETCH_DEADLINE)"
            )


def write_error(path: Path | str, exc: OSError) -> EtlError:
    """A failed write to staging as one line naming the file: a full disk, a quota, a read-only or
    too-large file is a ``StorageError`` (``etl.housekeeping``: exit code 7, ``StorageFull`` may pass),
    anything else a ``FetchError``."""
    if exc.errno in WRITE_ERRNOS:
        return storage_error(exc, path, "write the staged file")
    return FetchError(f"cannot write the staged file {path}: {exc.strerror or type(exc).__name__}")


class Sink:
    """A staged file being written: counts its bytes against ``max_bytes``, hashes them (sha256),
    and turns a failed write into a ``FetchError`` naming the file."""

    def __init__(self, target: Path, max_bytes: int) -> None:
        self.target, self.max_bytes = target, max_bytes
        self.size = 0
        self.digest = hashlib.sha256()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._out = open(target, "wb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise write_error(target, exc) from None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise LimitExceeded(
                f"more than the {self.max_bytes} byte limit of one fetched file (URDU_ETL_FETCH_MAX_MB)"
            )
        self.digest.update(chunk)
        try:
            self._out.write(chunk)
        except OSError as exc:
            raise write_error(self.target, exc) from None

    def close(self) -> None:
        try:
            self._out.close()
        except OSError as exc:
            raise write_error(self.target, exc) from None

    def discard(self) -> None:
        """Close and remove the partial file (a write error here is beside the point)."""
        with contextlib.suppress(OSError):
            self._out.close()
        self.target.unlink(missing_ok=True)

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()
