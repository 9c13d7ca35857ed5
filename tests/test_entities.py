"""Named entities and the byline/agency field: hand-made cases, the data files, real corpora."""

from __future__ import annotations

import csv
import re

import pytest

from etl.enrich import entities, gazetteers
from etl.enrich.bylines import agency
from etl.enrich.entities import Mention, extract_entities
from etl.enrich.gazetteers import GAZETTEER_VERSION
from etl.read import bbc_doc
from etl.text.normalize import normalize


def keys(headline, body, typ=None):
    return [m.key for m in extract_entities(headline, body) if typ is None or m.type == typ]


# ----------------------------------------------------------------- variants and boundaries


def test_variants_share_one_key():
    body = normalize(
        "آرمی چیف جنرل قمر جاوید باجوہ نے امریکا کا دورہ کیا۔ امریکہ میں آئی ایس پی آر اور "
        "انٹر سروسز پبلک ریلیشنز کے حکام، اقوام متحدہ اور یو این کے نمائندے موجود تھے۔"
    )
    ms = extract_entities("باجوہ کا دورہ امریکا", body)
    by_key = {}
    for m in ms:
        by_key.setdefault((m.type, m.key), set()).add(m.surface)
    assert by_key[("person", "قمر جاوید باجوہ")] == {"باجوہ", "قمر جاوید باجوہ"}
    assert by_key[("location", "امریکا")] == {"امریکا", "امریکہ"}
    assert by_key[("organization", "آئی ایس پی آر")] == {"آئی ایس پی آر", "انٹر سروسز پبلک ریلیشنز"}
    assert by_key[("organization", "اقوام متحدہ")] == {"اقوام متحدہ", "یو این"}
    assert {m.field for m in ms} == {"headline", "body"}


def test_offsets_point_at_the_surface():
    headline, body = "لاہور میں بارش", normalize("کراچی اور لاہور میں وزیراعظم شہباز شریف نے کہا۔")
    for m in extract_entities(headline, body):
        text = headline if m.field == "headline" else body
        assert text[m.start : m.start + len(m.surface)] == m.surface
    assert isinstance(extract_entities(None, body)[0], Mention)


@pytest.mark.parametrize(
    "text",
    [
        "لاہوری کھانے مشہور ہیں",
        "پاکستانی ٹیم جیت گئی",
        "ایرانیوں نے کہا",
        "چینی کی قیمت بڑھ گئی",
        "امریکیوں کا خیال ہے",
    ],
)
def test_no_match_inside_a_longer_word(text):
    assert keys(None, text, "location") == []


def test_whole_words_next_to_punctuation_and_digits_match():
    assert keys(None, "لاہور، کراچی۔ (پشاور) 2 کوئٹہ") == ["لاہور", "کراچی", "پشاور", "کوئٹہ"]


def test_an_abbreviation_inside_a_longer_one_is_not_matched():
    # "پی پی" (the PPP) is part of "اے پی پی" (the agency), not a mention of the party.
    assert keys(None, "اے پی پی کی رپورٹ کے مطابق", "organization") == ["اے پی پی"]
    assert keys(None, "پی پی اور پی ٹی آئی کے رہنما", "organization") == ["پاکستان پیپلز پارٹی", "پاکستان تحریک انصاف"]


def test_evening_is_not_syria():
    assert keys(None, "آج شام اجلاس ہوگا اور شام کو بارش ہوئی") == []
    assert keys(None, "شام میں جنگ جاری ہے") == ["شام"]


# ----------------------------------------------------------------- title patterns


def test_title_pattern_finds_an_unknown_person_and_their_surname_later():
    body = normalize("سری لنکا کی وزیر اعظم ہرینی امر سوریا نے حلف اٹھا لیا۔ سوریا نے کہا کہ وہ خوش ہیں۔")
    ms = [m for m in extract_entities("وزیراعظم سوریا کا حلف", body) if m.type == "person"]
    assert [(m.field, m.surface, m.key) for m in ms] == [
        ("headline", "سوریا", "ہرینی امر سوریا"),
        ("body", "ہرینی امر سوریا", "ہرینی امر سوریا"),
        ("body", "سوریا", "ہرینی امر سوریا"),
    ]


@pytest.mark.parametrize(
    "text, person",
    [
        ("وزیراعظم عمران خان نے کہا", "عمران خان"),
        ("وزیر ریلوے شیخ رشید نے کہا", "شیخ رشید احمد"),
        ("صدر اوباما سے ملاقات", "براک اوباما"),
        ("چیئرمین پی سی بی نجم سیٹھی کا بیان", "نجم سیٹھی"),
        ("اداکارہ میرا نے شادی کرلی", "میرا"),
        ("کپتان الزاری جوزف کپتان نے کہا", "الزاری جوزف"),
    ],
)
def test_title_then_name(text, person):
    assert person in keys(None, text, "person")


@pytest.mark.parametrize(
    "text",
    [
        "صدر نے کہا کہ",
        "جنرل اسمبلی کے اجلاس میں",
        "کپتان مقرر کر دیا گیا",
        "وزیراعظم کے دفتر سے",
        "صدر منتخب ہونے کے بعد",
        "کپتان ناخوش ہیں",
    ],
)
def test_title_without_a_name_gives_no_person(text):
    assert keys(None, text, "person") == []


def test_a_common_surname_is_not_resolved_alone():
    body = "وزیر اعلی پنجاب عثمان علی خان نے کہا۔ خان صاحب آئے۔"
    ms = [m for m in extract_entities(None, body) if m.type == "person"]
    assert [m.surface for m in ms] == ["عثمان علی خان"]


# ----------------------------------------------------------------- longest match, patterns, propagation


@pytest.fixture
def any_confidence(monkeypatch):
    """Every span the recognizer gives is taken, whatever the tuned thresholds."""
    monkeypatch.setattr(entities, "MODEL_MIN_CONFIDENCE", dict.fromkeys(entities.MODEL_MIN_CONFIDENCE, 0.0))


def _with_model(text: str, predicted: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Mentions of ``text`` as a body when the learned recognizer tags each ``(surface, type)``
    of ``predicted`` (at its first whole-word occurrence)."""
    spans = []
    for surface, typ in predicted:
        i = text.index(surface)
        spans.append((i, i + len(surface), typ, 1.0))
    found = entities._article_mentions({"headline": "", "body": text}, {"headline": [], "body": spans})
    return [(m.type, m.surface, m.key) for m in found]


def test_the_longest_candidate_wins_across_types(any_confidence):
    # The model's club contains a listed place, its person contains a listed country: one
    # mention each, the longer one, and the place is not also reported.
    text = "ریال میڈرڈ نے میچ جیت لیا اور ترکی المالکی نے گول کیا"
    found = _with_model(text, [("ریال میڈرڈ", "organization"), ("ترکی المالکی", "person")])
    assert [(t, s) for t, s, _ in found] == [("organization", "ریال میڈرڈ"), ("person", "ترکی المالکی")]


def test_a_model_span_never_splits_a_known_name():
    text = "وزیراعظم شہباز شریف لاہور پہنچ گئے"
    found = _with_model(text, [("شریف لاہور", "location")])
    assert ("location", "لاہور", "لاہور") in found
    assert not any(s == "شریف لاہور" for _, s, _ in found)


def test_a_model_name_also_tags_its_repeats_and_the_gazetteer_key_is_kept(any_confidence):
    text = "گلوبل نیوز نیٹ ورک نے خبر دی۔ بعد میں گلوبل نیوز نیٹ ورک نے تردید کی۔ لاہور میں"
    found = _with_model(text, [("گلوبل نیوز نیٹ ورک", "organization"), ("لاہور", "location")])
    assert [s for t, s, _ in found if t == "organization"] == ["گلوبل نیوز نیٹ ورک"] * 2
    assert ("location", "لاہور", "لاہور") in found


def test_short_forms_of_a_full_name_are_the_same_person(any_confidence):
    text = "فٹبالر وین رونی نے گول کیا۔ رونی نے کہا کہ اداکار فرحان قریشی بھی آئے۔ فرحان خوش تھے۔"
    found = _with_model(text, [("وین رونی", "person"), ("فرحان قریشی", "person")])
    persons = [(s, k) for t, s, k in found if t == "person"]
    assert persons == [
        ("وین رونی", "وین رونی"),
        ("رونی", "وین رونی"),
        ("فرحان قریشی", "فرحان قریشی"),
        ("فرحان", "فرحان قریشی"),
    ]


def test_a_common_name_word_is_not_a_short_form():
    found = _with_model("کپتان بابر علی نے کہا۔ علی کا گھر", [("بابر علی", "person")])
    assert "علی" not in [s for _, s, _ in found]


def test_a_blocking_phrase_is_never_a_model_entity():
    assert _with_model("آج شام اجلاس ہوگا", [("شام", "location")]) == []


def test_a_model_span_never_joins_two_known_names(any_confidence):
    # The recognizer's IO tags cannot separate adjacent names: the listed names stand.
    found = _with_model("عمران خان نواز شریف سے ملے", [("عمران خان نواز شریف", "person")])
    assert [s for _, s, _ in found] == ["عمران خان", "نواز شریف"]
    found = _with_model("فیس بک یا ٹوئٹر پر لکھا", [("فیس بک یا ٹوئٹر", "organization")])
    assert [s for _, s, _ in found] == ["فیس بک", "ٹوئٹر"]


def test_a_place_or_organization_keeps_its_title_like_words(any_confidence):
    # Titles and letter names open people's names only: "تحریک" or "آئی" stay in a body's name.
    text = "تحریک نفاذ امن نے اور آئی پی پیز کو خط لکھا"
    found = _with_model(text, [("تحریک نفاذ امن نے", "organization"), ("آئی پی پیز", "organization")])
    assert [s for t, s, _ in found if t == "organization"] == ["تحریک نفاذ امن", "آئی پی پیز"]


@pytest.mark.parametrize(
    "text", ["احمد\nیونیورسٹی نے کہا", "ب" * 90 + " یونیورسٹی نے کہا", "محکمہ صحت و دیگر اداروں نے"]
)
def test_patterns_stop_at_line_breaks_word_starts_and_function_words(text):
    for m in extract_entities(None, text):
        assert "\n" not in m.surface and m.surface != "محکمہ صحت و دیگر"
        assert m.start == 0 or not re.match(r"\w", text[m.start - 1])


def test_a_repeat_is_not_placed_inside_a_blocking_phrase(any_confidence):
    found = _with_model("شام نامی شخص آیا۔ آج شام اجلاس ہوگا", [("شام نامی", "person")])
    assert [s for _, s, _ in found] == ["شام نامی"]


def test_an_article_listing_thousands_of_names_is_still_tagged():
    letters = "بپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمن"

    def word(i: int, end: str) -> str:
        n = len(letters)
        return letters[i % n] + letters[i // n % n] + letters[i // n // n % n] + end

    body = " ".join(f"صدر {word(i, 'ان')} {word(i, 'وی')} نے کہا۔" for i in range(3000))
    people = [m for m in extract_entities(None, body) if m.type == "person"]
    assert len(people) >= 2900  # a few of the made-up words are listed words


@pytest.mark.parametrize(
    "text, body",
    [
        ("وزارت خارجہ کے ترجمان نے کہا", "وزارت خارجہ"),
        ("وزارت اطلاعات و نشریات نے اعلان کیا", "وزارت اطلاعات و نشریات"),
        ("وزارت مذہبی امور کی جانب سے", "وزارت مذہبی امور"),
        ("محکمہ موسمیات کے مطابق بارش ہوگی", "محکمہ موسمیات"),
    ],
)
def test_a_ministry_or_department_is_an_organization(text, body):
    assert body in [s for t, s, _ in _with_model(text, []) if t == "organization"]


@pytest.mark.parametrize("text", ["وزارت نے کہا", "اس محکمہ کے افسر", "وزارت کی جانب سے"])
def test_a_body_word_without_its_portfolio_is_nothing(text):
    assert _with_model(text, []) == []


def test_the_batch_equals_one_article_at_a_time():
    heads = ["لاہور میں بارش", None, "وزیراعظم عمران خان کا دورہ"]
    bodies = [normalize("کراچی اور لاہور میں وزیراعظم شہباز شریف نے کہا۔"), "", "وزارت خارجہ نے کہا کہ امریکا"]
    assert entities.extract_entities_batch(heads, bodies) == [extract_entities(h, b) for h, b in zip(heads, bodies)]


# ----------------------------------------------------------------- agency


@pytest.mark.parametrize(
    "body, expected",
    [
        ("لاہور (اُردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 02 مارچ2023ء) کچھ ہوا", "اے پی پی"),
        ("ڈھاکہ ۔ یکم دسمبر (اے پی پی) بنگلہ دیش میں", "اے پی پی"),
        ("اسلام آباد(نمائندہ جنگ) وفاقی حکومت نے", "نمائندہ"),
        ("لاہور (یوسف انجم/ ایکسپریس نیوز) گھڑی کی ٹک ٹک", "ایکسپریس نیوز"),
        ("ریاض (اردو پوائنٹ اخبارتازہ ترین۔ 30 دسمبر 2020ء، نمائندہ خصوصی، حافظ عرفان) ریاض میں", "نمائندہ خصوصی"),
        # generic "agencies" credit nobody; an agency named as a source is not the credit
        ("بس سڑک سے ٹکرا گئی، غیرملکی خبررساں ایجنسی", None),
        ("کچھ ہوا۔ خبر رساں ادارے روئٹرز کے مطابق بہت سے لوگ", None),
        ("کچھ ہوا۔ غیر ملکی خبر ایجنسی کے مطابق بہت سے لوگ", None),
        ("بس سڑک سے ٹکرا گئی، روئٹرز", "رائٹرز"),
        ("لاہور (اردو پوائنٹ اخبارتازہ ترین۔ 16 مئی 2020ء) ادارے نے", None),
        ("اسلام آباد: عالمی مالیاتی ادارے (آئی ایم ایف) نے منی بجٹ", None),
        ("لوگ آن لائن خریداری کرتے ہیں", None),
        ("شہر میں آگ لگ گئی۔ فوٹو: اے ایف پی", None),
    ],
)
def test_agency_forms(body, expected):
    assert agency(normalize(body)) == expected


def test_headline_credit_is_used_when_the_body_has_none():
    assert agency("دینی تنظیمیں تعلیم کو غیراسلامی کہتی ہیں", "مسلمان خود ذمے دار ہیں، بی بی سی") == "بی بی سی"
    assert agency("") is None


# ----------------------------------------------------------------- data files


def test_gazetteer_data_is_consistent():
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{8}", GAZETTEER_VERSION)
    assert gazetteers.duplicate_surfaces() == {}
    assert set(gazetteers.location_types().values()) <= {"city", "province", "country", "region"}
    table = gazetteers.gazetteer()
    assert len(table) > 500
    for surface in table:
        assert normalize(surface) == surface and "  " not in surface, surface


# ----------------------------------------------------------------- real corpora


def _bbc_articles(corpora):
    for path in sorted((corpora / "bbc_voa").rglob("*.doc")):
        fields = bbc_doc.parse(path.read_text(encoding="utf-8"), path.name)
        yield normalize(fields["headline"] or ""), normalize(fields["body"] or "")


def test_bbc_voa_prime_ministers_are_people(corpora):
    found = 0
    for headline, body in _bbc_articles(corpora):
        m = re.search(r"وزیر ?اعظم ", body)
        if not m:
            continue
        after = {mm.start for mm in extract_entities(headline, body) if mm.type == "person" and mm.field == "body"}
        found += m.end() in after
        if found >= 20:
            break
    # Most "وزیراعظم <name>" openings in the real articles yield a person right after the title.
    assert found >= 20


def test_bbc_voa_nawaz_sharif_spellings_aggregate(corpora):
    surfaces = set()
    for headline, body in _bbc_articles(corpora):
        if "نواز" in body:
            surfaces |= {m.surface for m in extract_entities(headline, body) if m.key == "نواز شریف"}
    assert {"نواز شریف"} < surfaces  # at least one other spelling or form maps to the same key


def _rows(path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from csv.DictReader(fh)


def test_urdupoint_datelines_give_their_agency(corpora):
    seen = {"اے پی پی": 0, "این این آئی": 0, "آن لائن": 0}
    for row in _rows(corpora / "untm" / "sampled_UNTM.csv"):
        body = normalize(row["News"])
        m = re.match(r"[^()]{0,40}\(اردو پوائنٹ اخبارتازہ ترین - (اے پی پی|این این آئی|آن لائن)۔", body)
        if m:
            assert agency(body) == m.group(1), body[:120]
            seen[m.group(1)] += 1
    assert min(seen.values()) >= 20, seen


def test_news_sites_byline_and_express_closing_credit(corpora):
    bylines = [
        normalize(r["content"])
        for r in _rows(corpora / "news_sites" / "jang_express_geo_samaa_dawn_2024c.csv")
        if "ایکسپریس نیوز)" in r["content"][:80]
    ]
    assert bylines and all(agency(b) == "ایکسپریس نیوز" for b in bylines)
    credits = [
        normalize(r["summery"])
        for r in _rows(corpora / "express_headlines" / "express_headlines_all.csv")
        if r["summery"].rstrip(" ۔.").endswith("، کشمیر میڈیا سروس")
    ]
    assert len(credits) >= 5 and all(agency(c) == "کشمیر میڈیا سروس" for c in credits)
