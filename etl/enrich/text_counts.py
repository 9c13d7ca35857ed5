"""Counts of one article's text: letters by script, words among its tokens, and reading time.

``urdu_share`` (Arabic-script letters among all letters) gives the ``urdu_share`` column and the
``non_urdu`` flag of ``etl.enrich.quality``; ``word_count`` (tokens that are words or numbers) the
``stub_body`` flag and the gate of the repetition tests; ``reading_time_seconds`` the
``reading_time_s`` column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

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


def urdu_shares(texts: Sequence[str | None]) -> np.ndarray:
    """``urdu_share`` of many texts at once (one encode and one table lookup for the whole batch)."""
    filled = [t or "" for t in texts]
    if not filled:
        return np.zeros(0)
    lengths = np.fromiter(map(len, filled), dtype=np.int64, count=len(filled))
    classes = _classes("".join(filled))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    nonempty = lengths > 0
    arabic = np.zeros(len(filled))
    letters = np.zeros(len(filled))
    if nonempty.any():
        at = starts[nonempty]
        arabic[nonempty] = np.add.reduceat(classes == 2, at)
        letters[nonempty] = np.add.reduceat(classes > 0, at)
    return np.divide(arabic, letters, out=np.zeros(len(filled)), where=letters > 0)


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
