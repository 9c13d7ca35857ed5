"""The SQL warehouse, through SQLAlchemy Core: SQLite by default, PostgreSQL in production.

One load is one transaction: the rows the run's (day, source) partitions held before are
deleted and the new ones inserted, so a re-run never duplicates a row and a failed load leaves
the previous state untouched. An article is filed under one day (the lake decides which:
``etl.dedup.other_days``); a load never moves an article another day holds, and refuses, with an
``InvariantError``, a day whose lake holds one (two runs of different days that wrote the same
article at the same moment: a re-run of the day files it as a duplicate).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import itertools
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from etl import failpoints, schema
from etl.errors import InvariantError, WarehouseError, WarehouseUnavailable
from etl.load.views import create_views
from etl.load.warehouse_url import url_for_display

_BATCH = 2000

metadata = sa.MetaData()

_SQL_TYPES: dict[str, Callable[[], sa.types.TypeEngine]] = {
    "text": sa.Text,
    "integer": sa.Integer,
    "bigint": sa.BigInteger,
    "float": sa.Float,
    "date": sa.Date,
    "timestamp with time zone": lambda: sa.DateTime(timezone=True),
}
_VARCHAR = re.compile(r"varchar\((\d+)\)")


def _sql_type(name: str) -> sa.types.TypeEngine:
    """The SQLAlchemy type of a warehouse type as ``etl.schema`` names it."""
    m = _VARCHAR.fullmatch(name)
    return sa.String(int(m.group(1))) if m else _SQL_TYPES[name]()


def _table(spec: schema.Table) -> sa.Table:
    """The warehouse table of a table of ``etl.schema``: its columns, key and indexes."""
    columns = [
        sa.Column(c.name, _sql_type(c.sql_type), primary_key=c.key, nullable=c.warehouse_nullable)
        for c in spec.warehouse_columns
    ]
    indexes = [sa.Index(name, *cols) for name, cols in spec.indexes]
    return sa.Table(spec.name, metadata, *columns, *indexes)


#: The warehouse tables, built from ``etl.schema`` (the lake's tables but ``signatures``, and the
#: run metadata: ``sources``, ``runs``, ``dumps``).
TABLES = {name: _table(spec) for name, spec in schema.ALL.items() if spec.warehouse}
articles, sentences, rejects, duplicates = (TABLES[n] for n in ("articles", "sentences", "rejects", "duplicates"))
mentions, entities, sources, runs, dumps = (TABLES[n] for n in ("mentions", "entities", "sources", "runs", "dumps"))


# Key of the PostgreSQL advisory lock that serialises table creation between runs starting at once.
_SCHEMA_LOCK = 0x75726475  # "urdu"

#: How long a SQLite connection waits for another process's write lock before it gives up
#: ("database is locked"): a run waits for a concurrent load of another day instead of failing.
SQLITE_BUSY_SECONDS = 600.0


def _create_tables(engine: sa.Engine) -> None:
    """Create the missing warehouse tables and (re)create the views; safe when several runs start against an empty database at once.

    Creation, upgrade and views run in one transaction that holds the database's write lock from
    its start, so a second run waits, then finds the tables there. On PostgreSQL two concurrent
    ``CREATE TABLE`` of the same name collide in the catalog (``pg_type_typname_nsp_index``): an
    advisory lock makes them take turns. On SQLite every transaction of the pipeline's engine
    begins ``IMMEDIATE`` (``_sqlite_immediate``), which takes the write lock at once.
    """
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
        metadata.create_all(conn)
        _upgrade(conn)
        create_views(conn)


def _sqlite_immediate(engine: sa.Engine) -> None:
    """Make every transaction on a SQLite ``engine`` begin with ``BEGIN IMMEDIATE``.

    pysqlite by default opens a transaction only before an INSERT, UPDATE or DELETE, so a check
    for a table and its ``CREATE TABLE`` run outside any transaction and two processes both create
    it ("table ... already exists"); and a transaction that reads first and writes later cannot wait
    for the write lock (SQLite refuses the upgrade at once). Here the driver's own transaction
    handling is off and each transaction takes the write lock when it begins, waiting up to
    ``SQLITE_BUSY_SECONDS`` for another process's (the recipe of SQLAlchemy's pysqlite
    documentation, "Serializable isolation / Savepoints / Transactional DDL").
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN/COMMIT by the driver
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_SECONDS * 1000)}")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def engine_for(url: str) -> sa.Engine:
    """An engine for ``url``, with the warehouse tables and views created when missing and checked when present.

    A warehouse made by an older version gains the nullable columns it lacks (``ALTER TABLE …
    ADD COLUMN``); a missing required column is an error, since old rows have no value for it.
    """
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        folder = Path(url[len("sqlite:///") :].split("?", 1)[0]).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(
                f"warehouse {url_for_display(url)}: cannot create its folder {folder}: {exc}"
            ) from None
    engine = sa.create_engine(url)
    if engine.dialect.name not in ("postgresql", "sqlite"):
        raise WarehouseError(f"the warehouse supports PostgreSQL and SQLite, not {engine.dialect.name}")
    if engine.dialect.name == "sqlite":
        _sqlite_immediate(engine)
    try:
        _create_tables(engine)
    except WarehouseError:
        engine.dispose()
        raise
    return engine


#: Database errors that may pass: no answer, a dropped connection, a lock, a deadlock, a server
#: starting or stopping. PostgreSQL says so by SQLSTATE class; SQLite and a failed connect only in words.
_TRANSIENT_SQLSTATES = ("08", "53", "57P", "40001", "40P01", "55P03")
_TRANSIENT = re.compile(
    r"database is locked|database table is locked|busy|deadlock|could not connect|connection "
    r"refused|connection reset|connection timed out|server closed the connection|terminating "
    r"connection|too many clients|the database system is (?:starting up|shutting down)|timeout|"
    r"timed out|name resolution|no route to host|network is unreachable|ssl syscall",
    re.I,
)


def as_warehouse_error(exc: sa.exc.SQLAlchemyError, url: str) -> WarehouseError:
    """A database error as the pipeline reports it: ``WarehouseUnavailable`` when it may pass, else
    ``WarehouseError``, in one line that names the warehouse (without its password)."""
    first = str(exc).splitlines()
    message = f"warehouse {url_for_display(url)}: {type(exc).__name__}: {first[0] if first else ''}"
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    transient = (
        isinstance(exc, sa.exc.DisconnectionError)
        or getattr(exc, "connection_invalidated", False)
        or sqlstate.startswith(_TRANSIENT_SQLSTATES)
        or (isinstance(exc, sa.exc.OperationalError) and _TRANSIENT.search(str(exc)) is not None)
    )
    return WarehouseUnavailable(message) if transient else WarehouseError(message)


@contextlib.contextmanager
def opened(url: str) -> Iterator[sa.Engine]:
    """``engine_for(url)`` for the duration of a block, disposed after; a database error in it is
    raised as ``as_warehouse_error`` makes it."""
    try:
        engine = engine_for(url)
    except sa.exc.SQLAlchemyError as exc:
        raise as_warehouse_error(exc, url) from exc
    try:
        yield engine
    except sa.exc.SQLAlchemyError as exc:
        raise as_warehouse_error(exc, url) from exc
    finally:
        engine.dispose()


def _upgrade(conn: sa.Connection) -> None:
    """Add the nullable columns an older warehouse lacks; refuse when a required one is missing."""
    inspector = sa.inspect(conn)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c for c in table.columns if c.name not in present]
        required = [c.name for c in missing if not c.nullable]
        if required:
            raise WarehouseError(
                f"warehouse table {table.name} lacks column(s) {', '.join(required)}: it was "
                f"created by an older version of this pipeline; add them or load into a new database"
            )
        for column in missing:
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(conn)


def _insert(engine: sa.Engine, table: sa.Table):
    return postgresql.insert(table) if engine.dialect.name == "postgresql" else sqlite.insert(table)


def _batches(rows: Iterable[dict], size: int = _BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def load_run(
    engine: sa.Engine,
    day: dt.date,
    source_rows: Mapping[str, Mapping[str, Iterable[dict | pa.RecordBatch]]],
    run: dict,
    dump_rows: list[dict],
    source_rows_meta: list[dict],
    expected: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Replace what ``day`` held for each source in ``source_rows`` with the new rows, in one transaction.

    ``source_rows[source]`` has iterables ``articles``, ``sentences``, ``rejects``, ``duplicates``,
    ``entities`` and ``mentions``, consumed once, a batch at a time. On PostgreSQL rows travel by
    ``COPY`` straight into the tables (articles a batch at a time, each in a savepoint, so that an
    article of another day, which the key refuses, is named: ``_copy_articles``), and loads of
    the same day take turns (an advisory lock); on SQLite by prepared inserts of whole batches
    through the driver (``_sqlite_insert``), with load-time pragmas (``_sqlite_pragmas``).

    ``expected`` (rows about to be loaded per table, all sources together; the lake's counts) lets a
    big load drop a table's secondary indexes and build them after the rows (``_drop_indexes``):
    when the day brings at least as many rows as the table keeps of other days. Without it only an
    empty table has its indexes built after the rows. Returns the row counts written per table.
    """
    names = sorted(source_rows)
    counts = dict.fromkeys(("articles", "sentences", "rejects", "duplicates", "entities", "mentions"), 0)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn, _sqlite_pragmas(conn):
        if pg:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK, _day_key(day))))
        in_day = sa.and_(articles.c.ingest_date == day, articles.c.source.in_(names))
        for child in (sentences, mentions):
            conn.execute(child.delete().where(child.c.article_id.in_(sa.select(articles.c.article_id).where(in_day))))
        conn.execute(articles.delete().where(in_day))
        for table in (rejects, duplicates):
            conn.execute(table.delete().where(sa.and_(table.c.ingest_date == day, table.c.source.in_(names))))
        failpoints.hit("load_deleted")
        rebuilt = [] if pg else _drop_indexes(conn, expected or {})
        for name in names:
            tables = source_rows[name]
            in_source = {"ingest_date": day, "source": name}
            if pg:
                counts["articles"] += _copy_articles(conn, day, tables["articles"], in_source)
                for batch in _batches(_rows(tables.get("entities", ()), {})):
                    stmt = _insert(engine, entities).on_conflict_do_nothing(index_elements=[entities.c.entity_id])
                    conn.execute(stmt, batch)
                    counts["entities"] += len(batch)
            else:
                counts["articles"] += _sqlite_insert(
                    conn,
                    articles,
                    tables["articles"],
                    in_source,
                    check=functools.partial(_check_articles, conn, day, loading=name),
                )
                counts["entities"] += _sqlite_insert(
                    conn, entities, tables.get("entities", ()), {}, suffix=" ON CONFLICT (entity_id) DO NOTHING"
                )
        for name in names:
            tables = source_rows[name]
            for key, table in (
                ("sentences", sentences),
                ("mentions", mentions),
                ("rejects", rejects),
                ("duplicates", duplicates),
            ):
                extra = {} if key in ("sentences", "mentions") else {"ingest_date": day, "source": name}
                if pg:
                    counts[key] += _copy(conn, table.name, table, tables.get(key, ()), extra)
                else:
                    counts[key] += _sqlite_insert(conn, table, tables.get(key, ()), extra)
        for index in rebuilt:
            index.create(conn)
        for meta in source_rows_meta:
            stmt = _insert(engine, sources)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[sources.c.name],
                    set_={c.name: stmt.excluded[c.name] for c in sources.c if c.name != "name"},
                ),
                meta,
            )
        stmt = _insert(engine, runs)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[runs.c.run_id],
                set_={c.name: stmt.excluded[c.name] for c in runs.c if c.name != "run_id"},
            ),
            run,
        )
        conn.execute(dumps.delete().where(dumps.c.run_id == run["run_id"]))
        if dump_rows:
            conn.execute(dumps.insert(), dump_rows)
    failpoints.hit("loaded")
    return counts


#: SQLite page cache during a load, in KiB (the pragma's negative form): the pages of the tables'
#: keys that the inserts touch stay in memory instead of being read back. Memory, not durability:
#: a fixed bound whatever the day's size.
SQLITE_LOAD_CACHE_KIB = 65536


@contextlib.contextmanager
def _sqlite_pragmas(conn: sa.Connection) -> Iterator[None]:
    """Load-time pragmas on SQLite, put back after: a larger page cache (``SQLITE_LOAD_CACHE_KIB``).

    Nothing that weakens the file on a crash: the journal (``journal_mode``) and its syncs
    (``synchronous``) stay as they are, since the load is one transaction whose atomicity rests on
    the rollback journal, and that transaction syncs a fixed few times whatever its size, so
    turning syncs off would save next to nothing. ``temp_store`` stays on disk: the sorts that
    build indexes after the rows then spill to a file instead of growing the process with the day.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        with contextlib.suppress(sa.exc.SQLAlchemyError):  # a connection already broken keeps its error
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def _drop_indexes(conn: sa.Connection, expected: Mapping[str, int]) -> list[sa.Index]:
    """Drop the secondary indexes of the tables this load will at least double (or fill from
    empty), within the load's transaction; returns them, to be built again after the rows (one
    sort instead of an index insertion per row). A table that keeps many more rows of other days
    keeps its indexes: rebuilding them would cost more than maintaining them."""
    dropped: list[sa.Index] = []
    for table in (articles, mentions):
        if not table.indexes:
            continue
        # max(rowid) is a bound on the rows kept, found in the table's b-tree without a scan
        kept = conn.exec_driver_sql(f"SELECT max(rowid) FROM {table.name}").scalar() or 0
        if kept and expected.get(table.name, 0) < kept:
            continue
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')
            dropped.append(index)
    return dropped


def _copy_articles(conn: sa.Connection, day: dt.date, items: Iterable[dict | pa.RecordBatch], extra: dict) -> int:
    """``COPY`` the day's articles straight into ``articles`` on PostgreSQL, a batch at a time, each
    in a savepoint. The primary key refuses an article another day holds; the savepoint keeps the
    transaction usable after that refusal, so that ``_check_articles`` can name the article and its
    day (an article another day holds is never moved)."""
    n = 0
    for chunk in _chunks(items):
        rows: list = [chunk] if isinstance(chunk, pa.RecordBatch) else chunk
        try:
            with conn.begin_nested():
                n += _copy(conn, "articles", articles, rows, extra)
        except sa.exc.IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) == "23505":  # unique_violation
                if isinstance(chunk, pa.RecordBatch):
                    ids = chunk.column("article_id").to_pylist()
                else:
                    ids = [row.get("article_id") for row in chunk]
                _check_articles(conn, day, [i for i in ids if i is not None], loading=extra.get("source"))
            raise
    return n


def _check_articles(conn: sa.Connection, day: dt.date, ids: list[str], loading: str | None = None) -> None:
    """Fail when the warehouse holds any of ``ids`` (under another day: the day's own were deleted):
    an article another day holds is never moved (``_held_elsewhere``). The rows this load has
    already written for source ``loading`` are not counted."""
    query = sa.select(articles.c.article_id, articles.c.source, articles.c.ingest_date)
    if loading is not None:
        query = query.where(sa.not_(sa.and_(articles.c.ingest_date == day, articles.c.source == loading)))
    held = [
        tuple(r)
        for start in range(0, len(ids), _BATCH)
        for r in conn.execute(
            query.where(articles.c.article_id.in_(ids[start : start + _BATCH])).order_by(articles.c.article_id).limit(3)
        )
    ]
    if held:
        raise _held_elsewhere(day, sorted(held)[:3])


def _sqlite_insert(
    conn: sa.Connection,
    table: sa.Table,
    items: Iterable[dict | pa.RecordBatch],
    extra: dict,
    suffix: str = "",
    check: Callable[[list[str]], None] | None = None,
) -> int:
    """Insert rows into a SQLite ``table`` with one prepared statement through the driver
    (``executemany``), in the open transaction, ``extra``'s columns set on each, absent ones NULL.

    Arrow record batches become tuples column by column (``_sqlite_values``); dicts one row at a
    time, through the column types' bind processors. When a batch breaks a key, ``check`` sees its
    ``article_id`` values and may raise the error that explains it; the key itself is the check,
    so a load into tables that hold no such article pays nothing for it. Errors are raised as
    SQLAlchemy's (``DBAPIError``), like those of any other statement."""
    names = [c.name for c in table.columns]
    dialect = conn.dialect
    procs = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns]
    statement = (
        f"INSERT INTO {table.name} ({', '.join(f'{chr(34)}{n}{chr(34)}' for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))}){suffix}"
    )
    driver = conn.connection.driver_connection
    assert driver is not None  # None only for a closed or invalidated pool connection, not conn's
    cursor = driver.cursor()
    n = 0
    for rows in _batch_tuples(items, names, procs, extra):
        try:
            cursor.executemany(statement, rows)
        except sqlite3.Error as exc:  # reported like any other statement's error
            if check is not None and isinstance(exc, sqlite3.IntegrityError):
                check([row[names.index("article_id")] for row in rows])
            raise sa.exc.DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
        n += len(rows)
    cursor.close()
    return n


def _batch_tuples(
    items: Iterable[dict | pa.RecordBatch], names: list[str], procs: list, extra: dict
) -> Iterator[list[tuple]]:
    """Rows as lists of tuples (``names`` in order), a record batch (or ``_BATCH`` dicts) at a time."""
    for chunk in _chunks(items):
        if isinstance(chunk, pa.RecordBatch):
            n = chunk.num_rows
            columns: list[Iterable] = []
            for name, proc in zip(names, procs):
                if name in extra:
                    columns.append(itertools.repeat(proc(extra[name]) if proc else extra[name], n))
                elif name in chunk.schema.names:
                    columns.append(_sqlite_values(chunk.column(name), proc))
                else:
                    columns.append(itertools.repeat(None, n))
            yield list(zip(*columns))
        else:
            rows = [{**row, **extra} for row in chunk]
            yield [tuple(proc(row.get(k)) if proc else row.get(k) for k, proc in zip(names, procs)) for row in rows]


#: Arrow's text of a timestamp in microseconds as SQLAlchemy's SQLite ``DateTime`` stores it.
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S"


def _sqlite_values(column: pa.Array, proc: Callable | None) -> list:
    """A column's values as the SQLite driver takes them, what SQLAlchemy's bind processor
    ``proc`` would make of each, converted by Arrow where it can: dates as ``YYYY-MM-DD`` and
    microsecond timestamps as ``YYYY-MM-DD HH:MM:SS.ffffff`` text (in UTC, their zone dropped, as
    SQLAlchemy writes them), floats as they are (its processor is ``float``)."""
    kind = column.type
    if proc is None or pa.types.is_floating(kind):
        return column.to_pylist()
    if pa.types.is_date32(kind):
        return column.cast(pa.string()).to_pylist()
    if pa.types.is_timestamp(kind) and kind.unit == "us" and kind.tz in (None, "UTC"):
        return pc.strftime(column, format=_SQLITE_DATETIME).to_pylist()
    return [proc(v) for v in column.to_pylist()]


def _chunks(items: Iterable[dict | pa.RecordBatch]) -> Iterator[pa.RecordBatch | list[dict]]:
    """Record batches as they come; dicts gathered ``_BATCH`` at a time."""
    pending: list[dict] = []
    for item in items:
        if isinstance(item, pa.RecordBatch):
            if pending:
                yield pending
                pending = []
            if item.num_rows:
                yield item
        else:
            pending.append(item)
            if len(pending) >= _BATCH:
                yield pending
                pending = []
    if pending:
        yield pending


def _day_key(day: dt.date) -> int:
    """The second half of the advisory-lock key that makes loads of one day take turns."""
    return day.toordinal()


def _held_elsewhere(day: dt.date, held: list[tuple]) -> InvariantError:
    which = ", ".join(f"{aid} ({source}) under {other}" for aid, source, other in held)
    return InvariantError(
        f"warehouse: the lake files article(s) {which} under {day} too, but the warehouse keeps an article "
        f"under one day and never moves it: re-run {day} so its lake files them as duplicates "
        f"(two runs of different days wrote them at the same time)"
    )


def _rows(items: Iterable[dict | pa.RecordBatch], extra: dict) -> Iterator[dict]:
    """Rows as dicts, with ``extra``'s columns set, from dicts or Arrow record batches."""
    for item in items:
        if isinstance(item, pa.RecordBatch):
            for row in item.to_pylist():
                yield {**row, **extra}
        else:
            yield {**item, **extra}


def _copy(
    conn: sa.Connection, target: str, table: sa.Table, items: Iterable[dict | pa.RecordBatch], extra: dict
) -> int:
    """Stream rows into ``target`` (columns of ``table``) with PostgreSQL ``COPY``, ``extra``'s
    columns set on each. Arrow record batches travel as CSV written by Arrow, a batch at a time,
    with no Python object per row; dicts (callers other than the pipeline) one row at a time."""
    names = [c.name for c in table.columns]
    items = iter(items)
    first = next(items, None)
    if first is None:
        return 0
    columns = ", ".join(f'"{n}"' for n in names)
    arrow = isinstance(first, pa.RecordBatch)
    statement = f"COPY {target} ({columns}) FROM STDIN" + (" (FORMAT csv)" if arrow else "")
    n = 0
    driver = conn.connection.driver_connection
    assert driver is not None  # None only for a closed or invalidated pool connection, not conn's
    items = itertools.chain([first], items)
    try:
        with driver.cursor() as cur, cur.copy(statement) as copy:
            if arrow:
                for batch in items:
                    assert isinstance(batch, pa.RecordBatch)  # all items are of the first's kind
                    copy.write(_csv(batch, names, extra))
                    n += batch.num_rows
            else:
                for row in _rows(items, extra):
                    copy.write_row([row.get(name) for name in names])
                    n += 1
    except driver.Error as exc:  # reported like any other statement's error
        raise sa.exc.DBAPIError.instance(statement, None, exc, type(driver).Error) from exc
    return n


def _csv(batch: pa.RecordBatch, names: list[str], extra: dict) -> bytes:
    """A batch as CSV for ``COPY ... (FORMAT csv)``: ``names`` in order, ``extra`` as constant
    columns, absent columns NULL. Values are quoted and NULLs are not, so an empty string stays
    one; floats go as float64, so a float32 value arrives exactly as the row-by-row path sends it."""
    n = batch.num_rows
    arrays = []
    for name in names:
        if name in extra:
            arrays.append(pa.array([extra[name]] * n))
        elif name in batch.schema.names:
            column = batch.column(name)
            arrays.append(column.cast(pa.float64()) if pa.types.is_floating(column.type) else column)
        else:
            arrays.append(pa.nulls(n))
    out = io.BytesIO()
    pa_csv.write_csv(
        pa.RecordBatch.from_arrays(arrays, names=names),
        out,
        pa_csv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    return out.getvalue()


def table_counts(engine: sa.Engine) -> dict[str, int]:
    """Row count of every warehouse table."""
    with engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables
        }


def sources_row(source, run_id: str) -> dict:
    """The ``sources`` row of a declared source, as last read by run ``run_id`` (no password)."""
    from etl.fetch.credentials import redact

    return {
        "name": source.name,
        "format": source.format,
        "url_template": redact(source.url),
        "last_run_id": run_id,
        "encoding": source.encoding,
        "columns": json.dumps(source.columns, ensure_ascii=False, sort_keys=True),
    }
