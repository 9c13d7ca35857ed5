"""Helpers for tests that run the real Airflow services: ``airflow standalone`` (scheduler, API
server, dag-processor, triggerer, LocalExecutor) in its own process group, on a PostgreSQL
metadata DB, with free ports for the API server and the log servers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from etl.pipeline import ROOT
from tests.support.services import _free_port

AIRFLOW = Path(sys.executable).with_name("airflow")


def standalone_env(airflow_home: Path, metadata_url: str, api_port: int, **extra: str) -> dict[str, str]:
    """Environment for ``airflow standalone`` and the ``airflow`` CLI: this repository's DAGs, a
    LocalExecutor, the metadata DB at ``metadata_url``, the API server on ``api_port`` (which the
    task runner reaches through ``EXECUTION_API_SERVER_URL``), free log-server ports, the venv's
    ``bin`` first on PATH and ``import etl`` working. ``extra`` is added last (and wins)."""
    return {
        **os.environ,
        "PATH": f"{AIRFLOW.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def airflow_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``airflow <args>`` with ``env``; output captured as text."""
    return subprocess.run([str(AIRFLOW), *args], env=env, capture_output=True, text=True, timeout=timeout)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running (zombies, which only wait to be
    reaped, do not count; read from /proc where there is one)."""
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc_dir.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


@contextlib.contextmanager
def standalone(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """``airflow standalone`` running with ``env`` (output to ``log_path``) for the ``with`` block.

    Afterwards its whole process group gets SIGTERM, and SIGKILL if any member is still there
    30 s later: a scheduler that outlives ``standalone`` (stuck in its shutdown, say) would
    otherwise keep running after the test."""
    log = open(log_path, "w")
    proc = subprocess.Popen([str(AIRFLOW), "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        log.close()
