"""Readers: one per dump format, each yielding ``RawRecord``s and ``Reject``s with provenance.

A reader never raises for bad content: undecodable bytes, malformed rows and unreadable
files become ``Reject`` records, so the rest of the dump still loads.

``FORMATS`` is the registry of formats. Adding one is adding a reader module and one ``Format``
line here: the sources file, the command line's ``--format`` and shard planning all read it.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from etl.read import bbc_doc, seed_txt, tabular
from etl.read.decode import decode_text, has_invalid_characters
from etl.records import (
    EMPTY_FILE,
    HTML_PAGE,
    INVALID_CHARACTERS,
    MAX_RECORD_CHARS,
    TOO_LARGE,
    UNDECODABLE,
    UNEXPECTED_FILE,
    UNREADABLE_FILE,
    RawRecord,
    Reject,
)

if TYPE_CHECKING:
    from etl.config import Source

Records = Iterator[RawRecord | Reject]


@dataclass(frozen=True)
class Format:
    """A dump format: the files it reads and how.

    ``read(path, rel, source, span)`` yields a file's records (``span``: one part of a file cut by
    ``split``). A format with ``columns`` reads rows whose fields a source maps by name (it needs a
    column for ``body``); one with ``split`` can cut a large file into spans of whole records, so
    that shards, not dumps, bound a task's memory.
    """

    suffixes: tuple[str, ...]
    read: Callable[[Path, str, Source, tabular.Span | None], Records]
    columns: bool = False
    split: Callable[[Path, Source, int], list[tabular.Span]] | None = None


def article_file(parse: Callable[[str, str], dict[str, str | None]]) -> Callable[..., Records]:
    """A reader of formats with one article per file: the file is checked whole (size, encoding, NUL
    bytes, an HTML page in its place), then ``parse(text, rel)`` gives the record's fields."""

    def read(path: Path, rel: str, source: Source, span: tabular.Span | None = None) -> Records:
        size = path.stat().st_size
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
            yield Reject(source.name, rel, 1, HTML_PAGE, "an HTML document, not a text article", text.lstrip()[:200])
            return
        yield RawRecord(source.name, rel, 1, parse(text, rel))

    return read


#: Every dump format, by the name a sources file gives it.
FORMATS: dict[str, Format] = {
    "seed_txt": Format((".txt",), article_file(seed_txt.parse)),
    "bbc_doc": Format((".doc",), article_file(bbc_doc.parse)),
    "csv": Format((".csv",), tabular.read_csv, columns=True, split=tabular.split_csv),
    "jsonl": Format((".jsonl", ".ndjson", ".json"), tabular.read_jsonl, columns=True, split=tabular.split_jsonl),
}

_BOMS = {"UTF-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "UTF-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)}


def _foreign_bom(head: bytes, encoding: str) -> str | None:
    """The UTF-16/32 family whose byte-order mark starts ``head``, when ``encoding`` is not of it."""
    declared = codecs.lookup(encoding).name
    for family, boms in _BOMS.items():
        if head.startswith(boms) and not declared.startswith(family.lower()):
            return family
    return None


def read_file(path: Path, rel: str, source: Source, span: tabular.Span | None = None) -> Records:
    """Yield every record of one staged file; ``rel`` is its path inside the dump.

    The checks of the whole file (kind, size, byte-order mark) are made here, by the part that
    starts it when ``span`` cuts the file.
    """
    fmt = FORMATS[source.format]
    if span is not None and span.start > 0:
        yield from fmt.read(path, rel, source, span)
        return
    if not path.name.lower().endswith(fmt.suffixes):
        yield Reject(
            source.name, rel, 0, UNEXPECTED_FILE, f"{source.format} dumps hold {', '.join(fmt.suffixes)} files"
        )
        return
    try:
        if path.stat().st_size == 0:
            yield Reject(source.name, rel, 0, EMPTY_FILE, "the file is empty")
            return
        with open(path, "rb") as fh:
            foreign_bom = _foreign_bom(fh.read(4), source.encoding)
        if foreign_bom:
            yield Reject(
                source.name,
                rel,
                0,
                UNDECODABLE,
                f"the file starts with a {foreign_bom} byte-order mark but the source declares "
                f"{source.encoding}; declare encoding: {foreign_bom.lower()} for this source",
            )
            return
        yield from fmt.read(path, rel, source, span)
    except OSError as exc:
        yield Reject(source.name, rel, 0, UNREADABLE_FILE, f"{type(exc).__name__}: {exc}")


def split_file(path: Path, source: Source, target_bytes: int) -> list[tabular.Span] | None:
    """Parts of a large file for separate shards, each about ``target_bytes``; None when the file
    is read whole (a format that cannot be cut, a small file, a file ``read_file`` rejects whole,
    or an encoding that cannot be cut at a byte offset)."""
    fmt = FORMATS[source.format]
    if fmt.split is None or not path.name.lower().endswith(fmt.suffixes):
        return None
    try:
        if path.stat().st_size <= target_bytes or not tabular.splittable(source.encoding):
            return None
        with open(path, "rb") as fh:
            if _foreign_bom(fh.read(4), source.encoding):
                return None
        spans = fmt.split(path, source, target_bytes)
    except (OSError, csv.Error):  # read whole, so the reader reports what is wrong with it
        return None
    return spans if len(spans) > 1 else None
