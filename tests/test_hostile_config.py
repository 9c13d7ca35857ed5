"""Hostile configuration: bad sources files, command lines, settings and DAG params.

Each case runs the real command line (``etl.cli.main``, and a few in a process of their own) and
holds it to one rule: the documented exit code, one line on stderr that starts ``error:`` and names
the file, key, flag or variable, no traceback, and nothing fetched or written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from etl import cli
from etl.config import ConfigError, load_sources, make_source, run_params
from etl.errors import CONFIG_ERROR, FETCH_ERROR
from etl.tasks.fetch import resolve_day
from tests.support import ROOT
from tests.support.unprivileged import open_folder, unprivileged

DAY = "2021-04-07"
OK_ENTRY = "  - name: geo\n    url: dumps/{date}.csv\n    format: csv\n    columns: {body: content}\n"


def _cli(capsys, *argv: str) -> tuple[int, str]:
    """``urdu-etl argv`` in this process: its exit code and its stderr."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    return code, capsys.readouterr().err


def _one_line(code: int, err: str, expected: int, *named: str) -> None:
    lines = err.splitlines()
    assert code == expected, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for text in named:
        assert text in lines[0], (text, lines[0])


def _entry(**fields: str) -> str:
    """The text of a sources file of one entry: ``OK_ENTRY`` with some lines replaced or added."""
    lines = {"name": "geo", "url": "dumps/{date}.csv", "format": "csv", "columns": "{body: content}"} | fields
    body = "".join(f"    {k}: {v}\n" for k, v in lines.items() if v is not None)
    return "sources:\n  -" + body[3:]


# (sources file text or bytes, what the error line names besides the file)
BAD_FILES = {
    "empty": ("", "empty"),
    "top-level list": ("- a\n- b\n", "not a list"),
    "top-level string": ("just words\n", "not a str"),
    "sources a mapping": ("sources: {geo: 1}\n", "'sources:' list"),
    "sources empty": ("sources: []\n", "'sources:' list"),
    "sources null": ("sources:\n", "'sources:' list"),
    "entry a string": ("sources:\n  - geo\n", "entry 1 is not a mapping"),
    "unknown top key": ("source:\n" + OK_ENTRY, "did you mean sources?"),
    "unknown key": (_entry(encodng="utf-8"), "did you mean encoding?"),
    "missing url": (_entry(url=None), "lacks url"),
    "name a number": (_entry(name="123"), "name must be a string, not a number (123)"),
    "name a boolean": (_entry(name="yes"), "not a boolean"),
    "name a date": (_entry(name="2024-01-01"), "a date"),
    "name a list": (_entry(name="[geo]"), "not a list"),
    "name with a trailing newline": (_entry(name='"geo\\n"'), "control character"),
    "name upper case": (_entry(name="Geo"), "lower-case"),
    "name of 64 characters": (_entry(name="g" * 64), "at most 63"),
    "name of 240 characters": (_entry(name="g" * 240), "at most 63"),
    "name of dots": (_entry(name='".."'), "lower-case"),
    "url a number": (_entry(url="5"), "url must be a string"),
    "url a mapping": (_entry(url="{a: b}"), "url must be a string, not a mapping"),
    "url empty": (_entry(url='""'), "url is empty"),
    "url too long": (_entry(url="x" * 5000), "at most 4096"),
    "url with a newline": (_entry(url='"a\\nb.csv"'), "control character"),
    "url unknown placeholder": (_entry(url="d/{day}.csv"), "{date}, {yyyymmdd}, {yyyy}, {mm}, {dd}"),
    "url numbered placeholder": (_entry(url='"d/{1}.csv"'), "unknown placeholder '{1}'"),
    "url format spec": (_entry(url='"d/{date:%Y}.csv"'), "unknown placeholder"),
    "url lone brace": (_entry(url='"d/{date.csv"'), "lone '{'"),
    "url unknown scheme": (_entry(url="htps://example.org/{date}.csv"), "htps"),
    "url a bad timestamp": (_entry(url="2024-13-45"), "month must be in 1..12"),
    "format unknown": (_entry(format="xml"), "not one of"),
    "format upper case": (_entry(format="CSV"), "did you mean csv?"),
    "format a number": (_entry(format="1"), "format must be a string"),
    "encoding a number": (_entry(encoding="8"), "encoding must be a string, not a number (8)"),
    "encoding unknown": (_entry(encoding="klingon"), "unknown encoding"),
    "encoding not a text codec": (_entry(encoding="rot13"), "unknown encoding"),
    "encoding undefined": (_entry(encoding="undefined"), "unknown encoding"),
    "columns a list": (_entry(columns="[body]"), "columns must be a mapping"),
    "columns a string": (_entry(columns="body"), "columns must be a mapping"),
    "column value a number": (_entry(columns="{body: 1}"), "columns.body must be a string, not a number (1)"),
    "column value empty": (_entry(columns='{body: ""}'), "columns.body is empty"),
    "column value a list": (_entry(columns="{body: [a, b]}"), "columns.body must be a string"),
    "column field unknown": (_entry(columns="{body: b, headlin: h}"), "did you mean headline?"),
    "column field a number": (_entry(columns="{body: b, 1: h}"), "unknown field"),
    "columns without body": (_entry(columns="{headline: h}"), "needs a column for 'body'"),
    "required a string": (_entry(required="body"), "required must be a list"),
    "required of numbers": (_entry(required="[1]"), "must list field names, not a number (1)"),
    "required unknown": (_entry(required="[body, bogus]"), "unknown field(s) in required"),
    "duplicate key": ("sources:\n" + OK_ENTRY + "    name: other\n", "key 'name' appears twice"),
    "duplicate source": ("sources:\n" + OK_ENTRY + OK_ENTRY, "declared twice"),
    "aliases (billion laughs)": (
        "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nsources: [*c]\n",
        "aliases (*name) are not allowed",
    ),
    "merge key": ("x: &x {format: csv}\nsources:\n  - {<<: *x, name: geo, url: u}\n", "aliases"),
    "python tag": ('sources: !!python/object/apply:os.system ["true"]\n', "could not determine a constructor"),
    "invalid YAML": ("sources:\n  - name: a\n   url: b\n", "line 3, column 4"),
    "two documents": ("sources: []\n---\nsources: []\n", "single document"),
    "nested too deeply": ("sources: " + "[" * 20000 + "]" * 20000 + "\n", "nested too deeply"),
    "a huge number": (_entry(name="1" * 5000), "not valid YAML"),
    "a tab": ("sources:\n\t- name: a\n", "not valid YAML"),
    "not UTF-8": ("sources:\n  - name: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    "binary": (b"\x00\x01\x02\x03sources", "binary"),
    "too large": ("# " + "x" * (1 << 20) + "\n" + "sources:\n" + OK_ENTRY, "at most 1048576"),
}


@pytest.mark.parametrize("text, named", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_sources_file_is_one_line_exit_3_and_nothing_runs(capsys, tmp_path, text, named):
    config = tmp_path / "sources.yaml"
    (config.write_bytes if isinstance(text, bytes) else lambda t: config.write_text(t, encoding="utf-8"))(text)
    data = tmp_path / "data"
    _one_line(*_cli(capsys, "check-config", "--config", str(config)), CONFIG_ERROR, str(config), named)
    _one_line(
        *_cli(capsys, "run", "--date", DAY, "--config", str(config), "--data-dir", str(data)), CONFIG_ERROR, named
    )
    assert not data.exists()  # nothing fetched, nothing written


def _config_path(tmp_path: Path, kind: str) -> tuple[Path, str]:
    if kind == "a folder":
        return tmp_path, "is a folder"
    if kind == "missing":
        return tmp_path / "none.yaml", "not found"
    if kind == "a fifo":  # reading one would wait for a writer for ever
        os.mkfifo(tmp_path / "fifo")
        return tmp_path / "fifo", "not a regular file"
    if kind == "a device":
        return Path("/dev/zero"), "not a regular file"  # reading it would never end
    if kind == "a symlink loop":
        (tmp_path / "loop").symlink_to(tmp_path / "loop")
        return tmp_path / "loop", "Symlink loop"
    if kind == "a name too long":
        return tmp_path / ("s" * 300 + ".yaml"), "cannot be read"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["a folder", "missing", "a fifo", "a device", "a symlink loop", "a name too long"])
def test_a_config_path_that_is_no_file(capsys, tmp_path, kind):
    path, named = _config_path(tmp_path, kind)
    _one_line(*_cli(capsys, "check-config", "--config", str(path)), CONFIG_ERROR, str(path), named)


def test_an_unreadable_sources_file(monkeypatch):
    def check_config(path: Path) -> tuple[int, str]:  # stderr captured here: the check may run in a child
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = cli.main(["check-config", "--config", str(path)])
        return code, err.getvalue()

    with open_folder() as folder:
        # the home and data dir a user may enter: the checkout's may be private to the tests' user
        monkeypatch.setenv("URDU_ETL_HOME", str(folder))
        monkeypatch.setenv("URDU_ETL_DATA_DIR", str(folder / "data"))
        path = folder / "s.yaml"
        path.write_text("sources:\n" + OK_ENTRY, encoding="utf-8")
        path.chmod(0)
        _one_line(*unprivileged(lambda: check_config(path)), CONFIG_ERROR, str(path), "cannot be read")


def _ingest(data: Path, *extra: str, path: str = "dump.csv") -> list[str]:
    args = {"--source": "geo", "--format": "csv", "--map": "body=content", "--date": DAY, "--data-dir": str(data)}
    flags = list(extra)
    for flag, value in args.items():
        if flag not in flags:
            flags += [flag, value]
    return ["ingest", path, *flags]


# (command line after "ingest", exit code, what the error line names)
BAD_INGEST = {
    "name with a newline": (["--source", "geo\n"], CONFIG_ERROR, "--source"),
    "name too long": (["--source", "g" * 240], CONFIG_ERROR, "at most 63"),
    "name upper case": (["--source", "Geo"], CONFIG_ERROR, "--source"),
    "unknown encoding": (["--encoding", "klingon"], CONFIG_ERROR, "--encoding"),
    "encoding with a tab": (["--encoding", "utf-8\t"], CONFIG_ERROR, "--encoding", "control character"),
    "map not field=column": (["--map", "body"], CONFIG_ERROR, "--map entry 'body' is not field=column"),
    "map field twice": (["--map", "body=a,body=b"], CONFIG_ERROR, "--map maps 'body' twice"),
    "map unknown field": (["--map", "body=b,titel=t"], CONFIG_ERROR, "--map"),
    "map without body": (["--map", "headline=h"], CONFIG_ERROR, "needs a column for 'body'"),
    "date not a date": (["--date", "yesterday"], CONFIG_ERROR, "--date 'yesterday' is not a YYYY-MM-DD date"),
    "date no such day": (["--date", "2024-02-30"], CONFIG_ERROR, "no such day"),
    "date compact": (["--date", "20240101"], CONFIG_ERROR, "--date"),
    "date year 1": (["--date", "0001-01-01"], CONFIG_ERROR, "out of range"),
    "date year 9999": (["--date", "9999-12-31"], CONFIG_ERROR, "1900-01-01..2999-12-31"),
    "run id with a slash": (["--run-id", "../../etc"], CONFIG_ERROR, "--run-id"),
    "run id too long": (["--run-id", "r" * 121], CONFIG_ERROR, "--run-id"),
    "run id empty": (["--run-id", ""], CONFIG_ERROR, "--run-id"),
    "run id with a newline": (["--run-id", "r1\n"], CONFIG_ERROR, "--run-id"),
    "warehouse mysql": (["--warehouse", "mysql://u:hunter2@h/db"], CONFIG_ERROR, "--warehouse", "not mysql", "u:***@h"),
    "warehouse not a URL": (["--warehouse", "not a url"], CONFIG_ERROR, "--warehouse"),
    "warehouse bad port": (["--warehouse", "postgresql://u:hunter2@h:abc/db"], CONFIG_ERROR, "--warehouse"),
    "warehouse async driver": (["--warehouse", "postgresql+asyncpg://h/db"], CONFIG_ERROR, "async"),
    "warehouse driver not installed": (["--warehouse", "postgresql+pg8000://h/db"], CONFIG_ERROR, "pg8000"),
    "warehouse in memory": (["--warehouse", "sqlite://"], CONFIG_ERROR, "in-memory"),
    "warehouse empty": (["--warehouse", ""], CONFIG_ERROR, "--warehouse"),
    "format unknown": (["--format", "xml"], 2, "invalid choice"),
    "unknown option": (["--colour"], 2, "unrecognized arguments"),
}


@pytest.mark.parametrize("extra, code, named", [(e, c, n) for e, c, *n in BAD_INGEST.values()], ids=list(BAD_INGEST))
def test_a_bad_command_line_is_one_line_and_nothing_runs(capsys, tmp_path, extra, code, named):
    data = tmp_path / "data"
    (tmp_path / "dump.csv").write_text("content\nخبر\n", encoding="utf-8")
    code_got, err = _cli(capsys, *_ingest(data, *extra, path=str(tmp_path / "dump.csv")))
    _one_line(code_got, err, code, *named)
    assert "hunter2" not in err
    assert not data.exists()


def test_a_warehouse_path_that_is_a_folder_or_under_a_file(capsys, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    for url, named in ((f"sqlite:///{tmp_path}", "is a folder"), (f"sqlite:///{tmp_path}/file/w.db", "is a file")):
        _one_line(*_cli(capsys, *_ingest(tmp_path / "data", "--warehouse", url)), CONFIG_ERROR, named)
    assert not (tmp_path / "data").exists()


def test_a_data_dir_that_is_a_file(capsys, tmp_path):
    data = tmp_path / "data"
    data.write_text("not a folder", encoding="utf-8")
    for argv in (
        _ingest(data),
        ["run", "--date", DAY, "--data-dir", str(data)],
        ["fetch", "--date", DAY, "--data-dir", str(data)],
        ["summary", "--date", DAY, "--data-dir", str(data)],
    ):
        _one_line(*_cli(capsys, *argv), CONFIG_ERROR, "data dir", "is a file")
    assert data.read_text(encoding="utf-8") == "not a folder"


def test_a_data_dir_under_a_file_cannot_be_written(capsys, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    data = tmp_path / "file" / "data"
    _one_line(*_cli(capsys, "fetch", "--date", DAY, "--data-dir", str(data)), CONFIG_ERROR, "cannot be written")


def test_run_command_line_errors(capsys, tmp_path):
    data = tmp_path / "data"
    cases = [
        (["--sources", "nope"], "unknown source(s) nope"),
        (["--dump", ""], "--dump is empty"),
        (["--run-id", "a b"], "--run-id"),
        (["--config", str(tmp_path)], "is a folder"),
        (["--config", str(tmp_path / "none.yaml")], "sources file not found"),
    ]
    for extra, named in cases:
        _one_line(*_cli(capsys, "run", "--date", DAY, "--data-dir", str(data), *extra), CONFIG_ERROR, named)
    _one_line(*_cli(capsys, "query", "--warehouse", "mysql://h/db", "--data-dir", str(data)), CONFIG_ERROR, "mysql")
    assert not data.exists()


@pytest.mark.parametrize(
    "variable, value, named",
    [
        ("URDU_ETL_WAREHOUSE_URL", "mysql://u:hunter2@h/db", "URDU_ETL_WAREHOUSE_URL: the warehouse is PostgreSQL"),
        ("URDU_ETL_WAREHOUSE_URL", "://", "URDU_ETL_WAREHOUSE_URL"),
        ("URDU_ETL_LAKE_URL", "mysql://h/lake", "URDU_ETL_LAKE_URL"),
        ("URDU_ETL_SHARD_MB", "1e400", "URDU_ETL_SHARD_MB"),
        ("URDU_ETL_SHARD_MB", "100000", "at most 4096"),
        ("URDU_ETL_DEDUP_DAYS", "99999999999999999999", "at most 36500"),
        ("URDU_ETL_DEDUP_DAYS", "²", "not a number of days"),
        ("URDU_ETL_FETCH_ATTEMPTS", "100000", "at most 100"),
        ("URDU_ETL_FETCH_BACKOFF", "1e12", "at most 3600"),
        ("URDU_ETL_FETCH_TIMEOUT", "1e30", "at most 86400"),
        ("URDU_ETL_TIMEZONE", "A" * 300, "URDU_ETL_TIMEZONE"),
        ("URDU_ETL_HOME", "~no-such-user-here/x", "URDU_ETL_HOME"),
        ("URDU_ETL_SOURCES", "/", "is a folder"),
    ],
)
def test_a_bad_setting_is_one_line_and_nothing_runs(capsys, monkeypatch, tmp_path, variable, value, named):
    monkeypatch.setenv(variable, value)
    data = tmp_path / "data"
    _one_line(*_cli(capsys, "run", "--date", DAY, "--data-dir", str(data)), CONFIG_ERROR, named)
    assert not data.exists()
    _one_line(*_cli(capsys, "check-config"), CONFIG_ERROR, named)


def test_check_config_checks_the_warehouse_and_hides_its_password(capsys, monkeypatch):
    monkeypatch.setenv("URDU_ETL_WAREHOUSE_URL", "postgresql://etl:hunter2@db.example/news")
    assert cli.main(["check-config"]) == 0
    shown = capsys.readouterr()
    assert "warehouse: postgresql://etl:***@db.example/news" in shown.out and "hunter2" not in shown.out + shown.err
    monkeypatch.setenv("URDU_ETL_WAREHOUSE_URL", "mysql://etl:hunter2@db.example/news")
    _one_line(*_cli(capsys, "check-config"), CONFIG_ERROR, "URDU_ETL_WAREHOUSE_URL", "etl:***@")


def test_in_a_process_of_its_own_no_traceback_and_one_line(tmp_path):
    """The same rule from the outside: argparse errors, a bad setting, a bad file."""
    bad = tmp_path / "s.yaml"
    bad.write_text(_entry(encodng="utf-8"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for argv, extra_env, code in (
        (["run", "--date", "2021-04-07", "--nope"], {}, 2),
        (["check-config", "--config", str(bad)], {}, 3),
        (["run", "--date", "0001-01-01"], {}, 3),
        (["check-config"], {"URDU_ETL_FETCH_BACKOFF": "1e400"}, 3),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "etl", *argv], capture_output=True, text=True, cwd=tmp_path, env=env | extra_env
        )
        _one_line(proc.returncode, proc.stderr, code)


def test_literal_braces_in_a_command_line_path_and_placeholders_in_a_file(capsys, tmp_path):
    # on the command line only the known placeholders are filled: "dump {1}.csv" names that file
    src = make_source("geo", "d/dump {1} {date}.csv", "csv", {"body": "b"}, base_dir=tmp_path, literal_braces=True)
    assert src.url_for(dt.date(2024, 1, 2)) == f"{tmp_path}/d/dump {{1}} 2024-01-02.csv"
    # in a folder whose name has braces, relative paths of a sources file still resolve
    folder = tmp_path / "conf {x}"
    folder.mkdir()
    (folder / "s.yaml").write_text(_entry(url='"a/{{literal}}/{yyyy}/{mm}/{dd}.csv"'), encoding="utf-8")
    assert (
        load_sources(folder / "s.yaml")["geo"].url_for(dt.date(2024, 1, 2)) == f"{folder}/a/{{literal}}/2024/01/02.csv"
    )
    missing = tmp_path / "dump {1}.csv"
    code, err = _cli(capsys, *_ingest(tmp_path / "data", path=str(missing)))
    _one_line(code, err, FETCH_ERROR, str(missing))  # the literal path is fetched, and is not there


def test_what_a_file_may_say(tmp_path):
    path = tmp_path / "s.yaml"
    text = _entry(name="g" * 63, encoding="", required="[body, headline, body]")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # a byte-order mark is fine
    src = load_sources(path)["g" * 63]
    assert (src.encoding, src.required) == ("utf-8", ("body", "headline"))  # an empty optional key is its default
    assert [make_source("a", "x", "seed_txt", encoding=e).encoding for e in ("utf-16", "cp1256")] == [
        "utf-16",
        "cp1256",
    ]


@pytest.mark.parametrize(
    "params, named",
    [
        ({"srouces": ["geo"]}, "did you mean sources?"),
        ({"sources": "sample_csv"}, "param sources must be a list of source names"),
        ({"sources": [1, 2]}, "param sources must be a list"),
        ({"dump_url": 5}, "param dump_url must be a string"),
        ({"missing_dump_ok": "no"}, "param missing_dump_ok must be true or false"),
    ],
)
def test_bad_dag_params_are_config_errors(params, named):
    with pytest.raises(ConfigError, match=named.replace("?", r"\?")) as raised:
        run_params({"date": None, "sources": [], "dump_url": None, "missing_dump_ok": True} | params)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "value, named",
    [("0001-01-01", "out of range"), ("3000-01-01", "out of range"), (20240101, "not a YYYY-MM-DD"), ("x", "date")],
)
def test_a_dag_date_out_of_range_or_not_a_date(value, named):
    with pytest.raises(ConfigError, match=named):
        resolve_day(value, None, "Asia/Karachi")
    assert resolve_day("", dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "UTC") == dt.date(2024, 1, 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "conf, named",
    [
        ({"date": "0001-01-01"}, "ConfigError: date 0001-01-01 is out of range"),
        ({"date": DAY, "srouces": ["sample_csv"]}, "ConfigError: unknown param 'srouces' (did you mean sources?)"),
    ],
)
def test_a_dag_run_with_a_bad_param_fails_its_first_task_at_once(airflow_db, tmp_path, conf, named):
    """Params of the wrong type Airflow refuses when the run is triggered; these reach the first task."""
    from tests.test_errors import _dag_test

    data = tmp_path / "data"
    result = _dag_test(airflow_db, data, conf)
    assert result["state"] == "failed" and result["tis"]["fetch"] == ["failed", 1]  # no retry
    assert named in result["log"] and "AirflowFailException" in result["log"]
    assert not data.exists()
