"""Named crash points, for the tests that prove a run survives being killed anywhere.

``URDU_ETL_FAILPOINT=name`` (or ``name:n``) makes the process kill itself with SIGKILL the first
(or n-th) time execution reaches ``hit(name)``: no cleanup, no ``finally``, as when a worker is
lost. Unset, ``hit`` only looks the variable up. Each process counts its own hits: in a run whose
shards are transformed by a pool of workers (``--workers``), ``shard_done:n`` kills the first
worker to finish n shards, and the run with it (``etl/runner.py``).
"""

from __future__ import annotations

import os
import signal

from etl import settings

#: The points the pipeline passes, in order.
POINTS = ("fetched", "shard_done", "lake_file", "lake_written", "load_deleted", "loaded")
_seen: dict[str, int] = {}


def hit(name: str) -> None:
    spec = settings.read("failpoint")
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
