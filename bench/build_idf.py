"""Build etl/enrich/rules/idf.tsv, the document-frequency table the keyword extractor weighs words by.

Usage: .venv/bin/python bench/build_idf.py [CORPORA] [--top 30000] [--min-df 2] [--out etl/enrich/rules/idf.tsv]

CORPORA defaults to ../shared/corpora beside the repository. Every article body there is cleaned
the way the pipeline cleans it (raw repairs, ``etl.text.normalize.normalize``, furniture removal)
and tokenized by ``etl.text.segment_column.segment``; exact copies (the same clean body in several
files) count once. A word's document frequency is the number of distinct bodies it occurs in;
only words that can be keywords (``etl.enrich.keywords.is_candidate``) are counted. The ``--top``
most frequent of those in ``--min-df`` bodies or more are written, ties by word, after a
``# documents`` line giving the body count (words seen once are mostly typos and fused words,
and get the table's largest idf anyway).
The table is a statistic of the corpora (word, count), not their text.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from corpus_texts import corpus_texts

from etl.enrich.keywords import IDF_FILE, is_candidate
from etl.text.normalize import collapse_whitespace, normalize
from etl.text.repair import remove_boilerplate, repair_raw
from etl.text.segment_column import segment


def clean(raw: str) -> str:
    """A raw body as the transform cleans it."""
    fixed, _ = repair_raw(raw)
    body, furniture = remove_boilerplate(normalize(fixed))
    return collapse_whitespace(body) if furniture else body


def distinct_bodies(corpora: Path) -> list[str]:
    """The clean, non-empty bodies of the corpora, each distinct text once, in reading order."""
    seen: set[bytes] = set()
    out = []
    for _, raw in corpus_texts(corpora):
        body = clean(raw or "")
        key = hashlib.sha256(body.encode()).digest()
        if body and key not in seen:
            seen.add(key)
            out.append(body)
    return out


def document_frequencies(bodies: list[str], batch: int = 5000) -> Counter:
    """In how many bodies each keyword candidate occurs."""
    df: Counter = Counter()
    for start in range(0, len(bodies), batch):
        seg = segment(bodies[start : start + batch])
        words: dict[int, set[str]] = {}
        for doc, toks in zip(seg["doc"].to_pylist(), seg["tokens"].to_pylist()):
            words.setdefault(doc, set()).update(toks)
        for vocab in words.values():
            df.update(w for w in vocab if is_candidate(w))
    return df


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpora", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpora")
    ap.add_argument("--top", type=int, default=30000, help="how many words to keep (most frequent first)")
    ap.add_argument("--min-df", type=int, default=2, help="leave out words in fewer bodies than this")
    ap.add_argument("--out", type=Path, default=IDF_FILE)
    args = ap.parse_args(argv)

    bodies = distinct_bodies(args.corpora)
    df = document_frequencies(bodies)
    rows = sorted(((w, c) for w, c in df.items() if c >= args.min_df), key=lambda kv: (-kv[1], kv[0]))[: args.top]
    lines = [
        "# Document frequencies of keyword candidates over the distinct clean article bodies of the",
        "# shared Urdu news corpora; written by bench/build_idf.py (do not edit by hand).",
        "# word\tdocuments containing it",
        f"# documents\t{len(bodies)}",
    ]
    lines += [f"{word}\t{count}" for word, count in rows]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(bodies)} distinct bodies, {len(df)} candidate words, {len(rows)} written to {args.out}")


if __name__ == "__main__":
    main()
