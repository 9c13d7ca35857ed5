"""Helpers for tests that run the real Airflow services: ``airflow standalone`` (scheduler, API
server, dag-processor, triggerer, LocalExecutor) in its own process group, on a PostgreSQL
metadata DB, with free ports for the API server and the log servers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT
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


def create_pools(env: dict[str, str]) -> None:
    """The DAG's pools (``config/pools.json``) in the metadata DB of ``env``, as deployments create them."""
    done = airflow_cli(env, "pools", "import", str(ROOT / "config" / "pools.json"))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def api_call(method: str, url: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    """One HTTP request; (status, decoded JSON or text). Status 0: nothing listening yet."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def log_tails(logs: Path | Iterable[Path], nchars: int = 4000) -> str:
    """The last ``nchars`` of each log, headed by its name, for a failure message."""
    paths = [logs] if isinstance(logs, Path) else list(logs)
    return "\n".join(
        f"--- {p.name} (tail) ---\n" + (p.read_text(errors="replace")[-nchars:] if p.exists() else "(none)")
        for p in paths
    )


def wait_for(
    what: str, check: Callable[[], Any], timeout: float, logs: Path | Iterable[Path], every: float = 2.0
) -> Any:
    """``check()``'s first truthy result, polled every ``every`` s; past ``timeout`` s the test fails
    with the tails of ``logs``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}: timed out after {timeout:.0f} s\n{log_tails(logs)}"
        time.sleep(every)


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


def _stop_groups(procs: list[subprocess.Popen], grace: float = 30) -> None:
    """SIGTERM to the process group of each of ``procs``, then SIGKILL to any group with a member
    still there ``grace`` seconds later (a scheduler stuck in its shutdown, say, would otherwise
    keep running after the test)."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    while any(_group_alive(p.pid) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.5)
    for proc in procs:
        if _group_alive(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


@contextlib.contextmanager
def process_groups(
    commands: dict[str, tuple[list[str], dict[str, str]]], log_dir: Path
) -> Iterator[dict[str, subprocess.Popen]]:
    """Each of ``commands`` (name -> (argv, env)) running in a process group of its own for the
    ``with`` block, its output in ``log_dir/<name>.log``; all of them stopped after (``_stop_groups``),
    whatever happened inside the block."""
    procs: dict[str, subprocess.Popen] = {}
    logs = []
    try:
        for name, (argv, env) in commands.items():
            log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed when the cluster stops
            logs.append(log)
            procs[name] = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        yield procs
    finally:
        _stop_groups(list(procs.values()))
        for log in logs:
            log.close()


@contextlib.contextmanager
def standalone(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """``airflow standalone`` running with ``env`` (output to ``log_path``) for the ``with`` block,
    its whole process group stopped after."""
    with process_groups({log_path.stem: ([str(AIRFLOW), "standalone"], env)}, log_path.parent) as procs:
        yield procs[log_path.stem]


_DAG_TEST = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags["urdu_news_nightly"]
if sys.argv[3] == "no-retries":  # a transient error then fails its task at once, as after its last retry
    for task in dag.tasks:
        task.retries = 0
run = dag.test(run_conf=json.loads(sys.argv[2]))
tis = run.get_task_instances()
print(json.dumps({"state": run.state,
                  "tis": {ti.task_id: [ti.state, ti.try_number] for ti in tis},
                  "instances": {t: sum(ti.task_id == t for ti in tis) for t in {ti.task_id for ti in tis}}}))
"""


def dag_test(airflow_home: Path, data_dir: Path, conf: dict, retries: str = "retries", **env: str) -> dict:
    """``dag.test()`` of the nightly DAG in a process of its own, with ``conf`` and ``env``: the run's
    state, each task's state and try number (``tis``), its instances (``instances``: a mapped task
    has one per shard) and the process's output (``log``). ``retries="no-retries"`` sets every
    task's retries to 0. A task that Airflow retries would wait out its five-minute retry delay
    first: the time limit turns that into a failure."""
    environ = {
        k: v for k, v in os.environ.items() if k not in ("URDU_ETL_WAREHOUSE_URL", "AIRFLOW_CONN_URDU_WAREHOUSE")
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", _DAG_TEST, str(ROOT / "dags"), json.dumps(conf), retries],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=ROOT,
            env={
                **environ,
                "AIRFLOW_HOME": str(airflow_home),
                "PYTHONPATH": str(ROOT),
                "URDU_ETL_DATA_DIR": str(data_dir),
                **env,
            },
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"dag.test() did not end in 240 s: a failed task waits for a retry\n{(exc.stderr or b'')[-3000:]!r}"
        )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"log": done.stdout + done.stderr}
