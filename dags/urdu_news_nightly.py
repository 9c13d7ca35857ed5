"""Nightly Urdu news ETL: fetch -> transform (one task per shard) -> write lake -> load warehouse -> check.

Wiring only: every step is a function of ``etl.pipeline``, imported inside the task so that
parsing this file stays cheap. XCom carries paths and counts, never article data.

Scheduled runs process the previous day (a real one-day data interval, midnight to midnight
in ``URDU_ETL_TIMEZONE``, default Asia/Karachi). Manual runs take ``date``, ``sources``,
``dump_url`` and ``missing_dump_ok`` params.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

TIMEZONE = os.environ.get("URDU_ETL_TIMEZONE", "Asia/Karachi")


@dag(
    dag_id="urdu_news_nightly",
    description="Fetch, clean, segment and enrich a day of Urdu news dumps; load the Parquet lake and SQL warehouse",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=4,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5),
                  "retry_exponential_backoff": True},
    params={
        "date": Param(None, type=["null", "string"], format="date",
                      description="Day to process (YYYY-MM-DD). Empty: the run's data interval day."),
        "sources": Param([], type="array", items={"type": "string"},
                         description="Source names from the sources file. Empty: all of them."),
        "dump_url": Param(None, type=["null", "string"],
                          description="Read this dump instead of the source's URL (exactly one source)."),
        "missing_dump_ok": Param(True, type="boolean",
                                 description="A source with no dump for the day is skipped, not an error."),
    },
    tags=["urdu", "news", "etl"],
    doc_md=__doc__,
)
def urdu_news_nightly():
    @task
    def fetch() -> list[dict]:
        from etl import pipeline

        ctx = get_current_context()
        params = ctx["params"]
        day = pipeline.resolve_day(params.get("date"), ctx.get("data_interval_start"), TIMEZONE)
        sources = pipeline.select_sources(pipeline.load_config(), params.get("sources"))
        return pipeline.fetch(sources, day, pipeline.data_dir(), params.get("dump_url") or None,
                              params.get("missing_dump_ok", True), ctx["dag_run"].run_id)

    @task(max_active_tis_per_dagrun=4)
    def transform(shard: dict) -> dict:
        from etl import pipeline

        return pipeline.transform_shard(shard)

    @task
    def write_lake(results: list[dict]) -> dict:
        from etl import pipeline

        return pipeline.write_lake(list(results), pipeline.data_dir())

    @task
    def load_warehouse(lake_report: dict) -> dict:
        from etl import pipeline
        from etl.load import warehouse

        ctx = get_current_context()
        dag_run = ctx["dag_run"]
        root = pipeline.data_dir()
        sources = list(pipeline.load_config().values())
        started = dag_run.start_date or dt.datetime.now(dt.UTC)
        return pipeline.load_warehouse(lake_report, warehouse.resolve_url(root), dag_run.run_id,
                                       started, sources)

    @task(retries=0)  # a broken invariant does not mend itself on a retry
    def check(lake_report: dict, load_report: dict) -> dict:
        from etl import pipeline
        from etl.load import warehouse

        root = pipeline.data_dir()
        summary = pipeline.check(lake_report, load_report, root, warehouse.resolve_url(root))
        print(pipeline.format_summary(summary))
        if summary.get("report"):
            from airflow.sdk.configuration import conf

            base = conf.get("api", "base_url", fallback="").rstrip("/")
            print(f"run report: {base}/urdu-news/report/{summary['day']} (in the Airflow UI: Browse > "
                  f"Urdu news runs), file {summary['report']}")
        return {k: summary[k] for k in ("run_id", "day", "status", "records_in", "loaded", "duplicates", "rejected")}

    shards = fetch()
    results = transform.expand(shard=shards)
    lake_report = write_lake(results)
    check(lake_report, load_warehouse(lake_report))


urdu_news_nightly()
