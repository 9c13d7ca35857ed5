"""The enrichment columns as the pipeline writes them: each article's fields come from its own record."""

import datetime as dt

import pyarrow.dataset as ds
import pyarrow.parquet as pq

from etl.config import make_source
from etl.enrich import keywords
from etl.settings import Settings
from tests.support.runs import run_pipeline

DAY = dt.date(2024, 11, 8)
HEADER = "id,title,link,content,gold_label\n"
MAP = {"external_id": "id", "headline": "title", "url": "link", "body": "content", "category": "gold_label"}

STORY = (
    "لاہور: وزیراعظم شہباز شریف نے آج پنجاب اسمبلی کے اجلاس میں شرکت کی اور صوبے میں تعلیم کے نئے منصوبے کا "
    "اعلان کیا۔ انہوں نے کہا کہ حکومت اسکولوں کی تعداد میں اضافہ کرے گی اور اساتذہ کی تربیت پر توجہ دے گی۔ "
    "اجلاس میں وزیر خزانہ نے بجٹ کی تفصیلات بھی پیش کیں جن کے مطابق تعلیم کے لیے رقم دوگنی کی جا رہی ہے۔ "
    "اپوزیشن نے اس منصوبے کا خیرمقدم کیا مگر کہا کہ عمل درآمد کی نگرانی ضروری ہے۔"
)
OTHER = (
    "کراچی: شہر میں شدید بارش کے بعد کئی علاقوں میں پانی جمع ہو گیا اور ٹریفک کا نظام درہم برہم ہو گیا۔ "
    "محکمہ موسمیات کے مطابق آئندہ دو روز تک مزید بارش کا امکان ہے اور شہریوں کو احتیاط کی ہدایت کی گئی ہے۔ "
    "بلدیہ کے عملے نے نکاسی آب کا کام شروع کر دیا ہے جبکہ ہسپتالوں میں ہنگامی حالت نافذ کر دی گئی ہے۔"
)


def _run(tmp_path, rows, name="news", day=DAY):
    path = tmp_path / f"{name}-{day}.csv"
    path.write_text(HEADER + "".join(f'{i},"{t}",{u},"{b}",{c}\n' for i, t, u, b, c in rows), encoding="utf-8")
    source = make_source(name, str(path), "csv", MAP)
    summary = run_pipeline([source], day, tmp_path / "data", f"sqlite:///{tmp_path / 'wh.db'}", run_id=f"{name}-{day}")
    assert summary["status"] == "ok"
    lake = tmp_path / "data" / "lake"
    arts = (
        ds.dataset(lake / "articles", partitioning="hive")
        .to_table(filter=(ds.field("source") == name) & (ds.field("ingest_date") == day.isoformat()))
        .to_pylist()
    )
    mentions = ds.dataset(lake / "mentions", partitioning="hive").to_table().to_pylist()
    return {a["url"]: a for a in arts}, mentions


def test_a_repeated_url_keeps_the_first_records_own_fields(tmp_path):
    # the same URL twice with different bodies: the first loads, with the fields of its own body
    arts, mentions = _run(
        tmp_path,
        [
            (1, "تعلیم کا منصوبہ", "https://example.pk/1", STORY, "pakistan"),
            (2, "بارش", "https://example.pk/1", OTHER, "pakistan"),
        ],
    )
    art = arts["https://example.pk/1"]
    assert art["body"].startswith("لاہور")
    tokens = [t for s in art["body"].split("۔") for t in s.split()]
    assert set(art["keywords"]) <= set(tokens) and "تعلیم" in art["keywords"]
    assert "stub_body" not in art["quality_flags"] or art["word_count"] < 50
    assert {m["entity_name"] for m in mentions} >= {"لاہور", "شہباز شریف"}
    assert "کراچی" not in {m["entity_name"] for m in mentions}


def test_mentions_point_at_their_text(tmp_path):
    arts, mentions = _run(
        tmp_path,
        [
            (1, "لاہور میں اجلاس", "https://example.pk/1", STORY, "pakistan"),
            (2, "کراچی میں بارش", "https://example.pk/2", OTHER, "pakistan"),
        ],
    )
    by_id = {a["article_id"]: a for a in arts.values()}
    assert len(mentions) >= 4
    for m in mentions:
        text = by_id[m["article_id"]][m["field"]]
        assert text[m["position"] : m["position"] + len(m["surface"])] == m["surface"]


def test_enrichment_fields_are_filled(tmp_path):
    arts, _ = _run(
        tmp_path,
        [
            (1, "تعلیم کا منصوبہ", "https://www.jang.com.pk/news/1", STORY, "Politics"),
            (2, "بارش", "https://urdu.geo.tv/2", OTHER, ""),
        ],
    )
    story, other = arts["https://www.jang.com.pk/news/1"], arts["https://urdu.geo.tv/2"]
    assert story["source_site"] == "jang.com.pk" and other["source_site"] == "urdu.geo.tv"
    assert story["dateline_city"] == "لاہور" and other["dateline_city"] == "کراچی"
    assert story["category_source"] == "label" and story["category_confidence"] is None
    assert other["category_source"] == "model" and 0 < other["category_confidence"] <= 1
    assert story["urdu_share"] > 0.99 and story["reading_time_s"] > 0
    assert story["category"] == "politics"
    assert 0 < len(story["keywords"]) <= keywords.DEFAULT_K
    assert story["enrichment_version"] and story["duplicate_of"] is None


def test_a_copy_on_a_later_day_points_to_the_earlier_article(tmp_path):
    _run(
        tmp_path,
        [(1, "تعلیم کا منصوبہ", "https://site-a.pk/1", STORY, "pakistan")],
        name="site_a",
        day=dt.date(2024, 11, 7),
    )
    copy = STORY.replace("آج", "بدھ کے روز").replace("مگر", "لیکن")
    arts, _ = _run(
        tmp_path,
        [
            (1, "منصوبے کا اعلان", "https://site-b.pk/9", copy, "pakistan"),
            (2, "بارش", "https://site-b.pk/10", OTHER, "pakistan"),
        ],
        name="site_b",
    )
    first = (
        ds.dataset(tmp_path / "data" / "lake" / "articles", partitioning="hive")
        .to_table(filter=ds.field("source") == "site_a")
        .to_pylist()[0]
    )
    assert arts["https://site-b.pk/9"]["duplicate_of"] == first["article_id"]
    assert arts["https://site-b.pk/9"]["duplicate_kind"] == "near"
    assert arts["https://site-b.pk/10"]["duplicate_of"] is None
    # the later day's signatures record the link, so a third day's copy finds the same canonical
    sigs = pq.read_table(
        next((tmp_path / "data" / "lake" / "signatures" / f"ingest_date={DAY}" / "source=site_b").glob("*.parquet"))
    ).to_pylist()
    assert {s["duplicate_of"] for s in sigs} == {first["article_id"], None}
    # re-running the earlier day does not make it a copy of its own later copy
    again, _ = _run(
        tmp_path,
        [(1, "تعلیم کا منصوبہ", "https://site-a.pk/1", STORY, "pakistan")],
        name="site_a",
        day=dt.date(2024, 11, 7),
    )
    assert again["https://site-a.pk/1"]["duplicate_of"] is None


def test_the_copy_search_looks_back_over_a_window_of_days(tmp_path, monkeypatch):
    window = Settings().dedup_days  # the default
    old_day = DAY - dt.timedelta(days=window + 1)
    _run(tmp_path, [(1, "تعلیم کا منصوبہ", "https://site-a.pk/1", STORY, "pakistan")], name="site_a", day=old_day)
    copy = STORY.replace("آج", "بدھ کے روز")
    arts, _ = _run(tmp_path, [(1, "منصوبے کا اعلان", "https://site-b.pk/9", copy, "pakistan")], name="site_b")
    assert arts["https://site-b.pk/9"]["duplicate_of"] is None  # older than the window
    monkeypatch.setenv("URDU_ETL_DEDUP_DAYS", "all")
    arts, _ = _run(tmp_path, [(1, "منصوبے کا اعلان", "https://site-b.pk/9", copy, "pakistan")], name="site_b")
    assert arts["https://site-b.pk/9"]["duplicate_of"] is not None
    monkeypatch.setenv("URDU_ETL_DEDUP_DAYS", str(window + 1))
    arts, _ = _run(tmp_path, [(1, "منصوبے کا اعلان", "https://site-b.pk/9", copy, "pakistan")], name="site_b")
    assert arts["https://site-b.pk/9"]["duplicate_of"] is not None
