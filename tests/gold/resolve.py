"""Resolve the hand-checked segmentation gold set against the real corpora.

``segmentation.jsonl`` (next to this file) holds no corpus text: each item names a paragraph of a
field of a record in ``../shared/corpora`` and gives sentence and token spans as character offsets
into that paragraph. ``load_gold`` re-reads every paragraph, checks its hash, and attaches the text
and the gold strings. See ``README.md`` in this folder for the annotation guidelines.

Run ``python -m tests.gold.resolve [CORPORA]`` (from the repository root, with ``PYTHONPATH`` set to
it) to resolve and validate every item.
"""

from __future__ import annotations

import csv
import hashlib
import json
import pathlib
import sys

from etl.read import bbc_doc, seed_txt

GOLD = pathlib.Path(__file__).with_name("segmentation.jsonl")
#: Where the corpora live relative to the repository: ``<repo>/../shared/corpora``.
DEFAULT_CORPORA = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
CORPORA_NAMES = ("seed", "bbc_voa", "news_sites", "untm")


class GoldError(ValueError):
    """A gold item does not resolve: missing record/field/paragraph, or a hash mismatch."""


def paragraphs(text: str | None) -> list[str]:
    """The paragraphs of a field: its non-blank lines, stripped."""
    return [ln.strip() for ln in (text or "").split("\n") if ln.strip()]


def paragraph_hash(paragraph: str) -> str:
    """First 16 hex digits of the SHA-256 of the paragraph's UTF-8 bytes."""
    return hashlib.sha256(paragraph.encode("utf-8")).hexdigest()[:16]


class _Records:
    """Reads each referenced corpus file once: CSV data rows, or the one parsed article."""

    def __init__(self, corpora: pathlib.Path):
        self.corpora = corpora
        self._cache: dict[str, list[dict]] = {}

    def get(self, rel: str) -> list[dict]:
        if rel not in self._cache:
            self._cache[rel] = self._read(rel)
        return self._cache[rel]

    def _read(self, rel: str) -> list[dict]:
        path = self.corpora / rel
        if rel.lower().endswith(".csv"):
            csv.field_size_limit(sys.maxsize)
            with open(path, encoding="utf-8-sig", newline="") as fh:
                reader = csv.reader(fh)
                header = next(reader)
                # records are numbered 1.. over data rows; fully blank rows are skipped, unnumbered
                return [dict(zip(header, row)) for row in reader if any(c.strip() for c in row)]
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        parse = seed_txt.parse if rel.startswith("seed/") else bbc_doc.parse
        return [parse(text, rel)]


def _paragraph(records: _Records, item: dict) -> str:
    where = f"{item['id']} ({item['file']} record {item['record']} {item['field']!r} paragraph {item['paragraph']})"
    rows = records.get(item["file"])
    if not 1 <= item["record"] <= len(rows):
        raise GoldError(f"{where}: no such record (file has {len(rows)})")
    row = rows[item["record"] - 1]
    if item["field"] not in row:
        raise GoldError(f"{where}: no field {item['field']!r} (has {sorted(row)})")
    paras = paragraphs(row[item["field"]])
    if not 0 <= item["paragraph"] < len(paras):
        raise GoldError(f"{where}: no such paragraph (field has {len(paras)})")
    text = paras[item["paragraph"]]
    got = paragraph_hash(text)
    if got != item["sha256"]:
        raise GoldError(
            f"{where}: paragraph hash {got} does not match the gold hash "
            f"{item['sha256']}: the corpus or the reader changed, so the offsets "
            f"no longer apply"
        )
    return text


def load_gold(corpora: pathlib.Path = DEFAULT_CORPORA, gold: pathlib.Path = GOLD) -> list[dict]:
    """Every gold item, with ``text``, ``gold_sentences`` and ``gold_tokens`` added.

    A token span ``[start, end, "w1 w2"]`` (a fused form such as ``کیخلاف``) yields its
    replacement's words; a plain ``[start, end]`` yields ``text[start:end]``.
    Raises ``FileNotFoundError`` when the corpora are absent and ``GoldError`` when an item
    does not resolve (including a hash mismatch).
    """
    corpora = pathlib.Path(corpora)
    if not corpora.is_dir():
        raise FileNotFoundError(f"corpora folder not found: {corpora}")
    records = _Records(corpora)
    items = []
    for line in gold.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        text = _paragraph(records, item)
        tokens: list[str] = []
        for span in item["tokens"]:
            tokens.extend(span[2].split(" ") if len(span) == 3 else [text[span[0] : span[1]]])
        items.append(
            {**item, "text": text, "gold_sentences": [text[s:e] for s, e in item["sentences"]], "gold_tokens": tokens}
        )
    return items


def _check_spans(text: str, spans: list[list], what: str, inner_spaces: bool) -> list[str]:
    """Spans are ordered, disjoint, start and end on non-space characters, and together cover
    every non-space character of ``text``; tokens (``inner_spaces=False``) hold no space."""
    problems = []
    covered = [False] * len(text)
    prev_end = 0
    for span in spans:
        s, e = span[0], span[1]
        if not (prev_end <= s < e <= len(text)):
            problems.append(f"{what} {span[:2]} out of order, overlapping or empty")
            continue
        if text[s].isspace() or text[e - 1].isspace():
            problems.append(f"{what} {span[:2]} starts or ends on a space")
        if not inner_spaces and any(c.isspace() for c in text[s:e]):
            problems.append(f"{what} {span[:2]} contains a space: {text[s:e]!r}")
        for i in range(s, e):
            covered[i] = True
        prev_end = e
    missed = [i for i, c in enumerate(text) if not c.isspace() and not covered[i]]
    if missed:
        problems.append(f"{what}s miss non-space characters at {missed[:10]}")
    return problems


def validate(items: list[dict]) -> list[str]:
    """Structural problems of resolved items (empty when the gold set is consistent)."""
    problems = []
    seen = set()
    for item in items:
        text, where = item["text"], item["id"]
        if item["corpus"] not in CORPORA_NAMES or not item["id"].startswith(item["corpus"] + "-"):
            problems.append(f"{where}: bad corpus/id")
        key = (item["file"], item["record"], item["field"], item["paragraph"])
        if key in seen:
            problems.append(f"{where}: paragraph annotated twice")
        seen.add(key)
        out = _check_spans(text, item["sentences"], "sentence", inner_spaces=True)
        out += _check_spans(text, item["tokens"], "token", inner_spaces=False)
        for span in item["tokens"]:
            if len(span) == 3 and (not span[2].strip() or span[2] != " ".join(span[2].split())):
                out.append(f"token {span} has a malformed replacement")
        # every token lies inside exactly one sentence
        bounds = item["sentences"]
        for span in item["tokens"]:
            if not any(s <= span[0] and span[1] <= e for s, e in bounds):
                out.append(f"token {span[:2]} {text[span[0] : span[1]]!r} crosses a sentence boundary")
        problems += [f"{where}: {p}" for p in out]
    return problems


def main(argv: list[str]) -> int:
    corpora = pathlib.Path(argv[0]) if argv else DEFAULT_CORPORA
    items = load_gold(corpora)
    problems = validate(items)
    for p in problems:
        print(p)
    counts: dict[str, list[int]] = {}
    for item in items:
        c = counts.setdefault(item["corpus"], [0, 0, 0, 0, 0])
        c[0] += 1
        c[1] += len(item["gold_sentences"])
        c[2] += len(item["tokens"])
        c[3] += len(item["gold_tokens"])
        c[4] += sum(1 for span in item["tokens"] if len(span) == 3)
    head = ("corpus", "items", "sentences", "token spans", "gold tokens", "fused spans")
    print("{:<11} {:>5} {:>9} {:>11} {:>11} {:>11}".format(*head))
    rows = [(name, *counts[name]) for name in CORPORA_NAMES if name in counts]
    rows.append(("total", *(sum(c[i] for c in counts.values()) for i in range(5))))
    for row in rows:
        print("{:<11} {:>5} {:>9} {:>11} {:>11} {:>11}".format(*row))
    print("OK: every item resolves and validates" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
