"""The warehouse load (``load_warehouse``) on its own: SQLite rows/s and share of the run, PostgreSQL
against ``DataFrame.to_sql`` of the same rows, and optionally another tree's ingest beside this one's.

Usage (from the repository root):

    python bench/make_corpus.py --n 20000 --out $SCRATCH/c20k --parts 1        # or any JSONL of id, text
    python bench/warehouse_load.py --corpus $SCRATCH/c20k/part-0.jsonl --data-dir $SCRATCH/wl \\
        --rounds 3 --pg [--baseline-tree OTHER_CHECKOUT --ab-rounds 2]

1. ``--corpus``: ``python -m etl ingest`` of the corpus into ``--data-dir`` (one day, source ``gen``),
   from this tree; its ``seconds:`` line gives the stages of a whole run. Without ``--corpus`` the
   lake already in ``--data-dir`` is used.
2. SQLite: ``load_warehouse`` of that lake into a fresh database file, ``--rounds`` times, then the
   same day loaded again over it (the re-run path: delete the day's rows, insert them again).
3. ``--pg``: a throwaway PostgreSQL server (``tests/support/services.py`` starts it, as the test
   suite does; under root it runs as the OS user ``postgres``). Each round, interleaved, in a fresh
   database each: ``load_warehouse`` against ``DataFrame.to_sql`` (pandas defaults, through a
   SQLAlchemy engine) of the same rows of the same six tables, list columns as JSON text. Both
   timings include reading the lake. The ratio is taken per round; the median is reported.
4. ``--baseline-tree``: ``python -m etl ingest`` of the corpus from that checkout and from this one,
   alternately (step 1's run first), ``--ab-rounds`` runs of each; the ``load_warehouse`` seconds and
   their share of the run from each run's ``seconds:`` line.

Results: ``bench/results/warehouse_load.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

TABLES = ("articles", "sentences", "mentions", "entities", "rejects", "duplicates")
MAP = "external_id=id,body=text"


def ingest(tree: Path, corpus: Path, data_dir: Path, day: str) -> dict:
    """``python -m etl ingest`` from ``tree``; its wall seconds and its ``seconds:`` line as a dict."""
    shutil.rmtree(data_dir, ignore_errors=True)
    cmd = [sys.executable, "-m", "etl", "ingest", str(corpus), "--source", "gen", "--format", "jsonl"]
    cmd += ["--map", MAP, "--date", day, "--data-dir", str(data_dir), "--run-id", "bench_wl"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=tree, env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode:
        raise SystemExit(f"ingest from {tree} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    line = next(x for x in out.stdout.splitlines() if x.strip().startswith("seconds:"))
    stages = {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+)", line)}
    return {
        "wall": round(wall, 2),
        "stages": stages,
        "load_share_of_stages": round(stages["load_warehouse"] / sum(stages.values()), 4),
        "load_share_of_wall": round(stages["load_warehouse"] / wall, 4),
    }


def lake_report(data_dir: Path, day: str) -> dict:
    """A ``LakeReport`` for the day's lake in ``data_dir``: its sources, and counts from the files."""
    import pyarrow.parquet as pq

    lake = data_dir / "lake"
    names = sorted(p.name.split("=", 1)[1] for p in (lake / "articles" / f"ingest_date={day}").glob("source=*"))
    sources = {}
    for name in names:
        rows = {}
        for table in TABLES:
            files = sorted((lake / table / f"ingest_date={day}" / f"source={name}").glob("*.parquet"))
            rows[table] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        sources[name] = {
            "records_in": rows["articles"] + rows["rejects"] + rows["duplicates"],
            "loaded": rows["articles"],
            "duplicates": rows["duplicates"],
            "rejected": rows["rejects"],
            "sentences": rows["sentences"],
            "mentions": rows["mentions"],
            "copies": 0,
            "repairs": {},
            "files": {},
        }
    return {"day": day, "lake": str(lake), "staging": [], "sources": sources, "stages": {}}


def load(report: dict, url: str, data_dir: Path) -> tuple[float, dict]:
    from etl.config import make_source
    from etl.tasks.load_warehouse import load_warehouse

    srcs = [
        make_source(name, str(data_dir), "jsonl", {"external_id": "id", "body": "text"}) for name in report["sources"]
    ]
    t0 = time.perf_counter()
    out = load_warehouse(report, url, "bench-wl", dt.datetime.now(dt.UTC), srcs)  # type: ignore[arg-type]
    return time.perf_counter() - t0, out["written"]


def to_sql(report: dict, url: str) -> tuple[float, int]:
    """What a data engineer would write: each lake table read whole, list columns as JSON, ``to_sql``."""
    import pyarrow.dataset as ds
    import sqlalchemy as sa

    t0 = time.perf_counter()
    engine = sa.create_engine(url)
    rows = 0
    for table in TABLES:
        folder = Path(report["lake"]) / table
        if not folder.exists():  # a day with no row of the table has no partition
            continue
        data = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
        df = data.to_pandas()
        for col in df.columns:
            if str(data.schema.field(col).type).startswith("list"):
                df[col] = [json.dumps(list(v), ensure_ascii=False) if v is not None else None for v in df[col]]
        df.to_sql(f"naive_{table}", engine, index=False)
        rows += len(df)
    engine.dispose()
    return time.perf_counter() - t0, rows


def bench_sqlite(report: dict, data_dir: Path, rounds: int) -> dict:
    fresh, again = [], []
    rows = 0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="wl-sqlite-") as tmp:
            url = f"sqlite:///{tmp}/wh.db"
            secs, written = load(report, url, data_dir)
            fresh.append(secs)
            again.append(load(report, url, data_dir)[0])
            rows = sum(written.values())
    med = statistics.median(fresh)
    return {
        "rows": rows,
        "fresh_seconds": [round(s, 3) for s in fresh],
        "rerun_seconds": [round(s, 3) for s in again],
        "fresh_rows_per_s": round(rows / med),
        "rerun_rows_per_s": round(rows / statistics.median(again)),
    }


def bench_pg(report: dict, data_dir: Path, rounds: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from tests.support.services import PG_ROLE, PostgresServer, _PgCluster

    cluster = _PgCluster()
    try:
        cluster.initdb()
        cluster.start()
        assert cluster.port is not None
        server = PostgresServer(
            "127.0.0.1", cluster.port, PG_ROLE, cluster.bindir, cluster.datadir, cluster.rundir, cluster.logfile
        )
        ours, naive, ratios = [], [], []
        rows = 0
        for i in range(rounds):
            server.create_database(f"ours{i}")
            server.create_database(f"naive{i}")
            secs, written = load(report, server.url(f"ours{i}"), data_dir)
            nsecs, rows = to_sql(report, server.url(f"naive{i}"))
            ours.append(secs)
            naive.append(nsecs)
            ratios.append(nsecs / secs)
            assert sum(written[t] for t in TABLES) == rows, (written, rows)
            server.drop_database(f"ours{i}")
            server.drop_database(f"naive{i}")
        return {
            "rows": rows,
            "load_warehouse_seconds": [round(s, 3) for s in ours],
            "to_sql_seconds": [round(s, 3) for s in naive],
            "ratio_per_round": [round(r, 2) for r in ratios],
            "ratio_median": round(statistics.median(ratios), 2),
            "load_warehouse_rows_per_s": round(rows / statistics.median(ours)),
            "server": "PostgreSQL 16, fsync=off, synchronous_commit=off, full_page_writes=off (the test suite's)",
        }
    finally:
        cluster.stop_and_cleanup()


def bench_ab(baseline: Path, corpus: Path, work: Path, day: str, rounds: int, first: dict) -> dict:
    """Ingest runs of the other tree and of this one, alternately; ``first``, this tree's run of
    step 1, opens the series (this, other, this, other, ...)."""
    runs: dict[str, list[dict]] = {"baseline": [], "this": [first]}
    for i in range(rounds):
        for name, tree in (("baseline", baseline), ("this", ROOT)):
            if name == "this" and i == rounds - 1:
                break
            runs[name].append(ingest(tree, corpus, work / f"ab-{name}", day))
            shutil.rmtree(work / f"ab-{name}", ignore_errors=True)
    med = {k: statistics.median(r["stages"]["load_warehouse"] for r in v) for k, v in runs.items()}
    return {
        "runs": runs,
        "load_seconds_median": med,
        "load_speedup": round(med["baseline"] / med["this"], 2),
        "load_share_median": {k: statistics.median(r["load_share_of_wall"] for r in v) for k, v in runs.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True, help="where the lake is (or is written, with --corpus)")
    ap.add_argument("--corpus", help="a JSONL file of id and text to ingest first")
    ap.add_argument("--date", default="2024-01-01")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pg", action="store_true", help="also compare with to_sql on a throwaway PostgreSQL")
    ap.add_argument("--baseline-tree", help="another checkout whose ingest to time beside this one's")
    ap.add_argument("--ab-rounds", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results" / "warehouse_load.json"))
    args = ap.parse_args()
    data_dir = Path(args.data_dir).resolve()
    result: dict = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if args.corpus:
        result["corpus"] = Path(args.corpus).name
        result["ingest"] = ingest(ROOT, Path(args.corpus).resolve(), data_dir, args.date)
        print("ingest:", result["ingest"], flush=True)
    report = lake_report(data_dir, args.date)
    result["sqlite"] = bench_sqlite(report, data_dir, args.rounds)
    print("sqlite:", result["sqlite"], flush=True)
    if args.pg:
        result["postgresql"] = bench_pg(report, data_dir, args.rounds)
        print("postgresql:", result["postgresql"], flush=True)
    if args.baseline_tree:
        if not args.corpus:
            raise SystemExit("--baseline-tree needs --corpus")
        result["ab"] = bench_ab(
            Path(args.baseline_tree).resolve(),
            Path(args.corpus).resolve(),
            data_dir.parent,
            args.date,
            args.ab_rounds,
            result["ingest"],
        )
        print("ab:", {k: v for k, v in result["ab"].items() if k != "runs"}, flush=True)
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("written", args.out)


if __name__ == "__main__":
    main()
