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
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import pyarrow as pa
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
) -> dict[str, int]:
    """Replace what ``day`` held for each source in ``source_rows`` with the new rows, in one transaction.

    ``source_rows[source]`` has iterables ``articles``, ``sentences``, ``rejects``, ``duplicates``,
    ``entities`` and ``mentions``, consumed once, in batches. On PostgreSQL rows travel by ``COPY``
    (articles through a temporary table, then one insert that moves no article of another day), and loads of the same day take turns
    (an advisory lock); SQLite takes multi-row inserts. Returns the row counts written per table.
    """
    names = sorted(source_rows)
    counts = dict.fromkeys(("articles", "sentences", "rejects", "duplicates", "entities", "mentions"), 0)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if pg:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK, _day_key(day))))
        in_day = sa.and_(articles.c.ingest_date == day, articles.c.source.in_(names))
        for child in (sentences, mentions):
            conn.execute(child.delete().where(child.c.article_id.in_(sa.select(articles.c.article_id).where(in_day))))
        conn.execute(articles.delete().where(in_day))
        for table in (rejects, duplicates):
            conn.execute(table.delete().where(sa.and_(table.c.ingest_date == day, table.c.source.in_(names))))
        failpoints.hit("load_deleted")
        if pg:
            conn.execute(sa.text("CREATE TEMP TABLE _load_articles (LIKE articles) ON COMMIT DROP"))
        for name in names:
            tables = source_rows[name]
            in_source = {"ingest_date": day, "source": name}
            if pg:
                counts["articles"] += _copy(conn, "_load_articles", articles, tables["articles"], in_source)
            else:
                for batch in _batches(_rows(tables["articles"], in_source)):
                    _insert_articles(conn, day, batch)
                    counts["articles"] += len(batch)
            for batch in _batches(_rows(tables.get("entities", ()), {})):
                stmt = _insert(engine, entities).on_conflict_do_nothing(index_elements=[entities.c.entity_id])
                conn.execute(stmt, batch)
                counts["entities"] += len(batch)
        if pg:
            # never moves an article another day holds: a conflict leaves it where it is, and fails
            inserted = conn.execute(
                sa.text(
                    f"INSERT INTO articles ({_columns()}) SELECT {_columns()} FROM _load_articles "
                    f"ON CONFLICT (article_id) DO NOTHING"
                )
            ).rowcount
            if inserted != counts["articles"]:
                held = conn.execute(
                    sa.text(
                        "SELECT t.article_id, t.source, a.ingest_date FROM _load_articles t "
                        "JOIN articles a USING (article_id) ORDER BY t.article_id LIMIT 3"
                    )
                ).all()
                raise _held_elsewhere(day, [tuple(r) for r in held])
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
                    for batch in _batches(_rows(tables.get(key, ()), extra)):
                        conn.execute(table.insert(), batch)
                        counts[key] += len(batch)
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


def _day_key(day: dt.date) -> int:
    """The second half of the advisory-lock key that makes loads of one day take turns."""
    return day.toordinal()


def _columns() -> str:
    return ", ".join(f'"{c.name}"' for c in articles.c)


def _insert_articles(conn: sa.Connection, day: dt.date, batch: list[dict]) -> None:
    """Insert a batch of the day's articles (its old ones are deleted); one another day holds is
    never moved: the load fails instead (``_held_elsewhere``)."""
    ids = [a["article_id"] for a in batch]
    held = conn.execute(
        sa.select(articles.c.article_id, articles.c.source, articles.c.ingest_date)
        .where(articles.c.article_id.in_(ids))
        .order_by(articles.c.article_id)
        .limit(3)
    ).all()
    if held:
        raise _held_elsewhere(day, [tuple(r) for r in held])
    conn.execute(articles.insert(), batch)


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
