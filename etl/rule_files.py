"""Reading the rule tables and word lists kept as data files beside the code, and their version digests.

A rule file is UTF-8 text with one entry a line. Blank lines and lines starting with ``#`` are not
entries; a ``#`` further into a line belongs to the entry (a regex or a name may hold one), and
nothing is stripped from an entry, so a file means what it shows. Columns are separated by tabs.
``files_digest`` turns a set of such files into the short digest carried by version strings, so
every output row's version changes when its rules do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def _is_entry(line: str) -> bool:
    return bool(line.strip()) and not line.startswith("#")


def numbered_lines(path: Path) -> list[tuple[int, str]]:
    """``(line number, line)`` of every entry of ``path``, numbered from 1 as an editor shows them."""
    return [(no, line) for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if _is_entry(line)]


def lines(path: Path) -> list[str]:
    """The entries of ``path`` in file order: every line that is neither blank nor a ``#`` comment."""
    return [line for line in path.read_text(encoding="utf-8").splitlines() if _is_entry(line)]


def rows(path: Path, header: str | None = None) -> list[list[str]]:
    """The entries of ``path`` split into their tab-separated columns.

    A table whose first line names its columns (``key<TAB>aliases``) passes that first column
    name as ``header``: rows whose first column equals it are left out.
    """
    split = [line.split("\t") for line in lines(path)]
    return split if header is None else [r for r in split if r[0] != header]


def comment_value(path: Path, name: str) -> str | None:
    """The value of the first ``# name<TAB>value`` comment of ``path`` (a figure a table is built
    from, such as its document count), or ``None`` when it has none."""
    prefix = f"# {name}\t"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(prefix):
            return line.split("\t")[1]
    return None


def files_digest(paths: Iterable[Path], extra: str = "") -> str:
    """First 8 hex digits of sha256 over each file's name and bytes (a missing file counts by name),
    then ``extra`` (thresholds or other settings that live in code)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0" + (path.read_bytes() if path.exists() else b""))
    h.update(extra.encode())
    return h.hexdigest()[:8]
