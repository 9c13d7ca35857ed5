"""``--workers N``: shards transformed by a pool of processes give the output of one process, byte
for byte; a shard that fails in a worker fails the run as it does in one process; a killed worker
stops the run as a killed run, leaves no process behind, and the run resumes to the same output."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from etl import cli, runner
from etl.config import make_source
from etl.tasks.fetch import fetch
from tests.support import ROOT
from tests.support.runs import news_article, settings_for

DAY = "2024-03-05"
#: Shards of about 4 KiB: the input below is cut into several.
SHARD_MB = str(4 / 1024)
MAP = "external_id=id,headline=title,body=text"


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    rng = random.Random(16)
    rows = [news_article(rng, i) for i in range(40)]
    rows += [{**rows[3], "id": "copy-of-n3"}, {**rows[30], "id": "copy-of-n30"}]  # copies across shards
    path = tmp_path_factory.mktemp("dump") / "news.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("URDU_ETL_FAILPOINT", "URDU_ETL_WAREHOUSE_URL")}
    return {**env, "URDU_ETL_SHARD_MB": SHARD_MB, **extra}


def _ingest(dump: Path, data: Path, *flags: str, env: dict[str, str] | None = None, run_id: str = "w"):
    cmd = [sys.executable, "-m", "etl", "ingest", str(dump), "--source", "gen", "--format", "jsonl"]
    cmd += ["--map", MAP, "--date", DAY, "--data-dir", str(data), "--run-id", run_id, *flags]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env or _env(), timeout=600)


def _lake(data: Path) -> dict[str, str]:
    lake = data / "lake"
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*.parquet"))
        if not p.relative_to(lake).parts[0].startswith("_")
    }


def _warehouse(data: Path) -> dict[str, list]:
    con = sqlite3.connect(data / "warehouse.db")
    out = {}
    for (table,) in con.execute("select name from sqlite_master where type = 'table' order by name"):
        columns = [r[1] for r in con.execute(f"pragma table_info('{table}')")]
        keep = [c for c in columns if not c.endswith(("_at", "seconds"))]  # when the run ran, how long it took
        out[table] = sorted(map(repr, con.execute(f"select {', '.join(keep)} from '{table}'")))
    con.close()
    return out


def _summary(stdout: str, data: Path) -> list[str]:
    """The run summary without its timings, the report's path and the data dir."""
    lines = stdout.replace(str(data), "DATA").splitlines()
    return [line for line in lines if not line.strip().startswith(("seconds:", "report "))]


def _shard_ids(dump: Path, scratch: Path) -> list[str]:
    """The ids the run gives the dump's shards (they come from the file and its spans)."""
    os.environ["URDU_ETL_SHARD_MB"], old = SHARD_MB, os.environ.get("URDU_ETL_SHARD_MB")
    try:
        source = make_source("gen", str(dump), "jsonl", cli._mapping(MAP))
        shards = fetch([source], dt.date.fromisoformat(DAY), settings_for(scratch), run_id="probe")
    finally:
        os.environ.pop("URDU_ETL_SHARD_MB") if old is None else os.environ.__setitem__("URDU_ETL_SHARD_MB", old)
    return [s["shard_id"] for s in shards]


@pytest.fixture(scope="module")
def one_worker(dump, tmp_path_factory):
    data = tmp_path_factory.mktemp("one")
    proc = _ingest(dump, data, "--workers", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return data, proc


def test_the_input_is_cut_into_several_shards(dump, tmp_path):
    assert len(_shard_ids(dump, tmp_path)) >= 4


def test_two_workers_write_what_one_writes(dump, one_worker, tmp_path):
    data1, proc1 = one_worker
    proc2 = _ingest(dump, tmp_path, "--workers", "2")
    assert proc2.returncode == 0, proc2.stderr[-3000:]
    assert _lake(tmp_path) == _lake(data1)
    assert _warehouse(tmp_path) == _warehouse(data1)
    assert _summary(proc2.stdout, tmp_path) == _summary(proc1.stdout, data1)
    assert "articles 42," in proc2.stdout
    # every shard's log line, from the workers, reaches the run's stderr
    assert proc2.stderr.count(" records in, ") == proc1.stderr.count(" records in, ") >= 4


def test_the_pool_reports_every_shard_once_and_returns_them_in_order(dump, tmp_path):
    os.environ["URDU_ETL_SHARD_MB"], old = SHARD_MB, os.environ.get("URDU_ETL_SHARD_MB")
    try:
        source = make_source("gen", str(dump), "jsonl", cli._mapping(MAP))
        shards = fetch([source], dt.date.fromisoformat(DAY), settings_for(tmp_path), run_id="pool")
    finally:
        os.environ.pop("URDU_ETL_SHARD_MB") if old is None else os.environ.__setitem__("URDU_ETL_SHARD_MB", old)
    seen: list[int] = []
    results = runner.transform_shards(shards, 2, lambda i, res: seen.append(i))
    assert sorted(seen) == list(range(len(shards)))
    assert [r["shard_id"] for r in results] == [s["shard_id"] for s in shards]
    assert sum(r["records_in"] for r in results) == sum(r["articles"] for r in results) == 42


def test_a_shard_failing_in_a_worker_fails_the_run_as_in_one_process(dump, tmp_path):
    """The second shard's output folder is taken by a file: its transform raises when it moves its
    outputs there. One process and two workers end with the same error and exit code."""
    first, second = _shard_ids(dump, tmp_path / "probe")[:2]
    ends = {}
    for workers in ("1", "2"):
        data = tmp_path / f"w{workers}"
        blocked = data / "staging" / DAY / "w" / "shards" / second
        blocked.parent.mkdir(parents=True)
        blocked.write_text("not a folder", encoding="utf-8")
        mark = uuid.uuid4().hex
        proc = _ingest(dump, data, "--workers", workers, env=_env(URDU_ETL_TEST_MARK=mark))
        last = proc.stderr.strip().splitlines()[-1].replace(str(data), "DATA")
        ends[workers] = (proc.returncode, re.sub(r"\.[0-9a-f]{32}'", ".TMP'", last))
        assert not _processes_marked(mark)
        assert f"shard {first}: " in proc.stderr  # the shard before the failing one was finished
        assert not (data / "lake" / "articles").exists()
    assert ends["1"] == ends["2"]
    assert ends["1"][0] not in (0, 2), ends["1"]
    assert second in ends["1"][1]


def test_a_killed_worker_kills_the_run_and_the_run_resumes_to_the_same_output(dump, one_worker, tmp_path):
    mark = uuid.uuid4().hex
    crashed = _ingest(
        dump, tmp_path, "--workers", "2", env=_env(URDU_ETL_FAILPOINT="shard_done", URDU_ETL_TEST_MARK=mark)
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-3000:]
    assert "error: a worker process was killed by SIGKILL; shard(s) gen-" in crashed.stderr
    assert "--run-id w to resume it" in crashed.stderr
    assert not _processes_marked(mark)
    assert not (tmp_path / "lake" / "articles").exists()
    resumed = _ingest(dump, tmp_path, "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "already done for these inputs; reusing" in resumed.stderr
    assert _lake(tmp_path) == _lake(one_worker[0])
    assert _warehouse(tmp_path) == _warehouse(one_worker[0])


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", "٢", ""])
def test_a_bad_number_of_workers_is_a_bad_command_line(value, tmp_path, capsys):
    for argv in (
        ["ingest", "x.jsonl", "--source", "s", "--format", "jsonl", "--workers", value],
        ["run", "--date", DAY, "--data-dir", str(tmp_path), f"--workers={value}"],
    ):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("--workers" in line and "number of worker processes" in line for line in err)
    assert not (tmp_path / "staging").exists()


def test_the_default_is_every_core_the_free_memory_holds_at_most_one_per_shard():
    cores = runner.available_cores()
    fits = runner.available_memory() // runner.WORKER_MEMORY
    assert cores >= 1 and fits >= 0
    assert runner.pool_size(None, 1000) == max(1, min(cores, fits))
    assert runner.pool_size(None, 1) == runner.pool_size(8, 1) == runner.pool_size(1, 5) == 1
    assert runner.pool_size(3, 2) == 2 and runner.pool_size(3, 0) == 1


@pytest.mark.parametrize(
    ("files", "cores"),
    [
        ({"cpu.max": "150000 100000\n"}, 2),  # cgroup v2, 1.5 cores: rounded up
        ({"cpu.max": "100000 100000\n"}, 1),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),  # v1
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_a_container_cpu_quota_caps_the_cores(files, cores, tmp_path):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="ascii")
    assert runner._cgroup_cpus(tmp_path) == cores
    affinity = runner.available_cores(tmp_path / "none")
    assert runner.available_cores(tmp_path) == (min(affinity, cores) if cores else affinity)


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_a_container_memory_limit_caps_the_memory_less_its_droppable_cache(version, tmp_path):
    gib = 1 << 30
    names = {
        "v2": ("memory.max", "memory.current", "memory.stat", "inactive_file"),
        "v1": (
            "memory/memory.limit_in_bytes",
            "memory/memory.usage_in_bytes",
            "memory/memory.stat",
            "total_inactive_file",
        ),
    }[version]
    (tmp_path / names[0]).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / names[0]).write_text(f"{3 * gib}\n", encoding="ascii")
    (tmp_path / names[1]).write_text(f"{2 * gib}\n", encoding="ascii")
    (tmp_path / names[2]).write_text(f"anon 5\n{names[3]} {gib // 2}\nactive_file 7\n", encoding="ascii")
    system = runner.available_memory(tmp_path / "none")
    assert runner.available_memory(tmp_path) == min(system, 3 * gib - (2 * gib - gib // 2))
    (tmp_path / names[0]).write_text("max\n", encoding="ascii")  # no limit
    assert abs(runner.available_memory(tmp_path) - system) < 256 << 20


class _NoUnpickle(Exception):
    """Pickles (its args), but cannot be rebuilt from them: its constructor wants two."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(first)


def _raise_no_unpickle(_: int) -> None:
    raise _NoUnpickle("from a worker", "lost")


def test_a_worker_result_the_run_cannot_read_is_named_not_taken_for_a_killed_worker():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        future = pool.submit(_raise_no_unpickle, 0)
        broken = future.exception(timeout=120)
        processes = list(pool._processes.values())
    assert isinstance(broken, BrokenProcessPool) and broken.__cause__ is not None
    err = runner._lost_worker(processes, ["shard-a"], "r1", broken)
    assert type(err) is RuntimeError, err
    assert "a worker's result could not be read (TypeError" in str(err) and "shard(s) shard-a not transformed" in str(
        err
    )


class _ReapedElsewhere:
    """A worker the pool's own thread is reaping at the moment the run asks how it ended: its exit
    code reads None a few times (multiprocessing's ``poll`` answers None on ECHILD) before the
    code that thread records. A stand-in: the race cannot be forced with real processes."""

    def __init__(self, code: int, misses: int) -> None:
        self.code, self.misses = code, misses

    @property
    def exitcode(self) -> int | None:
        if self.misses:
            self.misses -= 1
            return None
        return self.code


def test_a_killed_worker_still_being_reaped_is_named_by_its_own_signal():
    from concurrent.futures.process import BrokenProcessPool

    broken = BrokenProcessPool("A process in the process pool was terminated abruptly")
    workers = [_ReapedElsewhere(-signal.SIGKILL, 3), _ReapedElsewhere(-signal.SIGTERM, 0)]
    err = runner._lost_worker(workers, ["shard-a"], "r1", broken)
    assert isinstance(err, runner.WorkerKilled) and err.signum == signal.SIGKILL
    assert "killed by SIGKILL" in str(err) and "--run-id r1" in str(err)


def test_in_process_a_killed_worker_is_an_exit_code_not_the_death_of_the_caller(dump, tmp_path, monkeypatch, capsys):
    for name, value in _env(URDU_ETL_FAILPOINT="shard_done").items():
        monkeypatch.setenv(name, value)
    argv = ["ingest", str(dump), "--source", "gen", "--format", "jsonl", "--map", MAP, "--date", DAY]
    code = cli.main([*argv, "--data-dir", str(tmp_path), "--run-id", "w", "--workers", "2"])
    assert code == 128 + signal.SIGKILL
    assert "error: a worker process was killed by SIGKILL" in capsys.readouterr().err


def _processes_marked(mark: str) -> list[int]:
    """Processes whose environment holds this test's mark (the run and its workers) still alive a
    few seconds after the run ended (multiprocessing's resource tracker ends on its own, soon after)."""
    for _ in range(50):
        alive = _marked(mark)
        if not alive:
            break
        time.sleep(0.1)
    return alive


def _marked(mark: str) -> list[int]:
    proc = Path("/proc")
    if not (proc / "self" / "environ").exists():
        pytest.skip("needs /proc to find the run's processes")
    alive = []
    for p in proc.iterdir():
        if not p.name.isdigit():
            continue
        try:
            environ = (p / "environ").read_bytes()
            status = (p / "status").read_text()
        except OSError:
            continue
        if f"URDU_ETL_TEST_MARK={mark}".encode() in environ and "State:\tZ" not in status:
            alive.append(int(p.name))
    return alive
