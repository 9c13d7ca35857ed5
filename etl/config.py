"""Source declarations: which dumps to fetch for a day, in what format, with which columns."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from etl.contracts import SourceSpec
from etl.errors import ConfigError
from etl.read import FORMATS
from etl.records import RAW_FIELDS

_NAME = re.compile(r"^[a-z0-9_]+$")
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)

__all__ = ["ConfigError", "Source", "load_sources", "make_source", "source_from_spec"]


@dataclass(frozen=True)
class Source:
    """One declared news source.

    ``url`` is a template: ``{date}`` (YYYY-MM-DD), ``{yyyymmdd}``, ``{yyyy}``, ``{mm}`` and
    ``{dd}`` are filled with the run's day. It may be a local path, ``file://`` or any fsspec
    URL (``http(s)://``, ``s3://`` ...), naming a file, an archive or a local folder.
    ``columns`` maps canonical fields (headline, body, url, ...) to the dump's column names
    for csv and jsonl.
    """

    name: str
    url: str
    format: str
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    required: tuple[str, ...] = ("body",)

    def url_for(self, day: dt.date) -> str:
        return self.url.format(
            date=day.isoformat(),
            yyyymmdd=day.strftime("%Y%m%d"),
            yyyy=f"{day.year:04d}",
            mm=f"{day.month:02d}",
            dd=f"{day.day:02d}",
        )

    def spec(self) -> SourceSpec:
        """The declaration as JSON, as it travels inside a ``Shard``."""
        return SourceSpec(
            name=self.name,
            url=self.url,
            format=self.format,
            columns=dict(self.columns),
            encoding=self.encoding,
            required=list(self.required),
        )


def source_from_spec(spec: SourceSpec) -> Source:
    """The ``Source`` a ``SourceSpec`` describes, validated again."""
    return make_source(spec["name"], spec["url"], spec["format"], spec["columns"], spec["encoding"], spec["required"])


def make_source(
    name: str,
    url: str,
    fmt: str,
    columns: dict[str, str] | None = None,
    encoding: str = "utf-8",
    required: list[str] | tuple[str, ...] | None = None,
    base_dir: Path | None = None,
) -> Source:
    """Validate one declaration and build a ``Source``; relative paths resolve against ``base_dir``."""
    if not name or not _NAME.match(name):
        raise ConfigError(f"source name {name!r}: use lower-case letters, digits and _")
    if fmt not in FORMATS:
        raise ConfigError(f"source {name}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(RAW_FIELDS))
    if unknown:
        raise ConfigError(
            f"source {name}: unknown field(s) in columns: {', '.join(unknown)}; known fields: {', '.join(RAW_FIELDS)}"
        )
    bad_required = sorted(set(required or ()) - set(RAW_FIELDS))
    if bad_required:
        raise ConfigError(f"source {name}: unknown field(s) in required: {', '.join(bad_required)}")
    if FORMATS[fmt].columns and "body" not in columns:
        raise ConfigError(f"source {name}: format {fmt} needs a column for 'body' in columns")
    if not url:
        raise ConfigError(f"source {name}: url is empty")
    if not _URL_SCHEME.match(url) and base_dir is not None and not os.path.isabs(url):
        url = str((base_dir / url).resolve())
    try:
        "".encode(encoding)
    except LookupError as exc:
        raise ConfigError(f"source {name}: unknown encoding {encoding!r}") from exc
    src = Source(
        name=name, url=url, format=fmt, columns=columns, encoding=encoding, required=tuple(required or ("body",))
    )
    try:
        src.url_for(dt.date(2000, 1, 1))
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"source {name}: bad placeholder in url template {url!r}: {exc}") from exc
    return src


def load_sources(path: str | os.PathLike) -> dict[str, Source]:
    """Read a sources YAML file (see ``config/sources.yaml``) into ``{name: Source}``."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(
            f"sources file not found: {path} (pass --config FILE, or set URDU_ETL_SOURCES, or URDU_ETL_HOME to "
            "the folder that holds config/sources.yaml)"
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"sources file {path} is not valid YAML: {exc}") from exc
    entries = doc.get("sources") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"sources file {path}: expected a non-empty 'sources:' list")
    out: dict[str, Source] = {}
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"sources file {path}: entry {i} is not a mapping")
        missing = [k for k in ("name", "url", "format") if k not in entry]
        if missing:
            raise ConfigError(f"sources file {path}: entry {i} lacks {', '.join(missing)}")
        src = make_source(
            entry["name"],
            entry["url"],
            entry["format"],
            entry.get("columns"),
            entry.get("encoding", "utf-8"),
            entry.get("required"),
            base_dir=path.parent,
        )
        if src.name in out:
            raise ConfigError(f"sources file {path}: source {src.name} is declared twice")
        out[src.name] = src
    return out
