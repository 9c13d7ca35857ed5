"""Train the category model on the labelled corpora, score it on held-out articles, save it.

Usage:
    .venv/bin/python bench/train_category.py [CORPORA] [--lake DIR]

CORPORA defaults to ../shared/corpora (beside the repository). Every labelled article is read
the way the pipeline reads it (the project's BBC/VOA reader, CSV rows through the source column
names) and cleaned by ``etl.articles.clean_record``, so the model sees the same text the lake
holds. Labels go through ``canonical_category``; unmapped and ``misc`` rows are not trained on.

Held-out split without leakage: the news_sites files hold many copies of one story (same URL,
different or identical bodies) and express repeats links and titles, so articles are first joined
into groups that share a normalized URL, a body or a headline (union-find), and whole groups go
to train or test by a hash of the group, never one copy to each side. Within each side a group
gives one row per label. The saved model is the one trained on the train side only, so the
held-out scores describe the model that ships.

Scores are computed from the saved file through the numpy-only predictor
(``etl.enrich.category``), separately for full articles and for express's headline + short lead
rows. With ``--lake DIR`` the script also times ``predict_categories`` over every article of
the cleaned lake (MB/s of UTF-8 body text). scikit-learn is a training (dev) dependency only.

Writes etl/enrich/models/category-<MODEL_VERSION>.npz and bench/results/category_model.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import platform
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from etl.articles import clean_record
from etl.enrich import category
from etl.enrich.category import (
    MODEL_VERSION,
    CategoryModel,
    article_terms,
    canonical_category,
    predict_categories,
    unmapped_labels,
)
from etl.read.bbc_doc import parse as parse_bbc
from etl.records import RawRecord, Reject

DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora"
RESULTS = HERE / "results" / "category_model.json"

#: CSV corpora: file -> (source name, kind, canonical field -> column).
CSV_SOURCES = {
    "news_sites/geo_jang_express_2024a.csv": (
        "news_a",
        "full",
        {"headline": "Titles", "url": "Links", "body": "Contents", "category": "Gold Labels"},
    ),
    "news_sites/geo_jang_express_dunya_2024b.csv": (
        "news_b",
        "full",
        {"headline": "title", "url": "link", "body": "content", "category": "gold_label"},
    ),
    "news_sites/jang_express_geo_samaa_dawn_2024c.csv": (
        "news_c",
        "full",
        {"headline": "title", "url": "link", "body": "content", "category": "gold_label"},
    ),
    "untm/sampled_UNTM.csv": (
        "untm",
        "full",
        {"headline": "Title", "url": "Link", "body": "News", "category": "Category", "published": "Date"},
    ),
    "express_headlines/express_headlines_all.csv": (
        "express",
        "headline",
        {"headline": "title", "url": "link", "body": "summery", "category": "category", "published": "date"},
    ),
}
HELD_OUT_PERCENT = 20
#: ``(source, raw label) -> records`` of the last ``read_corpora`` call, rejected records included.
raw_labels: Counter = Counter()
_URL_SCHEME = re.compile(r"^[a-z]+://(?:www\.|m\.|amp\.)?")


def read_corpora(root: Path, sources: set[str] | None = None) -> list[dict]:
    """Every article of the corpora (or of the named sources) that the pipeline keeps, cleaned as
    it cleans them, with its raw label. ``raw_labels`` counts the labels of all records, kept or not."""
    records: list[tuple[str, RawRecord]] = []
    for path in sorted(root.glob("bbc_voa/*/*/*.doc")) if sources is None or "bbc_voa" in sources else ():
        rel = str(path.relative_to(root))
        fields = parse_bbc(path.read_text(encoding="utf-8"), rel)
        records.append(("full", RawRecord("bbc_voa", rel, 1, fields)))
    csv.field_size_limit(sys.maxsize)
    for rel, (source, kind, columns) in CSV_SOURCES.items():
        if sources is not None and source not in sources:
            continue
        with open(root / rel, encoding="utf-8-sig", newline="") as fh:
            for no, row in enumerate(csv.DictReader(fh), 1):
                records.append((kind, RawRecord(source, rel, no, {f: row.get(c) for f, c in columns.items()})))
    today = dt.date.today()
    raw_labels.clear()
    raw_labels.update((rec.source, rec.fields.get("category")) for _, rec in records)
    out = []
    for kind, rec in records:
        row = clean_record(rec, today)
        if isinstance(row, Reject):
            continue
        out.append(
            {
                "source": rec.source,
                "kind": kind,
                "headline": row["headline"],
                "body": row["body"],
                "url": row["url"],
                "raw_label": rec.fields.get("category"),
                "label": canonical_category(rec.fields.get("category")),
            }
        )
    return out


def group_ids(rows: list[dict]) -> list[str]:
    """A group name per row: rows sharing a normalized URL, a body or a headline share a group."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    keys_of = []
    for r in rows:
        keys = [f"body:{hashlib.sha1(r['body'].encode()).hexdigest()}"]
        if r["url"]:
            keys.append("url:" + _URL_SCHEME.sub("", r["url"].strip().lower()).split("#")[0].rstrip("/"))
        if r["headline"] and len(r["headline"]) >= 15:
            keys.append(f"title:{r['headline']}")
        keys_of.append(keys)
        for k in keys[1:]:
            a, b = find(keys[0]), find(k)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(keys[0]) for keys in keys_of]


def held_out(group: str) -> bool:
    return int(hashlib.sha1(group.encode()).hexdigest()[:8], 16) % 100 < HELD_OUT_PERCENT


def split(rows: list[dict]) -> tuple[list[dict], list[dict], dict]:
    """Train and test rows (one per group and label, the longest body) and split statistics."""
    groups = group_ids(rows)
    best: dict[tuple[str, str], dict] = {}
    labels_in_group: dict[str, set] = defaultdict(set)
    for g, r in zip(groups, rows):
        labels_in_group[g].add(r["label"])
        key = (g, r["label"])
        if key not in best or len(r["body"]) > len(best[key]["body"]):
            best[key] = r
    train = [r for (g, _), r in best.items() if not held_out(g)]
    test = [r for (g, _), r in best.items() if held_out(g)]
    stats = {
        "rows": len(rows),
        "groups": len(labels_in_group),
        "groups_with_conflicting_labels": sum(len(v) > 1 for v in labels_in_group.values()),
        "train_rows": len(train),
        "test_rows": len(test),
    }
    return train, test, stats


def term_lists(rows: list[dict]) -> list[list[str]]:
    """Each row's terms, from the same batch tokenizer the predictor uses."""
    doc, terms = article_terms([r["headline"] for r in rows], [r["body"] for r in rows])
    order = np.argsort(doc, kind="stable")
    bounds = np.searchsorted(doc[order], np.arange(len(rows) + 1))
    flat = terms.take(pa.array(order)).to_pylist()
    return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def train(rows: list[dict], max_terms: int, c: float, full_weight: float) -> tuple[CategoryModel, object]:
    """Fit TF-IDF (sublinear tf, l2) + multinomial logistic regression with scikit-learn.

    Returns the model as plain arrays and the fitted scikit-learn pipeline (to check the numpy
    predictor against).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    docs = term_lists(rows)
    vec = TfidfVectorizer(
        analyzer=lambda terms: terms, sublinear_tf=True, min_df=2, max_features=max_terms, dtype=np.float32
    )
    x = vec.fit_transform(docs)
    y = np.array([r["label"] for r in rows])
    # Headline rows outnumber full articles about 14 to 1: weight each kind so neither drowns the other.
    kinds = Counter(r["kind"] for r in rows)
    per_kind = {"full": full_weight * len(rows) / (2 * kinds["full"]), "headline": len(rows) / (2 * kinds["headline"])}
    weights = np.array([per_kind[r["kind"]] for r in rows])
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    clf.fit(x, y, sample_weight=weights)
    vocab = vec.get_feature_names_out().tolist()  # in column order
    model = CategoryModel(
        terms=pa.array(vocab, pa.string()),
        idf=vec.idf_.astype(np.float32),
        coef=clf.coef_.T.astype(np.float32),
        intercept=clf.intercept_.astype(np.float32),
        classes=tuple(clf.classes_.tolist()),
        meta={},
    )
    return model, make_pipeline(vec, clf)


def scores(y_true: list[str], y_pred: list[str], classes: tuple[str, ...]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    present = [c for c in classes if c in set(y_true)]
    per_class = f1_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    return {
        "rows": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)), 4),
        "per_class_f1": {c: round(float(f), 4) for c, f in zip(present, per_class)},
        "label_counts": dict(Counter(y_true).most_common()),
    }


def lake_throughput(lake: Path, rounds: int = 3) -> dict:
    """Median seconds of ``predict_categories`` over every article of the cleaned lake."""
    import pyarrow.dataset as ds

    table = ds.dataset(lake, partitioning="hive").to_table(columns=["headline", "body"])
    headlines, bodies = table["headline"].to_pylist(), table["body"].to_pylist()
    mb = sum(len(b.encode()) for b in bodies) / 1e6
    predict_categories(headlines[:10], bodies[:10])  # load the model outside the timing
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        predict_categories(headlines, bodies)
        times.append(time.perf_counter() - t0)
    seconds = sorted(times)[len(times) // 2]
    return {
        "articles": len(bodies),
        "body_megabytes": round(mb, 2),
        "rounds": rounds,
        "seconds_median": round(seconds, 3),
        "mb_per_s": round(mb / seconds, 2),
        "articles_per_s": round(len(bodies) / seconds),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpora", nargs="?", type=Path, default=DEFAULT_CORPORA)
    ap.add_argument("--lake", type=Path, help="also time predict_categories over this cleaned lake (articles/)")
    ap.add_argument("--max-terms", type=int, default=20000)
    ap.add_argument("--c", type=float, default=10.0, help="inverse regularisation strength")
    ap.add_argument("--full-weight", type=float, default=1.0, help="weight of full articles beside headline rows")
    ap.add_argument("--out", type=Path, default=category.MODEL_PATH)
    args = ap.parse_args()
    if not args.corpora.is_dir():
        sys.exit(f"corpora not found at {args.corpora}")

    t0 = time.perf_counter()
    rows = read_corpora(args.corpora)
    raw_counts = {
        f"{src}:{raw}": n
        for (src, raw), n in sorted(raw_labels.items(), key=str)
        if raw is not None and canonical_category(raw) is not None
    }
    unmapped = unmapped_labels([raw for _, raw in raw_labels.elements()])
    labelled = [r for r in rows if r["label"] not in (None, "misc")]
    train_rows, test_rows, split_stats = split(labelled)
    t_read = time.perf_counter() - t0

    t0 = time.perf_counter()
    model, fitted = train(train_rows, args.max_terms, args.c, args.full_weight)
    t_train = time.perf_counter() - t0

    # Score the model as it ships: float16 arrays, loaded from the file, numpy predictor.
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    shipped = CategoryModel.load(args.out)
    proba = shipped.probabilities([r["headline"] for r in test_rows], [r["body"] for r in test_rows])
    pred = [shipped.classes[i] for i in proba.argmax(axis=1)]
    truth = [r["label"] for r in test_rows]
    # The shipped predictor (float16, numpy) against scikit-learn's own on the same rows.
    agreement = float(np.mean(fitted.predict(term_lists(test_rows)) == np.array(pred)))
    result_scores = {"all": scores(truth, pred, shipped.classes)}
    for kind in ("full", "headline"):
        idx = [i for i, r in enumerate(test_rows) if r["kind"] == kind]
        result_scores[kind] = scores([truth[i] for i in idx], [pred[i] for i in idx], shipped.classes)
    by_source = {}
    for src in sorted({r["source"] for r in test_rows}):
        idx = [i for i, r in enumerate(test_rows) if r["source"] == src]
        by_source[src] = {"rows": len(idx), "accuracy": round(sum(truth[i] == pred[i] for i in idx) / len(idx), 4)}

    meta = {
        "model_version": MODEL_VERSION,
        "method": "TF-IDF (word unigrams + bigrams of headline + first "
        f"{category.MAX_BODY_CHARS} body chars, sublinear tf, l2) + multinomial logistic regression "
        f"(C={args.c}, class_weight=balanced, full-article vs headline rows weighted "
        f"{args.full_weight}:1 by kind); float16 arrays, numpy-only prediction",
        "classes": list(shipped.classes),
        "terms": len(shipped.terms),
        "trained_on": dict(Counter(r["label"] for r in train_rows).most_common()),
        "held_out": {"percent": HELD_OUT_PERCENT, "by": "group of rows sharing a normalized URL, body or headline"},
        "accuracy": result_scores["all"]["accuracy"],
        "accuracy_full_articles": result_scores["full"]["accuracy"],
        "accuracy_headline_only": result_scores["headline"]["accuracy"],
        "macro_f1": result_scores["all"]["macro_f1"],
        "trained_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    final = CategoryModel(shipped.terms, shipped.idf, shipped.coef, shipped.intercept, shipped.classes, meta)
    final.save(args.out)

    result = {
        "model_version": MODEL_VERSION,
        "model_file": str(args.out.relative_to(ROOT)) if args.out.is_relative_to(ROOT) else args.out.name,
        "model_bytes": args.out.stat().st_size,
        "method": meta["method"],
        "command": "python bench/train_category.py" + (" --lake LAKE" if args.lake else ""),
        "python": platform.python_version(),
        "raw_label_counts": raw_counts,
        # counts only: unmapped values are often spilled article text, which stays out of the repository
        "unmapped_raw_labels": {
            "distinct": len(unmapped),
            "records": sum(unmapped.values()),
            "multi_line": sum("\n" in k for k in unmapped),
        },
        "not_trained_on": {
            "misc": sum(r["label"] == "misc" for r in rows),
            "unmapped": sum(r["label"] is None for r in rows),
            "rejected_by_cleaning": sum(raw_labels.values()) - len(rows),
        },
        "split": split_stats,
        "label_counts": {"train": meta["trained_on"], "test": dict(Counter(truth).most_common())},
        "accuracy": meta["accuracy"],
        "macro_f1": meta["macro_f1"],
        "per_class_f1": result_scores["all"]["per_class_f1"],
        "scores": result_scores,
        "accuracy_by_source": by_source,
        "numpy_predictor_agrees_with_sklearn": round(agreement, 5),
        "seconds": {"read_and_clean": round(t_read, 1), "train": round(t_train, 1)},
    }
    if args.lake:
        category.load_model.cache_clear()
        if args.out.resolve() == category.MODEL_PATH.resolve():
            result["lake_throughput"] = lake_throughput(args.lake)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("model_bytes", "accuracy", "macro_f1", "split")}, indent=1))
    print(
        json.dumps(
            {k: {m: v[m] for m in ("rows", "accuracy", "macro_f1", "per_class_f1")} for k, v in result_scores.items()},
            indent=1,
            ensure_ascii=False,
        )
    )
    print(json.dumps(by_source), json.dumps(result.get("lake_throughput")), json.dumps(result["seconds"]))


if __name__ == "__main__":
    main()
