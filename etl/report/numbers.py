"""Every number a run report shows, read from the summary and the day's lake partitions: the JSON twin."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, TypedDict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.contracts import RunSummary
from etl.load import lake as lake_store

REPORT_VERSION = "1.0.0"

COUNT_KEYS = ("records_in", "loaded", "duplicates", "copies", "rejected", "sentences", "mentions")
STAGE_ORDER = ("fetch", "transform", "write_lake", "load_warehouse", "check")
# Lower edges of the body-length bins, in words; the last bin is open-ended.
WORD_BINS = (0, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000)
TOP_N = 15
TOP_CLUSTERS = 10
# Columns read per table, with the type a partition written before the column existed gets.
_ARTICLE_COLS = {
    "article_id": pa.string(),
    "word_count": pa.int32(),
    "dateline_city": pa.string(),
    "duplicate_of": pa.string(),
    "duplicate_kind": pa.string(),
}
_MENTION_COLS = {
    "article_id": pa.string(),
    "entity_id": pa.string(),
    "entity_type": pa.string(),
    "entity_name": pa.string(),
}


class _LakeDay(TypedDict):
    """What ``_read_lake`` gathers from the day's partitions, per source unless said otherwise."""

    articles: dict[str, int]
    copies: dict[str, int]
    word_counts: dict[str, np.ndarray]
    cities: Counter[str]  # all sources
    rejects: dict[str, dict[str, int]]
    duplicates: dict[str, int]
    entities: list[pa.Table]  # per source, its (entity, article count, mention count) rows
    copy_rows: list[pa.Table]  # per source, its articles that are copies
    ids: dict[str, pa.Array]


def collect(summary: RunSummary, lake_root: lake_store.Location) -> dict:
    """Every number the report shows, as plain JSON-ready data."""
    day = str(summary.get("day", ""))
    names = sorted(summary.get("sources") or {})
    lake = _read_lake(lake_root, day, names)
    counts = _counts(summary, names)
    return {
        "report_version": REPORT_VERSION,
        "run": {
            "run_id": summary.get("run_id"),
            "day": day,
            "status": summary.get("status"),
            "warehouse": summary.get("warehouse"),
            "problems": list(summary.get("problems") or []),
        },
        "counts": counts,
        "rejects": _reject_reasons(lake["rejects"]),
        "stages": _stages(summary.get("stages") or {}),
        "charts": {
            "articles_per_source": {
                "sources": names,
                "articles": [lake["articles"][n] for n in names],
                "copies": [lake["copies"][n] for n in names],
            },
            "word_count": _word_histogram(lake["word_counts"]),
            "top_entities": _top_entities(lake["entities"]),
            "top_dateline_cities": [{"city": c, "articles": n} for c, n in _top(lake["cities"], TOP_N)],
            "duplicate_clusters": _clusters(lake, lake_root, day),
        },
        "notes": _lake_notes(counts, lake, names),
    }


def _read(
    lake_root: lake_store.Location, table: str, day: str, source: str, columns: dict[str, pa.DataType]
) -> pa.Table | None:
    """One partition, only ``columns`` (a column the files lack comes back as nulls); None when absent."""
    parts = []
    # ParquetFile, not read_table: no dataset machinery to load, a fraction of the time and memory
    for pf in lake_store.each_file(lake_root, table, day, source):
        present = set(pf.schema_arrow.names)
        t = pf.read(columns=[c for c in columns if c in present])
        for c, typ in columns.items():
            if c not in present:
                t = t.append_column(c, pa.nulls(t.num_rows, typ))
        parts.append(t.select(list(columns)))
    return pa.concat_tables(parts) if parts else None


def _read_lake(lake_root: lake_store.Location, day: str, names: list[str]) -> _LakeDay:
    """Per-source aggregates of the day's partitions, one partition in memory at a time."""
    out = _LakeDay(
        articles={},
        copies={},
        word_counts={},
        cities=Counter(),
        rejects={},
        duplicates={},
        entities=[],
        copy_rows=[],
        ids={},
    )
    for name in names:
        arts = _read(lake_root, "articles", day, name, _ARTICLE_COLS)
        n = arts.num_rows if arts is not None else 0
        out["articles"][name] = n
        if arts is None or n == 0:
            out["copies"][name] = 0
            out["ids"][name] = pa.array([], pa.string())
        else:
            wc = arts["word_count"].drop_null().to_numpy()
            if len(wc):
                out["word_counts"][name] = wc
            cities = pc.utf8_trim_whitespace(arts["dateline_city"])
            cities = cities.filter(pc.fill_null(pc.not_equal(cities, ""), False))
            for row in pc.value_counts(cities).to_pylist():
                out["cities"][row["values"]] += row["counts"]
            copies = arts.filter(pc.is_valid(arts["duplicate_of"]))
            out["copies"][name] = copies.num_rows
            out["copy_rows"].append(
                copies.select(["article_id", "duplicate_of", "duplicate_kind"]).append_column(
                    "source", pa.array([name] * copies.num_rows, pa.string())
                )
            )
            out["ids"][name] = arts["article_id"].combine_chunks()
        rej = _read(lake_root, "rejects", day, name, {"reason": pa.string()})
        out["rejects"][name] = (
            {r["values"]: r["counts"] for r in pc.value_counts(rej["reason"]).to_pylist()}
            if rej is not None and rej.num_rows
            else {}
        )
        dup = _read(lake_root, "duplicates", day, name, {"reason": pa.string()})
        out["duplicates"][name] = dup.num_rows if dup is not None else 0
        men = _read(lake_root, "mentions", day, name, _MENTION_COLS)
        if men is not None and men.num_rows:
            # article ids are per source, so per-source distinct counts add up across sources
            out["entities"].append(
                men.group_by(["entity_id", "entity_type", "entity_name"]).aggregate(
                    [("article_id", "count_distinct"), ("article_id", "count")]
                )
            )
    return out


def _counts(summary: Mapping[str, Any], names: list[str]) -> dict:
    """Per-source counts as the run summary states them, with totals (null when a key is absent)."""
    per: dict[str, dict[str, int | None]] = {
        n: {k: (summary["sources"][n] or {}).get(k) for k in COUNT_KEYS} for n in names
    }
    total: dict[str, int | None] = {}
    for k in COUNT_KEYS:
        values = [v for v in (per[n][k] for n in names) if v is not None]
        total[k] = sum(values) if values else None
    return {"sources": per, "total": total}


def _lake_notes(counts: dict, lake: _LakeDay, names: list[str]) -> list[str]:
    """Disagreements between the summary and what the lake holds (a partition replaced since)."""
    notes = []
    for n in names:
        for key, held, table in (
            ("loaded", lake["articles"][n], "articles"),
            ("rejected", sum(lake["rejects"][n].values()), "rejects"),
            ("duplicates", lake["duplicates"][n], "duplicates"),
        ):
            stated = counts["sources"][n][key]
            if stated is not None and stated != held:
                notes.append(f"{n}: summary says {key} {stated}, lake {table} partition holds {held} rows")
    return notes


def _reject_reasons(per_source: dict[str, dict[str, int]]) -> dict:
    reasons = sorted({r for counts in per_source.values() for r in counts})
    total: Counter[str] = Counter()
    for counts in per_source.values():
        total.update(counts)
    return {
        "reasons": reasons,
        "by_source": {n: dict(sorted(c.items())) for n, c in per_source.items()},
        "total": dict(sorted(total.items())),
    }


def _stages(stages: dict) -> dict:
    """Seconds per stage in pipeline order (unknown stages after, by name) and share of the total."""
    seconds = {
        k: float(v)
        for k, v in stages.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
    }
    order = [s for s in STAGE_ORDER if s in seconds] + sorted(set(seconds) - set(STAGE_ORDER))
    total = round(sum(seconds.values()), 6)
    share = {k: (round(v / total, 4) if total > 0 else None) for k, v in seconds.items()}
    return {"order": order, "seconds": seconds, "share": share, "total_seconds": total}


def _bin_labels() -> list[str]:
    edges = list(WORD_BINS)
    return [f"{lo}–{hi - 1}" for lo, hi in zip(edges, edges[1:])] + [f"{edges[-1]}+"]


def _word_histogram(word_counts: dict[str, np.ndarray]) -> dict:
    edges = np.asarray(WORD_BINS)
    counts, medians = {}, {}
    for name, wc in sorted(word_counts.items()):
        idx = np.clip(np.searchsorted(edges, wc, side="right") - 1, 0, len(edges) - 1)
        counts[name] = np.bincount(idx, minlength=len(edges)).tolist()
        medians[name] = float(np.median(wc))
    return {"edges": list(WORD_BINS), "labels": _bin_labels(), "counts": counts, "median": medians}


def _top(counter: Counter, n: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _top_entities(parts: list[pa.Table]) -> list[dict]:
    """The entities mentioned in most articles (ties: more mentions, then id)."""
    if not parts:
        return []
    agg = (
        pa.concat_tables(parts)
        .group_by(["entity_id", "entity_type", "entity_name"])
        .aggregate([("article_id_count_distinct", "sum"), ("article_id_count", "sum")])
    )
    rows = [
        {
            "entity_id": r["entity_id"],
            "entity_type": r["entity_type"],
            "entity_name": r["entity_name"],
            "articles": r["article_id_count_distinct_sum"],
            "mentions": r["article_id_count_sum"],
        }
        for r in agg.to_pylist()
    ]
    rows.sort(key=lambda r: (-r["articles"], -r["mentions"], r["entity_id"]))
    return rows[:TOP_N]


def _clusters(lake: _LakeDay, lake_root: lake_store.Location, day: str) -> dict:
    """Duplicate clusters of the day: a canonical article and its copies (``duplicate_of``)."""
    rows = [r for t in lake["copy_rows"] for r in t.to_pylist()]
    by_canonical: dict[str, list[dict]] = {}
    for r in rows:
        by_canonical.setdefault(r["duplicate_of"], []).append(r)
    sizes = Counter(len(copies) + 1 for copies in by_canonical.values())
    largest = sorted(by_canonical.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP_CLUSTERS]
    wanted = pa.array([cid for cid, _ in largest], pa.string())
    found: dict[str, tuple[str, str | None]] = {}
    for name, ids in lake["ids"].items():
        if len(wanted) and pc.any(pc.is_in(ids, value_set=wanted)).as_py():
            heads = _read(lake_root, "articles", day, name, {"article_id": pa.string(), "headline": pa.string()})
            # the partition was read a moment ago, with rows: its ids are the ones matched
            assert heads is not None
            heads = heads.filter(pc.is_in(heads["article_id"], value_set=wanted))
            for r in heads.to_pylist():
                found[r["article_id"]] = (name, r["headline"])
    table = []
    for cid, copies in largest:
        src, headline = found.get(cid, (None, None))
        kinds = Counter(c["duplicate_kind"] for c in copies)
        table.append(
            {
                "canonical_id": cid,
                "canonical_source": src,
                "canonical_headline": headline,
                "in_this_day": cid in found,
                "copies": len(copies),
                "exact": kinds.get("exact", 0),
                "near": kinds.get("near", 0),
                "rewrite": kinds.get("rewrite", 0),
                "copy_sources": sorted({c["source"] for c in copies}),
            }
        )
    return {
        "clusters": len(by_canonical),
        "copies": len(rows),
        "sizes": [[s, n] for s, n in sorted(sizes.items())],
        "largest": table,
    }
