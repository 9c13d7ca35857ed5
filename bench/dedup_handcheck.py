"""Hand-check of near-duplicate decisions: flagged pairs, and unflagged pairs just below the threshold.

Usage: .venv/bin/python bench/dedup_handcheck.py --lake DATA_DIR/lake/articles [--seed 7] [--chars 600]

Runs ``find_duplicates`` over news_a+news_b+news_c in one batch, then prints, for a person to read:
30 flagged near pairs (article -> its canonical; 10 drawn from all, 20 from the lowest band of
similarity, THRESHOLD to THRESHOLD + 0.2, where mistakes would be) and 30 unflagged pairs (in two
different clusters) whose exact shingle Jaccard lies in [THRESHOLD - 0.2, THRESHOLD). Each pair shows
ids, source, URL, estimated and exact similarity, headlines and the opening of both bodies. The
verdicts (same-story copy or not) are recorded by hand in bench/results/dedup_handcheck.md, with
ids and URLs only, never the text.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from dedup_choice import NEWS, exact_pairs, load, with_signatures

from etl.dedup import clusters, minhash


def pairs_to_check(lake: str, seed: int) -> tuple[list[dict], list[dict]]:
    """(flagged, unflagged) pairs as dicts of row numbers and similarities."""
    news = with_signatures(load(lake, NEWS))
    ids = news["article_id"].to_pylist()
    row = {a: i for i, a in enumerate(ids)}
    result = clusters.find_duplicates(news)
    root = dict(zip(result["article_id"].to_pylist(), result["duplicate_of"].to_pylist()))
    sig = minhash.signature_matrix(news["signature"])
    pairs, jac = exact_pairs(news["body"], minhash.SHINGLE, min_j=minhash.THRESHOLD - 0.2)
    jac_of = dict(zip(map(tuple, pairs.tolist()), jac.tolist()))

    def info(a: int, b: int) -> dict:
        a, b = min(a, b), max(a, b)
        return {"a": a, "b": b, "estimate": float((sig[a] == sig[b]).mean()), "exact": jac_of.get((a, b), 0.0)}

    rng = random.Random(seed)
    near = [
        (row[a], row[c])
        for a, c, k in zip(
            result["article_id"].to_pylist(), result["duplicate_of"].to_pylist(), result["kind"].to_pylist()
        )
        if k == "near"
    ]
    flagged_all = [info(a, b) for a, b in near]
    low = [p for p in flagged_all if p["estimate"] < minhash.THRESHOLD + 0.2]
    flagged = rng.sample(flagged_all, 10)
    flagged += rng.sample([p for p in low if p not in flagged], min(20, len(low)))
    unflagged = [
        info(a, b)
        for (a, b), j in jac_of.items()
        if j < minhash.THRESHOLD and root.get(ids[a], ids[a]) != root.get(ids[b], ids[b])
    ]
    unflagged = rng.sample(unflagged, min(30, len(unflagged)))
    for p in flagged + unflagged:
        p["news"] = news
    return flagged, unflagged


def show(n: int, label: str, p: dict, chars: int) -> None:
    news = p["news"]
    print(f"### {label} {n}: estimate {p['estimate']:.2f}, exact Jaccard {p['exact']:.2f}")
    for side in ("a", "b"):
        r = p[side]
        print(f"  [{side}] {news['article_id'][r]} {news['source'][r]} {news['url'][r]}")
        print(f"      H: {news['headline'][r]}")
        print(f"      B: {str(news['body'][r])[:chars]}")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--chars", type=int, default=600)
    args = ap.parse_args()
    flagged, unflagged = pairs_to_check(args.lake, args.seed)
    for n, p in enumerate(flagged, 1):
        show(n, "flagged", p, args.chars)
    for n, p in enumerate(unflagged, 1):
        show(n, "unflagged", p, args.chars)


if __name__ == "__main__":
    main()
