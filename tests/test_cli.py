"""``python -m etl``: one-off ingestion of a dump from the command line."""

import subprocess
import sys

import pytest
import sqlalchemy as sa

from etl.pipeline import ROOT


def _etl(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "etl", *args], capture_output=True, text=True, cwd=cwd)


def test_ingest_untm_csv_with_mapping(corpora, tmp_path):
    proc = _etl("ingest", str(corpora / "untm" / "sampled_UNTM.csv"), "--source", "untm", "--format", "csv",
                "--map", "headline=Title,body=News,url=Link,category=Category,published=Date",
                "--date", "2023-03-02", "--data-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "records in 399" in proc.stdout and ": ok" in proc.stdout
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    with engine.connect() as conn:
        loaded, dated, lahore = conn.execute(sa.text(
            "select count(*), count(published_at), sum(case when dateline_city = 'لاہور' then 1 else 0 end) "
            "from articles")).one()
    engine.dispose()
    assert loaded > 390 and dated == loaded and lahore > 10


def test_ingest_express_headlines_into_postgresql(corpora, tmp_path, pg_url):
    proc = _etl("ingest", str(corpora / "express_headlines" / "express_headlines_all.csv"), "--source", "express",
                "--format", "csv", "--map", "headline=title,body=summery,url=link,category=category,published=date",
                "--date", "2018-04-24", "--data-dir", str(tmp_path), "--warehouse", pg_url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        n, dup = conn.execute(sa.text("select (select count(*) from articles), (select count(*) from duplicates)")).one()
    engine.dispose()
    assert n > 70_000 and dup >= 144  # the file repeats 144 links


def test_missing_dump_fails_with_a_clear_message(tmp_path):
    proc = _etl("ingest", str(tmp_path / "nope.csv"), "--source", "x", "--format", "csv", "--map", "body=b",
                "--date", "2024-01-01", "--data-dir", str(tmp_path))
    assert proc.returncode == 1
    assert "error: no dump for source x on 2024-01-01" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--format", "xml"], "invalid choice"),
    (["--format", "csv"], "needs a column for 'body'"),
    (["--format", "csv", "--map", "body"], "is not field=column"),
    (["--format", "csv", "--map", "body=b", "--date", "yesterday"], "is not a YYYY-MM-DD date"),
])
def test_argument_errors(tmp_path, args, message):
    proc = _etl("ingest", str(tmp_path), "--source", "x", *args, "--data-dir", str(tmp_path))
    assert proc.returncode != 0 and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_and_summary_commands(tmp_path):
    proc = _etl("run", "--date", "2021-04-07", "--sources", "sample_seed", "--data-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    shown = _etl("summary", "--date", "2021-04-07", "--data-dir", str(tmp_path))
    assert shown.returncode == 0 and "sample_seed" in shown.stdout and "loaded 3" in shown.stdout
    assert _etl("summary", "--date", "2020-01-01", "--data-dir", str(tmp_path)).returncode == 1
