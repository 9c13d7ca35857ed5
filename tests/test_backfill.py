"""A 10-day backfill through the real scheduler: ``airflow standalone`` (scheduler, API server,
dag-processor, triggerer, LocalExecutor) on a PostgreSQL metadata DB, ``airflow backfill create``,
and the warehouse on the same PostgreSQL server. Runs overlap (max 4 at once): no deadlock, no
duplicate row, every day loaded."""

import datetime as dt
import json
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.airflow import airflow_cli as _airflow
from tests.support.airflow import create_pools, standalone, standalone_env
from tests.support.services import _free_port

FIRST, LAST = dt.date(2024, 11, 1), dt.date(2024, 11, 10)
PER_DAY = 12


def _dumps(root: Path) -> Path:
    for k in range(-2, 13):
        day = FIRST + dt.timedelta(days=k)
        folder = root / "dumps" / day.isoformat()
        folder.mkdir(parents=True)
        rows = [
            f"{i},سرخی {day} {i},https://example.pk/{day}/{i},لاہور: {day} کی خبر نمبر {i}۔ دوسرا جملہ۔,misc"
            for i in range(PER_DAY)
        ]
        (folder / "news.csv").write_text(
            "id,title,link,content,gold_label\n" + "\n".join(rows) + "\n", encoding="utf-8"
        )
    sources = root / "sources.yaml"
    sources.write_text(
        "sources:\n  - name: news\n    url: '" + str(root / "dumps") + "/{date}/news.csv'\n"
        "    format: csv\n"
        "    columns: {external_id: id, headline: title, url: link, body: content, category: gold_label}\n",
        encoding="utf-8",
    )
    return sources


def _runs(env) -> list[dict]:
    """The DAG's runs, from the JSON line of ``airflow dags list-runs`` (warnings may precede it)."""
    proc = _airflow(env, "dags", "list-runs", "urdu_news_nightly", "-o", "json")
    for line in proc.stdout.splitlines():
        if line.startswith("[{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return []


@pytest.mark.slow
@pytest.mark.timeout(900)  # a whole run or cluster; pytest.ini gives every other test 300 s
def test_backfill_with_the_real_scheduler(tmp_path, pg_server):
    metadata_db, warehouse_db = f"af_{uuid.uuid4().hex[:8]}", f"wh_{uuid.uuid4().hex[:8]}"
    pg_server.create_database(metadata_db)
    pg_server.create_database(warehouse_db)
    api_port = _free_port()
    env = standalone_env(
        tmp_path / "airflow",
        pg_server.url(metadata_db),
        api_port,
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        URDU_ETL_DATA_DIR=str(tmp_path / "data"),
        URDU_ETL_SOURCES=str(_dumps(tmp_path)),
        URDU_ETL_WAREHOUSE_URL=pg_server.url(warehouse_db),
    )
    with standalone(env, tmp_path / "standalone.log"):
        deadline = time.monotonic() + 180
        while True:  # wait for the dag-processor to register the DAG
            listed = _airflow(env, "dags", "list", "-o", "json")
            if listed.returncode == 0 and "urdu_news_nightly" in listed.stdout:
                break
            assert time.monotonic() < deadline, (
                "the DAG never appeared:\n" + (tmp_path / "standalone.log").read_text()[-3000:]
            )
            time.sleep(3)
        create_pools(env)
        created = _airflow(
            env,
            "backfill",
            "create",
            "--dag-id",
            "urdu_news_nightly",
            "--from-date",
            FIRST.isoformat(),
            "--to-date",
            LAST.isoformat(),
            "--max-active-runs",
            "4",
        )
        assert created.returncode == 0, created.stderr[-3000:]
        deadline = time.monotonic() + 600
        while True:
            backfill = [r for r in _runs(env) if r["run_id"].startswith("backfill__")]
            if backfill and all(r["state"] in ("success", "failed") for r in backfill):
                break
            assert time.monotonic() < deadline, f"backfill did not finish: {backfill}"
            time.sleep(5)
    assert len(backfill) >= 9 and {r["state"] for r in backfill} == {"success"}, backfill
    engine = sa.create_engine(pg_server.url(warehouse_db))
    with engine.connect() as conn:
        per_day = dict(conn.execute(sa.text("select ingest_date, count(*) from articles group by 1")).all())
        duplicate_ids = conn.execute(
            sa.text("select count(*) from (select article_id from articles group by 1 having count(*) > 1) d")
        ).scalar_one()
        ok_runs = conn.execute(sa.text("select count(*) from runs where status = 'ok'")).scalar_one()
    engine.dispose()
    assert len(per_day) == len(backfill) and set(per_day.values()) == {PER_DAY}
    assert duplicate_ids == 0 and ok_runs == len(backfill)
