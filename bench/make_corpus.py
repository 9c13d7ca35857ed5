"""Scale the real corpora of ../shared/corpora to N synthetic articles, as JSONL, for the pipeline benchmark.

Every article is made of real sentences: a base article is drawn (long-form bodies from BBC/VOA,
the news_sites CSVs, UNTM and the seed 70% of the time, an express_headlines lead 30%); each of
its sentences is kept with probability 0.3, else replaced by a random sentence of a long-form
article; short leads are padded to four sentences; the sentences are shuffled and grouped three
to a paragraph. Whole bodies or paragraphs cannot be re-used as units: most dumps carry no line
breaks, and a few hundred distinct bodies scaled to 100k articles would all be near copies of
each other. Two articles share few 5-word shingles, far under the pipeline's near-duplicate
threshold, so dedup does not collapse them (articles that reuse the same sentences do still
occur, more often as N grows; the pipeline's own count of copies is reported beside the truth);
ids, URLs, dates (ISO and RFC-822) and categories vary too.

Known true duplicates, re-using a recent article under a new id and URL: ``--exact`` (5%) are
byte-identical bodies, ``--near`` (5%) have one sentence replaced by a sentence from elsewhere.
Their ids are listed in ``<out>.truth.csv`` (``id,kind,copy_of``) beside a ``<out>.truth.json``
summary, both next to the output rather than in it.

Output is deterministic for a seed and streamed: memory is the paragraph pool (~30 MB of text)
plus a ring of the last ``RING`` articles, whatever N is. ``--parts K`` writes K files
``part-00000.jsonl`` ... into a folder (rows dealt round-robin), so readers that shard by file have
shards; ``--parts 1`` writes one ``.jsonl`` file.

    .venv/bin/python bench/make_corpus.py --n 100000 --out $SCRATCH/c100k --parts 8
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import random
import re
import sys
import time
from collections import deque
from pathlib import Path

from etl.read.bbc_doc import parse as parse_bbc
from etl.read.seed_txt import parse as parse_seed

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
#: csv file -> (title, body, category, link) columns
CSVS = {
    "news_sites/geo_jang_express_2024a.csv": ("Titles", "Contents", "Gold Labels", "Links"),
    "news_sites/geo_jang_express_dunya_2024b.csv": ("title", "content", "gold_label", "link"),
    "news_sites/jang_express_geo_samaa_dawn_2024c.csv": ("title", "content", "gold_label", "link"),
    "untm/sampled_UNTM.csv": ("Title", "News", "Category", "Link"),
    "express_headlines/express_headlines_all.csv": ("title", "summery", "category", "link"),
}
SITES = (
    "bbc.com",
    "urdu.voanews.com",
    "geo.tv",
    "jang.com.pk",
    "express.pk",
    "dunya.com.pk",
    "samaa.tv",
    "urdupoint.com",
)
SHORT_SHARE = 0.3  # share of articles built on an express_headlines lead
KEEP = 0.3  # chance that a base sentence is kept: two articles on one base share ~9% of sentences
MIN_SENTENCES = 4  # a short lead is padded with sentences drawn from the long-form articles
PER_PARA = 3  # sentences per paragraph of the output
RING = 2000  # recent articles kept to copy from
_PARAS = re.compile(r"\n\s*\n|\r?\n")
_SENTENCE_END = re.compile(r"(?<=[۔؟!])\s+")
_START = dt.datetime(2012, 1, 1, tzinfo=dt.UTC)


def load_pool(root: Path = CORPORA) -> tuple[list[dict], list[dict], list[str]]:
    """``(long_articles, short_articles, long_sentences)`` from the real corpora, in a fixed order."""
    if not root.is_dir():
        sys.exit(f"corpora not found at {root}: the benchmarks read ../shared/corpora")
    long_, short = [], []
    for path in sorted(root.glob("seed/*.txt")):
        rec = parse_seed(path.read_text(encoding="utf-8"), path.name)
        long_.append({"title": rec.get("headline") or "", "body": rec["body"], "category": ""})
    for path in sorted(root.glob("bbc_voa/*/*/*.doc")):
        rec = parse_bbc(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
        long_.append({"title": rec.get("headline") or "", "body": rec["body"], "category": rec.get("category") or ""})
    csv.field_size_limit(sys.maxsize)
    for rel, (title, body, cat, _link) in CSVS.items():
        into = short if rel.startswith("express_headlines") else long_
        with open(root / rel, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if (row.get(body) or "").strip():
                    into.append({"title": row.get(title) or "", "body": row[body], "category": row.get(cat) or ""})
    for art in long_ + short:
        art["sents"] = _sentences(art.pop("body"))
    sentences = [x for art in long_ for x in art["sents"] if len(x) > 20]
    return long_, short, sentences


def _sentences(body: str) -> list[str]:
    """The body's sentences (split after ۔ ؟ ! and at line breaks)."""
    return [x for p in _PARAS.split(body) for x in _SENTENCE_END.split(p) if x.strip()] or [body]


def _published(rng: random.Random) -> str:
    when = _START + dt.timedelta(seconds=rng.randrange(13 * 365 * 86400))
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT") if rng.random() < 0.3 else when.isoformat()


def _near(body: str, rng: random.Random, sentences: list[str]) -> str:
    """``body`` with one sentence replaced by a sentence from elsewhere."""
    parts = _SENTENCE_END.split(body)
    i = rng.randrange(len(parts))
    parts[i] = rng.choice(sentences)
    return " ".join(parts)


def generate(n: int, seed: int, pool, exact: float, near: float):
    """Yield ``(row, kind, copy_of)`` for ``n`` articles; ``kind`` is ``original``, ``exact`` or ``near``."""
    long_, short, sentences = pool
    long_sents = [x for art in long_ for x in art["sents"]]
    rng = random.Random(seed)
    ring: deque[dict] = deque(maxlen=RING)
    for i in range(n):
        aid = f"a{seed:x}-{i:07d}-{hashlib.blake2b(f'{seed}/{i}'.encode(), digest_size=4).hexdigest()}"
        site = rng.choice(SITES)
        draw = rng.random()
        if ring and draw < exact + near:
            src = rng.choice(ring)
            kind = "exact" if draw < exact else "near"
            body = src["text"] if kind == "exact" else _near(src["text"], rng, sentences)
            row = {
                "id": aid,
                "url": f"https://{site}/urdu/{src['category'] or 'news'}/{aid}",
                "title": src["title"],
                "text": body,
                "published": _published(rng),
                "category": src["category"],
            }
            yield row, kind, src["id"]
            continue
        base = rng.choice(short if rng.random() < SHORT_SHARE else long_)
        sents = [x if rng.random() < KEEP else rng.choice(long_sents) for x in base["sents"]]
        sents += [rng.choice(long_sents) for _ in range(MIN_SENTENCES - len(sents))]
        rng.shuffle(sents)
        paras = [" ".join(sents[j : j + PER_PARA]) for j in range(0, len(sents), PER_PARA)]
        row = {
            "id": aid,
            "url": f"https://{site}/urdu/{base['category'] or 'news'}/{i}-{aid[-8:]}",
            "title": base["title"],
            "text": "\n\n".join(paras),
            "published": _published(rng),
            "category": base["category"],
        }
        ring.append(row)
        yield row, "original", ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, required=True, help="articles to write")
    ap.add_argument("--out", type=Path, required=True, help="output: a .jsonl file (--parts 1) or a folder")
    ap.add_argument("--parts", type=int, default=1, help="files to deal the rows into")
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--exact", type=float, default=0.05, help="share of exact copies under other URLs")
    ap.add_argument("--near", type=float, default=0.05, help="share of near copies (one sentence changed)")
    args = ap.parse_args(argv)
    began = time.perf_counter()
    pool = load_pool()
    if args.parts > 1:
        args.out.mkdir(parents=True, exist_ok=True)
        paths = [args.out / f"part-{k:05d}.jsonl" for k in range(args.parts)]
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        paths = [args.out]
    truth_base = args.out.with_suffix("")  # beside the output, never inside the folder a reader lists
    outs = [open(p, "w", encoding="utf-8") for p in paths]  # noqa: SIM115 - closed in the finally below
    counts = {"original": 0, "exact": 0, "near": 0}
    text_bytes = 0
    try:
        with open(f"{truth_base}.truth.csv", "w", encoding="utf-8", newline="") as tf:
            truth = csv.writer(tf)
            truth.writerow(["id", "kind", "copy_of"])
            for i, (row, kind, copy_of) in enumerate(generate(args.n, args.seed, pool, args.exact, args.near)):
                outs[i % len(outs)].write(json.dumps(row, ensure_ascii=False) + "\n")
                counts[kind] += 1
                text_bytes += len(row["text"].encode("utf-8"))
                if kind != "original":
                    truth.writerow([row["id"], kind, copy_of])
    finally:
        for fh in outs:
            fh.close()
    summary = {
        "n": args.n,
        "seed": args.seed,
        "parts": len(paths),
        "counts": counts,
        "text_bytes": text_bytes,
        "file_bytes": sum(p.stat().st_size for p in paths),
        "pool_long_sentences": len(pool[2]),
        "seconds": round(time.perf_counter() - began, 1),
    }
    Path(f"{truth_base}.truth.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
