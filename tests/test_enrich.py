"""Structure and dates extracted from the text and metadata."""

import datetime as dt

import pytest

from etl.enrich.dates import parse_date, strip_trailing_date
from etl.enrich.structure import dateline_city, publication_date

UTC = dt.UTC


@pytest.mark.parametrize("text, expected", [
    ("Thu, 20 Oct 2016 09:02:54 GMT", dt.datetime(2016, 10, 20, 9, 2, 54, tzinfo=UTC)),
    ("Tue, 27 Dec 2016 00:48:37 +0500", dt.datetime(2016, 12, 26, 19, 48, 37, tzinfo=UTC)),
    ("2018-04-24T04:59:11 GMT", dt.datetime(2018, 4, 24, 4, 59, 11, tzinfo=UTC)),
    ("2023-03-02", dt.datetime(2023, 3, 2, tzinfo=UTC)),
    ("30 نومبر 2025", dt.datetime(2025, 11, 30, tzinfo=UTC)),
    ("۳۰ نومبر ۲۰۲۵", dt.datetime(2025, 11, 30, tzinfo=UTC)),
    ("02 مارچ2023ء", dt.datetime(2023, 3, 2, tzinfo=UTC)),
    ("0000-01-01", None),
    ("31 فروری 2024", None),
    ("کل", None),
    ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_future_dates_are_not_trusted():
    latest = dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_date("2030-01-01", latest) is None


def test_title_with_glued_date():
    title, when = strip_trailing_date("سدھو موسے والا کے والدین نے چہرا دکھا دیا08 نومبر ، 2024")
    assert title == "سدھو موسے والا کے والدین نے چہرا دکھا دیا"
    assert when == dt.datetime(2024, 11, 8, tzinfo=UTC)
    assert strip_trailing_date("کوئی تاریخ نہیں") == ("کوئی تاریخ نہیں", None)


def test_urdupoint_dateline_date_and_city():
    body = "لاہور (اُردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 02 مارچ2023ء) انٹلیکچوئل پراپرٹی"
    when, _ = publication_date(None, None, body)
    assert when == dt.datetime(2023, 3, 2, tzinfo=UTC)
    assert dateline_city(body) == "لاہور"


@pytest.mark.parametrize("body, city", [
    ("راولپنڈی: آرمی چیف جنرل قمر جاوید باجوہ نے کہا", "راولپنڈی"),
    ("ڈیرہ اسماعیل خان: پولیس نے کہا", "ڈیرہ اسماعیل خان"),
    ("ڈھاکہ ۔ یکم دسمبر (اے پی پی) بنگلہ دیش", "ڈھاکہ"),
    ("آرمی چیف جنرل قمر جاوید باجوہ نے کہا کہ", None),
])
def test_dateline_city(body, city):
    assert dateline_city(body) == city


def test_dates_glued_to_titles_are_range_checked_too():
    latest = dt.datetime(2025, 1, 1, tzinfo=UTC)
    assert publication_date(None, "خبر08 نومبر ، 2099", "متن", latest) == (None, "خبر")
    assert publication_date(None, "خبر08 نومبر ، 1950", "متن", latest) == (None, "خبر")
