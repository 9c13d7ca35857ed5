"""The news agency or byline an article credits: ``agency``.

Agencies and their spellings come from ``gazetteer/agencies.tsv`` (through
``etl.enrich.gazetteers``, whose ``GAZETTEER_VERSION`` covers that file too). A surface marked
``byline`` there is also an ordinary word (آن لائن "online"), so it counts only inside a byline
bracket or as a closing credit; one marked ``any`` also counts in an attribution in the lead.
"""

from __future__ import annotations

import re
from functools import lru_cache

from etl.enrich.gazetteers import bounded, norm, table_rows, trie_regex


@lru_cache(maxsize=1)
def _agencies() -> tuple[dict[str, str], frozenset[str], re.Pattern]:
    """``({surface: key}, surfaces allowed outside bylines, bounded regex of all surfaces)``."""
    table: dict[str, str] = {}
    anywhere: set[str] = set()
    for key, where, surfaces in table_rows("agencies.tsv"):
        for s in [key, *surfaces.split("|")]:
            s = norm(s)
            table.setdefault(s, norm(key))
            if where.strip() == "any":
                anywhere.add(s)
    return table, frozenset(anywhere), bounded(trie_regex(table))


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
    before = body[: m.start()]
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
    before = text[: len(text) - 60 + m.start()] if len(text) > 60 else text[: m.start()]
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
            nxt = pattern.match(lead, m.end() + 1) if lead[m.end() : m.end() + 1] == " " else None
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
