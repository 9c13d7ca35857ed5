"""One taxonomy of the errors a run stops on: terminal (retrying cannot help) or transient (it may).

Every error the pipeline raises on purpose is an ``EtlError``. Its class says two things:

* ``transient``: whether the same call may succeed later (a network fault, a busy database). The
  DAG lets Airflow retry a transient error and fails the task at once on a terminal one (bad
  configuration, a dump that cannot be read, a broken invariant), so a mistyped sources file is not
  retried for a quarter of an hour.
* ``exit_code``: what the command line (``python -m etl``) exits with. The codes are documented in
  ``etl/cli.py`` and the README.

Anything else that escapes a stage is a bug, not an expected failure: the command line prints its
traceback, and Airflow retries it like any task failure.
"""

from __future__ import annotations

#: Exit codes of the command line, one per class of failure (2, a bad command line, is argparse's).
OK, RUN_FAILED, CONFIG_ERROR, FETCH_ERROR, WAREHOUSE_ERROR, NOTHING_TO_SHOW = 0, 1, 3, 4, 5, 6
#: The data dir or the lake cannot be written (a full disk, a quota, a read-only or forbidden folder).
STORAGE_ERROR = 7


class EtlError(Exception):
    """A failure the pipeline expects and reports in one line; terminal unless a subclass says otherwise."""

    transient = False
    exit_code = RUN_FAILED


class TransientError(EtlError):
    """A fault that may pass: the same call can succeed when retried."""

    transient = True


class ConfigError(EtlError):
    """The sources file, a setting (``URDU_ETL_*``) or a command-line value is not valid."""

    exit_code = CONFIG_ERROR


class FetchError(EtlError):
    """A dump could not be fetched: permission, a refused file name, an error the server will repeat."""

    exit_code = FETCH_ERROR


class NoDumpError(FetchError):
    """The source published no dump for the day: the URL does not exist. Transient: the source may
    publish it later (a run that skips missing dumps never raises it)."""

    transient = True


class TransientFetchError(FetchError, TransientError):
    """A fetch fault that may pass: a server error (5xx, 429), a timeout, a dropped or truncated
    transfer. The fetch retries it itself before it gives up (``URDU_ETL_FETCH_ATTEMPTS``)."""


class UnclassifiedFetchError(FetchError):
    """An error of a filesystem backend that the fetch cannot tell apart (throttling, a full disk, a
    lost mount): it may pass, so Airflow retries the task."""

    transient = True


class WarehouseError(EtlError):
    """The warehouse cannot be used: an unsupported database, tables of an older schema, a connection
    that cannot be read, a statement the database refuses."""

    exit_code = WAREHOUSE_ERROR


class WarehouseUnavailable(WarehouseError, TransientError):
    """The warehouse did not answer or was busy (connection refused, database locked, deadlock)."""


class StorageError(EtlError):
    """The data dir (staging, run summaries) or the lake cannot be written: read-only, permission
    denied, a file larger than the file system or the process allows. What the failed write had
    staged is removed; a lake partition keeps its old files."""

    exit_code = STORAGE_ERROR


class StorageFull(StorageError, TransientError):
    """No space left on the device, or the disk quota is used up: it may pass when space is freed."""


class InvariantError(EtlError):
    """The run's outputs break an invariant: counts that do not add up, lake and warehouse that disagree."""


def is_terminal(exc: BaseException) -> bool:
    """Whether retrying the call that raised ``exc`` cannot help (an ``EtlError`` that is not transient)."""
    return isinstance(exc, EtlError) and not exc.transient
