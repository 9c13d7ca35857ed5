"""Named entities (people, places, organizations) of an article: ``extract_entities``.

Candidates come from rules kept as data files in ``gazetteer/`` (loaded by
``etl.enrich.gazetteers``) and from a learned recognizer:

* gazetteers (``locations.tsv``, ``organizations.tsv``, ``persons.tsv``): every spelling of a name
  maps to one canonical key, so ``امریکا``/``امریکہ`` or ``آئی ایس پی آر`` and its long form count
  as the same entity. All surfaces are one trie-shaped regex (longest match first), which states
  what is matched; extraction finds the same matches, and the title chains below, in every text of
  a batch with one compiled pass over tries of the lists (``etl.text.compiled.entity_scan``), so the
  cost is per character, whatever the size of the lists;
* title patterns (``titles.txt``): a title word (``وزیراعظم``, ``آرمی چیف جنرل``, ``کپتان``) followed,
  after an optional portfolio/place/body (``qualifiers.txt``), by one to three name words that end
  at a function word or punctuation (``name_stops.txt``). This finds people the gazetteer lacks;
* patterns for bodies named by their portfolio (``وزارت خارجہ``, ``محکمہ موسمیات``:
  ``body_heads.txt``) and institutions named by the words before their head word
  (``جواہر لال نہرو یونیورسٹی``: ``org_heads.txt``, stopped by ``org_modifiers.txt``);
* the learned recognizer (``etl.enrich.ner``, a CRF trained on three public Urdu NER corpora), run
  once over a whole batch; its spans count when their confidence reaches
  ``MODEL_MIN_CONFIDENCE`` and lose their leading titles and trailing function words.

Overlapping candidates resolve to the longest span whatever its type (``_resolve``), so a body or a
person that contains a place name is not also that place; a recognizer span that cuts across a
rule span, or swallows two of them (adjacent names tagged as one), is dropped.

A surname alone resolves to the full name when ``persons.tsv`` lists it (``باجوہ``). Every name an
article's titles, patterns or recognizer found is looked for again in the whole article, and so
are the first and last words (when uncommon: see ``common_name_parts.txt``) of every person it
names in full (``عامر`` after ``عامر خان``); those uses count as that entity, under its key.

Input is text already normalized by ``etl.text.normalize``; gazetteer surfaces are normalized
the same way when loaded. Urdu letters count as word characters: ``لاہور`` never matches inside
``لاہوری``.

The byline/agency of an article is found by ``etl.enrich.bylines``; ``agency`` and
``GAZETTEER_VERSION`` are importable from here too, since the enrichment columns take the
article's entities and agency together.
"""

from __future__ import annotations

import bisect
import gc
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from itertools import pairwise, repeat
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.enrich import ner
from etl.enrich.bylines import agency
from etl.enrich.gazetteers import GAZETTEER_VERSION, WORD_CHARS, _Entry, bounded, gazetteer, trie_regex, word_set
from etl.text import rules as text_rules
from etl.text.compiled import entity_scan
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


# ``_gazetteer_re`` and ``_title_re`` define what is matched; ``_scan_re`` finds the same matches in
# one pass, and ``_scan_batch`` finds them in every text of a batch in one compiled pass; extraction
# runs that pass through ``_scan_spans``, which makes the batch's gazetteer spans from it at once.


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
    paid at every character; ``_scan_spec`` restores each pattern's non-overlapping order.
    """
    gaz = f"({trie_regex(gazetteer())})(?![{WORD_CHARS}])"
    title = f"({_title_chain()})(?![{WORD_CHARS}])"
    return re.compile(f"(?<![{WORD_CHARS}])(?:(?={gaz})(?:(?={title})|)|(?={title}))")


def _scan_spec(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    """``(start, end)`` of each ``_gazetteer_re`` match and the end of each ``_title_re`` match,
    as their ``finditer`` give them: a match starting inside the previous one of its own pattern
    is dropped, as ``finditer`` would never have tried there. This is what ``_scan_batch`` finds;
    the tests hold the two together."""
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
def _scanner() -> tuple:
    """The tries and tables ``entity_scan.scan`` runs on, and the gazetteer hit of each surface."""
    titles = word_set("titles.txt")
    symbol = entity_scan.symbols(gazetteer(), titles)
    gazetteer_trie, surfaces = entity_scan.build_trie(gazetteer(), symbol)
    title_trie, _ = entity_scan.build_trie(titles, symbol)
    hits = _gazetteer_hits()
    return (
        entity_scan.word_table(WORD_CHARS),
        symbol,
        gazetteer_trie,
        title_trie,
        max(map(len, titles), default=0),
        [hits[s] for s in surfaces],
    )


def _scan_batch(texts: Sequence[str]) -> entity_scan.Scan:
    """``_scan_spec`` of every text in one compiled pass: per text, ``(start, end, surface)`` of its
    gazetteer matches (``surface`` indexes ``_scanner()[5]``) and the ends of its title chains."""
    word, symbol, gazetteer_trie, title_trie, title_depth, _ = _scanner()
    return entity_scan.scan(texts, word, symbol, gazetteer_trie, title_trie, title_depth)


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


@lru_cache(maxsize=1)
def _word_chars() -> frozenset[str]:
    """The characters ``_WORD_CHAR`` matches, for a set lookup instead of a regex call."""
    return frozenset(map(chr, entity_scan.word_table(WORD_CHARS).nonzero()[0].tolist()))


_TOKEN = re.compile(f" *([{LETTERS}\u200c]+|[^ ])")
_WORD = re.compile(f"[{WORD_CHARS}]+")


# --------------------------------------------------------------------------- extraction

# Where a candidate span comes from, in order of trust: when two candidates cover exactly the same
# words, the more trusted source gives the type and key.
_GAZETTEER, _TITLE, _PATTERN, _MODEL, _REPEAT = range(5)


#: Builds a NamedTuple without its Python-level constructor (the same tuple).
_new_tuple = tuple.__new__


class _Span(NamedTuple):
    start: int
    end: int
    type: str
    key: str
    source: int = _GAZETTEER

    @property
    def titled(self) -> bool:
        """Found by a title pattern."""
        return self.source == _TITLE


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


@lru_cache(maxsize=1)
def _surface_columns() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The type and key of each surface of ``_scanner()[5]`` as arrays, and whether a match of it
    needs ``_neighbour_letters`` looked at (a typed abbreviation), for ``_scan_spans``."""
    hits = _scanner()[5]
    types = np.array([typ for typ, _, _ in hits] or [""], dtype=object)
    keys = np.array([key for _, key, _ in hits] or [""], dtype=object)
    check = np.array([bool(abbreviation and typ) for typ, _, abbreviation in hits] or [False], dtype=np.bool_)
    return types, keys, check


def _scan_spans(texts: Sequence[str]) -> tuple[list[list[_Span]], list[list[int]]]:
    """Per text, the entities among its gazetteer matches and the ends of its title chains (what
    ``_scan_batch`` finds), the spans of the whole batch built in one go. A typed abbreviation that a
    letter name directly precedes or follows is part of a longer one and left out; a blocking phrase
    (``not_entities.txt``) is kept as a span of type "" so that it still covers its words."""
    word, symbol, gazetteer_trie, title_trie, title_depth, _ = _scanner()
    g, t = entity_scan.scan_arrays(texts, word, symbol, gazetteer_trie, title_trie, title_depth)
    types, keys, check = _surface_columns()
    surface = g[:, 3]
    suspect = np.flatnonzero(check[surface])
    if len(suspect):  # typed abbreviations: dropped where a letter name directly precedes or follows
        rows = g[suspect].tolist()
        drop = [k for k, (d, start, end, _) in zip(suspect.tolist(), rows) if _neighbour_letters(texts[d], start, end)]
        if drop:
            g = np.delete(g, drop, axis=0)
            surface = g[:, 3]
    spans = list(
        map(
            _new_tuple,
            repeat(_Span),
            zip(
                g[:, 1].tolist(), g[:, 2].tolist(), types[surface].tolist(), keys[surface].tolist(), repeat(_GAZETTEER)
            ),
        )
    )
    n = len(texts)
    g_bounds = np.searchsorted(g[:, 0], np.arange(n + 1)).tolist()
    t_bounds = np.searchsorted(t[:, 0], np.arange(n + 1)).tolist()
    title_ends = t[:, 1].tolist()
    return (
        [spans[a:b] for a, b in pairwise(g_bounds)],
        [title_ends[a:b] for a, b in pairwise(t_bounds)],
    )


def _title_spans(text: str, title_ends: list[int], known: list[_Span]) -> list[_Span]:
    """People named right after a title (``title_ends``, from ``_scan_batch``); skips names the
    gazetteer already found."""
    out: list[_Span] = []
    if not title_ends:  # most texts name no title: nothing to set up
        return out
    by_start = {s.start: s for s in known if s.type}
    stops, quals, titles = word_set("name_stops.txt"), _qualifier_words(), _title_words()
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
            if n_words and word in titles:
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
        out.append(_Span(name_start, name_end, "person", entry.key if entry else name, _TITLE))
    return out


@lru_cache(maxsize=1)
def _body_re() -> re.Pattern:
    """A government body named by its head word and portfolio: ``وزارت خارجہ``, ``وزارت اطلاعات و
    نشریات``, ``محکمہ موسمیات``, ``وزارت مذہبی امور`` (``body_heads.txt``/``body_tails.txt``)."""
    word = f"[{LETTERS}\u200c]+"
    tails = trie_regex(word_set("body_tails.txt"))
    heads = trie_regex(word_set("body_heads.txt"))
    return bounded(f"(?:{heads}) {word}(?: و {word}| (?:{tails})){{0,2}}")


def _pattern_spans(text: str, may_hold: bool = True) -> list[_Span]:
    """Organizations named by a pattern (``_body_re``) whose portfolio word is not a function word;
    none when ``may_hold`` is false (``_holding`` found no head word in the text)."""
    if not may_hold or not _any_word_of("body_heads.txt").search(text):
        return []  # most texts name no such body: skip the scan
    stops = _portfolio_stops()
    tails = word_set("body_tails.txt")
    table = gazetteer()
    out = []
    for m in _body_re().finditer(text):
        if any(w in stops for w in m.group().split()[1:] if w != "و" and w not in tails):
            continue  # "وزارت کے", "وزارت مذکورہ", "محکمہ صحت و دیگر": not a portfolio
        surface = m.group()
        entry = table.get(surface)
        out.append(_Span(m.start(), m.end(), "organization", entry.key if entry else surface, _PATTERN))
    return out


@lru_cache(maxsize=1)
def _portfolio_stops() -> frozenset[str]:
    """Words that are no portfolio after a body's head word (``_pattern_spans``)."""
    return word_set("name_stops.txt") | word_set("org_modifiers.txt") | {"برائے"}


#: An institution's name takes at most this many words before its head word.
_MAX_INSTITUTION_WORDS = 5


@lru_cache(maxsize=1)
def _institution_re() -> re.Pattern:
    """A head word of ``org_heads.txt`` as a whole word."""
    return bounded(trie_regex(word_set("org_heads.txt")))


def _institution_spans(text: str, may_hold: bool = True) -> list[_Span]:
    """Institutions named by the words right before their head word (``جواہر لال نہرو
    یونیورسٹی``): up to ``_MAX_INSTITUTION_WORDS`` letter words, stopping at punctuation, a function
    word, a title or an ordinary modifier (``org_modifiers.txt``: ``مقامی اسپتال`` is no name).
    None when ``may_hold`` is false (``_holding`` found no head word in the text)."""
    out: list[_Span] = []
    if not may_hold or not _any_word_of("org_heads.txt").search(text):
        return out  # most texts name no institution: skip the scan
    stops = _institution_stops()
    for m in _institution_re().finditer(text):
        start, n = m.start(), 0
        for word in reversed(_WORD.findall(text, max(0, m.start() - 80), m.start())):
            if n == _MAX_INSTITUTION_WORDS or word in stops or not word[0].isalpha():
                break
            at = text.rfind(word, 0, start)
            if at < 0 or text[at + len(word) : start].strip(" ") or (at and _WORD_CHAR.match(text, at - 1)):
                break  # punctuation or a line break between the words, or the window began mid-word
            start, n = at, n + 1
        if n:
            surface = text[start : m.end()]
            entry = gazetteer().get(surface)
            out.append(_Span(start, m.end(), "organization", entry.key if entry else surface, _PATTERN))
    return out


@lru_cache(maxsize=1)
def _institution_stops() -> frozenset[str]:
    return word_set("name_stops.txt") | word_set("org_modifiers.txt") | _title_words() | word_set("org_heads.txt")


@cache
def _any_word_of(name: str) -> re.Pattern:
    """Any entry of a list anywhere in a text, as a cheap test before a slower scan."""
    return re.compile("|".join(map(re.escape, sorted(word_set(name), key=len, reverse=True))))


def _holding(texts: Sequence[str] | pa.StringArray, name: str) -> list[bool]:
    """For each text, whether ``_any_word_of(name)`` occurs anywhere in it, for the whole batch in
    one Arrow (RE2) pass: a list of literals matches the same texts under either engine. ``texts``
    may be their Arrow array already (``ner._to_arrow``)."""
    arr = ner._to_arrow(texts)  # a lone surrogate becomes U+FFFD, which no entry holds
    found = pc.match_substring_regex(arr, _any_word_of(name).pattern)
    return found.to_numpy(zero_copy_only=False).tolist()


#: A model span is kept when the recognizer's confidence reaches this for its type.
#: Chosen on the dev gold set (``tests/gold/ENTITIES.md``): the recognizer finds most of the people
#: the lists cannot know, while the gazetteers already name most places and organizations better
#: than it does, so it adds those only when very sure.
MODEL_MIN_CONFIDENCE = {"person": 0.8, "location": 0.95, "organization": 0.95}


_NO_ENTRY = _Entry("", "")


@lru_cache(maxsize=1)
def _trim_words() -> tuple[frozenset[str], frozenset[str]]:
    """Words that may not open a name (titles, qualifiers, function words) and that may not close one."""
    stops = word_set("name_stops.txt")
    return _qualifier_words() | stops, stops


#: Words that never open or close a place or an organization: the recognizer's spans of those
#: types lose them, and nothing else (a title list would cut ``آئی پی پیز`` or ``تحریک طالبان``).
_FUNCTION_WORDS = frozenset(
    [
        "نے",
        "کے",
        "کی",
        "کا",
        "کو",
        "سے",
        "میں",
        "پر",
        "تک",
        "اور",
        "و",
        "یا",
        "بھی",
        "ہی",
        "تو",
        "نہ",
        "ہے",
        "ہیں",
        "تھا",
        "تھی",
        "تھے",
        "جو",
        "جس",
        "جن",
        "یہ",
        "وہ",
        "اس",
        "ان",
    ]
)


def _trimmed(text: str, start: int, end: int, typ: str) -> tuple[int, int]:
    """``text[start:end]`` without the words that may not open or close a name of type ``typ``: for
    a person, the title and qualifier words before the name (the training corpora tagged titles
    apart) and function words; for a place or organization, function words only."""
    if typ == "person":
        drop_first, drop_last = _trim_words()
    else:
        drop_first = drop_last = _FUNCTION_WORDS
    surface = text[start:end]
    first_word, _, rest = surface.partition(" ")
    if (
        first_word not in drop_first
        and surface.rpartition(" ")[2] not in drop_last
        and (typ != "person" or not rest or gazetteer().get(first_word, _NO_ENTRY).type != "location")
    ):
        return start, end  # nothing to trim (most spans)
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    table = gazetteer()
    before = text[max(0, start - 30) : start].split()
    after_title = bool(before) and before[-1] in _qualifier_words()
    while words:
        first = text[words[0][0] : words[0][1]]
        if first in drop_first:
            after_title = True
        # "وزیر اعلی پنجاب عثمان ...": the place a title names is not part of the name
        elif not (
            typ == "person" and after_title and len(words) > 1 and table.get(first, _NO_ENTRY).type == "location"
        ):
            break
        words.pop(0)
    while words and text[words[-1][0] : words[-1][1]] in drop_last:
        words.pop()
    return (words[0][0], words[-1][1]) if words else (start, start)


def _model_spans(text: str, predicted: list[tuple[int, int, str, float]], known: set[tuple[int, int]]) -> list[_Span]:
    """The learned recognizer's confident spans of ``text``, trimmed to the name (``_trimmed``);
    a surface the gazetteer knows takes its key. Spans the gazetteer found as they are
    (``known``) add nothing and are left out."""
    table = gazetteer()
    out = []
    for start, end, typ, confidence in predicted:
        if confidence < MODEL_MIN_CONFIDENCE[typ] or (start, end) in known:
            continue
        start, end = _trimmed(text, start, end, typ)
        if start == end or (start, end) in known:
            continue
        surface = text[start:end]
        entry = table.get(surface)
        if entry is not None and not entry.type:
            continue  # a blocking phrase is never an entity
        if typ == "person" and surface in _short_form_stops():
            continue  # "خان" alone says nothing about who
        key = entry.key if entry is not None and entry.type == typ else surface
        out.append(_Span(start, end, typ, key, _MODEL))
    return out


#: How far back ``_resolve`` looks for a rule span that a model span could cut across or contain:
#: longer than any listed name or pattern match in practice (a longer one is merely not checked).
_LONGEST_RULE = 200


def _resolve(spans: list[_Span]) -> list[_Span]:
    """Non-overlapping spans: the longest candidate wins, whatever its type, so an organization
    or a person that contains a place name (``پاکستان کرکٹ بورڈ``, ``ترکی المالکی``) is not also
    that place; of equal spans the most trusted source wins. A model span that cuts across any
    other span without covering it, or covers two or more of them, is dropped first: a learned
    guess never splits a known name, nor joins two adjacent ones (``عمران خان نواز شریف``, which
    its IO tags cannot tell apart). Blocking phrases take part (they cover their words) but are
    not returned."""
    spans.sort()
    end = -1
    for s in spans:
        if s.start < end:
            break
        end = s.end
    else:  # disjoint already (most texts): nothing to choose
        return [s for s in spans if s.type]
    rules = [s for s in spans if s.source != _MODEL]  # sorted by start, as ``spans`` is
    if len(rules) < len(spans):
        rule_starts = [r.start for r in rules]

        def crosses_a_rule(s: _Span) -> bool:
            i = bisect.bisect_left(rule_starts, s.end)  # rules[:i] start before s ends
            inside = 0
            while i and rules[i - 1].start > s.start - _LONGEST_RULE:
                i -= 1
                r = rules[i]
                if _crosses(s, r):
                    return True
                if s.start <= r.start and r.end <= s.end and r.type and (r.start, r.end) != (s.start, s.end):
                    inside += 1
            return inside > 1

        spans = [s for s in spans if s.source != _MODEL or not crosses_a_rule(s)]
    spans.sort(key=lambda s: (s.start - s.end, s.source, s.start))
    starts: list[int] = []  # the chosen spans, kept sorted by start
    chosen: list[_Span] = []
    for s in spans:
        i = bisect.bisect_left(starts, s.start)
        if (i < len(chosen) and chosen[i].start < s.end) or (i and chosen[i - 1].end > s.start):
            continue
        starts.insert(i, s.start)
        chosen.insert(i, s)
    return [s for s in chosen if s.type]


def _crosses(a: _Span, b: _Span) -> bool:
    """``a`` overlaps ``b`` without containing it."""
    return a.start < b.end and b.start < a.end and not (a.start <= b.start and b.end <= a.end)


@lru_cache(maxsize=1)
def _short_form_stops() -> frozenset[str]:
    """Words never taken alone as a short form of a name found in the article."""
    return word_set("common_name_parts.txt") | word_set("name_stops.txt") | _title_words()


def _short_forms(fields: dict[str, list[_Span]], texts: dict[str, str]) -> dict[str, str]:
    """``{word: key}``: the first and last words of every person the article names in full, when
    they are uncommon name words (``عامر`` after ``عامر خان``, ``رونی`` after ``وین رونی``)."""
    stops = _short_form_stops()
    table = gazetteer()
    out: dict[str, str] = {}
    for field, spans in fields.items():
        for s in spans:
            if s.type != "person":
                continue
            words = texts[field][s.start : s.end].split()
            if len(words) < 2:
                continue
            for w in dict.fromkeys((words[-1], words[0])):
                if w not in stops and len(w) > 2 and w not in table:
                    out.setdefault(w, s.key)
    return out


def _unsure(span: _Span, short: dict[str, str]) -> bool:
    """A one-word title capture that is neither a known name nor a short form from this article."""
    return (
        span.titled
        and " " not in span.key
        and span.key not in short
        and span.key not in word_set("mononyms.txt")
        and span.key not in gazetteer()
    )


#: An article's names looked for again (``_find_local``), longest first: every name costs one pass
#: over the text, so a body that lists thousands of names stays linear in its length.
_MAX_LOCAL_NAMES = 100


def _find_local(text: str, names: dict[str, tuple[str, str]], taken: list[_Span], blocked: list[_Span]) -> list[_Span]:
    """Bare later uses of the article's own names and short forms, outside existing mentions and
    blocking phrases (``blocked``)."""
    out = []
    word_chars = _word_chars()
    starts = [s.start for s in taken]  # ``taken`` is sorted and disjoint (``_resolve``)
    longest = sorted(names, key=len, reverse=True)[:_MAX_LOCAL_NAMES]
    for surface in longest:
        typ, key = names[surface]
        i = text.find(surface)
        while i >= 0:
            j = i + len(surface)
            whole = text[i - 1 : i] not in word_chars and text[j : j + 1] not in word_chars
            if whole:
                # A use is free unless it cuts into, or lies inside, a mention found before; one
                # that covers the model's shorter guess (``انور`` of ``سعود انور``) replaces it.
                k = bisect.bisect_left(starts, j)  # taken[k - 1] is the last span starting before j
                m = k
                while m and i <= taken[m - 1].start and taken[m - 1].end <= j and taken[m - 1].source == _MODEL:
                    m -= 1
                if (not m or taken[m - 1].end <= i) and not (
                    blocked and any(b.start < j and i < b.end for b in blocked)
                ):
                    out.append(_Span(i, j, typ, key, _REPEAT))
            i = text.find(surface, j)
    return out


def _article_mentions(
    texts: dict[str, str],
    predicted: dict[str, list],
    scanned: dict[str, tuple[list[_Span], list[int], bool, bool]] | None = None,
) -> list[Mention]:
    """The mentions of one article from its fields' texts, the recognizer's spans of them and,
    when the batch has been scanned already, its fields' gazetteer spans and title chain ends
    (``_scan_spans``) and whether they may hold a body or an institution head word (``scanned``)."""
    if scanned is None:
        found, chains = _scan_spans(list(texts.values()))
        scanned = {f: (found[i], chains[i], True, True) for i, f in enumerate(texts)}
    fields: dict[str, list[_Span]] = {}
    blocked: dict[str, list[_Span]] = {}
    for field, text in texts.items():
        spans, title_ends, bodies, institutions = scanned[field]
        model = predicted[field]
        if not text or not (spans or title_ends or bodies or institutions or model):
            fields[field], blocked[field] = [], []  # no stage has anything to start from
            continue
        blocked[field] = [s for s in spans if not s.type]
        if not (title_ends or bodies or institutions or model):
            # gazetteer spans alone: in text order and disjoint already, as ``_resolve`` leaves them
            fields[field] = [s for s in spans if s.type] if blocked[field] else list(spans)
            continue
        candidates = (
            spans
            + _title_spans(text, title_ends, spans)
            + _pattern_spans(text, bodies)
            + _institution_spans(text, institutions)
        )
        if model:
            candidates += _model_spans(text, model, {(s.start, s.end) for s in spans})
        fields[field] = _resolve(candidates)
    if not any(fields.values()):
        return []
    short = _short_forms(fields, texts)
    # A lone word after a title ("جنرل سوریا") is a name only if it is a known one-word name or a
    # short form of someone this article names in full; it then takes their key.
    for spans in fields.values():
        if short or any(s.source == _TITLE for s in spans):  # else nothing to drop or rekey
            spans[:] = [
                s._replace(key=short[s.key]) if s.type == "person" and s.key in short and s.source != _GAZETTEER else s
                for s in spans
                if s.source != _TITLE or not _unsure(s, short)  # only a title capture can be unsure
            ]
    # Every name found by a title, a pattern or the model is looked for again in the whole article
    # (the gazetteer finds its own repeats), and so are the short forms of people named in full.
    names = {w: ("person", key) for w, key in short.items()}
    for field, spans in fields.items():
        for s in spans:
            if s.source != _GAZETTEER:
                names.setdefault(texts[field][s.start : s.end], (s.type, s.key))
    if names:
        for field, spans in fields.items():
            if not texts[field]:
                continue  # nothing to find in an empty field
            repeats = _find_local(texts[field], names, spans, blocked[field])
            if repeats:
                spans[:] = _resolve(spans + repeats)
    # tuple.__new__ builds the Mention without the Python-level NamedTuple constructor (same tuple).
    return [
        _new_tuple(Mention, (s.type, texts[field][s.start : s.end], s.key, field, s.start))
        for field, spans in fields.items()
        for s in spans
    ]


@contextmanager
def _collector_held() -> Iterator[None]:
    """Python's cyclic garbage collector held off, when it runs at all, until the block ends.

    A batch makes hundreds of thousands of small objects (spans, their lists, mentions) that all
    live until the batch is done, and so many new objects set off full collections, each of which
    walks every object of the process (the gazetteers, the models, the caller's data) and frees
    nothing of the batch. Held off, the collector looks at the batch's objects once, after it;
    whatever cycles are made meanwhile are collected then as usual."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def extract_entities_batch(headlines: Sequence[str | None], bodies: Sequence[str | None]) -> list[list[Mention]]:
    """``extract_entities`` of every article of a batch, the learned recognizer run once over all
    their fields (its cost is per batch, not per article), and the gazetteer and title scan too.
    The garbage collector is held off meanwhile (``_collector_held``)."""
    with _collector_held():
        return _extract_batch(headlines, bodies)


def _extract_batch(headlines: Sequence[str | None], bodies: Sequence[str | None]) -> list[list[Mention]]:
    texts = [{"headline": h or "", "body": b or ""} for h, b in zip(headlines, bodies, strict=True)]
    flat = [t[f] for t in texts for f in ("headline", "body")]
    arr = ner._to_arrow(flat)  # converted once for the recognizer and both head word tests
    predicted = ner.predict_spans(arr)
    gazetteer_spans, title_ends = _scan_spans(flat)
    scanned = list(zip(gazetteer_spans, title_ends, _holding(arr, "body_heads.txt"), _holding(arr, "org_heads.txt")))
    return [
        _article_mentions(
            t,
            {"headline": predicted[2 * i], "body": predicted[2 * i + 1]},
            {"headline": scanned[2 * i], "body": scanned[2 * i + 1]},
        )
        for i, t in enumerate(texts)
    ]


def extract_entities(headline: str | None, body: str | None) -> list[Mention]:
    """Entity mentions of one article, headline first, each in text order.

    Every mention carries its type, the surface as written, the canonical key shared by all
    spellings, the field and the offset of the surface in that field.
    """
    return extract_entities_batch([headline], [body])[0]
