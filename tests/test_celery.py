"""The nightly DAG on Airflow's CeleryExecutor, as docker-compose.yml deploys it, on this machine.

A real Redis broker, PostgreSQL for the metadata DB (also Celery's result backend) and the
warehouse, then Airflow 3's api-server, scheduler and dag-processor, and two ``airflow celery
worker`` processes with distinct names, each in its own process group. One day's dump is a zip of
seven CSV files, each cut into shards of whole records, so the run maps a ``transform`` task
instance per shard. The test proves that they spread over both workers and that the lake and
warehouse the cluster writes are, row for row, what a single-process run (``python -m etl run``,
reading each file whole) of the same day and input writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa

from tests.support.airflow import (
    AIRFLOW,
    airflow_cli,
    api_call,
    create_pools,
    log_tails,
    process_groups,
    standalone_env,
    wait_for,
)
from tests.support.archives import zip_bytes
from tests.support.services import _free_port

DAG_ID = "urdu_news_nightly"
DAY = dt.date(2025, 3, 14)
FILES, PER_FILE = 7, 12
SHARD_KB = 2
WORKERS = ("worker-a", "worker-b")
RUN_DEADLINE_S = 240

CITIES = ["لاہور", "کراچی", "اسلام آباد", "پشاور", "کوئٹہ", "ملتان", "فیصل آباد", "حیدرآباد", "سیالکوٹ"]
STORIES = [  # (category, headline, sentences); {c} a city, {n} a number
    (
        "sports",
        "{c} میں کرکٹ ٹورنامنٹ کا {n}واں میچ",
        [
            "{c}: مقامی ٹیم نے {n} رنز سے کامیابی حاصل کر لی۔",
            "کپتان نے کھلاڑیوں کی محنت کی تعریف کی۔",
            "اگلا میچ ہفتے کے روز کھیلا جائے گا۔",
        ],
    ),
    (
        "business",
        "{c} کی منڈی میں سبزیوں کی قیمتیں {n} فیصد بڑھ گئیں",
        [
            "{c}: تاجروں کے مطابق رسد کم ہونے سے قیمتوں میں {n} فیصد اضافہ ہوا ہے۔",
            "شہریوں نے حکومت سے نرخ مقرر کرنے کا مطالبہ کیا۔",
            "انتظامیہ نے منڈی کا دورہ کرنے کا اعلان کیا۔",
        ],
    ),
    (
        "health",
        "{c} کے ہسپتال میں {n} نئے بستروں کا اضافہ",
        [
            "{c}: محکمہ صحت نے ضلعی ہسپتال میں {n} نئے بستر فراہم کر دیے۔",
            "ڈاکٹروں کا کہنا ہے کہ اس سے مریضوں کا انتظار کم ہو گا۔",
            "نئے وارڈ میں جدید آلات بھی نصب کیے گئے ہیں۔",
        ],
    ),
    (
        "national",
        "{c} میں {n} کلومیٹر نئی سڑک کا افتتاح",
        [
            "{c}: وزیر بلدیات نے {n} کلومیٹر طویل سڑک کا افتتاح کیا۔",
            "منصوبے پر کام دو سال پہلے شروع ہوا تھا۔",
            "مقامی لوگوں نے سفر آسان ہونے پر خوشی کا اظہار کیا۔",
        ],
    ),
    (
        "weather",
        "{c} میں درجہ حرارت {n} ڈگری تک گر گیا",
        [
            "{c}: محکمہ موسمیات کے مطابق رات کا درجہ حرارت {n} ڈگری ریکارڈ کیا گیا۔",
            "آئندہ دو دنوں میں بارش کا امکان ہے۔",
            "شہریوں کو احتیاط کرنے کی ہدایت کی گئی ہے۔",
        ],
    ),
]


def _dump(root: Path) -> Path:
    """A zip of ``FILES`` CSV files of Urdu news for ``DAY`` and a sources file reading it. Beside
    ordinary rows the day holds a record whose URL repeats one in another file (a duplicate across
    shards), the same story filed again under another URL (a copy) and a record with no body (a reject)."""
    files: dict[str, list[tuple]] = {}
    for f in range(FILES):
        rows = []
        for i in range(PER_FILE):
            k = f * PER_FILE + i
            category, headline, sentences = STORIES[k % len(STORIES)]
            city, n = CITIES[(k * 7 + f) % len(CITIES)], 3 + (k * 13) % 97
            body = " ".join(s.format(c=city, n=n) for s in sentences[:2]) + "\n\n" + sentences[2].format(c=city, n=n)
            rows.append((k, headline.format(c=city, n=n), f"https://example.pk/{DAY}/{k}", body, category))
        files[f"news-{f + 1}.csv"] = rows
    files["news-2.csv"].append(files["news-1.csv"][3])  # same URL as a record of news-1.csv
    story = files["news-1.csv"][5]
    files["news-3.csv"].append((9001, "دوسری ویب سائٹ پر وہی خبر", f"https://example.org/{DAY}/copy", *story[3:]))
    files["news-4.csv"].append((9002, "خالی خبر", f"https://example.pk/{DAY}/empty", "   ", "misc"))
    entries = {}
    for name, rows in files.items():
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows([("id", "title", "link", "content", "gold_label"), *rows])
        entries[name] = text.getvalue().encode()
    dumps = root / "dumps"
    dumps.mkdir(parents=True)
    (dumps / f"{DAY}.zip").write_bytes(zip_bytes(entries))
    sources = root / "sources.yaml"
    sources.write_text(
        "sources:\n  - name: news\n    url: '" + str(dumps) + "/{date}.zip'\n    format: csv\n"
        "    columns: {external_id: id, headline: title, url: link, body: content, category: gold_label}\n",
        encoding="utf-8",
    )
    return sources


def _lake_rows(lake: Path) -> dict[str, list[str]]:
    """Every lake table's rows (partition columns included), each row as sorted-key JSON, sorted:
    equal lists mean the same rows, whatever order the shards' files were written in."""
    tables = {}
    for folder in sorted(p for p in lake.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        table = ds.dataset(folder, format="parquet", partitioning="hive", ignore_prefixes=[".", "_"]).to_table()
        tables[folder.name] = sorted(
            json.dumps(row, sort_keys=True, default=repr, ensure_ascii=False) for row in table.to_pylist()
        )
    return tables


# The warehouse's content tables. Not compared: ``runs`` and ``dumps`` (keyed by the run id, with
# its start and finish times) and ``sources`` (``last_run_id``), which differ per run by design.
WAREHOUSE_TABLES = ("articles", "sentences", "mentions", "entities", "rejects", "duplicates")


def _warehouse_rows(url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: sorted(
                    json.dumps(dict(r._mapping), sort_keys=True, default=str, ensure_ascii=False)
                    for r in conn.execute(sa.text(f"select * from {t}"))
                )
                for t in WAREHOUSE_TABLES
            }
    finally:
        engine.dispose()


def _workers_ready(broker_url: str) -> bool:
    """Both workers answer a Celery ping through the broker."""
    from celery import Celery

    app = Celery(broker=broker_url)
    try:
        answers = app.control.ping(timeout=1.0)
    finally:
        app.close()
    names = {name for answer in answers for name in answer}
    return names >= {f"celery@{w}" for w in WORKERS}


@pytest.mark.slow
@pytest.mark.timeout(900)  # a whole run or cluster; pytest.ini gives every other test 300 s
def test_mapped_shards_run_on_two_celery_workers(tmp_path, pg_server, redis_server):
    metadata_db, cluster_wh, single_wh = (f"{p}_{uuid.uuid4().hex[:8]}" for p in ("af", "wh", "single"))
    for name in (metadata_db, cluster_wh, single_wh):
        pg_server.create_database(name)
    sources = _dump(tmp_path)

    # the reference: the same day and input in one process, run while the cluster starts
    single_data = tmp_path / "single"
    single = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "etl",
            "run",
            "--date",
            DAY.isoformat(),
            "--config",
            str(sources),
            "--data-dir",
            str(single_data),
            "--warehouse",
            pg_server.url(single_wh),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    api_port = _free_port()
    base = f"http://127.0.0.1:{api_port}"
    broker = redis_server.url(0)
    env = standalone_env(
        tmp_path / "airflow",
        pg_server.url(metadata_db),
        api_port,
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CELERY__BROKER_URL=broker,
        AIRFLOW__CELERY__RESULT_BACKEND="db+" + pg_server.url(metadata_db),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__WORKERS="1",
        # one secret for every component that issues or checks task tokens, as in docker-compose.yml
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
        AIRFLOW__API__SECRET_KEY=secrets.token_hex(32),
        # the REST API without a login: the test talks to it as admin
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        # only the run the test triggers: no scheduled run for yesterday competes for the workers
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        URDU_ETL_DATA_DIR=str(tmp_path / "data"),
        URDU_ETL_SOURCES=str(sources),
        URDU_ETL_WAREHOUSE_URL=pg_server.url(cluster_wh),
        # the cluster cuts each CSV into shards of whole records of about 2 KB (the single-process
        # run reads each file whole): more mapped tasks, and the same rows however a file is cut
        URDU_ETL_SHARD_MB=str(SHARD_KB / 1024),
    )
    migrated = airflow_cli(env, "db", "migrate", timeout=300)
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    create_pools(env)

    # Which worker ran a task instance: the TI's ``hostname``, which the task's supervisor reports
    # when the task starts (and on every heartbeat) from ``[core] hostname_callable``. Both workers
    # run on this one machine, whose host name they would share, so each gets a hostname callable
    # that returns its own name. Celery's own records were the other choice, but its result backend
    # keeps the worker's name only with ``result_extended``, which Airflow does not turn on.
    commands = {
        "api-server": ([str(AIRFLOW), "api-server"], env),
        "scheduler": ([str(AIRFLOW), "scheduler"], env),
        "dag-processor": ([str(AIRFLOW), "dag-processor"], env),
    }
    for worker in WORKERS:
        commands[worker] = (
            [str(AIRFLOW), "celery", "worker", "--celery-hostname", worker, "--concurrency", "2"],
            {
                **env,
                "URDU_ETL_TEST_HOSTNAME": worker,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.support.hostname.from_env",
                # each worker serves its task logs on a port of its own
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            },
        )
    logs = [tmp_path / f"{name}.log" for name in commands]
    run_id = f"celery_test__{uuid.uuid4().hex[:8]}"
    began = time.monotonic()
    with process_groups(commands, tmp_path) as procs:

        def up(check):
            def probe():
                dead = [n for n, p in procs.items() if p.poll() is not None]
                assert not dead, f"exited early: {dead}\n{log_tails(logs)}"
                return check()

            return probe

        wait_for("API server", up(lambda: api_call("GET", f"{base}/api/v2/monitor/health")[0] == 200), 180, logs)
        wait_for("two Celery workers", up(lambda: _workers_ready(broker)), 120, logs)
        wait_for("the DAG", up(lambda: api_call("GET", f"{base}/api/v2/dags/{DAG_ID}")[0] == 200), 180, logs)
        status, answer = api_call(
            "POST",
            f"{base}/api/v2/dags/{DAG_ID}/dagRuns",
            body={
                "dag_run_id": run_id,
                "logical_date": dt.datetime.now(dt.UTC).isoformat(),
                "conf": {"date": DAY.isoformat()},
            },
        )
        assert status == 200, answer

        def finished():
            state = api_call("GET", f"{base}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")[1]
            return isinstance(state, dict) and state.get("state") in ("success", "failed") and state["state"]

        final = wait_for(f"DAG run {run_id}", up(finished), RUN_DEADLINE_S, logs, every=3)
        status, answer = api_call("GET", f"{base}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")
        assert status == 200, answer
        tis = answer["task_instances"]
        summary = [(t["task_id"], t["map_index"], t["state"], t["hostname"]) for t in tis]
        assert final == "success", f"DAG run {run_id} {final}: {summary}\n{log_tails(logs)}"
    print(f"cluster run: {time.monotonic() - began:.0f} s from start to finish")

    transforms = [t for t in tis if t["task_id"] == "transform"]
    assert len(transforms) >= 2 * FILES, summary  # every file was cut into two or more shards
    assert sorted(t["map_index"] for t in transforms) == list(range(len(transforms))), summary
    assert {t["state"] for t in tis} == {"success"}, summary
    per_worker = Counter(t["hostname"] for t in transforms)
    print(f"transform task instances per worker: {dict(sorted(per_worker.items()))}")
    assert set(per_worker) == set(WORKERS), f"the shards did not run on both workers: {summary}"

    out, _ = single.communicate(timeout=120)
    assert single.returncode == 0, out[-3000:]
    cluster_lake, single_lake = _lake_rows(tmp_path / "data" / "lake"), _lake_rows(single_data / "lake")
    assert set(cluster_lake) == {
        "articles",
        "sentences",
        "mentions",
        "entities",
        "rejects",
        "duplicates",
        "signatures",
    }, sorted(cluster_lake)
    counts = {t: len(rows) for t, rows in cluster_lake.items()}
    # the dump's duplicate, copy and reject made it through, so the comparison covers them
    assert counts["articles"] == FILES * PER_FILE + 1 and counts["duplicates"] == 1 and counts["rejects"] == 1, counts
    for table in cluster_lake:
        assert cluster_lake[table] == single_lake[table], f"lake table {table} differs from the single-process run"
    assert any('"duplicate_kind": "exact"' in row for row in cluster_lake["articles"]), "the copy was not found"
    cluster_wh_rows, single_wh_rows = (
        _warehouse_rows(pg_server.url(cluster_wh)),
        _warehouse_rows(pg_server.url(single_wh)),
    )
    assert len(cluster_wh_rows["articles"]) == counts["articles"]
    for table in WAREHOUSE_TABLES:
        assert cluster_wh_rows[table] == single_wh_rows[table], f"warehouse table {table} differs"
