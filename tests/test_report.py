"""The per-run report: built from a real pipeline run over the bundled sample day."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest

from etl.config import load_sources, make_source
from etl.load.lake import replace_partition
from etl.report import REPORT_VERSION, build_report
from tests.support import ROOT
from tests.support.runs import run_pipeline

DAY = dt.date(2021, 4, 7)
EVIL = "<script>alert(1)</script> {{ headline }} ${x}"
BODY = "لاہور: شہر میں آج دن بھر بارش ہوتی رہی۔ سڑکوں پر پانی جمع ہو گیا اور ٹریفک کئی گھنٹے رکا رہا۔"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One pipeline run of the sample day, plus a source with a hostile headline (twice, so it
    makes a duplicate cluster whose canonical headline is shown) and one with only rejects."""
    tmp = tmp_path_factory.mktemp("report")
    evil = tmp / "evil.csv"
    evil.write_text(
        f'title,content,link\n"{EVIL}",{BODY},https://example.com/a\n"{EVIL}",{BODY},https://example.com/b\n',
        encoding="utf-8",
    )
    empty = tmp / "empty.csv"
    empty.write_text("title,content,link\nخالی,,https://example.com/c\n", encoding="utf-8")
    cols = {"headline": "title", "body": "content", "url": "link"}
    sources = list(load_sources(ROOT / "config" / "sources.yaml").values())
    sources += [make_source("hostile", str(evil), "csv", cols), make_source("only_rejects", str(empty), "csv", cols)]
    summary = run_pipeline(sources, DAY, tmp / "data", f"sqlite:///{tmp}/wh.db", run_id="r1")
    summary["stages"] = {"fetch": 0.5, "transform": 2.0, "write_lake": 1.0, "check": 0.5}
    paths = build_report(summary, tmp / "data" / "lake", tmp / "out")
    page = Path(paths["html"]).read_text(encoding="utf-8")
    data = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    return {"tmp": tmp, "summary": summary, "paths": paths, "html": page, "json": data}


class _Cells(HTMLParser):
    """Collects the number cells (``data-k``) and the text of Urdu cells."""

    def __init__(self):
        super().__init__()
        self.cells: dict[str, str] = {}
        self.urdu: list[str] = []
        self._key = self._ur = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-k" in a:
            self._key, self.cells[a["data-k"]] = a["data-k"], ""
        if tag == "td" and a.get("lang") == "ur":
            self._ur = True
            self.urdu.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._key = self._ur = None

    def handle_data(self, text):
        if self._key:
            self.cells[self._key] += text
        if self._ur:
            self.urdu[-1] += text


def _cells(page: str) -> _Cells:
    parser = _Cells()
    parser.feed(page)
    return parser


def _lookup(data, key: str):
    for part in key.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def test_counts_match_summary(run):
    summary, data = run["summary"], run["json"]
    assert summary["status"] == "ok"
    assert data["report_version"] == REPORT_VERSION
    assert data["run"] == {
        "run_id": "r1",
        "day": "2021-04-07",
        "status": "ok",
        "warehouse": summary["warehouse"],
        "problems": [],
    }
    assert sorted(data["counts"]["sources"]) == sorted(summary["sources"])
    for name, rep in summary["sources"].items():
        for key in ("records_in", "loaded", "duplicates", "copies", "rejected"):
            assert data["counts"]["sources"][name][key] == rep[key], (name, key)
    for key in ("records_in", "loaded", "duplicates", "rejected"):
        assert data["counts"]["total"][key] == summary[key]
    assert data["counts"]["sources"]["only_rejects"]["loaded"] == 0
    assert data["notes"] == []  # the lake holds what the summary says
    cells = _cells(run["html"]).cells
    assert cells["counts.total.loaded"] == f"{summary['loaded']:,}"
    assert cells["counts.sources.sample_csv.duplicates"] == str(summary["sources"]["sample_csv"]["duplicates"])


def test_reject_reasons(run):
    rej = run["json"]["rejects"]
    assert {"empty_body", "bad_json"} <= set(rej["reasons"])
    assert rej["by_source"]["sample_jsonl"]["bad_json"] == 1
    assert rej["by_source"]["only_rejects"] == {"empty_body": 1}
    assert sum(rej["total"].values()) == run["summary"]["rejected"]
    assert '<th class="n">empty_body</th>' in run["html"] and '<th class="n">bad_json</th>' in run["html"]


def test_stages_seconds_and_share(run):
    st = run["json"]["stages"]
    assert st["order"] == ["fetch", "transform", "write_lake", "check"]  # load_warehouse absent: not shown
    assert st["total_seconds"] == 4.0 and st["share"]["transform"] == 0.5
    cells = _cells(run["html"]).cells
    assert cells["stages.share.transform"] == "50.0%" and cells["stages.seconds.fetch"] == "0.500"
    assert "stages.seconds.load_warehouse" not in cells


def test_entities_cities_and_clusters(run):
    charts = run["json"]["charts"]
    names = [e["entity_name"] for e in charts["top_entities"]]
    assert "لاہور" in names and len(names) <= 15
    lahore = charts["top_entities"][names.index("لاہور")]
    assert lahore["entity_type"] == "location" and lahore["articles"] >= 1
    assert any(c["city"] == "لاہور" for c in charts["top_dateline_cities"])
    urdu_cells = _cells(run["html"]).urdu
    assert "لاہور" in urdu_cells  # the entity table, in a dir/lang-tagged cell
    assert re.search(r'<text lang="ur" [^>]*>لاہور</text>', run["html"])  # a chart label the browser shapes
    arts = charts["articles_per_source"]
    loaded = dict(zip(arts["sources"], arts["articles"]))
    assert loaded == {n: r["loaded"] for n, r in run["summary"]["sources"].items()}
    words = charts["word_count"]
    assert sum(sum(c) for c in words["counts"].values()) == run["summary"]["loaded"]
    assert "only_rejects" not in words["counts"]
    clusters = charts["duplicate_clusters"]
    assert clusters["copies"] == sum(r["copies"] for r in run["summary"]["sources"].values())
    hostile = [c for c in clusters["largest"] if c["canonical_source"] == "hostile"]
    assert hostile and hostile[0]["canonical_headline"].startswith("<script>") and hostile[0]["exact"] == 1


def test_text_from_data_is_escaped(run):
    page = run["html"]
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ headline }} ${x}" in page
    assert EVIL in _cells(page).urdu  # the escaped text reads back as the headline


def test_self_contained(run):
    page = run["html"]
    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", page, re.I)
    assert "@import" not in page
    refs = re.findall(r'\b(?:src|href|xlink:href)\s*=\s*["\']?([^"\'\s>]*)', page, re.I)
    refs += re.findall(r"url\(\s*[\"']?([^)\"']*)", page, re.I)
    assert refs and all(r.startswith("#") for r in refs), refs  # only the charts' own clip paths
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # five inline SVGs share one id space
    assert page.count("<svg") == 5
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", page)  # no generation timestamp


def test_json_matches_html_numbers(run):
    data, cells = run["json"], _cells(run["html"]).cells
    assert len(cells) > 50
    for key, text in cells.items():
        value = _lookup(data, key)
        if value is None:
            assert text == "—", key
        elif ".share." in key:
            assert text == f"{value * 100:.1f}%", key
        elif key.startswith("stages."):
            assert text == f"{value:.3f}", key
        else:
            assert int(text.replace(",", "")) == value, key
    raw = Path(run["paths"]["json"]).read_text(encoding="utf-8")
    assert "لاہور" in raw  # ensure_ascii=False
    assert raw == json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def test_builds_are_byte_identical(run):
    tmp, summary = run["tmp"], run["summary"]
    again = build_report(summary, tmp / "data" / "lake", tmp / "again")
    for kind in ("html", "json"):
        assert Path(again[kind]).read_bytes() == Path(run["paths"][kind]).read_bytes()
    # another process with another string-hash seed gives the same bytes
    (tmp / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    code = (
        "import json, sys; from pathlib import Path; from etl.report import build_report; "
        "summary = json.loads(Path(sys.argv[1]).read_text(encoding='utf-8')); "
        "build_report(summary, Path(sys.argv[2]), Path(sys.argv[3]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-c", code, str(tmp / "summary.json"), str(tmp / "data" / "lake"), str(tmp / "other")],
        check=True,
        env=env,
        cwd=ROOT,
    )
    for kind in ("html", "json"):
        assert (tmp / "other" / f"report.{kind}").read_bytes() == Path(run["paths"][kind]).read_bytes()


def test_empty_day_and_missing_lake(tmp_path):
    summary = {
        "run_id": "r0",
        "day": "2030-01-01",
        "status": "failed",
        "records_in": 0,
        "loaded": 0,
        "duplicates": 0,
        "rejected": 0,
        "warehouse": "sqlite://",
        "problems": ["nothing <b>fetched</b>"],
        "sources": {"a": {"records_in": 0, "loaded": 0, "duplicates": 0, "rejected": 0}},
    }
    paths = build_report(summary, tmp_path / "no-lake", tmp_path / "out")
    page = Path(paths["html"]).read_text(encoding="utf-8")
    data = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    assert 'class="status status-failed"' in page and "nothing &lt;b&gt;fetched&lt;/b&gt;" in page
    assert "<svg" not in page and "No articles loaded for this day." in page
    assert data["counts"]["sources"]["a"]["copies"] is None  # an older summary without the key
    assert _cells(page).cells["counts.sources.a.copies"] == "—"
    assert data["stages"]["order"] == [] and data["charts"]["top_entities"] == []
    assert data["charts"]["duplicate_clusters"] == {"clusters": 0, "copies": 0, "sizes": [], "largest": []}


def test_old_partition_and_hostile_labels(tmp_path):
    """A partition written before some columns existed, with chart labels that look like markup
    or mathtext: read with nulls for the missing columns, drawn as literal, escaped text."""
    lake, day = tmp_path / "lake", "2030-01-02"
    city = "$x^2$ <b>&"
    replace_partition(
        lake,
        "articles",
        day,
        "old",
        pa.table(
            {
                "article_id": ["a1", "a2", "a3"],
                "headline": ["h1", "h2", "h3"],
                "word_count": pa.array([10, 30, 6000], pa.int32()),
                "dateline_city": [city, city, None],
                "duplicate_of": [None, None, "a1"],
            }
        ),
    )
    summary = {
        "run_id": "r2",
        "day": day,
        "status": "ok",
        "warehouse": "x",
        "sources": {"old": {"records_in": 3, "loaded": 3, "duplicates": 0, "rejected": 0, "copies": 1}},
    }
    page = Path(build_report(summary, lake, tmp_path / "out")["html"]).read_text(encoding="utf-8")
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["charts"]["top_dateline_cities"] == [{"city": city, "articles": 2}]
    assert data["charts"]["word_count"]["counts"]["old"] == [1, 1] + [0] * 10 + [1]
    assert data["charts"]["duplicate_clusters"]["largest"][0] == {
        "canonical_id": "a1",
        "canonical_source": "old",
        "canonical_headline": "h1",
        "in_this_day": True,
        "copies": 1,
        "exact": 0,
        "near": 0,
        "rewrite": 0,
        "copy_sources": ["old"],
    }
    assert "<b>" not in page and "&lt;b&gt;" in page
    assert re.search(r"<text [^>]*>\$x\^2\$ &lt;b&gt;&amp;</text>", page)  # not rendered as mathtext
