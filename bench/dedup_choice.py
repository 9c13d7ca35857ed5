"""Near-duplicate detection: the parameters and the implementation, chosen by measurement.

Usage: .venv/bin/python bench/dedup_choice.py --lake DATA_DIR/lake/articles [--rounds 3]

Input: a cleaned lake written by the pipeline (hive-partitioned Parquet of articles). The news_a,
news_b and news_c sources are the three news_sites CSVs, which copy each other (one URL in two or
three files, bodies re-scraped, one copy without punctuation or digits), so they are the test bed;
the whole lake is the throughput input.

1. ``shingles``: exact Jaccard similarity of every pair of news_a+b+c articles that shares a
   shingle, for shingle sizes 2-5 and two tokenizations (letters only, letters and digits).
   Pairs of articles with the same URL in two files are the known copies; pairs with different
   URLs above a threshold are either copies under another URL or false alarms (the hand-check,
   ``bench/dedup_handcheck.py``, says which). Gives URL-copy recall and the other pairs per threshold.
2. ``lsh``: for the chosen shingle size and threshold, MinHash size and bands x rows against the
   exact pairs: recall of pairs at or above the threshold, pairs flagged below it, candidates.
3. ``implementation``: datasketch 2.0.0 (MinHash.bulk + MinHashLSH with the same bands x rows)
   against ``etl.dedup`` on the same bodies (the whole lake): MB/s of body text (median of
   interleaved rounds), peak memory (a fresh process per method: peak RSS above the loaded
   input), and agreement of the pairs each finds.
4. ``clusters``: what ``find_duplicates`` reports over news_a+b+c in one batch and as three runs
   (news_a, then news_b with news_a as history, then news_c), and over the whole lake.

Writes bench/results/dedup_choice.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from etl.dedup import clusters as copy_clusters
from etl.dedup import minhash

NEWS = ["news_a", "news_b", "news_c"]
SEPARATORS = {"letters": r"[^\p{L}\p{M}]+", "letters_digits": r"[^\p{L}\p{M}\p{N}]+"}
THRESHOLDS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
COLUMNS = ["source", "article_id", "url", "headline", "body", "content_hash", "published_at", "ingest_date"]


def load(lake: str, sources: list[str] | None = None) -> pa.Table:
    """Articles of the lake (optionally some sources), in a stable order."""
    data = ds.dataset(lake, partitioning="hive")
    filt = pc.field("source").isin(sources) if sources else None
    table = data.to_table(columns=[c for c in COLUMNS if c in data.schema.names], filter=filt)
    return table.sort_by([("source", "ascending"), ("article_id", "ascending")])


# --- 1. exact Jaccard of all pairs that share a shingle ---------------------------------------


def shingle_sets(bodies: pa.ChunkedArray, k: int, separators: str) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (doc, shingle value) pairs, sorted by value; the body's set size per doc."""
    tokens, offsets = minhash.word_tokens(bodies, separators)
    values, sh_off = minhash.shingle_values(minhash.word_hashes(tokens), offsets, k)
    doc = np.repeat(np.arange(len(offsets) - 1), np.diff(sh_off))
    order = np.lexsort((doc, values))
    doc, values = doc[order], values[order]
    keep = np.ones(len(doc), dtype=bool)
    keep[1:] = (doc[1:] != doc[:-1]) | (values[1:] != values[:-1])
    doc, values = doc[keep], values[keep]
    return np.stack((doc, values.astype(np.int64)), 1), np.bincount(doc, minlength=len(offsets) - 1)


def exact_pairs(
    bodies: pa.ChunkedArray, k: int, separators: str = SEPARATORS["letters"], min_j: float = 0.05, cap: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Every doc pair ``i < j`` with exact shingle-set Jaccard >= ``min_j``, and that Jaccard.

    Pairs are generated from shingles held by at most ``cap`` docs; the intersection over the
    more common shingles is added with a dense product, so the Jaccard values are exact.
    """
    dv, size = shingle_sets(bodies, k, separators)
    n = len(size)
    values = dv[:, 1]
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    lens = np.diff(np.r_[starts, len(values)])
    keys = []
    for m in np.unique(lens[(lens > 1) & (lens <= cap)]):
        first = starts[lens == m]
        iu, ju = np.triu_indices(m, 1)
        a, b = dv[first[:, None] + iu, 0].ravel(), dv[first[:, None] + ju, 0].ravel()
        keys.append(np.minimum(a, b) * n + np.maximum(a, b))
    keys, inter = np.unique(np.concatenate(keys), return_counts=True)
    i, j = keys // n, keys % n
    common = np.flatnonzero(lens > cap)
    if len(common):
        member = np.zeros((n, len(common)), dtype=np.float32)
        for c, (s, m) in enumerate(zip(starts[common], lens[common])):
            member[dv[s : s + m, 0], c] = 1
        for s in range(0, len(i), 200_000):
            sl = slice(s, s + 200_000)
            inter[sl] += np.einsum("ij,ij->i", member[i[sl]], member[j[sl]]).astype(np.int64)
    jac = inter / (size[i] + size[j] - inter)
    keep = jac >= min_j
    return np.stack((i[keep], j[keep]), 1), jac[keep]


def url_key(url: str | None) -> str:
    """A URL without scheme, ``www.`` and trailing slash: the files spell one page both ways."""
    u = (url or "").strip().lower()
    for prefix in ("https://", "http://", "www."):
        u = u.removeprefix(prefix)
    return u.rstrip("/")


def url_pairs(table: pa.Table) -> set[tuple[int, int]]:
    """Row pairs ``i < j`` of articles with the same URL (the known copies across the files)."""
    by_url: dict[str, list[int]] = {}
    for r, u in enumerate(table["url"].to_pylist()):
        if url_key(u):
            by_url.setdefault(url_key(u), []).append(r)
    return {(a, b) for rows in by_url.values() for x, a in enumerate(rows) for b in rows[x + 1 :]}


_NUMBER = re.compile(r"\d+")


def number_evidence(bodies: list[str], pairs: np.ndarray) -> np.ndarray:
    """Per pair: 1 when both bodies carry numbers and share most of them (same event reported),
    -1 when both carry numbers and share few (another day's report from a template: a false
    alarm), 0 when one has no digits (news_b copies lost theirs, so no evidence)."""
    nums = [set(_NUMBER.findall(b)) for b in bodies]
    out = np.zeros(len(pairs), dtype=np.int8)
    for n, (a, b) in enumerate(pairs.tolist()):
        if nums[a] and nums[b]:
            out[n] = 1 if len(nums[a] & nums[b]) / len(nums[a] | nums[b]) >= 0.5 else -1
    return out


def sweep_shingles(news: pa.Table) -> dict:
    """URL-copy recall and other pairs above each threshold, per tokenization and shingle size.

    The other pairs are split by the numbers in both bodies: ``same_numbers`` are most likely
    copies under another URL, ``other_numbers`` most likely template reports of another day
    (gold price, exchange rate) that must not be flagged.
    """
    known = url_pairs(news)
    bodies = news["body"].to_pylist()
    out = {"url_pairs": len(known), "grid": []}
    for name, seps in SEPARATORS.items():
        for k in (2, 3, 4, 5, 6):
            t0 = time.perf_counter()
            pairs, jac = exact_pairs(news["body"], k, seps)
            is_url = np.array([(a, b) in known for a, b in pairs.tolist()], dtype=bool)
            evidence = number_evidence(bodies, pairs)
            url_j = np.zeros(len(known))
            url_j[: is_url.sum()] = jac[is_url]
            row = {
                "tokens": name,
                "shingle": k,
                "seconds": round(time.perf_counter() - t0, 2),
                "url_pair_jaccard_quantiles": {
                    q: round(float(np.quantile(url_j, q)), 3) for q in (0.01, 0.05, 0.1, 0.5)
                },
                "by_threshold": [],
            }
            for t in THRESHOLDS:
                hit = jac >= t
                other = hit & ~is_url
                row["by_threshold"].append(
                    {
                        "threshold": t,
                        "url_recall": round(int((hit & is_url).sum()) / len(known), 4),
                        "other_pairs": int(other.sum()),
                        "other_same_numbers": int((other & (evidence == 1)).sum()),
                        "other_other_numbers": int((other & (evidence == -1)).sum()),
                    }
                )
            out["grid"].append(row)
    return out


# --- 2. MinHash size and banding ---------------------------------------------------------------


def sweep_lsh(news: pa.Table, k: int, threshold: float) -> dict:
    """Recall and flagged-below-threshold pairs of MinHash + LSH for several sizes and bandings."""
    pairs, jac = exact_pairs(news["body"], k)
    truth = {tuple(p) for p, j in zip(pairs.tolist(), jac) if j >= threshold}
    jac_of = dict(zip(map(tuple, pairs.tolist()), jac.tolist()))
    tokens, offsets = minhash.word_tokens(news["body"])
    values, sh_off = minhash.shingle_values(minhash.word_hashes(tokens), offsets, k)
    rows_out = []
    for num_perm in (64, 128, 256):
        sig = minhash.minhash(values, sh_off, num_perm)
        for r in (2, 4, 5, 8, 16):
            b = num_perm // r
            cand = copy_clusters.candidate_pairs(sig, None, b, r)
            est = copy_clusters.similarity(sig, cand)
            found = {tuple(p) for p in cand[est >= threshold].tolist()}
            err = [abs(float((sig[a] == sig[c]).mean()) - jac_of[(a, c)]) for a, c in truth]
            rows_out.append(
                {
                    "num_perm": num_perm,
                    "bands": b,
                    "rows": r,
                    "p_candidate_at_threshold": round(1 - (1 - threshold**r) ** b, 4),
                    "candidates": len(cand),
                    "found": len(found),
                    "recall_of_exact": round(len(found & truth) / max(len(truth), 1), 4),
                    "found_below_threshold": len(found - truth),
                    "found_below_threshold_minus_0.1": sum(jac_of.get(p, 0) < threshold - 0.1 for p in found),
                    "mean_abs_error_of_estimate": round(float(np.mean(err)), 4),
                }
            )
    return {"shingle": k, "threshold": threshold, "exact_pairs_at_threshold": len(truth), "grid": rows_out}


# --- 3. datasketch against ours ----------------------------------------------------------------


def run_ours(bodies: pa.ChunkedArray) -> tuple[set, dict]:
    """``etl.dedup`` as the pipeline runs it: chunked signatures, then LSH and verification."""
    t0 = time.perf_counter()
    sig = minhash.signatures(bodies)
    t = {"signatures": time.perf_counter() - t0}
    cand = copy_clusters.candidate_pairs(sig)
    est = copy_clusters.similarity(sig, cand)
    found = {tuple(p) for p in cand[est >= minhash.THRESHOLD].tolist()}
    t["lsh_and_verify"] = time.perf_counter() - t0 - t["signatures"]
    return found, t


def signature_stages(bodies: pa.ChunkedArray) -> dict:
    """Seconds of each signature stage over all bodies at once (no chunking), to see where time goes."""
    t, t0 = {}, time.perf_counter()
    tokens, offsets = minhash.word_tokens(bodies)
    t["tokenize"] = time.perf_counter() - t0
    wh = minhash.word_hashes(tokens)
    t["word_hashes"] = time.perf_counter() - t0 - sum(t.values())
    values, sh_off = minhash.shingle_values(wh, offsets)
    t["shingles"] = time.perf_counter() - t0 - sum(t.values())
    minhash.minhash(values, sh_off)
    t["minhash"] = time.perf_counter() - t0 - sum(t.values())
    return {k: round(v, 2) for k, v in t.items()}


def run_datasketch(bodies: pa.ChunkedArray) -> tuple[set, dict]:
    """datasketch on the same words and shingles (k words joined by a space, UTF-8)."""
    from datasketch import MinHash, MinHashLSH

    t = {}
    t0 = time.perf_counter()
    tokens, offsets = minhash.word_tokens(bodies)
    words = tokens.to_pylist()
    k = minhash.SHINGLE
    docs = [
        [" ".join(words[p : p + k]).encode() for p in range(s, e - k + 1)]
        for s, e in zip(offsets[:-1].tolist(), offsets[1:].tolist())
    ]
    t["tokenize_and_shingle"] = time.perf_counter() - t0
    live = [i for i, d in enumerate(docs) if d]
    hashes = MinHash.bulk([docs[i] for i in live], num_perm=minhash.NUM_PERM)
    t["minhash"] = time.perf_counter() - t0 - sum(t.values())
    lsh = MinHashLSH(threshold=minhash.THRESHOLD, num_perm=minhash.NUM_PERM, params=(minhash.BANDS, minhash.ROWS))
    with lsh.insertion_session() as session:
        for i, m in zip(live, hashes):
            session.insert(i, m, check_duplication=False)
    by_key = dict(zip(live, hashes))
    found = set()
    for i, m in by_key.items():
        for j in lsh.query(m):
            if j > i and m.jaccard(by_key[j]) >= minhash.THRESHOLD:
                found.add((i, j))
    t["lsh_and_verify"] = time.perf_counter() - t0 - sum(t.values())
    return found, t


METHODS = {"ours_numpy": run_ours, "datasketch": run_datasketch}


def distinct_bodies(table: pa.Table) -> pa.Table:
    """One row per content hash: exact copies are settled by the hash before MinHash matters."""
    seen: set[str] = set()
    keep = [i for i, h in enumerate(table["content_hash"].to_pylist()) if not (h in seen or seen.add(h))]
    return table.take(keep)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_child(lake: str, method: str, queue) -> None:
    """In a fresh process: load the bodies, then the peak RSS the method adds on top of them
    (sampled every 2 ms by a thread)."""
    import threading

    bodies = distinct_bodies(load(lake))["body"]
    base, peak, done = _rss_mb(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.002)

    thread = threading.Thread(target=sample)
    thread.start()
    METHODS[method](bodies)
    done.set()
    thread.join()
    queue.put(peak[0] - base)


def peak_memory_mb(lake: str, method: str) -> float:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peak_child, args=(lake, method, queue))
    proc.start()
    value = queue.get()
    proc.join()
    return round(value, 1)


def components(pairs: set, n: int) -> np.ndarray:
    """Component label per row from a set of linked pairs."""
    uf = copy_clusters._UnionFind()
    for a, b in pairs:
        uf.union(a, b)
    return np.array([uf.find(i) for i in range(n)])


def co_clustered(labels_a: np.ndarray, labels_b: np.ndarray | None = None) -> int:
    """Row pairs in one component (of both labelings when two are given)."""
    keys = labels_a if labels_b is None else labels_a.astype(np.int64) * (len(labels_a) + 1) + labels_b
    _, counts = np.unique(keys, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def compare(lake: str, rounds: int) -> dict:
    """Throughput, peak memory and agreement of the two implementations on the distinct bodies of
    the whole lake, each also scored against the exact Jaccard pairs."""
    table = distinct_bodies(load(lake))
    bodies = table["body"]
    n = table.num_rows
    mb = pc.sum(pc.binary_length(bodies)).as_py() / 1e6
    exact, jac = exact_pairs(bodies, minhash.SHINGLE, min_j=0.3)
    jac_of = dict(zip(map(tuple, exact.tolist()), jac.tolist()))
    truth = {p for p, j in jac_of.items() if j >= minhash.THRESHOLD}
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    stages: dict[str, dict] = {}
    found: dict[str, set] = {}
    for _ in range(rounds):
        for name, fn in METHODS.items():
            t0 = time.perf_counter()
            found[name], stages[name] = fn(bodies)
            times[name].append(time.perf_counter() - t0)
    out = {
        "input": "distinct bodies (one per content_hash) of the whole lake",
        "input_mb": round(mb, 2),
        "articles": n,
        "rounds": rounds,
        "exact_pairs_at_threshold": len(truth),
        "methods": {},
    }
    labels = {}
    for name in METHODS:
        med = statistics.median(times[name])
        labels[name] = components(found[name], n)
        same = [labels[name][a] == labels[name][b] for a, b in truth]
        out["methods"][name] = {
            "seconds_median": round(med, 2),
            "mb_per_s": round(mb / med, 2),
            "stage_seconds_last_round": {k: round(v, 2) for k, v in stages[name].items()},
            "peak_rss_mb_above_input": peak_memory_mb(lake, name),
            "pairs_found": len(found[name]),
            "exact_pairs_in_one_cluster": round(float(np.mean(same)), 4),
            "found_pairs_below_threshold": sum(jac_of.get(p, 0.0) < minhash.THRESHOLD for p in found[name]),
            "found_pairs_below_threshold_minus_0.1": sum(
                jac_of.get(p, 0.0) < minhash.THRESHOLD - 0.1 for p in found[name]
            ),
        }
    out["methods"]["ours_numpy"]["signature_stage_seconds_unchunked"] = signature_stages(bodies)
    out["speedup_ours_over_datasketch"] = round(
        out["methods"]["datasketch"]["seconds_median"] / out["methods"]["ours_numpy"]["seconds_median"], 2
    )
    a, b = found["ours_numpy"], found["datasketch"]
    both = co_clustered(labels["ours_numpy"], labels["datasketch"])
    ours_cc, ds_cc = co_clustered(labels["ours_numpy"]), co_clustered(labels["datasketch"])
    out["agreement"] = {
        "pairs_both": len(a & b),
        "pairs_only_ours": len(a - b),
        "pairs_only_datasketch": len(b - a),
        "note": "ours links a bucket of more than 64 articles as a chain, datasketch returns all its pairs; "
        "so pairs differ by design and the clusters are compared too",
        "co_clustered_pairs_ours": ours_cc,
        "co_clustered_pairs_datasketch": ds_cc,
        "co_clustered_in_both": both,
        "cluster_agreement": round(both / max(ours_cc + ds_cc - both, 1), 4),
    }
    return out


# --- 4. clusters -----------------------------------------------------------------------------


def with_signatures(table: pa.Table) -> pa.Table:
    return table.append_column("signature", minhash.signature_array(minhash.signatures(table["body"])))


def summarize(result: pa.Table, table: pa.Table) -> dict:
    kinds = dict(zip(*[c.to_pylist() for c in pc.value_counts(result["kind"]).flatten()])) if result.num_rows else {}
    canon = result["duplicate_of"].to_pylist()
    sizes: dict[str, int] = {}
    for c in canon:
        sizes[c] = sizes.get(c, 1) + 1
    hist: dict[int, int] = {}
    for s in sizes.values():
        hist[s] = hist.get(s, 0) + 1
    return {
        "articles": table.num_rows,
        "duplicates": result.num_rows,
        "exact": kinds.get("exact", 0),
        "near": kinds.get("near", 0),
        "clusters": len(sizes),
        "cluster_sizes": {str(k): v for k, v in sorted(hist.items())},
    }


def clusters(lake: str) -> dict:
    news = with_signatures(load(lake, NEWS))
    t0 = time.perf_counter()
    one = copy_clusters.find_duplicates(news)
    out = {"news_abc_one_batch": summarize(one, news) | {"seconds": round(time.perf_counter() - t0, 2)}}
    # URL copies: articles whose URL is in two or three files, found in one cluster with the others
    root = dict(zip(one["article_id"].to_pylist(), one["duplicate_of"].to_pylist()))
    ids, urls, srcs = (news[c].to_pylist() for c in ("article_id", "url", "source"))
    by_url: dict[str, list[str]] = {}
    for aid, u in zip(ids, urls):
        if url_key(u):
            by_url.setdefault(url_key(u), []).append(aid)
    groups = [g for g in by_url.values() if len(g) > 1]
    together = sum(len({root.get(a, a) for a in g}) == 1 for g in groups)
    out["url_copies"] = {
        "urls_in_several_files": len(groups),
        "all_copies_in_one_cluster": together,
        "share": round(together / len(groups), 4),
    }
    # the same three files as three nightly runs, each with the earlier ones as history
    history, runs = None, []
    for n, src in enumerate(NEWS):
        batch = news.filter(pc.equal(news["source"], src))
        res = copy_clusters.find_duplicates(batch, history)
        runs.append(res)
        batch = batch.drop_columns(["ingest_date"]).append_column(
            "ingest_date", pa.array([f"2024-01-0{n + 1}"] * batch.num_rows)
        )
        dup = dict(zip(res["article_id"].to_pylist(), res["duplicate_of"].to_pylist()))
        batch = batch.append_column(
            "duplicate_of", pa.array([dup.get(a) for a in batch["article_id"].to_pylist()], pa.string())
        )
        keep = ["article_id", "content_hash", "published_at", "signature", "ingest_date", "duplicate_of"]
        batch = batch.select(keep)
        history = batch if history is None else pa.concat_tables([history.select(keep), batch])
    three = pa.concat_tables(runs)
    out["news_abc_three_runs"] = summarize(three, news)
    r3 = dict(zip(three["article_id"].to_pylist(), three["duplicate_of"].to_pylist()))
    # canonicals differ by design (news_a was ingested first), so compare the clusters
    label1 = np.unique([root.get(a, a) for a in ids], return_inverse=True)[1]
    label3 = np.unique([r3.get(a, a) for a in ids], return_inverse=True)[1]
    both = co_clustered(label1, label3)
    out["three_runs_vs_one_batch"] = {
        "co_clustered_pairs_one_batch": co_clustered(label1),
        "co_clustered_pairs_three_runs": co_clustered(label3),
        "in_both": both,
        "pointing_to_a_news_a_canonical_three_runs": sum(
            1
            for c in r3.values()
            if c in set(news.filter(pc.equal(news["source"], "news_a"))["article_id"].to_pylist())
        ),
    }
    out["sources_of_duplicates"] = {s: sum(1 for a, src in zip(ids, srcs) if src == s and a in root) for s in NEWS}
    lake_t = load(lake)
    t0 = time.perf_counter()
    lake_sig = with_signatures(lake_t)
    t1 = time.perf_counter()
    res = copy_clusters.find_duplicates(lake_sig)
    t2 = time.perf_counter()
    mb = pc.sum(pc.binary_length(lake_t["body"])).as_py() / 1e6
    out["whole_lake"] = summarize(res, lake_t) | {
        "input_mb": round(mb, 2),
        "signature_seconds": round(t1 - t0, 2),
        "find_seconds": round(t2 - t1, 2),
        "mb_per_s_signatures_plus_find": round(mb / (t2 - t0), 2),
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", required=True, help="the articles folder of a cleaned lake (hive Parquet)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip", nargs="*", default=[], choices=["shingles", "lsh", "implementation", "clusters"])
    args = ap.parse_args()
    if not Path(args.lake).is_dir():
        sys.exit(f"no lake at {args.lake}: run the pipeline over ../shared/corpora first")
    news = load(args.lake, NEWS)
    result = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pyarrow": pa.__version__,
        "chosen": {
            "DEDUP_VERSION": minhash.DEDUP_VERSION,
            "SHINGLE": minhash.SHINGLE,
            "NUM_PERM": minhash.NUM_PERM,
            "BANDS": minhash.BANDS,
            "ROWS": minhash.ROWS,
            "THRESHOLD": minhash.THRESHOLD,
        },
    }
    if "shingles" not in args.skip:
        result["shingles"] = sweep_shingles(news)
    if "lsh" not in args.skip:
        result["lsh"] = sweep_lsh(news, minhash.SHINGLE, minhash.THRESHOLD)
    if "implementation" not in args.skip:
        import datasketch

        result["implementation"] = compare(args.lake, args.rounds) | {"datasketch": datasketch.__version__}
    if "clusters" not in args.skip:
        result["clusters"] = clusters(args.lake)
    out = HERE / "results" / "dedup_choice.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    out.write_text(json.dumps(previous | result, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
