"""Leftovers of killed runs and storage that cannot be written (``etl/housekeeping.py``).

Real processes throughout: runs are ``python -m etl ingest`` subprocesses, killed at a known point
with the failpoints of ``etl/failpoints.py`` (SIGKILL, as a lost worker), or stopped with SIGSTOP
to stand for a live run that is slow. A full disk is a real one: a small tmpfs mounted for the test
where this process may mount (root); everywhere, a real ``EFBIG`` from the kernel through
``RLIMIT_FSIZE`` in the run's process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl import housekeeping
from tests.support import ROOT

DAY = "2024-11-01"
OTHER_DAY = "2024-11-02"
MAP = "external_id=id,headline=title,url=link,body=content,category=gold_label"


def _dump(folder: Path, n: int = 30, name: str = "dump.csv") -> Path:
    path = folder / name
    rows = [
        f"{i},سرخی {i},https://example.pk/{DAY}/{i},لاہور: خبر نمبر {i} کی تفصیل۔ دوسرا جملہ {i}۔,misc"
        for i in range(n)
    ]
    path.write_text("id,title,link,content,gold_label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("URDU_ETL_FAILPOINT", "URDU_ETL_STALE_AFTER")}
    env.update(extra)
    return env


def _args(dump: Path, data: Path, run_id: str | None) -> list[str]:
    args = [sys.executable, "-m", "etl", "ingest", str(dump), "--source", "news", "--format", "csv"]
    args += ["--map", MAP, "--date", DAY, "--data-dir", str(data)]
    return args + (["--run-id", run_id] if run_id else [])


def _ingest(dump: Path, data: Path, run_id: str | None = None, **kw) -> subprocess.CompletedProcess:
    env = _env(**kw.pop("env", {}))
    return subprocess.run(
        _args(dump, data, run_id), capture_output=True, text=True, cwd=ROOT, env=env, timeout=240, **kw
    )


def _lake(lake: Path) -> dict[str, str]:
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*.parquet"))
        if not p.relative_to(lake).parts[0].startswith("_")
    }


def _articles(data: Path) -> int:
    with contextlib.closing(sqlite3.connect(data / "warehouse.db")) as db:
        return db.execute("select count(*) from articles").fetchone()[0]


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The lake an uninterrupted run of the dump leaves."""
    folder = tmp_path_factory.mktemp("baseline")
    proc = _ingest(_dump(folder), folder / "data")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return _lake(folder / "data" / "lake")


def test_a_killed_runs_leftovers_go_with_the_next_run_of_its_day(tmp_path, baseline):
    data, dump = tmp_path / "data", _dump(tmp_path)
    killed = _ingest(dump, data, "dead", env={"URDU_ETL_FAILPOINT": "lake_file:2"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    dead = data / "staging" / DAY / "dead"
    assert (dead / "shards").is_dir() and list((data / "lake" / "_tmp").iterdir())
    # the same leftover under another day, and a folder of an Airflow run paused between two tasks
    shutil.copytree(dead, data / "staging" / OTHER_DAY / "dead")
    paused = data / "staging" / DAY / "airflow_run"
    paused.mkdir()
    (paused / housekeeping.OWNER).write_text(json.dumps({"kernel": housekeeping.KERNEL, "holds_lock": False}))

    after = _ingest(dump, data, "next")
    assert after.returncode == 0, after.stderr[-2000:]
    swept = [line for line in after.stderr.splitlines() if "removed leftovers of killed runs" in line]
    assert len(swept) == 1 and f"staging/{DAY}/dead" in swept[0] and "lake/_tmp/" in swept[0], after.stderr
    assert int(swept[0].rsplit("entries, ", 1)[1].split(" bytes")[0]) > 0
    assert not dead.exists() and list((data / "lake" / "_tmp").iterdir()) == []
    assert sorted(p.name for p in (data / "staging" / DAY).iterdir()) == ["airflow_run", "next"]
    assert (data / "staging" / OTHER_DAY / "dead" / "shards").is_dir()  # another day's: not touched
    assert _lake(data / "lake") == baseline
    assert _articles(data) == 30


def test_a_run_never_removes_what_a_live_run_uses(tmp_path, baseline):
    data, dump = tmp_path / "data", _dump(tmp_path)
    # a live lake writer: this process holds its _tmp entry
    held = housekeeping.claim(data / "lake" / "_tmp" / housekeeping.entry_name("articles"))
    assert held is not None
    (held.path / "part-00000.parquet").write_bytes(b"being written")
    paused = data / "staging" / DAY / "airflow_run"  # an Airflow run's folder, past URDU_ETL_STALE_AFTER below
    paused.mkdir(parents=True)
    (paused / housekeeping.OWNER).write_text(json.dumps({"kernel": housekeeping.KERNEL, "holds_lock": False}))
    slow = subprocess.Popen(
        _args(dump, data, "slow"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env()
    )
    try:
        manifest = data / "staging" / DAY / "slow" / "news" / "manifest.json"
        for _ in range(6000):  # until it has fetched; then it is live and paused between two steps
            if manifest.exists() or slow.poll() is not None:
                break
            time.sleep(0.01)
        os.kill(slow.pid, signal.SIGSTOP)
        assert manifest.exists(), "the first run ended before it could be paused"
        other = _ingest(dump, data, "other", env={"URDU_ETL_STALE_AFTER": "0"})
        assert other.returncode == 0, other.stderr[-2000:]
        assert (data / "staging" / DAY / "slow" / "news" / "files").is_dir()
        assert f"staging/{DAY}/airflow_run" in other.stderr and not paused.exists()
        assert (held.path / "part-00000.parquet").read_bytes() == b"being written"
    finally:
        os.kill(slow.pid, signal.SIGCONT)
    _, err = slow.communicate(timeout=240)
    assert slow.returncode == 0, err[-2000:]
    assert _lake(data / "lake") == baseline
    held.release()  # the writer is gone: the next sweep takes its entry for a leftover at once
    removed = housekeeping.sweep(data / "staging", data / "lake", DAY, "none", 6 * 3600.0)
    assert removed == [(f"lake/_tmp/{held.path.name}", len(b"being written"))]
    assert not held.path.exists() and (data / "staging" / DAY / "slow").is_dir()  # checked runs stay


@contextlib.contextmanager
def _small_disk(where: Path, size: str):
    """A tmpfs of ``size`` mounted at ``where``, or a skip where this process may not mount one."""
    where.mkdir(parents=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root; the RLIMIT_FSIZE test covers a storage fault here")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder: Path) -> None:
    """Write a file into ``folder`` until the disk is full."""
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()


def _assert_one_line(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 7, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1 and all(w in lines[0] for w in words), proc.stderr[-3000:]


def test_a_full_disk_is_one_line_and_leaves_the_lake_as_it_was(tmp_path):
    disk = tmp_path / "disk"
    with _small_disk(disk, "4m"):
        data, lake = tmp_path / "data", disk / "lake"
        first = _ingest(_dump(tmp_path), data, env={"URDU_ETL_LAKE_URL": str(lake)})
        assert first.returncode == 0, first.stderr[-2000:]
        before = _lake(lake)
        _fill(disk)
        bigger = _ingest(_dump(tmp_path, 300, "bigger.csv"), data, env={"URDU_ETL_LAKE_URL": str(lake)})
        _assert_one_line(bigger, "cannot write lake partition", str(lake), "ENOSPC", "keeps its old files")
        assert _lake(lake) == before  # byte-identical partitions
        assert list((lake / "_tmp").iterdir()) == []  # the staged files are gone
        assert _articles(data) == 30

        # staging on the full disk: the fetch says so in one line too
        fetch = _ingest(_dump(tmp_path), disk / "data")
        _assert_one_line(fetch, str(disk / "data"), "ENOSPC")

        # a read-only lake
        (disk / "filler").unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        ro = _ingest(_dump(tmp_path, 300, "bigger.csv"), data, env={"URDU_ETL_LAKE_URL": str(lake)})
        _assert_one_line(ro, str(lake), "EROFS")
        assert _lake(lake) == before


def test_a_file_size_limit_is_one_line_too(tmp_path):
    """``RLIMIT_FSIZE`` makes the kernel refuse a write past the limit with ``EFBIG`` (Python ignores
    SIGXFSZ): here the fetch's staged copy of a dump larger than the limit. Runs without root."""

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_384, 16_384))

    data = tmp_path / "data"
    bigger = _ingest(_dump(tmp_path, 300, "bigger.csv"), data, preexec_fn=limit)
    _assert_one_line(bigger, str(data / "staging"), "EFBIG")
    assert not (data / "lake").exists()


def test_storage_errors_have_their_exit_code_and_kind():
    from etl import errors

    assert (errors.StorageError.exit_code, errors.StorageError.transient) == (7, False)
    assert (errors.StorageFull.exit_code, errors.StorageFull.transient) == (7, True)
