"""Command line: ``urdu-etl run|ingest|fetch|summary|report|query|check-config`` (also ``python -m etl``).

``ingest`` and ``run`` run the same stages as the nightly DAG, in this process, without a
scheduler: for a dump that arrived late or from elsewhere. They show a progress bar on a
terminal and print the run summary (``--quiet``: errors only, for cron and CI logs). ``query``
prints a named warehouse query, or read-only SQL, as a table or CSV.

Exit codes, one per class of error (``etl/errors.py``): 0 done; 1 the run ran but failed its
check; 2 bad command line (an unknown command or option, a missing argument, a value not among the
choices); 3 bad configuration: the sources file, an ``URDU_ETL_*`` setting, or a value given on the
command line (``--date``, ``--map``, ``--source``, ``--encoding``, ``--run-id``, ``--warehouse``,
``--config``, ``--data-dir``); 4 fetch failed or no dump; 5 warehouse unreachable or unusable; 6
nothing to show (no summary, report or warehouse for that day yet); 7 the data dir or lake cannot
be written (full disk, quota, read-only). Every one of them is printed as
one line, ``error: ...``, and is found before any work: a run with a bad value fetches and writes
nothing. Any other failure is a bug: its traceback is printed.

``run`` and ``ingest`` transform the shards in ``--workers N`` processes (default: the cores this
process may use, as many as its free memory holds at 1 GiB each, at most one per shard; ``1``
transforms them in this process), with the same output for any N. A worker killed by a signal (the
out-of-memory killer, ``kill -9``) kills the command with the same signal after one ``error: ...``
line, as it would a run in one process; ``--run-id`` resumes it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn

import sqlalchemy as sa

from etl import runner
from etl.config import check_run_id, make_source, parse_day
from etl.errors import NOTHING_TO_SHOW, OK, RUN_FAILED, ConfigError, EtlError
from etl.fetch.credentials import redact
from etl.load import queries, warehouse, warehouse_url
from etl.read import FORMATS
from etl.settings import Settings
from etl.tasks.check import format_summary, read_summary
from etl.tasks.fetch import declared_sources, fetch, select_sources


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (``error: ...``, exit 2) like every other error.

    A value that has the right shape but is not valid (a date, a mapping, a run id) is checked by
    the argument's type, which raises ``ConfigError``: exit 3, as for the same mistake in a file.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {' '.join(message.split())} (see {self.prog} --help)\n")


def _mapping(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ConfigError(f"--map entry {part!r} is not field=column")
        if field.strip() in out:
            raise ConfigError(f"--map maps {field.strip()!r} twice")
        out[field.strip()] = column.strip()
    return out


def _date(text: str) -> dt.date:
    return parse_day(text, "--date")


def _run_id(text: str) -> str:
    return check_run_id(text, "--run-id")


def _workers(text: str) -> int:
    """A number of worker processes, 1 or more (a bad one is a bad command line, exit 2)."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of worker processes (a whole number, 1 or more)")
    return int(text)


WORKERS_HELP = (
    "processes that transform the shards at once (default: the cores this process may use, as many as its free "
    "memory holds at 1 GiB each, at most one per shard; 1 transforms them in this process); the output is the "
    "same for any N"
)


DATA_DIR_HELP = (
    "lake, staging, run summaries and default warehouse "
    "(default: $URDU_ETL_DATA_DIR, else data/ under $URDU_ETL_HOME or the current directory)"
)
CONFIG_HELP = (
    "sources file (default: $URDU_ETL_SOURCES, else config/sources.yaml under $URDU_ETL_HOME or the current directory)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="urdu-etl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The Urdu news pipeline without a scheduler: run declared sources for a day, ingest one "
        "dump, fetch only, show a day's summary or report, query the warehouse, check a sources file.",
        epilog="exit codes: 0 done; 1 the run failed its check; 2 bad command line; 3 bad configuration or value; "
        "4 fetch failed or no dump;\n            5 warehouse unreachable or unusable; 6 nothing to show yet; "
        "7 data dir or lake not writable (disk full)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="ingest one dump (file, folder, archive or URL) now")
    ing.add_argument("url", metavar="PATH_OR_URL")
    ing.add_argument("--source", required=True, help="source name the articles are stored under")
    ing.add_argument("--format", required=True, choices=list(FORMATS))
    ing.add_argument(
        "--map",
        type=_mapping,
        default={},
        metavar="field=column,...",
        help="column mapping for csv/jsonl, e.g. headline=title,body=content,url=link",
    )
    ing.add_argument("--encoding", default="utf-8")
    ing.add_argument("--date", type=_date, default=None, help="the day to file the dump under (default: today)")
    ing.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
    ing.add_argument(
        "--warehouse",
        default=None,
        help="SQLAlchemy URL (default: $URDU_ETL_WAREHOUSE_URL, else "
        "$AIRFLOW_CONN_URDU_WAREHOUSE, else SQLite in the data dir)",
    )
    ing.add_argument(
        "--run-id",
        type=_run_id,
        default=None,
        help="name the run; give a crashed run's id to resume it (its finished shards are not redone)",
    )
    ing.add_argument("--workers", type=_workers, default=None, metavar="N", help=WORKERS_HELP)
    ing.add_argument("-q", "--quiet", action="store_true", help="print errors only (no progress, log or summary)")

    day = sub.add_parser("run", help="run declared sources for one day, as the nightly DAG does")
    day.add_argument("--date", type=_date, required=True)
    day.add_argument("--sources", default="", help="comma-separated source names (default: all)")
    day.add_argument(
        "--config",
        type=Path,
        default=None,
        help=CONFIG_HELP,
    )
    day.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
    day.add_argument("--warehouse", default=None)
    day.add_argument("--run-id", type=_run_id, default=None, help="name the run; give a crashed run's id to resume it")
    day.add_argument(
        "--dump",
        default=None,
        metavar="PATH_OR_URL",
        help="read this dump instead of the source's URL for the day (needs exactly one --sources)",
    )
    day.add_argument("--workers", type=_workers, default=None, metavar="N", help=WORKERS_HELP)
    day.add_argument("-q", "--quiet", action="store_true", help="print errors only (no progress, log or summary)")

    fet = sub.add_parser(
        "fetch",
        help="fetch and stage the declared sources' dumps for a day, without "
        "transforming them; prints what each manifest holds",
    )
    fet.add_argument("--date", type=_date, required=True)
    fet.add_argument("--sources", default="", help="comma-separated source names (default: all)")
    fet.add_argument("--config", type=Path, default=None, help=CONFIG_HELP)
    fet.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
    fet.add_argument("-q", "--quiet", action="store_true", help="print errors only")

    rep = sub.add_parser("report", help="print where a day's run report is (HTML and JSON); --rebuild draws it again")
    rep.add_argument("--date", type=_date, required=True)
    rep.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
    rep.add_argument("--rebuild", action="store_true", help="rebuild the report from the summary and the lake")

    chk = sub.add_parser("check-config", help="validate a sources file and list its sources")
    chk.add_argument(
        "--config",
        type=Path,
        default=None,
        help=CONFIG_HELP,
    )

    show = sub.add_parser("summary", help="print the summary of the last run for a day")
    show.add_argument("--date", type=_date, required=True)
    show.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
    q = sub.add_parser(
        "query",
        help="run a named warehouse query, or read-only SQL; no name lists the queries",
        description="Named queries: " + "; ".join(f"{n}: {q.description}" for n, q in queries.QUERIES.items()),
    )
    q.add_argument("name", nargs="?", choices=sorted(queries.QUERIES), metavar="NAME")
    q.add_argument("--sql", help="read-only SQL to run instead of a named query")
    q.add_argument(
        "--param",
        action="append",
        type=_param,
        default=[],
        metavar="key=value",
        help="query parameter, e.g. start=2024-11-01 end=2024-11-30 limit=50 (repeatable)",
    )
    q.add_argument("--csv", type=Path, default=None, help="write the rows to this CSV file instead of printing")
    q.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
    q.add_argument("--warehouse", default=None)
    return parser


def _param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--param {text!r} is not key=value")
    return key.strip(), value.strip()


def _query(args, url: str) -> int:
    """``query``: a named query, or one read-only statement (``--sql``), on a connection that cannot
    write (``queries.read_only_engine``). A refused statement is a ``WarehouseError`` (exit 5); an
    unwritable ``--csv`` file a ``ConfigError`` (exit 3)."""
    from etl.errors import ConfigError, WarehouseError

    if not args.name and args.sql is None:
        for name, q in queries.QUERIES.items():
            defaults = ", ".join(f"{k}={v}" for k, v in q.defaults.items()) or "no parameters"
            print(f"{name:<26}{q.description} ({defaults})")
        return 0
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise WarehouseError(f"warehouse URL {warehouse_url.url_for_display(url)!r} is not valid: {exc}") from None
    if parsed.drivername.startswith("sqlite"):
        if not parsed.database or parsed.database == ":memory:":
            raise WarehouseError(f"warehouse URL {url!r} names no SQLite file to query")
        if not Path(parsed.database).is_file():
            return _error(f"no warehouse at {parsed.database}: run the pipeline first", NOTHING_TO_SHOW)
    params = {k: int(v) if v.isascii() and v.isdigit() else v for k, v in args.param}
    try:
        engine = queries.read_only_engine(url)
        try:
            with engine.connect() as conn:
                if args.sql is not None:
                    columns, rows = queries.run_read_only(conn, args.sql, params)
                else:
                    columns, rows = queries.run_query(conn, args.name, **params)
        finally:
            engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        raise warehouse.as_warehouse_error(exc, url) from exc
    if args.csv:
        try:
            with args.csv.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(columns)
                w.writerows(rows)
        except OSError as exc:
            raise ConfigError(f"--csv {args.csv}: cannot write it: {exc.strerror or exc}") from None
        print(f"{len(rows)} rows written to {args.csv}", file=sys.stderr)
        return 0
    cells = [columns] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    print(f"({len(rows)} rows)", file=sys.stderr)
    return 0


def _error(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _check_config(settings: Settings) -> int:
    sources = declared_sources(settings)
    print(f"{len(sources)} source(s) in {settings.sources_file}:")
    for s in sources.values():
        mapped = ", ".join(f"{k}={v}" for k, v in s.columns.items()) or "-"
        print(
            f"  {s.name:<20} {s.format:<9} {redact(s.url)}\n  {'':<20} columns: {mapped}; required: {', '.join(s.required)}"
        )
    url = warehouse_url.checked_url(settings)
    settings.check_places(write=False)
    print(f"warehouse: {warehouse_url.url_for_display(url)}\nlake: {settings.lake}")
    return OK


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _fetch(args, settings: Settings) -> int:
    sources = select_sources(declared_sources(settings), _names(args.sources))
    settings.check_places()
    shards = fetch(sources, args.date, settings, run_id=f"fetch__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}")
    if not args.quiet:
        by_source: dict[str, list] = {}
        for shard in shards:
            by_source.setdefault(shard["source"]["name"], []).append(shard)
        for name, group in sorted(by_source.items()):
            files = sum(len(s["files"]) for s in group)
            staging = Path(group[0]["staging"]) / name
            print(f"{name}: {files} file(s) in {len(group)} shard(s), manifest {staging / 'manifest.json'}")
        missing = sorted({s.name for s in sources} - set(by_source))
        if missing:
            print(f"no dump for {args.date}: {', '.join(missing)}")
    return OK


def _report(args, settings: Settings) -> int:
    summary = read_summary(settings, args.date)
    if summary is None:
        return _error(f"no run for {args.date} under {settings.data_dir}: run the pipeline first", NOTHING_TO_SHOW)
    out = settings.runs / args.date.isoformat()
    if args.rebuild or not (out / "report.html").exists():
        from etl import report

        report.build_report(summary, summary.get("lake") or settings.lake, out)
    print(f"{out / 'report.html'}\n{out / 'report.json'}")
    return OK


def _command(args, settings: Settings, quiet: bool) -> int:
    """Run the command ``args`` names; errors of the pipeline's taxonomy propagate."""
    if args.command == "check-config":
        return _check_config(settings)
    if args.command == "summary":
        summary = read_summary(settings, args.date)
        if summary is None:
            return _error(f"no run summary for {args.date} under {settings.data_dir}", NOTHING_TO_SHOW)
        print(format_summary(summary))
        return OK if summary["status"] == "ok" else RUN_FAILED
    if args.command == "report":
        return _report(args, settings)
    if args.command == "fetch":
        return _fetch(args, settings)
    if args.command == "query":
        return _query(args, warehouse_url.checked_url(settings, flag=_flag(args)))
    progress = not quiet and sys.stderr.isatty()
    if args.command == "ingest":
        sources = [
            make_source(
                args.source,
                args.url,
                args.format,
                args.map,
                args.encoding,
                base_dir=Path.cwd(),
                literal_braces=True,
                labels=INGEST_LABELS,
            )
        ]
        day = args.date or dt.date.today()
        runner.preflight(settings, day, args.run_id, _flag(args))
        summary = runner.run(
            sources,
            day,
            settings,
            run_id=args.run_id,
            dump_url=sources[0].url_for(day),
            missing_ok=False,
            progress=progress,
            workers=args.workers,
        )
    else:
        sources = select_sources(declared_sources(settings), _names(args.sources))
        if args.dump is not None and not args.dump.strip():
            raise ConfigError("--dump is empty")
        runner.preflight(settings, args.date, args.run_id, _flag(args))
        summary = runner.run(
            sources,
            args.date,
            settings,
            run_id=args.run_id,
            progress=progress,
            dump_url=args.dump,
            missing_ok=args.dump is None,
            workers=args.workers,
        )
    if not quiet:
        print(format_summary(summary))
    return OK


#: How ``ingest`` names the values of the source it declares, in its errors.
INGEST_LABELS = {
    "name": "--source",
    "url": "PATH_OR_URL",
    "format": "--format",
    "columns": "--map",
    "encoding": "--encoding",
}


def _flag(args) -> str | None:
    """``--warehouse`` when the command line gave the warehouse URL, to name it in errors."""
    return "--warehouse" if getattr(args, "warehouse", None) is not None else None


FLAGS = {"data_dir": "--data-dir", "sources_file": "--config"}


def _settings(args) -> Settings:
    """The settings from the environment, with the command line's flags over them."""
    flags = {"data_dir": getattr(args, "data_dir", None), "sources_file": getattr(args, "config", None)}
    for name, value in flags.items():
        if value is not None and not str(value).strip():
            raise ConfigError(f"{FLAGS[name]} is empty")
    resolved = {}
    for name, value in flags.items():
        try:
            resolved[name] = value.resolve() if value is not None else None
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise ConfigError(f"{FLAGS[name]} {value}: {exc}") from None
    settings = Settings.from_env().replace(**resolved, warehouse_url=getattr(args, "warehouse", None))
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise ConfigError(f"data dir {settings.data_dir} (--data-dir or URDU_ETL_DATA_DIR) is a file, not a folder")
    return settings


def entry() -> None:
    """``urdu-etl`` and ``python -m etl``: ``main``, and a run whose worker was killed by a signal
    kills this process with that signal, as it would have died running the shards itself."""
    sys.exit(main(die_of_signals=True))


def main(argv: list[str] | None = None, die_of_signals: bool = False) -> int:
    """The command line ``argv``; its exit code. A worker killed by signal N is exit code 128 + N,
    or, with ``die_of_signals``, this process's death by N."""
    try:
        args = build_parser().parse_args(argv)
    except EtlError as exc:  # a value of the right shape that is not valid: --date 0001-01-01, --map body
        return _error(str(exc), exc.exit_code)
    quiet = getattr(args, "quiet", False)
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return _command(args, _settings(args), quiet)
    except runner.WorkerKilled as exc:  # die as the run would have died in one process
        _error(str(exc), exc.exit_code)
        sys.stderr.flush()
        if die_of_signals:
            if exc.signum not in (signal.SIGKILL, signal.SIGSTOP):  # their handlers cannot be changed
                signal.signal(exc.signum, signal.SIG_DFL)
            os.kill(os.getpid(), exc.signum)
        return 128 + exc.signum  # in-process callers, and a signal that does not end the process
    except EtlError as exc:  # the exit code says which class of failure it was (etl/errors.py)
        return _error(str(exc), exc.exit_code)
