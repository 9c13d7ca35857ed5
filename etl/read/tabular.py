"""CSV and JSONL dumps: one article per row or line, fields found through the source's column mapping.

Both stream the file, so memory stays flat however large the dump is. Bytes that are not
valid in the declared encoding are carried through with ``surrogateescape`` and reject only
the record that holds them.

A large file is cut into spans of whole records (``split``), each read on its own
(``read(..., span=...)``): a span knows how many records come before it, so every record keeps
the number it has when the file is read whole, and the spans together read exactly the records
of the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from etl.contracts import SpanSpec
from etl.read.decode import has_invalid_characters, has_surrogates
from etl.records import (
    BAD_JSON,
    BAD_ROW_SHAPE,
    INVALID_CHARACTERS,
    MAX_RECORD_CHARS,
    MISSING_FIELD,
    TOO_LARGE,
    UNDECODABLE,
    RawRecord,
    Reject,
)

if TYPE_CHECKING:
    from etl.config import Source

csv.field_size_limit(sys.maxsize)
_EXCERPT = 200


@dataclass(frozen=True)
class Span:
    """Records ``first_no + 1 ...`` of a file, in bytes ``[start, end)``; a CSV span also reads
    the header, bytes ``[0, header_end)``."""

    start: int
    end: int
    first_no: int
    header_end: int = 0

    def as_dict(self) -> SpanSpec:
        return SpanSpec(**asdict(self))  # type: ignore[typeddict-item]


def read_csv(path: Path, rel: str, source: Source, span: Span | None = None) -> Iterator[RawRecord | Reject]:
    """The records of a CSV file (or of one span of it): one per row, the header names the columns."""
    return _read(path, rel, source, span, _read_csv)


def read_jsonl(path: Path, rel: str, source: Source, span: Span | None = None) -> Iterator[RawRecord | Reject]:
    """The records of a JSONL file (or of one span of it): one JSON object per line."""
    return _read(path, rel, source, span, _read_jsonl)


def split_csv(path: Path, source: Source, target_bytes: int) -> list[Span]:
    return split(path, source, target_bytes, csv_rows=True)


def split_jsonl(path: Path, source: Source, target_bytes: int) -> list[Span]:
    return split(path, source, target_bytes, csv_rows=False)


def _read(path: Path, rel: str, source: Source, span: Span | None, reader) -> Iterator[RawRecord | Reject]:
    if span is None:
        with _open(path, source.encoding, 0, None) as fh:
            yield from reader(fh, rel, source)
        return
    header = None
    if reader is _read_csv and span.start > 0:
        with _open(path, source.encoding, 0, span.header_end) as fh:
            header = next(csv.reader(fh), None)
    with _open(path, source.encoding, span.start, span.end) as fh:
        yield from reader(fh, rel, source, span.first_no, header)


def splittable(encoding: str) -> bool:
    """Whether a file in ``encoding`` can be cut at a line's end and each part decoded alone:
    UTF-8 and the single-byte code pages can; UTF-16/32 and other multi-byte or stateful ones cannot."""
    name = codecs.lookup(encoding).name
    if name == "utf-8":
        return True
    return not name.startswith(("utf", "iso2022")) and len(bytes(range(256)).decode(name, errors="replace")) == 256


def split(path: Path, source: Source, target_bytes: int, csv_rows: bool) -> list[Span]:
    """Cut a file into spans of whole records of about ``target_bytes`` each.

    One pass that reads the file the way ``read`` does (same decoding, same line and CSV row
    boundaries, same numbering of records), so a span never starts inside a record, even a CSV
    field with line breaks in it. A file at most ``target_bytes`` long is one span.
    """
    encoding = codecs.lookup(source.encoding).name
    with open(path, "rb") as raw:
        pos = 3 if encoding == "utf-8" and raw.read(3) == codecs.BOM_UTF8 else 0
    spans: list[Span] = []
    with _open(path, encoding, 0, None) as fh:

        def lines() -> Iterator[str]:
            nonlocal pos
            for line in fh:
                pos += len(line.encode(encoding, "surrogateescape"))
                yield line

        header_end = 0
        if csv_rows:
            rows = csv.reader(lines())
            if next(rows, None) is None:
                return [Span(0, pos, 0)]
            header_end = pos
            records: Iterator = (row for row in rows if row)
        else:
            records = (line for line in lines() if line.strip())
        start, first_no, no = 0, 0, 0
        for _ in records:
            no += 1
            if pos - start >= target_bytes:
                spans.append(Span(start, pos, first_no, header_end))
                start, first_no = pos, no
    if spans and no == first_no:  # only blank lines after the last cut: they join the last span
        spans[-1] = Span(spans[-1].start, pos, spans[-1].first_no, header_end)
    elif pos > start or not spans:
        spans.append(Span(start, pos, first_no, header_end))
    return spans


class _Window(io.RawIOBase):
    """Bytes ``[start, end)`` of a file, as a readable raw stream."""

    def __init__(self, path: Path, start: int, end: int | None):
        self._fh = open(path, "rb")  # noqa: SIM115 - held by this reader, closed by close()
        self._fh.seek(start)
        self._left = end - start if end is not None else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer)
        if self._left is not None:
            view = view[: self._left]
        n = self._fh.readinto(view)
        if self._left is not None:
            self._left -= n
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def _open(path: Path, encoding: str, start: int, end: int | None) -> io.TextIOWrapper:
    """A text stream over bytes ``[start, end)`` (to the end when ``end`` is None), decoded as the
    readers decode: a UTF-8 byte-order mark dropped at the start of the file, undecodable bytes
    kept as surrogates, line endings left as they are."""
    if codecs.lookup(encoding).name == "utf-8" and start == 0:
        encoding = "utf-8-sig"
    return io.TextIOWrapper(
        io.BufferedReader(_Window(path, start, end), 1 << 20), encoding=encoding, errors="surrogateescape", newline=""
    )


def _record(source: Source, rel: str, no: int, row: dict) -> RawRecord | Reject:
    size = sum(len(v) for v in row.values() if isinstance(v, str))
    if size > MAX_RECORD_CHARS:
        return Reject(source.name, rel, no, TOO_LARGE, f"{size} characters in one record")
    fields: dict[str, str | None] = {}
    for name, column in source.columns.items():
        value = row.get(column)
        if value is not None and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
        fields[name] = value
    bad = [k for k, v in fields.items() if v and has_surrogates(v)]
    if bad:
        return Reject(
            source.name,
            rel,
            no,
            UNDECODABLE,
            f"field(s) {', '.join(bad)} hold bytes that are not valid {source.encoding}",
            _excerpt(fields[bad[0]]),
        )
    bad = [k for k, v in fields.items() if v and has_invalid_characters(v)]
    if bad:
        return Reject(
            source.name, rel, no, INVALID_CHARACTERS, f"field(s) {', '.join(bad)} hold NUL bytes or lone surrogates"
        )
    return RawRecord(source.name, rel, no, fields)


def _read_csv(
    fh: io.TextIOBase, rel: str, source: Source, no: int = 0, header: list[str] | None = None
) -> Iterator[RawRecord | Reject]:
    rows = csv.reader(fh)
    first_span = header is None
    header = next(rows, None) if first_span else header
    if header is None:
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    needed = {source.columns[f] for f in source.required if f in source.columns}
    missing = sorted(needed - set(header))
    if missing:
        if first_span:  # reported once per file, by the span that holds the header
            yield Reject(source.name, rel, 0, MISSING_FIELD, f"column(s) {', '.join(missing)} not in header {header}")
        return
    for row in rows:
        if not row:
            continue  # a blank line is not a record
        no += 1
        if len(row) != len(header):
            yield Reject(
                source.name,
                rel,
                no,
                BAD_ROW_SHAPE,
                f"{len(row)} fields where the header has {len(header)}",
                _excerpt(",".join(row)),
            )
            continue
        yield _record(source, rel, no, dict(zip(header, row)))


def _read_jsonl(
    fh: io.TextIOBase, rel: str, source: Source, no: int = 0, header: None = None
) -> Iterator[RawRecord | Reject]:
    for line in fh:
        if not line.strip():
            continue
        no += 1
        if len(line) > MAX_RECORD_CHARS:
            yield Reject(source.name, rel, no, TOO_LARGE, f"{len(line)} characters in one line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Reject(
                source.name, rel, no, BAD_JSON, f"invalid JSON: {exc.msg} at column {exc.colno}", _excerpt(line)
            )
            continue
        if not isinstance(obj, dict):
            yield Reject(source.name, rel, no, BAD_JSON, f"a JSON {type(obj).__name__}, not an object", _excerpt(line))
            continue
        yield _record(source, rel, no, obj)


def _excerpt(text: str | None) -> str:
    return (text or "")[:_EXCERPT].encode("utf-8", "replace").decode("utf-8")
