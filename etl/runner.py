"""A whole run in this process: the DAG's tasks in order, without a scheduler (``python -m etl run|ingest``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from etl import housekeeping
from etl.config import Source, check_run_id, parse_day
from etl.contracts import RunSummary, Shard
from etl.load import warehouse_url
from etl.settings import Settings


def _progress(enabled: bool):
    """A progress bar on stderr: bytes of input done, throughput, records and articles so far."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
        disable=not enabled,
        transient=True,
    )


def _size(shard: Shard) -> int:
    """Bytes of input a shard reads: its span, or its files."""
    if shard["span"]:
        return shard["span"]["end"] - shard["span"]["start"]
    files = (Path(shard["files_dir"]) / f for f in shard["files"])
    return sum(f.stat().st_size for f in files if f.is_file())


def preflight(
    settings: Settings, day: dt.date | None = None, run_id: str | None = None, warehouse_flag: str | None = None
) -> str:
    """Check what a run is told before it does anything; the warehouse URL it will load.

    A bad value is a one-line ``ConfigError``: the day (``parse_day``), the run id
    (``check_run_id``), the warehouse URL and its database (``warehouse_url.checked_url``;
    ``warehouse_flag`` names the command-line flag that gave it), the data dir and the lake
    (``Settings.check_places``).
    """
    if day is not None:
        parse_day(day)
    if run_id is not None:
        check_run_id(run_id)
    url = warehouse_url.checked_url(settings, flag=warehouse_flag)
    settings.check_places()
    return url


@housekeeping.storage_errors(lambda settings: settings.data_dir)
def run(
    sources: list[Source],
    day: dt.date,
    settings: Settings,
    run_id: str | None = None,
    dump_url: str | None = None,
    missing_ok: bool = True,
    progress: bool = False,
) -> RunSummary:
    """Every stage in order, in this process: what the DAG does, without a scheduler.

    The warehouse is ``settings.warehouse_url``, else the Airflow connection, else SQLite in the
    data dir (``warehouse_url.resolve_url``). ``progress`` draws a progress bar over the transform
    (bytes of input, records, throughput) on stderr, for people running it by hand.

    Everything it is told is checked before any work (``preflight``): nothing is fetched or
    written for a day out of range, a bad run id, a warehouse URL it cannot load or a data dir it
    cannot write.
    """
    url = preflight(settings, day, run_id)
    # the stages are imported once the run is known to be valid: a bad value fails in a second, not after pandas loads
    from etl.tasks.check import check
    from etl.tasks.fetch import fetch
    from etl.tasks.load_warehouse import load_warehouse
    from etl.tasks.transform import transform_shard
    from etl.tasks.write_lake import write_lake

    started = dt.datetime.now(dt.UTC)
    run_id = run_id or f"cli__{day.isoformat()}__{started.strftime('%Y%m%dT%H%M%S%f')}"
    housekeeping.hold_run(settings.staging, day.isoformat(), run_id, single_process=True)  # to the run's end
    shards = fetch(sources, day, settings, dump_url, missing_ok, run_id)
    results = []
    sizes = [_size(s) for s in shards]
    with _progress(progress) as bar:
        task = bar.add_task("transform", total=sum(sizes) or None, info="")
        records = loaded = 0
        for shard, size in zip(shards, sizes):
            res = transform_shard(shard)
            results.append(res)
            records, loaded = records + res["records_in"], loaded + res["articles"]
            bar.update(
                task, advance=size, info=f"{records} records, {loaded} articles, shard {len(results)}/{len(shards)}"
            )
    lake_report = write_lake(results, settings, day.isoformat())
    load_report = load_warehouse(lake_report, url, run_id, started, sources)
    return check(lake_report, load_report, settings, url)
