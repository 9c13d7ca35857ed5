"""Source declarations: templates, validation errors a user can act on."""

import datetime as dt

import pytest

from etl.config import ConfigError, load_sources, make_source
from etl.tasks.fetch import resolve_day, select_sources
from tests.support import ROOT


def test_bundled_sources_file_loads():
    sources = load_sources(ROOT / "config" / "sources.yaml")
    assert set(sources) == {"sample_seed", "sample_bbc", "sample_csv", "sample_jsonl"}
    assert {s.format for s in sources.values()} == {"seed_txt", "bbc_doc", "csv", "jsonl"}
    url = sources["sample_csv"].url_for(dt.date(2021, 4, 7))
    assert url.endswith("samples/dumps/2021-04-07/news.csv.gz")


def test_url_placeholders():
    s = make_source("a", "https://h/{yyyy}/{mm}/{dd}/{yyyymmdd}-{date}.csv", "csv", {"body": "b"})
    assert s.url_for(dt.date(2024, 1, 9)) == "https://h/2024/01/09/20240109-2024-01-09.csv"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="Bad Name", url="u", fmt="csv", columns={"body": "b"}), "lower-case"),
        (dict(name="a", url="u", fmt="xml"), "not one of"),
        (dict(name="a", url="u", fmt="csv"), "needs a column for 'body'"),
        (dict(name="a", url="u", fmt="csv", columns={"body": "b", "titel": "t"}), "unknown field"),
        (dict(name="a", url="u/{day}", fmt="seed_txt"), "bad placeholder"),
        (dict(name="a", url="u", fmt="seed_txt", encoding="klingon"), "unknown encoding"),
    ],
)
def test_declaration_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_source(**kwargs)


def test_sources_file_errors(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - name: a\n    format: csv\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="entry 1 lacks url"):
        load_sources(path)
    path.write_text("sources: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(path)
    with pytest.raises(ConfigError, match="not found"):
        load_sources(tmp_path / "none.yaml")


def test_relative_urls_resolve_against_the_sources_file(tmp_path):
    path = tmp_path / "conf" / "s.yaml"
    path.parent.mkdir()
    path.write_text("sources:\n  - {name: a, url: '../dumps/{date}', format: seed_txt}\n", encoding="utf-8")
    assert load_sources(path)["a"].url == str(tmp_path / "dumps" / "{date}")


def test_resolve_day_and_select_sources():
    start = dt.datetime(2024, 11, 7, 19, 0, tzinfo=dt.UTC)  # midnight of the 8th in Karachi
    assert resolve_day(None, start, "Asia/Karachi") == dt.date(2024, 11, 8)
    assert resolve_day("2021-04-07", start, "Asia/Karachi") == dt.date(2021, 4, 7)
    with pytest.raises(ConfigError, match="not a YYYY-MM-DD"):
        resolve_day("07/04/2021", start, "Asia/Karachi")
    sources = load_sources(ROOT / "config" / "sources.yaml")
    assert [s.name for s in select_sources(sources, ["sample_csv"])] == ["sample_csv"]
    with pytest.raises(ConfigError, match="unknown source"):
        select_sources(sources, ["nope"])
