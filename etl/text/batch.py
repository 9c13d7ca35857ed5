"""The cleaning half of the text stage over a whole batch of texts at once, with the per-text results.

``clean_batch(texts)`` returns, for every text, what ``repair_raw``, ``normalize`` and
``remove_boilerplate`` (then ``collapse_whitespace`` where furniture went) give it one at a time,
byte for byte; ``tests/test_text_batch.py`` and ``bench/text_identity.py`` check that. The work
runs as ``pyarrow.compute`` kernels (RE2 regexes over the whole column, C++ per character); the
rules that only Python can run exactly go through the per-text functions, on just the rows that a
vectorised guard flags:

* repairs: rows holding possible mojibake, ``<`` or ``&`` (``repair_raw``);
* normalization: rows where NFC could do more than join a base letter and one mark (two marks or
  decomposed characters in a row, characters at U+3000 or above, presentation forms), or holding
  Arabic heh (``normalize``); rows where a ۔ may sit inside an abbreviation of letter names
  (``finish``, the spacing half);
* furniture: rows holding a guard literal of a ``rules/boilerplate.tsv`` rule or the last word of
  a fingerprinted unit (``remove_boilerplate``).

Everything else is rewritten to RE2 form (a lookahead becomes a captured character put back) and
run on the column, each pass only on the rows whose guard matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from etl.text import rules
from etl.text.normalize import _TABLE, LETTERS, _char_class, collapse_whitespace, finish, prepare
from etl.text.repair import _MOJIBAKE, MIN_RUN, remove_fingerprinted, remove_patterns, repair_raw

#: NFC facts are worked out for code points below this; a text holding any above goes to Python.
_NFC_DOMAIN = 0x3000
_ARABIC_MARKS = (0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF)
_HANGUL_JAMO_VT = range(0x1161, 0x11C3)  # compose with what precedes them by rule, not by table
#: Marks the mixed digit pass puts between a number and the ء, ویں or واں that belong to it.
_KEEP = "\ufdd2"
_WS = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # str.isspace
_PUNCT = "۔،؟؛!?"


def _cls(codepoints) -> str:
    return f"[{_char_class(codepoints)}]"


@lru_cache(maxsize=1)
def _nfc_plan() -> tuple[str, str, dict[str, list[tuple[str, str]]]]:
    """The regex of rows whose NFC needs Python, the class of the characters NFC may touch, and
    per mark the (base + mark, composed) pairs of the other rows.

    Below ``_NFC_DOMAIN`` a character is *marked* when NFC may change it or what precedes it: a
    combining mark, one that composes with what precedes it, one that NFC replaces. Decomposable
    characters that NFC keeps (آ, ئ) are *composed*. A text is left alone by NFC except where a
    base and the mark after it have a primary composite, one fixed replacement per pair, when its
    marked characters each stand alone after a plain character (or at the start), and they are
    marks of the Arabic blocks; the other texts (two marks in a row, a mark after a composed
    character, anything at U+3000 or above) go to Python.
    """
    marked, seconds, composed, pairs = set(), set(_HANGUL_JAMO_VT), set(), []
    for cp in range(_NFC_DOMAIN):
        ch = chr(cp)
        dec = unicodedata.decomposition(ch)
        canonical = bool(dec) and not dec.startswith("<")
        if unicodedata.combining(ch) or unicodedata.normalize("NFC", ch) != ch:
            marked.add(cp)
        elif canonical:
            composed.add(cp)
        if canonical:
            parts = [chr(int(h, 16)) for h in dec.split()]
            seconds.update(ord(c) for c in parts[1:])
            if len(parts) == 2 and unicodedata.normalize("NFC", "".join(parts)) == ch:
                pairs.append(("".join(parts), ch))
    marked |= seconds
    composed -= marked
    # a composed character whose decomposition starts with one that could join what precedes it
    odd = {cp for cp in composed if ord(unicodedata.normalize("NFD", chr(cp))[0]) in marked}
    marked, composed = marked | odd, composed - odd
    fast = {cp for cp in marked if not unicodedata.decomposition(chr(cp)) and cp not in _HANGUL_JAMO_VT
            and unicodedata.normalize("NFC", chr(cp)) == chr(cp) and any(lo <= cp <= hi for lo, hi in _ARABIC_MARKS)}
    by_mark: dict[str, list[tuple[str, str]]] = {}
    for seq, c in pairs:
        if ord(seq[0]) not in marked | composed and ord(seq[1]) in fast:
            by_mark.setdefault(seq[1], []).append((seq, c))
    route = (f"[^\\x00-{chr(_NFC_DOMAIN - 1)}]|{_cls(marked)}{_cls(marked)}|{_cls(composed)}{_cls(marked)}"
             f"|{_cls(marked - fast)}")
    return route, _cls(marked), by_mark


@lru_cache(maxsize=1)
def _translate_passes() -> list[tuple[str, str]]:
    """``_TABLE`` as (character class, replacement) passes; the NFKC-folded forms are routed to Python."""
    by_value: dict[str, list[int]] = {}
    for cp, value in _TABLE.items():
        if cp < _NFC_DOMAIN:
            by_value.setdefault(value or "", []).append(cp)
    assert all(len(v) <= 1 and (not v or ord(v) not in _TABLE) for v in by_value), "a value the table maps again"
    return [(_cls(cps) + ("+" if not value else ""), value) for value, cps in sorted(by_value.items())]


def _letter_names_glued() -> str:
    names = "|".join(re.escape(n) for n in sorted(rules.letter_names(), key=len, reverse=True))
    return f"(?:{names}) *۔(?:{names})"


@lru_cache(maxsize=1)
def _boilerplate_guards() -> tuple[str, str, str]:
    """Regexes for the rows ``remove_boilerplate`` may change: a quick one for all rows, then, on
    the rows it matches, the rows a pattern rule may change (they hold one of its guard literals)
    and those a run of ``MIN_RUN`` fingerprinted units may end (they hold the last two words of
    each in one paragraph, the last ones at its end; the quick regex looks for the end only)."""
    literals = {g for _, _, guard in rules.boilerplate() for g in guard}
    rule = "|".join(re.escape(g) for g in sorted(literals, key=len, reverse=True) if g) or "$^"
    keys = sorted({key for by_last in rules.furniture_fingerprints().values() for key in by_last})
    if not keys:
        return rule, rule, "$^"
    unit = "(?:" + "|".join(f"[{_WS}]+".join(re.escape(w) for w in key.split(" ")) for key in keys) + ")"
    end = f"۔*[{_WS}]*(?:\\n|$)"
    return f"{rule}|{unit}{end}", rule, f"{unit}(?:[^\\n]*{unit}){{{MIN_RUN - 1}}}{end}"


def _remove_furniture(normalized) -> dict[int, tuple[str, str, Counter]]:
    """``remove_boilerplate`` of the rows it may change: ``{row: (text, result, counts)}``. The
    pattern half runs on the rows holding a guard literal; the fingerprint half on the rows whose
    text, after it, may end in a run of units."""
    import pyarrow as pa

    quick, rule, run = _boilerplate_guards()
    rows = _rows(normalized, quick)
    if not len(rows):
        return {}
    sub = normalized.take(rows)
    by_rule = rows[_rows(sub, rule)].tolist()
    out = {i: (text, text, Counter()) for i, text in zip(rows.tolist(), sub.to_pylist())}
    for i in by_rule:
        out[i] = (out[i][0], *remove_patterns(out[i][0]))
    after = pa.array([out[i][1] for i in by_rule], pa.string())
    to_peel = set(rows[_rows(sub, run)].tolist()) - set(by_rule)
    to_peel.update(by_rule[j] for j in _rows(after, run).tolist())
    for i in to_peel:
        text, result, counts = out[i]
        result, fingerprinted = remove_fingerprinted(result)
        out[i] = (text, result, counts + fingerprinted)
    return out


# ------------------------------------------------------------------------------- arrow helpers

def _rows(arr, pattern: str):
    """numpy indices of the rows matching ``pattern`` (RE2)."""
    import pyarrow.compute as pc

    return np.flatnonzero(pc.match_substring_regex(arr, pattern=pattern).to_numpy(zero_copy_only=False))


def _on_rows(arr, guard: str, fn):
    """``fn`` applied to the rows matching ``guard``, the others left as they are."""
    import pyarrow.compute as pc

    mask = pc.match_substring_regex(arr, pattern=guard)
    if not pc.any(mask).as_py():
        return arr
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask)))


def _put(arr, rows, values: list[str]):
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(rows):
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True  # rows are ascending, as replace_with_mask takes its values
    return pc.replace_with_mask(arr, pa.array(mask), pa.array(values, pa.string()))


def _sub(arr, pattern: str, replacement: str):
    import pyarrow.compute as pc

    return pc.replace_substring_regex(arr, pattern=pattern, replacement=replacement)


def _literal(arr, pattern: str, replacement: str):
    """Literal replacement (RE2 does it faster than ``replace_substring``)."""
    return _sub(arr, re.escape(pattern), replacement.replace("\\", "\\\\"))


# ------------------------------------------------------------------------------- normalization

def _compose(arr):
    """NFC pairs, then ``rules/compositions.tsv``, per mark on the rows holding it (a mark's
    replacements touch no other mark's)."""
    _, _, by_mark = _nfc_plan()
    steps: dict[str, list[tuple[str, str]]] = {m: list(p) for m, p in by_mark.items()}
    for seq, composed in rules.compositions():
        mark = re.search("[\u0653-\u0655]", seq)  # compose runs them on texts holding one of these
        assert mark
        steps.setdefault(mark.group(0), []).append((seq, composed))
    # no replacement makes what another one replaces, so the marks can go in any order
    assert not {c for r in steps.values() for _, out in r for c in out} & {c for r in steps.values() for s, _ in r for c in s}

    def per_mark(sub):
        for mark, replacements in steps.items():
            sub = _on_rows(sub, re.escape(mark), lambda a, r=replacements: _replace_all(a, r))
        return sub

    return _on_rows(arr, _cls(ord(m) for m in steps), per_mark)


def _replace_all(arr, replacements, replace=None):
    for pattern, replacement in replacements:
        arr = (replace or _literal)(arr, pattern, replacement)
    return arr


def _translate(arr):
    """The translate table: deletions on every row holding a table character, the rest on the few
    rows holding one of theirs."""
    passes = _translate_passes()
    drop = [p for p, value in passes if not value]
    others = [(p, value) for p, value in passes if value]

    def run(sub):
        for pattern in drop:
            sub = _sub(sub, pattern, "")
        return _on_rows(sub, "|".join(p for p, _ in others), lambda a: _replace_all(a, others, _sub))

    return _on_rows(arr, _cls(cp for cp in _TABLE if cp < _NFC_DOMAIN), run)


_SPACE_BEFORE = f" [{_PUNCT}]"
_GLUED = f"[{_PUNCT}][{LETTERS}]"
_MIXED = f"[{LETTERS}][0-9A-Za-z]|[0-9A-Za-z][{LETTERS}]"
#: (guard, pattern, replacement) of ``finish``, in its order; RE2 has no lookaround, so what a
#: lookahead looked at is captured and put back.
_FINISH = [
    (_SPACE_BEFORE, f" +([{_PUNCT}])", r"\1"),
    (_GLUED, f"([{_PUNCT}]+)([{LETTERS}])", r"\1 \2"),
    (_MIXED, None, None),
    ("\r", "\r\n?", "\n"),
    ("[ \t][ \t]", "[ \t]{2,}", " "),
    (" \n|\n ", " *\n *", "\n"),
    ("\n\n\n", "\n{3,}", "\n\n"),
]  # then str.strip: Arrow's utf8_trim_whitespace strips the same characters (tests/test_text_batch.py)
# Digits against letters get a space, except before the ء, ویں or واں of a number: those are
# marked first, so that the digit pass does not see a letter there.
_MIXED_PASSES = [
    ("([0-9])(ء|ویں|واں)", r"\1" + _KEEP + r"\2"),
    (f"([0-9])([{LETTERS}])", r"\1 \2"),
    (f"([{LETTERS}])([0-9])", r"\1 \2"),
    (_KEEP, ""),
    (f"([A-Za-z])([{LETTERS}])", r"\1 \2"),
    (f"([{LETTERS}])([A-Za-z])", r"\1 \2"),
]


def _finish(arr):
    """``finish`` of rows without a possible abbreviation of letter names."""
    for guard, pattern, replacement in _FINISH:
        if pattern is None:
            arr = _on_rows(arr, guard, lambda a: _replace_all(a, _MIXED_PASSES, _sub))
        else:
            arr = _on_rows(arr, guard, lambda a, p=pattern, r=replacement: _sub(a, p, r))
    return arr


def _prepare(arr, texts: list[str] | None = None):
    """``prepare`` of every element: in Arrow, except the rows whose NFC (or heh) needs Python."""
    route, _, _ = _nfc_plan()
    python = _rows(arr, f"{route}|\u0647")
    prepared = _translate(_compose(arr))
    return _put(prepared, python, [prepare(texts[i] if texts is not None else arr[i].as_py())
                                   for i in python.tolist()])


def _finish_all(arr):
    """``finish`` of every element: in Arrow, except the rows where a ۔ may be inside an
    abbreviation of letter names (or that hold the digit pass's mark), which go to Python."""
    import pyarrow.compute as pc

    mask = pc.match_substring_regex(arr, pattern="|".join(g for g, _, _ in _FINISH))
    sub = arr.filter(mask)
    python = _rows(sub, f"{_letter_names_glued()}|{_KEEP}")
    done = _put(_finish(sub), python, [finish(sub[int(i)].as_py()) for i in python])
    return pc.utf8_trim_whitespace(pc.replace_with_mask(arr, mask, done))


def _touched(arr):
    """The mask of rows that repairs or ``prepare`` may change, and those rows."""
    import pyarrow.compute as pc

    _, marked, _ = _nfc_plan()
    chars = {ord(c) for c in "<&ØÙÚÛ\u0647"} | {cp for cp in _TABLE if cp < _NFC_DOMAIN}
    mask = pc.match_substring_regex(arr, pattern=f"{_cls(chars)}|{marked}|[^\\x00-{chr(_NFC_DOMAIN - 1)}]")
    return mask, arr.filter(mask)


def normalize_batch(arr, texts: list[str] | None = None):
    """``normalize`` of every element of a pyarrow string array (no nulls); ``texts`` are its
    values as Python strings, when the caller has them."""
    import pyarrow.compute as pc

    mask, sub = _touched(arr)
    some = None if texts is None else [texts[i] for i in _flat(mask)]
    return _finish_all(pc.replace_with_mask(arr, mask, _prepare(sub, some)))


def _flat(mask):

    return np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist()


# ------------------------------------------------------------------------------- the whole half

@dataclass
class CleanBatch:
    """Per text: the clean body (pyarrow string array), repair and furniture counts as
    ``clean_record`` stores them (``None`` for none), the characters furniture removal took, and
    whether it took any."""

    bodies: object
    repairs: list[Counter | None]
    boilerplate_chars: list[int]
    furniture: list[bool]


def clean_batch(texts: list[str]) -> CleanBatch:
    """``repair_raw``, ``normalize``, ``remove_boilerplate`` (and ``collapse_whitespace`` after
    furniture) of every text, as ``etl.transform.clean_record`` runs them one by one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(texts)
    arr = pa.array(texts, pa.string())
    repairs: list[Counter | None] = [None] * n
    # the rows repairs or prepare may change; the others skip both
    mask, sub = _touched(arr)
    where = _flat(mask)
    some = [texts[i] for i in where]
    rows = _rows(sub, "[<&ØÙÚÛ]")
    rows = rows[_rows(sub.take(rows), f"{_MOJIBAKE.pattern}|[<&]")].tolist() if len(rows) else []
    for j in rows:
        some[j], counts = repair_raw(some[j])
        repairs[where[j]] = counts or None
    sub = _put(sub, rows, [some[j] for j in rows])
    normalized = _finish_all(pc.replace_with_mask(arr, mask, _prepare(sub, some)))
    boilerplate_chars, furniture = [0] * n, [False] * n
    removed = _remove_furniture(normalized)
    rows = sorted(i for i, (_, _, found) in removed.items() if found)
    bodies = []
    for i in rows:
        text, body, found = removed[i]
        body = collapse_whitespace(body)
        repairs[i] = (repairs[i] or Counter()) + found
        boilerplate_chars[i], furniture[i] = len(text) - len(body), True
        bodies.append(body)
    return CleanBatch(_put(normalized, rows, bodies), repairs, boilerplate_chars, furniture)
