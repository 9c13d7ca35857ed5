"""Page furniture: the pattern table ``etl/text/rules/boilerplate.tsv`` and the fingerprinted blocks
of ``furniture_fingerprints.tsv``, as ``etl.text.repair.remove_boilerplate`` applies them.

* per pattern rule: synthetic furniture is removed and the article words around it survive;
  article-like text that merely resembles the furniture is left alone;
* fingerprints: a run of known units at the end of a paragraph goes, a short run or a unit
  elsewhere stays (on a synthetic table, so no third-party text is needed here);
* on the real corpora (``../shared/corpora``): each rule fires in at least the measured number of
  bodies, fires in no corpus it was not written for, and never removes more than 60% of a body
  (the Jang sidebar and stub bodies are the documented exceptions, with their own limits).
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from etl.read.bbc_doc import parse as parse_bbc
from etl.text import rules
from etl.text.normalize import normalize
from etl.text.repair import _fingerprint, remove_boilerplate, remove_fingerprinted

TSV = Path(__file__).resolve().parents[1] / "etl" / "text" / "rules" / "boilerplate.tsv"
CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
RULES = rules.boilerplate()
RULE = {name: pattern for name, pattern, _ in RULES}
GUARD = {name: guard for name, _, guard in RULES}


def squash(text: str) -> str:
    """Collapse runs of spaces and trim each paragraph, as the cleaning stage does after the rules."""
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


def apply_one(name: str, text: str) -> str:
    return squash(RULE[name].sub(" ", text))


def apply_all(text: str) -> str:
    return squash(remove_boilerplate(text)[0])


# --------------------------------------------------------------------------- the table itself


def test_table_is_well_formed():
    names = [name for name, _, _ in RULES]
    assert names, "boilerplate.tsv has no rules"
    assert len(names) == len(set(names)), "duplicate rule names"
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), f"rule name not snake_case: {name!r}"
    head = TSV.read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("#"), "the table should open with comment lines explaining its format"
    for name, pattern, _ in RULES:
        assert pattern.flags & (re.MULTILINE | re.IGNORECASE | re.VERBOSE) == 0, name
        assert not pattern.match(""), f"{name} matches the empty string"


# --------------------------------------------------------------------------- synthetic examples

# (rule, text, expected text after that rule alone)
POSITIVE = [
    (
        "bbc_share_widget",
        "اس پوسٹ کو شیئر کریں ای میل فیس بک Messenger Messenger ٹوئٹر گوگل پلس وٹس ایپ اس لنک کو کاپی کیجیے "
        "لاہور میں آج موسم خوشگوار رہا۔",
        "لاہور میں آج موسم خوشگوار رہا۔",
    ),
    (
        "bbc_share_widget",
        "اس پوسٹ کو شیئر کریں ای میل فیس بک ٹویٹر واٹس ایپ اس لنک کو کاپی کیجئے شہر میں بارش ہوئی۔",
        "شہر میں بارش ہوئی۔",
    ),
    (
        "bbc_external_links_notice",
        "یہ بیرونی لنک ہیں جو ایک نئی ونڈو میں کھلیں گے کراچی میں تاجروں کا اجلاس ہوا۔",
        "کراچی میں تاجروں کا اجلاس ہوا۔",
    ),
    (
        "voa_embed_code",
        "کانفرنس ختم ہوئی۔ Copy and paste the embed code below. The code changes based on your selection. "
        "The code has been copied to your clipboard. Video size http://www.urduvoa.com/a/sample-story/1234.html "
        "وزیر نے کہا کہ بات چیت جاری رہے گی۔",
        "کانفرنس ختم ہوئی۔ وزیر نے کہا کہ بات چیت جاری رہے گی۔",
    ),
    (
        "voa_embed_code",
        "طیارہ روانہ ہوا۔ Oops, as you can see, this is not what we wanted to show you! This URL has been sent "
        "to our support web team to the can look into it immediately. Our apologies. Please use Search above "
        "to see if you can find it elsewhere حکام نے تحقیقات شروع کر دیں۔",
        "طیارہ روانہ ہوا۔ حکام نے تحقیقات شروع کر دیں۔",
    ),
    (
        "voa_print_header",
        "فائل فوٹو Print تبصرے دیکھیں اسلام آباد میں کابینہ کا اجلاس ہوا۔",
        "اسلام آباد میں کابینہ کا اجلاس ہوا۔",
    ),
    (
        "voa_print_header",
        "وزیر خارجہ ایک تقریب میں (فائل فوٹو) Print پشاور میں بارش ہوئی۔\n\nدوسرا پیراگراف۔",
        "پشاور میں بارش ہوئی۔\n\nدوسرا پیراگراف۔",
    ),
    ("voa_print_header", "تبصرے دیکھیں شہر میں میلہ لگا۔", "شہر میں میلہ لگا۔"),
    (
        "voa_byline",
        "انہوں نے کہا کہ مذاکرات جاری رہیں گے۔ Ahmed R. Khan reports for VOA Urdu Web from Lahore",
        "انہوں نے کہا کہ مذاکرات جاری رہیں گے۔",
    ),
    (
        "voa_byline",
        "اجلاس کل ہوگا۔ Sara Ali is a multimedia journalist for VOA Urdu based in Washington تبصرے دکھائیں",
        "اجلاس کل ہوگا۔ تبصرے دکھائیں",
    ),
    ("voa_byline", "میچ برابر رہا۔ Broadcast Journalist VOA News Urdu TV", "میچ برابر رہا۔"),
    ("voa_comments_link", "اجلاس کل دوبارہ ہوگا۔ تبصرے دکھائیں", "اجلاس کل دوبارہ ہوگا۔"),
    (
        "urdupoint_continued",
        "اجلاس میں وزرا نے شرکت کی۔(جاری ہے)اس موقع پر خطاب کیا گیا۔",
        "اجلاس میں وزرا نے شرکت کی۔ اس موقع پر خطاب کیا گیا۔",
    ),
    (
        "related_link_marker",
        "ٹیم نے میچ جیت لیا۔ مزید پڑھیں:کپتان کی شاندار اننگز میچ کے بعد کوچ نے بات کی۔",
        "ٹیم نے میچ جیت لیا۔ کپتان کی شاندار اننگز میچ کے بعد کوچ نے بات کی۔",
    ),
    (
        "related_link_marker",
        "ٹیم نے میچ جیت لیا۔ مزید پڑھیںکپتان کی شاندار اننگز میچ کے بعد کوچ نے بات کی۔",
        "ٹیم نے میچ جیت لیا۔ کپتان کی شاندار اننگز میچ کے بعد کوچ نے بات کی۔",
    ),
    (
        "related_link_marker",
        "عدالت نے فیصلہ سنا دیا۔ یہ بھی پڑھیں: نیا قانون منظور وکیل نے اپیل کا اعلان کیا۔",
        "عدالت نے فیصلہ سنا دیا۔ نیا قانون منظور وکیل نے اپیل کا اعلان کیا۔",
    ),
    (
        "instagram_embed",
        "اداکارہ نے تصویر شیئر کی۔ A post shared by Some Star (@some.star_1) مداحوں نے اسے پسند کیا۔",
        "اداکارہ نے تصویر شیئر کی۔ مداحوں نے اسے پسند کیا۔",
    ),
    ("instagram_embed", "گلوکار نے نیا گانا جاری کیا۔ View this post on Instagram", "گلوکار نے نیا گانا جاری کیا۔"),
    (
        "dawn_read_in_english",
        "حکومت کو فوری اقدامات کرنے ہوں گے۔ یہ تحریر انگریزی میں پڑھیے۔",
        "حکومت کو فوری اقدامات کرنے ہوں گے۔",
    ),
    (
        "ary_video_embed",
        "بیان جاری کیا گیا۔Watch Latest Pakistani Talk shows and Headlines - ARY NEWSvideos.arynews.tv"
        "واضح رہے کہ اجلاس کل ہوگا۔",
        "بیان جاری کیا گیا۔ واضح رہے کہ اجلاس کل ہوگا۔",
    ),
]

# (rule, article-like text the rule must leave exactly as it is)
NEGATIVE = [
    ("bbc_share_widget", "وزیر نے کہا کہ صارفین یہ ویڈیو فیس بک اور وٹس ایپ پر شیئر کریں گے۔"),
    ("bbc_external_links_notice", "حکومت کے مطابق یہ بیرونی سرمایہ کاری کے لیے نئی راہیں کھولے گا۔"),
    ("voa_embed_code", "انہوں نے کہا کہ Copy and paste کی عادت طلبہ کے لیے نقصان دہ ہے۔"),
    ("voa_print_header", "اخبار کے دفتر میں اجلاس ہوا۔\nاس کے Print ایڈیشن میں خبر شائع ہوئی۔"),
    ("voa_print_header", "پرنٹ میڈیا اور Printing Press کے نمائندوں نے شرکت کی۔"),
    ("voa_byline", "انہوں نے انگریزی میں کہا: Pakistan is a great country"),
    ("voa_byline", "وائس آف امریکہ (VOA) کے مطابق اجلاس ملتوی ہو گیا۔"),
    ("voa_comments_link", "صارفین اپنے تبصرے دکھائیں تو انتظامیہ جواب دے گی۔"),
    ("urdupoint_continued", "مذاکرات کا عمل جاری ہے اور (کل) بھی جاری رہے گا۔"),
    ("related_link_marker", "طلبہ اگلے سال مزید پڑھیں گے اور وہ مزید پڑھنا چاہتے ہیں۔"),
    ("instagram_embed", "انہوں نے انسٹاگرام پر پوسٹ شیئر کی جسے @fans نے پسند کیا۔"),
    ("dawn_read_in_english", "طلبہ یہ تحریر انگریزی میں لکھیں گے۔"),
    ("ary_video_embed", "اے آر وائی نیوز (ARY NEWS) کے مطابق اجلاس ملتوی ہو گیا۔"),
]


def test_every_rule_has_examples():
    names = set(RULE)
    assert names == {r for r, *_ in POSITIVE}, "each rule needs a positive example"
    assert names == {r for r, _ in NEGATIVE}, "each rule needs a negative example"


@pytest.mark.parametrize("name,text,expected", POSITIVE, ids=[p[0] for p in POSITIVE])
def test_rule_removes_furniture(name, text, expected):
    assert apply_one(name, text) == expected
    for m in RULE[name].finditer(text):
        assert any(g in m.group(0) for g in GUARD[name]), f"{name}: guard {GUARD[name]} misses {m.group(0)!r}"


@pytest.mark.parametrize("name,text", NEGATIVE, ids=[n[0] for n in NEGATIVE])
def test_rule_leaves_article_text(name, text):
    assert RULE[name].sub(" ", text) == text
    assert apply_all(text) == squash(text), "another rule touched this article text"


# --------------------------------------------------------------------------- fingerprinted blocks

UNITS = [
    "شہر میں نئی سڑک کا افتتاح کر دیا گیا",
    "کھلاڑیوں نے تربیتی کیمپ میں حصہ لیا",
    "بازار میں سبزیوں کی قیمتیں کم ہو گئیں",
    "طلبہ کے لیے نئی لائبریری کھول دی گئی",
    "دریا میں پانی کی سطح بلند ہو گئی",
]


def _table(units):
    table: dict = {}
    for u in units:
        words = u.split()
        table.setdefault(" ".join(words[-2:]), {}).setdefault(len(words), set()).add(_fingerprint(words))
    return {"test_block": table}


def test_fingerprinted_run_at_paragraph_end_is_removed():
    story = "وزیر اعلیٰ نے آج اجلاس کی صدارت کی۔"
    block = " ".join(u + "۔۔" for u in UNITS[:4]) + " " + UNITS[4]
    text, counts = remove_fingerprinted(f"{story} {block}\nاگلا پیراگراف۔", _table(UNITS))
    assert text == f"{story}\nاگلا پیراگراف۔" and counts == {"test_block": 1}


def test_short_runs_and_units_inside_a_paragraph_stay():
    table = _table(UNITS)
    three = "خبر کا متن۔ " + " ".join(UNITS[:3])
    assert remove_fingerprinted(three, table) == (three, Counter())
    inside = " ".join(UNITS) + " اور یہ خبر کا آخری جملہ ہے۔"
    assert remove_fingerprinted(inside, table) == (inside, Counter())


def test_fingerprint_table_is_well_formed():
    table = rules.furniture_fingerprints()
    assert set(table) == {"jang_sidebar"}
    digests = [d for by_last in table.values() for by_len in by_last.values() for ds in by_len.values() for d in ds]
    assert len(digests) == len(set(digests)) == 92
    assert all(re.fullmatch(r"[0-9a-f]{16}", d) for d in digests)


# --------------------------------------------------------------------------- the real corpora

# rule -> {corpus: minimum bodies it fires in}; measured counts in brackets, rounded down a little.
# A rule must not fire in any corpus not listed for it.
MIN_FIRES = {
    "bbc_share_widget": {"bbc": 320},  # 333
    "bbc_external_links_notice": {"bbc": 28},  # 31
    "voa_embed_code": {"voa": 20},  # 24
    "voa_print_header": {"voa": 850},  # 870 of 884
    "voa_byline": {"voa": 105},  # 115
    "voa_comments_link": {"voa": 410},  # 429
    "urdupoint_continued": {"untm": 320},  # 331 of 399
    "related_link_marker": {"news_2024a": 40, "news_2024b": 45, "news_2024c": 45},  # 46 / 51 / 52
    "instagram_embed": {"news_2024a": 22, "news_2024c": 60},  # 26 / 68
    "dawn_read_in_english": {"news_2024c": 10},  # 11
    "ary_video_embed": {"untm": 1},  # 1
    "jang_sidebar": {"news_2024b": 390},  # 395 (every jang.com.pk body)
}
MAX_SHARE = 0.60  # of a body's characters that all rules together may remove
STUB_CHARS = 250  # bodies shorter than this may be mostly furniture (BBC video stubs)
JANG_MAX_SHARE = 0.96  # the Jang sidebar is most of the scraped body (measured max 0.949)
JANG_MIN_LEFT = 100  # ... but a real story always remains (measured min 132 chars)

_CSV_BODIES = {
    "news_2024a": ("news_sites/geo_jang_express_2024a.csv", "Contents"),
    "news_2024b": ("news_sites/geo_jang_express_dunya_2024b.csv", "content"),
    "news_2024c": ("news_sites/jang_express_geo_samaa_dawn_2024c.csv", "content"),
    "untm": ("untm/sampled_UNTM.csv", "News"),
    "express_headlines": ("express_headlines/express_headlines_all.csv", "summery"),
}


def _bodies(root: Path):
    """(corpus, record id, raw body) for every body in the shared corpora."""
    for path in sorted((root / "bbc_voa").rglob("*.doc")):
        rel = path.relative_to(root / "bbc_voa").as_posix()
        yield rel.split("/")[0], rel, parse_bbc(path.read_text(encoding="utf-8"), rel)["body"] or ""
    for path in sorted((root / "seed").glob("*.txt")):
        yield "seed", path.name, path.read_text(encoding="utf-8")
    csv.field_size_limit(sys.maxsize)
    for corpus, (rel, column) in _CSV_BODIES.items():
        with open(root / rel, encoding="utf-8-sig", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                yield corpus, f"{rel}#{i}", row.get(column) or ""


@pytest.mark.slow
@pytest.mark.timeout(900)  # a whole run or cluster; pytest.ini gives every other test 300 s
def test_rules_on_real_corpora():
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at ../shared/corpora (looked in {CORPORA})")
    fires: dict[str, Counter] = defaultdict(Counter)
    too_much, stubs, jang_bad = [], [], []
    for corpus, rid, raw in _bodies(CORPORA):
        body = normalize(raw)
        if not body:
            continue
        text, counts = remove_boilerplate(body)
        fired = set(counts)
        for name in fired:
            fires[name][corpus] += 1
        left = len(squash(text))
        share = 1 - left / len(body)
        if "jang_sidebar" in fired:
            if share > JANG_MAX_SHARE or left < JANG_MIN_LEFT:
                jang_bad.append((corpus, rid, round(share, 3), left))
        elif share > MAX_SHARE:
            (stubs if len(body) < STUB_CHARS else too_much).append((corpus, rid, round(share, 3), len(body)))

    problems = []
    for name in [*RULE, *rules.furniture_fingerprints()]:
        expected = MIN_FIRES.get(name)
        if expected is None:
            problems.append(f"{name}: no measured minimum in MIN_FIRES")
            continue
        for corpus, minimum in expected.items():
            if fires[name][corpus] < minimum:
                problems.append(f"{name}: fires in {fires[name][corpus]} {corpus} bodies, expected >= {minimum}")
        stray = {c: n for c, n in fires[name].items() if c not in expected}
        if stray:
            problems.append(f"{name}: fires in corpora it was not written for: {stray}")
    if too_much:
        problems.append(f"rules remove more than {MAX_SHARE:.0%} of {len(too_much)} bodies: {too_much[:20]}")
    if jang_bad:
        problems.append(f"jang_sidebar leaves too little of {len(jang_bad)} bodies: {jang_bad[:20]}")
    print(f"\nboilerplate rules fired: { {n: dict(c) for n, c in fires.items()} }")
    print(f"stub bodies (< {STUB_CHARS} chars) that are mostly furniture: {stubs}")
    assert not problems, "\n".join(problems)
