"""Run a check as a user without privileges: root reads a file whatever its mode, so a test of a
file it may not read runs its check in a forked child that is ``nobody`` (as the tests may run as root)."""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
NOBODY = 65534


@contextmanager
def open_folder() -> Iterator[Path]:
    """A fresh folder any user may enter (under the system's temporary folder), removed after."""
    folder = Path(tempfile.mkdtemp(prefix="urdu-etl-perm-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def unprivileged(fn: Callable[[], T]) -> T:
    """``fn()`` as an ordinary user: in this process when it is not root, else in a forked child
    that drops to ``nobody`` first; the value comes back pickled, an exception as an AssertionError.

    ``fn`` must only read. As root it runs once first, its value dropped, so that every module it
    imports on the way is loaded before the fork: ``nobody`` may not be able to read the checkout
    (a clone in a private temporary folder) and could not import them."""
    if os.geteuid() != 0:
        return fn()
    fn()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the test runner
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            data = pickle.dumps(("ok", fn()))
        except BaseException as exc:
            data = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
        with os.fdopen(write, "wb") as out:
            out.write(data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        data = inp.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise AssertionError(f"in the unprivileged child: {value}")
    return value
