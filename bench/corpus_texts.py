"""The article texts of ../shared/corpora, read the way the pipeline reads them, for benchmarks."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from etl.read.bbc_doc import parse as parse_bbc
from etl.read.seed_txt import parse as parse_seed

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
CSV_BODIES = {
    "news_sites/geo_jang_express_2024a.csv": "Contents",
    "news_sites/geo_jang_express_dunya_2024b.csv": "content",
    "news_sites/jang_express_geo_samaa_dawn_2024c.csv": "content",
    "untm/sampled_UNTM.csv": "News",
    "express_headlines/express_headlines_all.csv": "summery",
}


def corpus_texts(root: Path = CORPORA) -> Iterator[tuple[str, str]]:
    """``(corpus, text)`` for every article body in the corpora."""
    if not root.is_dir():
        sys.exit(f"corpora not found at {root}: the benchmarks read ../shared/corpora")
    for path in sorted(root.glob("seed/*.txt")):
        yield "seed", parse_seed(path.read_text(encoding="utf-8"), path.name)["body"]
    for path in sorted(root.glob("bbc_voa/*/*/*.doc")):
        yield "bbc_voa", parse_bbc(path.read_text(encoding="utf-8"), str(path.relative_to(root)))["body"]
    csv.field_size_limit(sys.maxsize)
    for rel, column in CSV_BODIES.items():
        with open(root / rel, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get(column):
                    yield rel.split("/")[0], row[column]
