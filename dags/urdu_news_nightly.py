"""Nightly Urdu news ETL: fetch -> transform (one task per shard) -> write lake -> load warehouse -> check.

Wiring only: every step is a module of ``etl.tasks``, imported inside the task so that parsing
this file stays cheap. XCom carries the typed records of ``etl.contracts`` (paths and counts),
never article data.

Scheduled runs process the previous day (a real one-day data interval, midnight to midnight
in ``URDU_ETL_TIMEZONE``, default Asia/Karachi). Manual runs take ``date``, ``sources``,
``dump_url`` and ``missing_dump_ok`` params; the first task checks them, the sources file, the
warehouse URL and the data dir before anything is fetched.

A terminal error (bad configuration, a dump that cannot be read, a broken invariant: see
``etl/errors.py``) fails its task at once; anything else is retried. ``write_lake`` and
``load_warehouse`` declare the lake and warehouse tables they write as Assets, so other DAGs can
be scheduled on new data. Warehouse loads take a slot of the pool ``urdu_warehouse``, which must
exist where the scheduler runs (``airflow pools import config/pools.json``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task

from etl import settings
from etl.contracts import LAKE_TABLES, WAREHOUSE_TABLES, LakeReport, LoadReport, RunOutcome, Shard, ShardResult

TIMEZONE = settings.read("timezone")
WAREHOUSE_POOL = "urdu_warehouse"
LAKE_ASSETS = [Asset(f"urdu_news.lake.{t}", group="urdu_news_lake") for t in LAKE_TABLES]
WAREHOUSE_ASSETS = [Asset(f"urdu_news.warehouse.{t}", group="urdu_news_warehouse") for t in WAREHOUSE_TABLES]


def terminal_errors_fail(fn):
    """Run the task body; a terminal ``EtlError`` fails the task without retries (``AirflowFailException``)."""

    @functools.wraps(fn)
    def body(*args, **kwargs):
        from etl.errors import is_terminal

        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not is_terminal(exc):
                raise
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    return body


@dag(
    dag_id="urdu_news_nightly",
    description="Fetch, clean, segment and enrich a day of Urdu news dumps; load the Parquet lake and SQL warehouse",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=4,
    dagrun_timeout=dt.timedelta(hours=12),
    default_args={
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "execution_timeout": dt.timedelta(hours=2),
    },
    params={
        "date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Day to process (YYYY-MM-DD). Empty: the run's data interval day.",
        ),
        "sources": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Source names from the sources file. Empty: all of them.",
        ),
        "dump_url": Param(
            None,
            type=["null", "string"],
            description="Read this dump instead of the source's URL (exactly one source).",
        ),
        "missing_dump_ok": Param(
            True, type="boolean", description="A source with no dump for the day is skipped, not an error."
        ),
    },
    tags=["urdu", "news", "etl"],
    doc_md=__doc__,
)
def urdu_news_nightly():
    @task(multiple_outputs=False)
    @terminal_errors_fail
    def fetch() -> list[Shard]:
        from etl.config import run_params
        from etl.errors import WarehouseUnavailable
        from etl.load import warehouse_url
        from etl.settings import Settings
        from etl.tasks import fetch as stage

        ctx = get_current_context()
        conf = Settings.from_env()
        # everything the run is told is checked before anything is fetched: a bad value fails here, unretried
        params = run_params({**dict(ctx["params"]), **(ctx["dag_run"].conf or {})})
        day = stage.resolve_day(params.date, ctx.get("data_interval_start"), conf.timezone)
        sources = stage.select_sources(stage.declared_sources(conf), params.sources)
        with contextlib.suppress(WarehouseUnavailable):  # a secrets backend that did not answer: the load asks again
            warehouse_url.checked_url(conf)
        conf.check_places()
        from airflow.sdk.configuration import conf as airflow_conf

        # the transform is mapped over the shards: no more of them than Airflow maps over one result
        max_shards = airflow_conf.getint("core", "max_map_length", fallback=1024)
        return stage.fetch(
            sources, day, conf, params.dump_url, params.missing_dump_ok, ctx["dag_run"].run_id, max_shards
        )

    @task(max_active_tis_per_dagrun=4, multiple_outputs=False, execution_timeout=dt.timedelta(hours=1))
    @terminal_errors_fail
    def transform(shard: Shard) -> ShardResult:
        from etl.tasks.transform import transform_shard

        return transform_shard(shard)

    @task(multiple_outputs=False, outlets=LAKE_ASSETS)
    @terminal_errors_fail
    def write_lake(results: list[ShardResult]) -> LakeReport:
        from etl.settings import Settings
        from etl.tasks.write_lake import write_lake

        return write_lake(list(results), Settings.from_env())

    @task(multiple_outputs=False, outlets=WAREHOUSE_ASSETS, pool=WAREHOUSE_POOL)
    @terminal_errors_fail
    def load_warehouse(lake_report: LakeReport) -> LoadReport:
        from etl.load import warehouse_url
        from etl.settings import Settings
        from etl.tasks.fetch import declared_sources
        from etl.tasks.load_warehouse import load_warehouse

        dag_run = get_current_context()["dag_run"]
        conf = Settings.from_env()
        started = dag_run.start_date or dt.datetime.now(dt.UTC)
        return load_warehouse(
            lake_report, warehouse_url.resolve_url(conf), dag_run.run_id, started, list(declared_sources(conf).values())
        )

    @task(retries=0, multiple_outputs=False, pool=WAREHOUSE_POOL, execution_timeout=dt.timedelta(minutes=30))
    @terminal_errors_fail
    def check(lake_report: LakeReport, load_report: LoadReport) -> RunOutcome:
        from etl.load import warehouse_url
        from etl.settings import Settings
        from etl.tasks.check import check, format_summary, outcome

        conf = Settings.from_env()
        summary = check(lake_report, load_report, conf, warehouse_url.resolve_url(conf))
        print(format_summary(summary))
        if summary.get("report"):
            from airflow.sdk.configuration import conf as airflow_conf

            base = airflow_conf.get("api", "base_url", fallback="").rstrip("/")
            print(
                f"run report: {base}/urdu-news/report/{summary['day']} (in the Airflow UI: Browse > "
                f"Urdu news runs), file {summary['report']}"
            )
        return outcome(summary)

    shards = fetch()
    results = transform.expand(shard=shards)
    lake_report = write_lake(results)
    check(lake_report, load_warehouse(lake_report))


urdu_news_nightly()
