"""``etl.memory.release``: freed memory goes back to the system between a run's stages."""

import platform
import subprocess
import sys

from etl import memory

# Run in a fresh interpreter, so that no other test's heap is measured. 150,000 blocks of 1,500
# bytes (past pymalloc's small-object limit, so glibc's heap serves them) are freed but the last,
# which pins the heap's top: glibc gives nothing back by itself until it is trimmed.
_PROBE = """
import psutil
from etl import memory
rss = lambda: psutil.Process().memory_info().rss >> 20
blocks = [bytes(1500) for _ in range(150_000)]
last = bytes(1500)
del blocks
held = rss()
memory.release()
print(held, rss())
"""


def test_release_hands_freed_heap_memory_back_to_the_system():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout
    held, after = map(int, out.split())
    if platform.libc_ver()[0] == "glibc":
        assert memory._malloc_trim() is not None
        assert held - after >= 150, (held, after)  # of the 214 MB the blocks took
    else:  # another C library has no malloc_trim: Arrow's pool alone is released
        assert after <= held


def test_release_can_be_called_at_any_time():
    memory.release()
    memory.release()
