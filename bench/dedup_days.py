"""The copy search over a run of days: time and memory with and without its second stage.

Usage (from the repository root; the corpus from ``bench/make_corpus.py``):

    .venv/bin/python bench/dedup_days.py --input $SCRATCH/c20k --work $SCRATCH/dd --days 10 --window 5

The corpus's articles are dealt in order into ``--days`` days. ``prepare`` builds each day's
signature rows as the transform does (``minhash.signature_table``; no entity mentions, so the
entity keys are empty) and writes them as the lake's ``signatures`` partitions twice: with the
second stage's columns (``both``) and without them (``minhash``: what the lake held before, read
back as empty). Then, in a fresh process per mode, every day runs ``copies.find_copies`` against
the ``--window`` days before it, as ``write_lake`` does. Reported per mode: seconds of
``signature_table`` per MB of text (``prepare``; beside ``minhash.signatures`` alone, what
it cost before the second stage), seconds of the copy search per day, the largest
day's, peak RSS of the search process, bytes of ``signatures`` files per article, and the copies
and stories found. Writes ``bench/results/dedup_days.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from etl.dedup import copies, minhash

MODES = ("minhash", "both")
STAGE2 = ["sketch", "numbers", "entities", "story_id"]
FIRST_DAY = dt.date(2024, 11, 1)


def _day(k: int) -> str:
    return (FIRST_DAY + dt.timedelta(days=k)).isoformat()


def read_corpus(folder: Path) -> pa.Table:
    parts = sorted(folder.glob("*.jsonl")) if folder.is_dir() else [folder]
    table = pa.concat_tables([pj.read_json(p) for p in parts])
    return table.select(["id", "text"])


def prepare(args) -> dict:
    corpus = read_corpus(Path(args.input))
    n = corpus.num_rows
    per_day = -(-n // args.days)
    work = Path(args.work)
    seconds, minhash_seconds, mb = 0.0, 0.0, 0.0
    for k in range(args.days):
        day = corpus.slice(k * per_day, per_day)
        bodies = day["text"]
        articles = pa.table(
            {
                "article_id": day["id"].cast(pa.string()),
                "content_hash": [hashlib.sha256(b.encode()).hexdigest()[:16] for b in bodies.to_pylist()],
                "published_at": pa.array([dt.datetime(2024, 11, 1 + k, tzinfo=dt.UTC)] * day.num_rows).cast(
                    pa.timestamp("us", tz="UTC")
                ),
                "body": bodies,
                "source_file": pa.array(["bench"] * day.num_rows),
                "record_no": pa.array(range(day.num_rows), pa.int64()),
            }
        )
        t0 = time.perf_counter()
        minhash.signatures(bodies)
        t1 = time.perf_counter()
        sigs = minhash.signature_table(articles)
        seconds += time.perf_counter() - t1
        minhash_seconds += t1 - t0
        mb += pc.sum(pc.binary_length(bodies)).as_py() / 1e6
        sigs = sigs.drop_columns(["source_file", "record_no"])
        for mode in MODES:
            table = sigs if mode == "both" else sigs.drop_columns(STAGE2)
            folder = work / mode / "lake" / "signatures" / f"ingest_date={_day(k)}" / "source=bench"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, folder / "part-0.parquet")
    sizes = {
        mode: sum(p.stat().st_size for p in (work / mode / "lake" / "signatures").rglob("*.parquet")) for mode in MODES
    }
    return {
        "articles": n,
        "days": args.days,
        "text_mb": round(mb, 2),
        "signature_table_mb_per_s": round(mb / seconds, 2),
        "minhash_signatures_only_mb_per_s": round(mb / minhash_seconds, 2),
        "signature_table_seconds_to_minhash_only": round(seconds / minhash_seconds, 3),
        "signature_bytes_per_article": {m: round(s / n, 1) for m, s in sizes.items()},
    }


def _peak_rss_kb() -> int:
    """This process's peak RSS since it started its program: ``VmHWM`` where Linux gives it
    (``ru_maxrss`` keeps the high-water mark of the parent forked before the exec, here the
    process that made the signatures), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def search(args) -> dict:
    work = Path(args.work) / args.mode
    root = work / "lake"
    per_day, found = [], {"exact": 0, "near": 0, "rewrite": 0, "stories": 0}
    for k in range(args.days):
        day = _day(k)
        part = pq.read_table(root / "signatures" / f"ingest_date={day}" / "source=bench" / "part-0.parquet")
        t0 = time.perf_counter()
        result = copies.find_copies([part], part.num_rows, str(root), day, args.window)
        per_day.append(time.perf_counter() - t0)
        for kind in ("exact", "near", "rewrite"):
            found[kind] += pc.sum(pc.equal(result["kind"], kind)).as_py() or 0
        if "story_id" in result.column_names:
            found["stories"] += pc.sum(pc.is_valid(result["story_id"])).as_py() or 0
    return {
        "search_seconds": round(sum(per_day), 3),
        "largest_day_seconds": round(max(per_day), 3),
        "last_day_seconds": round(per_day[-1], 3),
        "peak_rss_mb": round(_peak_rss_kb() / 1024, 1),
        "found": found,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", required=True, help="a make_corpus.py folder (or one JSONL file)")
    ap.add_argument("--work", required=True, help="scratch folder, outside the repository")
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="search runs per mode, interleaved; the median is kept")
    ap.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    if args.mode:
        print("RESULT " + json.dumps(search(args)))
        return
    result: dict = {"python": platform.python_version(), "DEDUP_VERSION": minhash.DEDUP_VERSION, "window": args.window}
    result["prepare"] = prepare(args)
    runs: dict[str, list[dict]] = {m: [] for m in MODES}
    for _ in range(args.rounds):
        for mode in MODES:
            cmd = [sys.executable, __file__, *sys.argv[1:], "--mode", mode]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            runs[mode].append(json.loads(out.split("RESULT ", 1)[1]))
    for mode, rs in runs.items():
        rs.sort(key=lambda r: r["search_seconds"])
        result[mode] = rs[len(rs) // 2] | {"search_seconds_all": [r["search_seconds"] for r in rs]}
    result["ratio_both_to_minhash"] = {
        k: round(result["both"][k] / result["minhash"][k], 3)
        for k in ("search_seconds", "largest_day_seconds", "peak_rss_mb")
    }
    out = HERE / "results" / "dedup_days.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
