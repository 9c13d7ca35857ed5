"""Per-field coverage of the enrichment over a lake: how many articles got each field.

Run the pipeline over the real corpora first (``config/corpora.yaml`` declares them), then:

    .venv/bin/python -m etl run --config config/corpora.yaml --date 2024-01-01 --data-dir data/corpora
    .venv/bin/python bench/enrichment_coverage.py --lake data/corpora/lake

Prints a table per source and writes ``bench/results/enrichment_coverage.json``, with the most
frequent dateline places and agencies of each source (``--top``, 40 by default), the list to read
for a false dateline place.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

HERE = Path(__file__).resolve().parent

FIELDS = ("dateline_city", "dateline_date", "published_at", "category", "agency", "agency_key", "source_site")


def _share(mask: pa.ChunkedArray | pa.Array, n: int) -> float:
    return round((pc.sum(mask).as_py() or 0) / n, 4) if n else 0.0


def _top(values: pa.ChunkedArray, n: int) -> list[list]:
    """The ``n`` most frequent non-null values as ``[value, count]``, most frequent first."""
    counts = pc.value_counts(values.drop_null()).to_pylist()
    counts.sort(key=lambda d: (-d["counts"], d["values"]))
    return [[d["values"], d["counts"]] for d in counts[:n]]


def coverage(lake: Path, top: int = 40) -> dict:
    arts = ds.dataset(lake / "articles", partitioning="hive").to_table(
        columns=[
            "source",
            "article_id",
            *FIELDS,
            "category_source",
            "keywords",
            "quality_flags",
            "duplicate_of",
            "duplicate_kind",
        ]
    )
    mentions = ds.dataset(lake / "mentions", partitioning="hive").to_table(columns=["article_id", "entity_type"])
    with_entity = pc.unique(mentions["article_id"])
    out: dict[str, dict] = {}
    for source in sorted(set(arts["source"].to_pylist())) + ["ALL"]:
        t = arts if source == "ALL" else arts.filter(pc.equal(arts["source"], source))
        n = t.num_rows
        row = {"articles": n}
        for f in FIELDS:
            row[f] = _share(pc.is_valid(t[f]), n)
        row["category_from_label"] = _share(pc.equal(t["category_source"], "label"), n)
        row["category_from_model"] = _share(pc.equal(t["category_source"], "model"), n)
        row["entity"] = _share(pc.is_in(t["article_id"], value_set=with_entity), n)
        row["keywords"] = _share(pc.greater(pc.list_value_length(t["keywords"]), 0), n)
        row["quality_flagged"] = _share(pc.greater(pc.list_value_length(t["quality_flags"]), 0), n)
        row["copies"] = n - t["duplicate_of"].null_count
        row["exact_copies"] = pc.sum(pc.equal(t["duplicate_kind"], "exact")).as_py() or 0
        row["top_dateline_places"] = _top(t["dateline_city"], top)
        row["top_agencies"] = _top(t["agency"], top)
        out[source] = row
    flags = pc.value_counts(pc.list_flatten(arts["quality_flags"])).to_pylist()
    clusters = pc.count_distinct(arts["duplicate_of"]).as_py()
    return {
        "per_source": out,
        "flags": {d["values"]: d["counts"] for d in flags},
        "clusters": clusters,
        "mention_types": {d["values"]: d["counts"] for d in pc.value_counts(mentions["entity_type"]).to_pylist()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", type=Path, default=Path("data/corpora/lake"))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "enrichment_coverage.json")
    ap.add_argument("--top", type=int, default=40, help="how many dateline places and agencies to list per source")
    args = ap.parse_args()
    result = coverage(args.lake, args.top)
    cols = [
        "articles",
        "dateline_city",
        "dateline_date",
        "published_at",
        "category",
        "category_from_model",
        "entity",
        "agency",
        "keywords",
        "quality_flagged",
        "copies",
    ]
    print(f"{'source':<20}" + "".join(f"{c[:12]:>13}" for c in cols))
    for source, row in result["per_source"].items():
        print(f"{source:<20}" + "".join(f"{row[c]:>13}" for c in cols))
    print("clusters:", result["clusters"], " flags:", result["flags"], " mentions:", result["mention_types"])
    for source, row in result["per_source"].items():
        if source != "ALL" and row["top_dateline_places"]:
            print(f"{source} dateline places:", ", ".join(f"{p} {n}" for p, n in row["top_dateline_places"]))
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
