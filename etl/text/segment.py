"""Paragraph, sentence and token segmentation of clean Urdu text."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_RULES = Path(__file__).with_name("rules")

# A sentence ends at ۔ ؟ ? ! (repeated, as in the ellipsis ۔۔۔), optionally followed by closing
# quotes or brackets, when whitespace or the end of the paragraph follows. A ۔ inside a word
# (پی۔ٹی۔آئی) or a decimal point is therefore never a boundary. An ASCII full stop ends a
# sentence only after a letter.
_SENTENCE_END = re.compile(r"(?:[۔؟?!]+|(?<=[^\W\d])\.)[\"'”“’‘»«)\]]*(?=\s|$)")

_LETTERS = "\u0621-\u063a\u0641-\u064a\u066e-\u066f\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06ff\u200c"
_TOKEN = re.compile(
    rf"[{_LETTERS}]+"  # Urdu words (ZWNJ stays inside a word)
    r"|[0-9۰-۹٠-٩]+(?:[.,:/٫][0-9۰-۹٠-٩]+)*"  # numbers in any digit set, with separators
    r"|[A-Za-z]+(?:['’\-][A-Za-z]+)*"  # Latin words
    r"|\S"  # any other visible character is a token of its own (punctuation)
)


@lru_cache(maxsize=1)
def fused_words() -> dict[str, list[str]]:
    """The whole-token split table from ``rules/fused_words.tsv``."""
    table: dict[str, list[str]] = {}
    for line in (_RULES / "fused_words.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            fused, split = line.split("\t")
            table[fused] = split.split()
    return table


def paragraphs(text: str) -> list[str]:
    """Split clean text into paragraphs: every non-empty line is one."""
    return [p.strip() for p in text.split("\n") if p.strip()]


def sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences; a sentence of a single word is kept."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(paragraph):
        piece = paragraph[start:m.end()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return out


def tokens(sentence: str) -> list[str]:
    """Split a sentence into word, number and punctuation tokens; fused words are split."""
    split = fused_words()
    out: list[str] = []
    for tok in _TOKEN.findall(sentence):
        out.extend(split.get(tok, (tok,)))
    return out


def is_word(token: str) -> bool:
    """True for tokens that count as words (letters or numbers, not punctuation)."""
    return bool(token) and (token[0].isalnum() or "\u0621" <= token[0] <= "\u06ff" and token[0] not in "،؛؟۔")
