"""Structure and dates extracted from the text and metadata."""

import datetime as dt

import pytest

from etl.enrich.dates import parse_date, strip_trailing_date
from etl.enrich.structure import dateline_city, publication_date, source_site

UTC = dt.UTC


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Thu, 20 Oct 2016 09:02:54 GMT", dt.datetime(2016, 10, 20, 9, 2, 54, tzinfo=UTC)),
        ("Tue, 27 Dec 2016 00:48:37 +0500", dt.datetime(2016, 12, 26, 19, 48, 37, tzinfo=UTC)),
        ("2018-04-24T04:59:11 GMT", dt.datetime(2018, 4, 24, 4, 59, 11, tzinfo=UTC)),
        ("2023-03-02", dt.datetime(2023, 3, 2, tzinfo=UTC)),
        ("30 نومبر 2025", dt.datetime(2025, 11, 30, tzinfo=UTC)),
        ("۳۰ نومبر ۲۰۲۵", dt.datetime(2025, 11, 30, tzinfo=UTC)),
        ("02 مارچ2023ء", dt.datetime(2023, 3, 2, tzinfo=UTC)),
        ("24.04.18", dt.datetime(2018, 4, 24, tzinfo=UTC)),
        ("۲۴.۰۴.۲۰۱۸", dt.datetime(2018, 4, 24, tzinfo=UTC)),
        ("31/12/1999", dt.datetime(1999, 12, 31, tzinfo=UTC)),
        ("05-01-91", dt.datetime(1991, 1, 5, tzinfo=UTC)),
        ("32.01.20", None),
        ("0000-01-01", None),
        ("31 فروری 2024", None),
        ("کل", None),
        ("", None),
    ],
)
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


@pytest.mark.parametrize(
    "body, city",
    [
        ("راولپنڈی: آرمی چیف جنرل قمر جاوید باجوہ نے کہا", "راولپنڈی"),
        ("ڈیرہ اسماعیل خان: پولیس نے کہا", "ڈیرہ اسماعیل خان"),
        ("ڈھاکہ ۔ یکم دسمبر (اے پی پی) بنگلہ دیش", "ڈھاکہ"),
        ("آرمی چیف جنرل قمر جاوید باجوہ نے کہا کہ", None),
    ],
)
def test_dateline_city(body, city):
    assert dateline_city(body) == city


def test_dates_glued_to_titles_are_range_checked_too():
    latest = dt.datetime(2025, 1, 1, tzinfo=UTC)
    assert publication_date(None, "خبر08 نومبر ، 2099", "متن", latest) == (None, "خبر")
    assert publication_date(None, "خبر08 نومبر ، 1950", "متن", latest) == (None, "خبر")


@pytest.mark.parametrize(
    "url, site",
    [
        ("https://www.express.pk/story/2457671/", "express.pk"),
        ("https://urdu.geo.tv/latest/389512-", "urdu.geo.tv"),
        ("https://m.dawnnews.tv/news/1", "dawnnews.tv"),
        ("jang.com.pk/news/1", "jang.com.pk"),
        ("not a url", None),
        (None, None),
    ],
)
def test_source_site(url, site):
    assert source_site(url) == site


def test_every_corpus_link_names_its_site(corpora):
    import pandas as pd

    frame = pd.read_csv(corpora / "news_sites" / "jang_express_geo_samaa_dawn_2024c.csv", usecols=["link"])
    sites = {source_site(u) for u in frame["link"].dropna()}
    assert None not in sites
    assert {"jang.com.pk", "express.pk"} <= {s.removeprefix("urdu.") for s in sites}, sites


def test_the_future_cut_off_follows_the_days_run_not_the_clock():
    """A date after the day following the run's day is dropped; the same record filed under a later
    day keeps it, whatever the clock says, so re-running an old day gives the same dates."""
    from etl.articles import clean_record
    from etl.records import RawRecord

    rec = RawRecord("s", "f.csv", 1, {"body": "لاہور میں بارش ہوئی۔", "published": "2031-05-06T10:00:00Z"})
    assert clean_record(rec, dt.date(2031, 5, 6))["published_at"] == dt.datetime(2031, 5, 6, 10, tzinfo=dt.UTC)
    assert clean_record(rec, dt.date(2031, 5, 5))["published_at"] == dt.datetime(2031, 5, 6, 10, tzinfo=dt.UTC)
    assert clean_record(rec, dt.date(2031, 5, 4))["published_at"] is None
