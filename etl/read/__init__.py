"""Readers: one per dump format, each yielding ``RawRecord``s and ``Reject``s with provenance.

A reader never raises for bad content: undecodable bytes, malformed rows and unreadable
files become ``Reject`` records, so the rest of the dump still loads.

``FORMATS`` is the registry of formats. Adding one is adding a reader module and one ``Format``
line here: the sources file, the command line's ``--format`` and shard planning all read it.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from etl.read import bbc_doc, seed_txt, tabular
from etl.read.decode import HEAD_BYTES, decode_text, encoding_problem, has_invalid_characters
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
log = logging.getLogger("etl")


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
            yield Reject(
                source.name, rel, 1, TOO_LARGE, f"{size} bytes in one article file, over {MAX_RECORD_CHARS * 4}"
            )
            return
        with open(path, "rb") as fh:  # bounded: at most one byte more than the cap above
            data = fh.read(MAX_RECORD_CHARS * 4 + 1)
        text, error = decode_text(data, source.encoding)
        del data
        if error:
            yield Reject(source.name, rel, 1, UNDECODABLE, error)
            return
        if has_invalid_characters(text):
            yield Reject(source.name, rel, 1, INVALID_CHARACTERS, "the file holds NUL bytes or lone surrogates")
            return
        if len(text) > MAX_RECORD_CHARS:
            yield Reject(
                source.name, rel, 1, TOO_LARGE, f"{len(text)} characters in one article, over {MAX_RECORD_CHARS}"
            )
            return
        if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
            yield Reject(source.name, rel, 1, HTML_PAGE, "an HTML document, not a text article", text.lstrip()[:200])
            return
        yield RawRecord(source.name, rel, 1, parse(text, rel))

    return read


#: Binary documents that turn up where a text article should be, by their first bytes.
_BINARY_MAGIC = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a binary Word (OLE2) document"),
    (b"PK\x03\x04", "a zip container (a .docx, .xlsx or zip archive)"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "gzip-compressed data"),
)

#: Every dump format, by the name a sources file gives it.
FORMATS: dict[str, Format] = {
    "seed_txt": Format((".txt",), article_file(seed_txt.parse)),
    "bbc_doc": Format((".doc",), article_file(bbc_doc.parse)),
    "csv": Format((".csv",), tabular.read_csv, columns=True, split=tabular.split_csv),
    "jsonl": Format((".jsonl", ".ndjson", ".json"), tabular.read_jsonl, columns=True, split=tabular.split_jsonl),
}


def read_file(path: Path, rel: str, source: Source, span: tabular.Span | None = None) -> Records:
    """Yield every record of one staged file; ``rel`` is its path inside the dump.

    The checks of the whole file (kind, size, encoding) are made here, by the part that starts it
    when ``span`` cuts the file. Nothing raises for what a file holds: a file that cannot be
    opened is an ``unreadable_file`` reject, and an unexpected failure part way through rejects
    the rest of the file (``unreadable_file``, naming the exception and counting the lines not
    read) after the records before it.
    """
    fmt = FORMATS[source.format]
    if span is None or span.start == 0:
        whole = _whole_file_problem(path, rel, source, fmt)
        if whole is not None:
            yield whole
            return
    last_no, lines = span.first_no if span else 0, 0
    try:
        for item in fmt.read(path, rel, source, span):
            last_no, lines = max(last_no, item.record_no), lines + item.lines
            yield item
    except Exception as exc:  # the safety net: one file's failure must not end the run
        log.exception("reading %s of %s failed part way", rel, source.name)
        try:
            total = count_records(path, source, span)
        except Exception:
            total = None
        rest = max(total - lines, 1) if total is not None else 1
        counted = f" ({rest} line(s))" if total is not None else ""
        yield Reject(
            source.name,
            rel,
            last_no + 1,
            UNREADABLE_FILE,
            f"{type(exc).__name__}: {exc}; the rest of the file{counted} is not read",
            lines=rest,
        )


def _whole_file_problem(path: Path, rel: str, source: Source, fmt: Format) -> Reject | None:
    """The reject of a whole file that cannot be read as ``source`` says: of another kind, not a
    regular file, empty, unreadable, or in another encoding than the declared one."""

    def whole(reason: str, detail: str) -> Reject:
        return Reject(source.name, rel, 0, reason, detail, lines=0)

    if not path.name.lower().endswith(fmt.suffixes):
        return whole(UNEXPECTED_FILE, f"{source.format} dumps hold {', '.join(fmt.suffixes)} files")
    try:
        if path.is_dir():
            return whole(UNEXPECTED_FILE, "a directory, not a file")
        if path.stat().st_size == 0:
            return whole(EMPTY_FILE, "the file is empty")
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        return whole(UNREADABLE_FILE, f"{type(exc).__name__}: {exc.strerror or exc}")
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            return whole(UNEXPECTED_FILE, f"{what}, not a {source.format} file")
    problem = encoding_problem(head, source.encoding)
    if problem:
        return whole(UNDECODABLE, problem)
    return None


def count_records(path: Path, source: Source, span: tabular.Span | None = None) -> int | None:
    """The lines of a CSV or JSONL file (or span) that hold records, counted without parsing
    them (``etl.read.tabular.count_lines``), for the check that a reader accounted for every
    one; None when the count does not apply (another format, a file rejected whole, a JSON
    document) or the file cannot be read."""
    fmt = FORMATS[source.format]
    if fmt.split is None or not path.name.lower().endswith(fmt.suffixes):
        return None
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        return tabular.count_lines(path, source, span, csv_rows=fmt.split is tabular.split_csv)
    except (OSError, UnicodeError, ValueError):
        return None


def split_file(path: Path, source: Source, target_bytes: int) -> list[tabular.Span] | None:
    """Parts of a large file for separate shards, each about ``target_bytes``; None when the file
    is read whole (a format that cannot be cut, a small file, a file ``read_file`` rejects whole,
    or an encoding that cannot be cut at a byte offset)."""
    fmt = FORMATS[source.format]
    if fmt.split is None or not path.name.lower().endswith(fmt.suffixes):
        return None
    try:
        if not path.is_file() or path.stat().st_size <= target_bytes or not tabular.splittable(source.encoding):
            return None
        with open(path, "rb") as fh:
            if encoding_problem(fh.read(HEAD_BYTES), source.encoding):
                return None
        spans = fmt.split(path, source, target_bytes)
    except (OSError, UnicodeError, ValueError, csv.Error):  # read whole, so the reader reports what is wrong
        return None
    return spans if len(spans) > 1 else None
