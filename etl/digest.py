"""Short digests of rule and data files, so every output row's version changes when its rules do."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def files_digest(paths: Iterable[Path], extra: str = "") -> str:
    """First 8 hex digits of sha256 over each file's name and bytes (a missing file counts by name),
    then ``extra`` (thresholds or other settings that live in code)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0" + (path.read_bytes() if path.exists() else b""))
    h.update(extra.encode())
    return h.hexdigest()[:8]
