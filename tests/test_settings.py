"""Settings: every knob read in one place, with one default, and a bad value named in one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from etl.errors import ConfigError
from etl.settings import KNOBS, Settings, read
from tests.support import ROOT


def test_defaults_with_nothing_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    here = tmp_path.resolve()
    s = Settings.from_env({})
    assert s == Settings()
    assert s.home == here and s.data_dir == here / "data" and s.lake == here / "data" / "lake"
    assert s.sources_file == here / "config" / "sources.yaml"
    assert (s.timezone, s.shard_bytes, s.dedup_days) == ("Asia/Karachi", 8 << 20, 30)
    assert (s.fetch_attempts, s.fetch_backoff, s.fetch_timeout) == (3, 2.0, 60.0)
    assert s.warehouse_url is None and s.default_warehouse_url == f"sqlite:///{here / 'data' / 'warehouse.db'}"


def test_home_moves_the_data_dir_and_sources_file_defaults_but_not_explicit_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "etl-home"
    s = Settings.from_env({"URDU_ETL_HOME": str(home)})
    assert (s.home, s.data_dir, s.sources_file) == (home, home / "data", home / "config" / "sources.yaml")
    s = Settings.from_env({"URDU_ETL_HOME": str(home), "URDU_ETL_DATA_DIR": "d", "URDU_ETL_SOURCES": "s.yaml"})
    assert (s.data_dir, s.sources_file) == (tmp_path / "d", tmp_path / "s.yaml")  # relative to the current dir
    assert read("data_dir", {"URDU_ETL_HOME": "~"}) == Path.home() / "data"


def test_values_are_parsed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env(
        {
            "URDU_ETL_DATA_DIR": "d",
            "URDU_ETL_SHARD_MB": "0.5",
            "URDU_ETL_DEDUP_DAYS": "all",
            "URDU_ETL_FETCH_ATTEMPTS": "5",
            "URDU_ETL_TIMEZONE": "UTC",
            "URDU_ETL_SOURCES": "s.yaml",
        }
    )
    assert s.data_dir == tmp_path.resolve() / "d" and s.lake == tmp_path.resolve() / "d" / "lake"
    assert (s.shard_bytes, s.dedup_days, s.fetch_attempts, s.timezone) == (1 << 19, None, 5, "UTC")
    assert s.sources_file == tmp_path.resolve() / "s.yaml"
    assert Settings.from_env({"URDU_ETL_DEDUP_DAYS": "31"}).dedup_days == 31


def test_lake_location(tmp_path, monkeypatch):
    assert Settings(data_dir=tmp_path).lake == tmp_path / "lake"
    assert Settings(lake_url="s3://bucket/prefix/").lake == "s3://bucket/prefix"
    assert Settings(lake_url=f"file://{tmp_path}/elsewhere").lake == tmp_path.resolve() / "elsewhere"
    monkeypatch.chdir(tmp_path)
    assert Settings(lake_url="relative/lake").lake == tmp_path.resolve() / "relative" / "lake"


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("URDU_ETL_SHARD_MB", "half", "not a number of megabytes"),
        ("URDU_ETL_SHARD_MB", "0", "more than 0"),
        ("URDU_ETL_SHARD_MB", "-3", "more than 0"),
        ("URDU_ETL_DEDUP_DAYS", "a month", "not a number of days or 'all'"),
        ("URDU_ETL_TIMEZONE", "Mars/Olympus", "not a time zone"),
        ("URDU_ETL_SHARD_MB", "inf", "not a finite number"),
        ("URDU_ETL_FETCH_ATTEMPTS", "0", "1 or more"),
        ("URDU_ETL_FETCH_ATTEMPTS", "2.5", "not a whole number"),
        ("URDU_ETL_FETCH_BACKOFF", "-1", "must not be negative"),
        ("URDU_ETL_FETCH_TIMEOUT", "soon", "not a number"),
        ("URDU_ETL_FETCH_TIMEOUT", "nan", "not a finite number"),
        ("URDU_ETL_FETCH_TIMEOUT", "0", "more than 0"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_the_variable(variable, value, message):
    with pytest.raises(ConfigError, match=f"^{variable}='{re.escape(value)}': .*{re.escape(message)}"):
        Settings.from_env({variable: value})
    with pytest.raises(ConfigError, match=variable):
        read(next(k.field for k in KNOBS if k.variable == variable), {variable: value})


def test_replace_keeps_what_is_not_given(tmp_path):
    s = Settings().replace(data_dir=tmp_path, warehouse_url=None)
    assert s.data_dir == tmp_path and s.warehouse_url is None and s.timezone == "Asia/Karachi"


def test_every_knob_is_a_field_and_the_environment_is_read_only_here():
    fields = set(Settings.__dataclass_fields__)
    assert {k.field for k in KNOBS} == fields | {"failpoint"}  # the failpoint is only looked up, by etl.failpoints
    assert all(k.variable.startswith("URDU_ETL_") for k in KNOBS)
    code = [p for folder in ("etl", "dags", "plugins") for p in (ROOT / folder).rglob("*.py")]
    readers = [
        str(p.relative_to(ROOT)) for p in code if re.search(r"os\.environ|getenv", p.read_text(encoding="utf-8"))
    ]
    # the warehouse reads Airflow's own AIRFLOW_CONN_* variable, no setting of ours
    assert sorted(readers) == ["etl/load/warehouse_url.py", "etl/settings.py"], readers


def test_the_readme_table_lists_every_knob_with_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(2).strip() for m in re.finditer(r"^\| `(URDU_ETL_[A-Z_]+)` \| ([^|]+) \|", readme, re.M)
    }
    assert rows == {k.variable: k.default for k in KNOBS}


def test_cli_reports_a_bad_setting_with_its_exit_code(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "summary", "--date", "2024-01-01"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "URDU_ETL_SHARD_MB": "lots", "URDU_ETL_DATA_DIR": str(tmp_path)},
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "error: URDU_ETL_SHARD_MB='lots': not a number of megabytes"
