"""Exact and near-duplicate detection (etl.dedup): signatures, clusters, canonicals, history."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from etl import schema
from etl.dedup import clusters, minhash

ROOT = Path(__file__).resolve().parents[1]
UTC = dt.UTC

# A hand-made vocabulary: common Urdu function words and news words, so texts look like prose.
_VOCAB = [
    "حکومت",
    "وزیر",
    "اعظم",
    "نے",
    "کہا",
    "کہ",
    "ملک",
    "میں",
    "کے",
    "لیے",
    "اور",
    "سے",
    "پر",
    "کی",
    "کو",
    "ہے",
    "تھا",
    "گیا",
    "عوام",
    "قومی",
    "اسمبلی",
    "اجلاس",
    "بجٹ",
    "قیمت",
    "اضافہ",
    "کمی",
    "رپورٹ",
    "ذرائع",
    "مطابق",
    "پاکستان",
    "کراچی",
    "لاہور",
    "اسلام",
    "آباد",
    "پولیس",
    "عدالت",
    "فیصلہ",
    "بارش",
    "موسم",
    "ٹیم",
    "میچ",
    "کھلاڑی",
    "کپتان",
    "سیریز",
    "جیت",
    "شکست",
    "بینک",
    "ڈالر",
    "روپے",
    "تعلیم",
    "اسکول",
    "ہسپتال",
    "صحت",
    "منصوبہ",
    "سڑک",
    "پانی",
    "بجلی",
    "گیس",
    "شہر",
    "گاؤں",
    "کسان",
    "فصل",
    "برآمد",
    "درآمد",
    "معاہدہ",
    "دورہ",
    "ملاقات",
    "بیان",
]


def article(seed: int, words: int = 200) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(_VOCAB) for _ in range(words)]


def text(words: list[str]) -> str:
    return " ".join(words)


def content_hash(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def table(rows: list[dict], history: bool = False) -> pa.Table:
    """Rows of (id, body, published[, ingest_date, duplicate_of]) as the caller would pass them."""
    bodies = [r["body"] for r in rows]
    cols = {
        "article_id": pa.array([r["id"] for r in rows], pa.string()),
        "content_hash": pa.array([content_hash(b) for b in bodies], pa.string()),
        "published_at": pa.array([r.get("published") for r in rows], pa.timestamp("us", tz="UTC")),
        "signature": minhash.signature_array(minhash.signatures(bodies)),
    }
    if history:
        cols["ingest_date"] = pa.array([r.get("ingest_date", "2024-01-01") for r in rows], pa.string())
        if any("duplicate_of" in r for r in rows):
            cols["duplicate_of"] = pa.array([r.get("duplicate_of") for r in rows], pa.string())
    return pa.table(cols)


def pointers(result: pa.Table) -> dict[str, tuple[str, str, float]]:
    """The copies of a search's result: article -> (canonical, kind, similarity)."""
    cols = ("article_id", "duplicate_of", "kind", "similarity")
    return {a: (d, k, s) for a, d, k, s in zip(*(result[c].to_pylist() for c in cols)) if d is not None}


def test_signature_shape_type_and_empty_rows():
    sig = minhash.signatures([text(article(1)), "دو لفظ", None, ""])
    assert sig.shape == (4, minhash.NUM_PERM) and sig.dtype == np.uint32
    assert (sig[0] != minhash.EMPTY).all()
    assert (sig[1:] == minhash.EMPTY).all()  # fewer words than a shingle: no signature
    col = minhash.signature_array(sig)
    assert col.type == minhash.signature_type() == schema.SIGNATURE
    assert minhash.DEDUP_VERSION and 0 < minhash.THRESHOLD < 1


def test_punctuation_and_digits_do_not_change_the_signature():
    words = article(2)
    plain = text(words)
    marked = " ".join(w + ("،" if i % 7 == 0 else "") + (" 2024" if i % 11 == 0 else "") for i, w in enumerate(words))
    a, b = minhash.signatures([plain, marked])
    assert (a == b).all()


@pytest.mark.parametrize("edit", ["paragraph", "swaps", "tail_cut"])
def test_near_copies_are_caught(edit):
    words = article(3)
    copy = list(words)
    if edit == "paragraph":  # a 30-word paragraph rewritten
        copy[80:110] = article(99, 30)
    elif edit == "swaps":  # six pairs of neighbouring words swapped
        for i in (20, 50, 90, 120, 150, 180):
            copy[i], copy[i + 1] = copy[i + 1], copy[i]
    else:  # the last fifth missing
        copy = copy[:160]
    batch = table([{"id": "a", "body": text(words)}, {"id": "b", "body": text(copy)}])
    got = pointers(clusters.find_duplicates(batch))
    assert set(got) == {"b"}
    assert got["b"][0] == "a" and got["b"][1] == "near"
    assert minhash.THRESHOLD <= got["b"][2] < 1.0


def test_unrelated_articles_are_not_paired():
    batch = table([{"id": str(i), "body": text(article(100 + i))} for i in range(20)])
    assert clusters.find_duplicates(batch).num_rows == 0


def test_exact_copies_and_short_bodies():
    short = "بارش ہوگئی"
    batch = table(
        [
            {"id": "x", "body": text(article(4))},
            {"id": "y", "body": text(article(4))},
            {"id": "s1", "body": short},
            {"id": "s2", "body": short},
            {"id": "s3", "body": "بارش ہو گئی"},
        ]
    )
    got = pointers(clusters.find_duplicates(batch))
    assert got == {"y": ("x", "exact", 1.0), "s2": ("s1", "exact", 1.0)}


def test_short_template_reports_are_not_near_copies():
    # stock-market leads written from one template: the same words, other numbers and weekdays
    template = "کاروباری حجم {} کی نسبت {} فیصد کم رہا اور مجموعی طور پر {} کروڑ {} لاکھ حصص کے سودے ہوئے"
    days = ["پیر", "منگل", "بدھ", "جمعرات", "جمعہ"]
    batch = table([{"id": str(i), "body": template.format(days[i], 10 + i, 20 + i, 30 + i)} for i in range(5)])
    assert minhash.signatures([template])[0, 0] == minhash.EMPTY
    assert clusters.find_duplicates(batch).num_rows == 0


def test_canonical_is_earliest_published_then_smallest_id():
    body = article(5)
    v1, v2, v3 = list(body), list(body), list(body)
    v2[10:14] = article(6, 4)
    v3[100:104] = article(7, 4)
    rows = [
        {"id": "c", "body": text(v1), "published": dt.datetime(2024, 3, 2, tzinfo=UTC)},
        {"id": "b", "body": text(v2), "published": dt.datetime(2024, 3, 1, tzinfo=UTC)},
        {"id": "a", "body": text(v3)},
    ]  # no date: after every dated article
    got = pointers(clusters.find_duplicates(table(rows)))
    assert {k: v[0] for k, v in got.items()} == {"c": "b", "a": "b"}
    undated = [dict(r, published=None) for r in rows]
    got = pointers(clusters.find_duplicates(table(undated)))
    assert {k: v[0] for k, v in got.items()} == {"b": "a", "c": "a"}


def test_cluster_members_share_one_canonical():
    base = article(8, 300)
    chain = [list(base)]
    for step in range(1, 4):  # each copy drifts a little further from the first
        nxt = list(chain[-1])
        nxt[step * 60 : step * 60 + 12] = article(50 + step, 12)
        chain.append(nxt)
    batch = table([{"id": f"m{i}", "body": text(w)} for i, w in enumerate(chain)])
    got = pointers(clusters.find_duplicates(batch))
    assert set(got) == {"m1", "m2", "m3"}
    assert {v[0] for v in got.values()} == {"m0"}


def test_history_article_is_canonical_and_its_own_canonical_is_followed():
    body = article(9)
    copy = list(body)
    copy[40:45] = article(10, 5)
    history = table([{"id": "old", "body": text(body), "ingest_date": "2024-01-01"}], history=True)
    batch = table([{"id": "new", "body": text(copy)}, {"id": "other", "body": text(article(11))}])
    got = pointers(clusters.find_duplicates(batch, history))
    assert set(got) == {"new"} and got["new"][0] == "old" and got["new"][1] == "near"
    # a history row that already points elsewhere hands its canonical on (even one not passed in)
    history = table([{"id": "old", "body": text(body), "duplicate_of": "first"}], history=True)
    got = pointers(clusters.find_duplicates(batch, history))
    assert got["new"][0] == "first"
    # ... and so does one whose canonical is in the window too, reached only through the pointer
    history = table(
        [{"id": "first", "body": text(article(20))}, {"id": "old", "body": text(body), "duplicate_of": "first"}],
        history=True,
    )
    got = pointers(clusters.find_duplicates(batch, history))
    assert set(got) == {"new"} and got["new"][0] == "first"
    # an exact copy of a history article
    got = pointers(
        clusters.find_duplicates(
            table([{"id": "again", "body": text(body)}]), table([{"id": "old", "body": text(body)}], history=True)
        )
    )
    assert got == {"again": ("old", "exact", 1.0)}


def test_history_before_batch_and_earlier_ingest_first():
    body = text(article(12))
    history = table(
        [
            {"id": "z-late", "body": body, "ingest_date": "2024-02-01"},
            {"id": "y-early", "body": body, "ingest_date": "2024-01-01"},
        ],
        history=True,
    )
    got = pointers(clusters.find_duplicates(table([{"id": "a-batch", "body": body}]), history))
    assert got == {"a-batch": ("y-early", "exact", 1.0)}


def test_signature_column_may_be_a_variable_list():
    body = article(13)
    copy = list(body)
    copy[0:3] = article(14, 3)
    batch = table([{"id": "a", "body": text(body)}, {"id": "b", "body": text(copy)}])
    idx = batch.schema.get_field_index("signature")
    as_list = batch["signature"].cast(pa.list_(pa.uint32()))
    got = pointers(clusters.find_duplicates(batch.set_column(idx, "signature", as_list)))
    assert got["b"][0] == "a"


_CHILD = """
import sys
sys.path.insert(0, {root!r})
from etl.dedup import minhash
texts = {texts!r}
sys.stdout.write(minhash.signatures(texts).tobytes().hex())
"""


def test_signatures_are_the_same_in_another_process():
    texts = [text(article(s)) for s in range(5)] + ["چند الفاظ پر مشتمل ایک مختصر خبر یہاں ہے"]
    here = minhash.signatures(texts).tobytes().hex()
    outs = []
    for seed in ("1", "2"):  # Python's str hash differs per seed; ours must not
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD.format(root=str(ROOT), texts=texts)],
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed},
            check=True,
        )
        outs.append(proc.stdout)
    assert outs == [here, here]


def _url_key(url: str) -> str:
    u = str(url).strip().lower()
    for prefix in ("https://", "http://", "www."):
        u = u.removeprefix(prefix)
    return u.rstrip("/")


def test_news_sites_copies_sharing_a_url_are_found(corpora):
    pd = pytest.importorskip("pandas")
    from etl.text.normalize import collapse_whitespace, normalize
    from etl.text.repair import remove_boilerplate, repair_raw

    files = {
        "geo_jang_express_2024a.csv": ("Links", "Contents"),
        "geo_jang_express_dunya_2024b.csv": ("link", "content"),
        "jang_express_geo_samaa_dawn_2024c.csv": ("link", "content"),
    }
    frames = []
    for name, (link, content) in files.items():
        df = pd.read_csv(corpora / "news_sites" / name, dtype=str).dropna(subset=[link, content])
        frames.append(pd.DataFrame({"file": name, "url": df[link].map(_url_key), "raw": df[content]}))
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(["file", "url"])
    shared = rows.groupby("url")["file"].nunique()
    rows = rows[rows["url"].isin(shared[shared > 1].index)].reset_index(drop=True)

    def clean(raw: str) -> str:  # as the pipeline cleans a body
        body, furniture = remove_boilerplate(normalize(repair_raw(raw)[0]))
        return collapse_whitespace(body) if furniture else body

    bodies = [clean(r) for r in rows["raw"]]
    ids = [f"{i:05d}" for i in range(len(rows))]
    batch = table([{"id": i, "body": b} for i, b in zip(ids, bodies)])
    root = dict(zip(*(clusters.find_duplicates(batch)[c].to_pylist() for c in ("article_id", "duplicate_of"))))
    groups = rows.assign(cluster=[root.get(i, i) for i in ids]).groupby("url")["cluster"].nunique()
    assert len(groups) > 500  # the files do share hundreds of URLs
    assert (groups == 1).mean() >= 0.95  # and nearly every such group is one cluster (0.99 measured)


def test_exact_copy_of_two_history_rows_points_to_the_earliest():
    body = text(article(15))
    history = table(
        [
            {"id": "h1", "body": body, "published": dt.datetime(2024, 1, 1, tzinfo=UTC)},
            {"id": "h0", "body": body, "published": dt.datetime(2024, 1, 5, tzinfo=UTC)},
            {"id": "h2", "body": body, "published": dt.datetime(2024, 1, 3, tzinfo=UTC)},
        ],
        history=True,
    )
    got = pointers(clusters.find_duplicates(table([{"id": "b", "body": body}]), history))
    assert got == {"b": ("h1", "exact", 1.0)}


def _minhash_reference(values: np.ndarray, offsets: np.ndarray, num_perm: int) -> np.ndarray:
    """The permutation MinHash written out with numpy: ``(a*x + b)`` folded modulo ``2**31 - 1``
    (``y - p`` when the fold ``y`` reaches ``p``), the least per body, ``EMPTY`` for no values."""
    a, b = minhash._permutations(num_perm)
    p = np.uint64((1 << 31) - 1)
    out = np.full((len(offsets) - 1, num_perm), minhash.EMPTY, dtype=np.uint32)
    for d in range(len(offsets) - 1):
        x = values[offsets[d] : offsets[d + 1]]
        if not len(x):
            continue
        v = a[:, None] * x[None, :] + b[:, None]
        y = (v & p) + (v >> np.uint64(31))
        out[d] = np.where(y >= p, y - p, y).min(axis=1)
    return out


@pytest.mark.parametrize("num_perm", [minhash.NUM_PERM, 7])
def test_compiled_minhash_equals_the_formula(num_perm):
    rng = np.random.default_rng(5)
    lengths = rng.integers(0, 300, 40)
    lengths[::6] = 0  # bodies without shingles
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = rng.integers(0, 1 << 31, int(offsets[-1])).astype(np.uint64)
    values[:20] = (1 << 31) - 1  # the largest shingle value
    got = minhash.minhash(values, offsets, num_perm)
    assert got.dtype == np.uint32 and got.shape == (len(lengths), num_perm)
    assert np.array_equal(got, _minhash_reference(values, offsets, num_perm))
    assert (got[lengths == 0] == minhash.EMPTY).all() and (got[lengths > 0] < minhash.EMPTY).all()


def test_candidate_pairs_of_band_ranges_unite_to_all_pairs():
    rng = random.Random(3)
    bodies = []
    for seed in range(12):
        words = article(seed)
        bodies.append(text(words))
        for _ in range(2):  # two edited copies of each: pairs in many bands, not all
            edited = list(words)
            for k in rng.sample(range(len(words)), 12):
                edited[k] = rng.choice(_VOCAB)
            bodies.append(text(edited))
    sig = minhash.signatures(bodies)
    whole = clusters.candidate_pairs(sig)
    assert len(whole) >= 24
    parts = [clusters.candidate_pairs(sig, band_range=range(lo, lo + 8)) for lo in range(0, minhash.BANDS, 8)]
    assert any(len(p) < len(whole) for p in parts)  # a range alone misses pairs the others find
    united = np.unique(np.concatenate(parts), axis=0)
    assert np.array_equal(united, whole)
    assert len(clusters.candidate_pairs(sig, band_range=range(0))) == 0
