"""The runs view (plugins/urdu_news_plugin.py) in the Airflow UI.

The slow test runs the real services: ``airflow standalone`` on 127.0.0.1 with a PostgreSQL
metadata DB and warehouse, triggers the DAG for the sample day through the REST API, then drives
headless Chromium as a person would: sign in, open *Browse*, follow the "Urdu news runs" link, read
the run's row, click through to the day's report. Screenshots go to ``test-artifacts/``.

The quick tests exercise the view's FastAPI app directly (Airflow's permission check replaced by a
stub): what it reads from a real pipeline run, escaping, the report route, and read-only access.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import ROOT
from tests.support.airflow import api_call as _call
from tests.support.airflow import create_pools, standalone, standalone_env
from tests.support.airflow import wait_for as _wait
from tests.support.services import _free_port

PLUGIN_FILE = ROOT / "plugins" / "urdu_news_plugin.py"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
DAG_ID = "urdu_news_nightly"
DAY = "2021-04-07"  # the bundled sample day: 15 records in, 12 loaded, 1 duplicate, 2 rejected
SAMPLE = {"records_in": 15, "loaded": 12, "duplicates": 1, "rejected": 2}
SAMPLE_SOURCES = {"sample_bbc": 2, "sample_csv": 3, "sample_jsonl": 4, "sample_seed": 3}  # loaded per source
REPORT_H1 = "Urdu news run report"

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def _plugin_module():
    """The plugin file, imported the way Airflow imports a plugins-folder file."""
    name = "urdu_news_plugin_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, PLUGIN_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _client():
    from fastapi.testclient import TestClient

    return TestClient(_plugin_module().create_app(authorize=lambda: None))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[Path, str]:
    """A data dir holding one real pipeline run of the sample day (SQLite warehouse); its run id."""
    from etl.cli import main

    root = tmp_path_factory.mktemp("ui") / "data"
    assert main(["run", "--date", DAY, "--data-dir", str(root)]) == 0
    summary = json.loads((root / "runs" / DAY / "summary.json").read_text(encoding="utf-8"))
    return root, summary["run_id"]


# --------------------------------------------------------------------------- #
# Quick: the plugin and its app
# --------------------------------------------------------------------------- #


def test_airflow_loads_the_plugin_and_loading_it_stays_cheap(tmp_path):
    env = {
        **os.environ,
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW_HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys, json\n"
                "from airflow import plugins_manager\n"
                "plugins, errors = plugins_manager._get_plugins()\n"
                "ours = [p for p in plugins if p.name == 'urdu_news']\n"
                "views = plugins_manager._get_ui_plugins()[0]\n"
                "print(json.dumps({'errors': errors, 'found': len(ours), 'views': views,\n"
                "                  'heavy': [m for m in ('fastapi', 'etl') if m in sys.modules]}))\n"
            ),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    loaded = json.loads(probe.stdout.strip().splitlines()[-1])
    assert loaded["errors"] == {} and loaded["found"] == 1
    assert loaded["heavy"] == []  # the scheduler, dag-processor and workers import the file too
    (view,) = [v for v in loaded["views"] if v["url_route"] == "urdu-news"]
    assert view == {
        "name": "Urdu news runs",
        "href": "urdu-news/",
        "url_route": "urdu-news",
        "destination": "nav",
        "category": "browse",
    }

    listed = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "plugins", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    (info,) = [p for p in json.loads(listed.stdout[listed.stdout.index("[") :]) if p["name"] == "urdu_news"]
    assert [(a["url_prefix"], a["name"]) for a in info["fastapi_apps"]] == [("/urdu-news", "Urdu news runs")]


def test_the_view_lists_a_real_run_with_its_sources_and_report(sample_run, monkeypatch):
    root, run_id = sample_run
    monkeypatch.setenv("URDU_ETL_DATA_DIR", str(root))
    monkeypatch.delenv("URDU_ETL_WAREHOUSE_URL", raising=False)
    report = root / "runs" / DAY / "report.html"
    if not report.exists():  # written by the DAG's check task; stand in for it here
        report.write_text(f"<!DOCTYPE html><h1>{REPORT_H1}</h1><p>{run_id} {DAY}</p>", encoding="utf-8")
    client = _client()

    listed = client.get("/api/runs").json()
    assert listed["warehouse"] == "sqlite" and listed["problem"] is None
    (run,) = listed["runs"]
    assert run["run_id"] == run_id and run["day"] == DAY and run["status"] == "ok"
    assert {k: run[k] for k in SAMPLE} == SAMPLE
    assert {d["source"]: d["loaded"] for d in run["dumps"]} == SAMPLE_SOURCES
    assert run["report"] == f"report/{DAY}"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", run["started_at"]), run["started_at"]

    page = client.get("/")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert f'<tr class="run" data-run-id="{run_id}">' in page.text
    assert '<td class="num loaded">12</td>' in page.text and '<span class="status status-ok">ok</span>' in page.text
    assert f'<a href="report/{DAY}">' in page.text and "sample_jsonl" in page.text

    served = client.get(f"/report/{DAY}")
    assert served.status_code == 200 and served.content == report.read_bytes()
    assert served.headers["content-type"].startswith("text/html")
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_report_days_are_validated_and_missing_reports_say_so(sample_run, monkeypatch):
    root, _ = sample_run
    monkeypatch.setenv("URDU_ETL_DATA_DIR", str(root))
    client = _client()
    missing = client.get("/report/2021-04-08")
    assert missing.status_code == 404 and "No run report for 2021-04-08" in missing.text
    for bad in ("2021-4-7", "2021-02-30", "..%2F..%2Fetc", "<b>x</b>"):
        answer = client.get(f"/report/{bad}")
        assert answer.status_code in (400, 404), bad
        assert "<b>x</b>" not in answer.text
    assert client.get("/report/2021-02-30").status_code == 400
    answer = client.get("/report/%3Cb%3Ex")
    assert answer.status_code == 400 and "is not a date" in answer.text
    assert "&lt;b&gt;x" in answer.text and "<b>x" not in answer.text


def test_text_from_the_warehouse_is_escaped(sample_run, monkeypatch, tmp_path):
    root, _ = sample_run
    copy = tmp_path / "data"
    copy.mkdir()
    (copy / "warehouse.db").write_bytes((root / "warehouse.db").read_bytes())
    engine = sa.create_engine(f"sqlite:///{copy / 'warehouse.db'}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into runs (run_id, day, started_at, finished_at, status, sources, records_in, loaded, duplicates, "
                "rejected) "
                "values ('<script>alert(1)</script>', '2030-01-01', '2030-01-01 00:00:00', '2030-01-01 00:00:01', '<b>ok</b>', "
                "'<i>src</i>', 1, 1, 0, 0)"
            )
        )
    engine.dispose()
    monkeypatch.setenv("URDU_ETL_DATA_DIR", str(copy))
    page = _client().get("/").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>ok</b>" not in page and "&lt;b&gt;ok&lt;/b&gt;" in page and "<i>src</i>" not in page
    assert page.index("&lt;script&gt;") < page.index('data-run-id="cli__')  # newest first


def test_no_warehouse_yet_is_said_and_nothing_is_created(tmp_path, monkeypatch):
    monkeypatch.setenv("URDU_ETL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("URDU_ETL_WAREHOUSE_URL", raising=False)
    client = _client()
    page = client.get("/")
    assert page.status_code == 200 and "No warehouse yet" in page.text
    assert client.get("/api/runs").json()["runs"] == []
    assert not (tmp_path / "warehouse.db").exists()


def test_a_warehouse_that_cannot_be_found_is_said_not_a_bare_error(tmp_path, monkeypatch):
    monkeypatch.setenv("URDU_ETL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("URDU_ETL_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_URDU_WAREHOUSE", "mysql://u@h/db")  # no database the pipeline loads
    client = _client()
    page = client.get("/")
    assert page.status_code == 503 and "Cannot find the warehouse" in page.text and "mysql" in page.text
    monkeypatch.setenv("URDU_ETL_SHARD_MB", "lots")  # any bad setting stops the page the same way
    answer = client.get("/api/runs")
    assert answer.status_code == 503 and "URDU_ETL_SHARD_MB" in answer.json()["problem"]
    report = client.get("/report/2021-04-07")
    assert report.status_code == 503 and "URDU_ETL_SHARD_MB" in report.text


def test_the_warehouse_is_opened_read_only(sample_run, pg_url):
    plugin = _plugin_module()
    root, _ = sample_run
    sqlite_url = f"sqlite:///{root / 'warehouse.db'}"
    with plugin._read_only_engine(sqlite_url).connect() as conn:
        assert conn.execute(sa.text("select count(*) from runs")).scalar_one() == 1
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            conn.execute(sa.text("delete from runs"))

    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "create table runs (run_id varchar(250) primary key, day date, started_at timestamptz, "
                "finished_at timestamptz, status varchar(20), sources text, records_in int, loaded int, "
                "duplicates int, rejected int)"
            )
        )
        conn.execute(sa.text("insert into runs values ('r1', '2021-04-07', now(), now(), 'ok', 'a,b', 3, 2, 1, 0)"))
    engine.dispose()
    (run,) = plugin.read_runs(pg_url, root)
    assert run["run_id"] == "r1" and run["day"] == DAY and run["sources"] == ["a", "b"] and run["dumps"] == []
    with (
        plugin._read_only_engine(pg_url).connect() as conn,
        pytest.raises(sa.exc.InternalError, match="read-only transaction"),
    ):
        conn.execute(sa.text("delete from runs"))


# --------------------------------------------------------------------------- #
# Slow: the real services and a real browser
# --------------------------------------------------------------------------- #


def _browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.mark.slow
@pytest.mark.timeout(900)  # a whole run or cluster; pytest.ini gives every other test 300 s
def test_the_runs_view_in_the_airflow_ui(tmp_path, pg_server):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: `make test` installs them (Debian's chromium and chromium-driver) "
            "as root or with passwordless sudo; else run tests/support/system-packages.sh as root",
            pytrace=False,
        )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    metadata_db, warehouse_db = f"af_{uuid.uuid4().hex[:8]}", f"wh_{uuid.uuid4().hex[:8]}"
    pg_server.create_database(metadata_db)
    pg_server.create_database(warehouse_db)
    api_port = _free_port()
    base = f"http://127.0.0.1:{api_port}"
    home = tmp_path / "airflow"
    env = standalone_env(
        home,
        pg_server.url(metadata_db),
        api_port,
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        URDU_ETL_DATA_DIR=str(tmp_path / "data"),
        URDU_ETL_WAREHOUSE_URL=pg_server.url(warehouse_db),
    )
    env.pop("URDU_ETL_SOURCES", None)  # the bundled sources file: the sample dumps
    log = tmp_path / "standalone.log"
    ARTIFACTS.mkdir(exist_ok=True)
    run_id = f"ui_test__{uuid.uuid4().hex[:8]}"

    with standalone(env, log):
        _wait("API server", lambda: _call("GET", f"{base}/api/v2/monitor/health")[0] == 200, 180, log)
        # standalone generates the admin's password for the simple auth manager here
        passwords = home / "simple_auth_manager_passwords.json.generated"
        password = _wait(
            "admin password",
            lambda: passwords.exists() and json.loads(passwords.read_text() or "{}").get("admin"),
            60,
            log,
            every=1,
        )
        status, answer = _call("POST", f"{base}/auth/token", body={"username": "admin", "password": password})
        assert status in (200, 201), answer
        token = answer["access_token"]

        _wait("the DAG", lambda: _call("GET", f"{base}/api/v2/dags/{DAG_ID}", token)[0] == 200, 180, log)
        create_pools(env)
        status, answer = _call("PATCH", f"{base}/api/v2/dags/{DAG_ID}", token, {"is_paused": False})
        assert status == 200 and answer["is_paused"] is False, answer
        status, answer = _call(
            "POST",
            f"{base}/api/v2/dags/{DAG_ID}/dagRuns",
            token,
            {"dag_run_id": run_id, "logical_date": dt.datetime.now(dt.UTC).isoformat(), "conf": {"date": DAY}},
        )
        assert status == 200, answer

        def finished():
            state = _call("GET", f"{base}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", token)[1]
            return isinstance(state, dict) and state.get("state") in ("success", "failed") and state["state"]

        final = _wait("the DAG run", finished, 360, log, every=3)
        if final != "success":
            tis = _call("GET", f"{base}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", token)[1]
            pytest.fail(f"DAG run {run_id} {final}: {tis}\n{log.read_text()[-4000:]}")

        # the view's JSON needs Airflow credentials like the rest of the API
        assert _call("GET", f"{base}/urdu-news/api/runs")[0] == 401
        status, listed = _call("GET", f"{base}/urdu-news/api/runs", token)
        assert status == 200 and listed["warehouse"] == "postgresql", listed
        (run,) = [r for r in listed["runs"] if r["run_id"] == run_id]
        assert run["status"] == "ok" and {k: run[k] for k in SAMPLE} == SAMPLE, run

        driver = _browser(tmp_path / "chromium-profile")
        wait = WebDriverWait(driver, 60)
        try:
            # sign in as a person does
            driver.get(f"{base}/")
            wait.until(ec.visibility_of_element_located((By.NAME, "username"))).send_keys("admin")
            driver.find_element(By.NAME, "password").send_keys(password)
            driver.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()

            # the Browse menu of the Airflow UI holds the link to the view
            browse = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label='Browse']")))
            browse.click()
            link = wait.until(
                ec.visibility_of_element_located(
                    (By.XPATH, "//*[@role='menuitem'][contains(normalize-space(), 'Urdu news runs')]")
                )
            )
            driver.save_screenshot(str(ARTIFACTS / "ui-1-airflow-nav-link.png"))
            link.click()
            wait.until(ec.url_contains("/plugin/urdu-news"))

            # the view, inside the Airflow page: the run's row as a person reads it
            wait.until(ec.frame_to_be_available_and_switch_to_it((By.TAG_NAME, "iframe")))
            row = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, f"tr[data-run-id='{run_id}']")))
            cells = {
                name: row.find_element(By.CSS_SELECTOR, f"td.{name}").text
                for name in ("day", "run-id", "records-in", "loaded", "duplicates", "rejected")
            }
            assert cells == {
                "day": DAY,
                "run-id": run_id,
                "records-in": "15",
                "loaded": "12",
                "duplicates": "1",
                "rejected": "2",
            }, cells
            assert row.find_element(By.CSS_SELECTOR, "span.status").text == "ok"
            per_source = row.find_element(By.CSS_SELECTOR, "td.per-source").text
            assert all(source in per_source for source in SAMPLE_SOURCES), per_source
            driver.switch_to.default_content()
            driver.save_screenshot(str(ARTIFACTS / "ui-2-runs-view.png"))

            # click through to the day's report, still inside the Airflow page
            driver.switch_to.frame(driver.find_element(By.TAG_NAME, "iframe"))
            row = driver.find_element(By.CSS_SELECTOR, f"tr[data-run-id='{run_id}']")
            row.find_element(By.LINK_TEXT, f"Report {DAY}").click()
            heading = wait.until(ec.visibility_of_element_located((By.TAG_NAME, "h1")))
            assert heading.text == REPORT_H1, driver.page_source[:2000]
            body = driver.find_element(By.TAG_NAME, "body").text
            assert run_id in body and DAY in body, body[:2000]
            driver.switch_to.default_content()
            driver.save_screenshot(str(ARTIFACTS / "ui-3-report.png"))
        except Exception:
            driver.switch_to.default_content()
            driver.save_screenshot(str(ARTIFACTS / "ui-failure.png"))
            (ARTIFACTS / "ui-failure.html").write_text(driver.page_source, encoding="utf-8")
            raise
        finally:
            driver.quit()
