"""The installable package: a wheel built from pyproject.toml carries everything a run reads, and its
``urdu-etl`` command works from any directory, away from this checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import ROOT

SAMPLE = ROOT / "samples" / "dumps" / "2021-04-07" / "news.csv.gz"
SAMPLE_MAP = "external_id=id,headline=title,url=link,body=content,category=gold_label"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out, tree = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("tree")
    # built from a copy of what the package is made of, so that the build leaves nothing in the checkout
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy2(ROOT / name, tree / name)
    shutil.copytree(ROOT / "etl", tree / "etl", ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (built,) = out.glob("urdu_etl-*.whl")
    return built


def test_the_wheel_holds_the_code_the_rule_files_and_the_console_script(wheel):
    import etl

    names = set(zipfile.ZipFile(wheel).namelist())
    repo_files = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "etl").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in {".py", ".txt", ".tsv", ".json"}
    }
    assert repo_files and repo_files <= names, sorted(repo_files - names)[:10]
    assert not any(n.startswith(("tests/", "dags/", "bench/", "samples/")) for n in names)
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    metadata = zipfile.ZipFile(wheel).read(meta).decode()
    assert f"Version: {etl.__version__}" in metadata
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0] != "#"]
    assert all(f"Requires-Dist: {pin}" in metadata for pin in pins), "dependencies must be requirements.txt's pins"
    entry_points = zipfile.ZipFile(wheel).read(meta.replace("METADATA", "entry_points.txt")).decode()
    assert "urdu-etl = etl.cli:entry" in entry_points


def test_the_installed_command_ingests_a_dump_from_another_directory(wheel, tmp_path):
    target, workdir = tmp_path / "site", tmp_path / "elsewhere"
    workdir.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("URDU_ETL_")}
    env |= {"PYTHONPATH": str(target), "URDU_ETL_FETCH_BACKOFF": "0.05", "NUMBA_CACHE_DIR": str(tmp_path / "numba")}

    where = subprocess.run(
        [sys.executable, "-c", "import etl; print(etl.__file__)"], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert Path(where.stdout.strip()).is_relative_to(target), "etl must come from the installed wheel"

    def urdu_etl(*args: str) -> subprocess.CompletedProcess:
        command = [str(target / "bin" / "urdu-etl"), *args]
        return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=280)

    ingest = ("ingest", str(SAMPLE), "--source", "mine", "--format", "csv", "--map", SAMPLE_MAP, "--date", "2021-04-07")
    run = urdu_etl(*ingest, "--quiet")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads((workdir / "data" / "runs" / "2021-04-07" / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["records_in"] == 5 and summary["loaded"] == 3
    assert summary["sources"]["mine"]["mentions"] > 0, "the gazetteers ship in the wheel"
    assert (workdir / "data" / "warehouse.db").is_file()

    env["URDU_ETL_HOME"] = str(tmp_path / "home")  # the home folder moves the data dir's default
    again = urdu_etl(*ingest, "--quiet")
    assert again.returncode == 0, again.stderr[-3000:]
    assert (tmp_path / "home" / "data" / "warehouse.db").is_file()

    usage = urdu_etl("run")
    assert usage.returncode == 2 and usage.stderr.startswith(
        "error: urdu-etl run: the following arguments are required"
    )
