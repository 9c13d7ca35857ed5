"""``python -m etl``: one-off ingestion of a dump from the command line."""

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import ROOT


def _etl(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "etl", *args], capture_output=True, text=True, cwd=cwd)


def test_ingest_untm_csv_with_mapping(corpora, tmp_path):
    proc = _etl(
        "ingest",
        str(corpora / "untm" / "sampled_UNTM.csv"),
        "--source",
        "untm",
        "--format",
        "csv",
        "--map",
        "headline=Title,body=News,url=Link,category=Category,published=Date",
        "--date",
        "2023-04-30",
        "--data-dir",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "records in 399" in proc.stdout and ": ok" in proc.stdout
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    with engine.connect() as conn:
        loaded, dated, lahore = conn.execute(
            sa.text(
                "select count(*), count(published_at), sum(case when dateline_city = 'لاہور' then 1 else 0 end) "
                "from articles"
            )
        ).one()
    engine.dispose()
    assert loaded > 390 and dated == loaded and lahore > 10


def test_ingest_express_headlines_into_postgresql(corpora, tmp_path, pg_url):
    proc = _etl(
        "ingest",
        str(corpora / "express_headlines" / "express_headlines_all.csv"),
        "--source",
        "express",
        "--format",
        "csv",
        "--map",
        "headline=title,body=summery,url=link,category=category,published=date",
        "--date",
        "2018-04-24",
        "--data-dir",
        str(tmp_path),
        "--warehouse",
        pg_url,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        n, dup = conn.execute(
            sa.text("select (select count(*) from articles), (select count(*) from duplicates)")
        ).one()
    engine.dispose()
    assert n > 70_000 and dup >= 144  # the file repeats 144 links


def test_missing_dump_fails_with_a_clear_message(tmp_path):
    proc = _etl(
        "ingest",
        str(tmp_path / "nope.csv"),
        "--source",
        "x",
        "--format",
        "csv",
        "--map",
        "body=b",
        "--date",
        "2024-01-01",
        "--data-dir",
        str(tmp_path),
    )
    assert proc.returncode == 4
    assert "error: no dump for source x on 2024-01-01" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "xml"], "invalid choice"),
        (["--format", "csv"], "needs a column for 'body'"),
        (["--format", "csv", "--map", "body"], "is not field=column"),
        (["--format", "csv", "--map", "body=b", "--date", "yesterday"], "is not a YYYY-MM-DD date"),
    ],
)
def test_argument_errors(tmp_path, args, message):
    proc = _etl("ingest", str(tmp_path), "--source", "x", *args, "--data-dir", str(tmp_path))
    assert proc.returncode != 0 and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_and_summary_commands(tmp_path):
    proc = _etl("run", "--date", "2021-04-07", "--sources", "sample_seed", "--data-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    shown = _etl("summary", "--date", "2021-04-07", "--data-dir", str(tmp_path))
    assert shown.returncode == 0 and "sample_seed" in shown.stdout and "loaded 3" in shown.stdout
    assert _etl("summary", "--date", "2020-01-01", "--data-dir", str(tmp_path)).returncode == 6


COMMANDS = ["run", "ingest", "fetch", "summary", "report", "query", "check-config"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    proc = _etl(command, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: urdu-etl " + command)


def test_quiet_run_prints_nothing_and_the_report_and_queries_follow(tmp_path):
    proc = _etl("run", "--date", "2021-04-07", "--data-dir", str(tmp_path), "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "" and "INFO" not in proc.stderr
    rep = _etl("report", "--date", "2021-04-07", "--data-dir", str(tmp_path))
    html, js = rep.stdout.split()
    assert rep.returncode == 0 and html.endswith("report.html") and js.endswith("report.json")
    assert "Urdu news run report" in Path(html).read_text(encoding="utf-8")
    assert _etl("report", "--date", "2021-04-07", "--data-dir", str(tmp_path), "--rebuild").returncode == 0
    assert _etl("report", "--date", "2020-01-01", "--data-dir", str(tmp_path)).returncode == 6
    q = _etl("query", "dateline_cities", "--data-dir", str(tmp_path))
    assert q.returncode == 0 and q.stdout.splitlines()[0].split()[:2] == ["dateline_city", "articles"]
    assert "لاہور" in q.stdout
    out = tmp_path / "per_day.csv"
    q = _etl("query", "articles_per_source_day", "--data-dir", str(tmp_path), "--csv", str(out))
    assert q.returncode == 0 and out.read_text(encoding="utf-8").count("\n") == 5  # header + 4 sources
    q = _etl("query", "--sql", "select count(*) as n from articles", "--data-dir", str(tmp_path))
    assert q.stdout.split() == ["n", "12"]
    # ad-hoc SQL is read-only
    q = _etl("query", "--sql", "delete from articles", "--data-dir", str(tmp_path))
    assert q.returncode == 5 and "query refused" in q.stderr and "Traceback" not in q.stderr
    listed = _etl("query", "--data-dir", str(tmp_path))
    assert listed.returncode == 0 and "top_entities" in listed.stdout


def test_query_without_a_warehouse_says_so(tmp_path):
    proc = _etl("query", "top_entities", "--data-dir", str(tmp_path))
    assert proc.returncode == 6 and "no warehouse" in proc.stderr


def test_fetch_stages_without_transforming(tmp_path):
    proc = _etl("fetch", "--date", "2021-04-07", "--sources", "sample_csv,sample_seed", "--data-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "sample_csv: 1 file(s)" in proc.stdout and "sample_seed: 3 file(s)" in proc.stdout
    assert not (tmp_path / "lake").exists()
    none = _etl("fetch", "--date", "2021-04-08", "--data-dir", str(tmp_path))
    assert none.returncode == 0 and "no dump for 2021-04-08" in none.stdout


def test_check_config(tmp_path):
    ok = _etl("check-config")
    assert ok.returncode == 0 and "4 source(s)" in ok.stdout and "sample_jsonl" in ok.stdout
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: x\n    url: a.csv\n    format: xml\n", encoding="utf-8")
    proc = _etl("check-config", "--config", str(bad))
    assert proc.returncode == 3 and "error:" in proc.stderr and "Traceback" not in proc.stderr


def test_unreachable_warehouse_is_exit_5(tmp_path):
    proc = _etl(
        "run",
        "--date",
        "2021-04-07",
        "--sources",
        "sample_seed",
        "--data-dir",
        str(tmp_path),
        "--warehouse",
        "postgresql://nobody@127.0.0.1:1/none",
        "--quiet",
    )
    assert proc.returncode == 5 and "error: warehouse" in proc.stderr and "Traceback" not in proc.stderr


def test_progress_bar_on_a_terminal(tmp_path):
    import os
    import pty

    # a pseudo-terminal on stderr, as when a person runs the command
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", "run", "--date", "2021-04-07", "--data-dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        cwd=ROOT,
    )
    os.close(follower)
    shown = b""
    while True:  # read as it is drawn: a terminal's buffer holds a few KiB, and the bar redraws often
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.wait() == 0
    assert b"transform" in shown and b"records" in shown


def test_run_one_declared_source_from_an_explicit_dump(tmp_path):
    late = tmp_path / "late.csv"
    late.write_text(
        "id,title,link,content,gold_label\n1,دیر سے آنے والی خبر,https://example.pk/late,"
        "لاہور: یہ خبر دیر سے موصول ہوئی اور اسے الگ سے شامل کیا گیا۔,national\n",
        encoding="utf-8",
    )
    proc = _etl(
        "run",
        "--date",
        "2021-04-07",
        "--sources",
        "sample_csv",
        "--dump",
        str(late),
        "--data-dir",
        str(tmp_path / "data"),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "records in 1, loaded 1" in proc.stdout
    two = _etl("run", "--date", "2021-04-07", "--dump", str(late), "--data-dir", str(tmp_path / "data"))
    assert two.returncode == 3 and "exactly one source" in two.stderr
