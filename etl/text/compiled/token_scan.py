"""One compiled pass that splits a whole Arrow string array of sentences into tokens.

``segment`` used to wrap every token but Urdu words in spaces with an RE2 pass and split the result
at spaces with a second one; this scanner does both in one pass over the array's bytes and writes
the tokens straight into a new string array, with each token's word flag and first two bytes
(what ``segment`` needs next). It reproduces that regex path exactly (``tests/test_segment_batch.py``
checks it on generated text): the tables it reads are built by running the regexes' own character
classes, handed in by ``etl.text.segment``, over every code point.

At each position, in the regexes' order of preference: a digit starts a number (digits joined by
a separator that a digit follows, then an optional suffix), a Latin letter a Latin word (letters
joined by an apostrophe or hyphen that a letter follows), a Devanagari character a run of them, a
terminator a run of that same terminator; whitespace that Arrow's ``ascii_split_whitespace``
splits at separates tokens; letters, ZWNJ and the other whitespace (what the regex leaves
unwrapped) form runs; any other character is a token alone. Text is valid UTF-8 (Arrow strings).

Tokens are found character by character (a table lookup per code point, all classes at once);
their bytes are then copied in one branch-free pass over the data that drops the separators,
which costs far less than a copy per token of a few bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from etl.text.compiled import njit, string_buffers, utf8_at

# What a character starts (the low three bits of its table entry, _KIND), then what it may continue
# (one bit each above them, in a uint16 table)
SPACE, WORD, NUM, LATIN, INDIC, RUN, OTHER = range(7)
_KIND = 0b111
_DIGIT, _LATIN_CH, _INDIC_CH, _NUM_SEP, _LATIN_SEP, _SPLIT = 8, 16, 32, 64, 128, 256
assert max(SPACE, WORD, NUM, LATIN, INDIC, RUN, OTHER) <= _KIND < _DIGIT and _SPLIT < 1 << 16
_ASTRAL = 0x10000  # the one table entry for every code point of four UTF-8 bytes


class Tables(NamedTuple):
    """Per code point (and one entry for all astral ones): kind and class bits, and ``is_word``
    (-1 for astral characters, which the caller decides); the number suffixes in UTF-8."""

    classes: np.ndarray
    word: np.ndarray
    suffixes: np.ndarray
    suffix_ends: np.ndarray


def _members(body: str, text: str) -> np.ndarray:
    """Code points of ``text`` that the regex class ``[body]`` matches."""
    return np.array([ord(m.group()) for m in re.finditer(f"[{body}]", text)], dtype=np.int64)


def _ascii_split_whitespace() -> list[int]:
    """The bytes at which Arrow's ``ascii_split_whitespace`` splits, asked of Arrow itself."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces = pc.list_value_length(pc.ascii_split_whitespace(pa.array([f"a{chr(b)}a" for b in range(128)])))
    return [b for b, n in enumerate(pieces.to_pylist()) if n == 2]


def tables(
    *,
    digits: str,
    latin: str,
    indic: str,
    runs: str,
    unwrapped: str,
    num_seps: str,
    latin_seps: str,
    suffixes: Sequence[str],
    is_word: Callable[[str], bool],
) -> Tables:
    """The scanner's tables from the token regex's character classes (regex class bodies).

    ``runs`` lists the characters whose runs are tokens; ``unwrapped`` is the class the regex leaves
    between tokens (letters, ZWNJ and whitespace). Astral code points must be in no class: the
    scanner gives them all one entry (a token alone), so that is checked here.
    """
    bmp = np.arange(_ASTRAL, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    astral = np.arange(_ASTRAL, 0x110000, dtype=np.uint32).tobytes().decode("utf-32-le")
    every = "|".join(f"[{b}]" for b in (digits, latin, indic, re.escape(runs), unwrapped, num_seps, latin_seps))
    if re.search(every, astral):
        raise ValueError("a token class holds astral code points, which the scanner reads as 'other'")
    classes = np.full(_ASTRAL + 1, OTHER, dtype=np.uint16)
    # the kind a character starts, lowest preference first, so that the regex's order wins
    classes[_members(unwrapped, bmp)] = WORD
    split = np.array(_ascii_split_whitespace(), dtype=np.int64)
    classes[split] = SPACE | _SPLIT
    for kind, body in ((RUN, re.escape(runs)), (INDIC, indic), (LATIN, latin), (NUM, digits)):
        cps = _members(body, bmp)
        classes[cps] = (classes[cps] & ~np.uint16(_KIND)) | kind
    for bit, body in (
        (_DIGIT, digits),
        (_LATIN_CH, latin),
        (_INDIC_CH, indic),
        (_NUM_SEP, num_seps),
        (_LATIN_SEP, latin_seps),
    ):
        classes[_members(body, bmp)] |= bit
    if np.any(classes[split] & _KIND != SPACE):
        raise ValueError("ASCII whitespace in a token class: the scanner drops all of it")
    word = np.append(np.fromiter(map(is_word, bmp), dtype=np.int8, count=_ASTRAL), np.int8(-1))
    encoded = [s.encode() for s in suffixes]
    return Tables(
        classes,
        word,
        np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(),
        np.cumsum([0] + [len(b) for b in encoded]).astype(np.int64),
    )


@njit()
def _char(data, i):
    """Code point and byte length of the character at byte ``i`` (astral ones as _ASTRAL)."""
    cp, n = utf8_at(data, i)
    return min(cp, _ASTRAL), n


@njit()
def _joined(data, i, end, classes, member, sep):
    """End of ``member+(?:sep member+)*`` whose first character ends at ``i``."""
    while i < end:
        cp, n = _char(data, i)
        if classes[cp] & member:
            i += n
            continue
        if not classes[cp] & sep or i + n >= end:
            break
        cp2, n2 = _char(data, i + n)
        if not classes[cp2] & member:
            break
        i += n + n2
    return i


@njit()
def _suffix(data, i, end, suffixes, suffix_ends):
    """End of the first suffix that starts at ``i``, else ``i``."""
    for k in range(len(suffix_ends) - 1):
        a, b = suffix_ends[k], suffix_ends[k + 1]
        if i + b - a <= end:
            j = 0
            while j < b - a and data[i + j] == suffixes[a + j]:
                j += 1
            if j == b - a:
                return i + j
    return i


@njit()
def _fill(offsets, data, plain, classes, word, suffixes, suffix_ends, s, nt, dropped, str_off, ends, flags, lead):
    """Scan strings from ``s`` on while the arrays have room for any string's tokens (one per byte,
    or one empty token); returns where it stopped, the tokens so far and the separator bytes so far.

    A token's end in the output is its end in ``data`` less the separator bytes before it, since
    the output is ``data`` without them. The arrays are never replaced in here: reassigning
    them in the loop would cost reference counting per token.
    """
    cap = len(flags)
    n_str = len(offsets) - 1
    while s < n_str and nt + offsets[s + 1] - offsets[s] + 1 <= cap:
        i = offsets[s]
        end = offsets[s + 1]
        first = nt
        split_only = plain[s]
        cp, n = 0, 0
        while True:
            while i < end:  # skip separators
                cp, n = _char(data, i)
                if not ((classes[cp] & _SPLIT) != 0 if split_only else (classes[cp] & _KIND) == SPACE):
                    break
                i += n
                dropped += n
            if i >= end:
                if nt > first:
                    break
                cp, start = -1, i  # no token: one empty one
            else:
                start = i
                i += n
                kind = classes[cp] & _KIND
                if split_only:
                    while i < end:
                        c, m = _char(data, i)
                        if classes[c] & _SPLIT:
                            break
                        i += m
                elif kind == WORD:
                    while i < end:
                        c, m = _char(data, i)
                        if (classes[c] & _KIND) != WORD:
                            break
                        i += m
                elif kind == NUM:
                    i = _suffix(data, _joined(data, i, end, classes, _DIGIT, _NUM_SEP), end, suffixes, suffix_ends)
                elif kind == LATIN:
                    i = _joined(data, i, end, classes, _LATIN_CH, _LATIN_SEP)
                elif kind == INDIC:
                    while i < end:
                        c, m = _char(data, i)
                        if not classes[c] & _INDIC_CH:
                            break
                        i += m
                elif kind == RUN:
                    while i < end:
                        c, m = _char(data, i)
                        if c != cp:
                            break
                        i += m
            flags[nt] = word[cp] if cp >= 0 else 0
            lead[nt] = 0
            if i > start:
                lead[nt] = np.int32(data[start]) << 8
                if i > start + 1:
                    lead[nt] |= data[start + 1]
            nt += 1
            ends[nt] = i - dropped
            if cp < 0:
                break
        s += 1
        str_off[s] = nt
    return s, nt, dropped


@njit()
def _grown(a, size):
    b = np.empty(size, dtype=a.dtype)
    b[: len(a)] = a
    return b


@njit()
def _scan(offsets, data, plain, classes, word, suffixes, suffix_ends):
    """Tokens of every string: the strings' offsets into the tokens, the tokens' offsets and bytes,
    and per token its word flag and first two bytes (the second 0 for a token of one byte).

    Strings with ``plain`` set are split at separators only. A string without tokens gets one
    empty token, as Arrow's split gives. The token bytes are ``data`` without the separators
    (``tables`` checks that no separator is part of a token), copied in one branch-free pass.
    """
    n_str = len(offsets) - 1
    size = offsets[n_str] - offsets[0]
    cap = size // 4 + n_str + 16
    ends = np.empty(cap + 1, dtype=np.int32)
    flags = np.empty(cap, dtype=np.int8)
    lead = np.empty(cap, dtype=np.int32)
    str_off = np.empty(n_str + 1, dtype=np.int32)
    ends[0] = 0
    str_off[0] = 0
    s, nt, dropped = 0, 0, offsets[0]
    while True:
        s, nt, dropped = _fill(
            offsets, data, plain, classes, word, suffixes, suffix_ends, s, nt, dropped, str_off, ends, flags, lead
        )
        if s == n_str:
            break
        cap = max(2 * cap, nt + offsets[s + 1] - offsets[s] + 1)
        ends, flags, lead = _grown(ends, cap + 1), _grown(flags, cap), _grown(lead, cap)
    keep = np.ones(256, dtype=np.int64)
    for b in range(128):
        if classes[b] & _SPLIT:
            keep[b] = 0
    out = np.empty(size, dtype=np.uint8)
    pos = 0
    for i in range(offsets[0], offsets[n_str]):
        out[pos] = data[i]
        pos += keep[data[i]]
    return str_off, ends[: nt + 1], out[:pos], flags[:nt], lead[:nt]


def scan(strings, plain: np.ndarray, t: Tables):
    """Split every string of a ``pyarrow.StringArray`` (no nulls) into tokens, as the regex path does.

    Returns the strings' offsets into the tokens (numpy int32, one more than strings), the tokens
    (``pyarrow.StringArray``), their ``is_word`` flags (int8, -1 where the first character is
    astral) and their first two bytes as one number (``(b0 << 8) | b1``). ``plain`` (bool, per
    string) marks strings to split at whitespace only.
    """
    import pyarrow as pa

    if strings.null_count:
        raise ValueError("the token scanner reads strings without nulls")
    offsets, data = string_buffers(strings)
    str_off, ends, out, flags, lead = _scan(
        offsets, data, np.asarray(plain, dtype=np.bool_), t.classes, t.word, t.suffixes, t.suffix_ends
    )
    toks = pa.StringArray.from_buffers(len(ends) - 1, pa.py_buffer(ends), pa.py_buffer(out))
    return str_off, toks, flags, lead
