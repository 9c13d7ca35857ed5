"""Command line: ``python -m etl ingest|run|summary|query``.

``ingest`` and ``run`` run the same stages as the nightly DAG, in this process, without a
scheduler: for a dump that arrived late or from elsewhere. They print the run summary and exit
non-zero when the run fails. ``query`` prints a named warehouse query, or read-only SQL, as a
table or CSV.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import sys
from pathlib import Path

import sqlalchemy as sa

from etl import pipeline
from etl.config import FORMATS, ConfigError, make_source
from etl.fetch import FetchError
from etl.load import queries, warehouse


def _mapping(text: str) -> dict[str, str]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise argparse.ArgumentTypeError(f"--map entry {part!r} is not field=column")
        out[field.strip()] = column.strip()
    return out


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m etl", description="The Urdu news pipeline without a scheduler: "
                                     "ingest one dump, run declared sources for a day, or show a day's summary.")
    sub = parser.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="ingest one dump (file, folder, archive or URL) now")
    ing.add_argument("url", metavar="PATH_OR_URL")
    ing.add_argument("--source", required=True, help="source name the articles are stored under")
    ing.add_argument("--format", required=True, choices=FORMATS)
    ing.add_argument("--map", type=_mapping, default={}, metavar="field=column,...",
                     help="column mapping for csv/jsonl, e.g. headline=title,body=content,url=link")
    ing.add_argument("--encoding", default="utf-8")
    ing.add_argument("--date", type=_date, default=None, help="the day to file the dump under (default: today)")
    ing.add_argument("--data-dir", type=Path, default=None, help="lake, staging and default warehouse root")
    ing.add_argument("--warehouse", default=None, help="SQLAlchemy URL (default: $URDU_ETL_WAREHOUSE_URL, else "
                                                       "$AIRFLOW_CONN_URDU_WAREHOUSE, else SQLite in the data dir)")
    ing.add_argument("--run-id", default=None, help="name the run; give a crashed run's id to resume it "
                                                    "(its finished shards are not redone)")

    day = sub.add_parser("run", help="run declared sources for one day, as the nightly DAG does")
    day.add_argument("--date", type=_date, required=True)
    day.add_argument("--sources", default="", help="comma-separated source names (default: all)")
    day.add_argument("--config", type=Path, default=None, help="sources file (default: $URDU_ETL_SOURCES, else config/sources.yaml)")
    day.add_argument("--data-dir", type=Path, default=None)
    day.add_argument("--warehouse", default=None)
    day.add_argument("--run-id", default=None, help="name the run; give a crashed run's id to resume it")

    show = sub.add_parser("summary", help="print the summary of the last run for a day")
    show.add_argument("--date", type=_date, required=True)
    show.add_argument("--data-dir", type=Path, default=None)
    q = sub.add_parser("query", help="run a named warehouse query, or read-only SQL; no name lists the queries",
                       description="Named queries: " + "; ".join(f"{n}: {q.description}"
                                                                 for n, q in queries.QUERIES.items()))
    q.add_argument("name", nargs="?", choices=sorted(queries.QUERIES), metavar="NAME")
    q.add_argument("--sql", help="read-only SQL to run instead of a named query")
    q.add_argument("--param", action="append", type=_param, default=[], metavar="key=value",
                   help="query parameter, e.g. start=2024-11-01 end=2024-11-30 limit=50 (repeatable)")
    q.add_argument("--csv", type=Path, default=None, help="write the rows to this CSV file instead of printing")
    q.add_argument("--data-dir", type=Path, default=None)
    q.add_argument("--warehouse", default=None)
    return parser


def _param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--param {text!r} is not key=value")
    return key.strip(), value.strip()


def _query(args, url: str) -> int:
    if not args.name and not args.sql:
        for name, q in queries.QUERIES.items():
            params = ", ".join(f"{k}={v}" for k, v in q.defaults.items()) or "no parameters"
            print(f"{name:<26}{q.description} ({params})")
        return 0
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.exists():
            print(f"error: no warehouse at {path}: run the pipeline first", file=sys.stderr)
            return 1
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    engine = sa.create_engine(url)
    params = {k: int(v) if v.isdigit() else v for k, v in args.param}
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            if args.sql:
                result = conn.execute(sa.text(args.sql), params)
                columns, rows = list(result.keys()), [tuple(r) for r in result]
            else:
                columns, rows = queries.run_query(conn, args.name, **params)
    finally:
        engine.dispose()
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(columns)
            w.writerows(rows)
        print(f"{len(rows)} rows written to {args.csv}", file=sys.stderr)
        return 0
    cells = [columns] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    print(f"({len(rows)} rows)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    root = (args.data_dir or pipeline.data_dir()).resolve()
    try:
        if args.command == "summary":
            path = root / "runs" / args.date.isoformat() / "summary.json"
            if not path.exists():
                print(f"error: no run summary for {args.date} under {root}", file=sys.stderr)
                return 1
            summary = json.loads(path.read_text(encoding="utf-8"))
            print(pipeline.format_summary(summary))
            return 0 if summary["status"] == "ok" else 1
        url = args.warehouse or warehouse.resolve_url(root)
        if args.command == "query":
            return _query(args, url)
        if args.command == "ingest":
            sources = [make_source(args.source, args.url, args.format, args.map, args.encoding,
                                   base_dir=Path.cwd())]
            day = args.date or dt.date.today()
            summary = pipeline.run(sources, day, root, url, run_id=args.run_id, dump_url=sources[0].url_for(day),
                                   missing_ok=False)
        else:
            names = [n.strip() for n in args.sources.split(",") if n.strip()]
            sources = pipeline.select_sources(pipeline.load_config(args.config), names)
            summary = pipeline.run(sources, args.date, root, url, run_id=args.run_id)
    except (ConfigError, FetchError, ValueError, pipeline.RunCheckError, warehouse.WarehouseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except sa.exc.SQLAlchemyError as exc:
        print(f"error: warehouse {pipeline.url_for_display(url)}: {type(exc).__name__}: "
              f"{str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    print(pipeline.format_summary(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
