"""Hostile days, queries and concurrency against the warehouse, on real SQLite and real PostgreSQL.

* An article belongs to the day that first holds it: re-running a day never moves articles out of
  another day, in the lake or the warehouse, in either order.
* Dates at the ends of the calendar do not overflow the copy search's window.
* ``urdu-etl query --sql`` cannot write: one statement, read-only connection, no ATTACH/VACUUM/…
* Runs starting together against a fresh SQLite file all succeed and file the day once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import cli, schema
from etl.articles import latest_publication
from etl.config import make_source
from etl.dedup import copies, other_days
from etl.errors import ConfigError, InvariantError, WarehouseError
from etl.load import lake, queries, warehouse
from etl.tasks.load_warehouse import warehouse_rows
from tests.support import ROOT
from tests.support.runs import run_pipeline, settings_for

D1, D2 = dt.date(2024, 11, 1), dt.date(2024, 11, 2)
MAP = {"external_id": "id", "headline": "title", "url": "link", "body": "content"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wh.db'}"
    return request.getfixturevalue("pg_url")


def _story(i: int) -> str:
    return f"لاہور: خبر نمبر {i} کا پہلا جملہ {'الف ب ج ' * (i % 5)}یہاں ہے۔ دوسرا جملہ {i} پر ختم ہوتا ہے۔"


def _csv(path: Path, ids: list[int], positional: bool = False) -> None:
    """A dump of articles ``ids`` (with URLs and ids, or ``positional``: neither)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if positional:
        lines = ["title,content"] + [f"سرخی {i},{_story(i)}" for i in ids]
    else:
        lines = ["id,title,link,content"] + [f"{i},سرخی {i},https://news.example.pk/{i},{_story(i)}" for i in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _source(folder: Path, positional: bool = False):
    columns = {"headline": "title", "body": "content"} if positional else MAP
    return make_source("news", str(folder) + "/{date}/news.csv", "csv", columns)


def _lake_counts(data: Path, day: dt.date) -> dict[str, int]:
    return {
        t: lake.read_partition(data / "lake", t, day.isoformat(), "news", schema.TABLES[t]).num_rows
        for t in ("articles", "sentences", "mentions", "duplicates")
    }


def _warehouse_counts(url: str, day: dt.date) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            one = lambda sql: conn.execute(sa.text(sql), {"d": day}).scalar_one()
            return {
                "articles": one("SELECT count(*) FROM articles WHERE ingest_date = :d"),
                "sentences": one(
                    "SELECT count(*) FROM sentences s JOIN articles a USING (article_id) WHERE a.ingest_date = :d"
                ),
                "mentions": one(
                    "SELECT count(*) FROM mentions m JOIN articles a USING (article_id) WHERE a.ingest_date = :d"
                ),
                "duplicates": one("SELECT count(*) FROM duplicates WHERE ingest_date = :d"),
            }
    finally:
        engine.dispose()


def _run(source, day: dt.date, data: Path, url: str) -> dict:
    summary = run_pipeline([source], day, data, url)
    assert summary["status"] == "ok", summary["problems"]
    news = summary["sources"]["news"]
    assert news["records_in"] == news["loaded"] + news["duplicates"] + news["rejected"]
    return news


@pytest.mark.parametrize("order", ["earlier_first", "later_first"])
def test_a_rerun_never_moves_articles_of_another_day(url, tmp_path, order):
    dumps, data = tmp_path / "dumps", tmp_path / "data"
    _csv(dumps / D1.isoformat() / "news.csv", [0, 1, 2, 3, 4, 5])
    _csv(dumps / D2.isoformat() / "news.csv", [3, 4, 5, 4, 6, 7, 8])  # shares 3, 4, 5; 4 twice
    source = _source(dumps)
    first, second = (D1, D2) if order == "earlier_first" else (D2, D1)
    _run(source, first, data, url)
    before = _run(source, second, data, url)
    # the shared articles stay with the day that held them first; the other day counts them as duplicates
    held = {D1: 6, D2: 7}[first]
    assert before["loaded"] == {D1: 6, D2: 7}[second] - 3 - (1 if second == D2 else 0)
    assert before["duplicates"] == (4 if second == D2 else 3)
    assert _lake_counts(data, first)["articles"] == held - (1 if first == D2 else 0)
    snapshot = {d: (_lake_counts(data, d), _warehouse_counts(url, d)) for d in (D1, D2)}
    for d, (in_lake, in_warehouse) in snapshot.items():
        assert in_lake == in_warehouse, d
    # re-run the first day, then the second: nothing moves, in the lake or the warehouse
    _run(source, first, data, url)
    assert {d: (_lake_counts(data, d), _warehouse_counts(url, d)) for d in (D1, D2)} == snapshot
    again = _run(source, second, data, url)
    assert again == before
    assert {d: (_lake_counts(data, d), _warehouse_counts(url, d)) for d in (D1, D2)} == snapshot
    # every duplicate of the second day points at an article the warehouse holds under the first
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT d.reason, a.ingest_date FROM duplicates d JOIN articles a USING (article_id) "
                "WHERE d.ingest_date = :d ORDER BY d.source_file, d.record_no"
            ),
            {"d": second},
        ).all()
        total = conn.execute(sa.text("SELECT count(*) FROM articles")).scalar_one()
    engine.dispose()
    assert {r[0] for r in rows} == {other_days.REASON} and {str(r[1]) for r in rows} == {first.isoformat()}
    assert total == 9  # nine distinct articles, each once


def test_rows_without_url_or_id_are_articles_of_their_own_day(tmp_path):
    """``news.csv`` row 3 of one day and row 3 of the next are two articles, not one filed twice."""
    dumps, data, url = tmp_path / "dumps", tmp_path / "data", f"sqlite:///{tmp_path / 'wh.db'}"
    _csv(dumps / D1.isoformat() / "news.csv", [0, 1, 2], positional=True)
    _csv(dumps / D2.isoformat() / "news.csv", [10, 11, 12], positional=True)
    source = _source(dumps, positional=True)
    for day in (D1, D2, D1):
        assert _run(source, day, data, url)["loaded"] == 3
    assert _warehouse_counts(url, D1)["articles"] == _warehouse_counts(url, D2)["articles"] == 3


def test_the_warehouse_refuses_to_move_an_article_to_another_day(url, tmp_path):
    dumps, data = tmp_path / "dumps", tmp_path / "data"
    _csv(dumps / D1.isoformat() / "news.csv", [0, 1, 2])
    _run(_source(dumps), D1, data, url)
    before = _warehouse_counts(url, D1)
    # the lake's D1 rows offered as D2's (a lake that files them twice): refused, D1 untouched
    rows = {
        "news": {
            t: warehouse_rows(t, lake.iter_partition(data / "lake", t, D1.isoformat(), "news", schema.TABLES[t]))
            for t in schema.TABLES
        }
    }
    run = {"run_id": "moving", "day": D2, "started_at": dt.datetime.now(dt.UTC), "finished_at": None}
    run |= {"status": "loaded", "sources": "news", "records_in": 3, "loaded": 3, "duplicates": 0, "rejected": 0}
    run["finished_at"] = run["started_at"]
    with (
        warehouse.opened(url) as engine,
        pytest.raises(InvariantError, match=r"under 2024-11-01.*re-run 2024-11-02"),
    ):
        warehouse.load_run(engine, D2, rows, run, [], [])
    assert _warehouse_counts(url, D1) == before and _warehouse_counts(url, D2)["articles"] == 0


def test_the_copy_window_saturates_at_the_ends_of_the_calendar(tmp_path):
    assert copies.window_start("0001-01-01", 30) == "0001-01-01"
    assert copies.window_start("0001-01-05", 30) == "0001-01-01"
    assert copies.window_start("2024-11-02", 10**12) == "0001-01-01"
    assert copies.window_start("2024-11-02", 1) == "2024-11-01"
    assert latest_publication(dt.date.max) <= dt.datetime.max.replace(tzinfo=dt.UTC)
    assert latest_publication(dt.date.min) == dt.datetime(1, 1, 3, tzinfo=dt.UTC)
    # a run is refused such days before any work; the saturation above is the safety net behind it
    dumps, data, url = tmp_path / "dumps", tmp_path / "data", f"sqlite:///{tmp_path / 'wh.db'}"
    for first, day in ((1, dt.date.min), (3, dt.date.max)):
        _csv(dumps / day.isoformat() / "news.csv", [first, first + 1])
        with pytest.raises(ConfigError, match="out of range"):
            _run(_source(dumps), day, data, url)
        assert not (data / "lake").exists()


# --- read-only queries -----------------------------------------------------------------------

REFUSED_EVERYWHERE = [
    "SELECT 1; SELECT 2",
    "COMMIT; CREATE TABLE evil (a integer)",
    "select 1 /* ; */ ; DROP TABLE articles",
    "CREATE TABLE evil (a integer)",
    "DROP TABLE articles",
    "DELETE FROM articles",
    "INSERT INTO runs (run_id) VALUES ('x')",
    "WITH x AS (SELECT 1) DELETE FROM articles",
    "UPDATE articles SET headline = 'x'",
    "BEGIN",
    "",
    " ; -- nothing",
]
REFUSED_SQLITE = [
    "ATTACH DATABASE '{tmp}/evil.db' AS evil",
    "DETACH main",
    "VACUUM",
    "VACUUM INTO '{tmp}/copy.db'",
    "PRAGMA journal_mode = WAL",
    "PRAGMA writable_schema = ON",
    "PRAGMA user_version = 7",
    "SELECT load_extension('{tmp}/evil')",
    "SELECT fts3_tokenizer('simple')",
    "EXPLAIN DELETE FROM articles",
    "REINDEX",
    "ANALYZE",
    "CREATE TEMP TABLE t (a integer)",
]
REFUSED_POSTGRESQL = [
    "SELECT * INTO evil FROM articles",
    "WITH x AS (INSERT INTO runs (run_id) VALUES ('x') RETURNING 1) SELECT * FROM x",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT \"pg_read_file\"('/etc/hostname')",
    "SELECT pg_catalog.pg_ls_dir('.')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT query_to_xml('CREATE TABLE evil (a int)', true, true, '')",
    "SELECT lo_import('/etc/passwd')",
    "COPY (SELECT 1) TO '{tmp}/out.csv'",
    "SET default_transaction_read_only = off",
    "DO $$ BEGIN CREATE TABLE evil (a int); END $$",
    "SELECT $x$;$x$; CREATE TABLE evil (a int)",
    "SELECT 1 FROM articles FOR UPDATE",
    "SELECT nextval('s')",
]


def _query(capsys, url: str, sql: str) -> tuple[int, str, str]:
    code = cli.main(["query", "--warehouse", url, "--sql", sql])
    out, err = capsys.readouterr()
    return code, out, err


def _sqlite_state(path: Path) -> tuple:
    folder = sorted(p.name for p in path.parent.iterdir())
    return folder, hashlib.sha256(path.read_bytes()).hexdigest()


def _pg_tables(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.text(
                        "SELECT table_schema, table_name FROM information_schema.tables "
                        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
                    )
                )
            ]
    finally:
        engine.dispose()


@pytest.fixture
def loaded(url, tmp_path):
    """A warehouse holding one small day."""
    dumps = tmp_path / "dumps"
    _csv(dumps / D1.isoformat() / "news.csv", [0, 1, 2])
    _run(_source(dumps), D1, tmp_path / "data", url)
    return url


def test_query_sql_cannot_write(loaded, tmp_path, capsys):
    url = loaded
    sqlite = url.startswith("sqlite")
    state = (lambda: _sqlite_state(Path(url[len("sqlite:///") :]))) if sqlite else (lambda: _pg_tables(url))
    before = state()
    cases = REFUSED_EVERYWHERE + (REFUSED_SQLITE if sqlite else REFUSED_POSTGRESQL)
    for sql in cases:
        code, out, err = _query(capsys, url, sql.format(tmp=tmp_path))
        assert code == 5, (sql, out, err)
        assert err.startswith("error: ") and err.count("\n") == 1, (sql, err)
        assert "Traceback" not in err
    assert state() == before
    assert not [p for p in tmp_path.iterdir() if p.name in ("evil.db", "copy.db", "out.csv")]
    # what reads still works, semicolons in strings and comments included
    code, out, _ = _query(capsys, url, "SELECT count(*) AS n, ';' AS s FROM articles -- ; trailing\n;")
    assert code == 0 and out.split()[-2:] == ["3", ";"]
    code, out, _ = _query(capsys, url, "/* a; comment */ WITH x AS (SELECT 2 AS v) SELECT v FROM x")
    assert code == 0 and out.split()[-1] == "2"
    if sqlite:
        code, out, _ = _query(capsys, url, "PRAGMA table_info(articles)")
        assert code == 0 and "article_id" in out
    assert state() == before


def test_query_refusal_names_the_reason_in_one_line(tmp_path, capsys):
    dumps, url = tmp_path / "dumps", f"sqlite:///{tmp_path / 'wh.db'}"
    _csv(dumps / D1.isoformat() / "news.csv", [0])
    _run(_source(dumps), D1, tmp_path / "data", url)
    code, _, err = _query(capsys, url, "SELECT 1; ATTACH 'x.db' AS x")
    assert (code, err) == (5, "error: query refused: --sql holds 2 statements; give exactly one\n")
    code, _, err = _query(capsys, url, "VACUUM INTO 'x.db'")
    assert code == 5 and "not 'VACUUM'" in err
    code = cli.main(["query", "--warehouse", url, "--sql", "SELECT 1", "--csv", str(tmp_path / "no" / "x.csv")])
    assert code == 3 and capsys.readouterr().err.startswith("error: --csv ")
    code = cli.main(["query", "--warehouse", f"sqlite:///{tmp_path / 'absent.db'}", "--sql", "SELECT 1"])
    assert code == 6 and not (tmp_path / "absent.db").exists()
    # a subprocess, as people run it: one line, exit 5
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "query", "--warehouse", url, "--sql", "COMMIT; CREATE TABLE evil (a)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 5 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: query refused")


@pytest.mark.services
def test_postgresql_query_session_is_read_only_even_past_a_commit(pg_url, monkeypatch):
    warehouse.engine_for(pg_url).dispose()
    engine = queries.read_only_engine(pg_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("COMMIT")
            with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
                conn.exec_driver_sql("CREATE TABLE evil (a int)")
        # several statements in one call: the server refuses them as one prepared statement
        monkeypatch.setattr(queries, "check_read_only", lambda sql, dialect: None)
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="multiple commands"):
            queries.run_read_only(conn, "SELECT 1; SELECT 2", {})
    finally:
        engine.dispose()
    assert ("public", "evil") not in _pg_tables(pg_url)


def test_the_tokenizer_counts_statements_not_semicolons():
    count = lambda sql, d="postgresql": len(queries._statements(sql, d))
    assert count("SELECT ';'") == count("SELECT E'\\';'") == count("SELECT $a$;$a$") == 1
    assert count('SELECT 1 AS "a;b"') == count("SELECT 1 -- ;\n") == count("/* /* ; */ ; */ SELECT 1") == 1
    assert count("SELECT [a;b]", "sqlite") == count("SELECT `a;b`", "sqlite") == 1
    assert count("SELECT 1;;SELECT 2") == 2
    with pytest.raises(WarehouseError, match="U&"):
        queries.check_read_only("SELECT U&\"pg_read\\005ffile\"('x')", "postgresql")


# --- concurrency ------------------------------------------------------------------------------


def _ingest(dump: Path, data: Path, url: str, run_id: str) -> subprocess.Popen:
    args = [
        "ingest",
        str(dump),
        "--source",
        "news",
        "--format",
        "csv",
        "--map",
        ",".join(f"{k}={v}" for k, v in MAP.items()),
    ]
    args += ["--date", D1.isoformat(), "--data-dir", str(data), "--warehouse", url, "--run-id", run_id, "-q"]
    return subprocess.Popen(
        [sys.executable, "-m", "etl", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow  # twelve whole runs in as many processes
def test_runs_starting_together_on_a_fresh_sqlite_file_all_succeed(tmp_path):
    dump = tmp_path / "news.csv"
    _csv(dump, list(range(20)))
    url = f"sqlite:///{tmp_path / 'fresh' / 'wh.db'}"
    procs = [_ingest(dump, tmp_path / "data", url, f"run{i}") for i in range(12)]
    errors = [p.communicate(timeout=280)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 12, [e[-600:] for e in errors if e]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        per_day = conn.execute(sa.text("SELECT ingest_date, count(*) FROM articles GROUP BY 1")).all()
        runs = conn.execute(sa.text("SELECT status, count(*) FROM runs GROUP BY 1")).all()
        tables = {r[0] for r in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    engine.dispose()
    assert [(str(d), n) for d, n in per_day] == [(D1.isoformat(), 20)]
    assert [tuple(r) for r in runs] == [("ok", 12)]
    assert tables == set(warehouse.metadata.tables)
    settings = settings_for(tmp_path / "data", url)
    assert lake.read_partition(settings.lake, "articles", D1.isoformat(), "news", schema.ARTICLES).num_rows == 20


def test_tables_are_created_once_by_engines_opening_a_fresh_sqlite_file_at_once(tmp_path):
    """Table creation, upgrade and views in processes that start together: none fails."""
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    code = "import sys; from etl.load import warehouse; warehouse.engine_for(sys.argv[1]).dispose()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(12)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 12, [e[-600:] for e in errors if e]
