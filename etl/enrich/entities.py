"""Named entities (people, places, organizations) of an article: ``extract_entities``.

Entities come from two rule sources, both kept as data files in ``gazetteer/`` and loaded by
``etl.enrich.gazetteers``:

* gazetteers (``locations.tsv``, ``organizations.tsv``, ``persons.tsv``): every spelling of a name
  maps to one canonical key, so ``امریکا``/``امریکہ`` or ``آئی ایس پی آر`` and its long form count
  as the same entity. All surfaces are compiled into one trie-shaped regex (longest match first),
  so a body is scanned once whatever the size of the lists;
* title patterns (``titles.txt``): a title word (``وزیراعظم``, ``آرمی چیف جنرل``, ``کپتان``) followed,
  after an optional portfolio/place/body (``qualifiers.txt``), by one to three name words that end
  at a function word or punctuation (``name_stops.txt``). This finds people the gazetteer lacks.

A surname alone resolves to the full name when ``persons.tsv`` lists it (``باجوہ``) or when the
same article names a person in full after a title; later bare uses of that full name or its
(uncommon, see ``common_name_parts.txt``) last word are then counted as that person too.

Input is text already normalized by ``etl.text.normalize``; gazetteer surfaces are normalized
the same way when loaded. Urdu letters count as word characters: ``لاہور`` never matches inside
``لاہوری``.

The byline/agency of an article is found by ``etl.enrich.bylines``; ``agency`` and
``GAZETTEER_VERSION`` are importable from here too, since the enrichment columns take the
article's entities and agency together.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from etl.enrich.bylines import agency
from etl.enrich.gazetteers import GAZETTEER_VERSION, WORD_CHARS, bounded, gazetteer, trie_regex, word_set
from etl.text import rules as text_rules
from etl.text.normalize import LETTERS

__all__ = ["GAZETTEER_VERSION", "Mention", "agency", "extract_entities"]


class Mention(NamedTuple):
    type: str  # "person" | "location" | "organization"
    surface: str  # text as it appears
    key: str  # canonical Urdu name, the same for all variants
    field: str  # "headline" or "body"
    start: int  # offset in that field


# --------------------------------------------------------------------------- matchers

_LETTER_NAMES = frozenset(text_rules.letter_names())
# Letter names that are also everyday words (کے "of", آئی "came", جی "yes", او) do not extend an
# abbreviation when they follow or precede one.
_ABBREV_NEIGHBOURS = _LETTER_NAMES - {"کے", "آئی", "جی", "او", "ای"}


# ``_gazetteer_re`` and ``_title_re`` define what is matched; extraction runs ``_scan_re``, which
# finds the same matches in one pass.


@lru_cache(maxsize=1)
def _gazetteer_re() -> re.Pattern:
    return bounded(trie_regex(gazetteer()))


def _title_chain() -> str:
    """A chain of titles: "آرمی چیف جنرل", "سابق وزیر اعظم"."""
    one = trie_regex(word_set("titles.txt"))
    return f"(?:{one})(?: (?:{one}))*"


@lru_cache(maxsize=1)
def _title_re() -> re.Pattern:
    return bounded(_title_chain())


@lru_cache(maxsize=1)
def _scan_re() -> re.Pattern:
    """``_gazetteer_re`` and ``_title_re`` in one pass over a text.

    At each word start both are tried inside lookaheads, so every match is empty and its groups
    say what was found there: group 1 a gazetteer surface, group 2 or 3 a title chain, each as
    that pattern alone would match at that position. One scan instead of two halves the cost
    paid at every character; ``_scan`` restores each pattern's non-overlapping order.
    """
    gaz = f"({trie_regex(gazetteer())})(?![{WORD_CHARS}])"
    title = f"({_title_chain()})(?![{WORD_CHARS}])"
    return re.compile(f"(?<![{WORD_CHARS}])(?:(?={gaz})(?:(?={title})|)|(?={title}))")


def _scan(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    """``(start, end)`` of each ``_gazetteer_re`` match and the end of each ``_title_re`` match,
    as their ``finditer`` give them: a match starting inside the previous one of its own pattern
    is dropped, as ``finditer`` would never have tried there."""
    gazetteer_spans: list[tuple[int, int]] = []
    title_ends: list[int] = []
    gazetteer_end = title_end = 0
    for m in _scan_re().finditer(text):
        start, end = m.start(), m.end(1)
        if end >= 0 and start >= gazetteer_end:
            gazetteer_spans.append((start, end))
            gazetteer_end = end
        end = max(m.end(2), m.end(3))  # the group that did not take part gives -1
        if end >= 0 and start >= title_end:
            title_ends.append(end)
            title_end = end
    return gazetteer_spans, title_ends


@lru_cache(maxsize=1)
def _title_words() -> frozenset[str]:
    return frozenset(w for t in word_set("titles.txt") for w in t.split())


@lru_cache(maxsize=1)
def _qualifier_words() -> frozenset[str]:
    """Words a title may be followed by before the name: qualifiers and further title words."""
    return word_set("qualifiers.txt") | _title_words()


#: A title captures at most this many name words, and only when a function word or punctuation
#: follows them; longer runs are clauses, not names.
_MAX_NAME_WORDS = 3
_WORD_CHAR = re.compile(f"[{WORD_CHARS}]")
_TOKEN = re.compile(f" *([{LETTERS}\u200c]+|[^ ])")


# --------------------------------------------------------------------------- extraction


class _Span(NamedTuple):
    start: int
    end: int
    type: str
    key: str
    titled: bool = False  # found by a title pattern


def _is_abbreviation(surface: str) -> bool:
    return all(w in _LETTER_NAMES for w in surface.split())


@lru_cache(maxsize=1)
def _gazetteer_hits() -> dict[str, tuple[str, str, bool]]:
    """``{surface: (type, key, is an abbreviation)}``: what a gazetteer match needs, worked out
    once per surface instead of once per match (the type is "" for a blocking phrase)."""
    return {surface: (entry.type, entry.key, _is_abbreviation(surface)) for surface, entry in gazetteer().items()}


def _neighbour_letters(text: str, start: int, end: int) -> bool:
    """Whether a letter name directly precedes or follows ``text[start:end]`` (a longer abbreviation)."""
    before = text[max(0, start - 8) : start].rstrip(" ").rsplit(" ", 1)[-1] if text[start - 1 : start] == " " else ""
    m = _TOKEN.match(text, end)
    after = m.group(1) if m and text[end : end + 1] == " " else ""
    return before in _ABBREV_NEIGHBOURS or after in _ABBREV_NEIGHBOURS


def _gazetteer_spans(text: str, matches: list[tuple[int, int]]) -> list[_Span]:
    """Entities among the gazetteer ``matches`` (``_scan``) of ``text``."""
    hits = _gazetteer_hits()
    spans = []
    for start, end in matches:
        typ, key, abbreviation = hits[text[start:end]]
        if not typ:
            continue
        if abbreviation and _neighbour_letters(text, start, end):
            continue
        spans.append(_Span(start, end, typ, key))
    return spans


def _title_spans(text: str, title_ends: list[int], known: list[_Span]) -> list[_Span]:
    """People named right after a title (``title_ends``, from ``_scan``); skips names the
    gazetteer already found."""
    out: list[_Span] = []
    if not title_ends:  # most texts name no title: nothing to set up
        return out
    by_start = {s.start: s for s in known}
    stops, quals = word_set("name_stops.txt"), _qualifier_words()
    persons = gazetteer()
    for title_end in title_ends:
        pos, name_start, name_end, n_words, ended = title_end, -1, -1, 0, False
        while pos < len(text) and n_words <= _MAX_NAME_WORDS:
            while text[pos : pos + 1] == " ":
                pos += 1
            span = by_start.get(pos)
            if span is not None:
                if n_words == 0 and span.type != "person":
                    pos = span.end  # a place or body between title and name
                    continue
                ended = n_words > 0 or span.type == "person"
                break
            tok = _TOKEN.match(text, pos)
            if tok is None or not tok.group(1)[0].isalpha() or tok.group(1) in stops:
                ended = True
                break
            word = tok.group(1)
            if n_words and word in _title_words():
                ended = True  # "الزاری جوزف کپتان …": the next title starts another phrase
                break
            if n_words == 0 and word in quals:
                pos = tok.end()
                continue
            if n_words == 0:
                name_start = tok.start(1)
            name_end, n_words, pos = tok.end(), n_words + 1, tok.end()
        else:
            ended = pos >= len(text) and 0 < n_words <= _MAX_NAME_WORDS
        if not ended or n_words == 0 or n_words > _MAX_NAME_WORDS:
            continue
        name = text[name_start:name_end]
        entry = persons.get(name)
        if entry is not None and entry.type != "person":
            continue
        out.append(_Span(name_start, name_end, "person", entry.key if entry else name, titled=True))
    return out


def _resolve(spans: list[_Span]) -> list[_Span]:
    """Drop overlapping spans: the earlier, then the longer, then the gazetteer one wins."""
    spans.sort(key=lambda s: (s.start, -(s.end - s.start), s.titled))
    out, last_end = [], -1
    for s in spans:
        if s.start >= last_end:
            out.append(s)
            last_end = s.end
    return out


def _local_names(fields: dict[str, list[_Span]], texts: dict[str, str]) -> dict[str, str]:
    """``{surface: key}`` for people this article names in full after a title (and their surnames)."""
    common = word_set("common_name_parts.txt")
    table = gazetteer()
    names: dict[str, str] = {}
    for field, spans in fields.items():
        for s in spans:
            if s.type != "person" or not s.titled:
                continue
            words = texts[field][s.start : s.end].split()
            if len(words) < 2:
                continue
            names.setdefault(" ".join(words), s.key)
            if words[-1] not in common and len(words[-1]) > 2 and words[-1] not in table:
                names.setdefault(words[-1], s.key)
    return names


def _find_local(text: str, names: dict[str, str], taken: list[_Span]) -> list[_Span]:
    """Bare later uses of the article's own full names and surnames, outside existing mentions."""
    out = []
    for surface, key in names.items():
        i = text.find(surface)
        while i >= 0:
            j = i + len(surface)
            whole = not (i and _WORD_CHAR.match(text, i - 1)) and not _WORD_CHAR.match(text, j)
            if whole and not any(s.start < j and i < s.end for s in taken):
                out.append(_Span(i, j, "person", key))
            i = text.find(surface, j)
    return out


def _unsure(span: _Span, names: dict[str, str]) -> bool:
    """A one-word title capture that is neither a known name nor a surname from this article."""
    return (
        span.titled
        and " " not in span.key
        and span.key not in names
        and span.key not in word_set("mononyms.txt")
        and span.key not in gazetteer()
    )


_new_tuple = tuple.__new__


def extract_entities(headline: str | None, body: str) -> list[Mention]:
    """Entity mentions of one article, headline first, each in text order.

    Every mention carries its type, the surface as written, the canonical key shared by all
    spellings, the field and the offset of the surface in that field.
    """
    texts = {"headline": headline or "", "body": body or ""}
    fields: dict[str, list[_Span]] = {}
    any_titled = False
    for field, text in texts.items():
        found, title_ends = _scan(text) if text else ([], [])
        spans = _gazetteer_spans(text, found)
        titled = _title_spans(text, title_ends, spans)
        # One finditer's matches are already sorted and disjoint: _resolve would return them as is.
        fields[field] = _resolve(spans + titled) if titled else spans
        any_titled = any_titled or bool(titled)
    if any_titled:
        # Without a titled span (most articles) this step changes nothing: no local names,
        # no unsure captures.
        names = _local_names(fields, texts)
        for field, spans in fields.items():
            # A lone word after a title ("جنرل سوریا") is a name only if it is a known one-word
            # name or the surname of someone this article names in full; it then takes their key.
            spans[:] = [
                s if names.get(s.key, s.key) == s.key else s._replace(key=names[s.key])
                for s in spans
                if not _unsure(s, names)
            ]
            if names:
                spans[:] = _resolve(spans + _find_local(texts[field], names, spans))
    # tuple.__new__ builds the Mention without the Python-level NamedTuple constructor (same tuple).
    return [
        _new_tuple(Mention, (s.type, texts[field][s.start : s.end], s.key, field, s.start))
        for field, spans in fields.items()
        for s in spans
    ]
