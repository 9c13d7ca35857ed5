"""Airflow UI view of the Urdu news ETL: recent runs from the warehouse, and each day's run report.

Airflow 3 mechanism (3.1+): ``fastapi_apps`` mounts a small FastAPI app on the API server under
``/urdu-news``, and ``external_views`` adds a "Urdu news runs" entry to the UI's *Browse* menu that
shows that app inside the Airflow page (an iframe at ``/plugin/urdu-news``).

Routes, relative to the mount point ``/urdu-news``:

``GET /``
    HTML: the most recent runs (warehouse ``runs``, newest first) with their per-source counts
    (``dumps``) and a link to the day's report when one exists.
``GET /api/runs``
    The same list as JSON: ``{"warehouse": <backend>, "runs": [...]}``.
``GET /report/{day}``
    ``runs/<day>/report.html`` from the data dir (``URDU_ETL_DATA_DIR``, ``etl.settings``), ``day`` as YYYY-MM-DD.

Every route requires what the Airflow UI itself requires to see the DAG's runs (the core
``requires_access_dag`` check on ``urdu_news_nightly``): the browser's session cookie or a bearer
token from ``/auth/token``. The warehouse (``etl.load.warehouse_url.resolve_url``) is opened read-only.

Airflow imports this file in every component (scheduler, dag-processor, workers), so module import
only defines names: FastAPI, Jinja2, SQLAlchemy and ``etl`` are imported when the API server
builds the app or when a request arrives.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

DAG_ID = "urdu_news_nightly"
URL_PREFIX = "/urdu-news"
VIEW_NAME = "Urdu news runs"
DEFAULT_LIMIT = 30
MAX_LIMIT = 500
TEMPLATES = Path(__file__).with_name("urdu_news_templates")
DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Our own pages: no scripts, no external resources, framed only by the Airflow UI (same origin).
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)
# The report is a self-contained file written by the DAG: it may not load anything from outside,
# and it runs in an opaque origin (CSP sandbox) so that even a script in it cannot use the
# viewer's Airflow session.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-scripts"
)

_RUNS_SQL = """
select run_id, day, started_at, finished_at, status, sources, records_in, loaded, duplicates, rejected
from runs order by started_at desc, day desc, run_id desc limit :limit
"""
_DUMPS_SQL = """
select run_id, source, records_in, loaded, duplicates, rejected
from dumps where run_id in :run_ids order by source
"""
_COUNTS = ("records_in", "loaded", "duplicates", "rejected")


class NoWarehouse(Exception):
    """The warehouse does not exist yet (SQLite file missing): no run has loaded anything."""


# --------------------------------------------------------------------------- #
# Data
# --------------------------------------------------------------------------- #


def parse_day(day: str) -> dt.date | None:
    """``day`` as a date when it is exactly a valid YYYY-MM-DD date, else ``None``."""
    if not DAY_RE.fullmatch(day):
        return None
    try:
        return dt.date.fromisoformat(day)
    except ValueError:
        return None


def data_dir() -> Path:
    """The pipeline's data dir (``URDU_ETL_DATA_DIR``), as the DAG's tasks resolve it."""
    from etl.settings import Settings

    return Settings.from_env().data_dir


def warehouse_url(root: Path) -> str:
    """The warehouse URL, resolved exactly as the DAG's load and check tasks resolve it."""
    from etl.load import warehouse_url
    from etl.settings import Settings

    return warehouse_url.resolve_url(Settings.from_env().replace(data_dir=root))


@functools.lru_cache(maxsize=8)
def _read_only_engine(url: str) -> Engine:
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        import sqlite3
        import urllib.parse

        path = Path(parsed.database or "").resolve()
        uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
        return sa.create_engine(
            "sqlite://", poolclass=NullPool, creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
        )
    if backend == "postgresql":
        # The server refuses any write in these sessions, whatever the statement.
        return sa.create_engine(
            parsed, poolclass=NullPool, connect_args={"options": "-c default_transaction_read_only=on"}
        )
    return sa.create_engine(parsed, poolclass=NullPool)


def _iso(value: Any) -> str | None:
    """A date or timestamp as ISO text to the second; SQLite hands them back as text already."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if len(value) > 10 else dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return None if value is None else str(value)


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def read_runs(url: str, root: Path, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """The ``limit`` most recent runs, newest first, each with its per-source ``dumps`` rows.

    Each run: ``run_id, day, started_at, finished_at, status`` (strings, ISO dates), ``sources``
    (list of names), the four counts (ints), ``dumps`` (list of ``{source, <counts>}``) and
    ``report`` (``"report/<day>"`` when ``runs/<day>/report.html`` exists under ``root``, else None).
    Raises :class:`NoWarehouse` when a SQLite warehouse file does not exist yet.
    """
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise NoWarehouse(f"no warehouse file at {parsed.database}")
    engine = _read_only_engine(url)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        if "runs" not in tables:
            return []
        rows = conn.execute(sa.text(_RUNS_SQL), {"limit": limit}).mappings().all()
        per_run: dict[str, list[dict[str, Any]]] = {}
        if rows and "dumps" in tables:
            query = sa.text(_DUMPS_SQL).bindparams(sa.bindparam("run_ids", expanding=True))
            for dump in conn.execute(query, {"run_ids": [r["run_id"] for r in rows]}).mappings():
                per_run.setdefault(dump["run_id"], []).append(
                    {"source": dump["source"], **{k: _count(dump[k]) for k in _COUNTS}}
                )
    runs = []
    for row in rows:
        day = _iso(row["day"])
        has_report = day is not None and parse_day(day) is not None and (root / "runs" / day / "report.html").is_file()
        runs.append(
            {
                "run_id": row["run_id"],
                "day": day,
                "started_at": _iso(row["started_at"]),
                "finished_at": _iso(row["finished_at"]),
                "status": row["status"],
                "sources": [s for s in (row["sources"] or "").split(",") if s],
                **{k: _count(row[k]) for k in _COUNTS},
                "dumps": per_run.get(row["run_id"], []),
                "report": f"report/{day}" if has_report else None,
            }
        )
    return runs


# --------------------------------------------------------------------------- #
# Web app
# --------------------------------------------------------------------------- #


@functools.lru_cache(maxsize=1)
def _templates():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _page(template: str, status_code: int = 200, **context: Any):
    from fastapi.responses import HTMLResponse

    html = _templates().get_template(template).render(view_name=VIEW_NAME, dag_id=DAG_ID, **context)
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff"},
    )


def _airflow_reader_check():
    """Airflow's own permission check for reading this DAG's runs (session cookie or bearer token)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=DAG_ID)


def create_app(authorize=None) -> FastAPI:
    """The FastAPI app mounted at ``URL_PREFIX``.

    ``authorize`` is the dependency every route requires; by default Airflow's permission check on
    the DAG's runs (only importable inside the API server). Tests pass their own.
    """
    from fastapi import Depends, FastAPI, Query
    from fastapi.responses import FileResponse, JSONResponse

    app = FastAPI(
        title=VIEW_NAME,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(authorize or _airflow_reader_check())],
    )

    def _runs_or_problem(limit: int) -> tuple[list[dict[str, Any]], str | None, str, int]:
        """(runs, problem for the reader or None, warehouse backend, HTTP status)."""
        from etl.errors import EtlError

        try:
            root = data_dir()
            url = warehouse_url(root)
        except EtlError as exc:  # a bad setting or a connection that cannot be read: said, not a bare 500
            log.warning("cannot find the warehouse: %s", exc)
            return [], f"Cannot find the warehouse: {exc}", "unknown", 503
        backend = url.split(":", 1)[0].split("+", 1)[0]
        try:
            return read_runs(url, root, limit), None, backend, 200
        except NoWarehouse:
            return [], "No warehouse yet: no run has loaded anything.", backend, 200
        except Exception as exc:  # the page says what failed instead of a bare 500
            log.exception("reading runs from the %s warehouse failed", backend)
            return [], f"Could not read the warehouse ({backend}): {type(exc).__name__}", backend, 503

    @app.get("/")
    def runs_page(limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
        runs, problem, backend, status = _runs_or_problem(limit)
        return _page("runs.html", status_code=status, runs=runs, problem=problem, backend=backend, limit=limit)

    @app.get("/api/runs")
    def runs_json(limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
        runs, problem, backend, status = _runs_or_problem(limit)
        return JSONResponse({"warehouse": backend, "runs": runs, "problem": problem}, status_code=status)

    @app.get("/report/{day}")
    def report(day: str):
        if parse_day(day) is None:
            return _page(
                "message.html",
                status_code=400,
                title="Not a day",
                message=f"{day!r} is not a date: a report is addressed by its day, as YYYY-MM-DD.",
            )
        from etl.errors import EtlError

        try:
            path = data_dir() / "runs" / day / "report.html"
        except EtlError as exc:
            return _page("message.html", status_code=503, title="No data dir", message=str(exc))
        if not path.is_file():
            return _page(
                "message.html",
                status_code=404,
                title="No report",
                message=f"No run report for {day}: the DAG's check task writes "
                f"runs/{day}/report.html, and no checked run of that day has written it.",
            )
        return FileResponse(
            path,
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff"},
        )

    return app


class UrduNewsPlugin(AirflowPlugin):
    """Registers the runs view: its FastAPI app and its entry in the UI's Browse menu."""

    name = "urdu_news"
    external_views = [
        {
            "name": VIEW_NAME,
            # relative (no leading slash): resolved against the UI's base URL, so it works behind a prefix
            "href": URL_PREFIX.lstrip("/") + "/",
            "url_route": URL_PREFIX.lstrip("/"),
            "destination": "nav",
            "category": "browse",
        }
    ]

    @functools.cached_property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """Built on first use, which only the API server makes (and ``airflow plugins``)."""
        return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": VIEW_NAME}]
