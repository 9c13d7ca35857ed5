"""Readers: one per dump format, each yielding ``RawRecord``s and ``Reject``s with provenance.

A reader never raises for bad content: undecodable bytes, malformed rows and unreadable
files become ``Reject`` records, so the rest of the dump still loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from etl.config import Source
from etl.read import bbc_doc, seed_txt, tabular
from etl.read.decode import decode_text, has_invalid_characters
from etl.records import INVALID_CHARACTERS, UNDECODABLE, UNEXPECTED_FILE, UNREADABLE_FILE, RawRecord, Reject

#: File suffixes each format reads; anything else in a dump is rejected as unexpected.
SUFFIXES = {
    "seed_txt": (".txt",),
    "bbc_doc": (".doc",),
    "csv": (".csv",),
    "jsonl": (".jsonl", ".ndjson", ".json"),
}


def read_file(path: Path, rel: str, source: Source) -> Iterator[RawRecord | Reject]:
    """Yield every record of one staged file; ``rel`` is its path inside the dump."""
    if not path.name.lower().endswith(SUFFIXES[source.format]):
        yield Reject(source.name, rel, 0, UNEXPECTED_FILE,
                     f"{source.format} dumps hold {', '.join(SUFFIXES[source.format])} files")
        return
    try:
        if source.format in ("csv", "jsonl"):
            yield from tabular.read(path, rel, source)
            return
        text, error = decode_text(path.read_bytes(), source.encoding)
        if error:
            yield Reject(source.name, rel, 1, UNDECODABLE, error)
            return
        if has_invalid_characters(text):
            yield Reject(source.name, rel, 1, INVALID_CHARACTERS, "the file holds NUL bytes")
            return
        parse = seed_txt.parse if source.format == "seed_txt" else bbc_doc.parse
        yield RawRecord(source.name, rel, 1, parse(text, rel))
    except OSError as exc:
        yield Reject(source.name, rel, 0, UNREADABLE_FILE, f"{type(exc).__name__}: {exc}")
