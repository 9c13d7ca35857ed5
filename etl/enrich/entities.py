"""Named entities (people, places, organizations) and the byline/agency of an article.

Entities come from two rule sources, both kept as data files in ``gazetteer/``:

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
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from etl import rule_files
from etl.text import rules as text_rules
from etl.text.normalize import LETTERS, normalize

HERE = Path(__file__).resolve().parent / "gazetteer"
CODE_VERSION = "1.0.0"
_FILES = ("locations.tsv", "organizations.tsv", "persons.tsv", "titles.txt", "qualifiers.txt",
          "name_stops.txt", "common_name_parts.txt", "mononyms.txt", "not_entities.txt", "agencies.tsv")


#: Stored with entity rows: changes whenever the code version or any gazetteer file changes.
GAZETTEER_VERSION = f"{CODE_VERSION}+{rule_files.files_digest(HERE / name for name in _FILES)}"


class Mention(NamedTuple):
    type: str      # "person" | "location" | "organization"
    surface: str   # text as it appears
    key: str       # canonical Urdu name, the same for all variants
    field: str     # "headline" or "body"
    start: int     # offset in that field


# --------------------------------------------------------------------------- data files

def _table(name: str) -> list[list[str]]:
    """Rows of a TSV file without comments and its ``key…`` header line."""
    return rule_files.rows(HERE / name, header="key")


def _norm(s: str) -> str:
    return " ".join(normalize(s).split())


@lru_cache(maxsize=None)
def _words(name: str) -> frozenset[str]:
    return frozenset(_norm(w) for w in rule_files.lines(HERE / name))


class _Entry(NamedTuple):
    type: str   # person/location/organization, or "" for a blocking phrase
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
    for file, typ in (("organizations.tsv", "organization"), ("locations.tsv", "location"),
                      ("persons.tsv", "person")):
        for row in _table(file):
            key = _norm(row[0])
            aliases = row[2] if typ == "location" else (row[1] if len(row) > 1 else "")
            for s in [key, *aliases.split("|")]:
                if _norm(s):
                    pairs.append((_norm(s), _Entry(typ, key)))
    pairs += [(phrase, _Entry("", "")) for phrase in _words("not_entities.txt")]
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
    return {_norm(r[0]): r[1].strip() for r in _table("locations.tsv")}


# --------------------------------------------------------------------------- matchers

_W = LETTERS + "\u200c" + "0-9A-Za-z"
_LETTER_NAMES = frozenset(text_rules.letter_names())
# Letter names that are also everyday words (کے "of", آئی "came", جی "yes", او) do not extend an
# abbreviation when they follow or precede one.
_ABBREV_NEIGHBOURS = _LETTER_NAMES - {"کے", "آئی", "جی", "او", "ای"}


def _trie_regex(words) -> str:
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


def _bounded(alternation: str) -> re.Pattern:
    """``alternation`` as whole words: no letter or digit may touch either end."""
    return re.compile(f"(?<![{_W}])(?:{alternation})(?![{_W}])")


# ``_gazetteer_re`` and ``_title_re`` define what is matched; extraction runs ``_scan_re``, which
# finds the same matches in one pass.

@lru_cache(maxsize=1)
def _gazetteer_re() -> re.Pattern:
    return _bounded(_trie_regex(gazetteer()))


def _title_chain() -> str:
    """A chain of titles: "آرمی چیف جنرل", "سابق وزیر اعظم"."""
    one = _trie_regex(_words("titles.txt"))
    return f"(?:{one})(?: (?:{one}))*"


@lru_cache(maxsize=1)
def _title_re() -> re.Pattern:
    return _bounded(_title_chain())


@lru_cache(maxsize=1)
def _scan_re() -> re.Pattern:
    """``_gazetteer_re`` and ``_title_re`` in one pass over a text.

    At each word start both are tried inside lookaheads, so every match is empty and its groups
    say what was found there: group 1 a gazetteer surface, group 2 or 3 a title chain, each as
    that pattern alone would match at that position. One scan instead of two halves the cost
    paid at every character; ``_scan`` restores each pattern's non-overlapping order.
    """
    gaz = f"({_trie_regex(gazetteer())})(?![{_W}])"
    title = f"({_title_chain()})(?![{_W}])"
    return re.compile(f"(?<![{_W}])(?:(?={gaz})(?:(?={title})|)|(?={title}))")


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
        end = max(m.end(2), m.end(3))   # the group that did not take part gives -1
        if end >= 0 and start >= title_end:
            title_ends.append(end)
            title_end = end
    return gazetteer_spans, title_ends


@lru_cache(maxsize=1)
def _title_words() -> frozenset[str]:
    return frozenset(w for t in _words("titles.txt") for w in t.split())


@lru_cache(maxsize=1)
def _qualifier_words() -> frozenset[str]:
    """Words a title may be followed by before the name: qualifiers and further title words."""
    return _words("qualifiers.txt") | _title_words()


#: A title captures at most this many name words, and only when a function word or punctuation
#: follows them; longer runs are clauses, not names.
_MAX_NAME_WORDS = 3
_WORD_CHAR = re.compile(f"[{_W}]")
_TOKEN = re.compile(f" *([{LETTERS}\u200c]+|[^ ])")


# --------------------------------------------------------------------------- extraction

class _Span(NamedTuple):
    start: int
    end: int
    type: str
    key: str
    titled: bool = False   # found by a title pattern


def _is_abbreviation(surface: str) -> bool:
    return all(w in _LETTER_NAMES for w in surface.split())


@lru_cache(maxsize=1)
def _gazetteer_hits() -> dict[str, tuple[str, str, bool]]:
    """``{surface: (type, key, is an abbreviation)}``: what a gazetteer match needs, worked out
    once per surface instead of once per match (the type is "" for a blocking phrase)."""
    return {surface: (entry.type, entry.key, _is_abbreviation(surface))
            for surface, entry in gazetteer().items()}


def _neighbour_letters(text: str, start: int, end: int) -> bool:
    """Whether a letter name directly precedes or follows ``text[start:end]`` (a longer abbreviation)."""
    before = text[max(0, start - 8):start].rstrip(" ").rsplit(" ", 1)[-1] if text[start - 1:start] == " " else ""
    m = _TOKEN.match(text, end)
    after = m.group(1) if m and text[end:end + 1] == " " else ""
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
    if not title_ends:          # most texts name no title: nothing to set up
        return out
    by_start = {s.start: s for s in known}
    stops, quals = _words("name_stops.txt"), _qualifier_words()
    persons = gazetteer()
    for title_end in title_ends:
        pos, name_start, name_end, n_words, ended = title_end, -1, -1, 0, False
        while pos < len(text) and n_words <= _MAX_NAME_WORDS:
            while text[pos:pos + 1] == " ":
                pos += 1
            span = by_start.get(pos)
            if span is not None:
                if n_words == 0 and span.type != "person":
                    pos = span.end       # a place or body between title and name
                    continue
                ended = n_words > 0 or span.type == "person"
                break
            tok = _TOKEN.match(text, pos)
            if tok is None or not tok.group(1)[0].isalpha() or tok.group(1) in stops:
                ended = True
                break
            word = tok.group(1)
            if n_words and word in _title_words():
                ended = True     # "الزاری جوزف کپتان …": the next title starts another phrase
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
    common = _words("common_name_parts.txt")
    table = gazetteer()
    names: dict[str, str] = {}
    for field, spans in fields.items():
        for s in spans:
            if s.type != "person" or not s.titled:
                continue
            words = texts[field][s.start:s.end].split()
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
    return (span.titled and " " not in span.key and span.key not in names
            and span.key not in _words("mononyms.txt") and span.key not in gazetteer())


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
            spans[:] = [s if names.get(s.key, s.key) == s.key else s._replace(key=names[s.key])
                        for s in spans if not _unsure(s, names)]
            if names:
                spans[:] = _resolve(spans + _find_local(texts[field], names, spans))
    # tuple.__new__ builds the Mention without the Python-level NamedTuple constructor (same tuple).
    return [_new_tuple(Mention, (s.type, texts[field][s.start:s.end], s.key, field, s.start))
            for field, spans in fields.items() for s in spans]


# --------------------------------------------------------------------------- agency

@lru_cache(maxsize=1)
def _agencies() -> tuple[dict[str, str], frozenset[str], re.Pattern]:
    """``({surface: key}, surfaces allowed outside bylines, bounded regex of all surfaces)``."""
    table, anywhere = {}, set()
    for key, where, surfaces in _table("agencies.tsv"):
        for s in [key, *surfaces.split("|")]:
            s = _norm(s)
            table.setdefault(s, _norm(key))
            if where.strip() == "any":
                anywhere.add(s)
    return table, frozenset(anywhere), _bounded(_trie_regex(table))


_QUOTES = "'\"‘’“”«»"
_BYLINE = re.compile(r"\(([^()]{2,120})\)")
_SEGMENT_SPLIT = re.compile(r"[/،,\-–—۔:|]")
_ATTRIBUTION = re.compile(f"[{_QUOTES}]? *(?:کی (?:رپورٹ|خبر) )?کے مطابق")
_CREDIT = re.compile(f"[،,\\-–(] *[{_QUOTES}]?([^،,\\-–()]{{2,40}}?)[{_QUOTES}]? *\\)? *[۔.]? *$")
_URDUPOINT = "اردو پوائنٹ"


def _segment_agency(content: str) -> str | None:
    """The agency named by a whole segment of a byline bracket (``یوسف انجم/ ایکسپریس نیوز``)."""
    table = _agencies()[0]
    for seg in _SEGMENT_SPLIT.split(content):
        seg = re.sub(r"[\d]+", " ", seg).strip(" " + _QUOTES)
        seg = " ".join(seg.split())
        if seg in table and table[seg] != _URDUPOINT:
            return table[seg]
    return None


def _byline(body: str) -> str | None:
    """Agency in an opening bracket: ``لاہور (اردو پوائنٹ … - اے پی پی۔ …)``, ``ڈھاکہ۔ یکم دسمبر (اے پی پی)``."""
    m = _BYLINE.search(body, 0, 200)
    if m is None or m.start() > 60:
        return None
    before = body[:m.start()]
    # Only a dateline ("ڈھاکہ۔ یکم دسمبر", "دیر لوئر، 19 اپریل") may precede the bracket.
    if len(before.split()) > 6 or any(ch in before for ch in "؟!"):
        return None
    return _segment_agency(m.group(1))


def _credit(text: str) -> str | None:
    """A closing credit: ``…، خبر ایجنسی`` or ``… (اے پی پی)`` at the very end of the text."""
    m = _CREDIT.search(text[-60:])
    if m is None:
        return None
    surface = " ".join(m.group(1).split())
    before = text[:len(text) - 60 + m.start()] if len(text) > 60 else text[:m.start()]
    if before.rstrip().endswith(("فوٹو", "فوٹو:", "تصویر", "فائل")):
        return None
    table = _agencies()[0]
    key = table.get(surface)
    return key if key and key != _URDUPOINT else None


def _attribution(body: str) -> str | None:
    """``<agency> کے مطابق`` / ``<agency> کی رپورٹ کے مطابق`` in the first 200 characters."""
    table, anywhere, pattern = _agencies()
    lead = body[:200]
    generic = None
    for m in pattern.finditer(lead):
        if m.group(0) not in anywhere:
            continue
        if _ATTRIBUTION.match(lead, m.end()):
            key = table[m.group(0)]
            if key != "ایجنسیاں":
                return key
            generic = generic or key
        elif generic is None and table[m.group(0)] == "ایجنسیاں":
            # "خبر رساں ادارے روئٹرز کے مطابق": the named agency right after the generic wins.
            nxt = pattern.match(lead, m.end() + 1) if lead[m.end():m.end() + 1] == " " else None
            if nxt and nxt.group(0) in anywhere and _ATTRIBUTION.match(lead, nxt.end()):
                return table[nxt.group(0)]
    return generic


def agency(body: str, headline: str | None = None) -> str | None:
    """The canonical news agency or byline of an article, or ``None`` when it names none.

    Looked for, in order: a byline bracket at the start of the body (UrduPoint and newspaper
    datelines), a closing credit at the end of the body or headline, and an attribution to an
    agency in the lead (``غیر ملکی خبر ایجنسی کے مطابق`` gives the generic ``ایجنسیاں``). A bare
    UrduPoint dateline without an agency is the paper's own copy and gives ``None``.
    """
    if not body:
        return None
    return _byline(body) or _credit(body) or (_credit(headline) if headline else None) or _attribution(body)
