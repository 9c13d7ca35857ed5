"""Counts of one article's text: letters by script, words among its tokens, and reading time.

``urdu_share`` (Arabic-script letters among all letters) gives the ``urdu_share`` column and the
``non_urdu`` flag of ``etl.enrich.quality``; ``word_count`` (tokens that are words or numbers) the
``stub_body`` flag and the gate of the repetition tests; ``reading_time_seconds`` the
``reading_time_s`` column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.text.segment import is_word

#: Reading speed assumed by ``reading_time_seconds`` (see there).
URDU_WORDS_PER_MINUTE = 180

#: The Arabic script blocks (Arabic, Supplement, Extended-A, presentation forms A and B).
ARABIC_RANGES = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))


@lru_cache(maxsize=1)
def _letter_classes() -> np.ndarray:
    """Per code point of the Basic Multilingual Plane: 0 not a letter, 1 a letter, 2 an Arabic-script letter."""
    table = np.array([chr(cp).isalpha() for cp in range(0x10000)], dtype=np.uint8)
    for lo, hi in ARABIC_RANGES:
        table[lo : hi + 1] *= 2
    return table


def _classes(text: str) -> np.ndarray:
    """The class of each character of ``text`` (one entry per character)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return _letter_classes()[np.minimum(codes, 0xFFFF)]  # past the BMP (emoji ...): U+FFFF, not a letter


def letter_counts(text: str) -> tuple[int, int]:
    """``(Arabic-script letters, all letters)`` of ``text`` (letters as ``str.isalpha``, in the BMP)."""
    if not text:
        return 0, 0
    # Counting needs no per-character alignment, so UTF-16 code units index the table directly:
    # a character past the BMP becomes two surrogates, neither a letter, and counts as no letter.
    codes = np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)
    counts = np.bincount(_letter_classes()[codes], minlength=3)
    return int(counts[2]), int(counts[1] + counts[2])


def urdu_share(text: str) -> float:
    """Share of the letters of ``text`` that are Arabic-script letters; 0.0 when it has no letters.

    Digits, punctuation and spaces are not letters, so numbers and ``۔ ،`` do not move it.
    """
    arabic, letters = letter_counts(text or "")
    return arabic / letters if letters else 0.0


def letter_counts_batch(texts: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """``letter_counts`` of many texts at once (one encode and one table lookup for the whole
    batch): two int64 arrays, Arabic-script letters and all letters, parallel to ``texts``."""
    filled = [t or "" for t in texts]
    arabic = np.zeros(len(filled), dtype=np.int64)
    letters = np.zeros(len(filled), dtype=np.int64)
    if not filled:
        return arabic, letters
    lengths = np.fromiter(map(len, filled), dtype=np.int64, count=len(filled))
    classes = _classes("".join(filled))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    nonempty = lengths > 0
    if nonempty.any():
        at = starts[nonempty]
        arabic[nonempty] = np.add.reduceat((classes == 2).astype(np.int64), at)
        letters[nonempty] = np.add.reduceat((classes > 0).astype(np.int64), at)
    return arabic, letters


def urdu_shares(texts: Sequence[str | None], counts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``urdu_share`` of many texts at once; ``counts`` is their ``letter_counts_batch`` when the
    caller has it."""
    arabic, letters = letter_counts_batch(texts) if counts is None else counts
    return np.divide(arabic, letters, out=np.zeros(len(arabic)), where=letters > 0)


def reading_time_seconds(word_count: int) -> int:
    """Seconds an adult needs to read ``word_count`` Urdu words, rounded up.

    Assumes 180 words a minute. No standardised reading-speed norm exists for Urdu; the IReST
    study (Trauzettel-Klosinski et al., 2012) measured silent reading of the same text in 17
    languages: 228 words a minute in English and 138 in Arabic, whose words carry attached
    articles, prepositions and pronouns. Urdu shares the Arabic script but writes postpositions,
    auxiliaries and light verbs as separate short words (کے، میں، ہے، کیا گیا), so one sentence has
    more, shorter words than its Arabic counterpart; 180 sits between the two. It is an
    assumption, not a measurement. Word counts are those of the segmenter (numbers count as words).
    """
    if word_count <= 0:
        return 0
    return math.ceil(word_count * 60 / URDU_WORDS_PER_MINUTE)


@lru_cache(maxsize=1)
def _word_starts() -> frozenset[str]:
    """First characters that make a token a word (``etl.text.segment.is_word`` depends on it alone)."""
    return frozenset(c for c in map(chr, range(0x10000)) if is_word(c))


class _TokenIsWord(dict):
    """``{token: 1 if it is a word or number else 0}``, filled as tokens are met.

    Articles repeat their tokens (``کے``, ``میں`` ...), so one dict lookup per token replaces
    taking its first character (a new string) and testing it. Emptied when it grows past
    ``limit`` entries, so memory stays bounded whatever the corpus.
    """

    limit = 1 << 18

    def __missing__(self, token: str) -> int:
        if len(self) >= self.limit:
            self.clear()
        value = self[token] = 1 if token and token[0] in _word_starts() else 0
        return value


_token_is_word = _TokenIsWord()


def word_count(tokens: Sequence[str]) -> int:
    """How many of ``tokens`` are words or numbers, as ``etl.text.segment.is_word`` counts them
    (a token starting past the Basic Multilingual Plane, an emoji say, is not counted)."""
    return sum(map(_token_is_word.__getitem__, tokens))


def _is_word_token(token: str) -> int:
    return 1 if token and token[0] in _word_starts() else 0


@dataclass(frozen=True)
class ArticleTokens:
    """The tokens of many articles as one flat column: each distinct token once (``vocab``), an
    id per token into it, and where each article's tokens start.

    What the per-article functions compute from a token list (word counts, n-gram tests,
    keywords) is computed from these arrays for a whole shard at once; properties of a token are
    computed once per distinct token (``per_vocab``), never once per occurrence.
    """

    vocab: pa.StringArray  # the distinct tokens, in code-point order
    ids: np.ndarray  # int64, one per token: its index in ``vocab``
    offsets: np.ndarray  # int64, n_articles + 1: article i's tokens are ids[offsets[i]:offsets[i + 1]]

    @classmethod
    def from_arrow(cls, flat: pa.Array | pa.ChunkedArray, offsets: np.ndarray) -> ArticleTokens:
        """From all tokens in article order (a string array) and the article offsets into it."""
        encoded = pc.dictionary_encode(flat)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.unify_dictionaries()
            vocab = encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], pa.string())
            ids = np.concatenate(
                [np.zeros(0, dtype=np.int64)] + [c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks]
            ).astype(np.int64)
        else:
            vocab, ids = encoded.dictionary, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        # Ids in code-point order of the tokens (UTF-8 byte order is code-point order), so that
        # sorting by id sorts by token.
        order = pc.sort_indices(vocab).to_numpy()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return cls(vocab.cast(pa.string()).take(pa.array(order)), rank[ids], np.asarray(offsets, dtype=np.int64))

    @classmethod
    def from_lists(cls, token_lists: Sequence[Sequence[str]]) -> ArticleTokens:
        """From one list of tokens per article (tests and the per-article wrappers)."""
        lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
        offsets = np.zeros(len(token_lists) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = pa.array([t for tokens in token_lists for t in tokens], pa.string())
        return cls.from_arrow(flat, offsets)

    @property
    def articles(self) -> int:
        return len(self.offsets) - 1

    @cached_property
    def doc(self) -> np.ndarray:
        """The article of each token."""
        return np.repeat(np.arange(self.articles, dtype=np.int64), np.diff(self.offsets))

    @cached_property
    def words(self) -> list[str]:
        """``vocab`` as Python strings."""
        return self.vocab.to_pylist()

    def per_vocab(self, fn: Callable[[str], float], dtype: type = np.int64) -> np.ndarray:
        """``fn`` of every distinct token, as an array indexed by token id."""
        return np.fromiter(map(fn, self.words), dtype=dtype, count=len(self.words))

    @cached_property
    def lengths(self) -> np.ndarray:
        """Characters of each token."""
        return pc.utf8_length(self.vocab).to_numpy(zero_copy_only=False).astype(np.int64)[self.ids]

    @cached_property
    def doc_token_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each distinct (article, token) pair: ``(article, token id, occurrences)``, sorted by
        article then token, and for each token the index of its pair (``inverse``)."""
        size = max(len(self.vocab), 1)
        pairs, inverse, counts = np.unique(self.doc * size + self.ids, return_inverse=True, return_counts=True)
        doc, token = np.divmod(pairs, size)
        return np.stack([doc, token, counts]), inverse.reshape(-1), counts

    def sum_per_article(self, per_token: np.ndarray) -> np.ndarray:
        """Per article, the sum of an integer value of each token (int64)."""
        return np.bincount(self.doc, weights=per_token, minlength=self.articles).astype(np.int64)

    def tokens_of(self, i: int) -> list[str]:
        """Article ``i``'s tokens, as a list of strings."""
        words = self.words
        return [words[t] for t in self.ids[self.offsets[i] : self.offsets[i + 1]].tolist()]


def word_counts(tokens: ArticleTokens) -> np.ndarray:
    """``word_count`` of every article of ``tokens`` (int64)."""
    return tokens.sum_per_article(tokens.per_vocab(_is_word_token)[tokens.ids])
