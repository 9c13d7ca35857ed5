"""The batch segmenter ``segment`` (pyarrow.compute) against hand-made rows, and against the
per-string functions ``paragraphs`` / ``sentences`` / ``tokens`` / ``is_word``: one behaviour."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.text.compiled import token_scan
from etl.text.normalize import normalize
from etl.text.segment import _ARROW_TOKEN, is_word, paragraphs, sentences, tokens
from etl.text.segment_column import _token_tables, segment

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
COLUMNS = ["doc", "paragraph_no", "sentence_no", "text", "tokens", "word_count"]


def rows(table: pa.Table) -> list[tuple]:
    return list(zip(*(table.column(c).to_pylist() for c in COLUMNS)))


def per_string(bodies: list[str | None]) -> list[tuple]:
    """What the per-string functions give, in segment()'s row layout."""
    out = []
    for doc, body in enumerate(bodies):
        n = 0
        for p_no, para in enumerate(paragraphs(body or ""), 1):
            for sent in sentences(para):
                n += 1
                toks = tokens(sent)
                out.append((doc, p_no, n, sent, toks, sum(map(is_word, toks))))
    return out


BODIES = [
    # 0: two paragraphs, numbering runs on across them; a decimal; closing quote after ؟
    "پاکستان کی معیشت بہتر ہوئی۔ شرح نمو 3.5 فیصد رہی!\n\nوزیراعظم نے کہا: ’یہ اچھی خبر ہے؟‘ جی ہاں۔",
    "",  # 1: empty doc: no rows
    "ٹھیک۔",  # 2: a one-word sentence
    "\n \n",  # 3: only blank lines: no rows
    # 4: abbreviation, year and ordinal suffixes, the ellipsis ۔۔۔ as one token, a fused word
    "پی۔ٹی۔آئی نے 1990ء میں 11ویں بار جلسہ کیا۔۔۔ پھر امن کیلئے دعا کی۔",
    # 5: a full stop glued to what follows still ends a sentence; an opening quote glued to the
    #    next word starts the next sentence; ۔ between digits (2۔50) does not end one
    "کام جاری ہے۔(جاری ہے)اس نے کہا ہے۔’ایکٹر ان لا‘ اچھی فلم ہے۔ شرح 2۔50 فیصد رہی",
    # 6: the ۔ of a dateline and a Latin initial do not end sentences
    "لاہور (اردو پوائنٹ - آن لائن۔05 مارچ 2023ء) حکومت نے اعلان کیا۔ رپورٹ: Waseem A. Siddiqui",
    # 7: doubled closing quotes stay with their sentence; an ASCII ellipsis ends one
    "انہوں نے کہا کہ ’ہم جیتیں گے۔‘‘ مگر... نتیجہ مختلف رہا۔",
    # 8: punctuation right after a terminator begins the next sentence
    "کیا آپ نے ووٹ دیا ہے؟، ووٹر نے جواب دیا",
    None,  # 9: null: no rows
    # 10: fused words are split only as whole tokens; ۔ glued between words that are not
    #     letter names is a full stop
    "ملک کیخلاف سازش کاغذاور\nوہ ٹھیک ہے۔کیا وہ آیا",
]

EXPECTED = [
    (0, 1, 1, "پاکستان کی معیشت بہتر ہوئی۔", ["پاکستان", "کی", "معیشت", "بہتر", "ہوئی", "۔"], 5),
    (0, 1, 2, "شرح نمو 3.5 فیصد رہی!", ["شرح", "نمو", "3.5", "فیصد", "رہی", "!"], 5),
    (
        0,
        2,
        3,
        "وزیراعظم نے کہا: ’یہ اچھی خبر ہے؟‘",
        ["وزیراعظم", "نے", "کہا", ":", "’", "یہ", "اچھی", "خبر", "ہے", "؟", "‘"],
        7,
    ),
    (0, 2, 4, "جی ہاں۔", ["جی", "ہاں", "۔"], 2),
    (2, 1, 1, "ٹھیک۔", ["ٹھیک", "۔"], 1),
    (
        4,
        1,
        1,
        "پی۔ٹی۔آئی نے 1990ء میں 11ویں بار جلسہ کیا۔۔۔",
        ["پی۔ٹی۔آئی", "نے", "1990ء", "میں", "11ویں", "بار", "جلسہ", "کیا", "۔۔۔"],
        8,
    ),
    (4, 1, 2, "پھر امن کیلئے دعا کی۔", ["پھر", "امن", "کے", "لئے", "دعا", "کی", "۔"], 6),
    (5, 1, 1, "کام جاری ہے۔", ["کام", "جاری", "ہے", "۔"], 3),
    (5, 1, 2, "(جاری ہے)اس نے کہا ہے۔", ["(", "جاری", "ہے", ")", "اس", "نے", "کہا", "ہے", "۔"], 6),
    (5, 1, 3, "’ایکٹر ان لا‘ اچھی فلم ہے۔", ["’", "ایکٹر", "ان", "لا", "‘", "اچھی", "فلم", "ہے", "۔"], 6),
    (5, 1, 4, "شرح 2۔50 فیصد رہی", ["شرح", "2", "۔", "50", "فیصد", "رہی"], 5),
    (
        6,
        1,
        1,
        "لاہور (اردو پوائنٹ - آن لائن۔05 مارچ 2023ء) حکومت نے اعلان کیا۔",
        [
            "لاہور",
            "(",
            "اردو",
            "پوائنٹ",
            "-",
            "آن",
            "لائن",
            "۔",
            "05",
            "مارچ",
            "2023ء",
            ")",
            "حکومت",
            "نے",
            "اعلان",
            "کیا",
            "۔",
        ],
        12,
    ),
    (6, 1, 2, "رپورٹ: Waseem A. Siddiqui", ["رپورٹ", ":", "Waseem", "A", ".", "Siddiqui"], 4),
    (
        7,
        1,
        1,
        "انہوں نے کہا کہ ’ہم جیتیں گے۔‘‘",
        ["انہوں", "نے", "کہا", "کہ", "’", "ہم", "جیتیں", "گے", "۔", "‘", "‘"],
        7,
    ),
    (7, 1, 2, "مگر...", ["مگر", "..."], 1),
    (7, 1, 3, "نتیجہ مختلف رہا۔", ["نتیجہ", "مختلف", "رہا", "۔"], 3),
    (8, 1, 1, "کیا آپ نے ووٹ دیا ہے؟", ["کیا", "آپ", "نے", "ووٹ", "دیا", "ہے", "؟"], 6),
    (8, 1, 2, "، ووٹر نے جواب دیا", ["،", "ووٹر", "نے", "جواب", "دیا"], 4),
    (10, 1, 1, "ملک کیخلاف سازش کاغذاور", ["ملک", "کے", "خلاف", "سازش", "کاغذاور"], 5),
    (10, 2, 2, "وہ ٹھیک ہے۔", ["وہ", "ٹھیک", "ہے", "۔"], 3),
    (10, 2, 3, "کیا وہ آیا", ["کیا", "وہ", "آیا"], 3),
]


def test_segment_hand_made_rows():
    table = segment(BODIES)
    assert table.schema.names == COLUMNS
    assert [str(table.schema.field(c).type) for c in COLUMNS] == [
        "int32",
        "int32",
        "int32",
        "string",
        "list<item: string>",
        "int32",
    ]
    assert rows(table) == EXPECTED


def test_per_string_functions_give_the_same_rows():
    assert per_string(BODIES) == EXPECTED


def test_segment_accepts_arrow_arrays_and_nothing():
    assert rows(segment(pa.array(BODIES))) == EXPECTED
    assert rows(segment(pa.chunked_array([BODIES[:5], BODIES[5:]]))) == EXPECTED
    assert rows(segment(pa.array(BODIES, pa.large_string()))) == EXPECTED
    assert segment([]).num_rows == 0
    assert segment(["", None, " \n "]).num_rows == 0


# Pieces of text that exercise every rule, joined at random (clean and not-so-clean text).
PIECES = [
    "پاکستان",
    "کی",
    "ہے",
    "کیا",
    "امن",
    "ء",
    "ویں",
    "واں",
    "پی",
    "ٹی",
    "آئی",
    "ایم",
    "کیو",
    "کے",
    "کیخلاف",
    "کیلئے",
    "۔",
    "۔۔۔",
    "؟",
    "?",
    "!",
    ".",
    "...",
    "،",
    ":",
    "(",
    ")",
    "’",
    "‘",
    "“",
    "”",
    '"',
    "'",
    "»",
    "]",
    "-",
    "/",
    "%",
    "@",
    "1",
    "2",
    "05",
    "2023",
    "3.5",
    "1,200",
    "۲۰",
    " ",
    " ",
    " ",
    "\n",
    "\t",
    "\xa0",
    "\u2028",
    "\u200c",
    "A",
    "U",
    "Waseem",
    "GDP",
    "x",
    "दीपिका",
    " 05 مارچ 2023ء)",
    "٫",
    "\u0654",
    "\ufdd0",
    "\ufdd1",
]
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(texts, texts.map(normalize), st.none()), max_size=6))
def test_segment_equals_per_string_on_generated_text(bodies):
    assert rows(segment(bodies)) == per_string(bodies)


def _real_bodies(every: int) -> list[str]:
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at {CORPORA}: the real-text comparison needs them")
    sys.path.insert(0, str(ROOT / "bench"))
    from corpus_texts import corpus_texts

    return [normalize(text) for i, (_, text) in enumerate(corpus_texts(CORPORA)) if i % every == 0]


def test_segment_equals_per_string_on_real_bodies():
    """About 2000 bodies spread over every corpus (every 40th), normalized as the pipeline does."""
    bodies = _real_bodies(40)
    assert len(bodies) > 1500
    expected = per_string(bodies)
    assert len(expected) > 3000
    assert rows(segment(bodies)) == expected


@pytest.mark.slow
@pytest.mark.timeout(900)  # a whole run or cluster; pytest.ini gives every other test 300 s
def test_segment_equals_per_string_on_the_whole_corpus():
    bodies = _real_bodies(1)
    got = segment(bodies)
    expected = per_string(bodies)
    assert got.num_rows == len(expected)
    for batch_start in range(0, len(expected), 20000):  # compare in slices: readable failures
        part = got.slice(batch_start, 20000)
        assert rows(part) == expected[batch_start : batch_start + 20000]


# The token scanner against the regex path it stands for: every token but Urdu words wrapped in
# spaces by _ARROW_TOKEN, then a split at (ASCII) whitespace. Characters at the edges of every
# class, all three digit sets with separators and suffixes, odd whitespace and astral characters.
SCAN_PIECES = [
    "0",
    "7",
    "۰",
    "۹",
    "٠",
    "٩",
    "12",
    ".",
    ",",
    ":",
    "/",
    "٫",
    "ء",
    "ویں",
    "واں",
    "و",
    "ی",
    "ں",
    "a",
    "Z",
    "don",
    "'",
    "’",
    "-",
    "۔",
    "؟",
    "!",
    "?",
    "..",
    "\u200c",
    "ک",
    "ہے",
    "\u0620",
    "\u063b",
    "\u0640",
    "\u0654",
    "\u06d5",
    "\u06ff",
    "\u0700",
    "द",
    "ी",
    "\u0963",
    "\u0964",
    "\u0966",
    "\u0971",
    "😀",
    "𝐀",
    "\U00010000",
    " ",
    " ",
    "\t",
    "\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1f",
    "\x85",
    "\xa0",
    "\u2028",
    "\u3000",
    "\u200b",
    "(",
    "،",
    "\ufdd0",
    "\x00",
    "\x7f",
]
scan_texts = st.lists(st.sampled_from(SCAN_PIECES), max_size=30).map("".join)


def regex_tokens(strings: pa.Array, plain: np.ndarray) -> list[list[str]]:
    spaced = pc.replace_substring_regex(strings, pattern=_ARROW_TOKEN, replacement=r" \0 ")
    text = pc.if_else(pa.array(plain, pa.bool_()), strings, spaced)  # plain rows: split only
    return pc.ascii_split_whitespace(pc.ascii_trim_whitespace(text)).to_pylist()


def scanned(strings: pa.Array, plain: np.ndarray) -> list[list[str]]:
    offsets, toks, flags, lead = token_scan.scan(strings, plain, _token_tables())
    toks.validate(full=True)
    words = toks.to_pylist()
    for w, flag, first in zip(words, flags.tolist(), lead.tolist()):
        assert flag == (is_word(w) if not w or w[0] < "\U00010000" else -1)
        head = w.encode()[:2]
        assert first == (head[0] << 8 | (head[1] if len(head) > 1 else 0) if head else 0)
    return [words[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(scan_texts, st.booleans()), max_size=8))
def test_token_scan_equals_the_regex_path(rows_):
    strings = pa.array(["skipped"] + [t for t, _ in rows_], pa.string())[1:]  # an array with an offset
    plain = np.array([p for _, p in rows_], dtype=bool)
    assert scanned(strings, plain) == regex_tokens(strings, plain)


def test_token_scan_grows_its_arrays():
    """More tokens than the first guess (a quarter of the bytes) holds: one-byte tokens."""
    strings = pa.array(["a " * 3000, "", "1.2 b" * 500, "x,y" * 1000], pa.string())
    plain = np.array([False, False, True, False])
    assert scanned(strings, plain) == regex_tokens(strings, plain)
