"""Source declarations: which dumps to fetch for a day, in what format, with which columns.

Everything a run is told is checked here before any work: the sources file (its size, encoding,
YAML, keys and the type of every value), a source's name, URL template, format, columns,
encoding and required fields (``make_source``, the one place a declaration is validated), the
day a run processes (``parse_day``) and a run id given by hand (``check_run_id``). A bad value is
a ``ConfigError`` of one line that names the file, key or flag.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from etl.contracts import SourceSpec
from etl.errors import ConfigError
from etl.read import FORMATS
from etl.records import RAW_FIELDS

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "NAME_MAX",
    "PLACEHOLDERS",
    "ConfigError",
    "Source",
    "check_run_id",
    "load_sources",
    "make_source",
    "parse_day",
    "run_params",
    "source_from_spec",
]

#: A source name: it names partition folders, files and warehouse rows (varchar(100)); at most 63 characters.
NAME_MAX = 63
_NAME = re.compile(rf"[a-z0-9_]{{1,{NAME_MAX}}}")
_URL_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: The placeholders of a URL template, filled with the run's day.
PLACEHOLDERS = ("date", "yyyymmdd", "yyyy", "mm", "dd")
_KNOWN = "{" + "}, {".join(PLACEHOLDERS) + "}"
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PLACEHOLDER = re.compile(r"\{(?:" + "|".join(PLACEHOLDERS) + r")\}")
#: The days a run may process: a date outside is a typo, not a day of news.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A run id given by hand names folders (``staging/<day>/<run>``) and warehouse rows.
RUN_ID_MAX = 120
_RUN_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.:+-]{{0,{RUN_ID_MAX - 1}}}")
#: Limits of the sources file and its values.
SOURCES_FILE_MAX_BYTES = 1 << 20
URL_MAX, COLUMN_MAX, ENCODING_MAX = 4096, 256, 64
#: The keys of the sources file: at the top, and in each entry (``None``: required).
TOP_KEYS = ("sources",)
SOURCE_KEYS: dict[str, Any] = {
    "name": None,
    "url": None,
    "format": None,
    "columns": {},
    "encoding": "utf-8",
    "required": ["body"],
}


@dataclass(frozen=True)
class Source:
    """One declared news source.

    ``url`` is a template: ``{date}`` (YYYY-MM-DD), ``{yyyymmdd}``, ``{yyyy}``, ``{mm}`` and
    ``{dd}`` are filled with the run's day; ``{{`` and ``}}`` are a literal brace, and any other
    brace is an error (``make_source``). It may be a local path, ``file://`` or any fsspec URL
    (``http(s)://``, ``s3://`` ...), naming a file, an archive or a local folder. ``columns`` maps
    canonical fields (headline, body, url, ...) to the dump's column names for csv and jsonl.
    """

    name: str
    url: str
    format: str
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    required: tuple[str, ...] = ("body",)

    def url_for(self, day: dt.date) -> str:
        return _fill(
            self.url,
            {
                "date": day.isoformat(),
                "yyyymmdd": f"{day.year:04d}{day.month:02d}{day.day:02d}",
                "yyyy": f"{day.year:04d}",
                "mm": f"{day.month:02d}",
                "dd": f"{day.day:02d}",
            },
        )

    def spec(self) -> SourceSpec:
        """The declaration as JSON, as it travels inside a ``Shard`` (to XCom, under Airflow): the
        URL's password shown as ``***``, since the stages after the fetch never use it."""
        return SourceSpec(
            name=self.name,
            url=_redact(self.url),
            format=self.format,
            columns=dict(self.columns),
            encoding=self.encoding,
            required=list(self.required),
        )


def _redact(url: str) -> str:
    """``url`` with its password shown as ``***`` (``etl.fetch.credentials.redact``)."""
    from etl.fetch.credentials import redact  # etl.fetch imports this module

    return redact(url)


def _fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with its placeholders filled; ``ValueError`` names a brace that is not one."""

    def one(m: re.Match) -> str:
        token = m.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if m.group(1) is not None and m.group(1) in values:
            return values[m.group(1)]
        if m.group(1) is not None:
            raise ValueError(f"unknown placeholder {token!r}; the known ones are {_KNOWN} ({{{{ and }}}} for a brace)")
        raise ValueError(f"a lone {token!r}; write {token * 2} for a literal brace")

    return _TOKEN.sub(one, template)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def literal_template(path: str) -> str:
    """A path given on the command line as a template: the known placeholders stay placeholders,
    every other brace is literal (``dump {1}.csv`` names that file)."""
    out, at = [], 0
    for m in _PLACEHOLDER.finditer(path):
        out += [_escape(path[at : m.start()]), m.group(0)]
        at = m.end()
    return "".join(out) + _escape(path[at:])


def parse_day(value: Any, where: str = "date") -> dt.date:
    """A run's day from ``YYYY-MM-DD`` text (or a ``date``), between ``FIRST_DAY`` and ``LAST_DAY``."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        text = value.strip() if isinstance(value, str) else None
        if text is None or not _DAY.fullmatch(text):
            raise ConfigError(f"{where} {_shown(value)} is not a YYYY-MM-DD date")
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise ConfigError(f"{where} {text!r} is not a YYYY-MM-DD date (no such day)") from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ConfigError(f"{where} {value.isoformat()} is out of range: a run's day lies in {FIRST_DAY}..{LAST_DAY}")
    return value


def check_run_id(run_id: Any, where: str = "run id") -> str:
    """A run id given by hand: 1 to 120 letters, digits and ``_ . : + -``, starting with a letter or digit."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise ConfigError(
            f"{where} {_shown(run_id)}: use 1 to {RUN_ID_MAX} letters, digits and _ . : + -, "
            "starting with a letter or digit"
        )
    return run_id


#: The params of a manual DAG run, with their defaults.
RUN_PARAMS: dict[str, Any] = {"date": None, "sources": [], "dump_url": None, "missing_dump_ok": True}


@dataclass(frozen=True)
class RunParams:
    """The params of a DAG run, checked: source names, an explicit dump, whether a missing dump is skipped."""

    date: Any
    sources: list[str]
    dump_url: str | None
    missing_dump_ok: bool


def run_params(params: Mapping[str, Any]) -> RunParams:
    """A DAG run's params (``date``, ``sources``, ``dump_url``, ``missing_dump_ok``), checked before any
    work: an unknown param (a typo of the run's conf) or a value of the wrong type is a ``ConfigError``.
    The date is checked by ``resolve_day``, the source names against the sources file by ``select_sources``."""
    for k in params:
        if k not in RUN_PARAMS:
            raise ConfigError(
                f"unknown param {_shown(k)}{_suggest(k, RUN_PARAMS)}; the params are {', '.join(RUN_PARAMS)}"
            )
    got = {**RUN_PARAMS, **{k: v for k, v in params.items() if v is not None}}
    names = got["sources"]
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f'param sources must be a list of source names such as ["geo"], not {_shown(names)}')
    dump_url = got["dump_url"]
    if dump_url is not None and not isinstance(dump_url, str):
        raise ConfigError(f"param dump_url must be a string, not {_kind(dump_url)}")
    if not isinstance(got["missing_dump_ok"], bool):
        raise ConfigError(f"param missing_dump_ok must be true or false, not {_kind(got['missing_dump_ok'])}")
    return RunParams(got["date"], list(names), (dump_url or "").strip() or None, got["missing_dump_ok"])


def _shown(value: Any, limit: int = 80) -> str:
    """A value as an error message shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "…" + text[-4:]


def _kind(value: Any) -> str:
    """What a value of the wrong type is, in words: ``a number (8)``, ``a list``, ``empty``."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, dt.date):
        return f"a date ({value.isoformat()}); quote it"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _suggest(word: Any, known: Iterable[str]) -> str:
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(str(word).lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]}?)" if close else ""


def _string(value: Any, what: str, limit: int) -> str:
    """``value`` checked as a non-empty string of at most ``limit`` characters without control characters."""
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string, not {_kind(value)}")
    if not value.strip():
        raise ConfigError(f"{what} is empty")
    if len(value) > limit:
        raise ConfigError(f"{what} is {len(value)} characters long; at most {limit}")
    if _CONTROL.search(value):
        raise ConfigError(f"{what} {_shown(value)} holds a control character (a newline, a tab ...)")
    return value


#: How ``make_source`` names what it checks: the sources file's keys.
_KEYS = {k: k for k in SOURCE_KEYS} | {"name": "source name"}


def source_from_spec(spec: SourceSpec) -> Source:
    """The ``Source`` a ``SourceSpec`` describes, validated again."""
    return make_source(spec["name"], spec["url"], spec["format"], spec["columns"], spec["encoding"], spec["required"])


def make_source(
    name: Any,
    url: Any,
    fmt: Any,
    columns: Any = None,
    encoding: Any = "utf-8",
    required: Any = None,
    base_dir: Path | None = None,
    *,
    literal_braces: bool = False,
    labels: Mapping[str, str] | None = None,
) -> Source:
    """Validate one declaration and build a ``Source``; relative paths resolve against ``base_dir``.

    ``literal_braces``: ``url`` is a path given on the command line, whose braces other than the
    known placeholders are part of the name. ``labels`` names the values in errors (by default the
    sources file's keys; the command line passes its flags).
    """
    key = {**_KEYS, **(labels or {})}
    name = _string(name, key["name"], NAME_MAX)
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{key['name']} {_shown(name)}: use 1 to {NAME_MAX} lower-case letters, digits and _")
    where = f"source {name}:"
    fmt = _string(fmt, f"{where} {key['format']}", 64)
    if fmt not in FORMATS:
        raise ConfigError(f"{where} {key['format']} {fmt!r} is not one of {', '.join(FORMATS)}{_suggest(fmt, FORMATS)}")
    columns = _columns(columns, f"{where} {key['columns']}")
    required = _required(required, f"{where} {key['required']}")
    if FORMATS[fmt].columns and "body" not in columns:
        raise ConfigError(f"{where} format {fmt} needs a column for 'body' in {key['columns']}")
    url = _string(url, f"{where} {key['url']}", URL_MAX)
    if literal_braces:
        url = literal_template(url)
    try:
        _fill(url, dict.fromkeys(PLACEHOLDERS, ""))
    except ValueError as exc:
        raise ConfigError(f"{where} bad placeholder in {key['url']} {_shown(_redact(url))}: {exc}") from None
    scheme = _URL_SCHEME.match(url)
    if scheme:
        _check_scheme(scheme.group(0)[:-3].lower(), f"{where} {key['url']}")
    elif base_dir is not None and not os.path.isabs(url):
        url = os.path.normpath(os.path.join(_escape(str(base_dir.resolve())), url))
    encoding = _string("utf-8" if encoding is None else encoding, f"{where} {key['encoding']}", ENCODING_MAX)
    try:
        codecs.getincrementaldecoder(encoding)  # a LookupError for a codec that is no text encoding (rot13)
        "a".encode(encoding)  # a UnicodeError for the codec "undefined"
    except (LookupError, ValueError, UnicodeError):
        raise ConfigError(
            f"{where} unknown encoding {encoding!r} ({key['encoding']}); use a text encoding such as utf-8"
        ) from None
    return Source(name=name, url=url, format=fmt, columns=columns, encoding=encoding, required=required)


def _columns(columns: Any, where: str) -> dict[str, str]:
    if columns is None:
        return {}
    if not isinstance(columns, Mapping):
        raise ConfigError(f"{where} must be a mapping of field: column, not {_kind(columns)}")
    out = {}
    for fld, column in columns.items():
        if not isinstance(fld, str) or fld not in RAW_FIELDS:
            raise ConfigError(
                f"{where}: unknown field(s) in columns: {_shown(fld)}{_suggest(fld, RAW_FIELDS)}; "
                f"known fields: {', '.join(RAW_FIELDS)}"
            )
        out[fld] = _string(column, f"{where}.{fld}", COLUMN_MAX)
    return out


def _required(required: Any, where: str) -> tuple[str, ...]:
    if required is None:
        return ("body",)
    if not isinstance(required, list | tuple):
        raise ConfigError(f"{where} must be a list of fields such as [body], not {_kind(required)}")
    for fld in required:
        if not isinstance(fld, str):
            raise ConfigError(f"{where} must list field names, not {_kind(fld)}")
    unknown = [f for f in required if f not in RAW_FIELDS]
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) in required: {', '.join(map(repr, unknown))}"
            f"{_suggest(unknown[0], RAW_FIELDS)}; known fields: {', '.join(RAW_FIELDS)}"
        )
    return tuple(dict.fromkeys(required)) or ("body",)


def _check_scheme(scheme: str, where: str) -> None:
    import fsspec

    if scheme not in fsspec.available_protocols():
        raise ConfigError(
            f"{where}: no filesystem knows the URL scheme {scheme}://{_suggest(scheme, ['http', 'https', 'file', 's3'])}"
        )


class _Loader(yaml.SafeLoader):
    """YAML's safe loader without aliases (a few lines of them expand to gigabytes) or duplicate keys."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(problem="aliases (*name) are not allowed", problem_mark=event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                raise yaml.MarkedYAMLError(problem=f"key {key!r} appears twice", problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error in one line: where, and what."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = ", ".join(str(part) for part in (exc.context, exc.problem) if part) or "unreadable"
        return at + " ".join(what.split())
    return " ".join(str(exc).split())


def _read_text(path: Path) -> str:
    """The sources file's text: a regular file of at most ``SOURCES_FILE_MAX_BYTES``, UTF-8."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"sources file {path} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"sources file {path} is not a regular file")
        if info.st_size > SOURCES_FILE_MAX_BYTES:
            raise ConfigError(f"sources file {path} is {info.st_size} bytes; at most {SOURCES_FILE_MAX_BYTES}")
        with path.open("rb") as fh:
            data = fh.read(SOURCES_FILE_MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"sources file not found: {path} (pass --config FILE, or set URDU_ETL_SOURCES, or URDU_ETL_HOME to "
            "the folder that holds config/sources.yaml)"
        ) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise ConfigError(f"sources file {path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    if len(data) > SOURCES_FILE_MAX_BYTES:
        raise ConfigError(f"sources file {path} is more than {SOURCES_FILE_MAX_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"sources file {path} is not UTF-8 text (byte {exc.start} cannot be decoded)") from None
    if "\x00" in text:
        raise ConfigError(f"sources file {path} is binary, not YAML text (it holds NUL bytes)")
    return text


def _refuse_unknown_keys(mapping: dict, known, where: str, hint: str) -> None:
    """A ``ConfigError`` for the first key of ``mapping`` not in ``known``, with a suggestion and ``hint``."""
    for k in mapping:
        if k not in known:
            raise ConfigError(f"{where}: unknown key {_shown(k)}{_suggest(k, known)}; {hint}")


def load_sources(path: str | os.PathLike) -> dict[str, Source]:
    """Read a sources YAML file (see ``config/sources.yaml``) into ``{name: Source}``."""
    path = Path(path)
    text = _read_text(path)
    try:
        doc = yaml.load(text, Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(f"sources file {path} is not valid YAML: {_yaml_problem(exc)}") from None
    except RecursionError:
        raise ConfigError(f"sources file {path} is not valid YAML: nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # a value YAML's own constructors refuse: 2024-13-45, a huge number
        raise ConfigError(f"sources file {path} is not valid YAML: {' '.join(str(exc).split())}") from None
    if doc is None:
        raise ConfigError(f"sources file {path} is empty: expected a 'sources:' list")
    if not isinstance(doc, dict):
        raise ConfigError(f"sources file {path}: expected a mapping with a 'sources:' list, not {_kind(doc)}")
    _refuse_unknown_keys(doc, TOP_KEYS, f"sources file {path}", "expected 'sources:'")
    entries = doc.get("sources")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"sources file {path}: expected a non-empty 'sources:' list, not {_kind(entries)}")
    out: dict[str, Source] = {}
    for i, entry in enumerate(entries, 1):
        where = f"sources file {path}: entry {i}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} is not a mapping of name, url, format ... but {_kind(entry)}")
        _refuse_unknown_keys(entry, SOURCE_KEYS, where, f"known keys: {', '.join(SOURCE_KEYS)}")
        missing = [k for k, default in SOURCE_KEYS.items() if default is None and k not in entry]
        if missing:
            raise ConfigError(f"{where} lacks {', '.join(missing)}")
        try:
            src = make_source(
                entry["name"],
                entry["url"],
                entry["format"],
                entry.get("columns"),
                entry.get("encoding", SOURCE_KEYS["encoding"]),
                entry.get("required"),
                base_dir=path.parent,
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if src.name in out:
            raise ConfigError(f"{where}: source {src.name} is declared twice")
        out[src.name] = src
    return out
