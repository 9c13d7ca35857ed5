"""Raw records become article rows (clean), and article bodies their sentence rows (segment).

``clean_records`` cleans a shard's bodies in one batch (``etl.text.clean_column``) and fills what
the record alone gives: ids, headline, the dateline's place, date and agency (``etl.enrich.dateline``),
the publication date (``etl.enrich.structure``), counts and hashes. ``segment_articles`` splits every body into sentences and tokens and fills the
paragraph, sentence and word counts. What needs the tokens (category, keywords, entities, quality)
is ``etl.enrich``'s, next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter

import numpy as np
import pyarrow as pa

from etl import schema
from etl.enrich.dateline import closing_credit, parse_dateline
from etl.enrich.dates import LATEST
from etl.enrich.structure import publication_date, source_site
from etl.records import EMPTY_BODY, MISSING_FIELD, RawRecord, Reject
from etl.text.clean_column import clean_batch
from etl.text.normalize import NORMALIZER_VERSION, collapse_whitespace, normalize
from etl.text.repair import remove_boilerplate, repair_raw
from etl.text.segment_column import segment


def article_id(source: str, key: str) -> str:
    """Stable 64-bit id: the same source and natural key give the same id in every run."""
    return hashlib.sha256(f"{source}\x1f{key}".encode()).hexdigest()[:16]


def natural_key(rec: RawRecord, ingest_date: dt.date | None = None) -> str:
    """What identifies an article within its source: its URL, else its id, else its place in the
    dump of ``ingest_date``. A place identifies a record within one day's dump only: the next
    day's ``news.csv`` row 3 is another article, so the day is part of the key (an article moves
    between days only by its URL or id; ``etl.dedup.other_days``)."""
    f = rec.fields
    for name in ("url", "external_id"):
        value = (f.get(name) or "").strip()
        if value:
            return f"{name}:{value}"
    day = f"{ingest_date.isoformat()}/" if ingest_date is not None else ""
    return f"file:{day}{rec.file}#{rec.record_no}"


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = normalize(value)
    return value or None


def _missing(rec: RawRecord, required: tuple[str, ...]) -> Reject | None:
    f = rec.fields
    missing = [name for name in required if name != "body" and not (f.get(name) or "").strip()]
    if f.get("body") is None:
        missing.insert(0, "body")
    if missing:
        return Reject(rec.source, rec.file, rec.record_no, MISSING_FIELD, f"no value for {', '.join(missing)}")
    return None


def clean_record(rec: RawRecord, ingest_date: dt.date, required: tuple[str, ...] = ("body",)) -> dict | Reject:
    """One raw record to its article row (counts not yet filled), or a ``Reject`` saying why not."""
    missing = _missing(rec, required)
    if missing:
        return missing
    return _article(rec, latest_publication(ingest_date), *clean_body(_raw_body(rec)), day=ingest_date)


def _raw_body(rec: RawRecord) -> str:
    """The body of a record that ``_missing`` let through, which always has one."""
    body = rec.fields["body"]
    assert body is not None
    return body


def latest_publication(ingest_date: dt.date) -> dt.datetime:
    """The latest publication time an article of the run's day may state: the end of the next day
    (UTC), so that a day filed under any time zone keeps its own dates. A later one is a typo or a
    misparse, never a fact. It follows the day, not the clock, so a re-run of an old day reads its
    dates as the first run did. Never past ``etl.enrich.dates.LATEST`` (a day near the end of the
    calendar has no day after the next)."""
    start = dt.datetime(ingest_date.year, ingest_date.month, ingest_date.day, tzinfo=dt.UTC)
    return min(start, LATEST - dt.timedelta(days=2)) + dt.timedelta(days=2)


def clean_body(raw_body: str) -> tuple[str, Counter, int, bool]:
    """Repairs, normalization and furniture removal of one body: the clean body, the repair and
    furniture counts, the characters furniture removal took, and whether it took any."""
    fixed, repairs = repair_raw(raw_body)
    normalized = normalize(fixed)
    body, furniture = remove_boilerplate(normalized)
    if furniture:
        body = collapse_whitespace(body)
        repairs.update(furniture)
    return body, repairs, len(normalized) - len(body) if furniture else 0, bool(furniture)


def clean_records(
    records: list[RawRecord], ingest_date: dt.date, required: tuple[str, ...] = ("body",)
) -> list[dict | Reject]:
    """``clean_record`` of every record, in order, with the bodies cleaned in one batch
    (``etl.text.clean_column.clean_batch``: the same text, several times faster)."""
    missing = [_missing(rec, required) for rec in records]
    todo = [i for i, m in enumerate(missing) if m is None]
    batch = clean_batch([_raw_body(records[i]) for i in todo])
    latest = latest_publication(ingest_date)
    articles = {
        i: _article(
            records[i],
            latest,
            body,
            batch.repairs[k] or Counter(),
            batch.boilerplate_chars[k],
            batch.furniture[k],
            day=ingest_date,
        )
        for k, (i, body) in enumerate(zip(todo, batch.bodies.to_pylist()))
    }
    return [articles[i] if m is None else m for i, m in enumerate(missing)]


def _article(
    rec: RawRecord,
    latest: dt.datetime,
    body: str,
    repairs: Counter,
    boilerplate_chars: int,
    furniture: bool,
    day: dt.date | None = None,
) -> dict | Reject:
    """The article row of a record of day ``day`` whose body is cleaned, or its ``EMPTY_BODY``
    reject; a publication date after ``latest`` is dropped."""
    f = rec.fields
    raw_body = _raw_body(rec)
    if not body:
        what = "only page furniture" if furniture else "empty after cleaning"
        return Reject(rec.source, rec.file, rec.record_no, EMPTY_BODY, f"body is {what}", raw_body[:200])
    dateline = parse_dateline(body)
    published, headline = publication_date(f.get("published"), _clean(f.get("headline")), body, latest, dateline)
    agency, agency_key = dateline.agency, dateline.agency_key
    if agency is None and headline:
        agency, agency_key = closing_credit(headline)
    return {
        "article_id": article_id(rec.source, natural_key(rec, day)),
        "external_id": (f.get("external_id") or "").strip() or None,
        "url": (f.get("url") or "").strip() or None,
        "source_file": rec.file,
        "record_no": rec.record_no,
        "headline": headline,
        "summary": _clean(f.get("summary")),
        "caption": _clean(f.get("caption")),
        "photo_credit": _clean(f.get("photo_credit")),
        "dateline_city": _clean(f.get("dateline")) or dateline.place,
        # A dateline's date without a year takes the publication's, else the run day's.
        "dateline_date": dateline.dated(published.date() if published else day),
        "agency": agency,
        "agency_key": agency_key,
        "source_site": source_site(f.get("url")),
        "category_raw": (f.get("category") or "").strip() or None,
        "published_at": published,
        "body": body,
        "body_raw": raw_body,
        "paragraph_count": None,
        "sentence_count": None,
        "word_count": None,
        "char_count": len(body),
        "boilerplate_chars": boilerplate_chars,
        "content_hash": hashlib.sha256(body.encode()).hexdigest()[:16],
        "repairs": json.dumps(dict(sorted(repairs.items())), ensure_ascii=False) if repairs else None,
        "normalizer_version": NORMALIZER_VERSION,
    }


#: The sentence rows of a shard carry their article's provenance until duplicates are resolved.
SENTENCES_WITH_PROVENANCE = pa.schema([*schema.SENTENCES, ("source_file", pa.string()), ("record_no", pa.int64())])


def segment_articles(articles: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Segment every body of ``articles`` in one vectorised batch.

    Returns the articles with paragraph, sentence and word counts filled, and their sentences.
    """
    seg = segment(articles["body"])
    n = articles.num_rows
    doc = seg["doc"].to_numpy(zero_copy_only=False).astype(np.int64)
    counts = {
        "paragraph_count": np.zeros(n, dtype=np.int32),
        "sentence_count": np.bincount(doc, minlength=n).astype(np.int32),
        "word_count": np.bincount(doc, weights=seg["word_count"].to_numpy(zero_copy_only=False), minlength=n).astype(
            np.int32
        ),
    }
    np.maximum.at(counts["paragraph_count"], doc, seg["paragraph_no"].to_numpy(zero_copy_only=False))
    for name, values in counts.items():
        articles = articles.set_column(articles.schema.get_field_index(name), name, pa.array(values, pa.int32()))
    index = pa.array(doc, pa.int64())
    sentences = pa.table(
        {
            "article_id": articles["article_id"].take(index),
            "sentence_no": seg["sentence_no"],
            "paragraph_no": seg["paragraph_no"],
            "text": seg["text"],
            "tokens": seg["tokens"],
            "word_count": seg["word_count"],
            "normalizer_version": pa.array([NORMALIZER_VERSION] * len(doc), pa.string()),
            "source_file": articles["source_file"].take(index),
            "record_no": articles["record_no"].take(index),
        }
    ).cast(SENTENCES_WITH_PROVENANCE)
    return articles, sentences
