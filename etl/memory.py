"""Handing freed memory back to the system between the stages of a run.

A stage that builds and drops many objects (a shard's transform: Python strings and lists, Arrow
buffers) leaves its freed memory with the allocators that served it: glibc's ``malloc`` keeps the
pages of its heap and arenas, and Arrow's pool (mimalloc or jemalloc) its own. The process's
resident size then stays at the stage's high-water mark, and the next stage's peak stacks on
top of it. ``release`` asks both to return what they hold free, so a one-process run's peak is the
largest stage's, not their sum.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import pyarrow as pa


@cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None on a C library without it (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


def release() -> None:
    """Return freed memory to the system: Arrow's pool first, then glibc's heap and arenas."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
