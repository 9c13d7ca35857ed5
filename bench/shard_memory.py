"""Peak memory of a run against the shard size: the same one-file dump ingested with
``URDU_ETL_SHARD_MB`` at several sizes, each in a fresh ``python -m etl ingest`` process.

A CSV/JSONL file larger than the shard size is cut into shards of whole records, and a task holds
one shard at a time, so peak memory should follow the shard size and not the file's. The input is
one JSONL file of ``make_corpus.py`` (its parts concatenated). Peak RSS of the child is read from
``getrusage(RUSAGE_CHILDREN)`` after it exits (each size runs in a fresh child of a fresh helper
process, so the maximum is that child's own).

Usage: PYTHONPATH=. .venv/bin/python bench/shard_memory.py --input SCRATCH/c10k --sizes 2,4,8,16,32
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = "external_id=id,url=url,headline=title,body=text,published=published,category=category"


def _one(dump: Path, shard_mb: float, work: Path) -> dict:
    """Ingest ``dump`` in a child process; its peak RSS, wall seconds and shard count."""
    code = (
        "import resource, subprocess, sys, time, json;"
        "t = time.perf_counter();"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "print(json.dumps({'rc': p.returncode, 'err': p.stderr[-2000:], 'wall_s': time.perf_counter() - t,"
        " 'peak_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))"
    )
    cmd = [
        sys.executable,
        "-m",
        "etl",
        "ingest",
        str(dump),
        "--source",
        "bench",
        "--format",
        "jsonl",
        "--map",
        MAPPING,
        "--date",
        "2024-01-01",
        "--data-dir",
        str(work),
        "--quiet",
    ]
    env = {**os.environ, "URDU_ETL_SHARD_MB": str(shard_mb), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, env=env, cwd=ROOT)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["rc"] != 0:
        raise RuntimeError(f"ingest failed at {shard_mb} MB: {res['err']}")
    shards = len(list((work / "lake" / "articles").rglob("*.parquet")))
    return {
        "shard_mb": shard_mb,
        "peak_rss_mb": round(res["peak_rss_mb"], 1),
        "wall_s": round(res["wall_s"], 2),
        "article_files": shards,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="a make_corpus.py folder of JSONL parts")
    parser.add_argument("--sizes", default="2,4,8,16,32", help="shard sizes in MiB")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "shard_memory.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shard-memory-"))
    try:
        dump = work / "all.jsonl"
        with open(dump, "wb") as out:
            for part in sorted(args.input.glob("*.jsonl")):
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out)
        rows = []
        for mb in [float(s) for s in args.sizes.split(",")]:
            res = _one(dump, mb, work / f"data-{mb}")
            rows.append(res)
            print(json.dumps(res), flush=True)
            shutil.rmtree(work / f"data-{mb}", ignore_errors=True)
        doc = {
            "input_bytes": dump.stat().st_size,
            "input": args.input.name,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "runs": rows,
        }
        args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
