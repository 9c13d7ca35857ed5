"""Hand-labelled sentence gold sets for text whose punctuation is missing or broken.

``sentences_dev.jsonl`` (the set rules and models are tuned on) and ``sentences_test.jsonl`` (the
blind set, scored once, at the end) hold no corpus text. Each line names one paragraph of one field
of one record in ``../shared/corpora`` in the item format of ``segmentation.jsonl`` (see
``README.md`` here) and gives its sentences as character offsets into that paragraph:

    {"id": "news_sites-3", "corpus": "news_sites", "kind": "news_runon",
     "file": "news_sites/geo_jang_express_dunya_2024b.csv", "record": 143, "field": "content",
     "paragraph": 0, "sha256": "<16 hex>", "sentences": [[0, 118], [119, 260], ...]}

The paragraph is re-read exactly as ``tests.gold.resolve`` re-reads it (the raw field, split into
stripped non-blank lines) and its hash is checked; ``kind`` says what the paragraph was drawn for
(see ``SENTENCES.md``). A gold boundary is the end of any sentence but the last; it is
*punctuated* when the sentence ends with a terminator (``۔ ؟ ! ? …`` or a full-stop ``.``, before
any closing quotes or brackets) and *unpunctuated* otherwise.

Scoring (``score``) is the sentence metric of ``bench/score_segmentation.py``: both sides go
through ``etl.text.normalize.normalize`` and lose all whitespace, per item the predicted and gold
sentences are multisets and true positives their intersection, micro-averaged over items. "main"
is every item; "strict" is the items whose every gold boundary is punctuated.

``python -m tests.gold.sentences dev [--show-errors]`` (from the repository root, with
``PYTHONPATH`` set to it) scores ``etl.text.segment.sentences`` after ``normalize`` (as the bench
does) and the naive reference split (after every run of ``۔ ؟ ! ?`` and at newlines) on the part
and on ``segmentation.jsonl`` ("punctuated dev"). ``--validate`` resolves and checks a part and
prints its counts without scoring it; it is the only way the blind ``test`` part is looked at while
working. ``--show-errors`` is refused on ``test``.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable

from tests.gold.resolve import DEFAULT_CORPORA, GoldError, _check_spans, _paragraph, _Records, load_gold

HERE = pathlib.Path(__file__).resolve().parent
SETS = {"dev": HERE / "sentences_dev.jsonl", "test": HERE / "sentences_test.jsonl"}
CORPORA_NAMES = ("seed", "bbc_voa", "news_sites", "untm", "express_headlines")
#: Sentence-final marks: a sentence ending in one of them (before closing quotes) is punctuated.
TERMINATORS = "۔؟!?…."
_CLOSERS = "’‘”“\"')]»›"
_PUNCTUATED = re.compile(f"[{re.escape(TERMINATORS)}][{re.escape(_CLOSERS)}]*$")

#: A segmenter maps one raw paragraph to its sentences.
Segmenter = Callable[[str], list[str]]


def punctuated(sentence: str) -> bool:
    """Whether a sentence ends with a terminator (closing quotes or brackets may follow it)."""
    return bool(_PUNCTUATED.search(sentence.rstrip()))


def boundaries(item: dict) -> tuple[int, int]:
    """(punctuated, unpunctuated) gold boundaries of a resolved item."""
    ends = [punctuated(s) for s in item["gold_sentences"][:-1]]
    return sum(ends), len(ends) - sum(ends)


def is_strict(item: dict) -> bool:
    """An item whose every gold boundary follows a terminator."""
    return boundaries(item)[1] == 0


def load(split: str | pathlib.Path, corpora: pathlib.Path = DEFAULT_CORPORA) -> list[dict]:
    """The items of a part (``"dev"``, ``"test"`` or a path), each with ``text`` (the paragraph)
    and ``gold_sentences``. Raises ``FileNotFoundError`` when the corpora are absent and
    ``GoldError`` when an item does not resolve (including a hash mismatch)."""
    path = SETS.get(str(split), pathlib.Path(split))
    corpora = pathlib.Path(corpora)
    if not corpora.is_dir():
        raise FileNotFoundError(f"corpora folder not found: {corpora}")
    records = _Records(corpora)
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        text = _paragraph(records, item)
        spans = item["sentences"]
        if not all(0 <= s < e <= len(text) for s, e in spans):
            raise GoldError(f"{item['id']}: a sentence span lies outside the paragraph")
        items.append({**item, "text": text, "gold_sentences": [text[s:e] for s, e in spans]})
    return items


def validate(items: list[dict]) -> list[str]:
    """Structural problems of resolved items (empty when the part is consistent): ids, repeated
    paragraphs, spans that are unordered, overlap, start or end on a space or miss a character."""
    problems = []
    seen: set[tuple] = set()
    ids = Counter(item["id"] for item in items)
    for item in items:
        where = item["id"]
        if ids[where] > 1:
            problems.append(f"{where}: repeated id")
        if item["corpus"] not in CORPORA_NAMES or not where.startswith(item["corpus"] + "-"):
            problems.append(f"{where}: bad corpus/id")
        key = (item["file"], item["record"], item["field"], item["paragraph"])
        if key in seen:
            problems.append(f"{where}: paragraph annotated twice")
        seen.add(key)
        out = _check_spans(item["text"], item["sentences"], "sentence", inner_spaces=True)
        out += [
            f"sentence {s!r} has no letter or digit" for s in item["gold_sentences"] if not any(c.isalnum() for c in s)
        ]
        problems += [f"{where}: {p}" for p in out]
    return problems


def key(sentence: str) -> str:
    """The comparison key of ``bench/score_segmentation.py``: normalized, all whitespace removed."""
    from etl.text.normalize import normalize

    return "".join(normalize(sentence).split())


def _keys(sentences: Iterable[str]) -> Counter:
    return Counter(k for k in map(key, sentences) if k)


def _prf(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "P": round(100 * p, 1),
        "R": round(100 * r, 1),
        "F1": round(100 * f, 1),
        "tp": tp,
        "pred": n_pred,
        "gold": n_gold,
    }


def score(items: list[dict], segmenter: Segmenter) -> dict:
    """Micro P/R/F1 of ``segmenter`` on "main" (all items) and "strict" (items whose every gold
    boundary is punctuated), plus per item the gold-only and predicted-only keys (``errors``)."""
    tot = {"main": [0, 0, 0], "strict": [0, 0, 0]}
    errors = []
    for item in items:
        pred, gold = _keys(segmenter(item["text"])), _keys(item["gold_sentences"])
        counts = (sum((pred & gold).values()), sum(pred.values()), sum(gold.values()))
        for name in ("main", "strict") if is_strict(item) else ("main",):
            tot[name] = [a + b for a, b in zip(tot[name], counts)]
        if pred != gold:
            errors.append((item["id"], gold - pred, pred - gold))
    out: dict = {name: _prf(*c) for name, c in tot.items()}
    out["items"] = {"main": len(items), "strict": sum(map(is_strict, items))}
    out["errors"] = errors
    return out


def ours(text: str) -> list[str]:
    """The pipeline's sentences: ``normalize``, then ``etl.text.segment`` (as the bench does)."""
    from etl.text.normalize import normalize
    from etl.text.segment import paragraphs, sentences

    return [s for p in paragraphs(normalize(text)) for s in sentences(p)]


_NAIVE = re.compile(r"[^۔؟!?\n]*(?:[۔؟!?]+|\n|$)")


def naive(text: str) -> list[str]:
    """The naive reference: split after every run of ۔ ؟ ! ? and at newlines."""
    return [s.strip() for s in _NAIVE.findall(text) if s.strip()]


SEGMENTERS: dict[str, Segmenter] = {"ours": ours, "naive reference": naive}


def counts(items: list[dict]) -> str:
    """A Markdown table of items, sentences and punctuated/unpunctuated boundaries per corpus."""
    rows: dict[str, list[int]] = {}
    for item in items:
        c = rows.setdefault(item["corpus"], [0, 0, 0, 0, 0])
        p, u = boundaries(item)
        c[0] += 1
        c[1] += len(item["gold_sentences"])
        c[2] += p
        c[3] += u
        c[4] += is_strict(item)
    lines = [
        "| corpus | items | sentences | boundaries after a terminator | boundaries without one | strict items |",
        "|---|---|---|---|---|---|",
    ]
    order = [name for name in CORPORA_NAMES if name in rows]
    for name in [*order, "total"]:
        c = rows[name] if name != "total" else [sum(r[i] for r in rows.values()) for i in range(5)]
        lines.append(f"| {name} | " + " | ".join(map(str, c)) + " |")
    return "\n".join(lines)


def _table(results: dict[str, dict]) -> str:
    lines = [
        "| gold | segmenter | main P | main R | main F1 | strict P | strict R | strict F1 | items (strict) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (gold, name), r in results.items():
        m, s = r["main"], r["strict"]
        lines.append(
            f"| {gold} | {name} | {m['P']} | {m['R']} | {m['F1']} | {s['P']} | {s['R']} | {s['F1']} "
            f"| {r['items']['main']} ({r['items']['strict']}) |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    split = args[0] if args else "dev"
    usage = "usage: python -m tests.gold.sentences dev|test [CORPORA] [--validate] [--show-errors]"
    if split not in SETS or flags - {"--validate", "--show-errors"}:
        print(usage, file=sys.stderr)
        return 2
    if "--show-errors" in flags and split == "test":
        print("refused: the test part is blind; its errors are never shown (use dev)", file=sys.stderr)
        return 2
    corpora = pathlib.Path(args[1]) if len(args) > 1 else DEFAULT_CORPORA
    if not corpora.is_dir():
        print(f"the corpora folder {corpora} is absent: the gold sets re-read their text from it", file=sys.stderr)
        return 2
    items = load(split, corpora)
    problems = validate(items)
    for p in problems:
        print(p)
    if "--validate" in flags:
        print(f"{split}: {len(items)} items")
        print(counts(items))
        print("OK: every item resolves and validates" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    if problems:
        return 1
    punctuated_dev = [{**i, "corpus": i["corpus"]} for i in load_gold(corpora)]
    results = {}
    for gold, part in ((split, items), ("punctuated dev", punctuated_dev)):
        for name, seg in SEGMENTERS.items():
            results[(gold, name)] = score(part, seg)
    print(f"{split}: {len(items)} items; punctuated dev = segmentation.jsonl, {len(punctuated_dev)} items")
    print(_table(results))
    if "--show-errors" in flags:
        print(f"\ndisagreements of ours on {split} (gold-only | predicted-only, comparison keys):")
        for item_id, missed, extra in results[(split, "ours")]["errors"]:
            print(f"\n[{item_id}]")
            for k in missed.elements():
                print("  gold:", k)
            for k in extra.elements():
                print("  ours:", k)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
