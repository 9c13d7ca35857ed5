"""Readers: one per dump format, each yielding ``RawRecord``s and ``Reject``s with provenance.

A reader never raises for bad content: undecodable bytes, malformed rows and unreadable
files become ``Reject`` records, so the rest of the dump still loads.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path

from etl.config import Source
from etl.read import bbc_doc, seed_txt, tabular
from etl.read.decode import decode_text, has_invalid_characters
from etl.records import (EMPTY_FILE, HTML_PAGE, INVALID_CHARACTERS, MAX_RECORD_CHARS, TOO_LARGE, UNDECODABLE, UNEXPECTED_FILE,
                         UNREADABLE_FILE, RawRecord, Reject)

#: File suffixes each format reads; anything else in a dump is rejected as unexpected.
SUFFIXES = {
    "seed_txt": (".txt",),
    "bbc_doc": (".doc",),
    "csv": (".csv",),
    "jsonl": (".jsonl", ".ndjson", ".json"),
}


_BOMS = {"UTF-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "UTF-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)}


def _foreign_bom(head: bytes, encoding: str) -> str | None:
    """The UTF-16/32 family whose byte-order mark starts ``head``, when ``encoding`` is not of it."""
    declared = codecs.lookup(encoding).name
    for family, boms in _BOMS.items():
        if head.startswith(boms) and not declared.startswith(family.lower()):
            return family
    return None


def read_file(path: Path, rel: str, source: Source, span: tabular.Span | None = None
              ) -> Iterator[RawRecord | Reject]:
    """Yield every record of one staged file; ``rel`` is its path inside the dump.

    ``span`` (CSV and JSONL only) reads one part of a file cut by ``tabular.split``; the checks
    of the whole file (kind, size, byte-order mark) are made by the part that starts it.
    """
    if span is not None and span.start > 0:
        yield from tabular.read(path, rel, source, span)
        return
    if not path.name.lower().endswith(SUFFIXES[source.format]):
        yield Reject(source.name, rel, 0, UNEXPECTED_FILE,
                     f"{source.format} dumps hold {', '.join(SUFFIXES[source.format])} files")
        return
    try:
        size = path.stat().st_size
        if size == 0:
            yield Reject(source.name, rel, 0, EMPTY_FILE, "the file is empty")
            return
        with open(path, "rb") as fh:
            foreign_bom = _foreign_bom(fh.read(4), source.encoding)
        if foreign_bom:
            yield Reject(source.name, rel, 0, UNDECODABLE,
                         f"the file starts with a {foreign_bom} byte-order mark but the source declares "
                         f"{source.encoding}; declare encoding: {foreign_bom.lower()} for this source")
            return
        if source.format in ("csv", "jsonl"):
            yield from tabular.read(path, rel, source, span)
            return
        if size > MAX_RECORD_CHARS * 4:  # bytes; a UTF-8 character takes at most 4
            yield Reject(source.name, rel, 1, TOO_LARGE, f"{size} bytes in one article file")
            return
        text, error = decode_text(path.read_bytes(), source.encoding)
        if error:
            yield Reject(source.name, rel, 1, UNDECODABLE, error)
            return
        if has_invalid_characters(text):
            yield Reject(source.name, rel, 1, INVALID_CHARACTERS, "the file holds NUL bytes")
            return
        if len(text) > MAX_RECORD_CHARS:
            yield Reject(source.name, rel, 1, TOO_LARGE, f"{len(text)} characters in one article")
            return
        if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
            yield Reject(source.name, rel, 1, HTML_PAGE, "an HTML document, not a text article",
                         text.lstrip()[:200])
            return
        parse = seed_txt.parse if source.format == "seed_txt" else bbc_doc.parse
        yield RawRecord(source.name, rel, 1, parse(text, rel))
    except OSError as exc:
        yield Reject(source.name, rel, 0, UNREADABLE_FILE, f"{type(exc).__name__}: {exc}")


def split_file(path: Path, source: Source, target_bytes: int) -> list[tabular.Span] | None:
    """Parts of a large CSV or JSONL file for separate shards, each about ``target_bytes``;
    None when the file is read whole (another format, a small file, a file ``read_file`` rejects
    whole, or an encoding that cannot be cut at a byte offset)."""
    if source.format not in ("csv", "jsonl") or not path.name.lower().endswith(SUFFIXES[source.format]):
        return None
    try:
        if path.stat().st_size <= target_bytes or not tabular.splittable(source.encoding):
            return None
        with open(path, "rb") as fh:
            if _foreign_bom(fh.read(4), source.encoding):
                return None
        spans = tabular.split(path, source, target_bytes)
    except (OSError, csv.Error):  # read whole, so the reader reports what is wrong with it
        return None
    return spans if len(spans) > 1 else None
