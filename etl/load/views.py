"""Warehouse views for the questions analysts ask most, in SQL that runs on SQLite and PostgreSQL.

``README.md`` shows example queries over them; ``docs/SCHEMA.md`` lists their columns.
Dates: ``published_date`` is the publication day (UTC) when known, else the ingest day.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

_PUBLISHED_DATE = "COALESCE(date(a.published_at), date(a.ingest_date))"

VIEWS: dict[str, str] = {
    # One row per (day, source): how many articles, how many of them copies of another, how many flagged.
    "articles_per_source_day": """
SELECT a.ingest_date, a.source,
       COUNT(*) AS articles,
       SUM(CASE WHEN a.duplicate_of IS NULL THEN 1 ELSE 0 END) AS originals,
       SUM(CASE WHEN a.duplicate_of IS NULL THEN 0 ELSE 1 END) AS copies,
       SUM(CASE WHEN a.quality_flags IS NULL OR a.quality_flags = '[]' THEN 0 ELSE 1 END) AS flagged,
       SUM(a.word_count) AS words
FROM articles a
GROUP BY a.ingest_date, a.source""",
    # One row per (entity, article), with the dates to filter a range on.
    "entity_articles": f"""
SELECT m.entity_id, m.entity_type, m.entity_name, m.article_id, a.source, a.source_site,
       a.ingest_date, {_PUBLISHED_DATE} AS published_date, COUNT(*) AS mentions
FROM mentions m JOIN articles a ON a.article_id = m.article_id
GROUP BY m.entity_id, m.entity_type, m.entity_name, m.article_id, a.source, a.source_site,
         a.ingest_date, a.published_at""",
    # Pairs of entities named in the same article, with how many articles name both.
    "entity_comentions": """
SELECT x.entity_id AS entity_a, y.entity_id AS entity_b, COUNT(*) AS articles
FROM (SELECT DISTINCT article_id, entity_id FROM mentions) x
JOIN (SELECT DISTINCT article_id, entity_id FROM mentions) y
  ON x.article_id = y.article_id AND x.entity_id < y.entity_id
GROUP BY x.entity_id, y.entity_id""",
    # Where the news was filed from.
    "dateline_cities": f"""
SELECT a.dateline_city, COUNT(*) AS articles, COUNT(DISTINCT a.source) AS sources,
       MIN({_PUBLISHED_DATE}) AS first_date, MAX({_PUBLISHED_DATE}) AS last_date
FROM articles a
WHERE a.dateline_city IS NOT NULL
GROUP BY a.dateline_city""",
    # One row per cluster of copies: its canonical article and how far the story spread.
    "duplicate_clusters": """
SELECT c.article_id AS canonical_id, c.source AS canonical_source, c.source_site AS canonical_site,
       c.url AS canonical_url, c.headline AS canonical_headline,
       COUNT(*) AS copies,
       SUM(CASE WHEN d.duplicate_kind = 'exact' THEN 1 ELSE 0 END) AS exact_copies,
       COUNT(DISTINCT d.source) AS copy_sources,
       COUNT(DISTINCT d.source_site) AS copy_sites,
       MIN(d.duplicate_similarity) AS min_similarity
FROM articles d JOIN articles c ON c.article_id = d.duplicate_of
GROUP BY c.article_id, c.source, c.source_site, c.url, c.headline""",
}


def create_views(conn: sa.Connection) -> None:
    """Create the views, or replace those whose definition changed."""
    for name, body in VIEWS.items():
        if conn.dialect.name == "sqlite":
            current = conn.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = :n"), {"n": name}
            ).scalar()
            wanted = f"CREATE VIEW {name} AS{body}"
            if current == wanted:
                continue
            conn.execute(sa.text(f"DROP VIEW IF EXISTS {name}"))
            conn.execute(sa.text(wanted))
        else:
            # PostgreSQL rewrites a view's text, so the definition's digest is kept as its comment.
            digest = hashlib.sha256(body.encode()).hexdigest()[:16]
            current = conn.execute(sa.text("SELECT obj_description(to_regclass(:n), 'pg_class')"), {"n": name}).scalar()
            if current == digest:
                continue
            conn.execute(sa.text(f"DROP VIEW IF EXISTS {name}"))
            conn.execute(sa.text(f"CREATE VIEW {name} AS{body}"))
            conn.execute(sa.text(f"COMMENT ON VIEW {name} IS '{digest}'"))
