"""Throughput of the text stage (clean + segment + tokenize) beside urduhack-lite, in one run.

Usage: .venv/bin/python bench/text_throughput.py [--rounds 7]

Both approaches run over the same texts (every article body in ../shared/corpora), one process,
one core, rounds interleaved (ours, its two halves, peer, ours, ...) so that machine noise hits
all; the median round of each gives MB/s (UTF-8 bytes of raw input per second) and the ratio.
"ours" is the whole stage: repair, normalize, furniture removal over the batch
(``etl.text.clean_column.clean_batch``, as ``etl.articles.clean_records`` runs it), then sentence and
token segmentation of the cleaned column; "ours_clean_only" and "ours_segment_only" time its two
halves, "per_text_clean" the same cleaning text by text (``clean_record``'s functions, the code
the batch must agree with). Writes bench/results/text_throughput.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import pyarrow.compute as pc
from corpus_texts import corpus_texts

from etl.articles import clean_body
from etl.text.clean_column import clean_batch
from etl.text.segment_column import segment


def per_text_clean(texts: list[str]) -> list[str]:
    """Repair, normalize and strip furniture, text by text, as ``etl.articles.clean_record`` does."""
    return [clean_body(raw)[0] for raw in texts]


def clean(texts: list[str]):
    """The same cleaning over the whole batch; the clean bodies as a pyarrow string array."""
    return clean_batch(texts).bodies


def ours(texts: list[str]) -> int:
    """The whole text stage (clean the batch, then one vectorised segmentation of the clean column,
    as ``etl.articles.segment_articles`` does); returns the token count."""
    table = segment(clean(texts))
    return pc.sum(pc.list_value_length(table["tokens"])).as_py() or 0


def ours_segment_only(bodies) -> int:
    return segment(bodies).num_rows


def urduhack_lite():
    """urduhack-lite 0.2.0: normalize + its sentence tokenizer.

    Its ``urduhack_lite.tokenization`` package cannot be imported (it does ``from eos import``),
    so the tokenizer's own function is loaded from its file; ``sentence_tokenizer`` only wraps it.
    """
    import urduhack_lite
    from urduhack_lite.normalization import normalize as uh_normalize

    eos_path = Path(urduhack_lite.__file__).parent / "tokenization" / "eos.py"
    spec = importlib.util.spec_from_file_location("urduhack_lite_eos", eos_path)
    eos = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(eos)

    def run(texts: list[str]) -> int:
        return sum(len(eos._generate_sentences(uh_normalize(t))) for t in texts)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    texts = [t for _, t in corpus_texts()]
    size_mb = sum(len(t.encode()) for t in texts) / 1e6
    peer = urduhack_lite()
    cleaned = clean(texts)
    if cleaned.to_pylist() != per_text_clean(texts):
        sys.exit("the batch and the per-text cleaning disagree")
    ours_segment_only(cleaned)  # the compiled scans are built (or loaded from their cache) before timing
    runs = (
        ("ours", ours, texts),
        ("ours_clean_only", clean, texts),
        ("ours_segment_only", ours_segment_only, cleaned),
        ("per_text_clean", per_text_clean, texts),
        ("urduhack_lite", peer, texts),
    )
    timings: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    for _ in range(args.rounds):
        for name, fn, data in runs:
            start = time.perf_counter()
            fn(data)
            timings[name].append(time.perf_counter() - start)
    result = {
        "texts": len(texts),
        "megabytes": round(size_mb, 2),
        "rounds": args.rounds,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "seconds_median": {k: round(statistics.median(v), 3) for k, v in timings.items()},
        "mb_per_s": {k: round(size_mb / statistics.median(v), 2) for k, v in timings.items()},
    }
    mbs = result["mb_per_s"]
    result["ratio_ours_over_urduhack_lite"] = round(mbs["ours"] / mbs["urduhack_lite"], 2)
    # the same ratio within each round (the two ran seconds apart), to show how far noise moves it
    per_round = sorted(p / o for o, p in zip(timings["ours"], timings["urduhack_lite"]))
    result["ratio_ours_over_urduhack_lite_per_round"] = {
        "min": round(per_round[0], 2),
        "median": round(statistics.median(per_round), 2),
        "max": round(per_round[-1], 2),
    }
    result["ratio_clean_over_per_text_clean"] = round(mbs["ours_clean_only"] / mbs["per_text_clean"], 2)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "text_throughput.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
