"""How long importing each DAG file takes: the cost the dag-processor pays on every parse.

For each file in ``dags/``, in a fresh interpreter per round, under ``python -X importtime``:

- ``airflow_sdk_s``: importing ``airflow.sdk`` first (its line of the import-time report), the
  baseline every DAG file pays once per interpreter, and which a dag-processor has loaded already.
- ``import_s``: then importing the DAG file: its line of the report, cumulative, so it counts
  the file and every module it pulls in beyond ``airflow.sdk``. This is the figure held against
  the 0.3 s target.
- ``reparse_s``: the file executed again in the same interpreter, timed with ``perf_counter``:
  what each later parse of a changed file costs.
- ``heavy_modules``: modules of pandas, pyarrow, sqlalchemy, numpy and ``etl`` that importing
  the DAG file added (there should be none: the tasks import them when they run).

Usage: .venv/bin/python bench/dag_parse.py [--rounds 5] [--out bench/results/dag_parse.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.3
HEAVY = ("pandas", "pyarrow", "sqlalchemy", "numpy", "etl")

_PROBE = rf"""
import importlib, importlib.util, json, os, sys, time
path, name = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(path))
import airflow.sdk
before = set(sys.modules)
__import__(name)  # the import statement's path, which -X importtime reports
spec = importlib.util.spec_from_file_location(name, path)
heavy = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in {set(HEAVY)})
times = []
for _ in range(5):
    again = importlib.util.module_from_spec(spec)
    began = time.perf_counter()
    spec.loader.exec_module(again)
    times.append(time.perf_counter() - began)
print(json.dumps({{"reparse_s": sorted(times)[2], "heavy_modules": heavy}}))
"""


def _import_seconds(stderr: str, name: str) -> float:
    """A module's cumulative import time from ``-X importtime``'s report, in seconds."""
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.rstrip().endswith(f"| {name}"):
            return int(line.split("|")[1]) / 1e6
    raise RuntimeError(f"no import-time line for {name}")


def measure(path: Path, rounds: int) -> dict:
    name = path.stem
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    sdk, own, again, heavy = [], [], [], []
    for _ in range(rounds):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", _PROBE, str(path), name],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        sdk.append(_import_seconds(proc.stderr, "airflow.sdk"))
        own.append(_import_seconds(proc.stderr, name))
        again.append(result["reparse_s"])
        heavy = result["heavy_modules"]
    return {
        "file": str(path.relative_to(ROOT)),
        "airflow_sdk_s": round(statistics.median(sdk), 4),
        "import_s": round(statistics.median(own), 4),
        "reparse_s": round(statistics.median(again), 5),
        "heavy_modules": heavy,
        "under_target": statistics.median(own) < TARGET_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dag_parse.json")
    args = parser.parse_args()
    results = [measure(p, args.rounds) for p in sorted((ROOT / "dags").glob("*.py"))]
    for r in results:
        print(
            f"{r['file']}: import {r['import_s']:.3f} s on top of airflow.sdk (target < {TARGET_S} s; "
            f"airflow.sdk itself {r['airflow_sdk_s']:.2f} s), re-parse {r['reparse_s'] * 1000:.1f} ms, "
            f"heavy modules added: {len(r['heavy_modules'])}"
        )
    args.out.write_text(
        json.dumps({"target_s": TARGET_S, "rounds": args.rounds, "dags": results}, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
