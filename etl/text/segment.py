"""Paragraph, sentence and token segmentation of clean Urdu text."""

from __future__ import annotations

import re

from etl.text import rules
from etl.text.normalize import LETTERS, is_abbreviation

# A sentence ends at ۔ ؟ ? ! (a run of them, as in the ellipsis ۔۔۔), with any closing quotes or
# brackets, when whitespace or the end of the paragraph follows. So a ۔ inside an abbreviation
# (پی۔ٹی۔آئی) or a decimal point never ends one; an ASCII full stop ends one only after a letter.
_SENTENCE_END = re.compile(r"(?:[۔؟?!]+|(?<=[^\W\d])\.)[\"'”“’‘»«)\]]*(?=\s|$)")

_TOKEN = re.compile(
    rf"(?P<abbr>[{LETTERS}]+(?:۔[{LETTERS}]+)+)"  # letter names joined by ۔ (checked below)
    rf"|(?P<num>[0-9۰-۹٠-٩]+(?:[.,:/٫][0-9۰-۹٠-٩]+)*(?:ء|ویں|واں)?)"  # numbers, 1990ء, 11ویں
    rf"|(?P<word>[{LETTERS}\u200c]+)"  # Urdu words (ZWNJ stays inside a word)
    r"|(?P<latin>[A-Za-z]+(?:['’\-][A-Za-z]+)*)"  # Latin words
    r"|(?P<run>(?P<term>[۔؟!?])(?P=term)+)"  # a run of one terminator is one token (۔۔۔)
    r"|(?P<other>\S)"  # any other visible character stands alone
)
_WORDS_IN = re.compile(rf"[{LETTERS}\u200c]+|۔")


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
    """Split a sentence into word, number and punctuation tokens; fused words are split whole."""
    split = rules.fused_words()
    out: list[str] = []
    for m in _TOKEN.finditer(sentence):
        kind, tok = m.lastgroup, m.group(0)
        if kind == "abbr" and not is_abbreviation(tok):
            out.extend(_WORDS_IN.findall(tok))  # words glued by ۔ that are not an abbreviation
        elif kind == "word" and tok in split:
            out.extend(split[tok])
        else:
            out.append(tok)
    return out


def is_word(token: str) -> bool:
    """True for tokens that count as words (letters or numbers, not punctuation)."""
    return bool(token) and (token[0].isalnum() or "\u0621" <= token[0] <= "\u06ff" and token[0] not in "،؛؟۔")
