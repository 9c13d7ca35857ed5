"""Named warehouse queries: the questions the README answers, runnable on SQLite and PostgreSQL.

Each takes named parameters (dates as ``YYYY-MM-DD`` strings); ``run_query`` fills the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa


@dataclass(frozen=True)
class Query:
    description: str
    sql: str
    defaults: dict = field(default_factory=dict)


_RANGE = {"start": "1990-01-01", "end": "2999-12-31"}

QUERIES: dict[str, Query] = {
    "articles_per_source_day": Query(
        "Articles per source per day, with how many are copies of another article and how many are flagged",
        "SELECT ingest_date, source, articles, originals, copies, flagged, words FROM articles_per_source_day "
        "WHERE ingest_date BETWEEN :start AND :end ORDER BY ingest_date, source",
        _RANGE,
    ),
    "top_entities": Query(
        "The people, places and organizations named in the most articles published in a date range",
        "SELECT entity_name, entity_type, COUNT(DISTINCT article_id) AS articles, SUM(mentions) AS mentions "
        "FROM entity_articles WHERE published_date BETWEEN :start AND :end "
        "GROUP BY entity_name, entity_type ORDER BY articles DESC, mentions DESC, entity_name LIMIT :limit",
        {**_RANGE, "limit": 20},
    ),
    "entity_comentions": Query(
        "Pairs of entities named together in the most articles",
        "SELECT entity_a, entity_b, articles FROM entity_comentions "
        "ORDER BY articles DESC, entity_a, entity_b LIMIT :limit",
        {"limit": 20},
    ),
    "dateline_cities": Query(
        "Cities the news was filed from, by number of articles",
        "SELECT dateline_city, articles, sources, first_date, last_date FROM dateline_cities "
        "ORDER BY articles DESC, dateline_city LIMIT :limit",
        {"limit": 20},
    ),
    "duplicate_clusters": Query(
        "Stories copied across articles and sites: each cluster's canonical article and its copies",
        "SELECT canonical_id, canonical_source, canonical_site, canonical_url, copies, exact_copies, "
        "copy_sources, copy_sites, min_similarity FROM duplicate_clusters "
        "ORDER BY copies DESC, canonical_id LIMIT :limit",
        {"limit": 20},
    ),
}


def run_query(conn: sa.Connection, name: str, **params) -> tuple[list[str], list[tuple]]:
    """Run the named query; returns its column names and rows."""
    query = QUERIES[name]
    result = conn.execute(sa.text(query.sql), {**query.defaults, **params})
    return list(result.keys()), [tuple(r) for r in result]
