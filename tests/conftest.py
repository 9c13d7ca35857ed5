"""Test session set-up: a throw-away Airflow home, and fixtures shared by the suites.

Airflow reads ``AIRFLOW_HOME`` once, at import, so it is set here before anything imports it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.services"]

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="urdu-etl-airflow-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
)
# Fetch retries keep their count but not their waits, so fault tests stay quick.
os.environ["URDU_ETL_FETCH_BACKOFF"] = "0.05"
for var in ("URDU_ETL_WAREHOUSE_URL", "URDU_ETL_DATA_DIR", "URDU_ETL_SOURCES", "AIRFLOW_CONN_URDU_WAREHOUSE"):
    os.environ.pop(var, None)
# the checkout is the home folder (its config/sources.yaml, its data/), whatever folder a task runs in
os.environ["URDU_ETL_HOME"] = str(ROOT)


#: Fixtures that start a server process; a test using one is marked ``services`` (make test-fast leaves it out).
SERVICE_FIXTURES = frozenset({"pg_server", "pg_url", "redis_server", "s3_server"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata DB (SQLite) in the session's Airflow home."""
    airflow = Path(sys.executable).with_name("airflow")
    proc = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return _AIRFLOW_HOME


@pytest.fixture
def corpora() -> Path:
    """The shared real-news corpora; tests that need them skip, saying so, when they are absent."""
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at ../shared/corpora (looked in {CORPORA})")
    return CORPORA


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh data dir (lake, staging, SQLite warehouse) that the pipeline uses for this test."""
    root = tmp_path / "data"
    monkeypatch.setenv("URDU_ETL_DATA_DIR", str(root))
    return root
