"""The batch cleaning (``etl.text.clean_column``, ``etl.articles.clean_records``) against the per-text
functions it must agree with byte for byte: hand-made rows for every route to Python, generated
text, real corpus bodies; and the pipeline's fallback when a batch fails."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import articles
from etl.config import make_source
from etl.records import EMPTY_BODY, MISSING_FIELD, TRANSFORM_ERROR, RawRecord, Reject
from etl.tasks.transform import clean_all
from etl.text.clean_column import clean_batch, normalize_batch
from etl.text.normalize import normalize
from etl.text.segment_column import segment

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
DAY = dt.date(2024, 1, 1)


def per_text(texts: list[str]) -> list[tuple[str, dict, int, bool]]:
    """What ``clean_record`` does to each body."""
    return [
        (body, dict(repairs), chars, furniture) for body, repairs, chars, furniture in map(articles.clean_body, texts)
    ]


def batched(texts: list[str]) -> list[tuple[str, dict, int, bool]]:
    b = clean_batch(texts)
    return [
        (body, dict(r or Counter()), chars, f)
        for body, r, chars, f in zip(b.bodies.to_pylist(), b.repairs, b.boilerplate_chars, b.furniture)
    ]


ROWS = [
    "",
    "  \n ",
    "پاکستان کی معیشت بہتر ہوئی۔ شرح نمو 3.5 فیصد رہی!",
    # NFC in Arrow: a base and one mark (ا + ٓ), composed letters next to each other (آئی)
    "ا\u0653ج آئی اور گئے، ی\u0654 ے\u0654 ە\u0654 و\u0654",
    # NFC in Python, one reason a row: two marks in a row (a mark that still joins its base, marks
    # reordered), a mark after a composed letter, a mark first, Latin and Devanagari decompositions,
    # Hangul jamo, characters above U+3000
    "ا\u0651\u0653",
    "ب\u0651\u064e",
    "آ\u0650",
    "آ\u0655",
    "\u0654ابتدا",
    "cafe\u0301",
    "e\u0301\u0323",
    "\u0915\u093c",
    "\u1100\u1161",
    "\u3042 日本 😀",
    # heh by context, presentation forms, Arabic letters and digits, dropped and odd spaces
    "بهی رهتی هوئے \ufefb\ufdf2 كي ة ى ۲۰۲۴ ٣ x\u200bx\u00a0y\u200e\u0640z\tw",
    # punctuation spacing, an abbreviation of letter names (Python), digits and Latin against Urdu
    "کہا ۔پھر،اور؟ہاں پی۔ٹی۔آئی ایم ۔کیو 20فیصد 1990ءمیں 11ویں 5واں صوبےLahj یہA",
    # whitespace: \r, tabs, runs of spaces, blank lines, edges with Unicode spaces
    "\u2028 پہلا\r\nدوسرا\r\rتیسرا  \t چوتھا \n\n\n\n پانچواں \u3000\x85",
    # the mark the batch's digit pass once used, in the text
    "5\ufdd2ء 7\ufdd2ب",
    # rows after one that needed spacing (the scan reuses its buffers from row to row)
    "پاکستان1",
    "1پاکستان",
    # a repair in a row that also needs Python's NFC: repairs come first
    "\u3000<b>",
    # repairs: mojibake, HTML tags and entities
    "Ø§Ù„Ù„Ù‡ <p>پیرا</p><br/>دوسرا &amp; &#1578; <b>بولڈ</b>",
    # furniture: a pattern rule; a body that is furniture only
    "خبر کا متن ہے۔ (جاری ہے) اور آگے",
    "(جاری ہے)",
]


def test_hand_made_rows_agree():
    assert batched(ROWS) == per_text(ROWS)
    assert batched([]) == []


def test_the_scan_in_slices_gives_what_it_gives_in_one(monkeypatch):
    """A column larger than ``CHUNK_BYTES`` is scanned in slices of whole rows, with the same result."""
    from etl.text.compiled import normalize_scan as kernels

    arr = pa.array(ROWS * 3, pa.string()).slice(2)
    whole, status = kernels.clean(arr)
    monkeypatch.setattr(kernels, "CHUNK_BYTES", 40)  # several rows are longer: one row a slice
    sliced, sliced_status = kernels.clean(arr)
    assert sliced.to_pylist() == whole.to_pylist() and sliced_status.tolist() == status.tolist()
    assert normalize_batch(arr).to_pylist() == [normalize(t) for t in arr.to_pylist()]


def test_the_scan_makes_room_for_a_rule_that_lengthens_a_character(monkeypatch):
    """The buffers follow the rules: a one-byte character the table turns into five letters (10
    bytes). Sized for today's rules instead, the scan writes past its buffers."""
    from etl.text import normalize as normalize_module
    from etl.text.compiled import normalize_scan as kernels

    monkeypatch.setattr(normalize_module, "_TABLE", {**normalize_module._TABLE, ord("~"): "\u06a9" * 5})
    kernels.tables.cache_clear()
    try:
        assert kernels.tables()[-1] == 10
        rows = ["~" * 3000, "x", "~ " * 500] * 3
        out, status = kernels.clean(pa.array(rows, pa.string()))
        assert out.to_pylist() == ["\u06a9" * 15000, "x", " ".join(["\u06a9" * 5] * 500)] * 3
        assert status.tolist() == [kernels.DONE] * 9
    finally:
        monkeypatch.undo()
        kernels.tables.cache_clear()
    assert kernels.tables()[-1] == 1


def test_the_scan_takes_only_string_arrays_without_nulls():
    from etl.text.compiled import normalize_scan as kernels

    with pytest.raises(TypeError, match="large_string"):
        kernels.clean(pa.array(["ab ", "c"], pa.large_string()))
    with pytest.raises(TypeError, match="1 nulls"):
        kernels.clean(pa.array(["ab", None], pa.string()))


def test_utf8_trim_whitespace_strips_what_str_strip_does():
    """``segment`` relies on it to strip paragraphs and sentences as ``str.strip`` does."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    got = pc.utf8_trim_whitespace(pa.array([c + "x" + c for c in chars])).to_pylist()
    assert [c for c, g in zip(chars, got) if g != (c + "x" + c).strip()] == []


PIECES = [
    "پاکستان",
    "کی",
    "ہے",
    "ا",
    "ی",
    "ے",
    "و",
    "ہ",
    "ە",
    "آ",
    "ئ",
    "أ",
    "ۂ",
    "پی",
    "ٹی",
    "آئی",
    "ایم",
    "ء",
    "ویں",
    "واں",
    "۔",
    "،",
    "؟",
    "!",
    "?",
    "(",
    ")",
    "1",
    "20",
    "۲۰",
    "٣",
    "A",
    "Lahj",
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\r",
    "\t",
    "\xa0",
    "\u2028",
    "\u3000",
    "\u200b",
    "\u200c",
    "\u200e",
    "\ufeff",
    "\u0640",
    "\u064b",
    "\u064e",
    "\u0650",
    "\u0651",
    "\u0652",
    "\u0653",
    "\u0654",
    "\u0655",
    "\u0670",
    "\u06e1",
    "\u0301",
    "\u0323",
    "e",
    "\u093c",
    "\u0915",
    "\u1161",
    "\u1100",
    "\ufdd2",
    "\ufb8e",
    "\ufefb",
    "ه",
    "ك",
    "ي",
    "ى",
    "ة",
    "<b>",
    "&amp;",
    "Ø§",
    "(جاری ہے)",
    "مزید پڑھیں:",
    "日",
    "😀",
]
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, max_size=8))
def test_generated_text_agrees(rows):
    assert normalize_batch(pa.array(rows, pa.string())).to_pylist() == [normalize(t) for t in rows]
    assert batched(rows) == per_text(rows)


def test_real_bodies_agree():
    """About 2000 bodies spread over every corpus (every 40th); bench/text_identity.py checks them all."""
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at {CORPORA}: the real-text comparison needs them")
    sys.path.insert(0, str(ROOT / "bench"))
    from corpus_texts import corpus_texts

    bodies = [text for i, (_, text) in enumerate(corpus_texts(CORPORA)) if i % 40 == 0]
    assert len(bodies) > 1500
    assert batched(bodies) == per_text(bodies)


def _records() -> list[RawRecord]:
    bodies = [ROWS[2], None, "(جاری ہے)", ROWS[6], " \u200b ", ROWS[10]]
    return [
        RawRecord("src", "f.csv", i, {"body": b, "headline": "سرخی" if i != 3 else None}) for i, b in enumerate(bodies)
    ]


def test_clean_records_equals_clean_record_in_order():
    records = _records()
    got = articles.clean_records(records, DAY, ("body", "headline"))
    want = [articles.clean_record(r, DAY, ("body", "headline")) for r in records]
    assert got == want
    assert [o.reason for o in got if isinstance(o, Reject)] == [MISSING_FIELD, EMPTY_BODY, MISSING_FIELD, EMPTY_BODY]


def test_a_failing_record_is_its_own_reject(monkeypatch):
    """If the batch fails, the records are cleaned one by one: only the failing one is rejected."""
    source = make_source("src", "x.csv", "csv", {"body": "text"}, required=["body"])
    records = [RawRecord("src", "f.csv", i, {"body": f"خبر نمبر {i} ہے۔"}) for i in range(4)]
    unreadable = Reject("src", "f.csv", 9, "bad_row_shape", "3 fields")
    real = articles.publication_date

    def failing(published, headline, body, *rest):
        if "2" in body:
            raise ValueError("boom")
        return real(published, headline, body, *rest)

    monkeypatch.setattr(articles, "publication_date", failing)
    out = clean_all([records[0], unreadable, *records[1:]], DAY, source)
    assert [o.record_no if isinstance(o, Reject) else o["record_no"] for o in out] == [0, 9, 1, 2, 3]
    assert out[1] is unreadable
    assert isinstance(out[3], Reject) and out[3].reason == TRANSFORM_ERROR and "boom" in out[3].detail
    assert [o["body"] for o in (out[0], out[2], out[4])] == ["خبر نمبر 0 ہے۔", "خبر نمبر 1 ہے۔", "خبر نمبر 3 ہے۔"]


def test_the_scans_run_without_a_cache_where_numba_has_nowhere_to_keep_one():
    """With no writable cache location numba refuses ``cache=True``; the scans then compile
    without a cache, with a warning, and give the same results."""
    code = (
        "import logging, sys; logging.basicConfig(level=logging.WARNING)\n"
        "from numba.core import caching\n"
        "caching.CacheImpl._locator_classes = []  # as when no location is writable (root can write anywhere)\n"
        "import pyarrow as pa\n"
        "from etl.text.clean_column import clean_batch\n"
        "from etl.text.segment_column import segment\n"
        f"rows = {ROWS!r}\n"
        "b = clean_batch(rows)\n"
        "print(repr((b.bodies.to_pylist(), segment(b.bodies).to_pylist())))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "cannot be cached" in done.stderr and "NUMBA_CACHE_DIR" in done.stderr
    b = clean_batch(ROWS)
    assert done.stdout.strip() == repr((b.bodies.to_pylist(), segment(b.bodies).to_pylist()))
