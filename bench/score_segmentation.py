"""Score sentence splitting and word tokenization against the hand-made gold set (tests/gold/).

Usage: .venv/bin/python bench/score_segmentation.py [--worst 15] [--corpora PATH]

Every segmenter gets the RAW gold paragraph and returns its sentences and its tokens.
Comparison key (both sides): ``etl.text.normalize.normalize`` then all whitespace removed, so
segmenters are not punished for their own normalization; strings whose key is empty (invisible
marks that normalization deletes) are left out on both sides. Per item, predictions and gold are
multisets; true positives are the multiset intersection; P/R/F1 are micro-averaged over items.

Segmenters:
  ours           etl.text.normalize.normalize, then etl.text.segment (paragraphs, sentences, tokens)
  urduhack_lite  urduhack-lite 0.2.0: its normalize, then its sentence tokenizer
                 (``_generate_sentences``, loaded from tokenization/eos.py by file path because the
                 ``urduhack_lite.tokenization`` package does ``from eos import`` and cannot be
                 imported). It has no word tokenizer: tokens are a whitespace split of its sentences.
  spacy_blank_ur spaCy ``spacy.blank("ur")``: its tokenizer; a blank pipeline splits no sentences,
                 so the rule-based ``sentencizer`` pipe is added (default punctuation).
Peers are optional: a peer that is not installed is skipped, saying so.

Writes bench/results/segmentation_scores.json (scores and counts only: no corpus text).
The worst disagreements of ``ours`` are printed for reading, never stored.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from etl.text.normalize import normalize

#: A segmenter maps a raw paragraph to (sentences, tokens).
Segmenter = Callable[[str], tuple[list[str], list[str]]]


def key(s: str) -> str:
    """The comparison key: normalized, all whitespace removed."""
    return "".join(normalize(s).split())


def _keys(strings: Iterable[str]) -> Counter:
    return Counter(k for k in map(key, strings) if k)


def _prf(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "tp": tp,
        "predicted": n_pred,
        "gold": n_gold,
    }


def compare(pred: Iterable[str], gold: Iterable[str]) -> tuple[int, int, int, Counter, Counter]:
    """(true positives, predicted, gold, gold-only keys, predicted-only keys) for one item."""
    p, g = _keys(pred), _keys(gold)
    return sum((p & g).values()), sum(p.values()), sum(g.values()), g - p, p - g


def score(segmenter: Segmenter, items: list[dict]) -> dict:
    """Micro-averaged sentence and token P/R/F1 of ``segmenter`` over gold ``items``.

    Also returns ``per_item``: for each item its id and the gold-only / predicted-only keys,
    for error analysis.
    """
    tot = {"sentences": [0, 0, 0], "tokens": [0, 0, 0]}
    per_item = []
    for item in items:
        sents, toks = segmenter(item["text"])
        row = {"id": item["id"]}
        for what, pred, gold in (("sentences", sents, item["gold_sentences"]), ("tokens", toks, item["gold_tokens"])):
            tp, n_pred, n_gold, missed, extra = compare(pred, gold)
            t = tot[what]
            t[0] += tp
            t[1] += n_pred
            t[2] += n_gold
            row[what] = (missed, extra)
        per_item.append(row)
    return {
        "sentences": _prf(*tot["sentences"]),
        "tokens": _prf(*tot["tokens"]),
        "items": len(items),
        "per_item": per_item,
    }


# ---------------------------------------------------------------------------------- segmenters


def ours() -> Segmenter:
    from etl.text.segment import paragraphs, sentences, tokens

    def run(text: str) -> tuple[list[str], list[str]]:
        sents = [s for p in paragraphs(normalize(text)) for s in sentences(p)]
        return sents, [t for s in sents for t in tokens(s)]

    return run


def urduhack_lite() -> Segmenter:
    import urduhack_lite as uh
    from urduhack_lite.normalization import normalize as uh_normalize

    eos_path = Path(uh.__file__).parent / "tokenization" / "eos.py"
    spec = importlib.util.spec_from_file_location("urduhack_lite_eos", eos_path)
    eos = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(eos)

    def run(text: str) -> tuple[list[str], list[str]]:
        sents = eos._generate_sentences(uh_normalize(text))
        return sents, [t for s in sents for t in s.split()]

    return run


def spacy_blank_ur() -> Segmenter:
    import spacy

    nlp = spacy.blank("ur")
    nlp.add_pipe("sentencizer")

    def run(text: str) -> tuple[list[str], list[str]]:
        doc = nlp(text)
        return [s.text for s in doc.sents], [t.text for t in doc]

    return run


SEGMENTERS: dict[str, tuple[Callable[[], Segmenter], str]] = {
    "ours": (ours, "etl.text.normalize.normalize + etl.text.segment"),
    "urduhack_lite": (
        urduhack_lite,
        "its normalize + eos._generate_sentences (loaded by file path); "
        "tokens = whitespace split of its sentences (it has no word tokenizer)",
    ),
    "spacy_blank_ur": (
        spacy_blank_ur,
        "spacy.blank('ur') tokenizer + added 'sentencizer' pipe (a blank pipeline has no sentence splitter)",
    ),
}


def _short(c: Counter, n: int = 6) -> str:
    keys = list(c.elements())
    return " | ".join(keys[:n]) + (f" | … (+{len(keys) - n})" if len(keys) > n else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worst", type=int, default=15, help="disagreements of ours to print")
    parser.add_argument("--corpora", type=Path, default=None)
    args = parser.parse_args()

    from tests.gold.resolve import DEFAULT_CORPORA, load_gold

    corpora = args.corpora or DEFAULT_CORPORA
    if not Path(corpora).is_dir():
        sys.exit(f"corpora not found at {corpora}: the gold set re-reads its text from ../shared/corpora")
    items = load_gold(corpora)
    n_sent = sum(len(i["gold_sentences"]) for i in items)
    n_tok = sum(len(i["gold_tokens"]) for i in items)

    results, versions = {}, {}
    for name, (factory, note) in SEGMENTERS.items():
        try:
            seg = factory()
        except ImportError as exc:
            print(f"skipped {name}: not installed ({exc})")
            continue
        results[name] = score(seg, items)
        results[name]["note"] = note
    for dist in ("urduhack-lite", "spacy", "pyarrow"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:
            pass

    head = f"{'segmenter':<15} {'sent P':>7} {'sent R':>7} {'sent F1':>7}  {'tok P':>7} {'tok R':>7} {'tok F1':>7}  items  gold sents  gold toks"
    print(head)
    print("-" * len(head))
    for name, r in results.items():
        s, t = r["sentences"], r["tokens"]
        print(
            f"{name:<15} {s['precision']:7.4f} {s['recall']:7.4f} {s['f1']:7.4f}  "
            f"{t['precision']:7.4f} {t['recall']:7.4f} {t['f1']:7.4f}  {r['items']:5d}  {n_sent:10d}  {n_tok:9d}"
        )
    print()
    for name, r in results.items():
        print(f"  {name}: {r['note']}")

    if "ours" in results and args.worst:
        rows = results["ours"]["per_item"]

        def errors(row):
            return sum(sum(c.values()) for what in ("sentences", "tokens") for c in row[what])

        print(f"\nWorst {args.worst} items for ours (gold-only vs predicted-only, comparison keys):")
        for row in sorted(rows, key=errors, reverse=True)[: args.worst]:
            if not errors(row):
                break
            print(f"\n[{row['id']}] {errors(row)} errors")
            for what in ("sentences", "tokens"):
                missed, extra = row[what]
                if missed or extra:
                    sep = "\n      " if what == "sentences" else " | "
                    print(
                        f"  {what}:\n    gold: "
                        + (sep.join(missed.elements()) if what == "sentences" else _short(missed, 12))
                    )
                    print("    ours: " + (sep.join(extra.elements()) if what == "sentences" else _short(extra, 12)))

    out = {
        "command": ".venv/bin/python bench/score_segmentation.py",
        "gold": {"items": len(items), "sentences": n_sent, "tokens": n_tok},
        "comparison": "normalize() both sides, remove all whitespace; multiset per item; micro-averaged",
        "python": platform.python_version(),
        "versions": versions,
        "scores": {name: {k: v for k, v in r.items() if k != "per_item"} for name, r in results.items()},
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "segmentation_scores.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
