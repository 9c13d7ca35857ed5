"""The copy search of one day alone: seconds and peak memory, for one or more code trees side by side.

Usage (from the repository root; the signatures of a lake an ingest wrote):

    .venv/bin/python bench/copy_search.py --signatures $SCRATCH/d/lake/signatures \\
        --trees $SCRATCH/before . --rounds 2 --out bench/results/copy_search_100k.json

Each round runs, for every tree in turn and each in a fresh process with that tree first on the
path, ``etl.dedup.copies.find_copies`` over all the rows of ``--signatures`` as one day's loaded
articles (their ``duplicate_of`` and ``story_id`` cleared, an empty lake as history), as
``write_lake`` runs it: the rows come in shards of up to 3,400, each read from the files when the
search asks for it and not kept by the caller, as ``write_lake`` reads the shards' staging files.
Reported per tree: the search's seconds and the process's peak RSS (median over rounds), the RSS
before the search, and a hash of the result, so that trees that find different copies show it.
Ratios are against the first tree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import json, resource, sys, tempfile, time, hashlib
from pathlib import Path
import pyarrow as pa, pyarrow.dataset as ds
from etl import schema
from etl.dedup import copies

source, day = sys.argv[1], sys.argv[2]
data = ds.dataset(source, format="parquet", partitioning="hive")
n = data.count_rows()


def shards():  # read one at a time and let go, as write_lake reads the shards' staging files
    for batch in data.to_batches(
        columns=schema.SIGNATURES.names, batch_size=3400, batch_readahead=1, fragment_readahead=1
    ):
        part = pa.Table.from_batches([batch])
        for name in ("duplicate_of", "story_id"):
            part = part.set_column(part.schema.get_field_index(name), name, pa.nulls(part.num_rows, pa.string()))
        yield part


before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
found = copies.find_copies(shards(), n, Path(tempfile.mkdtemp()), day, 30)
seconds = time.perf_counter() - began
rows = sorted(map(tuple, (r.values() for r in found.to_pylist())), key=repr)
print(json.dumps({
    "articles": n,
    "seconds": round(seconds, 2),
    "rss_before_mb": before // 1024,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    "found": found.num_rows,
    "result_sha256": hashlib.sha256(repr(rows).encode()).hexdigest()[:16],
}))
"""


ROOT = Path(__file__).resolve().parent.parent


def _shown(arg: str) -> str:
    """An argument as the results file records it: paths outside the repository as ``$SCRATCH/...``."""
    path = Path(arg)
    if not path.is_absolute():
        return arg
    if path.resolve().is_relative_to(ROOT):
        return str(path.resolve().relative_to(ROOT)) or "."
    return "$SCRATCH/" + "/".join(path.parts[-3:])


def _command(argv: list[str]) -> str:
    """The command as the results file records it: trees outside the repository as ``$TREE_k``."""
    shown, in_trees, k = [], False, 0
    for arg in argv:
        if arg.startswith("--"):
            in_trees = arg == "--trees"
        elif in_trees:
            shown.append(f"$TREE_{k}" if Path(arg).is_absolute() else arg)
            k += 1
            continue
        shown.append(_shown(arg))
    return " ".join(["bench/copy_search.py", *shown])


def run_once(tree: Path, signatures: Path, day: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(signatures), day], cwd=tree, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"{tree}: exit {done.returncode}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signatures", type=Path, required=True, help="a lake's signatures folder")
    parser.add_argument(
        "--trees", type=Path, nargs="+", default=[Path(".")], help="code trees; the first is the baseline"
    )
    parser.add_argument("--day", default="2024-03-05", help="the day the search runs for (history: the days before)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    trees = [t.resolve() for t in args.trees]
    runs: dict[str, list[dict]] = {str(t): [] for t in trees}
    for r in range(args.rounds):
        for tree in trees:
            got = run_once(tree, args.signatures, args.day)
            runs[str(tree)].append(got)
            print(f"round {r + 1} {tree.name}: {got}", flush=True)
    summary = []
    for k, tree in enumerate(trees):
        rs = runs[str(tree)]
        summary.append(
            {
                "tree": f"tree {k}" if k else "tree 0 (baseline)",
                "commit": subprocess.run(
                    ["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True
                ).stdout.strip(),
                "seconds": round(statistics.median(x["seconds"] for x in rs), 2),
                "peak_rss_mb": statistics.median(x["peak_rss_mb"] for x in rs),
                "rss_before_mb": statistics.median(x["rss_before_mb"] for x in rs),
                "found": rs[0]["found"],
                "same_result_as_baseline": rs[0]["result_sha256"] == runs[str(trees[0])][0]["result_sha256"],
                "runs": rs,
            }
        )
    base = summary[0]
    for s in summary:
        s["speed_vs_baseline"] = round(base["seconds"] / s["seconds"], 2)
        s["peak_vs_baseline"] = round(s["peak_rss_mb"] / base["peak_rss_mb"], 2)
        print(
            f"{s['tree']} {s['commit']}: {s['seconds']} s ({s['speed_vs_baseline']}x), peak {s['peak_rss_mb']} MB "
            f"({s['peak_vs_baseline']}x), found {s['found']}, same result: {s['same_result_as_baseline']}"
        )
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "command": _command(sys.argv[1:]),
                    "signatures_rows": base["runs"][0]["articles"],
                    "input_sha256": hashlib.sha256(
                        b"".join(p.read_bytes() for p in sorted(args.signatures.rglob("*.parquet")))
                    ).hexdigest()[:16],
                    "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                    "trees": summary,
                },
                indent=1,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
