"""Sentences where the punctuation cannot settle them: datelines of every shape, punctuation alone,
a stray ``]``, and text without full stops (the boundary model of ``etl.text.boundary``); the batch
segmenter gives the same rows as the per-string functions on all of them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.text import boundary, rules
from etl.text.normalize import normalize
from etl.text.segment import sentences
from etl.text.segment_column import segment
from tests.test_segment_batch import per_string, rows

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "dateline",
    [
        "ٹوکیو۔ 3 جولائی (اے پی پی)",
        "ہمبنٹوٹا ۔ 25 اگست (اے پی پی)",
        "فیصل آباد۔24نومبر (اے پی پی):",
        "فیصل آباد۔۲۴ نومبر (اے پی پی):",
        "ڈیرہ اسماعیل خان۔ 3 جولائی 2023: ",
        "ڈھاکہ ۔ یکم دسمبر (اے ایف پی)",
        "لاہور (اُردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 02 مارچ2023ء)",
        "راولپنڈی۔ (اردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 30 مارچ 2023ء)",
        "واشنگٹن۔ 11 ستمبر(اردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 11 ستمبر2019ء)",
    ],
)
def test_a_dateline_is_never_a_sentence_of_its_own(dateline):
    para = dateline + " حکومت نے نئی پالیسی کا اعلان کیا ہے۔ اجلاس کل ہوگا۔"
    for text in (para, normalize(para)):
        got = sentences(text)
        assert len(got) == 2, got
        assert got[0].startswith(text[:4]) and got[0].endswith("اعلان کیا ہے۔")


@pytest.mark.parametrize(
    "para, expected",
    [
        # a full stop before a date that a word follows is a full stop
        ("اجلاس ملتوی ہوگیا۔ 5 نومبر کو دوبارہ ہوگا۔", ["اجلاس ملتوی ہوگیا۔", "5 نومبر کو دوبارہ ہوگا۔"]),
        # a bracket without a year after the ۔ is furniture, not a dateline
        ("کام جاری ہے۔(جاری ہے)اس نے کہا۔", ["کام جاری ہے۔", "(جاری ہے)اس نے کہا۔"]),
        # a dateline protects only at the paragraph's start, after a short place
        (
            "یہ فیصلہ بہت پہلے کیا گیا تھا۔ 3 جولائی (اتوار) کو اجلاس ہوا۔",
            ["یہ فیصلہ بہت پہلے کیا گیا تھا۔", "3 جولائی (اتوار) کو اجلاس ہوا۔"],
        ),
    ],
)
def test_full_stops_near_dates_still_end_sentences(para, expected):
    assert sentences(para) == expected


@pytest.mark.parametrize(
    "para, expected",
    [
        ("وہ آگیا۔ ۔ پھر چلا گیا۔", ["وہ آگیا۔ ۔", "پھر چلا گیا۔"]),  # a lone ۔ joins the sentence before
        ("۔ وہ آگیا۔", ["۔ وہ آگیا۔"]),  # at the start, the one after
        ("٭", []),  # alone in its paragraph, it goes
        ("۔۔۔", []),
        ("وہ آگیا۔ ٭", ["وہ آگیا۔ ٭"]),
        ("٭ وزیراعظم آگئے۔ ٭ اجلاس ہوا۔", ["٭ وزیراعظم آگئے۔", "٭ اجلاس ہوا۔"]),  # bullets open sentences
    ],
)
def test_punctuation_alone_is_not_a_sentence(para, expected):
    assert sentences(para) == expected


def test_a_bullet_after_text_opens_a_sentence():
    assert sentences("اجلاس میں حصہ لیں گے ٭ قصہ دو شہروں کا ٭ پنجاب اسمبلی کی نشست") == [
        "اجلاس میں حصہ لیں گے",
        "٭ قصہ دو شہروں کا",
        "٭ پنجاب اسمبلی کی نشست",
    ]
    assert sentences("الف ٭ ٭ ب") == ["الف", "٭ ٭ ب"]  # a run of bullets opens one


def test_no_end_is_put_before_a_conjunction():
    """``... ہے لیکن ...`` stays one sentence however likely an end looks there."""
    text = " ".join(f"{s} {j}" for s, j in zip(RUN_ON, ["لیکن", "تاہم", "اور", "مگر", "جبکہ"] * 2))
    got = sentences(text)
    assert " ".join(got) == text
    assert not [s for s in got if s.split()[0] in boundary.JOINERS], got


def test_a_stray_bracket_glued_to_a_word_ends_a_sentence():
    assert sentences("کام مکمل ہو گیا] اب نیا منصوبہ شروع ہوگا۔") == ["کام مکمل ہو گیا]", "اب نیا منصوبہ شروع ہوگا۔"]
    # with an opening bracket in the paragraph it is a bracket, and inside a word a typo
    assert sentences("رپورٹ [ضمیمہ] میں درج ہے۔") == ["رپورٹ [ضمیمہ] میں درج ہے۔"]
    assert sentences("ایرپورٹ پ]ر حکام آئے۔") == ["ایرپورٹ پ]ر حکام آئے۔"]


# A text of my own without one full stop: ten sentences, each ending in a verb-final auxiliary, and
# the next opening with a new subject.
RUN_ON = [
    "وزیراعظم نے آج کابینہ کا خصوصی اجلاس طلب کر لیا ہے",
    "اجلاس میں ملک کی معاشی صورتحال پر تفصیلی غور کیا جائے گا",
    "وزیر خزانہ اجلاس کو بجٹ کے بارے میں بریفنگ دیں گے",
    "حکومت نے پٹرول کی قیمتوں میں کمی کا اعلان بھی کیا تھا",
    "اپوزیشن جماعتوں نے اس فیصلے پر شدید تنقید کی ہے",
    "انہوں نے کہا کہ عوام کو ریلیف نہیں دیا گیا",
    "ملک میں مہنگائی کی شرح مسلسل بڑھ رہی ہے",
    "شہریوں نے بجلی کے بلوں پر احتجاج کیا تھا",
    "پولیس نے مظاہرین کو منتشر کرنے کے لیے آنسو گیس استعمال کی",
    "صوبائی حکومت نے واقعے کی تحقیقات کا حکم دے دیا ہے",
]


def test_text_without_full_stops_is_split_by_the_model():
    text = " ".join(RUN_ON)
    got = sentences(text)
    assert " ".join(got) == text  # nothing lost, nothing moved
    found = {len(" ".join(got[: i + 1])) for i in range(len(got) - 1)}
    truth = {len(" ".join(RUN_ON[: i + 1])) for i in range(len(RUN_ON) - 1)}
    assert len(found & truth) >= 7, got  # most of the nine ends
    assert len(found - truth) <= 1, got


def test_a_short_unpunctuated_paragraph_stays_whole():
    text = " ".join(RUN_ON[:3])  # under MIN_WORDS words: a headline-like lead is left alone
    assert len(text.split()) < boundary.MIN_WORDS
    assert sentences(text) == [text]


def test_a_well_punctuated_paragraph_never_meets_the_model(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the model was asked")

    monkeypatch.setattr(boundary, "split", boom)
    monkeypatch.setattr(boundary, "ends", boom)
    text = "۔ ".join(RUN_ON) + "۔"
    assert sentences(text) == [s + "۔" for s in RUN_ON]
    assert segment([text])["text"].to_pylist() == [s + "۔" for s in RUN_ON]


def test_a_missing_full_stop_needs_more_evidence_among_full_stops():
    """The same run of words is cut less readily in a paragraph that has terminators elsewhere."""
    m = boundary.model()
    assert m.threshold_punctuated > m.threshold
    text = " ".join(RUN_ON)
    bare = boundary.ends([text], [False])
    punctuated = boundary.ends([text], [True])
    assert set(punctuated[1].tolist()) <= set(bare[1].tolist())


def test_long_sentences_of_a_paragraph_without_commas_are_cut_again():
    """A source that dropped its commas with its full stops: where the strict threshold leaves a
    long sentence, the threshold of unpunctuated text cuts it again; not where Latin words show
    a run of labels (share buttons)."""
    m = boundary.model()._replace(threshold_punctuated=0.999)  # the strict pass takes nothing here
    text = " ".join(RUN_ON)
    strict = boundary.ends([text], [True], [False], m=m)[1]
    relaxed = boundary.ends([text], [True], [True], m=m)[1]
    bare = boundary.ends([text], [False], m=m)[1]
    assert len(strict) == 0
    assert len(relaxed) >= 5 and set(relaxed.tolist()) <= set(bare.tolist())
    labels = " ".join(s + " Messenger" for s in RUN_ON)
    assert len(boundary.ends([labels], [True], [True], m=m)[1]) == 0


def test_a_comma_in_the_paragraph_keeps_the_strict_threshold(monkeypatch):
    seen = []
    real = boundary.split

    def spy(piece, punctuated, commaless=False):
        seen.append((punctuated, commaless))
        return real(piece, punctuated, commaless)

    monkeypatch.setattr(boundary, "split", spy)
    text = " ".join(RUN_ON)
    sentences(text + "۔ دوسرا جملہ۔")
    sentences(text + "، دوسرا جملہ۔")
    sentences(text)
    assert seen == [(True, True), (True, False), (False, False)]


def test_the_model_is_small_and_a_rule_file():
    assert boundary.MODEL_PATH.stat().st_size < 300_000
    assert boundary.MODEL_PATH.name in rules.FILES  # the normalizer version changes with it
    m = boundary.model()
    assert 0 < m.threshold < 1 and m.min_gap >= 1
    assert 1000 < np.count_nonzero(m.weights) < 100_000


def test_gap_features_are_the_same_for_one_piece_or_many():
    pieces = [" ".join(RUN_ON[:4]), "ایک", " ".join(RUN_ON[4:])]
    rows, piece = boundary.gap_index(pieces)
    assert rows.shape == (sum(len(p.split()) - 1 for p in pieces), 13)
    alone = np.concatenate([boundary.gap_index([p])[0] for p in pieces])
    assert (rows == alone).all()
    assert piece.tolist() == [0] * (len(pieces[0].split()) - 1) + [2] * (len(pieces[2].split()) - 1)


BODIES = [
    " ".join(RUN_ON),
    "ٹوکیو۔ 3 جولائی (اے پی پی) " + " ".join(RUN_ON) + "۔ دوسرا جملہ۔\n٭\nوہ آگیا۔ ۔ پھر گیا] اب آیا",
    "فیصل آباد۔24 نومبر (اے پی پی):" + " ".join(RUN_ON[:5]) + "\n\n" + "۔ ".join(RUN_ON),
    "\t".join(RUN_ON) + "\n" + "\xa0".join(RUN_ON[::-1]),  # odd whitespace: the per-string path
    " ".join(RUN_ON) + "۔ دوسرا جملہ۔\n" + " ".join(RUN_ON) + "، دوسرا جملہ۔",  # with and without a comma
    " ".join(s + " Messenger" for s in RUN_ON) + "۔",
]


def test_segment_equals_per_string_on_these_cases():
    assert rows(segment(BODIES)) == per_string(BODIES)
    assert rows(segment([normalize(b) for b in BODIES])) == per_string([normalize(b) for b in BODIES])


WORDS = [w for s in RUN_ON for w in s.split()] + [
    "۔",
    "٭",
    "]",
    "،",
    "’",
    "ٹوکیو۔",
    "3",
    "جولائی",
    "(اے پی پی)",
    "Share",
]
long_texts = st.lists(st.sampled_from(WORDS), min_size=30, max_size=120).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(long_texts, max_size=4))
def test_segment_equals_per_string_on_long_generated_text(bodies):
    assert rows(segment(bodies)) == per_string(bodies)


def test_training_examples_put_back_the_removed_terminators():
    sys.path.insert(0, str(ROOT / "bench"))
    import train_boundary

    assert train_boundary.unpunctuate("اس نے کہا ہے۔’") == ["اس", "نے", "کہا", "ہے’"]
    assert train_boundary.unpunctuate("وہ آگیا ۔") == ["وہ", "آگیا"]
    words, ends = train_boundary.examples("وہ آگیا۔ اجلاس ہوا؟ پھر گیا!")
    assert words == ["وہ", "آگیا", "اجلاس", "ہوا", "پھر", "گیا"] and ends == [1, 3]
    assert train_boundary.examples("بغیر ختم کے") is None  # no terminator at the end: not used


def test_a_short_sentence_before_a_number_is_no_dateline():
    """Only a day and a month after the opening ۔ make a dateline; any other word is a full stop."""
    from etl.text.segment import sentences
    from etl.text.segment_column import segment

    for text, want in [
        ("حکومت نے اعلان کیا۔ 5 افراد ہلاک ہو گئے۔", 2),
        ("میچ ختم ہوا۔ 2 وکٹیں باقی تھیں۔", 2),
        ("ٹوکیو۔ 3 جولائی (اے پی پی) جاپان نے کہا ہے۔", 1),
        ("فیصل آباد۔24نومبر (اے پی پی): شہر میں بارش ہوئی۔", 1),
    ]:
        assert len(sentences(text)) == want, text
        assert segment([text])["text"].to_pylist() == sentences(text)
