"""Crash safety: a run killed with SIGKILL at any stage boundary, in the middle of writing Parquet or in
the middle of the warehouse load, then resumed, leaves exactly what an uninterrupted run leaves."""

import hashlib
import os
import signal
import subprocess
import sys

import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa

from etl.failpoints import POINTS
from tests.support import ROOT

DAY = "2021-04-07"
TABLES = ("articles", "sentences", "rejects", "duplicates", "mentions", "entities")


def _etl(data_dir, run_id, failpoint=None):
    """A run of the day; one killed at a failpoint transforms in one process, where ``name:n`` counts
    the run's n-th shard (a worker of a pool counts its own); the others use the default pool."""
    env = {k: v for k, v in os.environ.items() if k != "URDU_ETL_FAILPOINT"}
    workers = []
    if failpoint:
        env["URDU_ETL_FAILPOINT"] = failpoint
        workers = ["--workers", "1"]
    return subprocess.run(
        [sys.executable, "-m", "etl", "run", "--date", DAY, "--data-dir", str(data_dir), "--run-id", run_id, *workers],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )


def _lake(data_dir):
    lake = data_dir / "lake"
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*.parquet"))
        if not p.relative_to(lake).parts[0].startswith("_")
    }


def _warehouse(data_dir):
    engine = sa.create_engine(f"sqlite:///{data_dir / 'warehouse.db'}")
    out = {}
    with engine.connect() as conn:
        for t in TABLES:
            rows = conn.execute(sa.text(f"select * from {t} order by 1, 2, 3")).all()
            out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    data = tmp_path_factory.mktemp("baseline")
    proc = _etl(data, "baseline")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return _lake(data), _warehouse(data)


@pytest.mark.slow
@pytest.mark.timeout(900)  # a whole run or cluster; pytest.ini gives every other test 300 s
@pytest.mark.parametrize("failpoint", [*POINTS, "shard_done:3", "lake_file:5"])
def test_killed_run_resumes_to_the_same_outputs(tmp_path, baseline, failpoint):
    data = tmp_path / "data"
    crashed = _etl(data, "r1", failpoint)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    # whatever the crash left, readers see only whole files
    for table in TABLES:
        folder = data / "lake" / table
        if folder.exists():
            ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    resumed = _etl(data, "r1")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert (_lake(data), _warehouse(data)) == baseline
    if failpoint.startswith("shard_done") or failpoint in ("lake_file", "lake_written", "load_deleted", "loaded"):
        assert "already done for these inputs; reusing" in resumed.stderr  # finished shards are not redone


def test_three_runs_leave_identical_outputs(tmp_path, baseline):
    data = tmp_path / "data"
    for run in ("a", "b", "c"):
        assert _etl(data, run).returncode == 0
        assert (_lake(data), _warehouse(data)) == baseline
