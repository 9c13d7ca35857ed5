"""Hostile servers and folders: a real HTTP server on 127.0.0.1 that trickles, lies about its
Content-Length, sends a gzip bomb or an endless body, has no Range support or wants a login; dump
folders holding links, FIFOs and devices; an archive that repeats a member; a full disk. The fetch
ends each in one clear line or a reject, never a hang, a traceback, a silently short file or a
password on show."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.config import make_source
from etl.errors import FetchError, NoDumpError, TransientFetchError
from etl.fetch import fetch_dump
from etl.settings import Settings
from tests.support import ROOT
from tests.support.archives import zip_bytes
from tests.support.runs import run_pipeline

DAY = dt.date(2024, 11, 8)
COLS = {"headline": "title", "body": "content", "url": "link"}
CSV = "title,content,link\nاچھی خبر,لاہور: یہ ایک درست خبر ہے۔,https://ok/1\n".encode()
TXT = "اچھی خبر\n\nپشاور: یہ ایک درست خبر ہے۔\n".encode()
USER, PASSWORD = "reader", "Zq9!s3cret@pw"
ENCODED_PASSWORD = "Zq9%21s3cret%40pw"


def _csv(name: str = "src"):
    return make_source(name, "unused", "csv", COLS)


def _settings(**changes) -> Settings:
    return Settings.from_env().replace(fetch_backoff=0.0, **changes)


# --------------------------------------------------------------------------- #
# the hostile server
# --------------------------------------------------------------------------- #


class Hostile(http.server.BaseHTTPRequestHandler):
    """Answers by path; each kind of misbehaviour has its own path."""

    protocol_version = "HTTP/1.0"
    big = b""  # the body of /big-plain.csv, set by the fixture

    def log_message(self, format, *args):
        pass

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.server.hits.append(path)  # type: ignore[attr-defined]
        hits = self.server.hits.count(path)  # type: ignore[attr-defined]
        if path == "/trickle.csv":  # a byte every 0.2 s: no read ever times out
            self._head(200, {"Content-Length": "10000"})
            for _ in range(10000):
                if self.server.closing.wait(0.2):  # type: ignore[attr-defined]
                    return
                self.wfile.write(b"x")
                self.wfile.flush()
        elif path == "/trickle-headers.csv":  # the headers a byte every 0.2 s: no read ever times out
            self.wfile.write(b"HTTP/1.0 200 OK\r\n")
            for _ in range(10000):
                if self.server.closing.wait(0.2):  # type: ignore[attr-defined]
                    return
                self.wfile.write(b"X")
                self.wfile.flush()
        elif path in ("/redirect-home.csv", "/redirect-away.csv"):  # a login goes along to its own origin only
            host = "127.0.0.1" if path == "/redirect-home.csv" else "localhost"
            self._head(302, {"Location": f"http://{host}:{self.server.server_address[1]}/auth/d.csv"})
        elif path == "/long-length.csv":  # announces more than it sends
            self._head(200, {"Content-Length": str(len(CSV) + 500)})
            self.wfile.write(CSV)
        elif path in ("/short-length.csv", "/short-then-honest.csv"):  # announces less than it sends
            honest = path == "/short-then-honest.csv" and hits > 1
            self._head(200, {"Content-Length": str(len(CSV) if honest else 20)})
            self.wfile.write(CSV)
        elif path == "/bomb.csv":  # Content-Encoding: gzip, 64 MiB of zeros in ~64 KB
            body = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
            self._head(200, {"Content-Encoding": "gzip", "Content-Length": str(len(body))})
            self.wfile.write(body)
        elif path == "/gzip-ok.csv":  # an honest gzip-encoded answer
            body = gzip.compress(CSV * 100)
            self._head(200, {"Content-Encoding": "gzip", "Content-Length": str(len(body))})
            self.wfile.write(body)
        elif path == "/big-plain.csv":  # no Content-Length: the body ends when the connection does
            self._head(200, {"Content-Type": "text/csv"})
            for i in range(0, len(self.big), 1 << 16):
                self.wfile.write(self.big[i : i + (1 << 16)])
        elif path.startswith(("/auth/", "/auth-flaky/")):
            if path.startswith("/auth-flaky/") and hits == 1:
                self._head(503, {"Content-Length": "0"})
                return
            want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != want:
                self._head(401, {"WWW-Authenticate": 'Basic realm="dumps"', "Content-Length": "0"})
                return
            self._head(200, {"Content-Length": str(len(CSV))})
            self.wfile.write(CSV)
        else:
            self._head(404, {"Content-Length": "0"})


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def _serve(handler) -> Iterator[tuple[http.server.ThreadingHTTPServer, str]]:
    server = _Server(("127.0.0.1", 0), handler)
    server.hits = []  # type: ignore[attr-defined]
    server.closing = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.closing.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def hostile() -> Iterator[tuple[http.server.ThreadingHTTPServer, str]]:
    Hostile.big = b"title,content,link\n" + b"x,y,z\n" * 600_000  # 3.4 MiB
    yield from _serve(Hostile)


@pytest.fixture
def no_range_server(tmp_path) -> Iterator[tuple[Path, str]]:
    """``python -m http.server``'s own handler: no Range support, HTTP/1.0."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    for _server, url in _serve(handler):
        yield root, url


# --------------------------------------------------------------------------- #
# deadline, Content-Length, encodings, size
# --------------------------------------------------------------------------- #


@pytest.mark.timeout(60)
def test_a_trickling_server_meets_the_deadline_and_is_retried(hostile, tmp_path):
    server, base = hostile
    with pytest.raises(TransientFetchError) as info:
        fetch_dump(_csv(), DAY, tmp_path / "st", f"{base}/trickle.csv", _settings(fetch_deadline=1.0, fetch_attempts=2))
    message = str(info.value)
    assert f"{base}/trickle.csv" in message and "1 s deadline" in message and "gave up after 2 attempts" in message
    assert server.hits.count("/trickle.csv") == 2  # type: ignore[attr-defined]
    assert not (tmp_path / "st" / "src").exists()  # the partial file went with the staging folder


@pytest.mark.timeout(60)
def test_a_server_trickling_its_headers_meets_the_deadline(hostile, tmp_path):
    server, base = hostile
    with pytest.raises(TransientFetchError, match=r"trickle-headers\.csv failed: took longer than the 1 s deadline"):
        fetch_dump(
            _csv(), DAY, tmp_path / "st", f"{base}/trickle-headers.csv", _settings(fetch_deadline=1.0, fetch_attempts=1)
        )
    assert server.hits.count("/trickle-headers.csv") == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path, says", [("/long-length.csv", "truncated transfer"), ("/short-length.csv", "more than the 20 bytes")]
)
def test_a_content_length_that_lies_is_a_retried_truncated_transfer(hostile, tmp_path, path, says):
    server, base = hostile
    with pytest.raises(TransientFetchError, match=f"{says}.*gave up after 3 attempts"):
        fetch_dump(_csv(), DAY, tmp_path / "st", base + path, _settings(fetch_attempts=3))
    assert server.hits.count(path) == 3  # type: ignore[attr-defined]
    assert not (tmp_path / "st" / "src").exists()


def test_a_lie_then_an_honest_answer_gives_the_whole_file(hostile, tmp_path):
    server, base = hostile
    m = fetch_dump(_csv(), DAY, tmp_path / "st", f"{base}/short-then-honest.csv", _settings())
    assert m["bytes"] == len(CSV) and m["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert (tmp_path / "st" / "src" / "files" / "short-then-honest.csv").read_bytes() == CSV


def test_a_gzip_bomb_in_content_encoding_stops_at_the_ratio_cap(hostile, tmp_path):
    server, base = hostile
    with pytest.raises(FetchError, match="expands more than 200 times") as info:
        fetch_dump(_csv(), DAY, tmp_path / "st", f"{base}/bomb.csv", _settings())
    assert not info.value.transient  # the same server sends the same bomb: not retried
    assert server.hits.count("/bomb.csv") == 1  # type: ignore[attr-defined]
    assert not (tmp_path / "st" / "src").exists()


def test_an_honest_gzip_encoding_is_decoded(hostile, tmp_path):
    _server, base = hostile
    m = fetch_dump(_csv(), DAY, tmp_path / "st", f"{base}/gzip-ok.csv", _settings())
    assert (tmp_path / "st" / "src" / "files" / "gzip-ok.csv").read_bytes() == CSV * 100
    assert m["bytes"] == len(CSV) * 100


def test_a_plain_body_over_the_size_cap_is_refused(hostile, tmp_path):
    server, base = hostile
    with pytest.raises(FetchError, match="byte limit of one fetched file") as info:
        fetch_dump(_csv(), DAY, tmp_path / "st", f"{base}/big-plain.csv", _settings(fetch_max_bytes=1 << 20))
    assert not info.value.transient
    assert not (tmp_path / "st" / "src").exists()
    m = fetch_dump(_csv(), DAY, tmp_path / "st", f"{base}/big-plain.csv", _settings(fetch_max_bytes=8 << 20))
    assert m["sha256"] == hashlib.sha256(Hostile.big).hexdigest()


def test_a_server_without_range_support_serves_a_large_dump(no_range_server, tmp_path):
    root, base = no_range_server
    data = CSV + b"".join(f"سرخی {i},متن {i} {'ی' * 200},https://x/{i}\n".encode() for i in range(15_000))
    assert len(data) > 5 << 20
    (root / "big.csv").write_bytes(data)
    m = fetch_dump(_csv(), DAY, tmp_path / "st", f"{base}/big.csv", _settings())
    assert m["sha256"] == hashlib.sha256(data).hexdigest() and m["bytes"] == len(data)
    assert (tmp_path / "st" / "src" / "files" / "big.csv").read_bytes() == data


# --------------------------------------------------------------------------- #
# logins: userinfo, netrc, Airflow connection; the password never shown
# --------------------------------------------------------------------------- #


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etl", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=240
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_URDU_ETL_FETCH")}
    # no netrc but the test's own (a missing NETRC file is no netrc)
    env.update({"PYTHONPATH": str(ROOT), "URDU_ETL_FETCH_BACKOFF": "0", "NETRC": str(tmp_path / "no-netrc")})
    env.update(extra)
    return env


def _no_password_in(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text and ENCODED_PASSWORD not in text and "s3cret" not in text, text[-3000:]


def _ingest(url: str, data: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return _cli(
        "ingest",
        url,
        "--source",
        "src",
        "--format",
        "csv",
        "--map",
        "headline=title,body=content,url=link",
        "--date",
        DAY.isoformat(),
        "--data-dir",
        str(data),
        env=env,
    )


def _stored(data: Path) -> str:
    """Everything the run left that could hold a URL: manifests, shard outputs, summaries, the
    warehouse's dumps, sources and runs rows."""
    texts = [p.read_text(encoding="utf-8") for p in data.rglob("*.json")]
    engine = sa.create_engine(f"sqlite:///{data / 'warehouse.db'}")
    with engine.connect() as conn:
        for table in ("dumps", "sources", "runs"):
            texts += [str(r) for r in conn.execute(sa.text(f"select * from {table}"))]
    engine.dispose()
    return "\n".join(texts)


@pytest.mark.timeout(240)
def test_a_login_in_the_url_works_and_its_password_is_never_shown(hostile, tmp_path):
    _server, base = hostile
    url = base.replace("http://", f"http://{USER}:{ENCODED_PASSWORD}@") + "/auth-flaky/d.csv"
    proc = _ingest(url, tmp_path / "data", _env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "***" in proc.stderr  # the retried 503 is logged, with the URL's password masked
    stored = _stored(tmp_path / "data")
    assert f"{USER}:***@" in stored  # manifest and dumps rows name the login, not its password
    _no_password_in(proc.stdout, proc.stderr, stored)


@pytest.mark.timeout(240)
def test_a_login_from_netrc_or_an_airflow_connection_works(hostile, tmp_path):
    _server, base = hostile
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n", encoding="utf-8")
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - name: src\n    format: csv\n    url: {base}/auth/d.csv\n    columns: {{body: content}}\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    args = ("fetch", "--date", DAY.isoformat(), "--config", str(sources), "--data-dir", str(data))
    proc = _cli(*args, env=_env(tmp_path, NETRC=str(netrc)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (manifest,) = data.rglob("manifest.json")
    assert json.loads(manifest.read_text(encoding="utf-8"))["sha256"] == hashlib.sha256(CSV).hexdigest()
    _no_password_in(proc.stdout, proc.stderr, manifest.read_text(encoding="utf-8"))
    # a wrong password in the URL (it wins over the netrc): refused in one line, the password not shown
    wrong = f"http://{USER}:wrong-{ENCODED_PASSWORD}@{base.removeprefix('http://')}/auth/d.csv"
    sources.write_text(sources.read_text(encoding="utf-8").replace(f"{base}/auth/d.csv", wrong), encoding="utf-8")
    proc = _cli(*args, env=_env(tmp_path, NETRC=str(netrc)))
    assert proc.returncode == 4, proc.stderr[-3000:]
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("error: ")]
    assert "Traceback" not in proc.stderr and "HTTP 401 Unauthorized (login from the URL)" in line
    assert f"{USER}:***@127.0.0.1" in line
    _no_password_in(proc.stdout, proc.stderr)

    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text(netrc.read_text(), encoding="utf-8")
    os.chmod(home / ".netrc", 0o600)
    m = _fetch_with_env(f"{base}/auth/d.csv", tmp_path / "st1", HOME=str(home))
    assert m["sha256"] == hashlib.sha256(CSV).hexdigest()

    conn = f"http://{USER}:{ENCODED_PASSWORD}@127.0.0.1"
    m = _fetch_with_env(f"{base}/auth/d.csv", tmp_path / "st2", AIRFLOW_CONN_URDU_ETL_FETCH_SRC=conn)
    assert m["sha256"] == hashlib.sha256(CSV).hexdigest()
    # a connection for another host is not sent here
    other = f"http://{USER}:{ENCODED_PASSWORD}@dumps.example.org"
    with pytest.raises(FetchError, match="HTTP 401 .*no login was sent"):
        _fetch_with_env(f"{base}/auth/d.csv", tmp_path / "st3", AIRFLOW_CONN_URDU_ETL_FETCH_SRC=other)


def test_a_login_follows_a_redirect_to_its_own_origin_only(hostile, tmp_path):
    server, base = hostile
    userinfo = base.replace("http://", f"http://{USER}:{ENCODED_PASSWORD}@")
    m = fetch_dump(_csv(), DAY, tmp_path / "st", f"{userinfo}/redirect-home.csv", _settings())
    assert m["sha256"] == hashlib.sha256(CSV).hexdigest()
    with pytest.raises(FetchError, match="HTTP 401") as info:
        fetch_dump(_csv(), DAY, tmp_path / "st", f"{userinfo}/redirect-away.csv", _settings())
    _no_password_in(str(info.value))
    assert server.hits.count("/auth/d.csv") == 2  # type: ignore[attr-defined]


def _fetch_with_env(url: str, staging: Path, **env: str) -> dict:
    saved = {k: os.environ.get(k) for k in (*env, "NETRC")}
    os.environ.pop("NETRC", None)
    os.environ.update(env)
    try:
        return fetch_dump(_csv(), DAY, staging, url, _settings())
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_check_config_shows_the_password_as_stars(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - name: locked\n    format: csv\n"
        f"    url: https://{USER}:{ENCODED_PASSWORD}@dumps.example.org/{{date}}.csv\n"
        "    columns: {body: content}\n",
        encoding="utf-8",
    )
    proc = _cli("check-config", "--config", str(sources), env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert f"https://{USER}:***@dumps.example.org/{{date}}.csv" in proc.stdout
    _no_password_in(proc.stdout, proc.stderr)


# --------------------------------------------------------------------------- #
# folders: links, FIFOs, devices, size
# --------------------------------------------------------------------------- #


def _txt_dump(tmp_path: Path) -> Path:
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "good.txt").write_bytes(TXT)
    return dump


def _run_folder(tmp_path: Path, dump: Path, **kw) -> tuple[dict, list[tuple[str, str, int]], list[str]]:
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    summary = run_pipeline([make_source("s", str(dump), "seed_txt")], DAY, tmp_path / "data", url, **kw)
    assert summary["status"] == "ok"
    assert summary["records_in"] == summary["loaded"] + summary["duplicates"] + summary["rejected"]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rejects = [tuple(r) for r in conn.execute(sa.text("select source_file, reason, record_no from rejects"))]
        bodies = [b for (b,) in conn.execute(sa.text("select body from articles"))]
    engine.dispose()
    return summary, rejects, bodies


@pytest.mark.timeout(60)
def test_links_fifos_and_devices_in_a_folder_are_refused_and_the_rest_loads(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("راز\n\nیہ فائل فولڈر سے باہر ہے: SECRET-OUTSIDE\n", encoding="utf-8")
    dump = _txt_dump(tmp_path)
    (dump / "sub").mkdir()
    (dump / "sub" / "also.txt").write_text("دوسری خبر\n\nکوئٹہ: بارش کے بعد سڑکیں بند ہو گئیں اور شہری پریشان رہے۔\n")
    os.symlink(outside / "secret.txt", dump / "secret.txt")
    os.symlink("/dev/zero", dump / "zero.txt")
    os.symlink(outside, dump / "linked_folder")
    os.symlink("good.txt", dump / "inner_link.txt")  # a link inside the folder is refused too
    os.mkfifo(dump / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(dump / "sock.txt"))
    try:
        summary, rejects, bodies = _run_folder(tmp_path, dump)
    finally:
        server.close()
    assert sorted(rejects) == [
        ("inner_link.txt", "unsafe_file", 0),
        ("linked_folder", "unsafe_file", 0),
        ("pipe.txt", "unsafe_file", 0),
        ("secret.txt", "unsafe_file", 0),
        ("sock.txt", "unsafe_file", 0),
        ("zero.txt", "unsafe_file", 0),
    ]
    assert summary["loaded"] == 2
    assert not any("SECRET-OUTSIDE" in b for b in bodies)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "device", "link_to_device"])
def test_a_url_naming_a_fifo_or_device_is_one_fetch_error(tmp_path, kind):
    target = {"fifo": tmp_path / "pipe.csv", "device": Path("/dev/zero"), "link_to_device": tmp_path / "z.csv"}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    if kind == "link_to_device":
        os.symlink("/dev/zero", target)
    with pytest.raises(FetchError, match=r"(FIFO \(named pipe\)|character device), not a file or a folder") as info:
        fetch_dump(_csv(), DAY, tmp_path / "st", str(target), _settings())
    assert not isinstance(info.value, NoDumpError) and not info.value.transient
    if kind != "fifo":
        return
    proc = _cli(
        "ingest", str(target), "--source", "s", "--format", "csv", "--map", "body=content",
        "--data-dir", str(tmp_path / "data"), env=_env(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 4 and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert proc.stderr.startswith("error: ") and str(target) in proc.stderr


def test_folders_nested_too_deep_are_refused(tmp_path):
    dump = tmp_path / "dump"
    deep = dump.joinpath(*["d"] * 70)
    deep.mkdir(parents=True)
    (deep / "a.csv").write_bytes(CSV)
    (dump / "good.csv").write_bytes(CSV)
    m = fetch_dump(_csv(), DAY, tmp_path / "st", str(dump), _settings())
    assert m["files"] == ["good.csv"]
    assert [(r["file"], r["reason"]) for r in m["rejects"]] == [("/".join(["d"] * 65), "unsafe_file")]


def test_local_files_are_capped_like_downloads(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "good.csv").write_bytes(CSV)
    (dump / "huge.csv").write_bytes(CSV + b"x,y,z\n" * 400_000)
    m = fetch_dump(_csv(), DAY, tmp_path / "st", str(dump), _settings(fetch_max_bytes=1 << 20))
    assert m["files"] == ["good.csv"]
    assert [(r["file"], r["reason"]) for r in m["rejects"]] == [("huge.csv", "unsafe_file")]
    assert "byte limit" in m["rejects"][0]["detail"]
    with pytest.raises(FetchError, match="byte limit of one fetched file"):
        fetch_dump(_csv(), DAY, tmp_path / "st", str(dump / "huge.csv"), _settings(fetch_max_bytes=1 << 20))


# --------------------------------------------------------------------------- #
# repeated members and files: unique reject keys, every run loads
# --------------------------------------------------------------------------- #


def _tar_with_repeats(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_an_archive_with_one_member_three_times_loads_every_run(tmp_path):
    first = TXT
    later = "دوسری نقل\n\nیہ نقل نہیں پڑھی جاتی۔\n".encode()
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "day.tar.gz").write_bytes(_tar_with_repeats([("a.txt", first), ("a.txt", later), ("./a.txt", later)]))
    for run in ("r1", "r2"):  # the same day again: the rejects' keys must not collide
        summary, rejects, bodies = _run_folder(tmp_path, dump, run_id=run)
        assert sorted(rejects) == [("day.tar.gz", "duplicate_file", 2), ("day.tar.gz", "duplicate_file", 3)]
        assert summary["loaded"] == 1 and summary["rejected"] == 2 and summary["records_in"] == 3
        assert len(bodies) == 1 and "درست خبر" in bodies[0]  # the first copy is the one read


def test_repeats_across_archives_and_a_folder_have_unique_reject_keys(tmp_path):
    dump = tmp_path / "dump"
    (dump / "d").mkdir(parents=True)
    (dump / "d" / "x.txt").write_bytes(TXT)  # the plain file wins
    (dump / "d" / "x.txt.gz").write_bytes(gzip.compress(TXT))  # the same path again
    (dump / "d.tar.gz").write_bytes(_tar_with_repeats([("x.txt", TXT), ("x.txt", TXT), ("y.txt", b"")]))
    (dump / "e.zip").write_bytes(zip_bytes({"x.txt": TXT}))  # another folder: not a repeat
    (dump / "e.zip.gz").write_bytes(gzip.compress(b"PK not a zip"))  # would stage as e.zip, the archive's name
    (dump / "empty.txt").write_bytes(b"")
    summary, rejects, bodies = _run_folder(tmp_path, dump)
    assert len(rejects) == len(set(rejects))
    assert sorted(rejects) == [
        ("d.tar.gz", "duplicate_file", 1),
        ("d.tar.gz", "duplicate_file", 2),
        ("d/x.txt.gz", "duplicate_file", 1),
        ("d/y.txt", "empty_file", 0),
        ("e.zip.gz", "duplicate_file", 1),
        ("empty.txt", "empty_file", 0),
    ]
    assert summary["loaded"] == 2  # d/x.txt and e/x.txt


# --------------------------------------------------------------------------- #
# a full disk
# --------------------------------------------------------------------------- #


def _can_mount_tmpfs() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k none $d"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.timeout(120)
@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs unshare and a user namespace to mount a small tmpfs")
def test_a_full_disk_is_one_line_naming_the_file_and_staging_is_removed(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "good.csv").write_bytes(CSV)
    (dump / "big.csv").write_bytes(CSV + b"x,y,z\n" * 300_000)  # 1.7 MiB, on a 1 MiB disk
    data = tmp_path / "data"
    data.mkdir()
    script = (
        f"mount -t tmpfs -o size=1m none {data} && "
        f"{sys.executable} -m etl ingest {dump} --source s --format csv --map body=content --data-dir {data}; "
        f"code=$?; ls -d {data}/staging/*/*/s 2>/dev/null | grep -c . ; exit $code"
    )
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, env=_env(tmp_path), timeout=110
    )
    assert proc.returncode == 7, proc.stderr[-3000:]  # the data dir cannot be written (etl/errors.py)
    error = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and "Traceback" not in proc.stderr
    assert "cannot write the staged file" in error[0] and "No space left on device (ENOSPC)" in error[0]
    assert "/s/raw/" in error[0]  # names the file it could not write
    assert proc.stdout.strip() == "0"  # the source's staging folder is gone
