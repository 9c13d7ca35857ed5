"""Repairs of damaged or decorated text: mojibake, HTML remnants, page furniture.

``repair_raw`` runs on text as read (before normalization), ``remove_boilerplate`` on normalized
text, with the patterns of ``rules/boilerplate.tsv``. Both return the counts of what they
changed, per rule, for the run report.
"""

from __future__ import annotations

import hashlib
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


#: Fewer fingerprinted units than this at the end of a paragraph are taken as article text (a
#: story's own lead can also appear once among the teasers of other pages).
MIN_RUN = 4


def _fingerprint(words: list[str]) -> str:
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:16]


def remove_fingerprinted(text: str, table: dict | None = None, min_run: int = MIN_RUN) -> tuple[str, Counter]:
    """Delete runs of known furniture units at the end of paragraphs, matched by fingerprint.

    ``table`` is ``rules.furniture_fingerprints()`` by default: ``{rule: {last two words: {word
    count: {digest}}}}``. Units are peeled off the end of each paragraph while its last words hash
    to a known unit; a run shorter than ``min_run`` is left alone. One set lookup per paragraph
    when nothing matches.
    """
    counts: Counter = Counter()
    table = rules.furniture_fingerprints() if table is None else table
    if not table:
        return text, counts
    last_words = _last_words(table)
    paragraphs = text.split("\n") if "\n" in text else [text]
    for i, para in enumerate(paragraphs):
        tail = para.rsplit(None, 2)[-2:]
        tail[-1:] = [w.rstrip("۔") for w in tail[-1:]]
        if " ".join(tail) not in last_words:
            continue  # the common case: the paragraph does not end in a known unit
        for rule, by_last in table.items():
            words = para.split()
            k, peeled = len(words), 0
            while k > 1:
                lengths = by_last.get(f"{words[k - 2]} {words[k - 1].rstrip('۔')}")
                if not lengths:
                    break
                for n in sorted(lengths, reverse=True):
                    if n <= k:
                        window = words[k - n : k]
                        window[-1] = window[-1].rstrip("۔")
                        if _fingerprint(window) in lengths[n]:
                            k, peeled = k - n, peeled + 1
                            break
                else:
                    break
            if peeled >= min_run:
                para = " ".join(words[:k])
                counts[rule] += 1
        paragraphs[i] = para
    return ("\n".join(paragraphs) if counts else text), counts


def _last_words(table: dict) -> frozenset[str]:
    key = id(table)
    if _LAST_WORDS[0] != key:
        _LAST_WORDS[:] = [key, frozenset(w for by_last in table.values() for w in by_last)]
    return _LAST_WORDS[1]


_LAST_WORDS: list = [None, frozenset()]


def remove_patterns(text: str) -> tuple[str, Counter]:
    """Delete the matches of the patterns of ``rules/boilerplate.tsv`` (the first half of ``remove_boilerplate``)."""
    counts: Counter = Counter()
    for name, pattern, guard in rules.boilerplate():
        if any(map(text.__contains__, guard)):
            text, n = pattern.subn(" ", text)
            if n:
                counts[name] += n
    return text, counts


def remove_boilerplate(text: str) -> tuple[str, Counter]:
    """Delete page furniture: the patterns of ``rules/boilerplate.tsv``, then fingerprinted blocks."""
    text, counts = remove_patterns(text)
    text, fingerprinted = remove_fingerprinted(text)
    return text, counts + fingerprinted
