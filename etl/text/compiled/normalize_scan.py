"""The character rules and spacing rules of ``normalize`` as one compiled scan of a string column.

``clean(arr)`` runs, per row of a pyarrow string array, what ``prepare`` then ``finish`` do
(``etl/text/normalize.py``), in one pass over the array's UTF-8 bytes compiled by numba: decode,
compose a base and its mark, the translate table, then the spacing rules, each a loop over the
row's code points in the order ``finish`` runs its regexes, and encode. The rules stay where they
are (the rule files, ``normalize.py``): the tables the scan reads are built from them, and from
``unicodedata`` and ``str.isspace`` directly, when the module is first used. What the scan cannot
do exactly it hands back instead of guessing:

* ``NEEDS_REPAIR``: the row holds ``<``, ``&`` or a lead character of mojibake, and may need
  ``repair_raw`` before anything else. It comes back unchanged; the caller repairs it and runs it
  again as ``REPAIRED``.
* ``NEEDS_PREPARE``: the row's NFC may be more than one fixed replacement per base + mark (two
  marks in a row, a mark after a precomposed letter, a combining mark outside the Arabic blocks or
  another character NFC changes, any character at U+3000 or above), or it holds an Arabic heh,
  whose form depends on the letters around it. The row comes back unchanged, for ``prepare``.
* ``NEEDS_CHECK``: a ۔ between letters (spaces before it allowed) may sit inside an abbreviation
  of letter names (پی۔ٹی۔آئی), which ``finish`` spaces differently. The row comes back prepared
  but not finished (nor stripped); the caller checks its letter names and runs it again with ``FORCE`` or through
  ``finish``.

``tests/test_text_batch.py`` and ``bench/text_identity.py`` hold it to the per-text functions,
byte for byte.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

from etl.text.compiled import njit, string_buffers, utf8_at

#: A row's mode on input: both halves; both, the row's repairs done; finish only; finish without
#: the abbreviation check; ``collapse_whitespace`` only.
FULL, FINISH, FORCE, REPAIRED, COLLAPSE = 0, 1, 2, 3, 4
#: A row's status on output.
DONE, NEEDS_PREPARE, NEEDS_CHECK, NEEDS_REPAIR = 0, 1, 2, 3

#: Rows are scanned in slices of at most this many input bytes, so that a slice's output (at most
#: twice its input with today's rules) stays within the 32-bit offsets of an Arrow string array.
CHUNK_BYTES = 1 << 29

_LIMIT = 0x3000  # prepare's tables cover code points below this; a row holding more goes to Python
# finish's class ids of code points: CLASS_LETTER an Urdu letter, CLASS_DIGIT an ASCII digit,
# CLASS_LATIN a Latin letter, CLASS_PUNCT one of ، ؟ ؛ ! ?, CLASS_DANDA ۔, CLASS_SPACE a space,
# CLASS_TAB a tab, CLASS_NEWLINE a newline, CLASS_CR a CR, CLASS_OTHER anything else (and the
# class before a row's first character)
_CLASS_IDS = (
    CLASS_OTHER,
    CLASS_LETTER,
    CLASS_DIGIT,
    CLASS_LATIN,
    CLASS_PUNCT,
    CLASS_DANDA,
    CLASS_SPACE,
    CLASS_TAB,
    CLASS_NEWLINE,
    CLASS_CR,
) = tuple(range(10))
# the scan tests two groups by range, one compare instead of two: a newline or a CR
# (``c >= CLASS_NEWLINE``, the last two ids), a space or a tab (``CLASS_SPACE <= c <= CLASS_TAB``)
assert CLASS_NEWLINE + 1 == CLASS_CR == max(_CLASS_IDS) and CLASS_SPACE + 1 == CLASS_TAB
_CLASSES = 16  # the side of the steps table, indexed by a pair of class ids
assert max(_CLASS_IDS) < _CLASSES
# prepare's classes
_MARKED, _COMPOSED, _ROUTE, _REPAIR, _CHANGE = 1, 2, 4, 8, 16
# what a row needs of prepare, as _decode_scan finds it: a change; Python (see the module
# docstring); perhaps repairs
_FOUND_CHANGE, _FOUND_PYTHON, _FOUND_REPAIR = 1, 2, 4
# _decode_scan turns a character's _REPAIR and _CHANGE into their found bits by shifts, without a branch
_REPAIR_SHIFT, _CHANGE_SHIFT = 1, 4
assert _REPAIR >> _REPAIR_SHIFT == _FOUND_REPAIR and _CHANGE >> _CHANGE_SHIFT == _FOUND_CHANGE
_FINISH_LIMIT = 0x3001  # str.isspace is false above U+3000
# the steps of finish a row needs
_STEP_SPACE_BEFORE, _STEP_INSERT, _STEP_CR, _STEP_RUNS, _STEP_EDGES, _STEP_NEWLINES, _ABBREVIATION = (
    1,
    2,
    4,
    8,
    16,
    32,
    64,
)


_HANGUL_JAMO_VT = range(0x1161, 0x11C3)  # compose with what precedes them by rule, not by table
_ARABIC_MARKS = (0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF)


@lru_cache(maxsize=1)
def nfc_plan() -> tuple[set[int], set[int], set[int], dict[str, list[tuple[str, str]]]]:
    """What NFC may do below U+3000: the *marked* code points, the *composed* ones, the *fast*
    marks, and per fast mark its (base + mark, composed) pairs.

    A character is *marked* when NFC may change it or what precedes it: a combining mark, one that
    composes with what precedes it, one that NFC replaces. Decomposable characters that NFC keeps
    (آ, ئ) are *composed*. NFC leaves a text alone except where a base and the mark after it have a
    primary composite, one fixed replacement per pair, when each marked character stands alone
    after a plain character (or at the start) and is a *fast* mark: a mark of the Arabic blocks
    without a decomposition. Other texts (two marks in a row, a mark after a composed character,
    another marked character, anything at U+3000 or above) need ``unicodedata``.
    """
    marked, seconds, composed, pairs = set(), set(_HANGUL_JAMO_VT), set(), []
    for cp in range(_LIMIT):
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
    fast = {
        cp
        for cp in marked
        if not unicodedata.decomposition(chr(cp))
        and cp not in _HANGUL_JAMO_VT
        and unicodedata.normalize("NFC", chr(cp)) == chr(cp)
        and any(lo <= cp <= hi for lo, hi in _ARABIC_MARKS)
    }
    by_mark: dict[str, list[tuple[str, str]]] = {}
    for seq, c in pairs:
        if ord(seq[0]) not in marked | composed and ord(seq[1]) in fast:
            by_mark.setdefault(seq[1], []).append((seq, c))
    return marked, composed, fast, by_mark


@lru_cache(maxsize=1)
def tables() -> tuple:
    """The arrays the scan reads, built from the rules and from ``unicodedata``."""
    import re

    from etl.text import rules
    from etl.text.normalize import _TABLE, LETTERS

    marked, composed, fast, by_mark = nfc_plan()
    prep = np.zeros(_LIMIT, dtype=np.uint8)
    for cp in marked:
        prep[cp] |= _MARKED
        if cp not in fast:
            prep[cp] |= _ROUTE
    for cp in composed:
        prep[cp] |= _COMPOSED
    prep[0x0647] |= _ROUTE  # Arabic heh: ہ or ھ by context, in Python
    for ch in "<&ØÙÚÛ":
        prep[ord(ch)] |= _REPAIR

    # base + mark -> composed letter: compositions.tsv, then NFC's pairs over them (NFC runs first)
    marks = sorted({ord(seq[1]) for seq, _ in rules.compositions()} | {ord(m) for m in by_mark})
    slot = np.full(_LIMIT, -1, dtype=np.int8)
    compose = np.zeros((max(len(marks), 1), _LIMIT), dtype=np.int32)
    for i, m in enumerate(marks):
        slot[m] = i
    for seq, out in rules.compositions():
        assert len(seq) == 2 and len(out) == 1 and ord(seq[0]) < _LIMIT and ord(seq[0]) not in marked | composed, seq
        compose[slot[ord(seq[1])], ord(seq[0])] = ord(out)
    for mark, pairs in by_mark.items():
        for seq, out in pairs:
            compose[slot[ord(mark)], ord(seq[0])] = ord(out)

    # the translate table: -1 keeps the character, else an index into the replacements
    translate = np.full(_LIMIT, -1, dtype=np.int32)
    values: list[str] = []
    for cp, value in _TABLE.items():
        if cp < _LIMIT:
            translate[cp] = len(values)
            values.append(value or "")
    rep_off = np.zeros(len(values) + 1, dtype=np.int32)
    rep_off[1:] = np.cumsum([len(v) for v in values])
    rep = np.array([ord(c) for v in values for c in v] or [0], dtype=np.int32)
    # how much prepare may lengthen a row, in code points and in UTF-8 bytes (the buffers allow it)
    grow = max(
        [1]
        + [
            max(len(v), -(-len(v.encode()) // len(chr(cp).encode())))
            for cp, v in zip((cp for cp in _TABLE if cp < _LIMIT), values)
        ]
    )
    prep[(translate >= 0) | (slot >= 0)] |= _CHANGE
    assert not any(c == "\u0647" or ord(c) >= _LIMIT for v in values for c in v), (
        "the table makes a heh or a wide character"
    )

    letters = re.compile(f"[{LETTERS}]")
    assert all(letters.fullmatch(c) for name in rules.letter_names() for c in name)
    # the scan that says which steps of finish a row needs, and the steps themselves: a class id
    # per code point, and per pair of neighbours the steps they call for
    ids = np.zeros(_FINISH_LIMIT, dtype=np.uint8)
    for cp in range(_FINISH_LIMIT):
        ch = chr(cp)
        ids[cp] = (
            CLASS_LETTER
            if letters.match(ch)
            else CLASS_DIGIT
            if "0" <= ch <= "9"
            else CLASS_LATIN
            if ch.isascii() and ch.isalpha()
            else CLASS_DANDA
            if ch == "۔"
            else CLASS_PUNCT
            if ch in "،؟؛!?"
            else CLASS_SPACE
            if ch == " "
            else CLASS_TAB
            if ch == "\t"
            else CLASS_NEWLINE
            if ch == "\n"
            else CLASS_CR
            if ch == "\r"
            else CLASS_OTHER
        )
    white = np.array([chr(cp).isspace() for cp in range(_FINISH_LIMIT)], dtype=np.bool_)  # str.strip's
    punct = (CLASS_PUNCT, CLASS_DANDA)
    digit_latin = (CLASS_DIGIT, CLASS_LATIN)
    blank = (CLASS_SPACE, CLASS_TAB)
    line = (CLASS_NEWLINE, CLASS_CR)
    steps = np.zeros((_CLASSES, _CLASSES), dtype=np.uint8)
    for left in range(_CLASSES):
        for right in range(_CLASSES):
            f = 0
            if left == CLASS_SPACE and right in punct:
                f |= _STEP_SPACE_BEFORE
            if (
                (left in punct and right == CLASS_LETTER)
                or (left == CLASS_LETTER and right in digit_latin)
                or (left in digit_latin and right == CLASS_LETTER)
            ):
                f |= _STEP_INSERT
            if left in blank and right in blank:
                f |= _STEP_RUNS
            if (left in blank and right in line) or (left in line and right in blank):
                f |= _STEP_EDGES
            steps[left, right] = f
    return prep, slot, compose, translate, rep_off, rep, white, ids, steps.reshape(-1), grow


def clean(arr, modes=None):
    """``prepare`` then ``finish`` of every row of a pyarrow string array (no nulls), as far as the
    scan can go: returns the new array and each row's status (numpy uint8: ``DONE``,
    ``NEEDS_REPAIR``, ``NEEDS_PREPARE`` or ``NEEDS_CHECK``). ``modes`` (numpy uint8, default all
    ``FULL``) says per row whether to run both halves (``FULL``), both without the repairs check
    (``REPAIRED``), ``finish`` only (``FINISH``), ``finish`` without the abbreviation check
    (``FORCE``), or its whitespace steps only, which are ``collapse_whitespace`` (``COLLAPSE``)."""
    import pyarrow as pa

    if not pa.types.is_string(arr.type) or arr.null_count:
        raise TypeError(f"the scan takes a string array without nulls, not {arr.type} with {arr.null_count} nulls")
    n = len(arr)
    if not n:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.uint8)
    if modes is None:
        modes = np.zeros(n, dtype=np.uint8)
    offsets, _ = string_buffers(arr)
    longest = int(np.max(np.diff(offsets)))
    if 2 * tables()[-1] * longest > 2**31 - 1:
        raise ValueError(f"a text of {longest:,} bytes is too long for the scan")
    if offsets[-1] - offsets[0] <= CHUNK_BYTES:
        return _clean_slice(arr, offsets, modes)
    parts, start, wide = [], 0, offsets.astype(np.int64)  # slices of whole rows
    while start < n:
        end = max(start + 1, int(np.searchsorted(wide, wide[start] + CHUNK_BYTES, side="right")) - 1)
        parts.append(_clean_slice(arr.slice(start, end - start), offsets[start : end + 1], modes[start:end]))
        start = end
    return pa.concat_arrays([p for p, _ in parts]), np.concatenate([s for _, s in parts])


def _clean_slice(arr, offsets, modes):
    import pyarrow as pa

    n = len(arr)
    _, data = string_buffers(arr)
    out, size, out_offsets, status = _clean(data, offsets, modes, *tables())
    result = pa.StringArray.from_buffers(n, pa.py_buffer(out_offsets), pa.py_buffer(out)[:size])
    return result, status


# ----------------------------------------------------------------------------------- the scan


@njit(nogil=True)
def _encode(buf, n, out, pos):
    """Code points ``buf[:n]`` as UTF-8 into ``out`` from ``pos``; returns the new position."""
    for k in range(n):
        cp = buf[k]
        if cp < 0x80:
            out[pos] = cp
            pos += 1
        elif cp < 0x800:
            out[pos] = 0xC0 | (cp >> 6)
            out[pos + 1] = 0x80 | (cp & 0x3F)
            pos += 2
        elif cp < 0x10000:
            out[pos] = 0xE0 | (cp >> 12)
            out[pos + 1] = 0x80 | ((cp >> 6) & 0x3F)
            out[pos + 2] = 0x80 | (cp & 0x3F)
            pos += 3
        else:
            out[pos] = 0xF0 | (cp >> 18)
            out[pos + 1] = 0x80 | ((cp >> 12) & 0x3F)
            out[pos + 2] = 0x80 | ((cp >> 6) & 0x3F)
            out[pos + 3] = 0x80 | (cp & 0x3F)
            pos += 4
    return pos


@njit(nogil=True, inline="always")
def _step(state, cp, ids, steps):
    """The scan for ``finish``'s steps, one code point further: ``state`` is (the ``_STEP_*`` bits
    so far and ``_ABBREVIATION`` for a ۔ with letters on both sides, spaces before it allowed; the
    newlines; the previous class id; whether the last character before any spaces is a letter;
    whether it was, before the last ۔). The bits are of the text before any step, and they cover
    the work a step makes for a later one: a CR becomes a newline (so it sets the edge and newline
    steps); a run of spaces and tabs beside a newline becomes one space there (the edge step looks
    at tabs too); spaces taken from between newlines join them (the newline step runs on any text
    holding three newlines or CRs, in a row or not). Space removal and insertion make no work for
    a later step."""
    flags, newlines, prev, word, word_before_dot = state
    c = _id(ids, cp)
    flags |= steps[prev * _CLASSES + c]
    if c >= CLASS_NEWLINE:  # a newline or a CR, the last two class ids
        newlines += 1
        if c == CLASS_CR:  # its newline may need the edge and newline steps
            flags |= _STEP_CR | _STEP_EDGES | _STEP_NEWLINES
    elif c == CLASS_DANDA:
        word_before_dot = word
    elif c == CLASS_LETTER and prev == CLASS_DANDA and word_before_dot:
        flags |= _ABBREVIATION
    if c != CLASS_SPACE:
        word = c == CLASS_LETTER
    return flags, newlines, c, word, word_before_dot


@njit(nogil=True, inline="always")
def _steps(state):
    """The bits of a finished scan."""
    return state[0] | _STEP_NEWLINES if state[1] >= 3 else state[0]


@njit(nogil=True)
def _prepare(src, n, dst, slot, compose, translate, rep_off, rep, ids, steps):
    """``prepare`` of ``src[:n]`` (a row the scan passed) into ``dst``: returns its length and the
    steps of ``finish`` it needs."""
    state = (0, 0, CLASS_OTHER, False, False)
    m = 0
    k = 0
    while k < n:
        cp = src[k]
        if k + 1 < n:
            s = slot[src[k + 1]]
            if s >= 0 and compose[s, cp] != 0:
                cp = compose[s, cp]
                k += 1
        t = translate[cp]
        if t < 0:
            dst[m] = cp
            m += 1
            state = _step(state, cp, ids, steps)
        else:
            for j in range(rep_off[t], rep_off[t + 1]):
                dst[m] = rep[j]
                m += 1
                state = _step(state, rep[j], ids, steps)
        k += 1
    return m, _steps(state)


@njit(nogil=True)
def _is_white(white, cp):
    return cp < _FINISH_LIMIT and white[cp]


@njit(nogil=True, inline="always")
def _id(ids, cp):
    return ids[cp] if cp < _FINISH_LIMIT else CLASS_OTHER


@njit(nogil=True)
def _decode_scan(data, start, end, buf, prep, ids, steps):
    """UTF-8 bytes ``data[start:end]`` into code points in ``buf``, and what the row needs, in the
    same loop: returns the number of code points; what ``prepare`` would do (``_FOUND_CHANGE``,
    change the row: a character of the table, a mark that may compose; ``_FOUND_PYTHON``, it needs
    Python, see the module docstring; ``_FOUND_REPAIR``, it may need repairs: ``<``, ``&``, the lead
    characters of mojibake); and the steps of ``finish`` it needs."""
    n = 0
    i = start
    found = 0
    pc = 0  # prepare's class of the previous code point
    state = (0, 0, CLASS_OTHER, False, False)
    while i < end:
        cp, width = utf8_at(data, i)
        i += width
        buf[n] = cp
        n += 1
        if cp >= _LIMIT:
            found |= _FOUND_PYTHON
            pc = 0
        else:
            p = prep[cp]
            if p:
                # a character for Python, or a mark after a mark or a precomposed letter
                if p & _ROUTE or (p & _MARKED and pc & (_MARKED | _COMPOSED)):
                    found |= _FOUND_PYTHON
                found |= (p & _REPAIR) >> _REPAIR_SHIFT | (p & _CHANGE) >> _CHANGE_SHIFT  # _FOUND_REPAIR, _FOUND_CHANGE
            pc = p
        state = _step(state, cp, ids, steps)
    return n, found, _steps(state)


@njit(nogil=True)
def _finish(a, n, b, ids, steps, flags):
    """``finish`` of ``a[:n]``, using ``b`` (as large as ``a``) as scratch; returns the array that
    holds the result, the other one and the result's length. Each step is one of ``finish``'s, in
    its order, run when ``flags`` (from ``_steps``) says the row needs it."""
    if flags & _STEP_SPACE_BEFORE:
        a, b, n = _space_before(a, n, b, ids, steps)
    if flags & _STEP_INSERT:
        a, b, n = _insert_spaces(a, n, b, ids, steps)
    if flags & _STEP_CR:
        a, b, n = _carriage_returns(a, n, b)
    if flags & _STEP_RUNS:
        a, b, n = _runs(a, n, b, ids)
    if flags & _STEP_EDGES:
        a, b, n = _edges(a, n, b)
    if flags & _STEP_NEWLINES:
        a, b, n = _newlines(a, n, b)
    return a, b, n


@njit(nogil=True)
def _space_before(a, n, b, ids, steps):
    """No run of spaces before ۔ ، ؟ ؛ ! ?"""
    m = 0
    k = 0
    while k < n:
        if a[k] == 0x20:
            j = k
            while j < n and a[j] == 0x20:
                j += 1
            if not (j < n and steps[CLASS_SPACE * _CLASSES + _id(ids, a[j])] & _STEP_SPACE_BEFORE):
                for _ in range(k, j):
                    b[m] = 0x20
                    m += 1
            k = j
        else:
            b[m] = a[k]
            m += 1
            k += 1
    return b, a, m


@njit(nogil=True)
def _insert_spaces(a, n, b, ids, steps):
    """One space after a run of ۔ ، ؟ ؛ ! ? before a letter; digits and Latin letters apart from
    Urdu letters, except the ء, ویں or واں after a number. Where is the ``steps`` table's
    ``_STEP_INSERT``, the same that decides whether a row needs this step."""
    m = 0
    for k in range(n):
        cp = a[k]
        if k > 0:
            left = _id(ids, a[k - 1])
            space = steps[left * _CLASSES + _id(ids, cp)] & _STEP_INSERT
            if space and left == CLASS_DIGIT:  # a digit, then a letter
                space = not (
                    cp == 0x0621
                    or (cp == 0x0648 and k + 2 < n and a[k + 1] == 0x06CC and a[k + 2] == 0x06BA)
                    or (cp == 0x0648 and k + 2 < n and a[k + 1] == 0x0627 and a[k + 2] == 0x06BA)
                )
            if space:
                b[m] = 0x20
                m += 1
        b[m] = cp
        m += 1
    return b, a, m


@njit(nogil=True)
def _carriage_returns(a, n, b):
    """\r\n and \r to \n."""
    m = 0
    k = 0
    while k < n:
        cp = a[k]
        if cp == 0x0D:
            b[m] = 0x0A
            if k + 1 < n and a[k + 1] == 0x0A:
                k += 1
        else:
            b[m] = cp
        m += 1
        k += 1
    return b, a, m


@njit(nogil=True)
def _runs(a, n, b, ids):
    """Runs of two or more spaces and tabs (``CLASS_SPACE`` to ``CLASS_TAB``) to one space."""
    m = 0
    k = 0
    while k < n:
        if CLASS_SPACE <= _id(ids, a[k]) <= CLASS_TAB:
            j = k + 1
            while j < n and CLASS_SPACE <= _id(ids, a[j]) <= CLASS_TAB:
                j += 1
            b[m] = a[k] if j == k + 1 else 0x20
            m += 1
            k = j
        else:
            b[m] = a[k]
            m += 1
            k += 1
    return b, a, m


@njit(nogil=True)
def _edges(a, n, b):
    """No spaces at line edges."""
    m = 0
    for k in range(n):
        cp = a[k]
        if cp == 0x20 and ((k > 0 and a[k - 1] == 0x0A) or (k + 1 < n and a[k + 1] == 0x0A)):
            continue
        b[m] = cp
        m += 1
    return b, a, m


@njit(nogil=True)
def _newlines(a, n, b):
    """At most two newlines in a row."""
    m = 0
    run = 0
    for k in range(n):
        cp = a[k]
        if cp == 0x0A:
            run += 1
            if run > 2:
                continue
        else:
            run = 0
        b[m] = cp
        m += 1
    return b, a, m


@njit(nogil=True)
def _width(cp):
    return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4


@njit(nogil=True)
def _clean(data, offsets, modes, prep, slot, compose, translate, rep_off, rep, white, ids, steps, grow):
    rows = len(offsets) - 1
    status = np.zeros(rows, dtype=np.uint8)
    out_offsets = np.zeros(rows + 1, dtype=np.int32)
    widest = 0
    for r in range(rows):
        widest = max(widest, offsets[r + 1] - offsets[r])
    # prepare lengthens a row at most grow times, finish adds at most one space per character
    size = 2 * grow * widest + 2
    a = np.empty(size, dtype=np.int32)
    b = np.empty(size, dtype=np.int32)
    used = offsets[rows] - offsets[0]
    cap = used + used // 4 + 64
    out = np.empty(cap, dtype=np.uint8)
    pos = 0
    for r in range(rows):
        start, end = offsets[r], offsets[r + 1]
        if pos + 2 * grow * (end - start) > cap:
            cap = 2 * cap + 2 * grow * (end - start)
            grown = np.empty(cap, dtype=np.uint8)
            grown[:pos] = out[:pos]
            out = grown
        n, found, flags = _decode_scan(data, start, end, a, prep, ids, steps)
        mode = modes[r]
        changed = False
        if mode == FULL or mode == REPAIRED:  # noqa: SIM109 - numba compiles the comparisons, not a tuple
            # a row for Python: repairs first
            if found & (_FOUND_PYTHON | _FOUND_REPAIR) and (found & _FOUND_PYTHON or mode == FULL):
                status[r] = NEEDS_REPAIR if found & _FOUND_REPAIR and mode == FULL else NEEDS_PREPARE
                out[pos : pos + end - start] = data[start:end]
                pos += end - start
                out_offsets[r + 1] = pos
                continue
            if found & _FOUND_CHANGE:
                m, flags = _prepare(a, n, b, slot, compose, translate, rep_off, rep, ids, steps)
                a, b, n = b, a, m
                changed = True
        if mode == COLLAPSE:
            flags &= _STEP_CR | _STEP_RUNS | _STEP_EDGES | _STEP_NEWLINES  # the whitespace steps
        if mode != FORCE and flags & _ABBREVIATION:
            status[r] = NEEDS_CHECK
        elif flags:
            a, b, n = _finish(a, n, b, ids, steps, flags)
            changed = True
        lo, hi = 0, n  # str.strip
        if status[r] != NEEDS_CHECK:
            while lo < hi and _is_white(white, a[lo]):
                lo += 1
            while hi > lo and _is_white(white, a[hi - 1]):
                hi -= 1
        if changed:
            pos = _encode(a[lo:hi], hi - lo, out, pos)
        else:  # the row's own bytes, stripped
            skip_lo = 0
            for k in range(lo):
                skip_lo += _width(a[k])
            skip_hi = 0
            for k in range(hi, n):
                skip_hi += _width(a[k])
            length = end - start - skip_lo - skip_hi
            out[pos : pos + length] = data[start + skip_lo : start + skip_lo + length]
            pos += length
        out_offsets[r + 1] = pos
    return out, pos, out_offsets, status
