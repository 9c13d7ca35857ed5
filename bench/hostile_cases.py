"""Hostile inputs, servers and configurations, run through the real command line, one case at a time.

Each case builds its files (and, for fetch cases, a handler of a real HTTP server on 127.0.0.1),
runs ``python -m etl ...`` in a subprocess with a time limit, and classifies what happened:

* ``clear error``: the case expects a refusal, and got a documented exit code (2-6) with exactly one
  ``error:`` line and no traceback;
* ``loaded``: the case expects a run, which finished with status ok, the accounting invariant held
  against an independent count of the input records, and every good record loaded;
* ``BUG``: a traceback, a hang (time limit), a record lost, a good record not loaded, an unexpected
  exit code, or a secret printed.

    python bench/hostile_cases.py                      # all cases -> bench/results/hostile_cases.md
    python bench/hostile_cases.py --only csv_ --keep   # cases whose name contains csv_, keep their folders

The tests (``tests/test_hostile_*.py``) hold the same behaviours as assertions; this script is the
catalogue that counts them, for the record and for re-testing a fix across every class at once.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import http.server
import io
import json
import os
import shutil
import socketserver
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = "2024-11-08"
SECRET = "s3cr3t-pa55"
GOOD = "لاہور: یہ ایک درست خبر ہے جو پوری طرح پڑھی جا سکتی ہے۔"


def csv_rows(n: int, start: int = 0) -> str:
    return "".join(f"{i},خبر {i},{GOOD} {i},https://ok/{i}\n" for i in range(start, start + n))


CSV_HEAD = "id,title,content,link\n"
CSV_MAP = "external_id=id,headline=title,body=content,url=link"
JSONL_MAP = "external_id=id,headline=t,body=b,url=u,published=p"


def jline(i: int, **extra) -> str:
    return json.dumps({"id": i, "t": f"خبر {i}", "b": f"{GOOD} {i}", "u": f"https://ok/{i}", **extra}) + "\n"


@dataclass
class Ctx:
    tmp: Path
    base: str  # the hostile server's base URL
    data: Path = field(init=False)

    def __post_init__(self):
        self.data = self.tmp / "data"

    def write(self, name: str, content: bytes | str) -> Path:
        path = self.tmp / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    def ingest(self, target: str | Path, fmt: str = "csv", mapping: str | None = None, *extra: str) -> list[str]:
        mapping = mapping if mapping is not None else (CSV_MAP if fmt == "csv" else JSONL_MAP)
        argv = ["ingest", str(target), "--source", "hostile", "--format", fmt, "--date", DAY]
        argv += ["--data-dir", str(self.data), "--quiet"]
        if mapping and fmt in ("csv", "jsonl"):
            argv += ["--map", mapping]
        return argv + list(extra)

    def config(self, text: str | bytes) -> Path:
        return self.write("sources.yaml", text)

    def run(self, config: Path, *extra: str) -> list[str]:
        return ["run", "--date", DAY, "--config", str(config), "--data-dir", str(self.data), "--quiet", *extra]


@dataclass
class Case:
    name: str
    klass: str
    expect: str  # "error", "load", or "either" (a clear error or a clean load)
    build: Callable[[Ctx], list[str] | tuple[list[str], dict]]
    records: int | None = None  # records in, counted by hand
    good: int = 0  # good records that must load
    secret: bool = False  # the output must not show SECRET
    after: Callable[[Ctx], str | None] | None = None  # an extra check: returns a problem, or None
    timeout: float = 120
    most: int | None = None  # at most this many may load (the bad records must not)


CASES: list[Case] = []


def case(name, klass, expect, records=None, good=0, **kw):
    def register(build):
        CASES.append(Case(name, klass, expect, build, records, good, **kw))
        return build

    return register


# --- configuration and command line ---------------------------------------------------------------

GOOD_SOURCE = "  - name: ok\n    url: {url}\n    format: csv\n    columns: {{body: content}}\n"


def _bad_config(name: str, body: str):
    @case(f"config_{name}", "configuration", "error")
    def _(c: Ctx):
        c.write("news.csv", "content\nخبر\n")
        return c.run(c.config(body.replace("URL", str(c.tmp / "in" / "news.csv"))))


_bad_config("name_not_a_string", "sources:\n  - {name: 123, url: URL, format: csv, columns: {body: content}}\n")
_bad_config(
    "name_trailing_newline", 'sources:\n  - {name: "geo\\n", url: URL, format: csv, columns: {body: content}}\n'
)
_bad_config(
    "name_240_chars", f"sources:\n  - {{name: {'a' * 240}, url: URL, format: csv, columns: {{body: content}}}}\n"
)
_bad_config("name_64_chars", f"sources:\n  - {{name: {'a' * 64}, url: URL, format: csv, columns: {{body: content}}}}\n")
_bad_config("name_upper_case", "sources:\n  - {name: Geo, url: URL, format: csv, columns: {body: content}}\n")
_bad_config("url_not_a_string", "sources:\n  - {name: geo, url: 42, format: csv, columns: {body: content}}\n")
_bad_config("url_list", "sources:\n  - {name: geo, url: [a, b], format: csv, columns: {body: content}}\n")
_bad_config(
    "encoding_list", "sources:\n  - {name: geo, url: URL, format: csv, encoding: [utf-8], columns: {body: content}}\n"
)
_bad_config(
    "encoding_unknown",
    "sources:\n  - {name: geo, url: URL, format: csv, encoding: klingon, columns: {body: content}}\n",
)
_bad_config("columns_list", "sources:\n  - {name: geo, url: URL, format: csv, columns: [body]}\n")
_bad_config("columns_value_int", "sources:\n  - {name: geo, url: URL, format: csv, columns: {body: 7}}\n")
_bad_config(
    "required_string", "sources:\n  - {name: geo, url: URL, format: csv, required: body, columns: {body: content}}\n"
)
_bad_config("format_unknown", "sources:\n  - {name: geo, url: URL, format: xml, columns: {body: content}}\n")
_bad_config(
    "unknown_key_typo", "sources:\n  - {name: geo, url: URL, format: csv, encodng: utf-8, columns: {body: content}}\n"
)
_bad_config(
    "unknown_top_level_key", "sourcez: []\nsources:\n  - {name: geo, url: URL, format: csv, columns: {body: content}}\n"
)
_bad_config(
    "unknown_placeholder", "sources:\n  - {name: geo, url: '/x/{day}.csv', format: csv, columns: {body: content}}\n"
)
_bad_config("top_level_list", "- name: geo\n")
_bad_config("empty_file", "")
_bad_config("duplicate_source", "sources:\n" + GOOD_SOURCE.format(url="URL") * 2)
_bad_config(
    "yaml_alias_bomb",
    "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\nsources: *h\n",
)


@case("config_not_utf8", "configuration", "error")
def _(c: Ctx):
    return c.run(c.config(b"sources:\n  - name: \xff\xfe\n"))


@case("config_is_a_directory", "configuration", "error")
def _(c: Ctx):
    (c.tmp / "in" / "dir.yaml").mkdir(parents=True)
    return c.run(c.tmp / "in" / "dir.yaml")


@case("config_missing", "configuration", "error")
def _(c: Ctx):
    return c.run(c.tmp / "nowhere.yaml")


@case("check_config_bad_key", "configuration", "error")
def _(c: Ctx):
    cfg = c.config("sources:\n  - {name: geo, url: /x.csv, format: csv, encodng: utf-8, columns: {body: content}}\n")
    return ["check-config", "--config", str(cfg)]


def _bad_flag(name: str, *flags: str, env: dict | None = None, klass: str = "command line"):
    @case(f"cli_{name}", klass, "error")
    def _(c: Ctx):
        target = c.write("news.csv", CSV_HEAD + csv_rows(2))
        argv = c.ingest(target, "csv", None, *flags)
        return (argv, env or {})


_bad_flag("warehouse_mysql", "--warehouse", "mysql://u:p@localhost/db")
_bad_flag("warehouse_unparseable", "--warehouse", "postgresql://u:p@host:notaport/db")
_bad_flag("warehouse_garbage", "--warehouse", "not a url at all")
_bad_flag("date_year_one", "--date", "0001-01-01")
_bad_flag("date_year_9999", "--date", "9999-12-31")
_bad_flag("date_not_a_date", "--date", "2024-13-45")
_bad_flag("run_id_path", "--run-id", "../../../etc")
_bad_flag("run_id_long", "--run-id", "r" * 600)
_bad_flag("encoding_unknown", "--encoding", "klingon")
_bad_flag("knob_shard_mb", env={"URDU_ETL_SHARD_MB": "lots"}, klass="settings")
_bad_flag("knob_attempts_negative", env={"URDU_ETL_FETCH_ATTEMPTS": "-3"}, klass="settings")
_bad_flag("knob_timezone", env={"URDU_ETL_TIMEZONE": "Mars/Olympus"}, klass="settings")
_bad_flag("source_name_newline", "--source", "geo\n")


@case("cli_data_dir_is_a_file", "command line", "error")
def _(c: Ctx):
    target = c.write("news.csv", CSV_HEAD + csv_rows(2))
    c.data.parent.mkdir(parents=True, exist_ok=True)
    c.data.write_text("a file")
    return c.ingest(target)


@case("cli_literal_braces_in_path", "command line", "load", records=2, good=2)
def _(c: Ctx):
    return c.ingest(c.write("dump {1}.csv", CSV_HEAD + csv_rows(2)))


# --- readers --------------------------------------------------------------------------------------


@case("csv_unterminated_quote", "records", "load", records=6, good=5, most=5)
def _(c: Ctx):
    bad = f'99,"خبر,{GOOD},https://bad\n'
    return c.ingest(c.write("news.csv", CSV_HEAD + csv_rows(2) + bad + csv_rows(3, 10)))


@case("csv_unterminated_quote_last", "records", "load", records=3, good=2)
def _(c: Ctx):
    return c.ingest(c.write("news.csv", CSV_HEAD + csv_rows(2) + f'99,خبر,"{GOOD}\n'))


@case("csv_header_only", "records", "load", records=0, good=0)
def _(c: Ctx):
    return c.ingest(c.write("news.csv", CSV_HEAD))


@case("csv_duplicate_columns", "records", "either")
def _(c: Ctx):
    return c.ingest(c.write("news.csv", "id,content,content,link\n1,a,b,c\n"), "csv", "body=content")


@case("csv_cr_line_endings", "records", "load", records=3, good=3)
def _(c: Ctx):
    return c.ingest(c.write("news.csv", (CSV_HEAD + csv_rows(3)).replace("\n", "\r")))


@case("csv_utf16_read_as_utf8", "records", "load", records=None, good=0)
def _(c: Ctx):
    return c.ingest(c.write("news.csv", (CSV_HEAD + csv_rows(2)).encode("utf-16-le")))


@case("csv_utf16_no_bom_declared", "records", "load", records=2, good=2)
def _(c: Ctx):
    return c.ingest(
        c.write("news.csv", (CSV_HEAD + csv_rows(2)).encode("utf-16-le")), "csv", None, "--encoding", "utf-16"
    )


@case("csv_utf16_be_no_bom_declared", "records", "either")
def _(c: Ctx):
    return c.ingest(
        c.write("news.csv", (CSV_HEAD + csv_rows(2)).encode("utf-16-be")), "csv", None, "--encoding", "utf-16"
    )


@case("csv_utf16_odd_bytes", "records", "either")
def _(c: Ctx):
    return c.ingest(
        c.write("news.csv", (CSV_HEAD + csv_rows(2)).encode("utf-16") + b"\x00"), "csv", None, "--encoding", "utf-16"
    )


@case("jsonl_nested_100000", "records", "load", records=3, good=2, most=2)
def _(c: Ctx):
    return c.ingest(c.write("news.jsonl", jline(1) + "[" * 100_000 + "]" * 100_000 + "\n" + jline(2)), "jsonl")


@case("jsonl_nested_object_body", "records", "load", records=3, good=2)
def _(c: Ctx):
    deep = '{"id": 9, "b": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}\n"
    return c.ingest(c.write("news.jsonl", jline(1) + deep + jline(2)), "jsonl")


@case("jsonl_10mb_line", "records", "load", records=3, good=2, most=2)
def _(c: Ctx):
    big = json.dumps({"id": 9, "b": "خ" * 5_000_000}) + "\n"
    return c.ingest(c.write("news.jsonl", jline(1) + big + jline(2)), "jsonl")


@case("jsonl_body_number", "records", "load", records=4, good=1, most=1)
def _(c: Ctx):
    lines = jline(1) + '{"id": 2, "b": 12345}\n{"id": 3, "b": true}\n{"id": 4, "b": ["x"]}\n'
    return c.ingest(c.write("news.jsonl", lines), "jsonl")


@case("jsonl_body_null", "records", "load", records=2, good=1)
def _(c: Ctx):
    return c.ingest(c.write("news.jsonl", jline(1) + '{"id": 2, "b": null}\n'), "jsonl")


@case("jsonl_date_year_9999", "records", "load", records=2, good=2)
def _(c: Ctx):
    return c.ingest(
        c.write("news.jsonl", jline(1, p="Fri, 01 Jan 9999 23:59:59 +0500") + jline(2, p="10000-01-01")), "jsonl"
    )


@case("jsonl_date_epoch_huge", "records", "load", records=2, good=2)
def _(c: Ctx):
    return c.ingest(c.write("news.jsonl", jline(1, p="1e20") + jline(2, p="0000-00-00 00:00:00")), "jsonl")


@case("json_pretty_array", "records", "load", records=3, good=0)
def _(c: Ctx):
    items = [json.loads(jline(i)) for i in range(3)]
    return c.ingest(c.write("news.json", json.dumps(items, ensure_ascii=False, indent=2)), "jsonl")


@case("jsonl_utf16_no_bom", "records", "load", records=2, good=2)
def _(c: Ctx):
    return c.ingest(
        c.write("news.jsonl", (jline(1) + jline(2)).encode("utf-16-le")), "jsonl", None, "--encoding", "utf-16"
    )


@case("jsonl_invalid_surrogate_escape", "records", "load", records=2, good=1)
def _(c: Ctx):
    return c.ingest(c.write("news.jsonl", jline(1) + '{"id": 2, "b": "\\ud800 x"}\n'), "jsonl")


@case("jsonl_huge_number", "records", "load", records=2, good=1)
def _(c: Ctx):
    return c.ingest(c.write("news.jsonl", jline(1) + '{"id": 2, "b": "x", "n": ' + "9" * 5000 + "}\n"), "jsonl")


@case("txt_html_page", "records", "load", records=2, good=1)
def _(c: Ctx):
    c.write("d/a.txt", f"سرخی\n\n{GOOD}\n")
    c.write("d/b.txt", "<!DOCTYPE html><html><body>login</body></html>")
    return c.ingest(c.tmp / "in" / "d", "seed_txt")


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@case("archive_member_three_times", "records", "load", records=None, good=2)
def _(c: Ctx):
    data = (CSV_HEAD + csv_rows(2)).encode()
    return c.ingest(c.write("dump.tar.gz", _tar([("a.csv", data)] * 3)))


@case("archive_member_twice_zip_and_folder", "records", "load", records=None, good=2)
def _(c: Ctx):
    data = (CSV_HEAD + csv_rows(2)).encode()
    c.write("d/a.csv", data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", data)
        zf.writestr("b.csv", data)
    c.write("d/a.zip", buf.getvalue())
    return c.ingest(c.tmp / "in" / "d")


@case("archive_long_member_name", "records", "either")
def _(c: Ctx):
    data = (CSV_HEAD + csv_rows(2)).encode()
    return c.ingest(c.write("dump.tar.gz", _tar([("x" * 300 + ".csv", data)])))


@case("gzip_of_garbage", "records", "either")
def _(c: Ctx):
    return c.ingest(c.write("news.csv.gz", b"\x1f\x8b" + os.urandom(500)))


# --- files and folders ----------------------------------------------------------------------------


def _folder_with(c: Ctx, name: str, make: Callable[[Path], None]) -> Path:
    folder = c.tmp / "in" / "dump"
    folder.mkdir(parents=True)
    (folder / "good.csv").write_text(CSV_HEAD + csv_rows(1), encoding="utf-8")
    make(folder / name)
    return folder


@case("folder_symlink_outside", "reading from outside", "load", good=1)
def _(c: Ctx):
    secret = c.write("secret.csv", CSV_HEAD + "7,راز,یہ فائل باہر کی ہے اور نہیں پڑھی جانی چاہیے۔,https://secret\n")
    folder = _folder_with(c, "evil.csv", lambda p: p.symlink_to(secret))
    return c.ingest(folder)


def _no_secret_loaded(c: Ctx) -> str | None:
    db = c.data / "warehouse.db"
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        n = conn.execute("SELECT COUNT(*) FROM articles WHERE body LIKE '%باہر کی ہے%'").fetchone()[0]
    return f"{n} article(s) read through a symlink from outside the dump" if n else None


CASES[-1].after = _no_secret_loaded


@case("folder_symlink_dev_zero", "reading from outside", "load", good=1, most=1, timeout=60)
def _(c: Ctx):
    return c.ingest(_folder_with(c, "zero.csv", lambda p: p.symlink_to("/dev/zero")))


@case("folder_fifo", "reading from outside", "load", good=1, most=1, timeout=60)
def _(c: Ctx):
    return c.ingest(_folder_with(c, "pipe.csv", os.mkfifo))


@case("folder_symlink_to_folder_outside", "reading from outside", "load", good=1, most=1)
def _(c: Ctx):
    c.write("outside/x.csv", CSV_HEAD + csv_rows(1, 50))
    return c.ingest(_folder_with(c, "sub", lambda p: p.symlink_to(c.tmp / "in" / "outside")))


@case("top_level_fifo", "reading from outside", "error", timeout=60)
def _(c: Ctx):
    fifo = c.tmp / "in" / "pipe.csv"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    return c.ingest(fifo)


@case("top_level_dev_zero", "reading from outside", "error", timeout=60)
def _(c: Ctx):
    return c.ingest("/dev/zero")


@case("unreadable_file_in_folder", "reading from outside", "load", good=1)
def _(c: Ctx):
    def make(p: Path) -> None:
        p.write_text(CSV_HEAD + csv_rows(1, 9))
        p.chmod(0)

    return c.ingest(_folder_with(c, "locked.csv", make))


# --- HTTP -----------------------------------------------------------------------------------------

BIG = (CSV_HEAD + csv_rows(30_000)).encode()  # over 5 MiB


class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, body: bytes, status: int = 200, headers: dict | None = None, length: int | None = None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            with contextlib.suppress(OSError):
                self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        small = (CSV_HEAD + csv_rows(3)).encode()
        if path == "/trickle.csv":
            self.send_response(200)
            self.send_header("Content-Length", str(len(small)))
            self.end_headers()
            if self.command == "HEAD":
                return
            for b in small:
                try:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)
        elif path == "/short.csv":
            self._send(small[:40], length=len(small))
            self.close_connection = True
        elif path == "/long.csv":
            self._send(small, length=len(small) * 3)
            self.close_connection = True
        elif path == "/bomb.csv":
            body = gzip.compress(b"0" * 200_000_000, 9)
            self._send(body, headers={"Content-Encoding": "gzip"})
        elif path == "/bomb.csv.gz":
            self._send(gzip.compress(CSV_HEAD.encode() + b"0" * 200_000_000, 9))
        elif path == "/huge.csv":
            self._send(BIG)
        elif path == "/norange.csv":
            self._send(BIG)  # ignores Range: always the whole body, 200
        elif path == "/auth.csv":
            import base64

            want = "Basic " + base64.b64encode(f"reader:{SECRET}".encode()).decode()
            if self.headers.get("Authorization") != want:
                self._send(b"no", 401, {"WWW-Authenticate": 'Basic realm="x"'})
            else:
                self._send(small)
        elif path == "/error500.csv":
            self._send(b"boom", 500)
        elif path == "/loop.csv":
            self._send(b"", 302, {"Location": "/loop.csv"})
        elif path == "/login.csv":
            self._send(b"<!DOCTYPE html><html><body>please log in</body></html>", headers={"Content-Type": "text/html"})
        else:
            self._send(b"not found", 404)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gives up on a hostile answer is what these cases expect


FAST_FETCH = {"URDU_ETL_FETCH_ATTEMPTS": "1", "URDU_ETL_FETCH_TIMEOUT": "5"}


def _http(name: str, path: str, expect: str, records=None, good=0, env=None, **kw):
    @case(f"http_{name}", "HTTP", expect, records, good, **kw)
    def _(c: Ctx):
        return c.ingest(f"{c.base}{path}"), {**FAST_FETCH, **(env or {})}


_http("trickle_one_byte", "/trickle.csv", "error", env={"URDU_ETL_FETCH_DEADLINE": "5"}, timeout=90)
_http("content_length_short", "/short.csv", "error")
_http("content_length_long", "/long.csv", "error", timeout=60)
_http("gzip_bomb_content_encoding", "/bomb.csv", "error")
_http("gzip_bomb_archive", "/bomb.csv.gz", "load", good=0)
_http("over_size_cap", "/huge.csv", "error", env={"URDU_ETL_FETCH_MAX_MB": "1"})
_http("no_range_6mib", "/norange.csv", "load", records=30_000, good=30_000, timeout=300)
_http("server_error", "/error500.csv", "error")
_http("redirect_loop", "/loop.csv", "error")
_http("not_found", "/missing.csv", "error")
_http("html_login_page", "/login.csv", "either")


@case("http_credentials_in_url", "HTTP", "load", records=3, good=3, secret=True)
def _(c: Ctx):
    return c.ingest(c.base.replace("://", f"://reader:{SECRET}@") + "/auth.csv"), FAST_FETCH


@case("http_wrong_credentials", "HTTP", "error", secret=True)
def _(c: Ctx):
    return c.ingest(c.base.replace("://", f"://reader:{SECRET}x@") + "/auth.csv"), FAST_FETCH


@case("http_credentials_netrc", "HTTP", "load", records=3, good=3, secret=True)
def _(c: Ctx):
    netrc = c.write("netrc", f"machine 127.0.0.1 login reader password {SECRET}\n")
    netrc.chmod(0o600)
    return c.ingest(c.base + "/auth.csv"), {**FAST_FETCH, "NETRC": str(netrc)}


@case("check_config_hides_password", "HTTP", "load", secret=True)
def _(c: Ctx):
    cfg = c.config(
        f"sources:\n  - {{name: geo, url: 'https://u:{SECRET}@example.org/x.csv', format: csv, columns: {{body: content}}}}\n"
    )
    return ["check-config", "--config", str(cfg)]


# --- warehouse ------------------------------------------------------------------------------------


def _loaded(c: Ctx) -> list[str]:
    return c.ingest(c.write("news.csv", CSV_HEAD + csv_rows(2)))


def _query(name: str, sql: str, leaves: str | None = None):
    @case(f"query_{name}", "read-only query", "error")
    def _(c: Ctx):
        subprocess.run([sys.executable, "-m", "etl", *_loaded(c)], cwd=ROOT, capture_output=True, check=True)
        return ["query", "--sql", sql.replace("TMP", str(c.tmp)), "--data-dir", str(c.data)]

    def check(c: Ctx) -> str | None:
        if leaves and (c.tmp / leaves).exists():
            return f"{leaves} was written"
        with sqlite3.connect(c.data / "warehouse.db") as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        return "a table was created" if "pwned" in names else None

    CASES[-1].after = check


_query("commit_then_create", "COMMIT; CREATE TABLE pwned (a int)")
_query("two_statements", "SELECT 1; CREATE TABLE pwned (a int)")
_query("create_table", "CREATE TABLE pwned (a int)")
_query("vacuum_into", "VACUUM INTO 'TMP/copy.db'", leaves="copy.db")
_query("attach", "ATTACH DATABASE 'TMP/other.db' AS o", leaves="other.db")
_query("pragma_write", "PRAGMA journal_mode=DELETE")


@case("concurrent_ingests_fresh_sqlite", "concurrency", "load", records=2, good=2)
def _(c: Ctx):
    target = c.write("news.csv", CSV_HEAD + csv_rows(2))
    argv = [sys.executable, "-m", "etl", *c.ingest(target)]
    procs = [subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)]
    failed = [p for p in procs if p.wait() != 0]
    if failed:
        (c.tmp / "concurrent-failures").write_bytes(failed[0].stderr.read())
    return c.ingest(target)


CASES[-1].after = lambda c: (
    f"a concurrent run failed: {(c.tmp / 'concurrent-failures').read_text()[-300:]}"
    if (c.tmp / "concurrent-failures").exists()
    else None
)


@case("rerun_earlier_day_keeps_later_day", "day ownership", "load", records=3, good=1)
def _(c: Ctx):
    day1, day2 = c.write("d1.csv", CSV_HEAD + csv_rows(3)), c.write("d2.csv", CSV_HEAD + csv_rows(3, 1))
    for target, day in ((day1, "2024-11-07"), (day2, DAY), (day1, "2024-11-07")):
        argv = c.ingest(target)
        argv[argv.index("--date") + 1] = day
        subprocess.run([sys.executable, "-m", "etl", *argv], cwd=ROOT, capture_output=True, check=True)
    return c.ingest(day2)  # day 2 again: its two articles held by day 1 stay there, as duplicates


def _day2_unchanged(c: Ctx) -> str | None:
    with sqlite3.connect(c.data / "warehouse.db") as conn:
        rows = conn.execute(
            "SELECT ingest_date, COUNT(*) FROM articles GROUP BY ingest_date ORDER BY ingest_date"
        ).fetchall()
    # day 2 re-run last: both days must hold what the lake holds for them
    import pyarrow.dataset as ds

    lake = ds.dataset(c.data / "lake" / "articles", partitioning="hive").to_table(columns=["ingest_date"])
    lake_counts = sorted((str(k), v) for k, v in _count(lake["ingest_date"].to_pylist()).items())
    wh = sorted((str(k), v) for k, v in rows)
    return None if lake_counts == wh else f"lake {lake_counts} != warehouse {wh}"


def _count(values):
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


CASES[-1].after = _day2_unchanged


# --- killed runs ----------------------------------------------------------------------------------


@case("killed_run_leftovers_removed", "housekeeping", "load", records=3, good=3)
def _(c: Ctx):
    target = c.write("news.csv", CSV_HEAD + csv_rows(3))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "URDU_ETL_FAILPOINT": "lake_file"}
    subprocess.run([sys.executable, "-m", "etl", *c.ingest(target)], cwd=ROOT, env=env, capture_output=True)
    (c.tmp / "left-by-the-killed-run").write_text(json.dumps(_leftovers(c)))
    return c.ingest(target)


def _leftovers(c: Ctx) -> list[int]:
    """Entries of lake/_tmp, and run folders under staging/<day>/."""
    tmp, day = c.data / "lake" / "_tmp", c.data / "staging" / DAY
    return [len(list(tmp.iterdir())) if tmp.exists() else 0, len(list(day.iterdir())) if day.exists() else 0]


def _no_leftovers(c: Ctx) -> str | None:
    before = json.loads((c.tmp / "left-by-the-killed-run").read_text())
    after = _leftovers(c)
    if before[0] == 0 or before[1] == 0:
        return f"the killed run left nothing to clean ({before[0]} _tmp entries, {before[1]} run folders)"
    if after != [0, 1]:  # the checked run keeps its own folder (its manifests)
        return f"left behind: {after[0]} entries in lake/_tmp, {after[1]} run folders in staging (1 is the new run's)"
    return None


CASES[-1].after = _no_leftovers


# --- running --------------------------------------------------------------------------------------


def _summary(c: Ctx) -> dict | None:
    path = c.data / "runs" / DAY / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def run_case(cs: Case, tmp: Path, base: str) -> tuple[str, str]:
    c = Ctx(tmp, base)
    built = cs.build(c)
    argv, env = built if isinstance(built, tuple) else (built, {})
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    env.pop("URDU_ETL_FAILPOINT", None)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "etl", *argv], cwd=ROOT, env=env, capture_output=True, timeout=cs.timeout
        )
    except subprocess.TimeoutExpired:
        return "BUG", f"hang: no exit within {cs.timeout:.0f} s"
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    if "Traceback (most recent call last)" in err:
        return "BUG", "traceback: " + err.strip().splitlines()[-1][:200]
    if cs.secret and SECRET in out + err + _files_text(c):
        return "BUG", "the password was printed or stored"
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    problem = cs.after(c) if cs.after else None
    if problem:
        return "BUG", problem
    if proc.returncode != 0:
        if cs.expect == "load":
            return "BUG", f"exit {proc.returncode}: {(errors or err.splitlines() or [''])[-1][:200]}"
        if proc.returncode in (2, 3, 4, 5, 6) and len(errors) == 1:
            return "clear error", f"exit {proc.returncode}: {errors[0][:220]}"
        if proc.returncode == 2:  # argparse: usage line + one error line
            return "clear error", f"exit 2: {err.strip().splitlines()[-1][:220]}"
        return "BUG", f"exit {proc.returncode}, {len(errors)} error lines: {err.strip()[-200:]}"
    if cs.expect == "error":
        return "BUG", "accepted: exit 0 where a refusal was expected"
    if argv[0] not in ("ingest", "run"):
        return "loaded", "exit 0"
    summary = _summary(c)
    if summary is None:
        return "BUG", "exit 0 but no run summary"
    acc = (summary["records_in"], summary["loaded"], summary["duplicates"], summary["rejected"])
    if acc[0] != acc[1] + acc[2] + acc[3]:
        return "BUG", f"records lost: in {acc[0]}, loaded {acc[1]} + dup {acc[2]} + rejected {acc[3]}"
    if cs.records is not None and acc[0] != cs.records:
        return "BUG", f"records in {acc[0]}, but the input holds {cs.records}"
    if acc[1] < cs.good:
        return "BUG", f"{acc[1]} loaded of {cs.good} good records"
    if cs.most is not None and acc[1] > cs.most:
        return "BUG", f"{acc[1]} loaded where at most {cs.most} are good"
    reasons = _reasons(c)
    return "loaded", f"in {acc[0]}, loaded {acc[1]}, dup {acc[2]}, rejected {acc[3]}" + (
        f" ({', '.join(reasons)})" if reasons else ""
    )


def _reasons(c: Ctx) -> list[str]:
    db = c.data / "warehouse.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return [f"{r} x{n}" for r, n in conn.execute("SELECT reason, COUNT(*) FROM rejects GROUP BY reason ORDER BY 1")]


def _files_text(c: Ctx) -> str:
    """What the run wrote that a person reads: summaries, manifests and the warehouse's dumps/sources."""
    text = []
    for p in list(c.data.rglob("*.json")) if c.data.exists() else []:
        text.append(p.read_text(encoding="utf-8", errors="replace"))
    db = c.data / "warehouse.db"
    if db.exists():
        with sqlite3.connect(db) as conn:
            for table in ("dumps", "sources", "rejects"):
                text.append(repr(conn.execute(f"SELECT * FROM {table}").fetchall()))
    return "\n".join(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep each case's folder")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "hostile_cases.md")
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    rows = []
    began = time.perf_counter()
    for cs in CASES:
        if args.only not in cs.name:
            continue
        tmp = Path(tempfile.mkdtemp(prefix=f"hostile-{cs.name[:20]}-"))
        t0 = time.perf_counter()
        verdict, detail = run_case(cs, tmp, base)
        rows.append((cs, verdict, detail, time.perf_counter() - t0))
        print(f"{verdict:<12} {cs.name:<40} {detail}", flush=True)
        if not args.keep:
            subprocess.run(["chmod", "-R", "u+rwX", str(tmp)], capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)
    server.shutdown()
    totals = {v: sum(1 for r in rows if r[1] == v) for v in ("clear error", "loaded", "BUG")}
    lost = sum(1 for r in rows if "records lost" in r[2] or "records in" in r[2] and "input holds" in r[2])
    tracebacks = sum(1 for r in rows if r[2].startswith("traceback"))
    lines = [
        "# Hostile inputs, servers and configurations",
        "",
        f"`python bench/hostile_cases.py`, {dt.date.today().isoformat()}: {len(rows)} cases in "
        f"{time.perf_counter() - began:.0f} s. Clear errors {totals['clear error']}, clean loads "
        f"{totals['loaded']}, bugs {totals['BUG']} (tracebacks {tracebacks}, cases with records lost {lost}).",
        "",
        "| class | case | outcome | detail |",
        "|---|---|---|---|",
    ]
    for cs, verdict, detail, _ in rows:
        lines.append(f"| {cs.klass} | `{cs.name}` | {verdict} | {detail.replace('|', '/')} |")
    if not args.only:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    print(lines[2])
    return 1 if totals["BUG"] else 0


if __name__ == "__main__":
    sys.exit(main())
