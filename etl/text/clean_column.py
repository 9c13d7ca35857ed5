"""The cleaning half of the text stage over a whole column of texts at once: the specification's result.

``clean_batch(texts)`` returns, for every text, what ``repair_raw``, ``normalize`` and
``remove_boilerplate`` (then ``collapse_whitespace`` where furniture went) give it one at a time,
byte for byte; ``tests/test_text_batch.py`` and ``bench/text_identity.py`` check that. The column
goes to Arrow once. ``normalize`` runs as one compiled scan of it
(``etl.text.compiled.normalize_scan``); the rules that only Python can run exactly go through the
per-text functions, on just the rows that a guard flags:

* repairs: rows holding possible mojibake, ``<`` or ``&`` (``repair_raw``; the scan flags them);
* normalization: rows whose NFC is more than a base and one mark, or holding Arabic heh
  (``prepare``, flagged by the scan); rows where a ۔ may be inside an abbreviation of letter
  names (``finish``: the scan flags a ۔ between letters, an RE2 pass checks the letter names);
* furniture: rows holding a guard literal of a ``rules/boilerplate.tsv`` rule or the last word of
  a fingerprinted unit (``remove_boilerplate``, RE2 guards).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from etl.text import rules
from etl.text.compiled import normalize_scan
from etl.text.normalize import finish, prepare
from etl.text.repair import _MOJIBAKE, MIN_RUN, remove_fingerprinted, remove_patterns, repair_raw

if TYPE_CHECKING:
    import pyarrow as pa

_WS = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # str.isspace


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
    text, after it, may end in a run of units. Only those rows become Python strings."""
    import pyarrow as pa

    quick, rule, run = _boilerplate_guards()
    rows = _rows(normalized, quick)
    if not len(rows):
        return {}
    by_rule = rows[_rows(normalized.take(rows), rule)]
    out = {i: (text, *remove_patterns(text)) for i, text in zip(by_rule.tolist(), normalized.take(by_rule).to_pylist())}
    others = np.setdiff1d(rows, by_rule)
    after = pa.concat_arrays([normalized.take(others), pa.array([out[i][1] for i in by_rule.tolist()], pa.string())])
    ends = _rows(after, run)
    for i, text in zip(np.concatenate([others, by_rule])[ends].tolist(), after.take(ends).to_pylist()):
        result, fingerprinted = remove_fingerprinted(text)
        before, _, counts = out.get(i, (text, text, Counter()))
        out[i] = (before, result, counts + fingerprinted)
    return out


# ------------------------------------------------------------------------------- arrow helpers


def _rows(arr, pattern: str):
    """numpy indices of the rows matching ``pattern`` (RE2)."""
    import pyarrow.compute as pc

    return np.flatnonzero(pc.match_substring_regex(arr, pattern=pattern).to_numpy(zero_copy_only=False))


def _put(arr, rows, values: list[str]):
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(rows):
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True  # rows are ascending, as replace_with_mask takes its values
    return pc.replace_with_mask(arr, pa.array(mask), pa.array(values, pa.string()))


# ------------------------------------------------------------------------------- normalization


def _normalize(arr, texts: list[str] | None, repairs: list[Counter | None] | None = None):
    """``normalize`` of every element of ``arr``, whose values as Python strings are ``texts``
    (when the caller has them); with ``repairs`` (a list to fill, per row, and ``texts`` given),
    ``repair_raw`` first, as ``clean_record`` runs it.

    The scan does every row it can; the others come back with a status and go through Python,
    then through the scan again for what is left: repairs, then ``prepare``, then the abbreviation
    check. Their values are collected and put into the column once."""
    import pyarrow as pa

    def scan(rows, values, mode):
        again, status[rows] = normalize_scan.clean(pa.array(values, pa.string()), np.full(len(rows), mode, np.uint8))
        fixed.update(zip(rows.tolist(), again.to_pylist()))

    modes = None if repairs is not None else np.full(len(arr), normalize_scan.REPAIRED, dtype=np.uint8)
    out, status = normalize_scan.clean(arr, modes)
    fixed: dict[int, str] = {}
    rows = np.flatnonzero(status == normalize_scan.NEEDS_REPAIR)
    if len(rows):
        # only a FULL row (modes None: repairs given, and with them texts) can need repairs
        assert texts is not None and repairs is not None
        texts = list(texts)  # the rows' texts as prepare sees them
        for i in rows.tolist():
            if _MOJIBAKE.search(texts[i]) or "<" in texts[i] or "&" in texts[i]:
                texts[i], counts = repair_raw(texts[i])
                repairs[i] = counts or None
        scan(rows, [texts[i] for i in rows.tolist()], normalize_scan.REPAIRED)
    rows = np.flatnonzero(status == normalize_scan.NEEDS_PREPARE)
    if len(rows):
        scan(
            rows,
            [prepare(texts[i] if texts is not None else arr[i].as_py()) for i in rows.tolist()],
            normalize_scan.FINISH,
        )
    rows = np.flatnonzero(status == normalize_scan.NEEDS_CHECK)
    if len(rows):
        values = [fixed[i] if i in fixed else out[i].as_py() for i in rows.tolist()]
        python = set(_rows(pa.array(values, pa.string()), _letter_names_glued()).tolist())
        scan(rows, values, normalize_scan.FORCE)
        fixed.update((int(rows[j]), finish(values[j])) for j in python)
    order = sorted(fixed)
    return _put(out, order, [fixed[i] for i in order])


def normalize_batch(arr, texts: list[str] | None = None):
    """``normalize`` of every element of a pyarrow string array (no nulls); ``texts`` are its
    values as Python strings, when the caller has them."""
    return _normalize(arr, texts)


# ------------------------------------------------------------------------------- the whole half


@dataclass
class CleanBatch:
    """Per text: the clean body (pyarrow string array), repair and furniture counts as
    ``clean_record`` stores them (``None`` for none), the characters furniture removal took, and
    whether it took any."""

    bodies: pa.Array
    repairs: list[Counter | None]
    boilerplate_chars: list[int]
    furniture: list[bool]


def clean_batch(texts: list[str]) -> CleanBatch:
    """``repair_raw``, ``normalize``, ``remove_boilerplate`` (and ``collapse_whitespace`` after
    furniture) of every text, as ``etl.articles.clean_record`` runs them one by one."""
    import pyarrow as pa

    n = len(texts)
    arr = pa.array(texts, pa.string())
    repairs: list[Counter | None] = [None] * n
    normalized = _normalize(arr, texts, repairs)
    boilerplate_chars, furniture = [0] * n, [False] * n
    removed = _remove_furniture(normalized)
    rows = sorted(i for i, (_, _, found) in removed.items() if found)
    after = pa.array([removed[i][1] for i in rows], pa.string())
    bodies = normalize_scan.clean(after, np.full(len(rows), normalize_scan.COLLAPSE, dtype=np.uint8))[0].to_pylist()
    for i, body in zip(rows, bodies):
        text, _, found = removed[i]
        repairs[i] = (repairs[i] or Counter()) + found
        boilerplate_chars[i], furniture[i] = len(text) - len(body), True
    return CleanBatch(_put(normalized, rows, bodies), repairs, boilerplate_chars, furniture)
