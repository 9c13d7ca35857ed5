"""What the compiled scans (``normalize_scan``, ``token_scan``, ``boundary_scan``, ``entity_scan``, and
``etl.dedup.compiled``) share: numba's ``njit``, cached on disk where a cache can be written; the UTF-8
character at a byte; an Arrow string array's buffers as numpy arrays.

numba keeps compiled code in ``NUMBA_CACHE_DIR`` when that is set, else beside the module
(``__pycache__``), else in the user's cache folder; with ``cache=True`` and none of them writable
it refuses to compile at all. A read-only checkout run by a user without a home folder (a locked-down
container) is such a case: there the scans are compiled without a cache, once per process (about
a minute for the pipeline's five compiled modules, ``etl.dedup.compiled`` included), and a warning says
how to avoid it.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)
_warned: list[bool] = []


def njit(**options):
    """``numba.njit(cache=True, **options)``, or without the cache when numba has nowhere to keep it."""
    import numba

    def wrap(fn):
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError as exc:  # "cannot cache function ...: no locator available"
            if not _warned:
                _warned.append(True)
                log.warning(
                    "the text stage's compiled scans cannot be cached (%s); each process compiles "
                    "them again: set NUMBA_CACHE_DIR to a writable folder",
                    exc,
                )
            return numba.njit(**options)(fn)

    return wrap


@njit()
def utf8_at(data, i):
    """The code point that starts at byte ``i`` of valid UTF-8 ``data``, and its length in bytes."""
    b0 = np.int64(data[i])
    if b0 < 0x80:
        return b0, 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
    if b0 < 0xF0:
        return ((b0 & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (np.int64(data[i + 2]) & 0x3F), 3
    return (
        ((b0 & 0x07) << 18)
        | ((np.int64(data[i + 1]) & 0x3F) << 12)
        | ((np.int64(data[i + 2]) & 0x3F) << 6)
        | (np.int64(data[i + 3]) & 0x3F)
    ), 4


def string_buffers(arr) -> tuple[np.ndarray, np.ndarray]:
    """A ``pyarrow.StringArray``'s offsets (int32, one more than its strings, into ``data``) and
    its data bytes (uint8), without copying."""
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    return offsets, data
