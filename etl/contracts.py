"""What the stages hand each other: the typed records that cross every task boundary.

The run is ``fetch -> transform (one call per Shard) -> write_lake -> load_warehouse -> check``
(``etl/tasks/``). Each record here is a ``TypedDict``: a plain JSON-able dict at run time, because
Airflow carries it between tasks as XCom and the command line as an argument, and a named type to
a reader and to the type checker. They hold paths and counts, never article data.

This module imports nothing beyond the standard library: the DAG file uses it at parse time.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


class SourceSpec(TypedDict):
    """A declared source (``etl.config.Source``) as JSON: how to read its dump."""

    name: str
    url: str
    format: str
    columns: dict[str, str]
    encoding: str
    required: list[str]


class SpanSpec(TypedDict):
    """Records ``first_no + 1 ...`` of a large CSV or JSONL file, bytes ``[start, end)``, from its
    physical line ``first_line + 1`` (``etl.read.tabular.Span``); a CSV span also reads the header,
    bytes ``[0, header_end)``."""

    start: int
    end: int
    first_no: int
    header_end: int
    first_line: int


class RejectRow(TypedDict):
    """A record, or a whole file, that could not become an article (``etl.records.Reject``)."""

    source: str
    file: str
    record_no: int
    reason: str
    detail: str
    excerpt: str


class Shard(TypedDict):
    """One unit of the transform: some files of a staged dump, or a span of one large file.

    ``shard_id`` comes from the files and the span, never from the shard's position, so a retried
    or resumed run finds its earlier output. ``rejects`` holds what fetching refused (archives that
    would not expand, files twice in a dump); they travel with a source's first shard.
    """

    shard_id: str
    source: SourceSpec
    day: str
    staging: str
    dump_sha256: str
    files_dir: str
    files: list[str]
    span: SpanSpec | None
    rejects: list[RejectRow]
    fetch_seconds: float


class ShardResult(TypedDict):
    """A transformed shard: where its Parquet outputs are (``out_dir``) and how its records went."""

    shard_id: str
    source: str
    day: str
    out_dir: str
    staging: str
    records_in: int
    articles: int
    rejected: int
    repairs: dict[str, int]
    fetch_seconds: float
    seconds: float


class SourceCounts(TypedDict):
    """How one source's records of the day went, and what its articles hold: a line of the run summary."""

    records_in: int
    loaded: int
    duplicates: int
    rejected: int
    sentences: int
    mentions: int
    copies: int
    repairs: dict[str, int]


class SourceReport(SourceCounts):
    """One source's part of a day in the lake: its counts, and the files written per table."""

    files: dict[str, list[str]]


class LakeReport(TypedDict):
    """What ``write_lake`` wrote for a day: per source, and the seconds of the stages so far."""

    day: str
    lake: str
    staging: list[str]
    sources: dict[str, SourceReport]
    stages: dict[str, float]


class LoadReport(TypedDict):
    """What ``load_warehouse`` wrote: rows per table, in the run ``run_id``."""

    run_id: str
    day: str
    written: dict[str, int]
    seconds: float


class RunOutcome(TypedDict):
    """A checked run's status and accounting: the check task's XCom."""

    run_id: str
    day: str
    status: str
    records_in: int
    loaded: int
    duplicates: int
    rejected: int


class RunSummary(RunOutcome):
    """A checked run with its detail: ``runs/<day>/summary.json``, what ``python -m etl summary`` prints."""

    sources: dict[str, SourceCounts]
    partitions: list[str]
    lake: str
    warehouse: str
    warehouse_tables: dict[str, int]
    problems: list[str]
    stages: dict[str, float]
    report: NotRequired[str]


#: A count of the accounting below: a key of ``SourceCounts`` and of ``RunOutcome``.
AccountingKey = Literal["records_in", "loaded", "duplicates", "rejected"]

#: How every input record is accounted for: records_in = loaded + duplicates + rejected.
ACCOUNTING: tuple[AccountingKey, ...] = ("records_in", "loaded", "duplicates", "rejected")

#: The tables of the lake and of the warehouse, as the DAG declares them as Assets (``etl.schema``
#: defines their columns; a test holds the two equal).
LAKE_TABLES = ("articles", "sentences", "rejects", "duplicates", "entities", "mentions", "signatures")
WAREHOUSE_TABLES = (
    "articles",
    "sentences",
    "rejects",
    "duplicates",
    "entities",
    "mentions",
    "sources",
    "runs",
    "dumps",
)
