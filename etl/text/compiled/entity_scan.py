"""One compiled pass that finds, in every text of a batch, the gazetteer surfaces and title chains
that ``etl.enrich.entities`` starts from.

``entities._scan_re`` states what is found: at every position that no word character precedes, the
longest gazetteer surface that no word character follows, and a chain of titles (``t1 t2 …``,
single spaces) that no word character follows, chosen as Python's regex engine chooses it (the
longest first title, then as many further titles as can be had, each longest first, backing off
until the chain ends before a non-word character). ``entities._scan_spec`` keeps of each kind only the
matches that start at or after the end of the previous one. This scanner does the same over the
code points of all the texts at once (UTF-32, so offsets are Python string offsets), with the
surfaces and titles as two tries; ``tests/test_entities_scan.py`` checks it against the regex.

A title chain's possible continuations from a position do not depend on where the chain began, so
each position's result is worked out once (no regex backtracking is repeated). Texts go to the scan
in pieces of about ``PIECE`` code points (a longer text alone), which bounds its memory: the code
points and two ``int64`` arrays of the piece's length, about 20 bytes a character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from etl.text.compiled import njit

_UNKNOWN = -2


class Trie(NamedTuple):
    """``next[node, symbol[cp]]`` is the node after code point ``cp`` (``-1``: none; symbol 0 stands
    for every code point no surface holds); ``final[node]`` says a surface ends there (its index + 1)."""

    next: np.ndarray
    final: np.ndarray


def symbols(*lists: Iterable[str]) -> np.ndarray:
    """``symbol[cp]``: a small number for every code point the surfaces hold, 0 for all others."""
    chars = sorted({ch for surfaces in lists for s in surfaces for ch in s})
    table = np.zeros(0x110000, dtype=np.int32)
    table[[ord(ch) for ch in chars]] = np.arange(1, len(chars) + 1, dtype=np.int32)
    return table


def build_trie(surfaces: Iterable[str], symbol: np.ndarray) -> tuple[Trie, list[str]]:
    """The trie of ``surfaces`` over ``symbol`` and the surfaces in the order ``final`` numbers them."""
    words = sorted(set(surfaces))
    nodes: list[dict[int, int]] = [{}]
    final = [0]
    for k, w in enumerate(words):
        node = 0
        for ch in w:
            sym = int(symbol[ord(ch)])
            nxt = nodes[node].get(sym)
            if nxt is None:
                nxt = nodes[node][sym] = len(nodes)
                nodes.append({})
                final.append(0)
            node = nxt
        final[node] = k + 1
    table = np.full((len(nodes), int(symbol.max()) + 1), -1, dtype=np.int32)
    for n, kids in enumerate(nodes):
        for sym, kid in kids.items():
            table[n, sym] = kid
    return Trie(table, np.array(final, dtype=np.int64)), words


@lru_cache(maxsize=4)
def word_table(char_class: str) -> np.ndarray:
    """``table[cp]``: whether code point ``cp`` matches the regex character class ``[char_class]``."""
    everything = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    table = np.zeros(0x110000, dtype=np.bool_)
    hits = [m.start() for m in re.finditer(f"[{char_class}]", everything)]
    table[np.array(hits, dtype=np.int64)] = True
    return table


def code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All texts' code points in one array, and where each text starts (with the total at the end)."""
    bounds = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=bounds[1:])
    data = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return data, bounds


@njit()
def _ends(data, stop, pos, symbol, t_next, t_final, out):
    """Ends of the surfaces of a trie that start at ``pos`` (before ``stop``), shortest first, in
    ``out``; returns how many."""
    n = 0
    node = 0
    i = pos
    while i < stop:
        node = t_next[node, symbol[data[i]]]
        if node < 0:
            break
        i += 1
        if t_final[node]:
            out[n] = i
            n += 1
    return n


@njit()
def _chain(data, stop, start, word, symbol, t_next, t_final, memo, stack, buf):
    """``memo[start]``: where the title chain that has reached ``start`` (the end of a title) ends
    (``-1``: nowhere), as the regex ``(?: T)*(?!W)`` takes it: a further title, longest first, when
    the chain can end after it, else ``start`` itself when no word character follows. Worked out
    with an explicit stack, each position once per batch."""
    stack[0] = start
    depth = 1
    while depth:
        e = stack[depth - 1]
        if memo[e] != _UNKNOWN:
            depth -= 1
            continue
        result = -1
        decided = False
        pending = False
        if e < stop and data[e] == 32:
            n = _ends(data, stop, e + 1, symbol, t_next, t_final, buf)
            for k in range(n - 1, -1, -1):  # longest first
                e2 = buf[k]
                if memo[e2] == _UNKNOWN:
                    stack[depth] = e2  # work it out, then look at ``e`` again
                    depth += 1
                    pending = True
                    break
                if memo[e2] >= 0:
                    result = memo[e2]
                    decided = True
                    break
        if pending:
            continue
        if not decided and (e >= stop or not word[data[e]]):
            result = e
        memo[e] = result
        depth -= 1
    return memo[start]


@njit()
def _grow(a, n):
    if n < a.shape[0]:
        return a
    b = np.empty((2 * a.shape[0] + 16, a.shape[1]), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit()
def _scan(data, bounds, word, symbol, g_next, g_final, t_next, t_final, depth):
    """``(text, start, end, surface)`` of the gazetteer matches and ``(text, end)`` of the title
    chains, offsets within each text; a match starting inside the previous one of its kind is
    dropped (``finditer`` of its own pattern would not have tried there)."""
    n_gaz = 0
    n_title = 0
    gaz = np.empty((len(data) // 32 + 16, 4), dtype=np.int64)
    titles = np.empty((len(data) // 256 + 16, 2), dtype=np.int64)
    memo = np.full(len(data) + 1, _UNKNOWN, dtype=np.int64)
    stack = np.empty(len(data) + 1, dtype=np.int64)
    first_ends = np.empty(depth + 1, dtype=np.int64)
    buf = np.empty(depth + 1, dtype=np.int64)
    for d in range(len(bounds) - 1):
        lo = bounds[d]
        stop = bounds[d + 1]
        gaz_end = lo
        title_end = lo
        for p in range(lo, stop):
            if p > lo and word[data[p - 1]]:
                continue
            if p >= gaz_end:  # the longest surface that no word character follows
                node = 0
                i = p
                best = -1
                best_id = 0
                while i < stop:
                    node = g_next[node, symbol[data[i]]]
                    if node < 0:
                        break
                    i += 1
                    if g_final[node] and (i >= stop or not word[data[i]]):
                        best = i
                        best_id = g_final[node]
                if best >= 0:
                    gaz = _grow(gaz, n_gaz)
                    gaz[n_gaz, 0] = d
                    gaz[n_gaz, 1] = p - lo
                    gaz[n_gaz, 2] = best - lo
                    gaz[n_gaz, 3] = best_id - 1
                    n_gaz += 1
                    gaz_end = best
            if p >= title_end:  # a chain of titles: its first title longest first
                # the titles starting at ``p`` as ``_ends`` finds them, walked here: a call per
                # word start would cost more than the walk, which mostly stops at once
                n = 0
                node = 0
                i = p
                while i < stop:
                    node = t_next[node, symbol[data[i]]]
                    if node < 0:
                        break
                    i += 1
                    if t_final[node]:
                        first_ends[n] = i
                        n += 1
                end = -1
                for k in range(n - 1, -1, -1):
                    end = _chain(data, stop, first_ends[k], word, symbol, t_next, t_final, memo, stack, buf)
                    if end >= 0:
                        break
                if end >= 0:
                    titles = _grow(titles, n_title)
                    titles[n_title, 0] = d
                    titles[n_title, 1] = end - lo
                    n_title += 1
                    title_end = end
    return gaz[:n_gaz], titles[:n_title]


class Scan(NamedTuple):
    """Per text: ``(start, end, surface index)`` of each gazetteer match, and each title chain's end."""

    gazetteer: list[list[tuple[int, int, int]]]
    title_ends: list[list[int]]


#: Texts are scanned in pieces of about this many code points, which bounds the scan's memory.
PIECE = 1 << 20


def scan_arrays(
    texts: Sequence[str], word: np.ndarray, symbol: np.ndarray, gazetteer: Trie, titles: Trie, title_depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """What ``scan`` finds, as two arrays over the whole batch: ``(text, start, end, surface)`` of
    every gazetteer match and ``(text, end)`` of every title chain, ``text`` the index in ``texts``,
    in the order of ``texts`` and, within a text, of the matches."""
    gaz: list[np.ndarray] = [np.empty((0, 4), dtype=np.int64)]
    chains: list[np.ndarray] = [np.empty((0, 2), dtype=np.int64)]
    i = 0
    while i < len(texts):
        j, size = i, 0
        while j < len(texts) and (j == i or size + len(texts[j]) <= PIECE):
            size += len(texts[j])
            j += 1
        data, bounds = code_points(texts[i:j])
        g, t = _scan(data, bounds, word, symbol, *gazetteer, *titles, title_depth)
        g[:, 0] += i
        t[:, 0] += i
        gaz.append(g)
        chains.append(t)
        i = j
    return np.concatenate(gaz), np.concatenate(chains)


def scan(
    texts: Sequence[str], word: np.ndarray, symbol: np.ndarray, gazetteer: Trie, titles: Trie, title_depth: int
) -> Scan:
    """The matches of ``entities._scan_spec`` in every text (offsets within the text), and the index of
    each gazetteer match's surface in the order ``build_trie`` gave. ``word`` is ``word_table`` of
    the word characters, ``symbol`` what the tries were built over, ``title_depth`` the length of
    the longest title."""
    g, t = scan_arrays(texts, word, symbol, gazetteer, titles, title_depth)
    n = len(texts)
    g_bounds = np.searchsorted(g[:, 0], np.arange(n + 1)).tolist()
    t_bounds = np.searchsorted(t[:, 0], np.arange(n + 1)).tolist()
    found = list(zip(g[:, 1].tolist(), g[:, 2].tolist(), g[:, 3].tolist()))
    title_ends = t[:, 1].tolist()
    spans = [found[g_bounds[k] : g_bounds[k + 1]] for k in range(n)]
    ends = [title_ends[t_bounds[k] : t_bounds[k + 1]] for k in range(n)]
    return Scan(spans, ends)
