"""Arrow schemas of the lake tables; ``docs/SCHEMA.md`` documents every column.

Partition columns (``ingest_date``, ``source``) live in the hive-style directory names, not in
the files, so plain ``pyarrow.dataset``, pandas and DuckDB read them back as columns.
"""

from __future__ import annotations

import pyarrow as pa

PARTITIONING = pa.schema([("ingest_date", pa.string()), ("source", pa.string())])

ARTICLES = pa.schema([
    ("article_id", pa.string()),
    ("external_id", pa.string()),
    ("url", pa.string()),
    ("source_file", pa.string()),
    ("record_no", pa.int64()),
    ("headline", pa.string()),
    ("summary", pa.string()),
    ("caption", pa.string()),
    ("photo_credit", pa.string()),
    ("dateline_city", pa.string()),
    ("agency", pa.string()),
    ("source_site", pa.string()),
    ("category_raw", pa.string()),
    ("category", pa.string()),
    ("category_source", pa.string()),
    ("category_confidence", pa.float32()),
    ("published_at", pa.timestamp("us", tz="UTC")),
    ("body", pa.string()),
    ("body_raw", pa.string()),
    ("paragraph_count", pa.int32()),
    ("sentence_count", pa.int32()),
    ("word_count", pa.int32()),
    ("char_count", pa.int32()),
    ("urdu_share", pa.float32()),
    ("reading_time_s", pa.int32()),
    ("boilerplate_chars", pa.int32()),
    ("keywords", pa.list_(pa.string())),
    ("quality_flags", pa.list_(pa.string())),
    ("content_hash", pa.string()),
    ("duplicate_of", pa.string()),
    ("duplicate_kind", pa.string()),
    ("duplicate_similarity", pa.float32()),
    ("repairs", pa.string()),
    ("normalizer_version", pa.string()),
    ("enrichment_version", pa.string()),
])

SENTENCES = pa.schema([
    ("article_id", pa.string()),
    ("sentence_no", pa.int32()),
    ("paragraph_no", pa.int32()),
    ("text", pa.string()),
    ("tokens", pa.list_(pa.string())),
    ("word_count", pa.int32()),
    ("normalizer_version", pa.string()),
])

REJECTS = pa.schema([
    ("source_file", pa.string()),
    ("record_no", pa.int64()),
    ("reason", pa.string()),
    ("detail", pa.string()),
    ("excerpt", pa.string()),
])

DUPLICATES = pa.schema([
    ("source_file", pa.string()),
    ("record_no", pa.int64()),
    ("article_id", pa.string()),
    ("duplicate_of_file", pa.string()),
    ("duplicate_of_record_no", pa.int64()),
    ("reason", pa.string()),
])

#: Article ↔ entity: one row per mention of a person, place or organization.
MENTIONS = pa.schema([
    ("article_id", pa.string()),
    ("entity_id", pa.string()),
    ("entity_type", pa.string()),
    ("entity_name", pa.string()),
    ("surface", pa.string()),
    ("field", pa.string()),
    ("position", pa.int32()),
])

#: The distinct entities a partition mentions.
ENTITIES = pa.schema([
    ("entity_id", pa.string()),
    ("entity_type", pa.string()),
    ("entity_name", pa.string()),
])

TABLES = {"articles": ARTICLES, "sentences": SENTENCES, "rejects": REJECTS, "duplicates": DUPLICATES,
          "entities": ENTITIES, "mentions": MENTIONS}


def signatures_schema(signature_type: pa.DataType) -> pa.Schema:
    """The near-duplicate signatures a partition keeps, so later runs can match against them."""
    return pa.schema([
        ("article_id", pa.string()),
        ("content_hash", pa.string()),
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("duplicate_of", pa.string()),
        ("signature", signature_type),
    ])
