"""The dateline grammar (place, separator, date, agency) on hand-written openings of every shape."""

import datetime as dt
import re

import pytest

from etl.enrich.dateline import DATELINE_VERSION, closing_credit, parse_dateline
from etl.text.normalize import normalize

PUBLISHED = dt.date(2023, 7, 10)


def parse(body: str, published: dt.date | None = PUBLISHED):
    return parse_dateline(normalize(body), published)


@pytest.mark.parametrize(
    "body, place, agency, agency_key, date, opening",
    [
        # place ۔ date (agency), no year: the year is the publication's
        (
            "ٹوکیو۔ 3 جولائی (اے پی پی) جاپان میں زلزلہ آیا۔",
            "ٹوکیو",
            "اے پی پی",
            "اے پی پی",
            dt.date(2023, 7, 3),
            "ٹوکیو۔ 3 جولائی (اے پی پی)",
        ),
        # digits glued to the separator and to the month, a colon closing it
        (
            "فیصل آباد۔24نومبر (اے پی پی): زرعی یونیورسٹی میں",
            "فیصل آباد",
            "اے پی پی",
            "اے پی پی",
            dt.date(2022, 11, 24),
            "فیصل آباد۔24نومبر (اے پی پی):",
        ),
        # no separator
        (
            "لندن 27 مئی (سیاست ڈاٹ کام) برطانیہ میں",
            "لندن",
            "سیاست ڈاٹ کام",
            "سیاست ڈاٹ کام",
            dt.date(2023, 5, 27),
            "لندن 27 مئی (سیاست ڈاٹ کام)",
        ),
        # an agency the table does not know, named after a date, is kept as written, with no key
        ("ممبئی 2 مئی (ہندوستان سماچار) بھارت میں", "ممبئی", "ہندوستان سماچار", None, dt.date(2023, 5, 2), None),
        ("نئی دہلی، 12 مارچ (پی ٹی آئی) بھارت میں", "نئی دہلی", "پی ٹی آئی", None, dt.date(2023, 3, 12), None),
        ("حیدرآباد۔ 9 جون (یو این آئی) شہر میں", "حیدرآباد", "یو این آئی", "یو این آئی", dt.date(2023, 6, 9), None),
        ("لاہور (مانیٹرنگ ڈیسک) شہر میں", "لاہور", "مانیٹرنگ ڈیسک", "مانیٹرنگ ڈیسک", None, None),
        # a space before the separator; a place the gazetteer may not list
        (
            "ہمبنٹوٹا ۔ 25 اگست (اے پی پی) سری لنکا نے",
            "ہمبنٹوٹا",
            "اے پی پی",
            "اے پی پی",
            dt.date(2022, 8, 25),
            "ہمبنٹوٹا ۔ 25 اگست (اے پی پی)",
        ),
        # UrduPoint: the agency and the full date inside the bracket
        (
            "لاہور (اُردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 02 مارچ2023ء) انٹلیکچوئل پراپرٹی",
            "لاہور",
            "اے پی پی",
            "اے پی پی",
            dt.date(2023, 3, 2),
            "لاہور (اردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 02 مارچ2023ء)",
        ),
        # UrduPoint's own copy: a date, no agency
        ("کراچی (اردو پوائنٹ اخبارتازہ ترین۔ 21 ستمبر 2022ء) شہر میں", "کراچی", None, None, dt.date(2022, 9, 21), None),
        # a place and a colon
        ("راولپنڈی: آرمی چیف نے کہا", "راولپنڈی", None, None, None, "راولپنڈی:"),
        ("ڈیرہ اسماعیل خان: پولیس نے کہا", "ڈیرہ اسماعیل خان", None, None, None, "ڈیرہ اسماعیل خان:"),
        # the source's spelling of the agency stays, its canonical key beside it
        ("اسلام آباد (ثناء نیوز) وزیراعظم نے", "اسلام آباد", "ثناء نیوز", "ثنا نیوز", None, "اسلام آباد (ثناء نیوز)"),
        ("پشاور (ویب ڈیسک) صوبائی حکومت نے", "پشاور", "ویب ڈیسک", "ویب ڈیسک", None, None),
        ("اسلام آباد(نمائندہ جنگ) وفاقی حکومت نے", "اسلام آباد", "نمائندہ جنگ", "نمائندہ", None, None),
        # "یکم" is the first; Urdu and Arabic-Indic digits
        ("ڈھاکہ ۔ یکم دسمبر (اے پی پی) بنگلہ دیش", "ڈھاکہ", "اے پی پی", "اے پی پی", dt.date(2022, 12, 1), None),
        ("کوئٹہ۔ ۱۵ مارچ (آئی این پی) صوبائی", "کوئٹہ", "آئی این پی", "آئی این پی", dt.date(2023, 3, 15), None),
        ("کراچی: ١٢ مارچ ٢٠٢١ء: شہر میں بارش", "کراچی", None, None, dt.date(2021, 3, 12), None),
        # a comma before the date; the bracket's full date wins over the year-less one before it
        (
            "دیر لوئر، 19 اپریل (اردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 19 اپریل 2021ء) ڈپٹی کمشنر",
            "دیر لوئر",
            "اے پی پی",
            "اے پی پی",
            dt.date(2021, 4, 19),
            None,
        ),
        # an agency after a dash
        ("کراچی - اے پی پی: شہر میں", "کراچی", "اے پی پی", "اے پی پی", None, "کراچی - اے پی پی:"),
        # a learned place (not in any table) before a date and an agency, after a stray mark
        ("#چکوال ۔ 5 جون (آئی این پی) ضلعی", "چکوال", "آئی این پی", "آئی این پی", dt.date(2023, 6, 5), None),
        (
            "کھرڑیانوالہ (اردو پوائنٹ اخبارتازہ ترین - این این آئی۔ 09 اپریل 2023ء) شہر",
            "کھرڑیانوالہ",
            "این این آئی",
            "این این آئی",
            dt.date(2023, 4, 9),
            None,
        ),
    ],
)
def test_dateline_shapes(body, place, agency, agency_key, date, opening):
    found = parse(body)
    assert (found.place, found.agency, found.agency_key, found.date) == (place, agency, agency_key, date)
    if opening is not None:
        assert normalize(body)[: found.end] == normalize(opening)


@pytest.mark.parametrize(
    "body",
    [
        "ویب ڈیسک: آرمی چیف نے کہا",  # a page label
        "شیئر کریں: یہ خبر",
        "نوٹ: یہ خبر پہلے شائع ہوئی",
        "پاکستان کرکٹ بورڈ (پی سی بی) نے اعلان کیا",  # an organization and its abbreviation
        "متحدہ عرب امارات (یو اے ای) میں ہونے والی سیریز",  # a place and its abbreviation, then the sentence
        "انٹرنیشنل کرکٹ کونسل (آئی سی سی) نے کہا",
        "پاکستان 14 اگست 1947 کو آزاد ہوا",  # a date in the sentence
        "کراچی، لاہور اور اسلام آباد میں بارش ہوئی",  # a list, not a dateline
        "لاہور، 5 مارچ کو جلسہ ہوگا",
        "حمل: 21 مارچ تا 20 اپریل آپ کا دن اچھا ہے",  # a horoscope's sign and its dates
        "حیدرآباد (دکن) سمیت کئی شہروں میں بارش",  # the bracket tells which place
        "لاہور (پنجاب) میں بارش ہوئی",
        "وزیراعظم نے کہا کہ ملک ترقی کرے گا",
        "",
    ],
)
def test_no_dateline(body):
    found = parse(body)
    assert (found.place, found.date, found.end) == (None, None, 0)


_STRIPPED_TAIL = " یہ خبر کی تفصیل ہے۔ اس میں کوئی ہندسہ یا رموز نہیں۔ یہ تیسرا جملہ ہے۔" * 4


@pytest.mark.parametrize(
    "body, place",
    [
        # text stripped of its punctuation and digits: a city before the first sentence
        ("لاہور پنجاب حکومت نے نئی پالیسی کا اعلان کیا۔" + _STRIPPED_TAIL, "لاہور"),
        ("اسلام آباد وفاقی حکومت نے بجٹ پیش کیا۔" + _STRIPPED_TAIL, "اسلام آباد"),
        # ... but not a city that starts a name or the sentence, nor a country
        ("لاہور قلندرز نے میچ جیت لیا۔" + _STRIPPED_TAIL, None),
        ("کراچی میں بارش ہوئی۔" + _STRIPPED_TAIL, None),
        ("پاکستان کرکٹ ٹیم نے میچ جیت لیا۔" + _STRIPPED_TAIL, None),
        # the same opening in punctuated text is no dateline
        ("لاہور پنجاب حکومت نے 3 نئی پالیسیوں کا اعلان کیا، جو کل سے نافذ ہوں گی۔" + _STRIPPED_TAIL, None),
    ],
)
def test_stripped_text(body, place):
    assert parse(body).place == place


def test_a_listed_organization_is_a_place_in_a_full_agency_dateline():
    found = parse("بارسلونا (اردو پوائنٹ اخبارتازہ ترین - آن لائن۔ 06 اپریل 2023ء) ریال میڈرڈ کی ٹیم نے")
    assert (found.place, found.agency) == ("بارسلونا", "آن لائن")


def test_unclosed_bracket_and_stray_characters():
    assert parse("کولکتہ(آن لائن بالی وڈ اداکار کو نوٹس").agency == "آن لائن"
    assert parse("کولکتہ(آن لائن بالی وڈ اداکار کو نوٹس").place == "کولکتہ"
    assert parse("3 لاہور (اردو پوائنٹ اخبارتازہ ترین - آن لائن۔ 07 اپریل 2023ء) محکمہ").place == "لاہور"
    assert parse("ح*تہران(اردو پوائنٹ اخبارتازہ ترین - آن لائن۔ 26 اپریل 2023ء) ایران").place == "تہران"


def test_generic_agency_in_running_text_is_not_the_agency():
    found = parse(
        "عالمی منڈی میں تیل سستا ہوگیا۔ غیر ملکی خبر ایجنسی کے مطابق قیمت کم ہوئی۔ ایجنسیاں بھی یہی کہتی ہیں۔"
    )
    assert found.agency is None and found.agency_key is None


def test_generic_agencies_are_no_credit():
    assert parse("بس سڑک سے ٹکرا گئی، غیرملکی خبررساں ایجنسی").agency is None
    assert parse("لاہور (خبر ایجنسی) بارش ہوئی").agency is None
    assert parse("لاہور (اردو پوائنٹ اخبارتازہ ترین۔ 16 مئی 2020ء) ادارے نے").agency is None


def test_an_agency_closing_the_story():
    found = parse("کراچی، لاہور اور اسلام آباد میں بارش ہوئی۔ (اے پی پی)")
    assert (found.place, found.agency, found.agency_key) == (None, "اے پی پی", "اے پی پی")
    assert closing_credit(normalize("کچھ ہوا، رائٹر")) == ("رائٹر", "رائٹرز")
    assert closing_credit(normalize("شہر میں آگ لگ گئی۔ فوٹو: اے ایف پی")) == (None, None)


def test_a_dateline_agency_wins_over_a_closing_one():
    found = parse("ٹوکیو۔ 3 جولائی (اے پی پی) جاپان میں زلزلہ آیا۔ (اے ایف پی)")
    assert found.agency == "اے پی پی"


@pytest.mark.parametrize(
    "body, published, date",
    [
        # the year that puts the date nearest the publication, across the new year both ways
        ("نیویارک ۔ 31 دسمبر (اے پی پی) نئے سال", dt.date(2024, 1, 1), dt.date(2023, 12, 31)),
        ("نیویارک ۔ یکم جنوری (اے پی پی) نئے سال", dt.date(2023, 12, 31), dt.date(2024, 1, 1)),
        ("نیویارک ۔ 15 جون (اے پی پی) گرمی", dt.date(2024, 6, 16), dt.date(2024, 6, 15)),
        # no publication: a year-less date is unknown, a full one is kept
        ("نیویارک ۔ 15 جون (اے پی پی) گرمی", None, None),
        ("لاہور (اردو پوائنٹ اخبارتازہ ترین - آن لائن۔ 10 مارچ 2023ء) شہر", None, dt.date(2023, 3, 10)),
        # 29 February takes a leap year only
        ("ٹوکیو۔ 29 فروری (اے پی پی) جاپان", dt.date(2024, 3, 2), dt.date(2024, 2, 29)),
        ("ٹوکیو۔ 31 فروری (اے پی پی) جاپان", dt.date(2024, 3, 2), None),
    ],
)
def test_year_from_publication(body, published, date):
    found = parse(body, published)
    assert found.place is not None and found.date == date


def test_dated_and_full_date():
    found = parse("ٹوکیو۔ 3 جولائی (اے پی پی) جاپان", None)
    assert found.date is None and found.full_date is None and found.month_day == (7, 3)
    assert found.dated(dt.date(2021, 7, 4)) == dt.date(2021, 7, 3)
    full = parse("ٹوکیو۔ 3 جولائی 2020ء (اے پی پی) جاپان", dt.date(2024, 1, 1))
    assert full.full_date == full.date == dt.date(2020, 7, 3)


def test_the_date_of_a_sentence_is_not_the_datelines():
    found = parse("کراچی: 12 مارچ 1991 کو شہر میں ہنگامے ہوئے تھے")
    assert (found.place, found.date) == ("کراچی", None)


def test_version_names_its_tables():
    assert re.fullmatch(r"\d+\+[0-9a-f]{8}", DATELINE_VERSION)


# ----------------------------------------------------------------- in the pipeline


def _row(body: str, published: str | None = None, headline: str | None = None, day=dt.date(2017, 5, 3)):
    from etl.articles import clean_record
    from etl.records import RawRecord

    fields = {"body": body, "published": published, "headline": headline}
    row = clean_record(RawRecord("s", "f.csv", 1, fields), day)
    assert isinstance(row, dict)
    return row


def test_pipeline_columns():
    row = _row("اسلام آباد (ثناء نیوز) وزیراعظم نے کہا کہ ملک ترقی کرے گا۔", "2017-05-02T10:00:00Z")
    assert (row["dateline_city"], row["agency"], row["agency_key"]) == ("اسلام آباد", "ثناء نیوز", "ثنا نیوز")
    assert row["dateline_date"] is None
    row = _row("ٹوکیو۔ 3 جولائی (اے پی پی) جاپان میں زلزلہ آیا۔", None, day=dt.date(2017, 7, 4))
    # the year of the run's day; no published_at from a year-less date
    assert row["dateline_date"] == dt.date(2017, 7, 3) and row["published_at"] is None
    row = _row("بارش ہوئی۔", None, headline="شہر میں بارش، بی بی سی")
    assert (row["agency"], row["agency_key"]) == ("بی بی سی", "بی بی سی")


def test_published_at_from_the_dateline_only():
    row = _row("لاہور (اردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 02 مارچ2017ء) شہر میں")
    assert row["published_at"] == dt.datetime(2017, 3, 2, tzinfo=dt.UTC)
    assert row["dateline_date"] == dt.date(2017, 3, 2)
    # an event's date in the first sentence is not the publication's
    row = _row("سابق وزیراعظم نے 12 مارچ 1991 کو ہونے والے معاہدے کا ذکر کیا۔")
    assert row["published_at"] is None and row["dateline_date"] is None
    # metadata wins over the dateline
    row = _row("لاہور (اردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 02 مارچ2017ء) شہر میں", "2017-03-03T01:00:00Z")
    assert row["published_at"] == dt.datetime(2017, 3, 3, 1, tzinfo=dt.UTC)
