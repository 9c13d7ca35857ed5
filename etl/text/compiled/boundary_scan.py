"""The boundary model's compiled passes: the features of every gap between two words, over the
bytes of a whole Arrow string array of pieces, and the sentence ends the model picks there.

Words are what whitespace separates (the characters of ``etl.text.segment._WS``, as ``str.split``
sees them). A word's *core* runs from its first to its last letter or digit (``core`` table);
the marks before and after it (quotes, brackets, ``،``, ``:``) are its lead and trail. Digits fold
to one value, so ``25`` and ``2023`` look alike to the model. Each gap gets ``N_FEATURES`` hashed
features (FNV-1a over a word's code points, then a multiply-xorshift mix with the feature's kind\nand the other value), in this order:

    0 bias   1 word before   2 word after   3 the word before that   4 (before-before, before)
    5 (before, after)   6 (after, after-after)   7 last two letters before   8 first two after
    9 (trail before, lead after)   10 (word before, its trail)   11 words since the start (bucket)
    12 words to the end (bucket)

``gap_index`` returns those feature indices (training uses them), ``ends`` sums the weights at
them, turns the sums into probabilities and decodes: the gaps whose probability reaches the
threshold, the most likely first, each kept when every sentence stays at least ``min_gap`` words
long, in pieces of at least ``min_words`` words only, and never before a word of ``joiners`` (the
sorted core hashes of conjunctions such as اور لیکن تاہم کہ, which continue a sentence).
"""

from __future__ import annotations

import numpy as np

from etl.text.compiled import njit, utf8_at

N_FEATURES = 13
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_K1, _K2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)
_K3, _K4 = np.uint64(0x165667B19E3779F9), np.uint64(0xD6E8FEB86659FD93)
# The values of a missing word at the piece's start and end, and of a word with no core (a lone mark).
_START, _END, _NOCORE = np.uint64(1), np.uint64(2), np.uint64(3)
# Buckets of a distance in words (1, 2, 3, 4, 5-6, 7-9, 10-14, 15-24, 25+).
_BUCKET = np.array([0, 1, 2, 3, 4, 5, 5, 6, 6, 6] + [7] * 5 + [8] * 10 + [9], dtype=np.int64)


@njit()
def _fnv(h, cp):
    return (h ^ np.uint64(cp)) * _FNV_PRIME


@njit()
def _mix(kind, a, b, mask):
    """The table index of feature ``kind`` with values ``a`` and ``b`` (a multiply-xorshift hash)."""
    h = a * _K1 + b * _K2 + np.uint64(kind + 1) * _K3
    h ^= h >> np.uint64(32)
    h *= _K4
    h ^= h >> np.uint64(29)
    return np.int64(h >> np.uint64(20)) & mask


@njit()
def _words(data, starts, stops, core, space):
    """Per word: piece, start and end byte, hashes of core, last two and first two core letters,
    trail and lead marks (at most two of each, nearest the core)."""
    n_bytes = 0
    for p in range(len(starts)):
        n_bytes += stops[p] - starts[p]
    cap = n_bytes // 2 + len(starts) + 1
    piece = np.empty(cap, np.int64)
    start = np.empty(cap, np.int64)
    end = np.empty(cap, np.int64)
    h_core = np.empty(cap, np.uint64)
    h_last = np.empty(cap, np.uint64)
    h_first = np.empty(cap, np.uint64)
    h_trail = np.empty(cap, np.uint64)
    h_lead = np.empty(cap, np.uint64)
    cps = np.empty(max(n_bytes, 1), np.int64)
    n = 0
    for p in range(len(starts)):
        i, stop = starts[p], stops[p]
        while i < stop:
            cp, size = utf8_at(data, i)
            if cp < 0x10000 and space[cp]:
                i += size
                continue
            # a word: collect its code points
            w0 = i
            k = 0
            while i < stop:
                cp, size = utf8_at(data, i)
                if cp < 0x10000 and space[cp]:
                    break
                cps[k] = cp
                k += 1
                i += size
            a = 0
            while a < k and not (cps[a] < 0x10000 and core[cps[a]]):
                a += 1
            b = k
            while b > a and not (cps[b - 1] < 0x10000 and core[cps[b - 1]]):
                b -= 1
            hc = _FNV_OFFSET
            for j in range(a, b):
                c = cps[j]
                hc = _fnv(hc, 48 if (48 <= c <= 57 or 0x6F0 <= c <= 0x6F9 or 0x660 <= c <= 0x669) else c)
            hl = _FNV_OFFSET
            for j in range(max(a, b - 2), b):
                hl = _fnv(hl, cps[j])
            hf = _FNV_OFFSET
            for j in range(a, min(b, a + 2)):
                hf = _fnv(hf, cps[j])
            ht = _FNV_OFFSET
            for j in range(b, min(k, b + 2)):
                ht = _fnv(ht, cps[j])
            hd = _FNV_OFFSET
            for j in range(max(0, a - 2), a):
                hd = _fnv(hd, cps[j])
            piece[n] = p
            start[n] = w0
            end[n] = i
            h_core[n] = hc if b > a else _NOCORE
            h_last[n] = hl
            h_first[n] = hf
            h_trail[n] = ht
            h_lead[n] = hd
            n += 1
    return piece[:n], start[:n], end[:n], h_core[:n], h_last[:n], h_first[:n], h_trail[:n], h_lead[:n]


@njit()
def _piece_bounds(piece):
    """The first and the last word of each word's piece."""
    n = len(piece)
    first_of = np.empty(n, np.int64)
    last_of = np.empty(n, np.int64)
    for w in range(n):
        first_of[w] = w if w == 0 or piece[w - 1] != piece[w] else first_of[w - 1]
    for w in range(n - 1, -1, -1):
        last_of[w] = w if w == n - 1 or piece[w + 1] != piece[w] else last_of[w + 1]
    return first_of, last_of


@njit()
def _features(w, first, last, h_core, h_last, h_first, h_trail, h_lead, mask, out):
    """The ``N_FEATURES`` indices of the gap after word ``w`` (of the piece ``first..last``) into ``out``."""
    before = h_core[w - 1] if w > first else _START
    after2 = h_core[w + 2] if w + 2 <= last else _END
    z = np.uint64(0)
    out[0] = _mix(0, z, z, mask)
    out[1] = _mix(1, h_core[w], z, mask)
    out[2] = _mix(2, h_core[w + 1], z, mask)
    out[3] = _mix(3, before, z, mask)
    out[4] = _mix(4, before, h_core[w], mask)
    out[5] = _mix(5, h_core[w], h_core[w + 1], mask)
    out[6] = _mix(6, h_core[w + 1], after2, mask)
    out[7] = _mix(7, h_last[w], z, mask)
    out[8] = _mix(8, h_first[w + 1], z, mask)
    out[9] = _mix(9, h_trail[w], h_lead[w + 1], mask)
    out[10] = _mix(10, h_core[w], h_trail[w], mask)
    out[11] = _mix(11, np.uint64(_BUCKET[min(w - first + 1, 25)]), z, mask)
    out[12] = _mix(12, np.uint64(_BUCKET[min(last - w, 25)]), z, mask)


@njit()
def _gap_rows(piece, h_core, h_last, h_first, h_trail, h_lead, mask):
    """Feature indices of every gap (a word followed by another of the same piece)."""
    n = len(piece)
    first_of, last_of = _piece_bounds(piece)
    gaps = 0
    for w in range(n - 1):
        if piece[w + 1] == piece[w]:
            gaps += 1
    out = np.empty((gaps, N_FEATURES), np.int64)
    word = np.empty(gaps, np.int64)
    g = 0
    for w in range(n - 1):
        if piece[w + 1] != piece[w]:
            continue
        _features(w, first_of[w], last_of[w], h_core, h_last, h_first, h_trail, h_lead, mask, out[g])
        word[g] = w
        g += 1
    return out, word


@njit()
def gap_index(data, starts, stops, core, space, mask):
    """Feature indices of every gap of every piece (the bytes ``starts[p]:stops[p]`` of ``data``),
    the gap's piece, the byte where its word ends and the one where the next word starts."""
    piece, start, end, h_core, h_last, h_first, h_trail, h_lead = _words(data, starts, stops, core, space)
    rows, word = _gap_rows(piece, h_core, h_last, h_first, h_trail, h_lead, mask)
    return rows, piece[word], end[word], start[word + 1]


@njit()
def _latin(data, a, b):
    """Whether the bytes ``a:b`` hold an ASCII letter."""
    for i in range(a, b):
        c = data[i] | 32
        if 97 <= c <= 122:
            return True
    return False


@njit()
def _relax(word, prob, g, h, first, n, taken, t, start, end, data, min_gap, low_threshold, long_words):
    """``ends``'s second pass over one piece (gaps ``g:h``, first word ``first``, ``n`` words, the
    ``t`` ends ``taken``): returns the new count of ``taken``."""
    changed = True
    while changed:
        changed = False
        cuts = np.empty(t + 2, np.int64)
        cuts[0] = -1
        cuts[1 : t + 1] = np.sort(taken[:t])
        cuts[t + 1] = n - 1
        for k in range(t + 1):
            a, b = cuts[k], cuts[k + 1]  # a sentence of the words a+1..b
            if b - a < long_words or _latin(data, start[first + a + 1], end[first + b]):
                continue
            best, best_p = -1, -1.0
            for j in range(g, h):
                i = word[j] - first
                if (
                    a < i < b
                    and i - a >= min_gap
                    and b - i >= min_gap
                    and prob[j] >= low_threshold
                    and prob[j] > best_p
                ):
                    best, best_p = i, prob[j]
            if best >= 0:
                taken[t] = best
                t += 1
                changed = True
                break
    return t


@njit()
def ends(
    data,
    starts,
    stops,
    core,
    space,
    mask,
    weights,
    threshold,
    min_gap,
    min_words,
    joiners,
    relax,
    low_threshold,
    long_words,
):
    """The chosen sentence ends: per end its piece, the byte where the sentence ends and the byte
    where the next one starts (relative to ``data``), in order.

    In a piece with ``relax`` set, a sentence the ends at ``threshold`` leave ``long_words`` words
    long or longer, with no Latin letter in it, is cut again at its most likely gap that reaches
    ``low_threshold`` (keeping ``min_gap``), until none is left."""
    piece, start, end, h_core, h_last, h_first, h_trail, h_lead = _words(data, starts, stops, core, space)
    n_words = np.zeros(len(starts), np.int64)
    for w in range(len(piece)):
        n_words[piece[w]] += 1
    first_of, last_of = _piece_bounds(piece)
    gaps = 0
    for w in range(len(piece) - 1):
        if piece[w + 1] == piece[w]:
            gaps += 1
    word = np.empty(gaps, np.int64)
    prob = np.empty(gaps, np.float64)
    idx = np.empty(N_FEATURES, np.int64)
    g = 0
    for w in range(len(piece) - 1):
        if piece[w + 1] != piece[w] or n_words[piece[w]] < min_words:
            continue
        j = np.searchsorted(joiners, h_core[w + 1])
        if j < len(joiners) and joiners[j] == h_core[w + 1]:
            continue  # a conjunction continues the sentence: never an end before it
        _features(w, first_of[w], last_of[w], h_core, h_last, h_first, h_trail, h_lead, mask, idx)
        s = 0.0
        for f in range(N_FEATURES):
            s += weights[idx[f]]
        word[g] = w
        prob[g] = 1.0 / (1.0 + np.exp(-s))
        g += 1
    word = word[:g]
    prob = prob[:g]
    out_piece = np.empty(len(word), np.int64)
    out_end = np.empty(len(word), np.int64)
    out_next = np.empty(len(word), np.int64)
    m = 0
    g = 0
    while g < len(word):
        p = piece[word[g]]
        h = g
        while h < len(word) and piece[word[h]] == p:
            h += 1
        if n_words[p] >= min_words:
            first = first_of[word[g]]  # the piece's first word
            n = n_words[p]
            cand = np.empty(h - g, np.int64)
            k = 0
            for j in range(g, h):
                if prob[j] >= threshold:
                    cand[k] = j
                    k += 1
            cand = cand[:k]
            order = np.argsort(-prob[cand], kind="mergesort")
            taken = np.empty(h - g, np.int64)
            t = 0
            for c in cand[order]:
                i = word[c] - first  # a sentence ends after the piece's word i
                if i + 1 < min_gap or n - 1 - i < min_gap:
                    continue
                ok = True
                for q in range(t):
                    if abs(i - taken[q]) < min_gap:
                        ok = False
                        break
                if ok:
                    taken[t] = i
                    t += 1
            if relax[p] and low_threshold < threshold:
                t = _relax(word, prob, g, h, first, n, taken, t, start, end, data, min_gap, low_threshold, long_words)
            chosen = np.sort(taken[:t])
            for i in chosen:
                w = first + i
                out_piece[m] = p
                out_end[m] = end[w]
                out_next[m] = start[w + 1]
                m += 1
        g = h
    return out_piece[:m], out_end[:m], out_next[:m]


@njit()
def odd_or_long(data, offsets, word, spaces):
    """Per string of an Arrow array (``offsets`` into ``data``): whether it has no character of the
    ``word`` table or holds a ``]`` or a ``٭``, and whether it holds at least ``spaces`` ASCII
    spaces."""
    n = len(offsets) - 1
    odd = np.zeros(n, np.bool_)
    long = np.zeros(n, np.bool_)
    for p in range(n):
        has_word = False
        i = offsets[p]
        while i < offsets[p + 1]:  # mostly the first character is one
            cp, size = utf8_at(data, i)
            if cp < 0x10000 and word[cp]:
                has_word = True
                break
            i += size
        count = 0
        found = 0
        prev = 0
        for i in range(offsets[p], offsets[p + 1]):  # branch-free, so that it vectorises
            b = data[i]
            count += b == 32
            found |= (b == 93) | ((prev == 0xD9) & (b == 0xAD))  # "]" or "٭" (U+066D: D9 AD)
            prev = b
        odd[p] = found > 0 or not has_word
        long[p] = count >= spaces
    return odd, long
