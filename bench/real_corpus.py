"""Every article body of ../shared/corpora as ONE JSONL file of ``{"id", "text"}`` rows, for the
whole-pipeline benchmark on real text (``bench/pipeline_bench.py run --input FILE``).

The bodies are read as ``bench/corpus_texts.py`` reads them (the same parsers the pipeline uses for
the BBC/VOA and seed files, the body column of each CSV); ids are ``<corpus>-<row>``. Beside the
output goes ``<out>.truth.json`` with the row count and the UTF-8 bytes of the text, which
``pipeline_bench.py`` uses for MB/s.

    .venv/bin/python bench/real_corpus.py --out $SCRATCH/real.jsonl
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from corpus_texts import corpus_texts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="the JSONL file to write")
    args = ap.parse_args(argv)
    counts: collections.Counter[str] = collections.Counter()
    text_bytes = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for corpus, text in corpus_texts():
            counts[corpus] += 1
            text_bytes += len(text.encode("utf-8"))
            out.write(json.dumps({"id": f"{corpus}-{counts[corpus]}", "text": text}, ensure_ascii=False) + "\n")
    truth = {
        "n": sum(counts.values()),
        "corpora": dict(counts),
        "text_bytes": text_bytes,
        "file_bytes": args.out.stat().st_size,
    }
    args.out.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(truth))


if __name__ == "__main__":
    main()
