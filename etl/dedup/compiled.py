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
