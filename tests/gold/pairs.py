"""Hand-labelled article pairs: resolve them against the corpora and score a copy/rewrite linker.

``pairs_dev.jsonl`` (the set the copy detection is tuned on) and ``pairs_test.jsonl`` (the blind
set, scored once at the end) hold no corpus text. Each line names two articles of
``../shared/corpora`` (corpus file and record, as in ``entities.py``), a hash of each cleaned
field, and the label the annotator gave the pair after reading both articles:

    {"id": "dev-001", "label": "rewrite", "reason": "shared-agency-lead",
     "a": {"file": "news_sites/x.csv", "record": 12, "sha256": {"headline": "<16 hex>", "body": "<16 hex>"}},
     "b": {"file": "news_sites/y.csv", "record": 40, "sha256": {...}}}

Labels (guideline and decisions: ``PAIRS.md`` here): ``copy`` (the same text, up to dirt,
trimming, furniture), ``rewrite`` (wholly derived from the other or from one common agency copy),
``same_event`` (the same event written independently), ``different``. ``copy`` and ``rewrite`` are
*derived* pairs, which the pipeline should link as copies; ``same_event`` and ``different`` are
*non-derived* pairs, which it should not link as copies (``same_event`` may share a story id).

``load`` re-reads both articles with the pipeline's own readers and cleaning (``entities.Corpora``,
``etl.articles.clean_record`` as of ``CLEANED_AS_OF``) and hands each side over as the dict
``etl.dedup.rewrites.pair_kinds`` takes: ``body``, ``headline``, ``published_at`` (UTC datetime or
None, as the pipeline derives it) and ``source`` (the site of the article's URL, else ``bbc`` or
``voa`` for the BBC/VOA files). A field whose hash no longer matches raises ``GoldError``.

``score(items, kinds)`` compares the kinds a linker gives (``exact``, ``near``, ``rewrite``,
``story`` or None per pair) with the labels. ``python -m tests.gold.pairs dev [--show-errors]``
(from the repository root, with ``PYTHONPATH`` set to it) scores ``pair_kinds`` (or, while that
function does not exist, the current MinHash linking, clearly labelled) and the reference rule
"word-3-gram containment >= 0.4". The test part is only validated while anything is being tuned:
``python -m tests.gold.pairs test --validate`` checks its hashes and prints its counts, no scores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import pathlib
import sys
from collections import Counter
from collections.abc import Callable, Sequence

from tests.gold.entities import CLEANED_AS_OF, DEFAULT_CORPORA, Corpora, GoldError, field_hash

HERE = pathlib.Path(__file__).resolve().parent
SETS = {"dev": HERE / "pairs_dev.jsonl", "test": HERE / "pairs_test.jsonl"}
LABELS = ("copy", "rewrite", "same_event", "different")
DERIVED = ("copy", "rewrite")
#: Kinds a linker may give a pair; the first three link the pair as a copy (``duplicate_of``).
KINDS = ("exact", "near", "rewrite", "story", None)
COPY_KINDS = ("exact", "near", "rewrite")
#: Which kinds count as right for each label, for the per-kind precision and recall.
EXPECTED = {"copy": ("exact", "near"), "rewrite": ("rewrite",), "same_event": ("story",), "different": (None,)}
FIELDS = ("headline", "body")
#: The reference rule: word-3-gram containment (letters only, either direction) at least this.
REFERENCE_CONTAINMENT = 0.4

#: ``link(pairs) -> kinds``: one kind of ``KINDS`` per ``(a, b)`` pair of article dicts.
Linker = Callable[[list[tuple[dict, dict]]], Sequence[str | None]]


class _Reader(Corpora):
    """``Corpora`` that also hands out what a linker needs: publication time and source."""

    def side(self, rel: str, record: int) -> dict:
        from etl.articles import clean_record
        from etl.records import Reject

        row = clean_record(self.raw(rel, record), CLEANED_AS_OF)
        if isinstance(row, Reject):
            raise GoldError(f"{rel} record {record}: the pipeline rejects it ({row.reason})")
        published = row["published_at"]
        if isinstance(published, dt.datetime) and published.tzinfo is None:
            published = published.replace(tzinfo=dt.UTC)
        source = row["source_site"] or ("bbc" if "/bbc/" in rel else "voa" if "/voa/" in rel else rel.split("/")[0])
        return {
            "file": rel,
            "record": record,
            "headline": row["headline"] or "",
            "body": row["body"] or "",
            "published_at": published,
            "source": source,
        }


def load(name_or_path: str | pathlib.Path, corpora: pathlib.Path = DEFAULT_CORPORA) -> list[dict]:
    """The pairs of a gold set: ``{"id", "label", "reason", "a": {...}, "b": {...}}`` with each side's
    cleaned ``headline``/``body``, ``published_at`` and ``source``; raises ``GoldError`` on anything that
    does not resolve (a missing record, a rejected article, a changed field, a bad label, a repeat)."""
    path = SETS.get(str(name_or_path), pathlib.Path(name_or_path))
    reader = _Reader(corpora)
    items: list[dict] = []
    seen: set = set()
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        where = f"{path.name}:{line_no} ({item.get('id')})"
        if item.get("label") not in LABELS:
            raise GoldError(f"{where}: label {item.get('label')!r} is not one of {LABELS}")
        sides = {}
        for s in ("a", "b"):
            ref = item[s]
            side = reader.side(ref["file"], ref.get("record", 1))
            for f in FIELDS:
                if ref["sha256"].get(f) != field_hash(side[f]):
                    raise GoldError(f"{where}: the cleaned {f} of side {s} no longer matches its hash")
            sides[s] = side
        a_key, b_key = (f"{item[s]['file']}#{item[s].get('record', 1)}" for s in ("a", "b"))
        key = tuple(sorted((a_key, b_key)))
        if a_key == b_key or key in seen or item["id"] in seen:
            raise GoldError(f"{where}: a pair of one article with itself, or a repeated pair or id")
        seen.update((key, item["id"]))
        items.append({"id": item["id"], "label": item["label"], "reason": item.get("reason", ""), **sides})
    return items


def _pct(n: int, d: int) -> float:
    return round(100 * n / d, 1) if d else 0.0


def score(items: list[dict], link: Linker) -> dict:
    """How ``link`` does on ``items``: the share of derived (copy + rewrite) pairs linked as copies
    (``exact``/``near``/``rewrite``), the share of non-derived (same_event + different) pairs linked as
    copies, the confusion of label x kind, precision/recall per kind, and the pairs it got wrong."""
    pairs = [(i["a"], i["b"]) for i in items]
    kinds = list(link(pairs))
    if len(kinds) != len(items):
        raise ValueError(f"{len(kinds)} kinds for {len(items)} pairs")
    for k in kinds:
        if k not in KINDS:
            raise ValueError(f"kind {k!r} is not one of {KINDS}")
    confusion = Counter((i["label"], k) for i, k in zip(items, kinds))
    derived = [k for i, k in zip(items, kinds) if i["label"] in DERIVED]
    other = [k for i, k in zip(items, kinds) if i["label"] not in DERIVED]
    out: dict = {
        "pairs": len(items),
        "derived_linked": _pct(sum(k in COPY_KINDS for k in derived), len(derived)),
        "nonderived_linked": _pct(sum(k in COPY_KINDS for k in other), len(other)),
        "derived": len(derived),
        "nonderived": len(other),
        "confusion": confusion,
        "labels": Counter(i["label"] for i in items),
    }
    # "linked": linked as a copy at all, against derived; then one row per label and its kinds
    groups = {"linked (any copy kind)": (DERIVED, COPY_KINDS), **{lab: ((lab,), EXPECTED[lab]) for lab in LABELS}}
    per = {}
    for name, (labels, good) in groups.items():
        tp = sum(1 for i, k in zip(items, kinds) if i["label"] in labels and k in good)
        pred = sum(1 for k in kinds if k in good)
        gold = sum(1 for i in items if i["label"] in labels)
        per[name] = {"P": _pct(tp, pred), "R": _pct(tp, gold), "tp": tp, "pred": pred, "gold": gold}
    out["per_kind"] = per
    out["errors"] = [(i, k) for i, k in zip(items, kinds) if (i["label"] in DERIVED) != (k in COPY_KINDS)]
    return out


def table(result: dict) -> str:
    """The scores of ``score`` as Markdown tables."""
    lines = [
        f"derived pairs (copy + rewrite) linked as copies: **{result['derived_linked']}%** of {result['derived']}; "
        f"non-derived pairs (same_event + different) linked as copies: **{result['nonderived_linked']}%** "
        f"of {result['nonderived']}",
        "",
        "| label \\ kind | " + " | ".join(str(k) for k in KINDS) + " | pairs |",
        "|---|" + "---|" * (len(KINDS) + 1),
    ]
    for lab in LABELS:
        row = [str(result["confusion"][(lab, k)]) for k in KINDS]
        lines.append(f"| {lab} | " + " | ".join(row) + f" | {result['labels'][lab]} |")
    lines += ["", "| kind (expected for) | P | R | tp | predicted | gold |", "|---|---|---|---|---|---|"]
    for name, c in result["per_kind"].items():
        label = name if name.startswith("linked") else f"{'/'.join(str(k) for k in EXPECTED[name])} ({name})"
        lines.append(f"| {label} | {c['P']} | {c['R']} | {c['tp']} | {c['pred']} | {c['gold']} |")
    return "\n".join(lines)


def _letter_words(bodies: list[str]) -> list[list[str]]:
    """The letters-only words of each body, as the copy search cuts them (``minhash.word_tokens``)."""
    from etl.dedup.minhash import word_tokens

    tokens, offsets = word_tokens(bodies)
    flat = tokens.to_pylist()
    return [flat[offsets[k] : offsets[k + 1]] for k in range(len(bodies))]


def containment(a: str, b: str, n: int = 3) -> float:
    """Word-n-gram containment of two bodies in either direction: shared n-grams over the smaller set."""
    wa, wb = _letter_words([a, b])
    ga = {tuple(wa[k : k + n]) for k in range(len(wa) - n + 1)}
    gb = {tuple(wb[k : k + n]) for k in range(len(wb) - n + 1)}
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / min(len(ga), len(gb))


def reference_kinds(pairs: list[tuple[dict, dict]]) -> list[str | None]:
    """The reference rule: ``exact`` for equal bodies, ``rewrite`` when the word-3-gram containment
    (letters only, either direction) reaches ``REFERENCE_CONTAINMENT``, else None."""
    out: list[str | None] = []
    for a, b in pairs:
        if a["body"] == b["body"]:
            out.append("exact")
        else:
            out.append("rewrite" if containment(a["body"], b["body"]) >= REFERENCE_CONTAINMENT else None)
    return out


def current_kinds(pairs: list[tuple[dict, dict]]) -> list[str | None]:
    """Today's copy linking, each pair alone: ``etl.dedup.clusters.find_duplicates`` (exact content
    hash, MinHash LSH candidates kept at estimated Jaccard >= ``THRESHOLD``) on a batch of the two."""
    import pyarrow as pa

    from etl.dedup.clusters import find_duplicates
    from etl.dedup.minhash import signatures

    bodies = [s["body"] for a, b in pairs for s in (a, b)]
    sig = signatures(bodies)
    out: list[str | None] = []
    for k, (a, b) in enumerate(pairs):
        batch = pa.table(
            {
                "article_id": ["a", "b"],
                "content_hash": [hashlib.sha256(s["body"].encode()).hexdigest()[:16] for s in (a, b)],
                "published_at": pa.array([a["published_at"], b["published_at"]], pa.timestamp("us", tz="UTC")),
            }
        )
        found = find_duplicates(batch, batch_signatures=sig[2 * k : 2 * k + 2])
        out.append(found["kind"][0].as_py() if found.num_rows else None)
    return out


def pipeline_linker() -> tuple[str, Linker]:
    """``etl.dedup.rewrites.pair_kinds`` when it exists, else the current MinHash linking."""
    try:
        from etl.dedup.rewrites import pair_kinds
    except ImportError:
        return "current (no etl.dedup.rewrites.pair_kinds yet: exact hash + MinHash Jaccard >= 0.5)", current_kinds
    return "etl.dedup.rewrites.pair_kinds", pair_kinds


def _show(item: dict, kind: str | None) -> str:
    a, b = item["a"], item["b"]
    c = containment(a["body"], b["body"])
    return (
        f"- {item['id']} gold={item['label']} ({item['reason']}) got={kind} containment3={c:.2f}\n"
        f"    a: {a['file']}#{a['record']} {a['source']} {a['published_at']} | {a['headline'][:70]}\n"
        f"    b: {b['file']}#{b['record']} {b['source']} {b['published_at']} | {b['headline'][:70]}"
    )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.gold.pairs", description=__doc__.split("\n")[0])
    ap.add_argument("split", choices=sorted(SETS))
    ap.add_argument("corpora", nargs="?", type=pathlib.Path, default=DEFAULT_CORPORA)
    ap.add_argument("--show-errors", action="store_true", help="list the pairs linked wrongly (dev only)")
    ap.add_argument("--validate", action="store_true", help="resolve and check the set, print counts, no scores")
    args = ap.parse_args(argv)
    if not args.corpora.is_dir():
        print(f"corpora folder {args.corpora} not found: the pair gold set needs ../shared/corpora", file=sys.stderr)
        return 2
    if args.split == "test" and args.show_errors:
        print("--show-errors is refused on the blind test part: it is scored once, never read", file=sys.stderr)
        return 2
    items = load(args.split, args.corpora)
    labels = Counter(i["label"] for i in items)
    corpora = Counter(f"{i['a']['file'].split('/')[0]}" for i in items)
    print(f"{args.split}: {len(items)} pairs; " + ", ".join(f"{k} {labels[k]}" for k in LABELS))
    print("by corpus: " + ", ".join(f"{k} {v}" for k, v in sorted(corpora.items())))
    if args.validate:
        print("all hashes resolve")
        return 0
    name, link = pipeline_linker()
    for title, fn in (
        (name, link),
        (f"reference: word-3-gram containment >= {REFERENCE_CONTAINMENT}", reference_kinds),
    ):
        result = score(items, fn)
        print(f"\n## {title}\n")
        print(table(result))
        if args.show_errors:
            print(f"\n{len(result['errors'])} pairs linked wrongly (derived not linked, or non-derived linked):")
            for item, kind in result["errors"]:
                print(_show(item, kind))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
