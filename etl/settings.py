"""Every setting of the pipeline, read from the environment in one place, each with one default.

``Settings.from_env()`` reads and validates all the ``URDU_ETL_*`` variables at once; a bad value
is a ``ConfigError`` naming the variable. A run reads them when it starts (each Airflow task when
it starts) and hands the ``Settings`` down; no other module reads an ``URDU_ETL_*`` variable (the
test-only failpoint is looked up through ``read``, on each hit; Airflow's own ``AIRFLOW_CONN_*``
variable is read where the warehouse URL is resolved, and the fetch's credentials, ``NETRC`` and
``AIRFLOW_CONN_URDU_ETL_FETCH_*``, through ``outside_variable``). ``KNOBS`` lists them with their defaults and
meanings, as the README's table of settings does (a test holds the two equal). The data dir and
the sources file default to folders under the home folder, ``URDU_ETL_HOME`` or else the current
directory, so ``urdu-etl`` runs from any directory; a relative path resolves against the current one.

This module imports nothing beyond the standard library: the DAG file reads the time zone from
it at parse time.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from etl.errors import ConfigError, EtlError, StorageError, StorageFull


def _text(value: str) -> str:
    return value


def _path(value: str) -> Path:
    try:
        return Path(value).expanduser().resolve()
    except (RuntimeError, OSError) as exc:  # ~user that does not exist, a symlink loop
        raise ValueError(f"not a usable path ({exc})") from None


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError("not a time zone of the IANA database, such as Asia/Karachi") from exc
    return value


def _number(value: str, what: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"not a {what}") from None
    if not math.isfinite(number):
        raise ValueError(f"not a finite {what}")
    return number


#: Upper bounds of the numeric settings: beyond them a value is a typo, and would overflow a sleep or a date.
MAX_SHARD_MB, MAX_DEDUP_DAYS, MAX_FETCH_ATTEMPTS, MAX_FETCH_BACKOFF, MAX_FETCH_TIMEOUT = 4096, 36500, 100, 3600, 86400


def _at_most(number: float, limit: float) -> None:
    if number > limit:
        raise ValueError(f"must be at most {limit}")


def _megabytes(value: str) -> int:
    mb = _number(value, "number of megabytes")
    if not mb > 0:
        raise ValueError("must be more than 0")
    _at_most(mb, MAX_SHARD_MB)
    return max(1, int(mb * (1 << 20)))


#: The fetch's size cap of one file may go past the shard size's bound, up to 1 TiB.
MAX_FETCH_MB = 1 << 20


def _fetch_megabytes(value: str) -> int:
    mb = _number(value, "number of megabytes")
    if not mb > 0:
        raise ValueError("must be more than 0")
    _at_most(mb, MAX_FETCH_MB)
    return max(1, int(mb * (1 << 20)))


def _days(value: str) -> int | None:
    value = value.strip().lower()
    if value == "all":
        return None
    if not (value.isascii() and value.isdigit()):
        raise ValueError("not a number of days or 'all'")
    days = int(value)
    _at_most(days, MAX_DEDUP_DAYS)
    return days


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError("not a whole number") from None
    if number < 1:
        raise ValueError("must be 1 or more")
    _at_most(number, MAX_FETCH_ATTEMPTS)
    return number


def _wait(value: str) -> float:
    seconds = _number(value, "number of seconds")
    if seconds < 0:
        raise ValueError("must not be negative")
    _at_most(seconds, MAX_FETCH_BACKOFF)
    return seconds


def _timeout(value: str) -> float:
    seconds = _number(value, "number of seconds")
    if not seconds > 0:
        raise ValueError("must be more than 0")
    _at_most(seconds, MAX_FETCH_TIMEOUT)
    return seconds


def _hours(value: str) -> float:
    hours = _number(value, "number of hours")
    if hours < 0:
        raise ValueError("must not be negative")
    return hours * 3600


def lake_location(location: str | os.PathLike) -> Path | str:
    """A lake location as a ``Path`` (a local folder, also from a ``file://`` URL) or a URL string."""
    text = os.fspath(location)
    if "://" not in text:
        return Path(text)
    if text.startswith("file://"):
        return Path(text.removeprefix("file://"))
    return text.rstrip("/")


@dataclass(frozen=True)
class Knob:
    """One setting: its variable, its default as the docs show it, and what it means."""

    field: str
    variable: str
    default: str
    meaning: str
    parse: Callable[[str], Any] = _text


KNOBS: tuple[Knob, ...] = (
    Knob(
        "home",
        "URDU_ETL_HOME",
        "the current directory",
        "the folder that the data dir and the sources file default to: `<home>/data`, `<home>/config/sources.yaml`",
        _path,
    ),
    Knob(
        "data_dir",
        "URDU_ETL_DATA_DIR",
        "`<home>/data`",
        "root of the lake, staging, run summaries and the default SQLite warehouse",
        _path,
    ),
    Knob(
        "lake_url",
        "URDU_ETL_LAKE_URL",
        "`<data dir>/lake`",
        "the lake: a local folder or an fsspec URL such as `s3://bucket/prefix`",
    ),
    Knob(
        "warehouse_url",
        "URDU_ETL_WAREHOUSE_URL",
        "the Airflow connection `urdu_warehouse`, else SQLite at `<data dir>/warehouse.db`",
        "SQLAlchemy URL of the warehouse (PostgreSQL or SQLite)",
    ),
    Knob("sources_file", "URDU_ETL_SOURCES", "`<home>/config/sources.yaml`", "the sources file", _path),
    Knob(
        "timezone",
        "URDU_ETL_TIMEZONE",
        "`Asia/Karachi`",
        "time zone of the nightly schedule: a scheduled run processes the previous day, midnight to midnight here",
        _timezone,
    ),
    Knob(
        "shard_bytes",
        "URDU_ETL_SHARD_MB",
        "`8`",
        "a CSV or JSONL file larger than this many MiB is cut into shards of whole records of about this size",
        _megabytes,
    ),
    Knob(
        "dedup_days",
        "URDU_ETL_DEDUP_DAYS",
        "`30`",
        "how many earlier days of the lake the copy search looks back over (a number, or `all`)",
        _days,
    ),
    Knob(
        "stale_after",
        "URDU_ETL_STALE_AFTER",
        "`6` h",
        "hours after its last write that a staging folder or lake `_tmp` entry no process holds counts as a "
        "killed run's leftover, for a run to remove (`etl/housekeeping.py`)",
        _hours,
    ),
    Knob(
        "fetch_attempts",
        "URDU_ETL_FETCH_ATTEMPTS",
        "`3`",
        "attempts per dump when fetching meets a transient fault",
        _count,
    ),
    Knob(
        "fetch_backoff",
        "URDU_ETL_FETCH_BACKOFF",
        "`2` s",
        "seconds to wait before the second attempt; doubled before each later one",
        _wait,
    ),
    Knob(
        "fetch_timeout",
        "URDU_ETL_FETCH_TIMEOUT",
        "`60` s",
        "seconds a fetch waits to connect, and between bytes read",
        _timeout,
    ),
    Knob(
        "fetch_deadline",
        "URDU_ETL_FETCH_DEADLINE",
        "`3600` s",
        "seconds a fetch may take for one file, however steadily its bytes come; then it is retried as a timeout",
        _timeout,
    ),
    Knob(
        "fetch_max_bytes",
        "URDU_ETL_FETCH_MAX_MB",
        "`4096`",
        "the most MiB one fetched file may hold (a web answer counted after its Content-Encoding is decoded)",
        _fetch_megabytes,
    ),
    Knob(
        "failpoint",
        "URDU_ETL_FAILPOINT",
        "unset",
        "for tests only: `name` or `name:n` kills the process at a named point (`etl/failpoints.py`)",
    ),
)

_DEFAULTS: dict[str, Any] = {
    "lake_url": None,
    "warehouse_url": None,
    "timezone": "Asia/Karachi",
    "shard_bytes": 8 << 20,
    "dedup_days": 30,
    "stale_after": 6 * 3600.0,
    "fetch_attempts": 3,
    "fetch_backoff": 2.0,
    "fetch_timeout": 60.0,
    "fetch_deadline": 3600.0,
    "fetch_max_bytes": 4096 << 20,
    "failpoint": None,
}


def read(field: str, environ: Mapping[str, str] | None = None) -> Any:
    """One setting, read and validated on its own (``field`` as in ``Settings``)."""
    knob = next(k for k in KNOBS if k.field == field)
    raw = (os.environ if environ is None else environ).get(knob.variable, "").strip()
    if not raw:
        return _default(field, environ)
    try:
        return knob.parse(raw)
    except (ValueError, OSError, RuntimeError) as exc:
        shown = repr(raw) if len(raw) <= 80 else repr(raw[:72]) + "…"
        raise ConfigError(f"{knob.variable}={shown}: {' '.join(str(exc).split())}") from None


def _default(field: str, environ: Mapping[str, str] | None) -> Any:
    """A setting's default; the data dir and the sources file lie under the home folder."""
    if field == "home":
        return Path.cwd()
    if field in _UNDER_HOME:
        return read("home", environ).joinpath(*_UNDER_HOME[field])
    return _DEFAULTS[field]


def outside_variable(variable: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A variable of another tool that the fetch honours as that tool does (``NETRC``, Airflow's
    ``AIRFLOW_CONN_*``); ``None`` when unset or empty. Not a setting of the pipeline: no default, no check."""
    value = (os.environ if environ is None else environ).get(variable, "").strip()
    return value or None


#: Defaults relative to the home folder (``URDU_ETL_HOME``, else the current directory).
_UNDER_HOME = {"data_dir": ("data",), "sources_file": ("config", "sources.yaml")}


@dataclass(frozen=True)
class Settings:
    """The pipeline's settings; ``from_env`` reads them, ``replace`` overrides some (command-line flags)."""

    home: Path = dataclasses.field(default_factory=lambda: _default("home", {}))
    data_dir: Path = dataclasses.field(default_factory=lambda: _default("data_dir", {}))
    lake_url: str | None = _DEFAULTS["lake_url"]
    warehouse_url: str | None = _DEFAULTS["warehouse_url"]
    sources_file: Path = dataclasses.field(default_factory=lambda: _default("sources_file", {}))
    timezone: str = _DEFAULTS["timezone"]
    shard_bytes: int = _DEFAULTS["shard_bytes"]
    dedup_days: int | None = _DEFAULTS["dedup_days"]
    stale_after: float = _DEFAULTS["stale_after"]
    fetch_attempts: int = _DEFAULTS["fetch_attempts"]
    fetch_backoff: float = _DEFAULTS["fetch_backoff"]
    fetch_timeout: float = _DEFAULTS["fetch_timeout"]
    fetch_deadline: float = _DEFAULTS["fetch_deadline"]
    fetch_max_bytes: int = _DEFAULTS["fetch_max_bytes"]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Every setting from ``environ`` (default ``os.environ``); a bad value is a ``ConfigError``."""
        return cls(**{k.field: read(k.field, environ) for k in KNOBS if k.field in _FIELDS})

    def replace(self, **changes: Any) -> Settings:
        """These settings with some changed; ``None`` values are ignored (a flag not given)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def lake(self) -> Path | str:
        """Where the lake is: a local folder (``Path``, also from a ``file://`` URL) or an fsspec URL."""
        if not self.lake_url:
            return self.data_dir / "lake"
        where = lake_location(self.lake_url)
        return where.expanduser().resolve() if isinstance(where, Path) else where  # tasks may run elsewhere

    def check_places(self, write: bool = True) -> None:
        """Fail at once, in one line, when the data dir or the lake cannot be written: a data dir
        that is a file or lies on a read-only disk, a lake URL no filesystem knows. With ``write``,
        creates the data dir (and a local lake's folder) when missing and tries writing a file there;
        without, only looks."""
        places = [(self.data_dir, "data dir", "--data-dir or URDU_ETL_DATA_DIR")]
        lake = self.lake
        if isinstance(lake, Path):
            if self.lake_url:
                places.append((lake, "lake", "URDU_ETL_LAKE_URL"))
        else:
            import fsspec

            protocol = lake.split("://", 1)[0]
            try:
                fsspec.get_filesystem_class(protocol)
            except (ValueError, ImportError) as exc:
                raise ConfigError(f"URDU_ETL_LAKE_URL={lake!r}: no filesystem for {protocol}:// ({exc})") from None
        for path, what, named in places:
            if path.exists() and not path.is_dir():
                raise ConfigError(f"{what} {path} ({named}) is a file, not a folder")
            if not write:
                continue
            try:
                path.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=path):
                    pass
            except OSError as exc:
                raise _place_error(exc, f"{what} {path} ({named})") from None

    @property
    def staging(self) -> Path:
        return self.data_dir / "staging"

    @property
    def runs(self) -> Path:
        """Where each day's run summary and report are written: ``runs/<day>/``."""
        return self.data_dir / "runs"

    @property
    def default_warehouse_url(self) -> str:
        """The warehouse when no URL and no Airflow connection name one: SQLite in the data dir."""
        return f"sqlite:///{self.data_dir / 'warehouse.db'}"


def _place_error(exc: OSError, place: str) -> EtlError:
    """Why a data dir or lake cannot be written, as the class of error the command line reports:
    a path that cannot be a folder (under a file, too long, a link loop) is configuration (exit 3);
    a full, read-only or forbidden disk is storage (exit 7), a full one transient."""
    code = errno.errorcode.get(exc.errno or 0, "")
    message = f"{place} cannot be written: {exc.strerror or exc}" + (f" ({code})" if code else "")
    if exc.errno in (errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.EEXIST):
        return ConfigError(message)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(message)
    return StorageError(message)


#: The settings a run is handed; ``failpoint`` is only ever looked up (``read``), by ``etl.failpoints``.
_FIELDS = {f.name for f in dataclasses.fields(Settings)}
