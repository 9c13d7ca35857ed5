"""Tests proving the real-service fixtures in ``tests/support/services.py`` work.

Run: ``python -m pytest -p tests.support.services tests/test_services.py``
(the root conftest registers the plugin via ``pytest_plugins``).
"""

from __future__ import annotations

import http.client
import os
import threading
import time
import urllib.error
import urllib.request

import aiohttp
import fsspec
import pytest
import sqlalchemy as sa

from tests.support.services import PG_MAJOR

# --------------------------------------------------------------------------- #
# PostgreSQL
# --------------------------------------------------------------------------- #


def test_pg_roundtrip_with_bound_parameters(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE articles (id int PRIMARY KEY, title text NOT NULL)"))
            conn.execute(
                sa.text("INSERT INTO articles (id, title) VALUES (:id, :title)"),
                [{"id": 1, "title": "پاکستان میں بارش"}, {"id": 2, "title": "it's; DROP TABLE x --"}],
            )
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, title FROM articles ORDER BY id")).all()
            version = conn.execute(sa.text("SELECT version()")).scalar_one()
            encoding = conn.execute(sa.text("SHOW server_encoding")).scalar_one()
        assert rows == [(1, "پاکستان میں بارش"), (2, "it's; DROP TABLE x --")]
        assert version.startswith(f"PostgreSQL {PG_MAJOR}."), version
        assert encoding == "UTF8"
    finally:
        engine.dispose()


def test_pg_url_databases_are_isolated(pg_server, pg_url: str) -> None:
    other = "isolation_check_db"
    pg_server.drop_database(other)
    pg_server.create_database(other)
    try:
        e1, e2 = sa.create_engine(pg_url), sa.create_engine(pg_server.url(other))
        try:
            assert e1.url.database != e2.url.database
            with e1.begin() as conn:
                conn.execute(sa.text("CREATE TABLE only_here (x int)"))
                conn.execute(sa.text("INSERT INTO only_here VALUES (42)"))
            assert sa.inspect(e1).has_table("only_here")
            assert not sa.inspect(e2).has_table("only_here")
            with e2.connect() as conn, pytest.raises(sa.exc.ProgrammingError):
                conn.execute(sa.text("SELECT * FROM only_here"))
        finally:
            e1.dispose()
            e2.dispose()
    finally:
        pg_server.drop_database(other)
    with pg_server.connect("postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (other,)).fetchone()
    assert exists is None


_seen_pg_urls: list[str] = []


@pytest.mark.parametrize("round_", [1, 2])
def test_pg_url_is_fresh_and_dropped_per_test(pg_server, pg_url: str, round_: int) -> None:
    # every test gets a new, empty database; the previous one has been dropped
    assert pg_url not in _seen_pg_urls
    engine = sa.create_engine(pg_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE leftover (x int)"))
    finally:
        engine.dispose()
    with pg_server.connect("postgres") as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    for previous in _seen_pg_urls:
        assert previous.rsplit("/", 1)[1] not in names
    _seen_pg_urls.append(pg_url)


def test_pg_server_runs_as_unprivileged_user(pg_server) -> None:
    with pg_server.connect("postgres") as conn:
        datadir = conn.execute("SHOW data_directory").fetchone()[0]
    assert datadir == str(pg_server.datadir)
    owner = os.stat(pg_server.datadir).st_uid
    assert owner != 0 or os.geteuid() != 0


# --------------------------------------------------------------------------- #
# HTTP
# --------------------------------------------------------------------------- #

PAYLOAD = bytes(range(256)) * 40 + "اردو خبریں\n".encode()


def test_http_serves_exact_bytes_urllib_and_fsspec(http_server) -> None:
    (http_server.root / "dumps").mkdir()
    (http_server.root / "dumps" / "a.bin").write_bytes(PAYLOAD)
    url = http_server.url("dumps/a.bin")
    assert url == f"http://127.0.0.1:{http_server.port}/dumps/a.bin"

    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        assert int(resp.headers["Content-Length"]) == len(PAYLOAD)
        assert resp.read() == PAYLOAD

    req = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert int(resp.headers["Content-Length"]) == len(PAYLOAD)
        assert resp.read() == b""

    with fsspec.open(url, "rb") as f:
        assert f.read() == PAYLOAD

    assert ("GET", "/dumps/a.bin") in http_server.requests
    assert ("HEAD", "/dumps/a.bin") in http_server.requests


def test_http_missing_path_is_404(http_server) -> None:
    with pytest.raises(urllib.error.HTTPError) as exc_info:
        urllib.request.urlopen(http_server.url("nope.txt"), timeout=10)
    assert exc_info.value.code == 404
    # traversal outside root is not served either
    with pytest.raises(urllib.error.HTTPError) as exc_info:
        urllib.request.urlopen(http_server.url("..%2f..%2fetc%2fpasswd"), timeout=10)
    assert exc_info.value.code == 404
    with pytest.raises(FileNotFoundError), fsspec.open(http_server.url("nope.txt"), "rb") as f:
        f.read()


def test_http_fail_times_then_ok(http_server) -> None:
    (http_server.root / "flaky.txt").write_bytes(b"finally\n")
    http_server.fail_times("flaky.txt", 2)
    http_server.fail_times("/teapot.txt", 1, status=503)
    url = http_server.url("flaky.txt")

    statuses = []
    for _ in range(2):
        with pytest.raises(urllib.error.HTTPError) as exc_info:
            urllib.request.urlopen(url, timeout=10)
        statuses.append(exc_info.value.code)
    assert statuses == [500, 500]
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        assert resp.read() == b"finally\n"
    assert http_server.count("flaky.txt", "GET") == 3

    with pytest.raises(urllib.error.HTTPError) as exc_info:
        urllib.request.urlopen(http_server.url("teapot.txt"), timeout=10)
    assert exc_info.value.code == 503


def test_http_truncate_is_detectable(http_server) -> None:
    (http_server.root / "big.bin").write_bytes(PAYLOAD)
    http_server.truncate("big.bin", 100)
    url = http_server.url("big.bin")

    with urllib.request.urlopen(url, timeout=10) as resp:
        assert int(resp.headers["Content-Length"]) == len(PAYLOAD)
        with pytest.raises(http.client.IncompleteRead) as exc_info:
            resp.read()
    assert exc_info.value.partial == PAYLOAD[:100]

    # fsspec/aiohttp must not silently return the short body
    for kwargs in ({}, {"block_size": 0}):
        with pytest.raises(aiohttp.ClientPayloadError), fsspec.open(url, "rb", **kwargs) as f:
            f.read()


def test_http_delay(http_server) -> None:
    (http_server.root / "slow.txt").write_bytes(b"zzz")
    http_server.delay("slow.txt", 0.5)
    t0 = time.monotonic()
    with urllib.request.urlopen(http_server.url("slow.txt"), timeout=10) as resp:
        assert resp.read() == b"zzz"
    assert time.monotonic() - t0 >= 0.45
    # a client timeout shorter than the delay fires
    with pytest.raises(OSError):
        urllib.request.urlopen(http_server.url("slow.txt"), timeout=0.1).read()


def test_http_concurrent_requests(http_server) -> None:
    (http_server.root / "slow.txt").write_bytes(b"s")
    (http_server.root / "fast.txt").write_bytes(b"f")
    http_server.delay("slow.txt", 1.0)
    results: dict[str, bytes] = {}

    def fetch(name: str) -> None:
        with urllib.request.urlopen(http_server.url(name), timeout=10) as resp:
            results[name] = resp.read()

    t = threading.Thread(target=fetch, args=("slow.txt",))
    t.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    fetch("fast.txt")
    assert time.monotonic() - t0 < 0.8  # not serialised behind the slow request
    t.join(timeout=10)
    assert results == {"slow.txt": b"s", "fast.txt": b"f"}


def test_the_services_marker_follows_the_fixtures_and_the_fast_lane_leaves_them_out() -> None:
    """`make test-fast` (-m "not services") runs the HTTP tests (a thread of this process) but none that
    start a PostgreSQL, Redis or S3 server process; every test carries a timeout from pytest.ini."""
    import subprocess
    import sys

    from tests.support import ROOT

    def collected(*args: str) -> set[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", *args, "tests/test_services.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return {line.split("::")[1].split("[")[0] for line in proc.stdout.splitlines() if "::" in line}

    fast, services = collected("-m", "not services"), collected("-m", "services")
    assert "test_http_delay" in fast and "test_pg_roundtrip_with_bound_parameters" in services
    assert not any(name.startswith("test_pg_") for name in fast)
    assert not fast & services
    ini = (ROOT / "pytest.ini").read_text()
    assert "\ntimeout = " in ini and "-p no:cacheprovider" not in ini


def test_a_copy_of_the_venv_server_runs_where_the_venv_cannot_be_reached(tmp_path) -> None:
    """As root the server runs as `postgres`, which cannot enter a venv under a private folder; the
    copy it then runs must find its own libraries (libpq sits beside the package, not inside it)."""
    import subprocess

    from tests.support.services import _copy_pg_install, _find_pg_bindir

    copy = _copy_pg_install(_find_pg_bindir(), tmp_path / "site")
    assert copy.startswith(str(tmp_path))
    for exe in ("initdb", "pg_ctl", "postgres"):
        proc = subprocess.run([f"{copy}/{exe}", "--version"], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0 and f"PostgreSQL) {PG_MAJOR}." in proc.stdout, proc.stderr
