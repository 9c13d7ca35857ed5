"""Normalization and segmentation of Urdu text."""

import unicodedata

import pytest

from etl.text.normalize import NORMALIZER_VERSION, normalize, parse_digits
from etl.text.rules import fused_words
from etl.text.segment import is_word, paragraphs, sentences, tokens

PRESENTATION_FORMS = [*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)]


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("كتاب", "کتاب"),  # Arabic kaf -> Urdu keheh
        ("علي", "علی"),  # Arabic yeh -> Farsi yeh
        ("بهی", "بھی"),  # aspirated heh after a consonant
        ("کہ مه", "کہ مہ"),  # word-final heh -> goal heh
        ("\ufef3\ufef4", "یی"),  # the yeh forms urduhack maps to ے
        ("ا\u0653", "آ"),  # composition
        ("ی\u0654", "ئ"),
        ("ہ\u0654", "ۂ"),
        ("پاکستان\u0640\u0640", "پاکستان"),  # tatweel
        ("\ufeffپاک\u200bستان", "پاک ستان"),  # BOM dropped, zero-width space is a space
        ("اَمن", "امن"),  # diacritics removed
        ("۲۰۲۴ اور ٢٠", "2024 اور 20"),  # digit policy: ASCII
        ("a\u00a0 \t b", "a b"),  # NBSP and runs of spaces
        ("ایک\r\n\r\n\r\nدو", "ایک\n\nدو"),  # CRLF and blank-line runs
        ("ہے۔کیا", "ہے۔ کیا"),  # space after a full stop glued to a word
        ("کیا ،مگر", "کیا، مگر"),  # no space before ، and one after
        ("پی۔ٹی۔آئی", "پی۔ٹی۔آئی"),  # abbreviations keep their ۔
        ("۲۰فیصد", "20 فیصد"),  # digits against letters
        ("1990ء میں 11ویں", "1990ء میں 11ویں"),  # year and ordinal suffixes stay on their number
        ("صوبےLahj", "صوبے Lahj"),  # Latin against Urdu
    ],
)
def test_normalize_cases(raw, clean):
    assert normalize(raw) == clean


def test_every_presentation_form_with_a_decomposition_is_folded():
    folded = [cp for cp in PRESENTATION_FORMS if unicodedata.normalize("NFKC", chr(cp)) != chr(cp)]
    assert len(folded) > 700
    for cp in folded:
        out = normalize("ا" + chr(cp) + "ا")
        assert not any(ord(c) in PRESENTATION_FORMS for c in out), hex(cp)
        assert not any(c in out for c in "يكة"), hex(cp)


def test_normalize_is_idempotent_on_the_seed(corpora):
    raw = next((corpora / "seed").glob("*.txt")).read_text(encoding="utf-8")
    once = normalize(raw)
    assert normalize(once) == once
    assert "کیخلاف" in once  # normalization does not split words; tokenization does


def test_parse_digits_both_sets():
    assert parse_digits("۱۲ و ١٢") == "12 و 12"
    assert NORMALIZER_VERSION.count(".") == 2


def test_sentences_keep_one_word_sentences_and_abbreviations():
    para = "جی ہاں۔ ٹھیک۔ پی۔ٹی۔آئی نے کہا: ’یہ درست ہے؟‘ شرح 3.5 فیصد ہے! آخر"
    assert sentences(para) == ["جی ہاں۔", "ٹھیک۔", "پی۔ٹی۔آئی نے کہا: ’یہ درست ہے؟‘", "شرح 3.5 فیصد ہے!", "آخر"]


def test_ellipsis_is_one_boundary():
    assert sentences("وہ رکا۔۔۔ پھر چلا۔") == ["وہ رکا۔۔۔", "پھر چلا۔"]


def test_paragraphs_skip_blank_lines():
    assert paragraphs("ایک\n\n دو \n\nتین") == ["ایک", "دو", "تین"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ہے۔کیا", ["ہے", "۔", "کیا"]),
        ("کیا،مگر", ["کیا", "،", "مگر"]),
        ("لاہور(ایجنسیاں)وزیراعظم", ["لاہور", "(", "ایجنسیاں", ")", "وزیراعظم"]),
        ("۲۰فیصد", ["۲۰", "فیصد"]),
        ("ملک کیخلاف", ["ملک", "کے", "خلاف"]),
        ("امن کیلئے", ["امن", "کے", "لئے"]),
        ("روس کیساتھ", ["روس", "کے", "ساتھ"]),
        ("کاغذاور", ["کاغذاور"]),  # whole-token rules never cut inside another word
        ("GDP 3.5% بڑھا", ["GDP", "3.5", "%", "بڑھا"]),
        ("پی۔ٹی۔آئی کا جلسہ", ["پی۔ٹی۔آئی", "کا", "جلسہ"]),  # abbreviation: one token
        ("ہے۔کیا وہ", ["ہے", "۔", "کیا", "وہ"]),  # not letter names: split at ۔
        ("1990ء میں 11ویں بار", ["1990ء", "میں", "11ویں", "بار"]),
        ("وہ رکا۔۔۔ پھر", ["وہ", "رکا", "۔۔۔", "پھر"]),
    ],
)
def test_tokens(text, expected):
    assert tokens(text) == expected


def test_fused_word_table_is_whole_words():
    table = fused_words()
    assert table["کیخلاف"] == ["کے", "خلاف"]
    assert all(" " not in k for k in table)


def test_is_word():
    assert is_word("پاکستان") and is_word("2024") and is_word("GDP")
    assert not is_word("۔") and not is_word("،") and not is_word("(")
