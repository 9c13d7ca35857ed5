"""Turn raw records into article and sentence rows: clean, segment, enrich."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from etl.enrich.structure import dateline_city, publication_date
from etl.records import EMPTY_BODY, MISSING_FIELD, RawRecord, Reject
from etl.text.normalize import NORMALIZER_VERSION, collapse_whitespace, normalize
from etl.text.repair import remove_boilerplate, repair_raw
from etl.text.segment import is_word, paragraphs, sentences, tokens


def article_id(source: str, key: str) -> str:
    """Stable 64-bit id: the same source and natural key give the same id in every run."""
    return hashlib.sha256(f"{source}\x1f{key}".encode()).hexdigest()[:16]


def natural_key(rec: RawRecord) -> str:
    """What identifies an article within its source: its URL, else its id, else its place in the dump."""
    f = rec.fields
    for name in ("url", "external_id"):
        value = (f.get(name) or "").strip()
        if value:
            return f"{name}:{value}"
    return f"file:{rec.file}#{rec.record_no}"


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = normalize(value)
    return value or None


def transform_record(rec: RawRecord, ingest_date: dt.date,
                     required: tuple[str, ...] = ("body",)) -> tuple[dict, list[dict]] | Reject:
    """One raw record to ``(article_row, sentence_rows)``, or a ``Reject`` saying why not."""
    f = rec.fields
    raw_body = f.get("body") or ""
    missing = [name for name in required if name != "body" and not (f.get(name) or "").strip()]
    if f.get("body") is None:
        missing.insert(0, "body")
    if missing:
        return Reject(rec.source, rec.file, rec.record_no, MISSING_FIELD, f"no value for {', '.join(missing)}")
    fixed, repairs = repair_raw(raw_body)
    body, furniture = remove_boilerplate(normalize(fixed))
    if furniture:
        body = collapse_whitespace(body)
        repairs.update(furniture)
    if not body:
        what = "only page furniture" if furniture else "empty after cleaning"
        return Reject(rec.source, rec.file, rec.record_no, EMPTY_BODY, f"body is {what}", raw_body[:200])
    # A publication date in the future is a typo or a parse error, never a fact.
    latest = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    published, headline = publication_date(f.get("published"), _clean(f.get("headline")), body, latest)
    aid = article_id(rec.source, natural_key(rec))
    sentence_rows: list[dict] = []
    words = 0
    paras = paragraphs(body)
    for p_no, para in enumerate(paras, 1):
        for sent in sentences(para):
            toks = tokens(sent)
            n_words = sum(1 for t in toks if is_word(t))
            words += n_words
            sentence_rows.append({"article_id": aid, "sentence_no": len(sentence_rows) + 1,
                                  "paragraph_no": p_no, "text": sent, "tokens": toks,
                                  "word_count": n_words, "normalizer_version": NORMALIZER_VERSION})
    article = {
        "article_id": aid,
        "external_id": (f.get("external_id") or "").strip() or None,
        "url": (f.get("url") or "").strip() or None,
        "source_file": rec.file,
        "record_no": rec.record_no,
        "headline": headline,
        "summary": _clean(f.get("summary")),
        "caption": _clean(f.get("caption")),
        "photo_credit": _clean(f.get("photo_credit")),
        "dateline_city": _clean(f.get("dateline")) or dateline_city(body),
        "category_raw": (f.get("category") or "").strip() or None,
        "published_at": published,
        "body": body,
        "body_raw": raw_body,
        "paragraph_count": len(paras),
        "sentence_count": len(sentence_rows),
        "word_count": words,
        "char_count": len(body),
        "content_hash": hashlib.sha256(body.encode()).hexdigest()[:16],
        "repairs": json.dumps(dict(sorted(repairs.items())), ensure_ascii=False) if repairs else None,
        "normalizer_version": NORMALIZER_VERSION,
    }
    return article, sentence_rows
