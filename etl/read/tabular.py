"""CSV and JSONL dumps: one article per row or line, fields found through the source's column mapping.

Both read a file one physical line at a time, each line with a bounded ``readline``: memory stays
flat however large the dump is, and a line longer than ``MAX_RECORD_CHARS`` is skipped unread
(``record_too_large``). Bytes that are not valid in the declared encoding are carried through
as escaped bytes (``etl.read.decode.ESCAPE``) and reject only the record that holds them, in
UTF-16/32 as in UTF-8.

Records and lines. A JSONL record is one non-blank physical line. A CSV record is one physical
line, or several when a quoted field holds line breaks; the header is the first non-blank line.
A quoted field that runs over lines is trusted only when the record it ends is well formed
(strict quoting, the header's field count, under ``MAX_RECORD_CHARS``) and none of the lines it
swallowed reads, on its own, as a complete row of the header's shape (headers of three or more
columns; the line that closes the quote only when that quote ends it, ``_row_by_itself``). Otherwise the quote is broken: the record's first line alone is rejected
(``bad_quoting``) and reading goes on at the next physical line, so one stray quote costs one
record, not the rows after it. Every record and reject carries how many non-blank physical lines
it covers (``lines``); ``count_lines`` counts them in the file without parsing, and the transform
checks that the two agree.

A large file is cut into spans of whole records (``split``), each read on its own
(``read(..., span=...)``). ``split`` walks the file with the same record boundaries as the
readers, and a record boundary leaves no state behind (a broken quote's swallowed lines are read
again from the next line), so every record keeps the number it has when the file is read whole,
and the spans together read exactly the records of the file.

A ``.json`` file (or any file of the format whose first line opens an array and is not a JSON
value by itself) holding one JSON array is read as a document: each element is one record,
numbered from 1. Such a file is read whole, up to ``MAX_DOCUMENT_BYTES``, and never cut.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import sys
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from etl.contracts import SpanSpec
from etl.read.decode import (
    ESCAPE,
    HEAD_BYTES,
    codec_name,
    decode_text,
    has_invalid_characters,
    has_surrogates,
    reading_encoding,
)
from etl.records import (
    BAD_FIELD_TYPE,
    BAD_HEADER,
    BAD_JSON,
    BAD_QUOTING,
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
#: A JSON value nested deeper than this is rejected before it is parsed (a deep one would exhaust the stack).
MAX_JSON_DEPTH = 64
#: The largest JSON document (a ``.json`` array of records) read whole; a larger dump should be JSONL.
MAX_DOCUMENT_BYTES = 32 << 20
#: How much of an over-long line is read at a time while it is skipped.
_SKIP_CHARS = 1 << 20
_NEWLINES = ("\n", "\r")
_ASCII_SPACE = " \t\r\n\f\v"

Records = Iterator[RawRecord | Reject]


@dataclass(frozen=True)
class Span:
    """Records ``first_no + 1 ...`` of a file, in bytes ``[start, end)``, whose first line is
    physical line ``first_line + 1``; a CSV span also reads the header, bytes ``[0, header_end)``."""

    start: int
    end: int
    first_no: int
    header_end: int = 0
    first_line: int = 0

    def as_dict(self) -> SpanSpec:
        return SpanSpec(**asdict(self))  # type: ignore[typeddict-item]


# --- physical lines ---------------------------------------------------------------------------


@dataclass(slots=True)
class Line:
    """One physical line: its text (None when it is longer than ``MAX_RECORD_CHARS`` and was
    skipped unread), its number in the file (from 1), its length and the byte offset after it
    (when the reader counts bytes)."""

    text: str | None
    no: int
    chars: int
    end: int = 0

    @property
    def blank(self) -> bool:
        return self.text is not None and not self.text.strip(_ASCII_SPACE)


class Undecodable(Exception):
    """A UTF-16/32 stream that stopped decoding: nothing after ``line`` can be read."""

    def __init__(self, line: int, exc: UnicodeError):
        super().__init__(f"from line {line} on: {exc.reason if isinstance(exc, UnicodeDecodeError) else exc}")
        self.line = line


def physical_lines(
    fh: io.TextIOBase, first_line: int = 0, pos: int | None = None, encoding: str = ""
) -> Iterator[Line]:
    """The lines of ``fh`` (ends kept: ``\\n``, ``\\r\\n`` or a lone ``\\r``), never more than
    ``MAX_RECORD_CHARS + 1`` characters in memory; with ``pos`` (the byte offset of the stream's
    start), each line's end offset, counted by encoding it back in ``encoding``."""
    no = first_line
    while True:
        try:
            chunk = fh.readline(MAX_RECORD_CHARS + 1)
        except UnicodeError as exc:
            raise Undecodable(no + 1, exc) from exc
        if not chunk:
            return
        no += 1
        chars = len(chunk)
        if pos is not None:
            pos += len(chunk.encode(encoding, ESCAPE))
        if chars <= MAX_RECORD_CHARS or chunk.endswith(_NEWLINES):
            yield Line(chunk, no, chars, pos or 0)
            continue
        del chunk  # over-long: the rest of the line is skipped, a bounded piece at a time
        while True:
            try:
                more = fh.readline(_SKIP_CHARS)
            except UnicodeError as exc:
                raise Undecodable(no, exc) from exc
            chars += len(more)
            if pos is not None:
                pos += len(more.encode(encoding, ESCAPE))
            if not more or more.endswith(_NEWLINES):
                break
        yield Line(None, no, chars, pos or 0)


def _first_nonblank(lines: Iterator[Line]) -> Line | None:
    return next((line for line in lines if not line.blank), None)


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
    readers decode: from the start of the file, a byte-order mark dropped and a UTF-16/32 file's
    byte order found (``etl.read.decode.reading_encoding``); undecodable bytes kept as surrogates,
    line endings left as they are."""
    if start == 0:
        with open(path, "rb") as raw:
            codec = reading_encoding(raw.read(HEAD_BYTES), encoding)
    else:
        codec = codec_name(encoding)
    return io.TextIOWrapper(
        io.BufferedReader(_Window(path, start, end), 1 << 20), encoding=codec, errors=ESCAPE, newline=""
    )


def splittable(encoding: str) -> bool:
    """Whether a file in ``encoding`` can be cut at a line's end and each part decoded alone:
    UTF-8 and the single-byte code pages can; UTF-16/32 and other multi-byte or stateful ones cannot."""
    name = codec_name(encoding)
    if name in ("utf-8", "utf-8-sig"):
        return True
    return not name.startswith(("utf", "iso2022")) and len(bytes(range(256)).decode(name, errors="replace")) == 256


# --- CSV --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Unit:
    """One CSV record as the line scan delimits it: its fields, or why it has none."""

    no: int
    line: int  # its first physical line
    last_line: int
    lines: int  # non-blank physical lines
    end: int
    row: list[str] | None
    reason: str = ""
    detail: str = ""
    excerpt: str = ""

    @classmethod
    def rejected(cls, no: int, line: Line, reason: str, detail: str, excerpt: str = "") -> _Unit:
        """Record ``no``, the one line ``line``, rejected for ``reason``."""
        return cls(no, line.no, line.no, 1, line.end, None, reason, detail, excerpt)


def _fields_alone(text: str) -> int:
    """How many fields ``text`` has read as a row of its own (0 when it is not one)."""
    try:
        return len(next(csv.reader([text]), []))
    except csv.Error:
        return 0


def _row_by_itself(line: Line, last: bool, ncols: int) -> bool:
    """Whether a line inside a multi-line record reads as a complete row of ``ncols`` fields by
    itself. The last line holds the quote that closes the record's field: it counts only when that
    quote is its last character and its only one (``...,https://x/1"``), since a field that opens
    a legitimate record and closes on this line leaves the rest of the row after the quote
    (``"...\n...",b,c``), which is a row's shape too."""
    text = line.text
    if not text:
        return False
    if last:
        body = text.rstrip("\r\n")
        if not body.endswith('"') or body.count('"') != 1:
            return False
    return _fields_alone(text) == ncols


def _feed(first: Line, take, fed: list[Line], overflow: list[Line]) -> Iterator[str]:
    """The lines of one CSV record for ``csv.reader``, which pulls one more only while a quoted
    field is open; stops (leaving the record unfinished) before it would exceed ``MAX_RECORD_CHARS``."""
    assert first.text is not None
    yield first.text
    total = len(first.text)
    while (nxt := take()) is not None:
        if nxt.text is None or total + len(nxt.text) > MAX_RECORD_CHARS:
            overflow.append(nxt)
            return
        fed.append(nxt)
        total += len(nxt.text)
        yield nxt.text


def csv_units(lines: Iterator[Line], ncols: int, no: int = 0) -> Iterator[_Unit]:
    """The records of CSV ``lines`` (after the header), as the module docstring delimits them."""
    pending: deque[Line] = deque()

    def take() -> Line | None:
        return pending.popleft() if pending else next(lines, None)

    while (first := take()) is not None:
        if first.blank:
            continue
        no += 1
        if first.text is None:
            yield _Unit.rejected(
                no,
                first,
                TOO_LARGE,
                f"line {first.no}: {first.chars} characters in one line, over {MAX_RECORD_CHARS}; skipped unread",
            )
            continue
        fed: list[Line] = [first]
        overflow: list[Line] = []
        error = ""
        row: list[str] | None
        if '"' not in first.text:  # no quoting: the fields are what the commas separate, as csv reads them
            row = first.text.rstrip("\r\n").split(",")
        else:
            try:
                row = next(csv.reader(_feed(first, take, fed, overflow), strict=True), [])
            except csv.Error as exc:
                row, error = None, str(exc)
        if len(fed) == 1 and not overflow:
            if error and "unexpected end of data" in error:
                yield _Unit.rejected(
                    no, first, BAD_QUOTING,
                    f"line {first.no}: a quote opened on this line is never closed", _excerpt(first.text),
                )  # fmt: skip
                continue
            if error:  # a stray quote inside a field ('"ab"c"'): read leniently, as spreadsheets do
                try:
                    row = next(csv.reader([first.text]), [])
                except csv.Error as exc:
                    yield _Unit.rejected(
                        no,
                        first,
                        BAD_ROW_SHAPE,
                        f"line {first.no}: {exc}",
                        _excerpt(first.text),
                    )
                    continue
            assert row is not None
            if len(row) != ncols and has_surrogates(first.text):
                yield _Unit.rejected(
                    no, first, UNDECODABLE,
                    f"line {first.no}: bytes that are not valid in the declared encoding", _excerpt(first.text),
                )  # fmt: skip
                continue
            if len(row) != ncols:
                yield _Unit.rejected(
                    no, first, BAD_ROW_SHAPE,
                    f"line {first.no}: {len(row)} fields where the header has {ncols}", _excerpt(",".join(row)),
                )  # fmt: skip
                continue
            yield _Unit(no, first.no, first.no, 1, first.end, row)
            continue
        why = ""
        if overflow:
            why = f"the record would run past {MAX_RECORD_CHARS} characters"
        elif error:
            why = f"the quoted field it opens ends badly ({error})"
        elif row is None or len(row) != ncols:
            why = f"the record it starts has {len(row or [])} fields where the header has {ncols}"
        elif ncols >= 3:
            whole = next((ln for ln in fed[1:] if _row_by_itself(ln, ln is fed[-1], ncols)), None)
            if whole is not None:
                why = f"line {whole.no}, which it would swallow, is a complete row by itself"
        if why:
            pending.extendleft(reversed(fed[1:] + overflow))
            yield _Unit.rejected(
                no, first, BAD_QUOTING,
                f"line {first.no}: a quote opened on this line is not closed where it should be: {why}; "
                "only this line is rejected, reading goes on at the next",
                _excerpt(first.text),
            )  # fmt: skip
            continue
        assert row is not None
        yield _Unit(no, first.no, fed[-1].no, sum(1 for ln in fed if not ln.blank), fed[-1].end, row)


def _header(line: Line | None, source: Source) -> tuple[list[str] | None, Reject | None]:
    """The column names of a CSV header line, or the reject of the whole file."""
    if line is None:
        return None, None
    if line.text is None:
        return None, Reject(
            source.name,
            "",
            0,
            BAD_HEADER,
            f"a header line of {line.chars} characters, over {MAX_RECORD_CHARS}",
            lines=0,
        )
    try:
        header = next(csv.reader([line.text]), [])
    except csv.Error as exc:
        return None, Reject(source.name, "", 0, BAD_HEADER, f"the header line is not CSV: {exc}", lines=0)
    header = [h.strip().lstrip("\ufeff") for h in header]
    needed = {source.columns[f] for f in source.required if f in source.columns}
    missing = sorted(needed - set(header))
    if missing:
        shown = _excerpt(repr(header[:20]))
        return None, Reject(
            source.name, "", 0, MISSING_FIELD, f"column(s) {', '.join(missing)} not in header {shown}", lines=0
        )
    mapped = set(source.columns.values())
    twice = sorted(h for h, n in Counter(header).items() if n > 1 and h in mapped)
    if twice:
        return None, Reject(
            source.name, "", 0, BAD_HEADER, f"column(s) {', '.join(twice)} named more than once in the header", lines=0
        )
    return header, None


def read_csv(path: Path, rel: str, source: Source, span: Span | None = None) -> Records:
    """The records of a CSV file (or of one span of it): one per row, the header names the columns."""
    enc = source.encoding
    if span is None or span.start == 0:
        with _open(path, enc, 0, span.end if span else None) as fh:
            lines = physical_lines(fh)
            try:
                header, bad = _header(_first_nonblank(lines), source)
            except Undecodable as exc:
                yield Reject(source.name, rel, 0, UNDECODABLE, f"not valid {enc} {exc}", lines=0)
                return
            if bad is not None:
                bad.file = rel
                yield bad
            if header is not None:
                yield from _csv_records(lines, header, rel, source, span.first_no if span else 0)
        return
    with _open(path, enc, 0, span.header_end) as fh:
        header, bad = _header(_first_nonblank(physical_lines(fh)), source)
    if header is None:
        return  # the span that starts the file reports it (and split_file never cuts such a file)
    with _open(path, enc, span.start, span.end) as fh:
        yield from _csv_records(physical_lines(fh, span.first_line), header, rel, source, span.first_no)


def _csv_records(lines: Iterator[Line], header: list[str], rel: str, source: Source, no: int) -> Records:
    try:
        for unit in csv_units(lines, len(header), no):
            no = unit.no
            if unit.row is None:
                yield Reject(source.name, rel, unit.no, unit.reason, unit.detail, unit.excerpt)
            else:
                rec = _record(source, rel, unit.no, dict(zip(header, unit.row)))
                rec.lines = unit.lines
                yield rec
    except Undecodable as exc:
        yield Reject(
            source.name,
            rel,
            no + 1,
            UNDECODABLE,
            f"not valid {source.encoding} {exc}; the rest of the file is not read",
        )


def split_csv(path: Path, source: Source, target_bytes: int) -> list[Span]:
    return split(path, source, target_bytes, csv_rows=True)


def split_jsonl(path: Path, source: Source, target_bytes: int) -> list[Span]:
    return split(path, source, target_bytes, csv_rows=False)


def split(path: Path, source: Source, target_bytes: int, csv_rows: bool) -> list[Span]:
    """Cut a file into spans of whole records of about ``target_bytes`` each.

    One pass that reads the file the way ``read`` does (same decoding, same line and CSV record
    boundaries, same numbering of records), so a span never starts inside a record, even a CSV
    field with line breaks in it. A file at most ``target_bytes`` long, a JSON document, and a
    CSV file whose header the reader rejects are one span.
    """
    encoding = codec_name(source.encoding)
    size = path.stat().st_size
    whole = [Span(0, size, 0)]
    with open(path, "rb") as raw:
        pos = 3 if encoding in ("utf-8", "utf-8-sig") and raw.read(3) == codecs.BOM_UTF8 else 0
    count_as = "utf-8" if encoding == "utf-8-sig" else encoding
    spans: list[Span] = []
    with _open(path, encoding, 0, None) as fh:
        lines = physical_lines(fh, 0, pos, count_as)
        header_end = 0
        units: Iterator[tuple[int, int, int]]
        try:
            if csv_rows:
                first = _first_nonblank(lines)
                header, bad = _header(first, source)
                if header is None or first is None:
                    return whole
                header_end = first.end
                units = ((u.no, u.end, u.last_line) for u in csv_units(lines, len(header)))
            else:
                if is_document(path, source):
                    return whole
                units = ((i, ln.end, ln.no) for i, ln in enumerate((ln for ln in lines if not ln.blank), 1))
            start, first_no, first_line, no = 0, 0, 0, 0
            for no, end, last_line in units:
                if end - start >= target_bytes:
                    spans.append(Span(start, end, first_no, header_end, first_line))
                    start, first_no, first_line = end, no, last_line
        except Undecodable:
            return whole
    if spans and no == first_no:  # only blank lines after the last cut: they join the last span
        spans[-1] = Span(spans[-1].start, size, spans[-1].first_no, header_end, spans[-1].first_line)
    elif size > start or not spans:
        spans.append(Span(start, size, first_no, header_end, first_line))
    return spans


# --- JSONL and JSON documents -----------------------------------------------------------------


def is_document(path: Path, source: Source) -> bool:
    """Whether a file of the JSONL format is one JSON document, not a record a line: any file
    whose first line is a lone ``[`` or ``{`` (a pretty-printed document), and a ``.json`` file
    (up to ``MAX_DOCUMENT_BYTES``) that parses whole as one JSON value."""
    with _open(path, source.encoding, 0, None) as fh:
        try:
            first = _first_nonblank(physical_lines(fh))
        except Undecodable:
            return False
    if first is None or first.text is None:
        return False
    text = first.text.strip(_ASCII_SPACE).lstrip("\ufeff")
    if text in ("[", "{"):
        return True
    if not path.name.lower().endswith(".json") or not text.startswith(("[", "{")):
        return False
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        return False
    whole, error = decode_text(path.read_bytes(), source.encoding)
    return not error and not _parse_json(whole)[1]


def read_jsonl(path: Path, rel: str, source: Source, span: Span | None = None) -> Records:
    """The records of a JSONL file (or of one span of it): one JSON object per line; or of a JSON
    array document, one per element."""
    start = span.start if span else 0
    if start == 0 and is_document(path, source):
        yield from _read_document(path, rel, source)
        return
    no = span.first_no if span else 0
    with _open(path, source.encoding, start, span.end if span else None) as fh:
        try:
            for line in physical_lines(fh, span.first_line if span else 0):
                if line.blank:
                    continue
                no += 1
                yield _json_line(line, rel, source, no)
        except Undecodable as exc:
            yield Reject(
                source.name,
                rel,
                no + 1,
                UNDECODABLE,
                f"not valid {source.encoding} {exc}; the rest of the file is not read",
            )


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON ``text`` nests arrays and objects deeper than ``limit`` (brackets inside
    strings do not count); cheap when there are few brackets at all."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for ch in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        depth += 1 if ch in "[{" else -1
        if depth > limit:
            return True
    return False


def _parse_json(text: str) -> tuple[object, str]:
    """The value of JSON ``text``, or ``(None, why not)``: never raises for bad content."""
    if too_deep(text):
        return None, f"nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        return json.loads(text), ""
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except (ValueError, RecursionError, OverflowError, MemoryError) as exc:
        return None, f"invalid JSON: {type(exc).__name__}: {exc}"


def _json_line(line: Line, rel: str, source: Source, no: int) -> RawRecord | Reject:
    if line.text is None:
        return Reject(
            source.name,
            rel,
            no,
            TOO_LARGE,
            f"line {line.no}: {line.chars} characters in one line, over {MAX_RECORD_CHARS}; skipped unread",
        )
    obj, error = _parse_json(line.text.removeprefix("\ufeff"))  # a mark left where files were joined
    if error and has_surrogates(line.text):
        return Reject(
            source.name,
            rel,
            no,
            UNDECODABLE,
            f"line {line.no}: bytes that are not valid {source.encoding} ({error})",
            _excerpt(line.text),
        )
    if error:
        return Reject(source.name, rel, no, BAD_JSON, f"line {line.no}: {error}", _excerpt(line.text))
    if not isinstance(obj, dict):
        return Reject(
            source.name,
            rel,
            no,
            BAD_JSON,
            f"line {line.no}: a JSON {_json_type(obj)}, not an object",
            _excerpt(line.text),
        )
    return _record(source, rel, no, obj)


def _read_document(path: Path, rel: str, source: Source) -> Records:
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        yield Reject(
            source.name,
            rel,
            0,
            TOO_LARGE,
            f"a JSON array of {size} bytes, over {MAX_DOCUMENT_BYTES}: write a dump this large as JSONL, "
            "one object a line",
            lines=0,
        )
        return
    text, error = decode_text(path.read_bytes(), source.encoding)
    if error:
        yield Reject(source.name, rel, 0, UNDECODABLE, error, lines=0)
        return
    value, error = _parse_json(text)
    if isinstance(value, dict):
        value = [value]  # one pretty-printed object: one record
    if error or not isinstance(value, list):
        why = (
            f"a JSON document (its first line opens it) that does not parse: {error}"
            if error
            else f"a JSON document holding a {_json_type(value)}, not an array of records or one record"
        )
        yield Reject(source.name, rel, 0, BAD_JSON, why, lines=0)
        return
    del text
    for no, obj in enumerate(value, 1):
        if isinstance(obj, dict):
            yield _record(source, rel, no, obj)
        else:
            yield Reject(source.name, rel, no, BAD_JSON, f"element {no} is a JSON {_json_type(obj)}, not an object")


# --- fields -----------------------------------------------------------------------------------

#: Fields that may hold a JSON number as well as a string (an id of 12345 is the text "12345").
_NUMBER_FIELDS = ("external_id", "published")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _record(source: Source, rel: str, no: int, row: dict) -> RawRecord | Reject:
    size = sum(len(v) for v in row.values() if isinstance(v, str))
    if size > MAX_RECORD_CHARS:
        return Reject(source.name, rel, no, TOO_LARGE, f"{size} characters in one record")
    fields: dict[str, str | None] = {}
    for name, column in source.columns.items():
        value = row.get(column)
        if value is None or isinstance(value, str):
            fields[name] = value
        elif name in _NUMBER_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                return Reject(source.name, rel, no, BAD_FIELD_TYPE, f"field {name} (column {column!r}) is {value}")
            fields[name] = str(value)
        else:
            return Reject(
                source.name,
                rel,
                no,
                BAD_FIELD_TYPE,
                f"field {name} (column {column!r}) is a JSON {_json_type(value)}, not a string",
                _excerpt(json.dumps(value, ensure_ascii=False)[:_EXCERPT] if _json_type(value) == "number" else ""),
            )
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


def _excerpt(text: str | None) -> str:
    return (text or "")[:_EXCERPT].encode("utf-8", "replace").decode("utf-8")


# --- the independent count --------------------------------------------------------------------


def count_lines(path: Path, source: Source, span: Span | None, csv_rows: bool) -> int | None:
    """The non-blank physical lines of a file (or span) that hold records, counted without
    parsing them: what the records a reader yields must cover (``RawRecord.lines``). A CSV
    file's header line is not one; a stream that stops decoding counts its rest as one line.
    None for a JSON document, whose records are its array's elements."""
    start = span.start if span else 0
    if not csv_rows and start == 0 and is_document(path, source):
        return None
    n = 0
    with _open(path, source.encoding, start, span.end if span else None) as fh:
        try:
            for line in physical_lines(fh):
                n += not line.blank
        except Undecodable:
            n += 1
    if csv_rows and start == 0 and n:
        n -= 1
    return n
