"""Hostile content through the readers: nothing raises, one fault costs one record, and what a
reader yields covers exactly the lines an independent count finds in the file."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import read as readers
from etl.articles import clean_record
from etl.config import make_source
from etl.enrich.dates import parse_date
from etl.errors import InvariantError
from etl.read import count_records, read_file, split_file, tabular
from etl.read.tabular import MAX_RECORD_CHARS, physical_lines, splittable
from etl.records import REASONS, RawRecord, Reject
from etl.tasks.transform import read_accounted
from tests.support.runs import run_pipeline
from tests.support.unprivileged import open_folder, unprivileged

DAY = dt.date(2024, 11, 8)
CSV_COLS = {"headline": "title", "body": "content", "url": "link"}
JSON_COLS = {"headline": "t", "body": "b", "url": "u", "external_id": "id", "published": "p"}
HEADER = "title,content,link\n"


def _read(tmp_path: Path, name: str, data: bytes, fmt: str = "csv", encoding: str = "utf-8", columns=None):
    """Every record and reject of one real file, after checking the accounting of its lines."""
    path = tmp_path / name
    path.write_bytes(data)
    src = make_source("s", str(path), fmt, columns or (CSV_COLS if fmt == "csv" else JSON_COLS), encoding=encoding)
    out = list(read_file(path, name, src))
    if not any(isinstance(r, Reject) and r.record_no == 0 for r in out):
        expected = count_records(path, src)
        if expected is not None:
            assert sum(r.lines for r in out) == expected, "the reader's records do not cover the file's lines"
    assert [r.record_no for r in out] == sorted(r.record_no for r in out)
    return out


def _summary(out) -> list[tuple]:
    return [
        (r.record_no, "ok", r.fields.get("headline")) if isinstance(r, RawRecord) else (r.record_no, r.reason)
        for r in out
    ]


# --- CSV quoting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "broken",
    [
        '"bad title,body,https://x/0\n',  # the quote opens the first field and is never closed
        'bad,"body,https://x/0\n',  # ... a middle field
        'bad,body,"https://x/0\n',  # ... the last field
        'bad,"body with "inner" quote,https://x/0\n',  # a quote closed early, then text
    ],
    ids=["first_field", "middle_field", "last_field", "inner_quotes"],
)
def test_a_broken_quote_costs_one_record_not_the_rows_after_it(tmp_path, broken):
    good = "".join(f"good{i},body {i},https://x/{i}\n" for i in range(1, 4))
    quoted = 'g4,"quoted, with comma",https://x/4\n'
    out = _read(tmp_path, "d.csv", (HEADER + broken + good + quoted).encode())
    kinds = _summary(out)
    assert len(kinds) == 5, kinds
    assert kinds[1:] == [(2, "ok", "good1"), (3, "ok", "good2"), (4, "ok", "good3"), (5, "ok", "g4")]
    if kinds[0][1] != "ok":
        assert kinds[0] == (1, "bad_quoting")
        assert out[0].detail.startswith("line 2:") and "bad" in out[0].excerpt


def test_a_quote_closed_on_a_later_line_that_is_a_row_by_itself(tmp_path):
    data = HEADER + 'a,b,"https://x/0\ngood1,body1,https://x/1"\ngood2,body2,https://x/2\n'
    out = _read(tmp_path, "d.csv", data.encode())
    assert _summary(out)[0] == (1, "bad_quoting") and "line 3" in out[0].detail
    assert [r.fields["headline"] for r in out[1:]] == ["good1", "good2"]


def test_an_unclosed_quote_on_the_last_line(tmp_path):
    out = _read(tmp_path, "d.csv", (HEADER + 'good,body,https://x/1\nlast,"never closed,u\n').encode())
    assert _summary(out) == [(1, "ok", "good"), (2, "bad_quoting")]


def test_legitimate_multiline_fields_still_load(tmp_path):
    data = (
        HEADER
        + 'one,"first paragraph\n\nsecond paragraph, with a comma\nthird",https://x/1\r\n'
        + 'two,"پہلی سطر\r\nدوسری سطر",https://x/2\r\n'
        + "three,plain,https://x/3\n"
    )
    out = _read(tmp_path, "d.csv", data.encode())
    assert [r.fields["headline"] for r in out] == ["one", "two", "three"]
    assert out[0].fields["body"] == "first paragraph\n\nsecond paragraph, with a comma\nthird"
    assert [r.lines for r in out] == [3, 2, 1]  # blank lines inside a field are not counted


def test_a_quote_that_would_swallow_the_rest_of_the_file_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_RECORD_CHARS", 200)
    body = "".join(f"row{i},{'x' * 40},https://x/{i}\n" for i in range(20))
    out = _read(tmp_path, "d.csv", (HEADER + 'bad,"open' + "\n" + body).encode())
    assert _summary(out)[0] == (1, "bad_quoting")
    assert len(out) == 21 and all(isinstance(r, RawRecord) for r in out[1:])


def test_spans_agree_with_the_reader_on_broken_quotes(tmp_path):
    rows = []
    for i in range(300):
        if i % 37 == 5:
            rows.append(f'bad{i},"unclosed {i},https://x/{i}\n')
        elif i % 11 == 0:
            rows.append(f'm{i},"line one\nline two {i}",https://x/{i}\n')
        else:
            rows.append(f"g{i},body {i},https://x/{i}\n")
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    src = make_source("s", str(path), "csv", CSV_COLS)
    whole = [(type(r).__name__, r.record_no, r.lines, getattr(r, "reason", "")) for r in read_file(path, "b", src)]
    assert sum(1 for w in whole if w[3] == "bad_quoting") == len([i for i in range(300) if i % 37 == 5])
    assert len(whole) == 300 and sum(w[2] for w in whole) == count_records(path, src)
    for target in (300, 1_000, 2_500):
        spans = split_file(path, src, target)
        assert spans and len(spans) > 1
        parts = [
            (type(r).__name__, r.record_no, r.lines, getattr(r, "reason", ""))
            for span in spans
            for r in read_file(path, "b", src, span)
        ]
        assert parts == whole
        assert sum(count_records(path, src, span) or 0 for span in spans) == count_records(path, src)
        for span in spans[1:]:  # line numbers in rejects are the file's, not the span's
            for r in read_file(path, "b", src, span):
                if isinstance(r, Reject):
                    assert r.detail.startswith(f"line {r.record_no + 1}:") or "line" in r.detail


def test_cr_only_line_endings_duplicate_and_empty_headers(tmp_path):
    out = _read(tmp_path, "cr.csv", (HEADER.replace("\n", "\r") + "a,b,u1\rc,d,u2\r").encode())
    assert [r.fields["body"] for r in out] == ["b", "d"]
    out = _read(tmp_path, "dup.csv", b"title,content,content,link\na,b,c,u\n")
    assert _summary(out) == [(0, "bad_header")] and "content" in out[0].detail
    out = _read(tmp_path, "empty.csv", b",,\na,b,c\n")
    assert _summary(out) == [(0, "missing_field")]
    wide = ",".join(f"c{i}" for i in range(1_000_000)) + "\n"
    out = _read(tmp_path, "wide.csv", (wide + "a,b\n").encode())
    assert _summary(out) == [(0, "bad_header")] and "header line of" in out[0].detail


def test_bad_bytes_and_wrong_shapes_reject_one_row(tmp_path):
    data = HEADER.encode() + b"a,\xed\xa0\x80 surrogate,u\nb,good,u2\n\xff\xfe\n" + "c,آخری,u3\n".encode()
    out = _read(tmp_path, "d.csv", data)
    assert _summary(out) == [(1, "undecodable_bytes"), (2, "ok", "b"), (3, "undecodable_bytes"), (4, "ok", "c")]


# --- JSON -------------------------------------------------------------------------------------


def test_deep_nesting_is_a_reject_not_a_crash(tmp_path):
    deep = b"[" * 100_000 + b"]" * 100_000
    deep_obj = b'{"b": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001
    data = b'{"b": "one"}\n' + deep + b"\n" + deep_obj + b'\n{"b": "[[[[ brackets in a string ]]]]"}\n'
    out = _read(tmp_path, "d.jsonl", data, "jsonl")
    assert _summary(out) == [(1, "ok", None), (2, "bad_json"), (3, "bad_json"), (4, "ok", None)]
    assert "nested deeper than 64" in out[1].detail and out[1].detail.startswith("line 2:")


def test_a_ten_megabyte_line_is_skipped_unread(tmp_path):
    data = b'{"b": "one"}\n{"b": "' + b"x" * 10_000_000 + b'"}\n{"b": "two"}\n'
    out = _read(tmp_path, "d.jsonl", data, "jsonl")
    assert _summary(out) == [(1, "ok", None), (2, "record_too_large"), (3, "ok", None)]
    assert "10000010 characters" in out[1].detail and "skipped unread" in out[1].detail
    csv_data = (HEADER + "a,b,u\n" + "big," + "خ" * 3_000_000 + ",u\nc,d,u\n").encode()
    out = _read(tmp_path, "d.csv", csv_data)
    assert _summary(out) == [(1, "ok", "a"), (2, "record_too_large"), (3, "ok", "c")]


def test_line_reads_are_bounded_by_the_cap(tmp_path):
    """What a reader holds of one line is at most the cap: every readline it makes is bounded
    and returns no more than MAX_RECORD_CHARS + 1 characters, however long the line."""
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"b": "' + b"x" * 10_000_000 + b'"}\n{"b": "two"}\n')

    class Recording(io.TextIOWrapper):
        limits: list[int] = []
        longest = 0

        def readline(self, size=-1):
            Recording.limits.append(size)
            line = super().readline(size)
            Recording.longest = max(Recording.longest, len(line))
            return line

    with Recording(open(path, "rb"), encoding="utf-8", newline="") as fh:
        lines = list(physical_lines(fh))
    assert [ln.text is None for ln in lines] == [True, False]
    assert lines[0].chars == 10_000_010
    assert all(0 < limit <= MAX_RECORD_CHARS + 1 for limit in Recording.limits)
    assert Recording.longest <= MAX_RECORD_CHARS + 1


def test_field_types(tmp_path):
    lines = [
        {"b": 12345},
        {"b": True},
        {"b": {"x": 1}},
        {"b": ["a"]},
        {"b": "عددی شناخت", "id": 12345},
        {"b": "متن", "t": False},
        {"b": "متن", "p": 1e20},
        {"b": "متن", "id": None, "t": None},
    ]
    data = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode() + b'\n{"b": "x", "id": 1e999}\n'
    out = _read(tmp_path, "d.jsonl", data, "jsonl")
    reasons = [r.reason if isinstance(r, Reject) else "ok" for r in out]
    assert reasons == ["bad_field_type"] * 4 + ["ok", "bad_field_type", "ok", "ok", "bad_field_type"]
    assert "field body" in out[0].detail and "JSON number" in out[0].detail
    assert "JSON boolean" in out[1].detail and "JSON object" in out[2].detail and "JSON array" in out[3].detail
    assert out[4].fields["external_id"] == "12345"
    assert "field headline" in out[5].detail


@pytest.mark.parametrize("name", ["d.json", "d.jsonl"])
def test_a_pretty_printed_json_array_is_read_as_records(tmp_path, name):
    data = json.dumps([{"b": "ایک"}, {"b": "دو"}, 3, {"b": 4}], indent=2, ensure_ascii=False).encode()
    out = _read(tmp_path, name, data, "jsonl")
    assert _summary(out) == [(1, "ok", None), (2, "ok", None), (3, "bad_json"), (4, "bad_field_type")]
    path = tmp_path / name
    src = make_source("s", str(path), "jsonl", JSON_COLS)
    assert split_file(path, src, 10) is None  # a document is never cut
    out = _read(tmp_path, "broken.json", b"[\n" + b'{"b": "x"},\n' * 3, "jsonl")
    assert (
        _summary(out) == [(0, "bad_json")]
        and "JSON document (its first line opens it) that does not parse" in out[0].detail
    )


# --- encodings --------------------------------------------------------------------------------

TEXT = HEADER + "سرخی,متن خبر,https://x/1\nدوسری,دوسرا متن,https://x/2\n"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-32"])
def test_wide_encodings_with_or_without_a_byte_order_mark(tmp_path, codec):
    family = codec[:6]
    out = _read(tmp_path, "d.csv", TEXT.encode(codec), encoding=family)
    assert [r.fields["body"] for r in out] == ["متن خبر", "دوسرا متن"]
    out = _read(tmp_path, "e.csv", TEXT.encode(codec), encoding=codec)  # the byte order declared
    assert [r.fields["body"] for r in out] == ["متن خبر", "دوسرا متن"]
    assert not splittable(codec) and split_file(tmp_path / "d.csv", make_source("s", "u", "csv", CSV_COLS), 10) is None


def test_utf16_odd_byte_count_rejects_only_the_last_record(tmp_path):
    out = _read(tmp_path, "d.csv", TEXT.encode("utf-16") + b"\x41", encoding="utf-16")
    assert _summary(out)[:2] == [(1, "ok", "سرخی"), (2, "ok", "دوسری")]
    assert _summary(out)[2:] == [(3, "undecodable_bytes")]


def test_a_lone_utf16_surrogate_rejects_its_line_only(tmp_path):
    data = '{"b": "ایک"}\n'.encode("utf-16-le") + b"\x00\xd8" + '"x"\n{"b": "دو"}\n'.encode("utf-16-le")
    out = _read(tmp_path, "d.jsonl", data, "jsonl", encoding="utf-16-le")
    assert _summary(out) == [(1, "ok", None), (2, "undecodable_bytes"), (3, "ok", None)]


@pytest.mark.parametrize(
    "data, declared, says",
    [
        (
            TEXT.encode("utf-16-le"),
            "utf-8",
            "looks like UTF-16 (NUL bytes between characters); declare encoding: utf-16",
        ),
        ("سرخی\n\nمتن خبر".encode("utf-16-le"), "utf-8", "looks like UTF-16"),
        (TEXT.encode("utf-32-le"), "cp1256", "looks like UTF-32"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-le", "UTF-16 byte-order mark"),
        (codecs.BOM_UTF8 + TEXT.encode(), "utf-16", "UTF-8 byte-order mark"),
        (TEXT.encode("utf-16"), "utf-8", "declare encoding: utf-16"),
        (TEXT.encode("utf-32"), "utf-16", "declare encoding: utf-32"),
    ],
    ids=[
        "utf16_as_utf8",
        "utf16_urdu_only",
        "utf32_as_cp1256",
        "bom_against_order",
        "utf8_bom_as_utf16",
        "bom16",
        "bom32",
    ],
)
def test_a_file_in_another_encoding_is_one_clear_reject(tmp_path, data, declared, says):
    for name, fmt in (("d.csv", "csv"), ("d.txt", "seed_txt")):
        out = _read(tmp_path, name, data, fmt, encoding=declared, columns={} if fmt == "seed_txt" else None)
        assert len(out) == 1 and out[0].reason == "undecodable_bytes", out
        assert says in out[0].detail and "\x00" not in out[0].detail


# --- files ------------------------------------------------------------------------------------


def test_files_that_are_not_there_or_not_files(tmp_path):
    src = make_source("s", str(tmp_path), "csv", CSV_COLS)
    (tmp_path / "dir.csv").mkdir()
    out = list(read_file(tmp_path / "dir.csv", "dir.csv", src))
    assert _summary(out) == [(0, "unexpected_file")]
    out = list(read_file(tmp_path / "gone.csv", "gone.csv", src))  # listed, then removed before reading
    assert _summary(out) == [(0, "unreadable_file")] and "FileNotFoundError" in out[0].detail
    out = _read(tmp_path, "zero.csv", b"")
    assert _summary(out) == [(0, "empty_file")]
    out = _read(tmp_path, "blank.jsonl", b"\n  \n\t\n", "jsonl")
    assert out == []


def test_a_file_without_read_permission():
    with open_folder() as folder:
        path = folder / "locked.csv"
        path.write_bytes((HEADER + "a,b,c\n").encode())
        path.chmod(0)
        source = make_source("s", str(path), "csv", CSV_COLS)
        out = unprivileged(lambda: list(read_file(path, "locked.csv", source)))
    assert _summary(out) == [(0, "unreadable_file")] and "PermissionError" in out[0].detail


def test_an_unexpected_failure_rejects_the_rest_of_the_file(tmp_path, monkeypatch):
    """The last safety net: a reader that raises part way (here a real reader made to fail after
    its second record) ends that file with one reject that counts the lines it did not read."""
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"".join(b'{"b": "line %d"}\n' % i for i in range(6)))
    real = readers.FORMATS["jsonl"]

    def failing(path, rel, source, span=None):
        for n, rec in enumerate(real.read(path, rel, source, span)):
            if n == 2:
                raise RuntimeError("boom")
            yield rec

    monkeypatch.setitem(readers.FORMATS, "jsonl", real.__class__(real.suffixes, failing, True, real.split))
    src = make_source("s", str(path), "jsonl", JSON_COLS)
    out = read_accounted(path, "d.jsonl", src, None)
    assert _summary(out)[:2] == [(1, "ok", None), (2, "ok", None)]
    assert _summary(out)[2:] == [(3, "unreadable_file")]
    assert "RuntimeError: boom" in out[2].detail and "(4 line(s))" in out[2].detail
    assert sum(r.lines for r in out) == 6


def test_lines_a_reader_misses_are_rejects_and_extra_ones_an_error(tmp_path, monkeypatch):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"".join(b'{"b": "line %d"}\n' % i for i in range(5)))
    real = readers.FORMATS["jsonl"]
    src = make_source("s", str(path), "jsonl", JSON_COLS)

    def losing(path, rel, source, span=None):
        yield from (r for r in real.read(path, rel, source, span) if r.record_no != 3)

    monkeypatch.setitem(readers.FORMATS, "jsonl", real.__class__(real.suffixes, losing, True, real.split))
    out = read_accounted(path, "d.jsonl", src, None)
    assert len(out) == 5 and [r.reason for r in out if isinstance(r, Reject)] == ["unaccounted_records"]

    def inflating(path, rel, source, span=None):
        for r in real.read(path, rel, source, span):
            r.lines = 2
            yield r

    monkeypatch.setitem(readers.FORMATS, "jsonl", real.__class__(real.suffixes, inflating, True, real.split))
    with pytest.raises(InvariantError, match="covering 10 lines"):
        read_accounted(path, "d.jsonl", src, None)


def test_new_reasons_are_documented():
    schema = (Path(__file__).resolve().parents[1] / "docs" / "SCHEMA.md").read_text(encoding="utf-8")
    for reason in ("bad_quoting", "bad_field_type", "bad_header", "unaccounted_records"):
        assert reason in REASONS and f"`{reason}`" in schema


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Fri, 01 Jan 9999 23:59:59 +0500",
        "Fri, 31 Dec 9999 23:59:59 -0500",
        "Mon, 01 Jan 0001 00:00:00 +0500",
        "0000-01-01",
        "9999-12-31T23:59:59Z",
        "1e20",
        "100000000000000000000",
        "31.12.9999",
        "01 جنوری 9999",
        "2263-01-01",
    ],
)
def test_out_of_range_dates_are_dropped_and_the_article_kept(text):
    assert parse_date(text) is None
    rec = RawRecord("s", "f.jsonl", 1, {"body": "لاہور: ایک خبر۔", "published": text, "headline": "سرخی"})
    article = clean_record(rec, DAY)
    assert isinstance(article, dict) and article["published_at"] is None
    assert isinstance(clean_record(rec, dt.date(9999, 12, 31)), dict)  # the last day of the calendar too


def test_epoch_seconds_and_milliseconds():
    assert parse_date("1700000000") == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert parse_date("1700000000000") == parse_date("1700000000")


# --- whole runs -------------------------------------------------------------------------------


def _db(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(sql))]
    engine.dispose()
    return rows


def test_pipeline_csv_with_a_broken_quote(tmp_path):
    dump = tmp_path / "dump.csv"
    good = [f"سرخی {i},لاہور: خبر نمبر {i} کا متن۔,https://x/{i}\n" for i in range(1, 6)]
    multi = 'کئی سطریں,"پہلی سطر۔\n\nدوسری سطر۔",https://x/m\n'
    dump.write_text(HEADER + good[0] + '"ٹوٹی,متن,u\n' + "".join(good[1:]) + multi, encoding="utf-8")
    src = make_source("s", str(dump), "csv", CSV_COLS)
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    summary = run_pipeline([src], DAY, tmp_path / "data", url)
    assert summary["status"] == "ok"
    assert summary["records_in"] == summary["loaded"] + summary["duplicates"] + summary["rejected"]
    rejects = _db(url, "select record_no, reason from rejects order by record_no")
    assert rejects == [(2, "bad_quoting")]
    assert summary["loaded"] == 6
    assert summary["records_in"] == count_records(dump, src) - 1  # the multi-line record covers two lines
    bodies = {b for (b,) in _db(url, "select body from articles")}
    assert all(any(f"خبر نمبر {i} کا" in b for b in bodies) for i in range(1, 6))
    assert any("دوسری سطر" in b for b in bodies)


def test_pipeline_hostile_jsonl_beside_a_healthy_utf16_source(tmp_path):
    bad = tmp_path / "bad.jsonl"
    lines = [
        json.dumps({"b": "کراچی: پہلی اچھی خبر۔", "u": "https://j/1"}, ensure_ascii=False),
        "[" * 100_000 + "]" * 100_000,
        '{"b": "' + "x" * 3_000_000 + '"}',
        json.dumps({"b": 12345, "u": "https://j/3"}),
        json.dumps(
            {"b": "پشاور: تاریخ بہت دور کی۔", "u": "https://j/4", "p": "Fri, 31 Dec 9999 23:59:59 -0500"},
            ensure_ascii=False,
        ),
        "",
        json.dumps({"b": "کوئٹہ: آخری اچھی خبر۔", "u": "https://j/5", "id": 77}, ensure_ascii=False),
    ]
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wide = tmp_path / "wide.csv"
    wide.write_bytes((HEADER + "سرخی,ملتان: یو ٹی ایف سولہ کی خبر۔,https://w/1\n").encode("utf-16-be"))
    sources = [
        make_source("hostile", str(bad), "jsonl", JSON_COLS),
        make_source("wide", str(wide), "csv", CSV_COLS, encoding="utf-16"),
    ]
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    summary = run_pipeline(sources, DAY, tmp_path / "data", url)
    assert summary["status"] == "ok"
    hostile = summary["sources"]["hostile"]
    assert hostile["records_in"] == 6 == count_records(bad, sources[0])  # the non-blank lines
    assert hostile["records_in"] == hostile["loaded"] + hostile["duplicates"] + hostile["rejected"]
    assert (hostile["loaded"], hostile["rejected"]) == (3, 3)
    assert summary["sources"]["wide"]["loaded"] == 1
    reasons = _db(url, "select record_no, reason from rejects order by record_no")
    assert reasons == [(2, "bad_json"), (3, "record_too_large"), (4, "bad_field_type")]
    dated = _db(url, "select url, published_at, external_id from articles where url like 'https://j/%' order by url")
    assert [(u, p) for u, p, _ in dated] == [("https://j/1", None), ("https://j/4", None), ("https://j/5", None)]
    assert dated[2][2] == "77"


def test_a_record_whose_first_field_runs_over_lines_loads(tmp_path):
    """As news dumps exported from spreadsheets have it: the quote that closes the first field is
    followed by the rest of the row, so the closing line has the header's shape by itself."""
    data = HEADER + '"\tسرخی کی پہلی سطر\t\nدوسری سطر",متن ایک,https://x/1\r\n' + '"ایک سطر",متن دو,https://x/2\r\n'
    out = _read(tmp_path, "d.csv", data.encode())
    assert [r.fields["body"] for r in out] == ["متن ایک", "متن دو"] and out[0].lines == 2


def test_json_documents_and_json_lines_in_json_files(tmp_path):
    pretty = json.dumps({"b": "ایک خبر", "t": "سرخی"}, indent=2, ensure_ascii=False).encode()
    out = _read(tmp_path, "one.json", pretty, "jsonl")
    assert _summary(out) == [(1, "ok", "سرخی")]
    out = _read(tmp_path, "broken.jsonl", b"{\n" + b'"b": "x",\n' * 3, "jsonl")  # one clear reject, not four
    assert _summary(out) == [(0, "bad_json")] and "does not parse" in out[0].detail
    lines = b'{"b": "first, broken"\n{"b": "two"}\n\xef\xbb\xbf{"b": "three, after a joined file"}\n'
    out = _read(tmp_path, "lines.json", lines, "jsonl")  # JSON lines in a .json file stay lines
    assert _summary(out) == [(1, "bad_json"), (2, "ok", None), (3, "ok", None)]


def test_binary_documents_in_place_of_articles(tmp_path):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
    out = _read(tmp_path, "story.doc", ole, "bbc_doc", columns={})
    assert _summary(out) == [(0, "unexpected_file")] and "Word" in out[0].detail
    out = _read(tmp_path, "story.txt", b"PK\x03\x04" + bytes(100), "seed_txt", columns={})
    assert _summary(out) == [(0, "unexpected_file")] and "zip" in out[0].detail


def test_a_header_naming_a_column_a_million_times(tmp_path):
    header = "title,link," + ",".join(["content"] * 200_000) + "\n"
    out = _read(tmp_path, "d.csv", (header + "a,b,c\n").encode())
    assert _summary(out) == [(0, "bad_header")] and "content" in out[0].detail
