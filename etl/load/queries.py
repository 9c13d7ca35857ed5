"""Named warehouse queries: the questions the README answers, runnable on SQLite and PostgreSQL.

Each takes named parameters (dates as ``YYYY-MM-DD`` strings); ``run_query`` fills the defaults.
Free SQL (``urdu-etl query --sql``) runs through ``read_only_engine`` and ``run_read_only``: one
statement that reads, on a connection that cannot write.
"""

from __future__ import annotations

import re
import sqlite3
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from etl.errors import WarehouseError


@dataclass(frozen=True)
class Query:
    description: str
    sql: str
    defaults: dict = field(default_factory=dict)


_RANGE = {"start": "1990-01-01", "end": "2999-12-31"}

QUERIES: dict[str, Query] = {
    "articles_per_source_day": Query(
        "Articles per source per day, with how many are copies of another article and how many are flagged",
        "SELECT ingest_date, source, articles, originals, copies, flagged, words FROM articles_per_source_day "
        "WHERE ingest_date BETWEEN :start AND :end ORDER BY ingest_date, source",
        _RANGE,
    ),
    "top_entities": Query(
        "The people, places and organizations named in the most articles published in a date range",
        "SELECT entity_name, entity_type, COUNT(DISTINCT article_id) AS articles, SUM(mentions) AS mentions "
        "FROM entity_articles WHERE published_date BETWEEN :start AND :end "
        "GROUP BY entity_name, entity_type ORDER BY articles DESC, mentions DESC, entity_name LIMIT :limit",
        {**_RANGE, "limit": 20},
    ),
    "entity_comentions": Query(
        "Pairs of entities named together in the most articles",
        "SELECT entity_a, entity_b, articles FROM entity_comentions "
        "ORDER BY articles DESC, entity_a, entity_b LIMIT :limit",
        {"limit": 20},
    ),
    "dateline_cities": Query(
        "Cities the news was filed from, by number of articles",
        "SELECT dateline_city, articles, sources, first_date, last_date FROM dateline_cities "
        "ORDER BY articles DESC, dateline_city LIMIT :limit",
        {"limit": 20},
    ),
    "duplicate_clusters": Query(
        "Stories copied across articles and sites: each cluster's canonical article and its copies",
        "SELECT canonical_id, canonical_source, canonical_site, canonical_url, copies, exact_copies, "
        "copy_sources, copy_sites, min_similarity FROM duplicate_clusters "
        "ORDER BY copies DESC, canonical_id LIMIT :limit",
        {"limit": 20},
    ),
}


def run_query(conn: sa.Connection, name: str, **params) -> tuple[list[str], list[tuple]]:
    """Run the named query; returns its column names and rows."""
    query = QUERIES[name]
    result = conn.execute(sa.text(query.sql), {**query.defaults, **params})
    return list(result.keys()), [tuple(r) for r in result]


# --- read-only SQL (``urdu-etl query --sql``) -------------------------------------------------

#: What a read-only statement may start with.
_FIRST_WORDS = {
    "postgresql": {"select", "with", "values", "table", "explain", "show"},
    "sqlite": {"select", "with", "values", "explain", "pragma"},
}

#: Functions a read-only query may not call, though a read-only transaction lets them run: they
#: read or write server files, run SQL given as text, signal other sessions, take locks, change
#: settings, or load code. The database role is the real guard on PostgreSQL (give the query a
#: role that may only SELECT); this list keeps a superuser's query from doing the worst.
_DENIED_FUNCTIONS = {
    "postgresql": re.compile(
        r"pg_read_file|pg_read_binary_file|pg_stat_file|pg_ls_\w+|pg_file_\w+|pg_logdir_ls|lo_\w+|lowrite|loread|"
        r"pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_switch_wal|pg_promote|"
        r"pg_create_restore_point|pg_log_backend_memory_contexts|pg_stat_reset\w*|pg_(?:try_)?advisory\w*|"
        r"set_config|pg_notify|dblink\w*|query_to_xml\w*|cursor_to_xml\w*|\w*_to_xml(?:schema)?|"
        r"pg_(?:create|drop|copy)_\w*replication_slot|pg_replication_\w+|pg_logical_\w+|pg_(?:start|stop)_backup|"
        r"pg_backup_\w+|pg_import_system_collations|nextval|setval|txid_current\w*|pg_current_xact_id\w*"
    ),
    "sqlite": re.compile(r"load_extension|fts3_tokenizer|readfile|writefile|edit|sqlite_dbpage|fts5_\w+"),
}

#: SQLite pragmas a query may read: with an argument naming a table or index, or with none.
_SQLITE_PRAGMAS_WITH_ARGUMENT = {
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
}
_SQLITE_PRAGMAS_READ = _SQLITE_PRAGMAS_WITH_ARGUMENT | {
    "database_list", "collation_list", "function_list", "module_list", "pragma_list", "compile_options",
    "user_version", "schema_version", "application_id", "page_size", "page_count", "freelist_count", "encoding",
    "data_version", "integrity_check", "quick_check", "foreign_key_check", "read_uncommitted",
}  # fmt: skip

_WORD = re.compile(r"[^\W\d]\w*|\d\w*", re.UNICODE)


def _statements(sql: str, dialect: str) -> list[list[str]]:
    """The statements of ``sql`` as lists of tokens, by a tokenizer that knows the dialect's
    comments, string literals and quoted identifiers (a ``;`` or a word inside one is no token of
    its own). Words and identifiers are lower-cased; string literals are left out."""
    pg = dialect == "postgresql"
    statements: list[list[str]] = [[]]
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if pg and sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "'":
            backslash = pg and i > 0 and sql[i - 1] in "eE" and (i < 2 or not sql[i - 2].isalnum())
            i += 1
            while i < n:
                if backslash and sql[i] == "\\":
                    i += 2
                elif sql[i] == "'":
                    if sql.startswith("''", i):
                        i += 2
                    else:
                        break
                else:
                    i += 1
            i += 1
        elif c in '"`[':
            close = "]" if c == "[" else c
            if pg and c in "`[":
                statements[-1].append(c)
                i += 1
                continue
            if pg and i >= 2 and sql[i - 2 : i].lower() == "u&":
                raise ValueError('U&"…" identifiers are not accepted in a read-only query')
            j, name = i + 1, []
            while j < n:
                if sql[j] == close:
                    if close != "]" and sql.startswith(close * 2, j):
                        name.append(close)
                        j += 2
                        continue
                    break
                name.append(sql[j])
                j += 1
            statements[-1].append("".join(name).lower())
            i = j + 1
        elif pg and c == "$" and (m := re.match(r"\$([^\W\d]\w*)?\$", sql[i:])):
            end = sql.find(m.group(0), i + len(m.group(0)))
            i = n if end < 0 else end + len(m.group(0))
        elif c == ";":
            statements.append([])
            i += 1
        elif m := _WORD.match(sql, i):
            statements[-1].append(m.group(0).lower())
            i = m.end()
        else:
            statements[-1].append(c)
            i += 1
    return [s for s in statements if s]


def check_read_only(sql: str, dialect: str) -> None:
    """Refuse ``sql`` unless it is one statement that reads: a ``WarehouseError`` saying why, in one line.

    One statement only (``COMMIT; CREATE TABLE …`` would end the read-only transaction and write),
    starting with a reading word (``SELECT``, ``WITH``, ``VALUES``, ``EXPLAIN``; ``TABLE`` and
    ``SHOW`` on PostgreSQL; a ``PRAGMA`` that reads on SQLite), and calling none of
    ``_DENIED_FUNCTIONS``. The database enforces read-only too (``read_only_engine``): this check
    gives a clear message, and catches what a read-only transaction still allows.
    """
    try:
        statements = _statements(sql, dialect)
    except ValueError as exc:
        raise WarehouseError(f"query refused: {exc}") from None
    if not statements:
        raise WarehouseError("query refused: --sql holds no statement")
    if len(statements) > 1:
        raise WarehouseError(f"query refused: --sql holds {len(statements)} statements; give exactly one")
    words = statements[0]
    first = next((w for w in words if w != "("), "")
    if first not in _FIRST_WORDS[dialect]:
        allowed = ", ".join(sorted(w.upper() for w in _FIRST_WORDS[dialect]))
        raise WarehouseError(f"query refused: a read-only query starts with {allowed}, not {first.upper()!r}")
    if first == "pragma" and ("=" in words or (len(words) > 1 and words[1] not in _SQLITE_PRAGMAS_READ)):
        raise WarehouseError("query refused: only pragmas that read the schema are allowed")
    denied = _DENIED_FUNCTIONS[dialect]
    for word, after in zip(words, words[1:]):
        if after == "(" and denied.fullmatch(word):
            raise WarehouseError(f"query refused: function {word}() is not allowed in a read-only query")


def _sqlite_authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    """Allow what reads (SELECT, reading a column, a function call, a recursive CTE, a pragma that
    reads); deny everything else, ATTACH and DETACH among it."""
    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if _DENIED_FUNCTIONS["sqlite"].fullmatch((arg2 or "").lower()) else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in _SQLITE_PRAGMAS_WITH_ARGUMENT or (name in _SQLITE_PRAGMAS_READ and arg2 is None):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def read_only_engine(url: str) -> sa.Engine:
    """An engine that can only read the warehouse at ``url`` (SQLite or PostgreSQL).

    SQLite: the file opened read-only (``mode=ro``, so nothing creates it either), with an
    authorizer that denies every action but reading (``_sqlite_authorizer``: no ATTACH of another
    file, no pragma that writes, no extension) and extension loading off. PostgreSQL: every
    transaction of the session read-only (``default_transaction_read_only``, set at connection
    and as the session's characteristic).
    """
    parsed = sa.engine.make_url(url)
    if parsed.drivername.startswith("postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
        given = parsed.query.get("options")
        given = " ".join(given) if isinstance(given, tuple) else given
        options = " ".join(filter(None, [given, "-c default_transaction_read_only=on"]))
        engine = sa.create_engine(parsed.difference_update_query(["options"]), connect_args={"options": options})

        @sa.event.listens_for(engine, "connect")
        def _read_only_session(dbapi_connection, _record) -> None:
            with dbapi_connection.cursor() as cur:
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_connection.commit()

        return engine
    if parsed.drivername.startswith("sqlite"):
        path = Path(parsed.database or "")
        if not parsed.database or parsed.database == ":memory:":
            raise WarehouseError("query: the SQLite warehouse URL names no database file")

        def connect() -> sqlite3.Connection:
            uri = f"file:{urllib.parse.quote(str(path.absolute()))}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            if hasattr(conn, "enable_load_extension"):  # absent when Python's SQLite cannot load any
                conn.enable_load_extension(False)
            conn.set_authorizer(_sqlite_authorizer)
            return conn

        return sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)
    raise WarehouseError(f"the warehouse supports PostgreSQL and SQLite, not {parsed.get_backend_name()}")


def run_read_only(conn: sa.Connection, sql: str, params: dict) -> tuple[list[str], list[tuple]]:
    """Run one read-only statement (``check_read_only`` first). On PostgreSQL it goes as a prepared
    statement (the extended protocol), which the server refuses to hold more than one statement."""
    dialect = conn.dialect.name
    check_read_only(sql, dialect)
    if dialect != "postgresql":
        result = conn.execute(sa.text(sql), params)
        return (list(result.keys()), [tuple(r) for r in result]) if result.returns_rows else ([], [])
    compiled = sa.text(sql).compile(dialect=conn.dialect)
    values = compiled.construct_params(params)
    driver = conn.connection.driver_connection
    assert driver is not None  # None only for a closed pool connection
    try:
        with driver.cursor() as cur:
            cur.execute(compiled.string, values, prepare=True)
            if cur.description is None:
                return [], []
            return [d.name for d in cur.description], [tuple(r) for r in cur.fetchall()]
    except driver.Error as exc:  # reported like any other statement's error
        raise sa.exc.DBAPIError.instance(compiled.string, None, exc, type(driver).Error) from exc
