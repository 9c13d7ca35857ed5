"""Property tests of the normalizer (hypothesis): idempotent, Urdu-only output, clean text untouched,
no letter lost except by a documented rule."""

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from etl.text.normalize import normalize

URDU_LETTERS = "ابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنںوہھءیےآئۂۓؤۃأإ"
ARABIC_VARIANTS = "كيىةه"
PRESENTATION = [
    chr(c) for c in (*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)) if unicodedata.normalize("NFKC", chr(c)) != chr(c)
]
MARKS = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670\u0653\u0654"
CONTROLS = "\u200b\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u00a0\u0640\u00ad"
PUNCT = "۔،؟؛!?:()\"'’‘“”-%"
DIGITS = "0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩"
SPACES = " \t\n\r"

dirty_text = st.text(
    st.sampled_from(
        list(URDU_LETTERS + ARABIC_VARIANTS + MARKS + CONTROLS + PUNCT + DIGITS + SPACES + "abcXYZ") + PRESENTATION
    ),
    max_size=200,
)
FORBIDDEN = re.compile(
    "[\u0643\u064a\u0649\u0629\u0647\ufb50-\ufdff\ufe70-\ufeff\u0640\u200b\u200d-\u200f"
    "\u202a-\u202e\u2066-\u2069\u00a0\u00ad\u064b-\u065f\u0670\t\r]"
)
LETTER = re.compile(f"[{URDU_LETTERS}{ARABIC_VARIANTS}]")


@settings(max_examples=400, deadline=None)
@given(dirty_text)
def test_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=400, deadline=None)
@given(dirty_text)
def test_output_has_no_arabic_only_forms_or_controls(text):
    out = normalize(text)
    assert not FORBIDDEN.search(out), [hex(ord(c)) for c in FORBIDDEN.findall(out)]
    assert not any(unicodedata.category(c) in ("Cc", "Cf") and c not in "\n\u200c" for c in out)


words = st.text(st.sampled_from(list(URDU_LETTERS.replace("ء", ""))), min_size=1, max_size=8)
sentence = st.lists(words, min_size=1, max_size=8).map(" ".join).map(lambda s: s + "۔")
clean_text = st.lists(st.lists(sentence, min_size=1, max_size=4).map(" ".join), min_size=1, max_size=3).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(clean_text)
def test_clean_urdu_is_left_unchanged(text):
    assert normalize(text) == text


plain_text = st.text(st.sampled_from(list(URDU_LETTERS + ARABIC_VARIANTS + MARKS + CONTROLS + " ")), max_size=200)


@settings(max_examples=400, deadline=None)
@given(plain_text)
def test_no_letter_is_dropped(text):
    """Letters map one to one; only marks (documented: diacritics, compositions) and controls go."""
    assert len(LETTER.findall(normalize(text))) == len(LETTER.findall(text))
