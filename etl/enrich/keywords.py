"""Keywords of one article: its words ranked by TF-IDF, Urdu stop words left out.

The inverse document frequencies come from a shipped table (``rules/idf.tsv``, built from the
shared news corpora by ``bench/build_idf.py``), not from the batch being processed, so an
article's keywords are a function of the article alone: the same text gets the same keywords
whichever articles share its shard or night.

Weight of a word = its count in the article x ``idf``, with the smoothed idf
``ln((N + 1) / (df + 1)) + 1`` (N documents in the table, df of them containing the word). A
word missing from the table is rarer than every word in it, so it gets the table's largest idf.
Ties are broken by the word (code-point order), so the result is deterministic.

Candidates are Urdu-script words of two letters or more (abbreviations of letter names such as
``پی۔ٹی۔آئی`` included) that are not stop words (``rules/urdu_stop_words.txt``): digits, numbers,
punctuation, one-letter tokens and Latin-script tokens (bylines, embeds, stray English) never
become keywords. Nor does a lone Urdu letter name (سی، آئی، پی): spaced acronyms (آئی سی سی)
split into them, and "سی" says nothing of the story.
"""

from __future__ import annotations

import enum
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from etl import rule_files
from etl.enrich.quality import STOP_WORDS_FILE, stop_words
from etl.enrich.text_counts import ArticleTokens
from etl.text import rules
from etl.text.normalize import LETTERS

RULES = Path(__file__).resolve().parent / "rules"
IDF_FILE = RULES / "idf.tsv"
DEFAULT_K = 8

KEYWORDS_VERSION = "1.0.0+" + rule_files.files_digest([IDF_FILE, STOP_WORDS_FILE])

# An Urdu word (ZWNJ may sit inside it), or letter names joined by ۔ (an abbreviation token).
_CANDIDATE = re.compile(f"[{LETTERS}\u200c]+(?:۔[{LETTERS}\u200c]+)*")


@lru_cache(maxsize=1 << 17)
def is_candidate(token: str) -> bool:
    """True when ``token`` may be a keyword: an Urdu-script word of 2+ letters, not a stop word or letter name."""
    if len(token) < 2 or _CANDIDATE.fullmatch(token) is None:
        return False
    word = token.replace("\u200c", "")
    return word not in stop_words() and word not in rules.letter_names()


@lru_cache(maxsize=1)
def idf_table() -> tuple[dict[str, float], float]:
    """``(word -> idf, idf of a word not in the table)`` from ``rules/idf.tsv``."""
    documents = int(rule_files.comment_value(IDF_FILE, "documents") or 0)
    df = {word: int(count) for word, count in rule_files.rows(IDF_FILE)}
    idf = {w: math.log((documents + 1) / (c + 1)) + 1 for w, c in df.items()}
    unknown = max(idf.values(), default=math.log(documents + 1) + 1)
    return idf, unknown


@lru_cache(maxsize=1)
def _excluded() -> frozenset[str]:
    return stop_words() | rules.letter_names()


@lru_cache(maxsize=1)
def _table_weights() -> dict[str, float | None]:
    """``{word: idf}`` of the table, with ``None`` for every excluded word (excluded wins).

    One lookup then settles every word but those missing from the table.
    """
    weights: dict[str, float | None] = dict(idf_table()[0])
    weights.update(dict.fromkeys(_excluded()))
    return weights


class _Missing(enum.Enum):
    """What the weights give for a word they do not hold (an enum member, so a type checker narrows on it)."""

    NOT_IN_TABLE = enum.auto()


_NOT_IN_TABLE = _Missing.NOT_IN_TABLE

try:  # the C loop behind Counter.update, without building a Counter for every article
    # typeshed leaves out this private helper, which CPython's collections module does define
    from collections import _count_elements  # type: ignore[attr-defined]
except ImportError:  # another Python implementation: the same counts, more slowly

    def _count_elements(mapping: dict, iterable) -> None:
        mapping.update(Counter(iterable))


def _ranked(tokens: Sequence[str]) -> list[tuple[float, str]]:
    """``(-weight, word)`` of every candidate word, unordered: as tuples these sort best first,
    ties by word (words are distinct, so no two tuples are equal)."""
    weights, unknown = _table_weights(), idf_table()[1]
    get = weights.get
    counts: dict[str, int] = {}
    _count_elements(counts, tokens)
    ranked: list[tuple[float, str]] = []
    for word, n in counts.items():
        weight = get(word, _NOT_IN_TABLE)
        if weight is _NOT_IN_TABLE:  # the table holds candidates only (bench/build_idf.py)
            weight = unknown if is_candidate(word) else None
        if weight is not None:
            ranked.append((-(n * weight), word))
    return ranked


def keyword_scores(tokens: Sequence[str]) -> list[tuple[str, float]]:
    """Every candidate word of the article with its TF-IDF weight, best first, ties by word."""
    return [(word, -neg) for neg, word in sorted(_ranked(tokens))]


def keywords(tokens: Sequence[str], k: int = DEFAULT_K) -> list[str]:
    """The ``k`` words of highest TF-IDF among the article's tokens (as ``etl.text.segment`` gives them)."""
    if k <= 0:
        return []
    return [word for _, word in sorted(_ranked(tokens))[:k]]


def keywords_batch(token_lists: Sequence[Sequence[str]], k: int = DEFAULT_K) -> list[list[str]]:
    """``keywords`` of many articles, parallel to ``token_lists``."""
    return [keywords(t, k) for t in token_lists]


def _weight(word: str) -> float:
    """A word's idf as ``_ranked`` weighs it; NaN for a word that is never a keyword."""
    weight = _table_weights().get(word, _NOT_IN_TABLE)
    if weight is _NOT_IN_TABLE:
        weight = idf_table()[1] if is_candidate(word) else None
    return math.nan if weight is None else weight


def _small_ints(values: np.ndarray, bound: int) -> np.ndarray:
    """``values`` (all below ``bound``) in the narrowest unsigned type: numpy sorts 16-bit
    integers stably by radix sort."""
    return values.astype(np.uint16 if bound <= 1 << 16 else np.uint32 if bound <= 1 << 32 else np.uint64)


def keywords_column(tokens: ArticleTokens, k: int = DEFAULT_K) -> pa.ListArray:
    """``keywords`` of every article of ``tokens`` at once, as a list<string> array.

    One row per distinct (article, word) with its count; each word's idf looked up once per
    distinct token; one sort by article, weight (best first) and word (code-point order, which is
    UTF-8 byte order) then keeps each article's first ``k``.
    """
    n = tokens.articles
    pairs = tokens.doc_token_counts[0]
    doc, token, counts = pairs[0], pairs[1], pairs[2]
    idf = tokens.per_vocab(_weight, np.float64)
    weight = idf[token]
    keep = ~np.isnan(weight) if k > 0 else np.zeros(len(token), dtype=bool)
    doc, token = doc[keep], token[keep]
    score = counts[keep] * weight[keep]  # the same float64 product as ``_ranked``'s n * weight
    # The pairs are in (article, word) order: a stable sort by weight, best first, then a stable
    # sort by article gives (article, weight, word) order.
    order = np.argsort(-score, kind="stable")
    order = order[np.argsort(_small_ints(doc[order], n), kind="stable")]
    doc, token = doc[order], token[order]
    starts = np.flatnonzero(np.concatenate([[True], doc[1:] != doc[:-1]])) if len(doc) else np.zeros(0, np.int64)
    first = np.repeat(starts, np.diff(np.append(starts, len(doc))))  # where each row's article starts
    top = np.arange(len(doc)) - first < k
    doc, token = doc[top], token[top]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(doc, minlength=n), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), tokens.vocab.take(pa.array(token, pa.int64())))
