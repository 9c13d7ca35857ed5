"""Gopher-style repetition tests of one article body: ``repetition_reason``.

The tests follow datatrove's GopherRepetitionFilter: duplicate lines (paragraphs here) and their
characters; a "top" n-gram covers len(" ".join(gram)) * count characters; duplicate n-grams are
counted scanning left to right, jumping past each repeat, with len("".join(gram)) characters each.
Both n-gram figures are computed exactly on integer ids of the tokens, n ids packed into one
integer, in numpy; the Python scan runs only when a cheap upper bound says a duplicate test might
fail.

``heavy_repetition_column`` answers "does any test fail" for a whole shard at once, over the flat
token column (``etl.enrich.text_counts.ArticleTokens``): the same upper bounds, computed for every
article in a few numpy passes, settle almost every article; the few they do not settle go through
``repetition_reason``'s exact tests.

The thresholds are FineWeb-2's for urd_Arab, the n-gram fractions scaled by
``NEWS_REPETITION_FACTOR``; ``etl.enrich.quality`` says where each comes from and why, and turns a
failed test into its ``heavy_repetition`` flag.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from itertools import count

import numpy as np

from etl.enrich.text_counts import ArticleTokens, word_count

#: Gopher's min_doc_words, kept by FineWeb-2: a shorter body is a stub, and is not tested for
#: repetition (nor, in ``etl.enrich.quality``, for its stop words).
MIN_WORDS = 50
DUP_LINE_FRAC = 0.182  # FineWeb-2 urd_Arab dup_line_frac
DUP_LINE_CHAR_FRAC = 0.1  # FineWeb-2 char_duplicates_ratio (all languages)
FINEWEB2_TOP_NGRAMS = ((2, 0.074), (3, 0.082), (4, 0.093))  # urd_Arab top_n_grams
FINEWEB2_DUP_NGRAMS = ((5, 0.115), (6, 0.099), (7, 0.087), (8, 0.077), (9, 0.07), (10, 0.064))  # urd_Arab dup_n_grams
NEWS_REPETITION_FACTOR = 2.5  # adapted for short, formulaic news articles (etl.enrich.quality)
TOP_NGRAMS = tuple((n, frac * NEWS_REPETITION_FACTOR) for n, frac in FINEWEB2_TOP_NGRAMS)
DUP_NGRAMS = tuple((n, frac * NEWS_REPETITION_FACTOR) for n, frac in FINEWEB2_DUP_NGRAMS)

_BLANK = re.compile(r"\n\s*")


def _lines(body: str) -> list[str]:
    return [line for line in (part.strip() for part in _BLANK.split(body)) if line]


def _duplicates(items: Sequence[str]) -> tuple[int, int]:
    """Repeated elements (after their first occurrence): how many, and their characters."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


class _Grams:
    """The tokens of one text as ids, with what the n-gram tests need."""

    def __init__(self, tokens: Sequence[str]):
        vocab: dict[str, int] = {}
        self.tokens = tokens
        # a token's id is where it first occurs: equal tokens, equal ids
        self.ids = np.fromiter(map(vocab.setdefault, tokens, count()), dtype=np.int64, count=len(tokens))
        self.bits = max(1, (len(tokens) - 1).bit_length())
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        self.cum = np.zeros(len(tokens) + 1, dtype=np.int64)  # characters before token i
        np.cumsum(lengths, out=self.cum[1:])
        self._keys: dict[int, np.ndarray] = {1: self.ids}
        self._rarest: dict[int, np.ndarray] = {}

    def keys(self, n: int) -> np.ndarray | None:
        """One integer per n-gram, equal exactly when the n-grams are (None if n ids do not fit).

        The n-gram keys extend the (n-1)-gram ones by one id (the tests ask for n = 2, 3, 4, 5
        in turn), which gives the same integers as packing all n ids afresh.
        """
        count = len(self.ids) - n + 1
        if count <= 0 or n * self.bits > 63:
            return None
        key = self._keys.get(n)
        if key is None:
            shorter = self._keys.get(n - 1)
            if shorter is None:
                key = np.zeros(count, dtype=np.int64)
                for j in range(n):
                    key = (key << self.bits) | self.ids[j : j + count]
            else:
                key = (shorter[:count] << self.bits) | self.ids[n - 1 :]
            self._keys[n] = key
        return key

    def rarest(self, n: int) -> np.ndarray:
        """Per n-gram, how often its rarest token occurs in the text: no n-gram occurs more often."""
        out = self._rarest.get(n)
        if out is None:
            if n == 1:
                out = np.bincount(self.ids)[self.ids]
            else:
                shorter = self.rarest(n - 1)
                out = np.minimum(shorter[:-1], self.rarest(1)[n - 1 :])
            self._rarest[n] = out
        return out

    def chars(self, n: int) -> np.ndarray:
        """Characters of each n-gram's tokens, without separators."""
        return self.cum[n:] - self.cum[:-n]

    def top_exceeds(self, n: int, limit: float) -> bool:
        """Whether ``top_chars(n)`` exceeds ``limit``; most texts are settled by a bound, without
        finding which n-gram is on top.

        First bound, no sorting: the top n-gram occurs at most as often as its rarest token, so
        ``top_chars(n)`` is at most the largest ``rarest(n) * (chars(n) + n - 1)``. Second, as
        datatrove's own shortcut: the top count times the longest n-gram.
        """
        key = self.keys(n)
        if key is None or not len(key):
            return self.top_chars(n) > limit
        width = self.chars(n) + (n - 1)
        if int((self.rarest(n) * width).max()) <= limit:
            return False
        ordered = np.sort(key)
        starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1], [True]]))
        best = int((starts[1:] - starts[:-1]).max())  # the longest run of equal keys
        if best * int(width.max()) <= limit:
            return False
        return self.top_chars(n) > limit

    def top_chars(self, n: int) -> int:
        """Gopher's top n-gram characters: the most frequent n-gram (the first met among equals)."""
        key = self.keys(n)
        if key is None:
            grams = Counter(zip(*(self.tokens[i:] for i in range(n))))
            if not grams:
                return 0
            gram, count = grams.most_common(1)[0]
            return (sum(map(len, gram)) + n - 1) * count
        _, first, counts = np.unique(key, return_index=True, return_counts=True)
        best = counts.max()
        i = int(first[counts == best].min())
        return int((self.chars(n)[i] + n - 1) * best)

    def repeated_cover(self, n: int) -> int:
        """Characters of the tokens covered by an n-gram seen earlier in the text.

        Every duplicate n'-gram (n' >= n) that Gopher's scan counts lies inside this cover, and
        the counted ones do not overlap, so this bounds the duplicate characters of all n' >= n.
        """
        key = self.keys(n)
        if key is None:
            return int(self.cum[-1])
        order = np.argsort(key, kind="stable")  # equal keys stay in text order
        ordered = key[order]
        at = order[1:][ordered[1:] == ordered[:-1]]  # where an n-gram occurs again
        if not len(at):
            return 0
        edges = np.zeros(len(self.ids) + 1, dtype=np.int64)
        # The indices of each statement are distinct, so fancy ``+=`` adds as np.add.at would.
        edges[at] += 1
        edges[at + n] -= 1
        covered = np.cumsum(edges[:-1]) > 0
        return int((self.cum[1:] - self.cum[:-1])[covered].sum())

    def dup_chars(self, n: int) -> int:
        """Gopher's duplicate n-gram characters: scanning left to right, an n-gram seen before
        counts its characters and the scan jumps past it."""
        grams = list(zip(*(self.tokens[i:] for i in range(n))))
        seen: set[tuple[str, ...]] = set()
        chars, i = 0, 0
        while i < len(grams):
            gram = grams[i]
            if gram in seen:
                chars += sum(map(len, gram))
                i += n
            else:
                seen.add(gram)
                i += 1
        return chars


def repetition_reason(body: str, tokens: Sequence[str], words: int | None = None) -> str | None:
    """Which Gopher repetition test ``body`` fails first (``dup_line``, ``top_2_gram`` ...), or None."""
    size = len(body)
    if not size:
        return None
    lines = _lines(body) if "\n" in body else ()  # one line (most bodies): no line test applies
    if len(lines) > 1:
        dup_lines, dup_chars = _duplicates(lines)
        if dup_lines / len(lines) > DUP_LINE_FRAC:
            return "dup_line"
        if dup_chars / size > DUP_LINE_CHAR_FRAC:
            return "dup_line_chars"
    if (word_count(tokens) if words is None else words) < MIN_WORDS:
        return None
    grams = _Grams(tokens)
    for n, frac in TOP_NGRAMS:
        if grams.top_exceeds(n, frac * size):
            return f"top_{n}_gram"
    first_n = DUP_NGRAMS[0][0]
    if grams.repeated_cover(first_n) / size <= min(frac for _, frac in DUP_NGRAMS):
        return None
    for n, frac in DUP_NGRAMS:
        if grams.dup_chars(n) / size > frac:
            return f"dup_{n}_gram"
    return None


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _window_hash(tokens: ArticleTokens, n: int, starts: np.ndarray) -> np.ndarray:
    """A 64-bit hash of the article and the n tokens from each of ``starts``.

    Equal n-grams of one article always get equal hashes; a collision can only make two
    different n-grams look equal.
    """
    ids = tokens.ids.view(np.uint64)
    with np.errstate(over="ignore"):
        h = (tokens.doc[starts].view(np.uint64) + np.uint64(1)) * _MIX
        for j in range(n):
            h ^= ids[starts + j]
            h *= _MIX
            h ^= h >> np.uint64(29)
    return h


def _cover(tokens: ArticleTokens, starts: np.ndarray, n: int) -> np.ndarray:
    """Per article, the characters of its tokens that lie in an n-gram starting at ``starts``."""
    edges = np.zeros(len(tokens.ids) + 1, dtype=np.int64)
    # The starts are distinct, so fancy ``+=`` adds as np.add.at would.
    edges[starts] += 1
    edges[starts + n] -= 1
    covered = np.cumsum(edges[:-1]) > 0
    return np.bincount(tokens.doc[covered], weights=tokens.lengths[covered], minlength=tokens.articles)


def _per_article_max(values: np.ndarray, doc: np.ndarray, articles: int) -> np.ndarray:
    """Per article, the largest of ``values`` (``doc`` sorted, parallel to it); -1 where none."""
    out = np.full(articles, -1, dtype=np.int64)
    if len(values):
        starts = np.flatnonzero(np.concatenate([[True], doc[1:] != doc[:-1]]))
        out[doc[starts]] = np.maximum.reduceat(values, starts)
    return out


def heavy_repetition_column(
    bodies: Sequence[str | None], tokens: ArticleTokens, words: np.ndarray | None = None
) -> np.ndarray:
    """Per article, whether ``repetition_reason(body, tokens)`` names a test (bool array).

    ``words`` are the articles' word counts, when the caller has them. Equal to the per-article
    function: the line tests run per article (only bodies with a line break have lines); the
    n-gram tests are settled for all articles at once by their upper bounds (the rarest-token
    bound of the top n-grams, a hashed cover of the repeated 5-grams, which can only overstate
    the exact cover), and an article a bound does not settle is tested exactly.
    """
    from etl.enrich.text_counts import word_counts

    n_articles = len(bodies)
    failed = np.zeros(n_articles, dtype=bool)
    sizes = np.fromiter((len(b or "") for b in bodies), dtype=np.int64, count=n_articles)
    for i, body in enumerate(bodies):
        if body and "\n" in body:
            lines = _lines(body)
            if len(lines) > 1:
                dup_lines, dup_chars = _duplicates(lines)
                failed[i] = dup_lines / len(lines) > DUP_LINE_FRAC or dup_chars / len(body) > DUP_LINE_CHAR_FRAC
    if words is None:
        words = word_counts(tokens)
    todo = (sizes > 0) & (words >= MIN_WORDS) & ~failed
    if not todo.any():
        return failed
    doc, total = tokens.doc, len(tokens.ids)
    cum = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(tokens.lengths, out=cum[1:])
    _, inverse, counts = tokens.doc_token_counts
    rarest1 = counts[inverse]  # how often each token occurs in its article
    unsettled = np.zeros(n_articles, dtype=bool)
    # top n-grams: the top n-gram occurs at most as often as its rarest token
    rarest = rarest1
    for n, frac in TOP_NGRAMS:
        count = total - n + 1
        if count <= 0:
            break
        rarest = np.minimum(rarest[:count], rarest1[n - 1 :])
        valid = doc[:count] == doc[n - 1 :]
        width = cum[n:] - cum[:-n] + (n - 1)
        bound = _per_article_max((rarest * width)[valid], doc[:count][valid], n_articles)
        unsettled |= todo & (bound > frac * sizes)
    # duplicate n-grams: every counted duplicate lies in the cover of the repeated 5-grams. A
    # repeated 5-gram has no token that occurs once in its article: the cover of those 5-grams
    # bounds the cover, and only where that bound does not settle are the 5-grams compared.
    first_n = DUP_NGRAMS[0][0]
    least = min(frac for _, frac in DUP_NGRAMS)
    count = total - first_n + 1
    if count > 0:
        rarest = rarest1[:count]
        for j in range(1, first_n):
            rarest = np.minimum(rarest, rarest1[j : j + count])
        starts = np.flatnonzero((doc[:count] == doc[first_n - 1 :]) & (rarest >= 2) & todo[doc[:count]])
        bound = _cover(tokens, starts, first_n)
        starts = starts[(bound > least * sizes)[doc[starts]]]
        if len(starts):
            key = _window_hash(tokens, first_n, starts)
            order = np.argsort(key)
            ordered = key[order]
            # every occurrence of a key but its first (the earliest start among equal keys)
            group = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
            repeat = np.ones(len(order), dtype=bool)
            repeat[np.minimum.reduceat(order, group)] = False
            cover = _cover(tokens, starts[repeat], first_n)
            unsettled |= todo & (cover / np.maximum(sizes, 1) > least)
    for i in np.flatnonzero(unsettled).tolist():
        body = bodies[i] or ""
        failed[i] = repetition_reason(body, tokens.tokens_of(i), int(words[i])) is not None
    return failed
