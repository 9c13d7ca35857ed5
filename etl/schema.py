"""Every table the pipeline writes, defined once: the lake's Arrow schemas and the warehouse's tables
both come from the column lists here, and ``docs/SCHEMA.md`` documents each column (a test holds
the page to these lists, names and types).

A column has its Arrow type (in the lake), whether it may be null, and hints for the warehouse: its
SQL type when the one derived from the Arrow type will not do (``varchar(16)``, ``date``), whether
it is part of the primary key, and whether it is nullable there although the lake always fills it
(columns added after the warehouse's first release: older rows have no value). A new column is one
line here and its line in ``docs/SCHEMA.md``.

Every lake table is partitioned by ``ingest_date`` and ``source``, which live in the hive-style
directory names, not in the files, so plain ``pyarrow.dataset``, pandas and DuckDB read them back
as columns. The warehouse holds them as real columns where a table lists them (``partition=True``:
articles, rejects, duplicates). A warehouse table puts its key columns first, then the partition
columns, then the others in the order given.

This module imports pyarrow, not SQLAlchemy: ``etl.load.warehouse`` builds the SQL tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from etl.contracts import ACCOUNTING


@dataclass(frozen=True)
class Column:
    """One column: ``type`` in the lake; ``null``: may hold nulls; ``sql``: the warehouse type when
    not derived from ``type``; ``key``: part of the warehouse primary key; ``partition``: in the
    lake's folder names, not its files; ``sql_null``: nullable in the warehouse although not null
    in the lake."""

    name: str
    type: pa.DataType
    null: bool = False
    sql: str | None = None
    key: bool = False
    partition: bool = False
    sql_null: bool = False

    @property
    def sql_type(self) -> str:
        """The warehouse type, in the words ``docs/SCHEMA.md`` uses (``etl.load.warehouse`` maps them)."""
        return self.sql or _SQL_OF[str(self.type)]

    @property
    def warehouse_nullable(self) -> bool:
        return self.null or self.sql_null


@dataclass(frozen=True)
class Table:
    """A table: its columns, where it is kept, and its warehouse indexes (name -> columns)."""

    name: str
    columns: tuple[Column, ...]
    lake: bool = True
    warehouse: bool = True
    indexes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def arrow(self) -> pa.Schema:
        """The lake files' schema: every column but the partition ones."""
        return pa.schema([(c.name, c.type) for c in self.columns if not c.partition])

    @property
    def warehouse_columns(self) -> list[Column]:
        """The warehouse table's columns: key columns, then partition columns, then the rest."""
        keys = [c for c in self.columns if c.key]
        parts = [c for c in self.columns if c.partition and not c.key]
        return keys + parts + [c for c in self.columns if not c.key and not c.partition]


STRING, INT32, INT64, FLOAT32 = pa.string(), pa.int32(), pa.int64(), pa.float32()
TIMESTAMP = pa.timestamp("us", tz="UTC")
DATE = pa.date32()
STRINGS = pa.list_(pa.string())
#: The MinHash signature: ``etl.dedup.minhash.NUM_PERM`` values (that module checks the two agree).
SIGNATURE = pa.list_(pa.uint32(), 128)
#: 32-bit keys of the copy search's second stage (``etl.dedup.rewrites``).
KEYS = pa.list_(pa.uint32())

# The warehouse type derived from each lake type (lists are stored as text: see docs/SCHEMA.md).
_SQL_OF = {
    str(STRING): "text",
    str(INT32): "integer",
    str(INT64): "bigint",
    str(FLOAT32): "float",
    str(TIMESTAMP): "timestamp with time zone",
    str(DATE): "date",
    str(STRINGS): "text",
}


def C(name: str, type_: pa.DataType, **hints) -> Column:
    return Column(name, type_, **hints)


def _partition(key: bool = False) -> tuple[Column, Column]:
    return (
        C("ingest_date", STRING, sql="date", partition=True, key=key),
        C("source", STRING, sql="varchar(100)", partition=True, key=key),
    )


def _accounting() -> tuple[Column, ...]:
    return tuple(C(name, INT32) for name in ACCOUNTING)


ARTICLES_TABLE = Table(
    "articles",
    (
        C("article_id", STRING, sql="varchar(16)", key=True),
        *_partition(),
        C("external_id", STRING, null=True),
        C("url", STRING, null=True),
        C("source_file", STRING),
        C("record_no", INT64),
        C("headline", STRING, null=True),
        C("summary", STRING, null=True),
        C("caption", STRING, null=True),
        C("photo_credit", STRING, null=True),
        C("dateline_city", STRING, null=True),
        C("dateline_date", DATE, null=True),
        C("agency", STRING, null=True),
        C("agency_key", STRING, null=True),
        C("source_site", STRING, null=True),
        C("category_raw", STRING, null=True),
        C("category", STRING, null=True, sql="varchar(40)"),
        C("category_source", STRING, null=True, sql="varchar(10)"),
        C("category_confidence", FLOAT32, null=True),
        C("published_at", TIMESTAMP, null=True),
        C("body", STRING),
        C("body_raw", STRING),
        C("paragraph_count", INT32),
        C("sentence_count", INT32),
        C("word_count", INT32),
        C("char_count", INT32),
        C("urdu_share", FLOAT32, sql_null=True),
        C("reading_time_s", INT32, sql_null=True),
        C("boilerplate_chars", INT32, sql_null=True),
        C("keywords", STRINGS, sql_null=True),
        C("quality_flags", STRINGS, sql_null=True),
        C("content_hash", STRING, sql="varchar(16)"),
        C("duplicate_of", STRING, null=True, sql="varchar(16)"),
        C("duplicate_kind", STRING, null=True, sql="varchar(10)"),
        C("duplicate_similarity", FLOAT32, null=True),
        C("story_id", STRING, null=True, sql="varchar(16)"),
        C("repairs", STRING, null=True),
        C("normalizer_version", STRING, sql="varchar(40)"),
        C("enrichment_version", STRING, sql="varchar(200)", sql_null=True),
    ),
    indexes=(
        ("ix_articles_day_source", ("ingest_date", "source")),
        ("ix_articles_published", ("published_at",)),
        ("ix_articles_duplicate_of", ("duplicate_of",)),
        ("ix_articles_dateline_city", ("dateline_city",)),
    ),
)

SENTENCES_TABLE = Table(
    "sentences",
    (
        C("article_id", STRING, sql="varchar(16)", key=True),
        C("sentence_no", INT32, key=True),
        C("paragraph_no", INT32),
        C("text", STRING),
        C("tokens", STRINGS),
        C("word_count", INT32),
        C("normalizer_version", STRING, sql="varchar(40)"),
    ),
)

REJECTS_TABLE = Table(
    "rejects",
    (
        *_partition(key=True),
        C("source_file", STRING, key=True),
        C("record_no", INT64, key=True),
        C("reason", STRING, sql="varchar(40)"),
        C("detail", STRING),
        C("excerpt", STRING),
    ),
)

DUPLICATES_TABLE = Table(
    "duplicates",
    (
        *_partition(key=True),
        C("source_file", STRING, key=True),
        C("record_no", INT64, key=True),
        C("article_id", STRING, sql="varchar(16)"),
        C("duplicate_of_file", STRING),
        C("duplicate_of_record_no", INT64),
        C("reason", STRING, sql="varchar(40)"),
    ),
)

#: Article <-> entity: one row per mention of a person, place or organization.
MENTIONS_TABLE = Table(
    "mentions",
    (
        C("article_id", STRING, sql="varchar(16)", key=True),
        C("entity_id", STRING),
        C("entity_type", STRING, sql="varchar(20)"),
        C("entity_name", STRING),
        C("surface", STRING),
        C("field", STRING, sql="varchar(10)", key=True),
        C("position", INT32, key=True),
    ),
    indexes=(("ix_mentions_entity", ("entity_id",)),),
)

#: The distinct entities a partition mentions.
ENTITIES_TABLE = Table(
    "entities",
    (
        C("entity_id", STRING, key=True),
        C("entity_type", STRING, sql="varchar(20)"),
        C("entity_name", STRING),
    ),
)

#: What the copy search keeps of each loaded article, so later runs can match against it (lake only).
SIGNATURES_TABLE = Table(
    "signatures",
    (
        C("article_id", STRING),
        C("content_hash", STRING),
        C("published_at", TIMESTAMP, null=True),
        C("duplicate_of", STRING, null=True),
        C("story_id", STRING, null=True),
        C("signature", SIGNATURE),
        C("sketch", KEYS),
        C("numbers", KEYS),
        C("entities", KEYS),
        C("site", STRING, null=True),
    ),
    warehouse=False,
)

# Warehouse only: the declared sources, the runs, and each run's dumps.
SOURCES_TABLE = Table(
    "sources",
    (
        C("name", STRING, sql="varchar(100)", key=True),
        C("format", STRING, sql="varchar(20)"),
        C("url_template", STRING),
        C("encoding", STRING, sql="varchar(40)"),
        C("columns", STRING),
        C("last_run_id", STRING, sql="varchar(250)", null=True),
    ),
    lake=False,
)

RUNS_TABLE = Table(
    "runs",
    (
        C("run_id", STRING, sql="varchar(250)", key=True),
        C("day", STRING, sql="date"),
        C("started_at", TIMESTAMP),
        C("finished_at", TIMESTAMP),
        C("status", STRING, sql="varchar(20)"),
        C("sources", STRING),
        *_accounting(),
    ),
    lake=False,
)

DUMPS_TABLE = Table(
    "dumps",
    (
        C("run_id", STRING, sql="varchar(250)", key=True),
        C("source", STRING, sql="varchar(100)", key=True),
        C("day", STRING, sql="date"),
        C("url", STRING),
        C("bytes", INT64),
        C("sha256", STRING, sql="varchar(64)"),
        C("files", INT32),
        *_accounting(),
    ),
    lake=False,
)

#: Every table, by name.
ALL = {
    t.name: t
    for t in (
        ARTICLES_TABLE,
        SENTENCES_TABLE,
        REJECTS_TABLE,
        DUPLICATES_TABLE,
        ENTITIES_TABLE,
        MENTIONS_TABLE,
        SIGNATURES_TABLE,
        SOURCES_TABLE,
        RUNS_TABLE,
        DUMPS_TABLE,
    )
}

PARTITIONING = pa.schema([("ingest_date", pa.string()), ("source", pa.string())])
ARTICLES = ARTICLES_TABLE.arrow
SENTENCES = SENTENCES_TABLE.arrow
REJECTS = REJECTS_TABLE.arrow
DUPLICATES = DUPLICATES_TABLE.arrow
MENTIONS = MENTIONS_TABLE.arrow
ENTITIES = ENTITIES_TABLE.arrow
SIGNATURES = SIGNATURES_TABLE.arrow

#: The lake tables the warehouse loads, with their file schemas.
TABLES = {name: t.arrow for name, t in ALL.items() if t.lake and t.warehouse}
