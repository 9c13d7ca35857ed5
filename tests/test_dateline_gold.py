"""The dateline grammar against the hand-labelled dateline set (tests/gold/DATELINES.md).

The dev part is the one the grammar was tuned on: its accuracies are held above floors a little
under the measured ones, so a change that loses datelines fails here. The blind test part is only
checked to resolve and to share no article with dev; it is scored by hand, once per release of the
rules (``python -m tests.gold.datelines test``), never in a loop.

Measured on dev (212 articles, 74 places, 27 agencies, 31 dates): place 99.1, agency 100.
"""

from __future__ import annotations

import datetime as dt

import pytest

from etl.enrich.dateline import parse_dateline
from tests.gold import datelines as gold

DEV_FLOORS = {"place": 98.0, "agency": 98.0, "agency_key": 98.0, "date": 96.0, "full_date": 96.0}


@pytest.fixture
def dev(corpora):
    return gold.load("dev", corpora)


def test_the_dev_part_meets_the_floors(dev):
    result = gold.score(dev, parse_dateline)
    assert result["items"] == len(dev) >= 200
    for field, floor in DEV_FLOORS.items():
        assert result[field] >= floor, (field, result[field], result["errors"][:10])
    # no event date of the body is ever taken for the dateline's
    assert result["false_dates"] == 0


def test_the_grammar_beats_the_naive_reference_on_places(dev):
    ours, naive = gold.score(dev, parse_dateline), gold.score(dev, gold.naive)
    assert ours["place"] > naive["place"] + 10


def test_the_blind_part_resolves_and_shares_no_article_with_dev(dev, corpora):
    test = gold.load("test", corpora)
    assert len(test) >= 150
    assert {(i["file"], i["record"]) for i in test}.isdisjoint({(i["file"], i["record"]) for i in dev})
    assert sum(i["gold"]["place"] is not None for i in test) >= 40


def test_the_score_counts_a_missing_dateline_as_right_when_gold_has_none():
    items = [
        {"id": "a", "corpus": "x", "body": "", "published": None, "gold": _gold(place="لاہور")},
        {"id": "b", "corpus": "x", "body": "", "published": None, "gold": _gold()},
    ]
    result = gold.score(items, lambda body, published: gold.Pred(None, None, None))
    assert result["place"] == 50.0 and result["agency"] == 100.0
    assert result["errors"] == [("a", "place", "لاہور", None)]


def test_a_date_without_a_year_matches_on_day_and_month():
    gold_date = {"text": "3 جولائی", "day": 3, "month": 7, "year": None}
    assert gold._date_ok(gold_date, dt.date(2019, 7, 3))
    assert not gold._date_ok(gold_date, dt.date(2019, 7, 4))
    assert not gold._date_ok({**gold_date, "year": 2018}, dt.date(2019, 7, 3))


def _gold(place=None):
    return {"place": place, "agency": None, "agency_key": None, "date": None, "full_date": None}
