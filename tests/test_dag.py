"""DAG integrity: it imports cleanly and cheaply, and its schedule is a real one-day interval."""

import datetime as dt
import json
import subprocess
import sys

from airflow.dag_processing.dagbag import DagBag

from tests.support import ROOT

DAG_ID = "urdu_news_nightly"


def _dag():
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


def test_no_import_errors_and_task_graph():
    dag = _dag()
    assert set(dag.task_ids) == {"fetch", "transform", "write_lake", "load_warehouse", "check"}
    assert dag.get_task("transform").upstream_task_ids == {"fetch"}
    assert dag.get_task("write_lake").upstream_task_ids == {"transform"}
    assert dag.get_task("load_warehouse").upstream_task_ids == {"write_lake"}
    assert dag.get_task("check").upstream_task_ids == {"write_lake", "load_warehouse"}
    assert not dag.catchup
    assert all(t.retries == 2 for t in dag.tasks if t.task_id != "check")
    assert dag.get_task("check").retries == 0
    assert dag.dagrun_timeout == dt.timedelta(hours=12)
    assert all(t.execution_timeout is not None for t in dag.tasks)
    assert {t.task_id for t in dag.tasks if t.pool == "urdu_warehouse"} == {"load_warehouse", "check"}


def test_tasks_declare_the_tables_they_write_as_assets():
    from etl import schema
    from etl.contracts import LAKE_TABLES, WAREHOUSE_TABLES
    from etl.load import warehouse

    assert set(LAKE_TABLES) == {*schema.TABLES, "signatures"}
    assert set(WAREHOUSE_TABLES) == set(warehouse.metadata.tables)
    dag = _dag()
    outlets = {t.task_id: sorted(a.name for a in t.outlets) for t in dag.tasks}
    assert outlets["write_lake"] == sorted(f"urdu_news.lake.{t}" for t in LAKE_TABLES)
    assert outlets["load_warehouse"] == sorted(f"urdu_news.warehouse.{t}" for t in WAREHOUSE_TABLES)
    assert outlets["fetch"] == outlets["transform"] == outlets["check"] == []


def test_schedule_has_a_one_day_data_interval():
    """A cron string alone gives a zero-width interval in Airflow 3; this DAG must not."""
    import pendulum
    from airflow.sdk import CronDataIntervalTimetable
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    from etl.tasks.fetch import resolve_day

    dag = _dag()
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "0 0 * * *"
    core = coerce_to_core_timetable(dag.timetable)
    info = core.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=pendulum.datetime(2024, 1, 1), latest=None, catchup=False),
    )
    start, end = info.data_interval.start, info.data_interval.end
    assert end - start == dt.timedelta(days=1)
    assert info.run_after == end  # the run starts once its day is over
    # the day processed is the interval's (local) calendar day: midnight to midnight
    tz = dag.timetable.timezone
    assert start.in_timezone(tz).hour == 0
    assert tz == "Asia/Karachi"
    assert resolve_day(None, start, tz) == start.in_timezone(tz).date()
    manual = core.infer_manual_data_interval(run_after=pendulum.datetime(2024, 11, 8, 12, tz="UTC"))
    assert manual.end - manual.start == dt.timedelta(days=1)


def test_params_for_manual_runs():
    params = _dag().params
    assert set(params.keys()) == {"date", "sources", "dump_url", "missing_dump_ok"}
    assert params["sources"] == [] and params["date"] is None and params["missing_dump_ok"] is True


def test_dag_file_has_no_heavy_imports_at_top_level():
    """Parsing the DAG file adds nothing heavy to what ``airflow.sdk`` itself imports."""
    code = (
        "import runpy, sys, json; import airflow.sdk; before = set(sys.modules); "
        "runpy.run_path(sys.argv[1]); "
        "print(json.dumps(sorted(m for m in set(sys.modules) - before if not m.startswith('airflow'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "dags" / "urdu_news_nightly.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    added = json.loads(out.stdout.strip().splitlines()[-1])
    assert not [m for m in added if m.split(".")[0] in ("pandas", "pyarrow", "sqlalchemy", "fsspec", "numba")], added
    # of the pipeline, only what the DAG reads at parse time, all standard library: settings, errors, contracts
    assert {m for m in added if m.split(".")[0] == "etl"} == {"etl", "etl.settings", "etl.errors", "etl.contracts"}
