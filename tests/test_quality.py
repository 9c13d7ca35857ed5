"""Quality flags (etl.enrich.quality), their repetition tests (etl.enrich.repetition), Urdu-script share and
reading time (etl.enrich.text_counts)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from etl.enrich import quality, repetition, text_counts
from etl.enrich.quality import quality_flags
from etl.enrich.text_counts import reading_time_seconds, urdu_share, urdu_shares
from etl.read.bbc_doc import parse as parse_bbc
from etl.text.normalize import collapse_whitespace, normalize
from etl.text.repair import remove_boilerplate, repair_raw
from etl.text.segment_column import segment

# A hand-written news-style paragraph of well over 50 words, running prose with its stop words.
STORY = (
    "لاہور میں آج صبح شدید بارش کے بعد کئی علاقوں میں پانی جمع ہو گیا اور شہریوں کو سخت مشکلات کا سامنا کرنا پڑا۔ "
    "محکمہ موسمیات کے مطابق اگلے دو دن تک بارش کا سلسلہ جاری رہنے کا امکان ہے۔ "
    "ضلعی انتظامیہ نے نکاسی آب کے لیے اضافی عملہ تعینات کر دیا ہے جبکہ اسکولوں میں چھٹی کا اعلان بھی کیا گیا۔ "
    "ایک دکاندار نے بتایا کہ اس کی دکان میں پانی داخل ہونے سے سامان خراب ہو گیا ہے اور حکومت کو فوری مدد کرنی چاہیے۔"
)
ENGLISH = (
    "The provincial government announced on Monday that schools in the city will remain closed "
    "for two more days because of heavy rain and flooding in several low lying areas."
)
ROMAN_URDU = (
    "Lahore mein aaj subah shadeed barish hui aur kai ilaqon mein pani jama ho gaya hai. "
    "Shehriyon ka kehna hai ke hukumat ko foran madad karni chahiye kyun ke unka bohat nuqsan hua hai."
)


def tokens_of(text: str) -> list[str]:
    seg = segment([text])
    return [t for toks in seg["tokens"].to_pylist() for t in toks]


# ----------------------------------------------------------------------------------- counts


def test_urdu_share_counts_letters_only():
    assert urdu_share(STORY) == 1.0
    assert urdu_share(ENGLISH) == 0.0
    assert urdu_share("") == 0.0 and urdu_share("123 ، ۔ 45") == 0.0  # no letters at all
    # digits, punctuation and spaces do not count; 4 Urdu letters against 4 Latin ones
    assert urdu_share("پاکستان"[:4] + " 2024، ABCD!") == pytest.approx(0.5)


def test_urdu_shares_batch_matches_single():
    texts = [STORY, ENGLISH, "", None, "BBC اردو 2017", ROMAN_URDU, "😀 خبر"]
    assert list(urdu_shares(texts)) == pytest.approx([urdu_share(t or "") for t in texts])


def test_reading_time_rounds_up_at_180_words_a_minute():
    assert reading_time_seconds(0) == 0
    assert reading_time_seconds(-3) == 0
    assert reading_time_seconds(1) == 1
    assert reading_time_seconds(180) == 60
    assert reading_time_seconds(181) == 61
    assert reading_time_seconds(900) == 300


def test_word_count_matches_the_segmenter():
    seg = segment([STORY])
    assert text_counts.word_count(tokens_of(STORY)) == sum(seg["word_count"].to_pylist())


# ------------------------------------------------------------------------------------ flags


def test_clean_story_has_no_flags_with_or_without_tokens():
    assert text_counts.word_count(tokens_of(STORY)) >= quality.MIN_WORDS
    assert quality_flags(STORY, tokens_of(STORY)) == []
    assert quality_flags(STORY) == []


def test_empty_and_stub_bodies():
    assert quality_flags("") == ["empty_body"]
    assert quality_flags(" \n ") == ["empty_body"]
    assert quality_flags("پاکستان میں بارش کا نیا سلسلہ شروع ہو گیا۔") == ["stub_body"]


def test_english_is_non_urdu_and_roman_urdu_is_told_apart():
    assert "non_urdu" in quality_flags(ENGLISH)
    assert "roman_urdu" not in quality_flags(ENGLISH)
    flags = quality_flags(ROMAN_URDU)
    assert "roman_urdu" in flags and "non_urdu" not in flags
    # an Urdu story quoting an English sentence stays Urdu
    assert quality_flags(STORY + " " + "He said: we will help.") == []


def test_repeated_text_is_heavy_repetition():
    twice = STORY + " " + STORY
    assert "heavy_repetition" in quality_flags(twice, tokens_of(twice))
    paragraphs = "\n".join([STORY] + ["اس سال بارش معمول سے زیادہ ہوئی ہے۔"] * 4)
    assert repetition.repetition_reason(paragraphs, tokens_of(paragraphs)) == "dup_line"
    assert "heavy_repetition" in quality_flags(paragraphs)


def test_word_list_without_stop_words_is_flagged():
    nouns = [
        "بارش",
        "سیلاب",
        "پانی",
        "شہر",
        "سڑک",
        "گاڑی",
        "بجلی",
        "اسکول",
        "بازار",
        "دکان",
        "حکومت",
        "عملہ",
        "موسم",
        "دریا",
        "پل",
        "گاؤں",
        "کھیت",
        "فصل",
        "گندم",
        "چاول",
        "کپاس",
        "مزدور",
        "کسان",
        "ڈاکٹر",
        "ہسپتال",
        "دوا",
        "مریض",
        "استاد",
        "طالب",
        "کتاب",
        "قلم",
        "میز",
        "کرسی",
        "دروازہ",
        "کھڑکی",
        "چھت",
        "دیوار",
        "صحن",
        "باغ",
        "درخت",
        "پھول",
        "پتا",
        "شاخ",
        "جڑ",
        "مٹی",
        "پتھر",
        "ریت",
        "لکڑی",
        "لوہا",
        "تانبا",
        "سونا",
        "چاندی",
    ]
    assert len(nouns) >= quality.MIN_WORDS
    assert quality_flags(" ".join(nouns)) == ["low_stopword_ratio"]


def test_boilerplate_only_needs_furniture_to_dominate_a_stub():
    caption = "نیویارک میں سونے کی چوری کی ویڈیو دیکھیے۔"
    assert quality_flags(caption, boilerplate_chars=200) == ["stub_body", "boilerplate_only"]
    assert quality_flags(caption, boilerplate_chars=10) == ["stub_body"]
    # a whole story under a big removed sidebar is still a story
    assert quality_flags(STORY, boilerplate_chars=5 * len(STORY)) == []


def test_batch_form_matches_single():
    bodies = [STORY, "", ENGLISH, None]
    assert quality.quality_flags_batch(bodies, boilerplate_chars=[0, 0, 0, None]) == [
        quality_flags(b or "") for b in bodies
    ]


def test_fineweb2_urdu_stop_words_and_list_is_normalized():
    assert quality.core_stop_words() == {"کے", "میں", "،", "کی", "اور", "ہے", "سے", "کا", "نے", "اس", "پر", "کو", "ایک"}
    assert all(normalize(w) == w for w in quality.stop_words())
    assert quality.core_stop_words() < quality.stop_words()


def test_version_is_stable_text():
    assert quality.QUALITY_VERSION.startswith("1.") and "+" in quality.QUALITY_VERSION


# --------------------------------------------------------------------------- the n-gram tests


def _reference_repetition(body: str, tokens: list[str]) -> str | None:
    """Gopher's repetition tests written plainly (datatrove's loops), with the module's thresholds."""
    size = len(body)
    for n, frac in repetition.TOP_NGRAMS:
        grams = list(zip(*(tokens[i:] for i in range(n))))
        if grams:
            gram, count = Counter(grams).most_common(1)[0]
            if len(" ".join(gram)) * count / size > frac:
                return f"top_{n}_gram"
    for n, frac in repetition.DUP_NGRAMS:
        grams = list(zip(*(tokens[i:] for i in range(n))))
        seen, chars, i = set(), 0, 0
        while i < len(grams):
            if grams[i] in seen:
                chars += len("".join(grams[i]))
                i += n
            else:
                seen.add(grams[i])
                i += 1
        if chars / size > frac:
            return f"dup_{n}_gram"
    return None


def _bbc_bodies(corpora: Path, k: int) -> list[str]:
    paths = sorted(corpora.glob("bbc_voa/*/*/*.doc"))
    random.Random(11).shuffle(paths)
    out = []
    for path in paths[:k]:
        body = parse_bbc(path.read_text(encoding="utf-8"), path.name)["body"] or ""
        fixed, _ = repair_raw(body)
        clean, furniture = remove_boilerplate(normalize(fixed))
        out.append(collapse_whitespace(clean) if furniture else clean)
    return [b for b in out if b]


def test_fast_repetition_equals_plain_gopher_on_corpus_text(corpora):
    bodies = _bbc_bodies(corpora, 300)
    assert len(bodies) > 250
    # also some bodies made repetitive on purpose, so both answers occur
    bodies += [b + " " + b for b in bodies[:20]]
    seen = Counter()
    for body in bodies:
        toks = tokens_of(body)
        if text_counts.word_count(toks) < repetition.MIN_WORDS:
            continue
        expected = _reference_repetition(body, toks)
        assert repetition.repetition_reason(body, toks) == expected
        seen[expected is None] += 1
    assert seen[True] > 100 and seen[False] >= 15


def test_clean_bbc_articles_are_rarely_flagged(corpora):
    bodies = _bbc_bodies(corpora, 600)
    seg = segment(bodies)
    toks: list[list[str]] = [[] for _ in bodies]
    for doc, tl in zip(seg["doc"].to_pylist(), seg["tokens"].to_pylist()):
        toks[doc].extend(tl)
    flags = [quality_flags(b, t) for b, t in zip(bodies, toks)]
    full = [f for f, t in zip(flags, toks) if text_counts.word_count(t) >= quality.MIN_WORDS]
    assert len(full) > 500
    # whole articles: no language or stop-word flags, repetition at most a few in a hundred
    assert not any({"non_urdu", "roman_urdu", "low_stopword_ratio", "empty_body"} & set(f) for f in flags)
    assert sum("heavy_repetition" in f for f in full) / len(full) < 0.02
    # stubs are the video-caption pages: a few percent, not most
    assert sum("stub_body" in f for f in flags) / len(flags) < 0.15


def test_express_leads_are_stubs(corpora):
    import csv

    with open(corpora / "express_headlines" / "express_headlines_all.csv", encoding="utf-8-sig", newline="") as fh:
        leads = [normalize(row["summery"]) for _, row in zip(range(2000), csv.DictReader(fh)) if row.get("summery")]
    flags = [quality_flags(lead) for lead in leads if lead]
    assert len(flags) > 1500
    assert sum("stub_body" in f for f in flags) / len(flags) > 0.95
    assert sum("non_urdu" in f for f in flags) / len(flags) < 0.01
