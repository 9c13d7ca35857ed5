"""The dateline a body opens with, read by a small grammar: place, separator, date, agency.

A dateline is what a wire or a paper puts before the story's first sentence::

    ٹوکیو۔ 3 جولائی (اے پی پی)            place ۔ date (agency)
    فیصل آباد۔24نومبر (اے پی پی):          digits glued to the separator and the month
    لندن 27 مئی (سیاست ڈاٹ کام)            no separator
    لاہور (اردو پوائنٹ اخبارتازہ ترین - اے پی پی۔ 02 مارچ2023ء)   the date and agency inside the bracket
    راولپنڈی:                               a place and a colon

``parse_dateline`` reads it as ``PLACE [SEP] [DATE] [(BRACKET)] [TAIL]`` at the very start of the
body, where

- PLACE is one to four words, after any stray marks the source left (``#``, ``ح*``, ``3 ``): a
  place of the gazetteer (``locations.tsv``, or ``dateline_places.tsv`` for towns and cities seen
  in datelines that it lacks) is taken after any separator; any other words are taken as a place only when the rest is clearly a dateline (a date
  or an agency's bracket follows) and they are neither an organization (a gazetteer organization,
  or words ending in an organization's head word) nor a page label (``شیئر کریں``, ``ویب ڈیسک``);
  the words that may not be a place are in ``gazetteer/dateline_refuse.txt``;
- SEP is ``۔ : - –`` or ``،`` (a comma only before a date) or nothing (then a date with a closing
  bracket or colon, or an agency's bracket, must follow);
- DATE is a day (any digit set, or ``یکم``) and an Urdu month, with or without a year, spaced or glued;
- BRACKET holds the agency (``اے پی پی``, ``نمائندہ جنگ``; UrduPoint's ``اردو پوائنٹ … - اے پی پی۔
  02 مارچ2023ء`` also holds the date). A bracket of unknown words after a date is an agency named
  as written (``سیاست ڈاٹ کام``, ``پی ٹی آئی``); without a date, an abbreviation in brackets that
  is no agency (``(پی سی بی)``) means the words before it name an organization, not a place, and
  there is no dateline. A bracket the source never closed counts when it opens with an agency
  (``کولکتہ(آن لائن بالی وڈ …``).

In a text stripped of its digits and punctuation but its full stops (one corpus prints ``لاہور
پنجاب حکومت نے …`` for ``لاہور: پنجاب حکومت نے …``), a listed city or region (not a country:
``پاکستان کرکٹ ٹیم``) before a word that neither continues a name nor the sentence is the place.

An agency may also follow a dash (``کراچی - اے پی پی``) or close the story (``… (اے پی پی)``,
``…، اے ایف پی``). A generic agency named in running text (``غیر ملکی خبر ایجنسی کے مطابق``) is
not the dateline's agency.

Spellings are kept as written; the canonical keys (``place_key`` from ``locations.tsv``,
``agency_key`` from ``agencies.tsv``) stand beside them. A date without a year is the latest such
day on or before ``published`` (a week after it is allowed): ``31 دسمبر`` of an article published
on 1 January is last year's, ``یکم جنوری`` of one published on 31 December next year's.

Every regex here is compiled once and matched at the start of the body (or at its last characters
for a closing credit); a body costs a few matches on its first 240 characters, two when it opens
with five plain words (``_PLAIN``), and the closing credit's regex runs only when the body's last
word ends like an agency's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from etl import rule_files
from etl.enrich.dates import URDU_MONTHS
from etl.enrich.gazetteers import HERE, gazetteer, location_types, norm, table_rows, trie_regex, word_set
from etl.text.normalize import LETTERS

CODE_VERSION = "1"
_REFUSE_FILE = "dateline_refuse.txt"
_PLACES_FILE = "dateline_places.tsv"
#: Stored (through ``etl.enrich.columns.ENRICHMENT_VERSION``) with every row: the grammar's code and tables.
DATELINE_VERSION = (
    f"{CODE_VERSION}+{rule_files.files_digest(HERE / name for name in (_REFUSE_FILE, _PLACES_FILE, 'agencies.tsv'))}"
)

#: How far into the body a dateline may reach.
HEAD = 240
#: How many words a place may have (``ڈیرہ اسماعیل خان``, ``دیر لو ئر`` broken by a stray space).
MAX_PLACE_WORDS = 4
#: How many words a place not in the gazetteer may have.
MAX_LEARNED_WORDS = 3
_URDUPOINT = re.compile("ا?ردو ?پوائنٹ|تازہ ترین|اخبار ?تازہ")
_EARLIEST_YEAR = 1990
#: Agency keys that are no credit: the generic "agencies" (``خبر ایجنسی``) and the publisher UrduPoint.
_NOT_CREDITS = frozenset({"ایجنسیاں", "اردو پوائنٹ"})
#: How far after the publication a year-less dateline date may fall and still be this year's.
_LATE_DATELINE = dt.timedelta(days=7)


class Dateline(NamedTuple):
    """A body's dateline; every field ``None`` (and ``end`` 0) when the body opens without one."""

    place: str | None = None
    place_key: str | None = None
    agency: str | None = None
    agency_key: str | None = None
    #: The dateline's date; a date stated without a year takes it from ``published``.
    date: dt.date | None = None
    #: Offset in the body where the dateline ends (after its closing bracket or colon).
    end: int = 0
    #: ``(month, day)`` as stated, and whether the dateline stated the year too.
    month_day: tuple[int, int] | None = None
    year: int | None = None

    @property
    def full_date(self) -> dt.date | None:
        """The date only when the dateline states it whole (day, month and year)."""
        return self.date if self.year is not None else None

    def dated(self, published: dt.date | None) -> dt.date | None:
        """The dateline's date with a missing year taken from ``published``."""
        if self.month_day is None:
            return None
        return _resolve(self.month_day, self.year, published)


_NONE = Dateline()

_L = f"[{LETTERS}\u200c]+"
_MONTH = "|".join(sorted(URDU_MONTHS, key=len, reverse=True))
_DATE = rf"(?P<day>\d{{1,2}}|یکم)[ \t]*(?P<month>{_MONTH})(?![{LETTERS}])(?:[ \t]*[،,]?[ \t]*(?P<year>\d{{4}})(?!\d)[ \t]*ء?)?"
# What may precede the place: spaces, quotes and a stray hash or bullet.
_LEAD = re.compile(
    rf"[\s#*٭@‘’'\"“”«»]*(?:[A-Za-z][ \t]+|[{LETTERS}]?[*@#]+|\d{{1,2}}[ \t]+(?!\d|(?:{_MONTH})(?![{LETTERS}])))?"
)
_WORD = re.compile(_L)
# Up to ``MAX_PLACE_WORDS`` words separated by spaces only, and the word after them.
_WORDS = re.compile(rf"({_L})" + rf"(?:[ \t]+({_L})" * MAX_PLACE_WORDS + ")?" * MAX_PLACE_WORDS)
# More than ``MAX_PLACE_WORDS`` words, no word after the first opening a date (``یکم``): no dateline
# ends after any of the first ``MAX_PLACE_WORDS`` words (see ``_opening``).
_PLAIN = re.compile(rf"{_L}(?:[ \t]+(?!یکم){_L}){{{MAX_PLACE_WORDS}}}")
# Everything after the place; every part optional, judged by ``_judge``.
_REST = re.compile(
    r"[ \t]*(?P<sep>[۔:\-–—،,])?[ \t]*"
    rf"(?P<date>{_DATE})?[ \t]*"
    r"(?:[۔:\-–—،,][ \t]*(?=\())?"
    r"(?:\((?P<br>[^()\n]{1,160})\))?"
    r"[ \t]*(?P<tail>[:\-–—۔](?![\-–—۔]))?"
)
_DATE_IN = re.compile(_DATE)
_POSTPOSITIONS = "کو|تک|سے|کے|کی|کا|میں|نے|تا|اور|پر|سمیت"
# A date followed by one of these is the sentence's, not the dateline's ("کراچی: 12 مارچ 1991 کو").
_SENTENCE_AFTER_DATE = re.compile(rf"[ \t]*(?:{_POSTPOSITIONS}|سن|سال)(?![{LETTERS}])")
# A bracket followed by one of these closes a name, not a dateline ("لاہور (پنجاب) میں").
_SENTENCE_AFTER_BRACKET = re.compile(rf"[ \t]*(?:{_POSTPOSITIONS})(?![{LETTERS}])")
# Text whose punctuation and digits were stripped (one corpus prints "لاہور پنجاب حکومت نے" for
# "لاہور: پنجاب حکومت نے"): none of these anywhere in a body of some length.
_STRIPPED_MARKS = re.compile(r"[\d،,():؛]")
_STRIPPED_MIN_CHARS = 300
# In stripped text, a city is a dateline unless the next word continues a name or the sentence.
_NAME_GOES_ON = frozenset(
    [
        "میں",
        "کے",
        "کی",
        "کا",
        "سے",
        "کو",
        "نے",
        "پر",
        "اور",
        "تک",
        "بھر",
        "کیخلاف",
        "کیلئے",
        "کیلیے",
        "والے",
        "والی",
        "سمیت",
        "قلندرز",
        "کنگز",
        "زلمی",
        "یونائیٹڈ",
        "سلطانز",
        "گلیڈی",
        "ایٹرز",
        "چیمبر",
        "پولیس",
        "ہائیکورٹ",
        "ہائی",
        "کورٹ",
        "پریس",
        "کلب",
        "انٹرنیشنل",
        "میراتھون",
        "اولمپکس",
        "سپر",
        "ایئرپورٹ",
        "ائیرپورٹ",
        "اسٹیڈیم",
        "یونیورسٹی",
        "ٹیسٹ",
        "اسمبلی",
    ]
)
_BRACKET_SPLIT = re.compile(r"[/،,\-–—۔:|]")
_QUOTES = "'\"‘’“”«»"
_DASH_AGENCY_LEAD = re.compile(r"[ \t]*[\-–—][ \t]*")
_TAIL = re.compile(r"[ \t]*[:\-–—۔]")
_CREDIT = re.compile(f"[،,\\-–(] *[{_QUOTES}]?([^،,\\-–()\\n]{{2,40}}?)[{_QUOTES}]? *\\)? *[۔.]? *$")
#: What may follow a closing credit's agency (``_CREDIT``), whitespace apart.
_CREDIT_END = _QUOTES + " )۔."
# A byline bracket's words that are an abbreviation: every word of at most three letters.
_ABBREVIATION = re.compile(rf"^[{LETTERS}]{{1,3}}(?: [{LETTERS}]{{1,3}})+$")


@lru_cache(maxsize=1)
def _agencies() -> tuple[dict[str, str], re.Pattern]:
    """``{surface: canonical key}`` of ``agencies.tsv`` and a regex of its surfaces at a position."""
    table: dict[str, str] = {}
    for key, _where, surfaces in table_rows("agencies.tsv"):
        for s in [key, *surfaces.split("|")]:
            if norm(s):
                table.setdefault(norm(s), norm(key))
    return table, re.compile(f"(?:{trie_regex(table)})(?![{LETTERS}\u200c0-9])")


@lru_cache(maxsize=1)
def _refused() -> tuple[frozenset[str], frozenset[str]]:
    """Words that may not be part of a learned place, and whole phrases that may not be one."""
    words = set(word_set(_REFUSE_FILE)) | set(word_set("org_heads.txt"))
    single = frozenset(w for w in words if " " not in w)
    return single, frozenset(w for w in words if " " in w) | frozenset(_agencies()[0])


@lru_cache(maxsize=1)
def _dateline_places() -> dict[str, str]:
    """``{surface: key}`` of ``dateline_places.tsv``: places of datelines that ``locations.tsv`` lacks."""
    table: dict[str, str] = {}
    for row in table_rows(_PLACES_FILE):
        key = norm(row[0])
        for s in [key, *(row[1].split("|") if len(row) > 1 else [])]:
            if norm(s):
                table.setdefault(norm(s), key)
    return table


def _place_key(place: str) -> tuple[str | None, bool]:
    """``(location key, is an organization)`` of a candidate place."""
    entry = gazetteer().get(place)
    if entry is None:
        return _dateline_places().get(place), False
    return (entry.key, False) if entry.type == "location" else (None, entry.type == "organization")


def _is_place(text: str) -> bool:
    entry = gazetteer().get(" ".join(text.split()))
    return entry is not None and entry.type == "location"


def _learnable(place: str) -> bool:
    """Whether words not in the gazetteer may stand as a dateline's place."""
    words = place.split()
    single, phrases = _refused()
    if len(words) > MAX_LEARNED_WORDS or place in phrases:
        return False
    if any(w in single for w in words):
        return False
    return not any(" ".join(words[i:j]) in phrases for i in range(len(words)) for j in range(i + 2, len(words) + 1))


def _agency_of(text: str) -> tuple[str | None, str | None]:
    """``(surface as written, key)`` when ``text`` (one segment) is an agency of the table."""
    s = " ".join(re.sub(r"\d+", " ", text).strip(" " + _QUOTES).split())
    key = _agencies()[0].get(s)
    return (s, key) if key and key not in _NOT_CREDITS else (None, None)


class _Bracket(NamedTuple):
    kind: str  # "agency" (an agency or UrduPoint's own bracket), "abbreviation" or "other"
    agency: str | None
    agency_key: str | None
    date: re.Match | None


def _bracket(content: str) -> _Bracket:
    """What a dateline's bracket holds: its agency, its date, and whether it is an agency's at all."""
    date = _DATE_IN.search(content)
    text = content[: date.start()] + " " + content[date.end() :] if date else content
    urdupoint = bool(_URDUPOINT.search(text))
    segments = [" ".join(s.split()) for s in _BRACKET_SPLIT.split(text)]
    segments = [s for s in segments if s and not _URDUPOINT.search(s)]
    for seg in segments:
        agency, key = _agency_of(seg)
        if agency:
            return _Bracket("agency", agency, key, date)
    words = [s.strip(_QUOTES) for s in segments if not s.strip(_QUOTES).isdigit()]
    if urdupoint:
        # UrduPoint's bracket names the agency after a dash; without one the paper wrote the story.
        named = next((w for w in words if 0 < len(w.split()) <= 4), None)
        return _Bracket("agency", named, None, date)
    whole = " ".join(content.split()).strip(_QUOTES)
    if _ABBREVIATION.match(whole):
        return _Bracket("abbreviation", None, None, date)
    named = " ".join(" ".join(words).split()) if words else None
    return _Bracket("other", named if named and len(named.split()) <= 4 else None, None, date)


def _resolve(month_day: tuple[int, int], year: int | None, published: dt.date | None) -> dt.date | None:
    """The date of ``month_day``: in ``year`` when stated, else the latest day of that month and day
    on or before ``published`` (a few days after it are allowed for time zones and late filing)."""
    month, day = month_day
    if year is None and published is None:
        return None
    years = [year] if year is not None else [published.year + 1, published.year, published.year - 1]  # type: ignore[union-attr]
    for y in years:
        if y < _EARLIEST_YEAR:
            continue
        try:
            when = dt.date(y, month, day)
        except ValueError:
            continue
        if year is not None or when <= published + _LATE_DATELINE:  # type: ignore[operator]
            return when
    return None


def _month_day(m: re.Match) -> tuple[tuple[int, int], int | None]:
    day = 1 if m.group("day") == "یکم" else int(m.group("day"))
    year = int(m.group("year")) if m.group("year") else None
    return (URDU_MONTHS[m.group("month")], day), year


def _dash_agency(body: str, pos: int) -> tuple[str | None, str | None, int]:
    """An agency after a dash at ``pos`` (``کراچی - اے پی پی``): ``(surface, key, end)``."""
    lead = _DASH_AGENCY_LEAD.match(body, pos)
    at = lead.end() if lead else pos
    m = _agencies()[1].match(body, at)
    if m is None:
        return None, None, pos
    surface = m.group(0)
    key = _agencies()[0][surface]
    return (None, None, pos) if key in _NOT_CREDITS else (surface, key, m.end())


@lru_cache(maxsize=1)
def _credit_last_words() -> tuple[str, ...]:
    """The last word of every agency that may close a story."""
    return tuple(sorted({s.split()[-1] for s, key in _agencies()[0].items() if key not in _NOT_CREDITS}))


def _last_word(text: str) -> str:
    """The last word of ``text`` once the marks a closing credit may end with (spaces, quotes, a
    closing bracket, a full stop) are taken off its end."""
    while (stripped := text.rstrip().rstrip(_CREDIT_END)) != text:
        text = stripped
    return text.rsplit(None, 1)[-1] if text else ""


def closing_credit(text: str) -> tuple[str | None, str | None]:
    """An agency closing ``text``: ``…، اے ایف پی`` or ``… (اے پی پی)``, as ``(surface, key)``."""
    tail = text[-60:]
    # ``_CREDIT`` lets only spaces, quotes, a closing bracket and a full stop follow the agency, so
    # the agency's last word ends the text's last word once those are taken off: a last word that
    # ends like no agency's rules a credit out without the regex.
    if not _last_word(tail).endswith(_credit_last_words()):
        return None, None
    m = _CREDIT.search(tail)
    if m is None:
        return None, None
    before = tail[: m.start()].rstrip()
    if before.endswith(("فوٹو", "فوٹو:", "تصویر", "فائل")):
        return None, None
    surface = " ".join(m.group(1).split())
    key = _agencies()[0].get(surface)
    if key is None or key in _NOT_CREDITS:
        return None, None
    return surface, key


def _words(body: str, pos: int) -> list[tuple[int, int]]:
    """Letter words from ``pos`` separated by spaces only: up to ``MAX_PLACE_WORDS``, and the word
    after them when there is one."""
    m = _WORDS.match(body, pos)
    if m is None:
        return []
    out = []
    for group in range(1, MAX_PLACE_WORDS + 2):
        span = m.span(group)
        if span[0] < 0:
            break
        out.append(span)
    return out


def parse_dateline(body: str, published: dt.date | None = None) -> Dateline:
    """The dateline ``body`` opens with (see the module's docstring), or an empty ``Dateline``.

    ``published`` supplies the year of a date stated without one. When the body has no dateline's
    agency, an agency closing the story is returned (with no place).
    """
    if not body:
        return _NONE
    found = _opening(body[:HEAD], published, lambda: _is_stripped(body))
    if found.agency is None:
        agency, key = closing_credit(body.rstrip())
        if agency:
            found = found._replace(agency=agency, agency_key=key)
    return found


def _is_stripped(body: str) -> bool:
    """Whether ``body`` reads as text stripped of its digits and punctuation but its full stops."""
    return len(body) >= _STRIPPED_MIN_CHARS and body.count("۔") >= 3 and _STRIPPED_MARKS.search(body) is None


def _opening(head: str, published: dt.date | None, stripped: Callable[[], bool]) -> Dateline:
    start = _LEAD.match(head).end()  # type: ignore[union-attr]  # matches the empty string at worst
    if _PLAIN.match(head, start):
        # Most bodies open with a sentence: the loop below would pass over every place.
        if not stripped():
            return _NONE
        return _stripped(head, [(start, end) for _, end in _words(head, start)[:MAX_PLACE_WORDS]])
    found = _words(head, start)
    words = found[:MAX_PLACE_WORDS]
    # A bracket or a date right at the start: UrduPoint's "(اردو پوائنٹ …۔ 18 جنوری 2022ء)".
    spans: list[tuple[int, int] | None] = [None] if not words else []
    spans += [(start, end) for _, end in words]
    for i, span in enumerate(spans):
        if i + 1 < len(found) and not head.startswith("یکم", found[i + 1][0]):
            # Only spaces and a letter follow the place: no separator, bracket or date (a date
            # after a word starts with a digit or یکم), so ``_REST`` would read nothing.
            continue
        pos = span[1] if span else start
        m = _REST.match(head, pos)
        if m is None:  # the pattern matches the empty string, but the checker does not know
            continue
        if not (m.group("sep") or m.group("day") or m.group("br")):
            if span is not None and head[m.end() : m.end() + 1] == "(":
                return _unclosed(head, span, m.end() + 1)
            continue  # the place may have more words
        return _judge(head, span, m, published) or _NONE
    if words and stripped():
        return _stripped(head, [(start, end) for _, end in words])
    return _NONE


def _unclosed(head: str, span: tuple[int, int], pos: int) -> Dateline:
    """``کولکتہ(آن لائن بالی وڈ …``: a bracket the source never closed, opening with an agency."""
    m = _agencies()[1].match(head, pos)
    if m is None or head[m.end() : m.end() + 1] not in (" ", "\t") or _agencies()[0][m.group(0)] in _NOT_CREDITS:
        return _NONE
    place = " ".join(head[span[0] : span[1]].split())
    key, organization = _place_key(place)
    if key is None and (organization or not _learnable(place)):
        return _NONE
    return Dateline(place, key, m.group(0), _agencies()[0][m.group(0)], end=m.end())


def _stripped(head: str, spans: list[tuple[int, int]]) -> Dateline:
    """A place of the gazetteer (a city or region, not a country: ``پاکستان کرکٹ ٹیم`` is a name)
    standing before the first sentence of a text stripped of its punctuation."""
    for start, end in reversed(spans):  # the longest place first ("اسلام آباد", not "اسلام")
        place = " ".join(head[start:end].split())
        entry = gazetteer().get(place)
        if entry is None or entry.type != "location" or location_types().get(entry.key) == "country":
            continue
        after = _WORD.match(head, end + 1)
        if after is None or after.group(0) in _NAME_GOES_ON or after.group(0) in word_set("org_heads.txt"):
            return _NONE
        return Dateline(place, entry.key, end=end)
    return _NONE


def _judge(head: str, span: tuple[int, int] | None, m: re.Match, published: dt.date | None) -> Dateline | None:
    """The dateline read by ``m`` after the place at ``span``, or ``None`` when it is no dateline."""
    sep, content, tail = m.group("sep"), m.group("br"), m.group("tail")
    if m.group("date") and content is None and tail is None and _SENTENCE_AFTER_DATE.match(head, m.end("date")):
        return _judge_place_only(head, span, m)
    date_m: re.Match | None = m if m.group("day") else None
    bracket = _bracket(content) if content is not None else None
    if bracket is not None and bracket.kind == "abbreviation":
        if not m.group("day"):
            return None  # "پاکستان کرکٹ بورڈ (پی سی بی) نے": an organization and its abbreviation
        # "نئی دہلی، 12 مارچ (پی ٹی آئی)": after a date, an abbreviation names the agency
        bracket = _Bracket("other", " ".join(content.split()).strip(_QUOTES), None, None)
    if content is not None and tail is None and _SENTENCE_AFTER_BRACKET.match(head, m.end("br") + 1):
        return None  # "لاہور (پنجاب) میں": the bracket explains a name of the sentence
    if bracket is not None and bracket.date is not None and (date_m is None or not date_m.group("year")):
        date_m = bracket.date  # "دیر لوئر، 19 اپریل (… 19 اپریل 2023ء)": the full date wins
    agency_bracket = bracket is not None and bracket.kind == "agency"
    # The shape: what follows the place must close like a dateline.
    # A date is closed by a bracket or a colon or dash after it ("لاہور، 5 مارچ کو" is a sentence).
    closed_date = m.group("day") is not None and (content is not None or tail is not None)
    place = key = None
    organization = False
    if span is not None:
        place = " ".join(head[span[0] : span[1]].split())
        key, organization = _place_key(place)
    if sep in ("،", ","):
        shaped = closed_date
    elif sep:
        shaped = True
    else:
        # "اسلام آباد (رپورٹ / ظفر بھٹہ)": a listed place before a byline's bracket; a bracket that
        # holds a place ("حیدرآباد (دکن)") tells which place, it is no byline
        shaped = agency_bracket or closed_date or (key is not None and content is not None and not _is_place(content))
    if not shaped:
        return None
    agency = agency_key = None
    if bracket is not None and (agency_bracket or m.group("day")):
        agency, agency_key = bracket.agency, bracket.agency_key
    end = m.end()
    if agency is None and content is None:
        dash_pos = m.end("tail") - 1 if tail in ("-", "–", "—") else m.end("day") if m.group("day") else None
        if sep in ("-", "–", "—") and not m.group("day") and not tail:
            dash_pos = m.start("sep")
        if dash_pos is not None:
            agency, agency_key, dash_end = _dash_agency(head, dash_pos)
            if agency:
                end = max(end, dash_end)
                tail_m = _TAIL.match(head, end)
                end = tail_m.end() if tail_m else end
    if place is not None and key is None:
        # Words not in the gazetteer are a place only before a date or an agency's bracket, and
        # never when they read as an organization's name. A listed organization is a place only
        # in a full agency dateline: "بارسلونا (اردو پوائنٹ … - آن لائن۔ …)" is the city.
        if not _learnable(place) or not (closed_date or agency_bracket or agency):
            return None
        if organization and not (agency_bracket and date_m is not None):
            return None
    elif place is None and not (date_m or agency_bracket):
        return None
    month_day = year = None
    if date_m is not None:
        month_day, year = _month_day(date_m)
    when = _resolve(month_day, year, published) if month_day else None
    while end > 0 and head[end - 1] in " \t":
        end -= 1
    return Dateline(place, key, agency, agency_key, when, end, month_day, year)


def _judge_place_only(head: str, span: tuple[int, int] | None, m: re.Match) -> Dateline | None:
    """``کراچی: 12 مارچ 1991 کو …``: a gazetteer place and a separator, the date the sentence's."""
    sep = m.group("sep")
    if span is None or sep is None or sep in ("،", ","):
        return None
    place = " ".join(head[span[0] : span[1]].split())
    key, _ = _place_key(place)
    if key is None:
        return None
    return Dateline(place, key, end=m.end("sep"))
