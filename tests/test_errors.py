"""One taxonomy of errors: terminal errors fail an Airflow task without retries, transient ones are
retried; the command line's exit code comes from the error's class; the warehouse falls back to
SQLite only when its Airflow connection is not defined."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from etl import cli, errors, runner
from etl.load import warehouse, warehouse_url
from etl.settings import Settings
from tests.support import ROOT
from tests.support.airflow import dag_test as _dag_test

SAMPLE_DAY = "2021-04-07"


@pytest.mark.parametrize(
    "cls, code, transient",
    [
        (errors.ConfigError, 3, False),
        (errors.FetchError, 4, False),
        (errors.NoDumpError, 4, True),
        (errors.TransientFetchError, 4, True),
        (errors.UnclassifiedFetchError, 4, True),
        (errors.WarehouseError, 5, False),
        (errors.WarehouseUnavailable, 5, True),
        (errors.InvariantError, 1, False),
    ],
)
def test_each_class_has_its_exit_code_and_kind(cls, code, transient, monkeypatch, tmp_path):
    assert (cls.exit_code, cls.transient, errors.is_terminal(cls("x"))) == (code, transient, not transient)

    def fail(*args, **kwargs):
        raise cls("what went wrong")

    monkeypatch.setattr(runner, "run", fail)
    dump = tmp_path / "d.csv"
    dump.write_text("body\nخبر\n", encoding="utf-8")
    argv = [
        "ingest",
        str(dump),
        "--source",
        "s",
        "--format",
        "csv",
        "--map",
        "body=body",
        "--quiet",
        "--data-dir",
        str(tmp_path / "data"),
    ]
    assert cli.main(argv) == code


def test_an_unexpected_value_error_is_a_bug_not_bad_configuration(monkeypatch, tmp_path):
    """pyarrow's errors are ValueErrors too: the CLI no longer calls every ValueError a bad configuration."""

    def fail(*args, **kwargs):
        raise pa.ArrowInvalid("a bug in the pipeline")

    monkeypatch.setattr(runner, "run", fail)
    with pytest.raises(pa.ArrowInvalid):
        cli.main(["run", "--date", SAMPLE_DAY, "--data-dir", str(tmp_path), "--quiet"])


def test_a_locked_database_is_transient_and_a_broken_row_is_not(tmp_path, monkeypatch):
    # a load waits up to SQLITE_BUSY_SECONDS for another run's lock; here, one second
    monkeypatch.setattr(warehouse, "SQLITE_BUSY_SECONDS", 1.0)
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    with warehouse.opened(url):
        pass  # the tables exist
    holder = sqlite3.connect(tmp_path / "wh.db")
    holder.execute("BEGIN EXCLUSIVE")  # another run holds the database
    try:
        with pytest.raises(errors.WarehouseUnavailable, match="database is locked"), warehouse.opened(url):
            pass
    finally:
        holder.rollback()
        holder.close()
    with pytest.raises(errors.WarehouseError) as raised, warehouse.opened(url) as engine, engine.begin() as conn:
        conn.execute(warehouse.sources.insert(), {"name": "x"})  # NOT NULL columns missing
    assert not raised.value.transient and "IntegrityError" in str(raised.value)


def test_on_postgresql_a_lock_timeout_is_transient_and_a_missing_table_is_not(pg_url):
    with warehouse.opened(pg_url) as engine:
        holder = engine.connect()
        holder.begin()
        holder.execute(sa.text("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE"))
        try:
            with (
                pytest.raises(errors.WarehouseUnavailable, match="LockNotAvailable|lock timeout"),
                warehouse.opened(pg_url) as other,
                other.connect() as conn,
            ):
                conn.execute(sa.text("SET lock_timeout = '200ms'"))
                conn.execute(sa.text("SELECT count(*) FROM runs"))  # SQLSTATE 55P03
        finally:
            holder.rollback()
            holder.close()
        with pytest.raises(errors.WarehouseError) as raised, warehouse.opened(pg_url) as other, other.connect() as conn:
            conn.execute(sa.text("SELECT * FROM no_such_table"))  # SQLSTATE 42P01
        assert not raised.value.transient


@pytest.mark.parametrize(
    "value, message",
    [
        ('{"conn_type": "postgres", ', "not a connection URI or JSON"),
        ('{"conn_type": "postgres", "extra": 5}', "extra must be a JSON object"),
        ("mysql://u:p@h/db", "is of type 'mysql'"),
    ],
)
def test_a_connection_that_names_no_usable_database_is_an_error_not_sqlite(monkeypatch, value, message):
    monkeypatch.delenv("URDU_ETL_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_URDU_WAREHOUSE", value)
    with pytest.raises(errors.WarehouseError, match=message):
        warehouse_url.resolve_url(Settings.from_env())


def test_a_postgresql_uri_with_its_driver_is_understood(monkeypatch):
    monkeypatch.delenv("URDU_ETL_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_URDU_WAREHOUSE", "postgresql+psycopg://u:p@h:5433/db")
    assert warehouse_url.resolve_url(Settings.from_env()) == "postgresql+psycopg://u:p@h:5433/db"
    assert warehouse_url.resolve_url(Settings(), conn_id=None).startswith("sqlite:///")


def test_an_api_server_that_fails_is_no_missing_connection(monkeypatch):
    """Inside a task the API server hands out connections. Airflow's own backend answers "none"
    whatever went wrong; here only its "not found" means none. (A stand-in for the supervisor's
    channel: an API server that fails on request is not something the tests can start.)"""
    from airflow.sdk.exceptions import ErrorType
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import ErrorResponse

    class Channel:
        def __init__(self, answer):
            self.answer = answer

        def send(self, message):
            assert message.conn_id == "urdu_warehouse"
            return self.answer

    monkeypatch.setattr(
        task_runner, "SUPERVISOR_COMMS", Channel(ErrorResponse(error=ErrorType.CONNECTION_NOT_FOUND)), raising=False
    )
    assert warehouse_url._from_execution_api("urdu_warehouse") is None
    monkeypatch.setattr(
        task_runner, "SUPERVISOR_COMMS", Channel(ErrorResponse(error=ErrorType.API_SERVER_ERROR)), raising=False
    )
    with pytest.raises(errors.WarehouseUnavailable, match="API_SERVER_ERROR"):
        warehouse_url._from_execution_api("urdu_warehouse")


_RESOLVE = """
import json, sys
import airflow.sdk  # as inside Airflow: its secrets backends are asked
from etl.errors import WarehouseError
from etl.load import warehouse_url
from etl.settings import Settings
try:
    print(json.dumps({"url": warehouse_url.resolve_url(Settings.from_env())}))
except WarehouseError as exc:
    print(json.dumps({"error": str(exc), "kind": type(exc).__name__}))
"""


def _resolve_in_airflow(data_dir: Path, **env: str) -> dict:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("URDU_ETL_WAREHOUSE_URL", "AIRFLOW_CONN_URDU_WAREHOUSE")
    }
    done = subprocess.run(
        [sys.executable, "-c", _RESOLVE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**environ, "PYTHONPATH": str(ROOT), "URDU_ETL_DATA_DIR": str(data_dir), **env},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sqlite_is_the_fallback_only_when_the_connection_is_not_defined(tmp_path):
    assert _resolve_in_airflow(tmp_path) == {"url": f"sqlite:///{tmp_path.resolve() / 'warehouse.db'}"}
    failing = _resolve_in_airflow(tmp_path, AIRFLOW__SECRETS__BACKEND="tests.support.secrets.FailingSecretsBackend")
    assert "FailingSecretsBackend" in failing["error"] and "not falling back to SQLite" in failing["error"]
    assert "connection refused" in failing["error"] and failing["kind"] == "WarehouseUnavailable"  # retried


def test_a_bad_sources_file_fails_the_fetch_task_at_once(airflow_db, tmp_path):
    broken = tmp_path / "sources.yaml"
    broken.write_text("sources: [", encoding="utf-8")
    result = _dag_test(airflow_db, tmp_path / "data", {"date": SAMPLE_DAY}, URDU_ETL_SOURCES=str(broken))
    assert result["state"] == "failed"
    assert result["tis"]["fetch"] == ["failed", 1]  # no retry
    assert "not valid YAML" in result["log"] and "AirflowFailException" in result["log"]


def test_a_failing_secrets_backend_stops_the_load_instead_of_loading_into_sqlite(airflow_db, tmp_path):
    """The backend's failure may pass, so Airflow would retry the load; with no retries left the
    run fails, and nothing has gone into a local SQLite file meanwhile."""
    data = tmp_path / "data"
    result = _dag_test(
        airflow_db,
        data,
        {"date": SAMPLE_DAY},
        "no-retries",
        AIRFLOW__SECRETS__BACKEND="tests.support.secrets.FailingSecretsBackend",
    )
    assert result["state"] == "failed"
    assert result["tis"]["write_lake"] == ["success", 1]
    assert result["tis"]["load_warehouse"] == ["failed", 1]
    assert result["tis"]["check"][0] == "upstream_failed"
    assert not (data / "warehouse.db").exists()  # nothing went quietly into a local file
    assert "WarehouseUnavailable" in result["log"] and "not falling back to SQLite" in result["log"]


def test_the_dag_retries_transient_errors_and_fails_terminal_ones_at_once():
    """The DAG's wrapper: a terminal error becomes AirflowFailException (no retry); any other
    exception, transient ones included, is raised as it is, for Airflow to retry."""
    from airflow.sdk.exceptions import AirflowFailException

    sys.path.insert(0, str(ROOT / "dags"))
    try:
        import urdu_news_nightly as dag_file
    finally:
        sys.path.remove(str(ROOT / "dags"))

    def raising(exc):
        return dag_file.terminal_errors_fail(lambda: (_ for _ in ()).throw(exc))

    with pytest.raises(AirflowFailException, match="ConfigError: bad"):
        raising(errors.ConfigError("bad"))()
    with pytest.raises(AirflowFailException, match="InvariantError"):
        raising(errors.InvariantError("counts"))()
    for exc in (errors.TransientFetchError("503"), errors.WarehouseUnavailable("locked"), OSError("disk")):
        with pytest.raises(type(exc)):
            raising(exc)()
