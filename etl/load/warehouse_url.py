"""Where the warehouse is: ``URDU_ETL_WAREHOUSE_URL``, else the Airflow connection ``urdu_warehouse``,
else SQLite in the data dir; and the URL as logs and summaries show it (without its password)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import sqlalchemy as sa

from etl.airflow_connections import airflow_connection, from_execution_api
from etl.errors import ConfigError, WarehouseError, WarehouseUnavailable
from etl.settings import Settings

CONN_ID = "urdu_warehouse"


#: What a failed connection lookup means for the warehouse.
NO_FALLBACK = "; not falling back to SQLite"


def resolve_url(settings: Settings, conn_id: str | None = CONN_ID) -> str:
    """The warehouse URL: ``settings.warehouse_url`` (``URDU_ETL_WAREHOUSE_URL``), else the Airflow
    connection ``conn_id`` (``None``: do not look), else SQLite in the data dir.

    SQLite is the fallback only when the connection is not defined. A connection that cannot be
    read is a ``WarehouseUnavailable`` (a secrets backend or the API server that fails: it may pass,
    and Airflow retries the task), one that is defined but names no database this pipeline loads is
    a ``WarehouseError``: a night of production data must not go quietly into a local file.
    """
    if settings.warehouse_url:
        return settings.warehouse_url
    url = url_from_airflow_connection(conn_id) if conn_id else None
    return url if url is not None else settings.default_warehouse_url


def checked_url(settings: Settings, conn_id: str | None = CONN_ID, flag: str | None = None) -> str:
    """``resolve_url``, checked before any work (``check_url``); errors name where the URL came from:
    ``flag`` (the command line's ``--warehouse``), ``URDU_ETL_WAREHOUSE_URL`` or the Airflow connection."""
    if settings.warehouse_url is not None and not settings.warehouse_url.strip():
        raise ConfigError(f"{flag or 'URDU_ETL_WAREHOUSE_URL'}: the warehouse URL is empty")
    url = resolve_url(settings, conn_id)
    if settings.warehouse_url:
        where = flag or "URDU_ETL_WAREHOUSE_URL"
    elif url == settings.default_warehouse_url:
        where = "the default warehouse (URDU_ETL_DATA_DIR)"
    else:
        where = f"the Airflow connection {conn_id} (AIRFLOW_CONN_{str(conn_id).upper()})"
    return check_url(url, where)


def check_url(url: str, where: str = "warehouse URL") -> str:
    """``url`` when it names a warehouse this pipeline can load, else a one-line ``ConfigError``: a URL
    that does not parse, a database other than PostgreSQL or SQLite, a driver that is not installed
    or is async, an SQLite file that is a folder or an in-memory database. Nothing is connected to."""
    shown, given = url_for_display(url), url
    if url.startswith(("postgresql://", "postgres://")):  # as ``warehouse.engine_for`` reads them
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        parsed = sa.make_url(url)
    except Exception as exc:  # an ArgumentError, or a ValueError for a port that is not a number
        raise ConfigError(
            f"{where}: {shown} is not a database URL such as postgresql+psycopg://user@host/db ({_one_line(exc)})"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise ConfigError(f"{where}: the warehouse is PostgreSQL or SQLite, not {backend} ({shown})")
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except Exception as exc:  # NoSuchModuleError for an unknown driver, ImportError for one not installed
        raise ConfigError(
            f"{where}: driver {parsed.get_driver_name()!r} cannot be used ({shown}): {_one_line(exc)}"
        ) from None
    if getattr(dialect, "is_async", False):
        raise ConfigError(f"{where}: {parsed.drivername} is an async driver; use postgresql+psycopg ({shown})")
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise ConfigError(f"{where}: {shown} is an in-memory database; name a file: sqlite:////path/warehouse.db")
        path = Path(database.removeprefix("file:").split("?", 1)[0])
        if path.is_dir():
            raise ConfigError(f"{where}: the SQLite database {path} is a folder")
        parent = next((p for p in path.absolute().parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise ConfigError(f"{where}: the SQLite database {path} lies under {parent}, which is a file")
    return given


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def url_from_airflow_connection(conn_id: str) -> str | None:
    """SQLAlchemy URL of an Airflow connection, or ``None`` when it is not defined.

    The ``AIRFLOW_CONN_<ID>`` variable is read directly (so the command line in a container finds
    it too). Inside Airflow, the configured secrets backends are asked in Airflow's order. Airflow's
    own ``Connection.get`` takes a backend that fails, or an Execution API that does not answer, for
    one that has no such connection; here either is an error.
    """
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    value = os.environ.get(variable)
    if value:
        try:
            return _url_from_conn_value(value, variable)
        except (ValueError, TypeError, AttributeError) as exc:
            raise WarehouseError(f"{variable} is not a connection URI or JSON: {exc}") from None
    if "airflow.sdk" not in sys.modules:
        return None  # not running under Airflow: no other place to look
    conn = _airflow_connection(conn_id)
    if conn is None:
        return None
    try:
        extra = conn.extra_dejson or {}
    except Exception as exc:
        raise WarehouseError(f"the extra of the Airflow connection {conn_id} is not JSON: {exc}") from None
    return _url_from_parts(
        conn.conn_type,
        conn.host,
        conn.login,
        conn.password,
        conn.port,
        conn.schema,
        extra,
        f"the Airflow connection {conn_id}",
    )


def _airflow_connection(conn_id: str):
    """The connection from the first secrets backend that has it; None when none has it."""
    return airflow_connection(conn_id, WarehouseUnavailable, NO_FALLBACK)


def _from_execution_api(conn_id: str):
    """The connection as the API server gives it to a task; None only when it answers "not found"."""
    return from_execution_api(conn_id, WarehouseUnavailable, NO_FALLBACK)


def _url_from_conn_value(value: str, where: str) -> str:
    """An ``AIRFLOW_CONN_*`` value (a URI or Airflow's JSON form) as a SQLAlchemy URL."""
    if value.lstrip().startswith("{"):
        d = json.loads(value)
        return _url_from_parts(
            d.get("conn_type"),
            d.get("host"),
            d.get("login"),
            d.get("password"),
            d.get("port"),
            d.get("schema"),
            d.get("extra") or {},
            where,
        )
    parsed = urlsplit(value)
    extra = dict(parse_qsl(parsed.query))
    return _url_from_parts(
        parsed.scheme.replace("-", "_"),
        unquote(parsed.hostname or ""),
        unquote(parsed.username or "") or None,
        unquote(parsed.password or "") or None,
        parsed.port,
        unquote(parsed.path.lstrip("/")) or None,
        extra,
        where,
    )


def _url_from_parts(conn_type, host, login, password, port, schema, extra, where: str) -> str:
    """A connection's parts as a SQLAlchemy URL; a connection of another kind is an error, never "not defined"."""
    if isinstance(extra, str):
        extra = json.loads(extra or "{}")
    if not isinstance(extra, dict):
        raise WarehouseError(f"{where}: its extra must be a JSON object, not {type(extra).__name__}")
    if extra.get("sqlalchemy_url"):
        return extra["sqlalchemy_url"]
    if conn_type in ("postgres", "postgresql") or str(conn_type or "").startswith("postgresql+"):
        return sa.URL.create(
            "postgresql+psycopg", username=login, password=password, host=host, port=port, database=schema
        ).render_as_string(hide_password=False)
    if conn_type == "sqlite":
        return f"sqlite:///{host}"
    raise WarehouseError(
        f"{where} is of type {conn_type!r}: the warehouse is PostgreSQL (a postgres connection) "
        f"or any database in the extra's sqlalchemy_url"
    )


def url_for_display(url: str) -> str:
    """A warehouse URL without its password, for logs and summaries."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"
