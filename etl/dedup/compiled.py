"""The copy search's compiled pass: MinHash minima (``etl.dedup.minhash.minhash``), compiled by
numba and cached on disk like the text stage's scans (``etl.text.compiled.njit``)."""

from __future__ import annotations

import numpy as np

from etl.text.compiled import njit


@njit(nogil=True)
def minhash_rows(values, offsets, a, b, sig):  # pragma: no cover - compiled by numba
    """Fill ``sig[d, k]`` with the least ``(a[k] * x + b[k]) mod p`` over body ``d``'s values ``x``.

    The modulus is the shift-and-add fold: ``a*x + b < 2**62 + 2**31``, ``y = (v & p) + (v >> 31)``
    is congruent and below ``2p + 3``, then ``y - p`` when ``y >= p`` (up to ``p + 2`` in a
    vanishing corner, the value every version of this module gives)."""
    p = np.uint64(0x7FFFFFFF)
    shift = np.uint64(31)
    for d in range(len(offsets) - 1):
        s0, s1 = offsets[d], offsets[d + 1]
        if s1 <= s0:
            continue
        for k in range(len(a)):
            ak, bk = a[k], b[k]
            low = np.uint64(0xFFFFFFFFFFFFFFFF)
            for s in range(s0, s1):
                v = ak * values[s] + bk
                y = (v & p) + (v >> shift)
                if y >= p:
                    y -= p
                if y < low:
                    low = y
            sig[d, k] = np.uint32(low)


# --------------------------------------------------------------------------- the second stage
# (``etl.dedup.rewrites``): lists are a flat value array and per-row offsets, each row's values
# ascending and distinct.


@njit(nogil=True)
def _shared(values, offsets, i, j):  # pragma: no cover - compiled by numba
    """How many of row ``i``'s values row ``j`` holds (one merge of the two sorted rows)."""
    a, a1 = offsets[i], offsets[i + 1]
    b, b1 = offsets[j], offsets[j + 1]
    shared = 0
    while a < a1 and b < b1:
        if values[b] < values[a]:
            b += 1
        else:
            if values[b] == values[a]:
                shared += 1
            a += 1
    return shared


@njit(nogil=True)
def _decide(contained, n_shared, n_small, e_shared, e_small, days, same_site, bars):  # pragma: no cover
    """``rewrites.kind_of`` as a ``rewrites.KINDS`` code: ``n_small`` and ``e_small`` are the
    smaller side's numbers and entities, ``days`` the days apart (NaN: unknown); ``bars`` holds
    the decision's constants (``rewrites._bars``)."""
    if same_site or days > bars[1]:  # NaN compares false
        return 0
    nums = n_shared / n_small if n_small > 0 else -1.0
    ents = e_shared / e_small if e_small > 0 else -1.0
    conflict = n_small > 0 and n_small >= bars[2] and nums < bars[3]
    support = (n_small > 0 and nums == 1.0 and n_shared >= bars[4]) or (
        e_small > 0 and ents == 1.0 and e_shared >= bars[4]
    )
    if not conflict and (contained >= bars[5] or (contained >= bars[6] and support)):
        return 1
    if contained >= bars[7] and e_small > 0 and e_shared >= 1 and ents >= bars[8]:
        return 2
    return 0


@njit(nogil=True)
def decide(contained, numbers, entities, days, same_site, bars, out):  # pragma: no cover - compiled by numba
    """``_decide`` over arrays of evidence (``rewrites.kinds_of``)."""
    for k in range(len(contained)):
        out[k] = _decide(
            contained[k],
            numbers[k, 0],
            min(numbers[k, 1], numbers[k, 2]),
            entities[k, 0],
            min(entities[k, 1], entities[k, 2]),
            days[k],
            same_site[k],
            bars,
        )


@njit(nogil=True)
def _contained(sk_v, sk_o, size, i, j):  # pragma: no cover - compiled by numba
    smaller = min(size[i], size[j])
    return _shared(sk_v, sk_o, i, j) / smaller if smaller > 0 else 0.0


@njit(nogil=True)
def _kind(sk_v, sk_o, size, nu_v, nu_o, en_v, en_o, dated, when, site, i, j, bars, contained):  # pragma: no cover
    """``rewrites.kind_of(rewrites.evidence(f, i, j))`` as a code, given the pair's containment."""
    n_small = min(nu_o[i + 1] - nu_o[i], nu_o[j + 1] - nu_o[j])
    e_small = min(en_o[i + 1] - en_o[i], en_o[j + 1] - en_o[j])
    days = abs(when[i] - when[j]) / bars[0] if dated[i] and dated[j] else np.nan
    return _decide(
        contained,
        _shared(nu_v, nu_o, i, j) if n_small > 0 else 0,
        n_small,
        _shared(en_v, en_o, i, j) if e_small > 0 else 0,
        e_small,
        days,
        site[i] >= 0 and site[i] == site[j],
        bars,
    )


@njit(nogil=True)
def pair_kinds(
    sk_v, sk_o, size, nu_v, nu_o, en_v, en_o, dated, when, site, pi, pj, floor, bars, keep, codes, contained
):  # pragma: no cover
    """``_kind`` of each pair ``(pi[k], pj[k])`` whose containment reaches ``floor``: fills the
    first entries of ``keep`` (the pair's index), ``codes`` and ``contained``, returns how many."""
    m = 0
    for k in range(len(pi)):
        c = _contained(sk_v, sk_o, size, pi[k], pj[k])
        if c >= floor:
            keep[m], contained[m] = k, c
            codes[m] = _kind(sk_v, sk_o, size, nu_v, nu_o, en_v, en_o, dated, when, site, pi[k], pj[k], bars, c)
            m += 1
    return m


@njit(nogil=True)
def _find(parent, x):  # pragma: no cover - compiled by numba
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        parent[x], x = root, parent[x]
    return root


@njit(nogil=True)
def complete_link(
    parent, ring, count, li, lj, checks, sk_v, sk_o, size, nu_v, nu_o, en_v, en_o, dated, when, site, bars
):  # pragma: no cover
    """Join groups over the links ``(li[k], lj[k])``, in order, when every article of one side is
    linked (``_kind`` not 0, both with a sketch) to every article of the other, the link's own
    two excepted, and the sides have at most ``checks`` such pairs. Groups are a union-find whose
    root is the group's smallest row (``parent``), a ring of members (``ring``: the next member)
    and ``count`` at the root. Returns how many links joined."""
    joined = 0
    for k in range(len(li)):
        i, j = li[k], lj[k]
        ri, rj = _find(parent, i), _find(parent, j)
        if ri == rj or count[ri] * count[rj] > checks:
            continue
        ok = True
        x = ri
        while ok:
            y = rj
            while True:
                if not ((x == i and y == j) or (x == j and y == i)):
                    if size[x] == 0 or size[y] == 0:
                        ok = False
                        break
                    c = _contained(sk_v, sk_o, size, x, y)
                    if _kind(sk_v, sk_o, size, nu_v, nu_o, en_v, en_o, dated, when, site, x, y, bars, c) == 0:
                        ok = False
                        break
                y = ring[y]
                if y == rj:
                    break
            x = ring[x]
            if x == ri:
                break
        if ok:
            low, high = min(ri, rj), max(ri, rj)
            parent[high] = low
            count[low] += count[high]
            ring[ri], ring[rj] = ring[rj], ring[ri]  # two rings spliced into one
            joined += 1
    return joined


@njit(nogil=True)
def bucket_keys(values, offsets, live, parts, part):  # pragma: no cover - compiled by numba
    """``value << 32 | row`` of the values of live rows that fall in ``part`` of ``parts`` (by value)."""
    n = len(offsets) - 1
    m = 0
    for r in range(n):
        if live[r]:
            for k in range(offsets[r], offsets[r + 1]):
                if values[k] % parts == part:
                    m += 1
    out = np.empty(m, dtype=np.uint64)
    m = 0
    for r in range(n):
        if live[r]:
            for k in range(offsets[r], offsets[r + 1]):
                if values[k] % parts == part:
                    out[m] = (np.uint64(values[k]) << np.uint64(32)) | np.uint64(r)
                    m += 1
    return out


@njit(nogil=True)
def bucket_rows(keys, largest):  # pragma: no cover - compiled by numba
    """From sorted ``value << 32 | row`` keys (at most ``rewrites.KEY_BLOCK`` of them): the rows
    of every value held by 2 to ``largest`` rows, one bucket after another (ascending within
    one), and each bucket's size."""
    rows = np.empty(len(keys), dtype=np.int32)
    sizes = np.empty(len(keys) // 2 + 1, dtype=np.int32)
    kept = 0
    buckets = 0
    s = 0
    while s < len(keys):
        e = s + 1
        while e < len(keys) and (keys[e] >> np.uint64(32)) == (keys[s] >> np.uint64(32)):
            e += 1
        if 2 <= e - s <= largest:
            for k in range(s, e):
                rows[kept] = np.int32(keys[k] & np.uint64(0xFFFFFFFF))
                kept += 1
            sizes[buckets] = e - s
            buckets += 1
        s = e
    return rows[:kept].copy(), sizes[:buckets].copy()


@njit(nogil=True)
def shared_pairs(rows, sizes, n, touched, lengths, least, share):  # pragma: no cover - compiled by numba
    """Pairs ``(a, b)``, ``a < b``, one of them ``touched``, that share at least ``least`` buckets
    and at least ``share`` of the smaller of their ``lengths``; ascending by ``a`` then ``b``.

    Each row's buckets are walked once and its partners counted in a table of ``n`` counters
    (reset after the row), so memory is the buckets and that table, not the pairs' occurrences."""
    starts = np.empty(len(sizes) + 1, dtype=np.int64)
    starts[0] = 0
    for b in range(len(sizes)):
        starts[b + 1] = starts[b] + sizes[b]
    per_row = np.zeros(n + 1, dtype=np.int64)
    for k in range(len(rows)):
        per_row[rows[k] + 1] += 1
    for r in range(n):
        per_row[r + 1] += per_row[r]
    of_row = np.empty(len(rows), dtype=np.int32)
    fill = per_row[:-1].copy()
    for b in range(len(sizes)):
        for k in range(starts[b], starts[b + 1]):
            of_row[fill[rows[k]]] = b
            fill[rows[k]] += 1
    count = np.zeros(n, dtype=np.int32)
    seen = np.empty(n, dtype=np.int64)
    out = np.empty((max(16, len(rows)), 2), dtype=np.int64)
    m = 0
    for a in range(n):
        ns = 0
        for q in range(per_row[a], per_row[a + 1]):
            b = of_row[q]
            for k in range(starts[b], starts[b + 1]):
                other = rows[k]
                if other > a and (touched[a] or touched[other]):
                    if count[other] == 0:
                        seen[ns] = other
                        ns += 1
                    count[other] += 1
        if ns == 0:
            continue
        partners = np.sort(seen[:ns])
        for t in range(ns):
            other = partners[t]
            c = count[other]
            count[other] = 0
            if c >= least and c >= share * min(lengths[a], lengths[other]):
                if m == len(out):
                    grown = np.empty((2 * len(out), 2), dtype=np.int64)
                    grown[:m] = out[:m]
                    out = grown
                out[m, 0] = a
                out[m, 1] = other
                m += 1
    return out[:m].copy()


@njit(nogil=True)
def lead_join(
    parent, lead, rank, li, lj, sk_v, sk_o, size, nu_v, nu_o, en_v, en_o, dated, when, site, bars
):  # pragma: no cover
    """Join groups over the links ``(li[k], lj[k])``, in order, when the groups' earliest rows
    (``lead`` at the root, by ``rank``; a row without a sketch stands for itself) are the link's
    two or are linked as a rewrite too. ``parent`` is a union-find whose root is the group's
    smallest row. Returns how many links joined."""
    joined = 0
    for k in range(len(li)):
        i, j = li[k], lj[k]
        ri, rj = _find(parent, i), _find(parent, j)
        if ri == rj:
            continue
        a, b = lead[ri], lead[rj]
        x = a if size[a] > 0 else i
        y = b if size[b] > 0 else j
        ok = (x == i and y == j) or (x == j and y == i)
        if not ok:
            c = _contained(sk_v, sk_o, size, x, y)
            ok = _kind(sk_v, sk_o, size, nu_v, nu_o, en_v, en_o, dated, when, site, x, y, bars, c) == 1
        if ok:
            low, high = min(ri, rj), max(ri, rj)
            parent[high] = low
            lead[low] = a if rank[a] <= rank[b] else b
            joined += 1
    return joined
