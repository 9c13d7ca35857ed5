"""Fetch: local folders, file:// and http:// URLs, archives, manifests; unsafe archives are refused."""

import datetime as dt
import gzip
import hashlib
import json

import pytest

from etl.config import make_source
from etl.fetch import FetchError, NoDumpError, fetch_dump
from etl.fetch.archives import ArchiveError, expand
from tests.support.archives import tar_gz_bytes, zip_bytes

DAY = dt.date(2024, 11, 8)
CSV = "title,content,link\nسرخی,متن,https://x/1\n".encode()


def _source(url, fmt="csv"):
    cols = {"headline": "title", "body": "content", "url": "link"} if fmt == "csv" else {}
    return make_source("src", url, fmt, cols)


def test_local_folder_with_date_template(tmp_path):
    dump = tmp_path / "dumps" / "2024-11-08"
    (dump / "sub").mkdir(parents=True)
    (dump / "a.txt").write_text("سرخی\n\nمتن", encoding="utf-8")
    (dump / "sub" / "b.txt").write_text("سرخی\n\nمتن", encoding="utf-8")
    m = fetch_dump(_source(str(tmp_path / "dumps" / "{date}"), "seed_txt"), DAY, tmp_path / "staging")
    assert m["files"] == ["a.txt", "sub/b.txt"]
    assert m["bytes"] == sum(f.stat().st_size for f in dump.rglob("*.txt"))
    saved = json.loads((tmp_path / "staging" / "src" / "manifest.json").read_text())
    assert saved["sha256"] == m["sha256"] and len(saved["fetched"]) == 2
    assert {f["sha256"] for f in m["fetched"]} == {hashlib.sha256((dump / "a.txt").read_bytes()).hexdigest()}


def test_file_url_and_gz(tmp_path):
    (tmp_path / "d-20241108.csv.gz").write_bytes(gzip.compress(CSV))
    m = fetch_dump(_source(f"file://{tmp_path}/d-{{yyyymmdd}}.csv.gz"), DAY, tmp_path / "st")
    assert m["files"] == ["d-20241108.csv"]
    assert (tmp_path / "st" / "src" / "files" / "d-20241108.csv").read_bytes() == CSV
    assert m["fetched"][0]["sha256"] == hashlib.sha256((tmp_path / "d-20241108.csv.gz").read_bytes()).hexdigest()


def test_http_url_and_manifest(http_server, tmp_path):
    (http_server.root / "2024-11-08.csv").write_bytes(CSV)
    m = fetch_dump(_source(http_server.url("{date}.csv")), DAY, tmp_path / "st")
    assert m["url"] == http_server.url("2024-11-08.csv")
    assert m["bytes"] == len(CSV) and m["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert http_server.count("/2024-11-08.csv", "GET") >= 1


def test_http_404_is_no_dump(http_server, tmp_path):
    with pytest.raises(NoDumpError, match="no dump for source src on 2024-11-08"):
        fetch_dump(_source(http_server.url("{date}.csv")), DAY, tmp_path / "st")


def test_http_truncated_body_is_a_fetch_error(http_server, tmp_path):
    (http_server.root / "big.csv").write_bytes(CSV * 2000)
    http_server.truncate("/big.csv", 1000)
    with pytest.raises(FetchError, match="failed"):
        fetch_dump(_source(http_server.url("big.csv")), DAY, tmp_path / "st")


def test_tar_and_zip_expand(tmp_path):
    (tmp_path / "d.tar.gz").write_bytes(tar_gz_bytes({"x/a.csv": CSV, "x/b.csv": CSV}))
    (tmp_path / "d.zip").write_bytes(zip_bytes({"c.csv": CSV}))
    assert sorted(p.name for p in expand(tmp_path / "d.tar.gz", tmp_path / "o1")) == ["a.csv", "b.csv"]
    assert [p.read_bytes() for p in expand(tmp_path / "d.zip", tmp_path / "o2")] == [CSV]


@pytest.mark.parametrize(
    "archive, message",
    [
        (lambda: zip_bytes({"../evil.csv": CSV}), "outside the staging folder"),
        (lambda: zip_bytes({"/etc/evil.csv": CSV}), "outside the staging folder"),
        (lambda: tar_gz_bytes({"../../evil.csv": CSV}), "outside the staging folder"),
        (lambda: tar_gz_bytes({"ok.csv": CSV}, symlink="link.csv"), "link or special file"),
        (lambda: zip_bytes({"bomb.csv": b"0" * 50_000_000}), "zip bomb"),
        (lambda: zip_bytes({"a.csv": CSV})[:40], "corrupt"),
    ],
)
def test_unsafe_or_corrupt_archives_are_refused(tmp_path, archive, message):
    name = "d.zip" if archive().startswith(b"PK") else "d.tar.gz"
    (tmp_path / name).write_bytes(archive())
    with pytest.raises(ArchiveError, match=message):
        expand(tmp_path / name, tmp_path / "out")
    assert not (tmp_path / "evil.csv").exists() and not (tmp_path.parent / "evil.csv").exists()


def test_bad_archive_in_a_dump_is_a_reject_not_a_crash(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "good.csv").write_bytes(CSV)
    (dump / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    m = fetch_dump(_source(str(dump)), DAY, tmp_path / "st")
    assert m["files"] == ["good.csv"]
    assert [(r["file"], r["reason"]) for r in m["rejects"]] == [("broken.zip", "bad_archive")]


def test_http_server_error_is_a_fetch_error_not_a_missing_dump(http_server, tmp_path):
    (http_server.root / "2024-11-08.csv").write_bytes(CSV)
    http_server.fail_times("/2024-11-08.csv", 10, status=500)
    with pytest.raises(FetchError) as info:
        fetch_dump(_source(http_server.url("{date}.csv")), DAY, tmp_path / "st")
    assert not isinstance(info.value, NoDumpError)


def test_http_name_drops_query_and_decodes(http_server, tmp_path):
    (http_server.root / "خبریں.csv").write_bytes(CSV)
    from urllib.parse import quote

    m = fetch_dump(_source(http_server.url(quote("خبریں.csv") + "?day={date}")), DAY, tmp_path / "st")
    assert m["files"] == ["خبریں.csv"]


def test_names_pointing_outside_the_dump_are_refused():
    from etl.fetch.fetch import _safe_name

    with pytest.raises(FetchError, match="outside the dump"):
        _safe_name("../../../../tmp/evil.txt", "http://h/d/", web=True)
    with pytest.raises(FetchError, match="outside the dump"):
        _safe_name("%2e%2e/evil.txt", "http://h/d/", web=True)
    assert _safe_name("a%20b/c.txt", "http://h/d/", web=True) == "a b/c.txt"
    assert _safe_name("a%20b.txt", "/local/d", web=False) == "a%20b.txt"


def test_same_file_twice_in_a_dump_is_read_once(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "news.csv").write_bytes(CSV)
    (dump / "news.csv.gz").write_bytes(gzip.compress(CSV))
    (dump / "broken.gz").write_bytes(b"not gzip")
    m = fetch_dump(_source(str(dump)), DAY, tmp_path / "st")
    assert m["files"] == ["news.csv"]
    assert sorted((r["file"], r["reason"]) for r in m["rejects"]) == [
        ("broken.gz", "bad_archive"),
        ("news.csv.gz", "duplicate_file"),
    ]
    assert (tmp_path / "st" / "src" / "files" / "news.csv").read_bytes() == CSV


def test_server_errors_then_success_are_retried(http_server, tmp_path):
    (http_server.root / "2024-11-08.csv").write_bytes(CSV)
    http_server.fail_times("/2024-11-08.csv", 2, status=503)
    m = fetch_dump(_source(http_server.url("{date}.csv")), DAY, tmp_path / "st")
    assert m["bytes"] == len(CSV)
    assert http_server.count("/2024-11-08.csv") >= 3


def test_persistent_server_errors_give_up_with_a_clear_message(http_server, tmp_path, monkeypatch):
    monkeypatch.setenv("URDU_ETL_FETCH_ATTEMPTS", "3")
    (http_server.root / "d.csv").write_bytes(CSV)
    http_server.fail_times("/d.csv", 100, status=500)
    with pytest.raises(FetchError, match=r"HTTP 500 .*gave up after 3 attempts"):
        fetch_dump(_source(http_server.url("d.csv")), DAY, tmp_path / "st")


def test_a_hanging_server_times_out(http_server, tmp_path, monkeypatch):
    monkeypatch.setenv("URDU_ETL_FETCH_TIMEOUT", "0.5")
    monkeypatch.setenv("URDU_ETL_FETCH_ATTEMPTS", "2")
    (http_server.root / "slow.csv").write_bytes(CSV)
    http_server.delay("/slow.csv", 3)
    with pytest.raises(FetchError, match="gave up after 2 attempts"):
        fetch_dump(_source(http_server.url("slow.csv")), DAY, tmp_path / "st")


def test_a_changed_dump_under_the_same_url_is_fetched_again(http_server, tmp_path):
    (http_server.root / "d.csv").write_bytes(CSV)
    first = fetch_dump(_source(http_server.url("d.csv")), DAY, tmp_path / "st")
    (http_server.root / "d.csv").write_bytes(CSV + "دوسری,خبر,https://x/2\n".encode())
    second = fetch_dump(_source(http_server.url("d.csv")), DAY, tmp_path / "st")
    assert first["sha256"] != second["sha256"] and second["bytes"] > first["bytes"]
