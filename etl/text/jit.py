"""numba's ``njit`` for the text stage's scans, cached on disk where a cache can be written.

numba keeps compiled code in ``NUMBA_CACHE_DIR`` when that is set, else beside the module
(``__pycache__``), else in the user's cache folder; with ``cache=True`` and none of them writable
it refuses to compile at all. A read-only checkout run by a user without a home folder (a locked-down
container) is such a case: there the scans are compiled without a cache, once per process (about
13 s for both modules), and a warning says how to avoid it.
"""

from __future__ import annotations

import logging

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
                log.warning("the text stage's compiled scans cannot be cached (%s); each process compiles "
                            "them again: set NUMBA_CACHE_DIR to a writable folder", exc)
            return numba.njit(**options)(fn)

    return wrap
