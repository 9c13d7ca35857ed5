"""Digest of every output of the text stage over all corpora texts, to prove a change keeps them.

Usage:
    .venv/bin/python bench/text_identity.py --write BASELINE.json   # record the digests
    .venv/bin/python bench/text_identity.py --check BASELINE.json   # compare, exit 1 on a difference

Every article body of ../shared/corpora (``bench/corpus_texts.py``) goes through the text stage
as ``etl.tasks.transform.transform_shard`` runs it (records cleaned by ``etl.articles``, then
``segment_articles`` over the batch); the per-record ``clean_record`` and ``normalize`` alone are
run too. One sha256 per output column (articles, sentences, rejects) plus one per text, so a
difference names the column and the first texts that changed. Keep the baseline outside the
repository: it is derived from corpus text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import pyarrow as pa
from corpus_texts import corpus_texts

from etl import articles as transform
from etl import schema
from etl.records import RawRecord, Reject
from etl.text.normalize import normalize

DAY = dt.date(2024, 1, 1)


def _digest(values) -> str:
    h = hashlib.sha256()
    for v in values:
        h.update(json.dumps(v, ensure_ascii=False, default=str).encode())
        h.update(b"\x1e")
    return h.hexdigest()


def _records(texts: list[str]) -> list[RawRecord]:
    return [RawRecord("corpora", "corpus", i, {"body": t}) for i, t in enumerate(texts)]


def _split(outs) -> tuple[list[dict], list[dict]]:
    articles, rejects = [], []
    for out in outs:
        (rejects.append(out.as_row()) if isinstance(out, Reject) else articles.append(out))
    return articles, rejects


def _per_record(records: list[RawRecord]) -> tuple[list[dict], list[dict]]:
    return _split(transform.clean_record(rec, DAY) for rec in records)


def _batch(records: list[RawRecord]) -> tuple[list[dict], list[dict]]:
    return _split(transform.clean_records(records, DAY))


def digests(texts: list[str]) -> dict:
    records = _records(texts)
    paths = {"per_record": _per_record}
    if hasattr(transform, "clean_records"):
        paths["batch"] = _batch
    out: dict = {"texts": len(texts), "normalize": _digest(normalize(t) for t in texts)}
    for name, clean in paths.items():
        articles, rejects = clean(records)
        table, sentences = transform.segment_articles(pa.Table.from_pylist(articles, schema=schema.ARTICLES))
        cols = {f"articles.{c}": _digest(table[c].to_pylist()) for c in table.column_names}
        cols.update({f"sentences.{c}": _digest(sentences[c].to_pylist()) for c in sentences.column_names})
        cols["rejects"] = _digest(rejects)
        body_digest = {a["record_no"]: _digest([a["body"], a["repairs"], a["boilerplate_chars"]]) for a in articles}
        body_digest.update({r["record_no"]: _digest([r["reason"], r["detail"]]) for r in rejects})
        out[name] = {"columns": cols, "per_text": [body_digest[i][:12] for i in range(len(texts))]}
    return out


def compare(base: dict, now: dict) -> list[str]:
    problems = []
    if base["normalize"] != now["normalize"]:
        problems.append("normalize() output differs")
    ref = base["per_record"]
    for name in ("per_record", "batch"):
        if name not in now:
            continue
        cur = now[name]
        for col, d in ref["columns"].items():
            if cur["columns"].get(col) != d:
                problems.append(f"{name}: column {col} differs")
        bad = [i for i, (a, b) in enumerate(zip(ref["per_text"], cur["per_text"])) if a != b]
        if bad:
            problems.append(f"{name}: {len(bad)} texts differ, first: {bad[:10]}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--check", type=Path)
    args = parser.parse_args()
    now = digests([t for _, t in corpus_texts()])
    if args.write:
        args.write.write_text(json.dumps(now) + "\n")
        print(f"{now['texts']} texts, {len(now['per_record']['columns'])} columns -> {args.write}")
        return
    problems = compare(json.loads(args.check.read_text()), now)
    for p in problems:
        print(p)
    print(
        f"{now['texts']} texts, paths {[k for k in ('per_record', 'batch') if k in now]}: "
        + ("IDENTICAL" if not problems else f"{len(problems)} DIFFERENCES")
    )
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
