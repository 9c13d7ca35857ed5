"""A whole run without a scheduler: the DAG's tasks in order (``python -m etl run|ingest``).

The shards are transformed by a pool of worker processes (``workers``; the command line's default
is every core this process may use, no more than its free memory holds at ``WORKER_MEMORY`` each,
at most one worker per shard); everything else runs in this process. One worker transforms them
here, one after another. Either way the results are taken in shard order, so the lake and the
warehouse are byte for byte those of a one-process run.

**Workers.** They are started fresh (``spawn``: nothing of this process is inherited, no thread of
pyarrow or numba, no file lock) and each loads the models once. A shard that raises in a worker
fails the run with the same error as in this process: the first failing shard in shard order, after
the shards before it have finished (the later ones are stopped). A worker that dies (killed by the
kernel's out-of-memory killer, ``kill -9``) stops the run with ``WorkerKilled``, which the command
line turns into the same death as a one-process run's (``etl/cli.py``): resume it with its run id.
On any failure, and on Ctrl-C, the workers are stopped before the error propagates; a worker whose
run process died on its own (``kill -9`` of the run) exits within a second.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from etl import housekeeping, memory
from etl.config import Source, check_run_id, parse_day
from etl.contracts import RunSummary, Shard, ShardResult
from etl.errors import EtlError
from etl.load import warehouse_url
from etl.settings import Settings

log = logging.getLogger("etl")


class WorkerKilled(EtlError):
    """A worker process died of a signal while it transformed shards: the run stops as if it had
    been killed itself (``signum``); its finished shards are kept for a resume."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum

    def __reduce__(self):
        return type(self), (str(self), self.signum)


WORKER_MEMORY = 1 << 30
"""The memory the default worker count allows each worker: one worker transforming default shards
(8 MiB of input, in batches of ``etl.tasks.transform.BATCH_CHARS``) peaks near 600 MB
(``BENCHMARKS.md``); the rest is headroom."""

CGROUP = Path("/sys/fs/cgroup")


def available_cores(cgroup: Path = CGROUP) -> int:
    """The cores this process may run on: its CPU affinity, capped by its cgroup's CPU quota (a
    container's ``--cpus``; v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``), rounded up."""
    try:
        cores = len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # no affinity on macOS
        cores = os.cpu_count() or 1
    quota = _cgroup_cpus(cgroup)
    return max(1, min(cores, quota)) if quota else cores


def available_memory(cgroup: Path = CGROUP) -> int:
    """Bytes this process may still take: the system's available memory, capped by what its cgroup's
    limit leaves (the limit less the usage, without the page cache the kernel can drop)."""
    import psutil

    free = psutil.virtual_memory().available
    for limit_file, usage_file, stat_file, cache_key in (
        ("memory.max", "memory.current", "memory.stat", "inactive_file"),  # cgroup v2
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes", "memory/memory.stat", "total_inactive_file"),
    ):
        limit, usage = _read_int(cgroup / limit_file), _read_int(cgroup / usage_file)
        if limit is not None and usage is not None:
            stat = _read(cgroup / stat_file) or ""
            cache = next((int(v) for k, _, v in (ln.partition(" ") for ln in stat.splitlines()) if k == cache_key), 0)
            return max(0, min(free, limit - max(0, usage - cache)))
    return free


def pool_size(workers: int | None, shards: int) -> int:
    """How many workers transform ``shards`` shards: ``workers``, at most one per shard. ``None``
    (the default) is one per core this process may use, no more than its available memory holds at
    ``WORKER_MEMORY`` each, and at least one."""
    if workers is None:
        workers = min(available_cores(), available_memory() // WORKER_MEMORY)
    return max(1, min(workers, shards))


def _cgroup_cpus(cgroup: Path) -> int | None:
    """The cgroup's CPU quota in whole cores (rounded up); ``None`` without a quota."""
    v2 = _read(cgroup / "cpu.max")  # "max 100000", or "150000 100000" for 1.5 cores
    quota, period = (
        v2.split()[:2] if v2 else (_read(cgroup / "cpu/cpu.cfs_quota_us"), _read(cgroup / "cpu/cpu.cfs_period_us"))
    )
    try:
        quota_us, period_us = int(quota), int(period)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # "max", or no such files
        return None
    if quota_us <= 0 or period_us <= 0:  # v1 says -1 for no quota
        return None
    return -(-quota_us // period_us)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    return int(text) if text is not None and text.isdigit() else None


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
    workers: int | None = 1,
) -> RunSummary:
    """Every stage in order: what the DAG does, without a scheduler (the transform in ``workers``
    processes, the rest in this one).

    The warehouse is ``settings.warehouse_url``, else the Airflow connection, else SQLite in the
    data dir (``warehouse_url.resolve_url``). ``progress`` draws a progress bar over the transform
    (bytes of input, records, throughput) on stderr, for people running it by hand. ``workers``
    processes transform the shards (``None``: the default of ``pool_size``; 1: in this process).

    Everything it is told is checked before any work (``preflight``): nothing is fetched or
    written for a day out of range, a bad run id, a warehouse URL it cannot load or a data dir it
    cannot write.
    """
    url = preflight(settings, day, run_id)
    # the stages are imported once the run is known to be valid: a bad value fails in a second, not after pandas loads
    from etl.tasks.check import check
    from etl.tasks.fetch import fetch
    from etl.tasks.load_warehouse import load_warehouse
    from etl.tasks.write_lake import write_lake

    started = dt.datetime.now(dt.UTC)
    run_id = run_id or f"cli__{day.isoformat()}__{started.strftime('%Y%m%dT%H%M%S%f')}"
    housekeeping.hold_run(settings.staging, day.isoformat(), run_id, single_process=True)  # to the run's end
    shards = fetch(sources, day, settings, dump_url, missing_ok, run_id)
    sizes = [_size(s) for s in shards]
    with _progress(progress) as bar:
        task = bar.add_task("transform", total=sum(sizes) or None, info="")
        done = {"shards": 0, "records": 0, "articles": 0}

        def advance(i: int, res: ShardResult) -> None:
            done["shards"] += 1
            done["records"] += res["records_in"]
            done["articles"] += res["articles"]
            info = f"{done['records']} records, {done['articles']} articles, shard {done['shards']}/{len(shards)}"
            bar.update(task, advance=sizes[i], info=info)

        began = time.perf_counter()
        results = transform_shards(shards, workers, advance, run_id)
        transform_seconds = time.perf_counter() - began
    lake_report = write_lake(results, settings, day.isoformat())
    # the summary's transform seconds are the stage's elapsed time; write_lake's figure, the sum of
    # the shards' own seconds (what Airflow's mapped tasks add up to), counts each worker's time
    lake_report["stages"]["transform"] = round(transform_seconds, 3)
    memory.release()  # the lake write's parts, before the load's rows
    load_report = load_warehouse(lake_report, url, run_id, started, sources)
    memory.release()  # the load's rows, before the check's report
    return check(lake_report, load_report, settings, url)


def transform_shards(
    shards: list[Shard],
    workers: int | None = 1,
    on_done: Callable[[int, ShardResult], None] | None = None,
    run_id: str | None = None,
) -> list[ShardResult]:
    """``transform_shard`` of every shard, by ``pool_size(workers, len(shards))`` processes; the
    results in shard order. ``on_done(i, result)`` is called in this process as shard ``i`` finishes."""
    from etl.tasks.transform import transform_shard

    n = pool_size(workers, len(shards))
    if workers is None and len(shards) > 1:
        log.info("transforming %d shards in %d worker process(es) (--workers to choose)", len(shards), n)
    if n == 1:
        results = []
        for i, shard in enumerate(shards):
            results.append(transform_shard(shard))
            if on_done is not None:
                on_done(i, results[-1])
        return results
    return _in_pool(shards, n, on_done, run_id)


def _in_pool(
    shards: list[Shard], n: int, on_done: Callable[[int, ShardResult], None] | None, run_id: str | None
) -> list[ShardResult]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from etl.tasks.transform import transform_shard

    root = logging.getLogger()
    fmt = next((h.formatter._fmt for h in root.handlers if h.formatter is not None and h.formatter._fmt), None)
    executor = ProcessPoolExecutor(
        n,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_start,
        initargs=(os.getpid(), root.level if root.handlers else None, fmt),
    )
    results: list[ShardResult | None] = [None] * len(shards)
    failed: dict[int, BaseException] = {}
    # the workers, started by the submits (spawn), kept to stop them and to read how they ended (a
    # broken pool may drop them from the executor)
    processes: dict = {}
    try:
        index: dict[Future, int] = {}
        for i, shard in enumerate(shards):
            index[executor.submit(transform_shard, shard)] = i
            processes.update(executor._processes)
        pending = set(index)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=index.__getitem__):
                i = index[future]
                if future.cancelled():
                    continue
                exc = future.exception()
                if exc is not None:
                    failed[i] = exc
                    continue
                results[i] = future.result()
                if on_done is not None:
                    on_done(i, future.result())
            if failed:
                # one process would have finished the shards before the first failure and never begun those after it
                first = min(failed)
                for future in pending:
                    if index[future] > first:
                        future.cancel()
                pending = {f for f in pending if index[f] < first}
        if failed:
            first = min(failed)
            if isinstance(failed[first], BrokenProcessPool):
                _stop(list(processes.values()))
                lost = [shards[i]["shard_id"] for i in sorted(failed)]
                raise _lost_worker(list(processes.values()), lost, run_id, failed[first]) from failed[first]
            raise failed[first]
        executor.shutdown(wait=True)  # the workers are idle: they exit on their own
        return results  # type: ignore[return-value]
    finally:
        processes.update(executor._processes or {})
        _stop(list(processes.values()))
        executor.shutdown(wait=True, cancel_futures=True)


def _stop(processes: list) -> None:
    """Stop the workers still running (a shard after a failed one, a Ctrl-C) and wait for them to end."""
    for p in processes:
        if p.exitcode is None:
            p.terminate()
    for p in processes:
        p.join(5)
        if p.exitcode is None:
            p.kill()
            p.join()


def _lost_worker(processes: list, shards: list[str], run_id: str | None, broken: BaseException) -> Exception:
    """What to raise when the pool broke. A worker's result this process could not read (an
    exception that does not unpickle) breaks it with that error as the cause: a ``RuntimeError``
    naming it. Otherwise a worker died: ``WorkerKilled`` with the signal it died of; the pool ended
    its other workers with SIGTERM, so a SIGTERM counts only when every one got it."""
    shown = ", ".join(shards[:5]) + (f" and {len(shards) - 5} more" if len(shards) > 5 else "")
    if broken.__cause__ is not None:
        lines = [ln.strip() for ln in str(broken.__cause__).splitlines() if ln.strip().strip("'\"")]
        return RuntimeError(
            f"a worker's result could not be read ({lines[-1] if lines else 'no detail'}); shard(s) {shown} not transformed"
        )
    codes = _exit_codes(processes)
    signals = [-c for c in codes if c < 0]
    signum = next((s for s in signals if s != signal.SIGTERM), signals[0] if signals else None)
    resume = f"; run it again with --run-id {run_id} to resume it" if run_id else ""
    if signum is None:
        return RuntimeError(f"a worker process exited with code {codes}; shard(s) {shown} not transformed")
    name = signal.Signals(signum).name
    return WorkerKilled(f"a worker process was killed by {name}; shard(s) {shown} not transformed{resume}", signum)


def _exit_codes(processes: list, patience: float = 5.0) -> list[int]:
    """The exit codes of the ended workers. A worker that the pool's own thread reaps at the moment
    this process asks reads as running (multiprocessing's ``poll`` gets ECHILD and answers None)
    until that thread records its code, so a worker already stopped is waited for, briefly."""
    deadline = time.monotonic() + patience
    while any(p.exitcode is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.01)
    return [p.exitcode for p in processes if p.exitcode is not None]


def _worker_start(parent: int, level: int | None, fmt: str | None) -> None:
    """A worker's set-up: Ctrl-C is for the run's process, which stops the workers; the run's
    logging level and format (its log lines go to the same stderr); exit when the run's process is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if level is not None:
        logging.basicConfig(level=level, format=fmt or logging.BASIC_FORMAT, stream=sys.stderr)
    threading.Thread(target=_exit_with, args=(parent,), name="watch-run", daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
