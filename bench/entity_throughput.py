"""Throughput of the entity stage, and what the learned recognizer costs, in one run.

Usage: .venv/bin/python bench/entity_throughput.py [--rounds 5] [--limit N] [--baseline REV]

Every article body of ../shared/corpora (express's one-line leads left out), cleaned as the
pipeline cleans them, is run through ``etl.enrich.entities.extract_entities_batch`` in batches of
the default shard size, one process, one core. Rounds interleave the variants so that machine
noise hits all of them; the median round of each gives MB/s of UTF-8 body text:

* ``stage``: the whole entity stage (gazetteer and title scan, patterns, the learned recognizer,
  longest match, in-article propagation);
* ``model_only``: ``etl.enrich.ner.predict_spans`` alone over the same texts;
* ``rules_only``: the stage with the recognizer's spans left out;
* ``baseline`` (with ``--baseline REV``): ``extract_entities`` of ``etl/enrich/entities.py`` as it
  was at git revision REV, loaded beside today's, on the same gazetteers.

Writes bench/results/entity_throughput.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from corpus_texts import corpus_texts

from etl.enrich import entities, ner
from etl.text.clean_column import clean_batch

BATCH = 5_000


def stage(bodies: list[str]) -> int:
    n = 0
    for i in range(0, len(bodies), BATCH):
        chunk = bodies[i : i + BATCH]
        n += sum(map(len, entities.extract_entities_batch([None] * len(chunk), chunk)))
    return n


def model_only(bodies: list[str]) -> int:
    return sum(len(spans) for i in range(0, len(bodies), BATCH) for spans in ner.predict_spans(bodies[i : i + BATCH]))


def rules_only(bodies: list[str]) -> int:
    return sum(
        len(entities._article_mentions({"headline": "", "body": b}, {"headline": [], "body": []})) for b in bodies
    )


def baseline_at(rev: str):
    """``extract_entities`` of the entity module at git revision ``rev``."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:etl/enrich/entities.py"], check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "entities_baseline.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("entities_baseline", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(bodies: list[str]) -> int:
        return sum(len(module.extract_entities(None, b)) for b in bodies)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="at most this many bodies (0: all)")
    parser.add_argument("--baseline", metavar="REV", help="also time the entity module of this git revision")
    args = parser.parse_args()
    texts = [t for corpus, t in corpus_texts() if corpus != "express_headlines"]
    if args.limit:
        texts = texts[: args.limit]
    bodies = clean_batch(texts).bodies.to_pylist()
    size_mb = sum(len(b.encode()) for b in bodies) / 1e6
    runs = [("stage", stage), ("model_only", model_only), ("rules_only", rules_only)]
    if args.baseline:
        runs.append(("baseline", baseline_at(args.baseline)))
    counts = {name: fn(bodies[:50]) for name, fn in runs}  # warm: models loaded, regexes compiled
    timings: dict[str, list[float]] = {name: [] for name, _ in runs}
    for _ in range(args.rounds):
        for name, fn in runs:
            start = time.perf_counter()
            counts[name] = fn(bodies)
            timings[name].append(time.perf_counter() - start)
    result = {
        "bodies": len(bodies),
        "megabytes": round(size_mb, 2),
        "rounds": args.rounds,
        "batch": BATCH,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "model_version": ner.MODEL_VERSION,
        "baseline": args.baseline,
        "mentions": counts,
        "seconds_median": {k: round(statistics.median(v), 3) for k, v in timings.items()},
        "mb_per_s": {k: round(size_mb / statistics.median(v), 2) for k, v in timings.items()},
    }
    if args.baseline:
        result["ratio_stage_over_baseline"] = round(result["mb_per_s"]["stage"] / result["mb_per_s"]["baseline"], 2)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "entity_throughput.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
