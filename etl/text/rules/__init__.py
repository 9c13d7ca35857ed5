"""Rule tables of the text stage, kept as data files beside this module and loaded once.

``RULES_VERSION`` is a digest of every rule file, so a changed table changes the normalizer
version stored on each output row.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from etl.rule_files import files_digest, rows

HERE = Path(__file__).resolve().parent
FILES = (
    "characters.tsv",
    "compositions.tsv",
    "letter_names.txt",
    "fused_words.tsv",
    "boilerplate.tsv",
    "furniture_fingerprints.tsv",
    "boundary_model.npz",  # the sentence-boundary model's weights (etl.text.boundary)
)


def _rows(name: str) -> list[list[str]]:
    return rows(HERE / name)


def _codepoints(spec: str) -> range:
    lo, _, hi = spec.partition("-")
    return range(int(lo, 16), int(hi or lo, 16) + 1)


def _chars(spec: str) -> str:
    return "".join(chr(int(h, 16)) for h in spec.split())


@lru_cache(maxsize=1)
def character_rules() -> list[tuple[range, str]]:
    """``(code points, replacement)`` in file order; replacement is text, ``""``, or ``"NFKC"``."""
    out = []
    for cols in _rows("characters.tsv"):
        spec, repl = cols[0], cols[1]
        value = {"DROP": "", "SPACE": " ", "NFKC": "NFKC"}.get(repl)
        out.append((_codepoints(spec), _chars(repl) if value is None else value))
    return out


@lru_cache(maxsize=1)
def compositions() -> list[tuple[str, str]]:
    return [(_chars(cols[0]), _chars(cols[1])) for cols in _rows("compositions.tsv")]


@lru_cache(maxsize=1)
def letter_names() -> frozenset[str]:
    return frozenset(cols[0].strip() for cols in _rows("letter_names.txt"))


@lru_cache(maxsize=1)
def fused_words() -> dict[str, list[str]]:
    """Whole-token splits: a token equal to the key becomes the listed words."""
    return {cols[0]: cols[1].split() for cols in _rows("fused_words.tsv")}


@lru_cache(maxsize=1)
def boilerplate() -> list[tuple[str, re.Pattern, tuple[str, ...]]]:
    """``(rule name, pattern, guard literals)`` for page furniture to delete from normalized body text."""
    out = []
    for cols in _rows("boilerplate.tsv"):
        name, guard, pattern = cols[0], cols[1], "\t".join(cols[2:])
        out.append((name.strip(), re.compile(pattern), tuple(guard.split("|"))))
    return out


@lru_cache(maxsize=1)
def furniture_fingerprints() -> dict[str, dict[str, dict[int, set[str]]]]:
    """``{rule: {last two words: {word count: {sha256/16, ...}}}}`` from ``furniture_fingerprints.tsv``."""
    out: dict[str, dict[str, dict[int, set[str]]]] = {}
    path = HERE / "furniture_fingerprints.tsv"
    if not path.exists():
        return out
    for rule, words, last, digest in _rows("furniture_fingerprints.tsv"):
        out.setdefault(rule, {}).setdefault(last, {}).setdefault(int(words), set()).add(digest)
    return out


RULES_VERSION = files_digest(HERE / name for name in FILES)
