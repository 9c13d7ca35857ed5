"""CSV and JSONL dumps: one article per row or line, fields found through the source's column mapping.

Both stream the file, so memory stays flat however large the dump is. Bytes that are not
valid in the declared encoding are carried through with ``surrogateescape`` and reject only
the record that holds them.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from etl.config import Source
from etl.read.decode import has_invalid_characters, has_surrogates
from etl.records import (BAD_JSON, BAD_ROW_SHAPE, INVALID_CHARACTERS, MAX_RECORD_CHARS, MISSING_FIELD, TOO_LARGE,
                         UNDECODABLE, RawRecord, Reject)

csv.field_size_limit(sys.maxsize)
_EXCERPT = 200


def read(path: Path, rel: str, source: Source) -> Iterator[RawRecord | Reject]:
    reader = _read_csv if source.format == "csv" else _read_jsonl
    encoding = "utf-8-sig" if codecs.lookup(source.encoding).name == "utf-8" else source.encoding
    with open(path, encoding=encoding, errors="surrogateescape", newline="") as fh:
        yield from reader(fh, rel, source)


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
        return Reject(source.name, rel, no, UNDECODABLE,
                      f"field(s) {', '.join(bad)} hold bytes that are not valid {source.encoding}",
                      _excerpt(fields[bad[0]]))
    bad = [k for k, v in fields.items() if v and has_invalid_characters(v)]
    if bad:
        return Reject(source.name, rel, no, INVALID_CHARACTERS,
                      f"field(s) {', '.join(bad)} hold NUL bytes or lone surrogates")
    return RawRecord(source.name, rel, no, fields)


def _read_csv(fh: io.TextIOBase, rel: str, source: Source) -> Iterator[RawRecord | Reject]:
    rows = csv.reader(fh)
    header = next(rows, None)
    if header is None:
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    needed = {source.columns[f] for f in source.required if f in source.columns}
    missing = sorted(needed - set(header))
    if missing:
        yield Reject(source.name, rel, 0, MISSING_FIELD,
                     f"column(s) {', '.join(missing)} not in header {header}")
        return
    no = 0
    for row in rows:
        if not row:
            continue  # a blank line is not a record
        no += 1
        if len(row) != len(header):
            yield Reject(source.name, rel, no, BAD_ROW_SHAPE,
                         f"{len(row)} fields where the header has {len(header)}",
                         _excerpt(",".join(row)))
            continue
        yield _record(source, rel, no, dict(zip(header, row)))


def _read_jsonl(fh: io.TextIOBase, rel: str, source: Source) -> Iterator[RawRecord | Reject]:
    no = 0
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
            yield Reject(source.name, rel, no, BAD_JSON, f"invalid JSON: {exc.msg} at column {exc.colno}",
                         _excerpt(line))
            continue
        if not isinstance(obj, dict):
            yield Reject(source.name, rel, no, BAD_JSON, f"a JSON {type(obj).__name__}, not an object",
                         _excerpt(line))
            continue
        yield _record(source, rel, no, obj)


def _excerpt(text: str | None) -> str:
    return (text or "")[:_EXCERPT].encode("utf-8", "replace").decode("utf-8")
