"""Hand-annotated entity gold sets: resolve them against the corpora and score a recognizer.

``entities_dev.jsonl`` (the set rules and the model were tuned on) and ``entities_test.jsonl`` (the
blind set, scored once) hold no corpus text. Each line names one article of ``../shared/corpora``
and gives its mentions as character offsets into the article's headline and body *as the pipeline
cleans them* (``etl.articles.clean_record``, the text the lake holds and the recognizer reads):

    {"id": "dev-01", "file": "bbc_voa/bbc/politics/x.doc", "record": 1,
     "sha256": {"headline": "<16 hex>", "body": "<16 hex>"},
     "mentions": [["body", 0, 6, "LOCATION"], ["headline", 10, 21, "PERSON"], ...]}

``record`` is the 1-based CSV data row, or 1 for a one-article file. ``sha256`` holds the first 16
hex digits of the SHA-256 of each cleaned field; ``load`` raises ``GoldError`` when a field no
longer matches (the corpus or the cleaning changed, so the offsets no longer apply).

Scoring (``score``) is the metric of the entity benchmark: per article, the multiset of
``(type, normalized surface)`` of the predictions against that of the gold mentions; a prediction
counts when an unused gold mention of the same article has the same type and text. Micro-averaged
over articles, overall and per type. See ``ENTITIES.md`` here for the annotation guideline.

``python -m tests.gold.entities [dev|test] [CORPORA]`` (from the repository root, with
``PYTHONPATH`` set to it) resolves, validates and scores one set with the pipeline's recognizer.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import json
import pathlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable

from etl.articles import clean_record
from etl.config import load_sources
from etl.read import bbc_doc, seed_txt
from etl.records import RawRecord, Reject
from etl.text.normalize import normalize

HERE = pathlib.Path(__file__).resolve().parent
SETS = {"dev": HERE / "entities_dev.jsonl", "test": HERE / "entities_test.jsonl"}
DEFAULT_CORPORA = HERE.parents[1].parent / "shared" / "corpora"
TYPES = ("PERSON", "LOCATION", "ORGANIZATION")
FIELDS = ("headline", "body")
#: The sources file that declares the corpora and their CSV columns.
CORPORA_CONFIG = HERE.parents[1] / "config" / "corpora.yaml"


@functools.cache
def csv_columns() -> dict[str, dict[str, str]]:
    """``{file under the corpora folder: {canonical field: column}}`` of every CSV corpus, as
    ``config/corpora.yaml`` declares them for the pipeline."""
    sources = load_sources(CORPORA_CONFIG).values()
    return {s.url.split("/corpora/", 1)[1]: dict(s.columns) for s in sources if s.format == "csv"}


#: The cleaning is run as of this day, so a gold set does not change with the calendar.
CLEANED_AS_OF = dt.date(2026, 1, 1)


class GoldError(ValueError):
    """A gold item does not resolve: a missing record or field, a hash mismatch, a bad span."""


def field_hash(text: str) -> str:
    """First 16 hex digits of the SHA-256 of a field's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Corpora:
    """Reads each corpus file once and hands out cleaned articles: ``article(file, record)``."""

    def __init__(self, root: pathlib.Path = DEFAULT_CORPORA):
        self.root = root
        self._csv: dict[str, list[dict]] = {}

    def raw(self, rel: str, record: int) -> RawRecord:
        path = self.root / rel
        if rel.endswith(".csv"):
            if rel not in csv_columns():
                raise GoldError(f"{rel}: not one of the CSV corpora this gold set reads")
            if rel not in self._csv:
                csv.field_size_limit(sys.maxsize)
                with open(path, encoding="utf-8-sig", newline="") as fh:
                    self._csv[rel] = list(csv.DictReader(fh))
            rows = self._csv[rel]
            if not 1 <= record <= len(rows):
                raise GoldError(f"{rel}: no data row {record}")
            row = rows[record - 1]
            return RawRecord(rel.split("/")[0], rel, record, {f: row.get(c) for f, c in csv_columns()[rel].items()})
        text = path.read_text(encoding="utf-8-sig")
        if rel.startswith("seed/"):
            return RawRecord("seed", rel, 1, seed_txt.parse(text, path.name))
        return RawRecord("bbc_voa", rel, 1, bbc_doc.parse(text, rel))

    def article(self, rel: str, record: int = 1) -> dict[str, str]:
        """``{"headline": ..., "body": ...}`` of one record, cleaned as the pipeline cleans it."""
        row = clean_record(self.raw(rel, record), CLEANED_AS_OF)
        if isinstance(row, Reject):
            raise GoldError(f"{rel} record {record}: the pipeline rejects it ({row.reason})")
        return {f: row[f] or "" for f in FIELDS}


def load(name_or_path: str | pathlib.Path, corpora: pathlib.Path = DEFAULT_CORPORA) -> list[dict]:
    """The items of a gold set, each with its cleaned ``headline``/``body`` and its gold mentions
    as ``(field, start, end, type, surface)``; raises ``GoldError`` on anything that does not resolve."""
    path = SETS.get(str(name_or_path), pathlib.Path(name_or_path))
    reader = Corpora(corpora)
    items = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        where = f"{path.name}:{line_no} ({item.get('id')})"
        texts = reader.article(item["file"], item.get("record", 1))
        for f in FIELDS:
            if item["sha256"].get(f) != field_hash(texts[f]):
                raise GoldError(f"{where}: the cleaned {f} no longer matches its hash")
        mentions = []
        for field, start, end, typ in item["mentions"]:
            text = texts.get(field)
            if text is None or typ not in TYPES or not 0 <= start < end <= len(text):
                raise GoldError(f"{where}: bad mention {[field, start, end, typ]}")
            surface = text[start:end]
            if surface != surface.strip() or (start and text[start - 1].isalnum()) or text[end : end + 1].isalnum():
                raise GoldError(f"{where}: mention {surface!r} does not start and end on whole words")
            mentions.append((field, start, end, typ, surface))
        spans = sorted((f, s, e) for f, s, e, _, _ in mentions)
        for (f1, _, e1), (f2, s2, _) in zip(spans, spans[1:]):
            if f1 == f2 and s2 < e1:
                raise GoldError(f"{where}: overlapping mentions in {f1} at {s2}")
        items.append({**item, **texts, "gold": mentions})
    ids = [i["id"] for i in items]
    if len(set(ids)) != len(ids):
        raise GoldError(f"{path.name}: repeated ids")
    return items


def key(surface: str) -> str:
    """A surface as the metric compares it: normalized, one space between words."""
    return " ".join(normalize(surface).split())


#: ``recognize(headline, body) -> [(type, surface), ...]`` with type one of ``TYPES``.
Recognizer = Callable[[str, str], Iterable[tuple[str, str]]]


def pipeline_recognizer(headline: str, body: str) -> list[tuple[str, str]]:
    """The pipeline's own entity mentions of an article."""
    from etl.enrich.entities import extract_entities

    return [(m.type.upper(), m.surface) for m in extract_entities(headline, body)]


def score(recognize: Recognizer, items: list[dict]) -> dict:
    """Micro P/R/F1 of ``recognize`` on ``items``, overall and per type, plus the misses and false
    hits as ``(type, surface)`` counts (for reading on a dev set only)."""
    counts = {t: Counter() for t in ("ALL", *TYPES)}
    missed: Counter = Counter()
    extra: Counter = Counter()
    for item in items:
        gold = Counter((typ, key(surface)) for _, _, _, typ, surface in item["gold"])
        pred = Counter((typ, key(surface)) for typ, surface in recognize(item["headline"], item["body"]))
        hit = gold & pred
        missed.update(gold - pred)
        extra.update(pred - gold)
        for bucket, c in (("tp", hit), ("gold", gold), ("pred", pred)):
            for (typ, _), n in c.items():
                counts[typ][bucket] += n
                counts["ALL"][bucket] += n
    out: dict = {"articles": len(items)}
    for t, c in counts.items():
        p = c["tp"] / c["pred"] if c["pred"] else 0.0
        r = c["tp"] / c["gold"] if c["gold"] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        out[t] = {"P": round(100 * p, 1), "R": round(100 * r, 1), "F1": round(100 * f, 1)}
        out[t].update({k: c[k] for k in ("tp", "gold", "pred")})
    out["missed"], out["extra"] = missed, extra
    return out


def table(result: dict) -> str:
    """The scores of ``score`` as a Markdown table."""
    rows = ["| entities (mentions) | P | R | F1 | gold | predicted |", "|---|---|---|---|---|---|"]
    for t in ("ALL", *TYPES):
        c = result[t]
        rows.append(f"| {t.lower()} | {c['P']} | {c['R']} | {c['F1']} | {c['gold']} | {c['pred']} |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    name = argv[0] if argv else "dev"
    corpora = pathlib.Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPORA
    items = load(name, corpora)
    result = score(pipeline_recognizer, items)
    print(f"{name}: {len(items)} articles, {sum(len(i['gold']) for i in items)} gold mentions")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
