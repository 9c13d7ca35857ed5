"""Where the warehouse is: ``URDU_ETL_WAREHOUSE_URL``, else the Airflow connection ``urdu_warehouse``,
else SQLite in the data dir; and the URL as logs and summaries show it (without its password)."""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import parse_qsl, unquote, urlsplit

import sqlalchemy as sa

from etl.errors import WarehouseError
from etl.settings import Settings

CONN_ID = "urdu_warehouse"


def resolve_url(settings: Settings, conn_id: str = CONN_ID) -> str:
    """The warehouse URL: ``settings.warehouse_url`` (``URDU_ETL_WAREHOUSE_URL``), else the Airflow
    connection ``conn_id``, else SQLite in the data dir.

    SQLite is the fallback only when the connection is not defined. A connection that cannot be
    read (a secrets backend that fails, a value that does not parse) is a ``WarehouseError``: a
    night of production data must not go quietly into a local file.
    """
    if settings.warehouse_url:
        return settings.warehouse_url
    url = url_from_airflow_connection(conn_id)
    return url if url is not None else settings.default_warehouse_url


def url_from_airflow_connection(conn_id: str) -> str | None:
    """SQLAlchemy URL of an Airflow connection, or ``None`` when it is not defined.

    The ``AIRFLOW_CONN_<ID>`` variable is read directly (so the command line in a container finds
    it too). Inside Airflow, the configured secrets backends are asked in Airflow's order. Airflow's
    own ``Connection.get`` takes a backend that fails for one that has no such connection; here a
    failing backend is an error.
    """
    env = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if env:
        try:
            return _url_from_conn_value(env)
        except ValueError as exc:
            raise WarehouseError(f"AIRFLOW_CONN_{conn_id.upper()} is not a connection URI or JSON: {exc}") from None
    if "airflow.sdk" not in sys.modules:
        return None  # not running under Airflow: no other place to look
    conn = _airflow_connection(conn_id)
    if conn is None:
        return None
    return _url_from_parts(conn.conn_type, conn.host, conn.login, conn.password, conn.port, conn.schema,
                           conn.extra_dejson or {})


def _airflow_connection(conn_id: str):
    """The connection from the first secrets backend that has it; None when none has it."""
    try:
        from airflow.sdk.execution_time.supervisor import ensure_secrets_backend_loaded
    except ImportError:  # another Airflow layout: its own lookup, which tells only "not defined"
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
        try:
            return Connection.get(conn_id)
        except AirflowNotFoundException:
            return None
        except Exception as exc:
            raise WarehouseError(f"could not read the Airflow connection {conn_id}: {type(exc).__name__}: {exc}") from exc
    for backend in ensure_secrets_backend_loaded():
        try:
            conn = backend.get_connection(conn_id=conn_id)
        except Exception as exc:
            raise WarehouseError(f"could not read the Airflow connection {conn_id} from the secrets backend "
                                 f"{type(backend).__name__}: {type(exc).__name__}: {exc}; not falling back to "
                                 f"SQLite") from exc
        if conn is not None:
            return conn
    return None


def _url_from_conn_value(value: str) -> str | None:
    """An ``AIRFLOW_CONN_*`` value (a URI or Airflow's JSON form) as a SQLAlchemy URL."""
    if value.lstrip().startswith("{"):
        d = json.loads(value)
        return _url_from_parts(d.get("conn_type"), d.get("host"), d.get("login"), d.get("password"),
                               d.get("port"), d.get("schema"), d.get("extra") or {})
    parsed = urlsplit(value)
    extra = dict(parse_qsl(parsed.query))
    return _url_from_parts(parsed.scheme.replace("-", "_"), unquote(parsed.hostname or ""),
                           unquote(parsed.username or "") or None, unquote(parsed.password or "") or None,
                           parsed.port, unquote(parsed.path.lstrip("/")) or None, extra)


def _url_from_parts(conn_type, host, login, password, port, schema, extra) -> str | None:
    if isinstance(extra, str):
        extra = json.loads(extra or "{}")
    if extra.get("sqlalchemy_url"):
        return extra["sqlalchemy_url"]
    if conn_type in ("postgres", "postgresql"):
        return sa.URL.create("postgresql+psycopg", username=login, password=password, host=host, port=port,
                             database=schema).render_as_string(hide_password=False)
    if conn_type == "sqlite":
        return f"sqlite:///{host}"
    return None


def url_for_display(url: str) -> str:
    """A warehouse URL without its password, for logs and summaries."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"
