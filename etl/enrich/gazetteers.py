"""The gazetteer files of ``gazetteer/``, loaded once, and the whole-word regexes built from them.

``gazetteer()`` maps every spelling in ``locations.tsv``, ``organizations.tsv`` and ``persons.tsv``
(and every blocking phrase of ``not_entities.txt``) to its type and canonical key; ``word_set`` and
``table_rows`` read the other lists (titles, qualifiers, name stops, agencies ...) for
``etl.enrich.entities`` and ``etl.enrich.bylines``. ``trie_regex`` and ``bounded`` turn a list of
surfaces into one regex that matches them as whole words, longest first, so a text is scanned once
whatever the size of the lists. Surfaces are normalized with ``etl.text.normalize`` as they are
loaded, the way the texts they are matched in were.

``GAZETTEER_VERSION`` is a digest of every file of ``gazetteer/`` (``_FILES``), so a changed list
changes the version stored with the rows.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

from etl import rule_files
from etl.text.normalize import LETTERS, normalize

HERE = Path(__file__).resolve().parent / "gazetteer"
CODE_VERSION = "2.0.0"
_FILES = (
    "locations.tsv",
    "organizations.tsv",
    "persons.tsv",
    "titles.txt",
    "qualifiers.txt",
    "name_stops.txt",
    "common_name_parts.txt",
    "mononyms.txt",
    "not_entities.txt",
    "agencies.tsv",
    "body_heads.txt",
    "body_tails.txt",
    "org_heads.txt",
    "org_modifiers.txt",
)


#: Stored with entity rows: changes whenever the code version or any gazetteer file changes.
GAZETTEER_VERSION = f"{CODE_VERSION}+{rule_files.files_digest(HERE / name for name in _FILES)}"


# --------------------------------------------------------------------------- data files


def table_rows(name: str) -> list[list[str]]:
    """Rows of a TSV file of ``gazetteer/`` without comments and its ``key…`` header line."""
    return rule_files.rows(HERE / name, header="key")


def norm(s: str) -> str:
    """``s`` spelled as gazetteer surfaces are: normalized, words separated by single spaces."""
    return " ".join(normalize(s).split())


@cache
def word_set(name: str) -> frozenset[str]:
    """The entries of a one-column list of ``gazetteer/``, spelled as ``norm`` spells them."""
    return frozenset(norm(w) for w in rule_files.lines(HERE / name))


class _Entry(NamedTuple):
    type: str  # person/location/organization, or "" for a blocking phrase
    key: str


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, _Entry]:
    """``{normalized surface: (type, canonical key)}`` over the three gazetteers and blocking phrases.

    The first file to claim a surface keeps it (organizations, then places, then people), so the
    result is deterministic; ``duplicate_surfaces`` reports such clashes for the data tests.
    """
    out: dict[str, _Entry] = {}
    for surface, entry in _all_surfaces():
        out.setdefault(surface, entry)
    return out


def _all_surfaces() -> list[tuple[str, _Entry]]:
    pairs: list[tuple[str, _Entry]] = []
    for file, typ in (("organizations.tsv", "organization"), ("locations.tsv", "location"), ("persons.tsv", "person")):
        for row in table_rows(file):
            key = norm(row[0])
            aliases = row[2] if typ == "location" else (row[1] if len(row) > 1 else "")
            for s in [key, *aliases.split("|")]:
                if norm(s):
                    pairs.append((norm(s), _Entry(typ, key)))
    pairs += [(phrase, _Entry("", "")) for phrase in word_set("not_entities.txt")]
    return pairs


def duplicate_surfaces() -> dict[str, set[_Entry]]:
    """Surfaces that two different entities claim (should be empty; checked by the tests)."""
    seen: dict[str, set[_Entry]] = {}
    for surface, entry in _all_surfaces():
        seen.setdefault(surface, set()).add(entry)
    return {s: e for s, e in seen.items() if len(e) > 1}


@lru_cache(maxsize=1)
def location_types() -> dict[str, str]:
    """``{location key: city|province|country|region}``."""
    return {norm(r[0]): r[1].strip() for r in table_rows("locations.tsv")}


# --------------------------------------------------------------------------- whole-word regexes

#: What may not touch either end of a matched surface: letters, ZWNJ and digits.
WORD_CHARS = LETTERS + "\u200c" + "0-9A-Za-z"


def trie_regex(words) -> str:
    """A regex alternation equivalent to ``words``, shaped as a trie and preferring longer matches."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            body = ("(?:" + body + ")?") if len(branches) == 1 else body + "?"
        return body

    return emit(trie)


def bounded(alternation: str) -> re.Pattern:
    """``alternation`` as whole words: no letter or digit may touch either end."""
    return re.compile(f"(?<![{WORD_CHARS}])(?:{alternation})(?![{WORD_CHARS}])")
