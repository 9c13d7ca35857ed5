"""The grown gazetteer tables and bench/propose_gazetteer.py, which proposes entries for review."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.enrich import gazetteers
from etl.enrich.gazetteers import norm, table_rows

ROOT = Path(__file__).resolve().parents[1]


def _resolve(surface: str):
    return gazetteers.gazetteer().get(norm(surface))


# ----------------------------------------------------------------- tables


def test_tables_load_without_surface_clashes():
    assert gazetteers.duplicate_surfaces() == {}
    assert set(gazetteers.location_types().values()) <= {"city", "province", "country", "region"}
    for file, width in (("locations.tsv", 3), ("organizations.tsv", 2), ("persons.tsv", 2)):
        for row in table_rows(file):
            assert 1 <= len(row) <= width and row[0].strip(), (file, row)


def test_every_country_is_there():
    countries = [k for k, t in gazetteers.location_types().items() if t == "country"]
    # 193 UN members plus Palestine, Taiwan, Kosovo, the Vatican and the West Indies team's name.
    assert len(countries) >= 195
    for key in countries:
        assert _resolve(key) == ("location", key)


@pytest.mark.parametrize(
    "surface, typ, key",
    [
        ("آئیوری کوسٹ", "location", "آئیوری کوسٹ"),
        ("امریکہ", "location", "امریکا"),
        ("مغربی افریقا", "location", "مغربی افریقہ"),
        ("مشرق وسطیٰ", "location", "مشرق وسطی"),
        ("جنوب مشرقی ایشیا", "location", "جنوب مشرقی ایشیا"),
        ("گھوٹکی", "location", "گھوٹکی"),
        ("شکارپور", "location", "شکارپور"),
        ("ٹوبہ ٹیک سنگھ", "location", "ٹوبہ ٹیک سنگھ"),
        ("قلعہ عبداللہ", "location", "قلعہ عبداللہ"),
        ("ضلع کیچ", "location", "ضلع کیچ"),
        ("ننگرہار", "location", "ننگرہار"),
        ("ریال میڈرڈ", "organization", "ریال میڈرڈ"),
        ("لیور پول", "organization", "لیور پول"),
        ("مانچسٹر یونائیٹڈ", "organization", "مانچسٹر یونائیٹڈ"),
        ("لاہور قلندرز", "organization", "لاہور قلندرز"),
        ("چنئی سپر کنگز", "organization", "چنئی سپر کنگز"),
        ("پاکستان بلائنڈ کرکٹ کونسل", "organization", "پاکستان بلائنڈ کرکٹ کونسل"),
        ("اے ایف پی", "organization", "اے ایف پی"),
        ("اے پی پی", "organization", "اے پی پی"),
        ("ریڈیو پاکستان", "organization", "ریڈیو پاکستان"),
        ("ثناء نیوز", "organization", "ثنا نیوز"),
        ("روئٹرز", "organization", "رائٹرز"),
        ("سرینا ولیمز", "person", "سرینا ولیمز"),
    ],
)
def test_required_names_resolve(surface, typ, key):
    assert _resolve(surface) == (typ, norm(key))


@pytest.mark.parametrize(
    # Everyday words (delay, catch, love, grace, thought, flew, room-like fragments) that name a
    # place only in some texts: never a bare surface.
    "word",
    ["دیر", "کیچ", "حب", "کرم", "سوچی", "اڑی", "زیارت", "باغ", "حویلی", "مالی", "آج تک", "جنگ", "رائٹر"],
)
def test_ambiguous_everyday_words_are_not_surfaces(word):
    assert _resolve(word) is None


#: Agency surfaces that are also ordinary words or other names: bylines only, never mentions.
_NOT_MENTIONS = {"رائٹر", "اناطولیہ"}


def test_agencies_are_organizations_under_the_same_key():
    checked = 0
    for key, where, surfaces in table_rows("agencies.tsv"):
        if where.strip() != "any" or norm(key) == "ایجنسیاں":
            continue
        for s in [key, *surfaces.split("|")]:
            if norm(s) in _NOT_MENTIONS:
                assert _resolve(s) is None
                continue
            assert _resolve(s) == ("organization", norm(key)), s
            checked += 1
    assert checked >= 40


def test_a_named_agency_is_a_mention_and_still_the_byline():
    from etl.enrich.bylines import agency
    from etl.enrich.entities import extract_entities

    body = norm("کراچی (اے پی پی) ریال میڈرڈ نے لیور پول کو ہرا دیا، اے ایف پی کے مطابق گھوٹکی میں بارش ہوئی۔")
    assert agency(body) == "اے پی پی"
    found = {(m.type, m.key) for m in extract_entities(None, body)}
    assert {
        ("organization", "اے پی پی"),
        ("organization", "ریال میڈرڈ"),
        ("organization", "لیور پول"),
        ("organization", "اے ایف پی"),
        ("location", "گھوٹکی"),
    } <= found


# ----------------------------------------------------------------- proposal script


@pytest.fixture(scope="module")
def propose_module():
    spec = importlib.util.spec_from_file_location("propose_gazetteer", ROOT / "bench" / "propose_gazetteer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# A made-up club, "زرغون ستارے", recurs before نے/کی in several articles; "بیان" (statement) and
# "انہوں" recur before the same postpositions but are a common noun and grammar.
_ARTICLES = [
    ("زرغون ستارے کی ٹیم جیت گئی", "زرغون ستارے نے فائنل جیت لیا۔ ان کے بیان کے مطابق بیان نے سب کو حیران کیا۔"),
    ("میچ کا نتیجہ", "کل زرغون ستارے نے اپنا میچ کھیلا اور انہوں نے کہا کہ اس بیان کی اہمیت ہے۔"),
    ("کھیل", "زرغون ستارے کی کارکردگی اچھی رہی۔ انہوں نے اس بیان کا خیرمقدم کیا۔"),
    ("مزید", "شائقین نے زرغون ستارے کا استقبال کیا۔ ایک بیان کی تردید ہوئی۔"),
    ("اندھی خبر", "یہ متن باہر رکھا جاتا ہے: کالا کوا نے، کالا کوا کی، کالا کوا کا۔"),
]


def _write_lake(root: Path) -> Path:
    part = root / "lake" / "articles" / "ingest_date=2024-01-01" / "source=fixture"
    part.mkdir(parents=True)
    blind = root / "lake" / "articles" / "ingest_date=2024-01-01" / "source=untm"
    blind.mkdir(parents=True)
    rows = [
        {"source_file": f"fixture/{i}.txt", "headline": h, "body": norm(b)} for i, (h, b) in enumerate(_ARTICLES[:4])
    ]
    pq.write_table(pa.Table.from_pylist(rows), part / "part-0.parquet")
    blind_rows = [
        {"source_file": f"untm/{i}.csv", "headline": _ARTICLES[4][0], "body": _ARTICLES[4][1]} for i in range(4)
    ]
    pq.write_table(pa.Table.from_pylist(blind_rows), blind / "part-0.parquet")
    return root / "lake"


def test_proposals_from_a_lake(tmp_path, propose_module):
    lake = _write_lake(tmp_path)
    out = tmp_path / "proposals.tsv"
    propose_module.main(
        ["--lake", str(lake), "--exclude-sources", "untm", "--min-articles", "3", "--no-ner", "--out", str(out)]
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["surface", "proposed_type", "articles", "evidence"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert "زرغون ستارے" in rows
    assert rows["زرغون ستارے"][2] == "4"
    assert "زرغون ستارے" in rows["زرغون ستارے"][3]  # contexts are given as evidence
    assert "ستارے" not in rows  # the shorter n-gram is covered by the longer name
    assert "بیان" not in rows and "انہوں" not in rows
    assert "کالا کوا" not in rows  # the excluded source is not read


def test_excluded_sources_and_known_names(propose_module):
    assert propose_module.excluded("bbc_voa", "bbc_voa/voa/sports/x.doc", ["voa"])
    assert not propose_module.excluded("bbc_voa", "bbc_voa/bbc/sports/x.doc", ["voa"])
    assert propose_module.excluded("untm", "anything.csv", ["untm"])
    articles = [propose_module.Article("s", f"f{i}", f"لاہور نے میچ جیتا۔ زرغون ستارے نے بھی {i}") for i in range(3)]
    rows, n = propose_module.propose(articles, min_articles=3, use_ner=False)
    surfaces = {r[0] for r in rows}
    assert n == 3 and "زرغون ستارے" in surfaces and "لاہور" not in surfaces
