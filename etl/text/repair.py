"""Repairs of damaged or decorated text: mojibake, HTML remnants, page furniture.

``repair_raw`` runs on text as read (before normalization), ``remove_boilerplate`` on normalized
text, with the patterns of ``rules/boilerplate.tsv``. Both return the counts of what they
changed, per rule, for the run report.
"""

from __future__ import annotations

import html
import re
from collections import Counter

from etl.text import rules

# UTF-8 Urdu decoded as cp1252/latin-1 shows up as Ø/Ù/Ú/Û followed by a cp1252 character
# standing for a continuation byte (Ø§Ù„ for ال).
_MOJIBAKE = re.compile("[ØÙÚÛ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
_BLOCK_TAG = re.compile(r"<\s*(?:br|/?p|/?div|/?li|/?h[1-6]|/?tr)\b[^<>]{0,200}>", re.I)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]{0,15}(?:\s[^<>]{0,500})?/?>")


def fix_mojibake(text: str) -> tuple[str, int]:
    """Undo UTF-8-read-as-cp1252 damage with ftfy; returns the text and 1 if it changed."""
    if not _MOJIBAKE.search(text):
        return text, 0
    import ftfy

    fixed = ftfy.fix_encoding(text)
    return fixed, int(fixed != text)


def strip_html(text: str) -> tuple[str, Counter]:
    """Decode HTML entities and drop tags (block tags become line breaks)."""
    counts: Counter = Counter()
    if "<" in text:
        text, n = _BLOCK_TAG.subn("\n", text)
        counts["html_block_tag"] += n
        text, n = _TAG.subn(" ", text)
        counts["html_tag"] += n
    if "&" in text:
        n = len(_ENTITY.findall(text))
        if n:
            text = html.unescape(text)
            counts["html_entity"] += n
    return text, counts


def repair_raw(text: str) -> tuple[str, Counter]:
    """Mojibake and HTML repairs of raw text, with counts per repair."""
    text, mojibake = fix_mojibake(text)
    text, counts = strip_html(text)
    if mojibake:
        counts["mojibake"] += 1
    return text, +counts


def remove_boilerplate(text: str) -> tuple[str, Counter]:
    """Delete page furniture matched by ``rules/boilerplate.tsv``; counts matches per rule."""
    counts: Counter = Counter()
    for name, pattern in rules.boilerplate():
        text, n = pattern.subn(" ", text)
        if n:
            counts[name] += n
    return text, counts
