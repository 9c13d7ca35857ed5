"""The copy search's second stage (etl.dedup.rewrites): sketches, the rewrite/story decision,
clusters with rewrites and stories, and ``pair_kinds``."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pyarrow as pa

from etl.dedup import clusters, minhash, rewrites
from etl.schema import SIGNATURES as SIG
from tests.test_dedup import _VOCAB, content_hash

UTC = dt.UTC
DAY = dt.datetime(2024, 11, 5, 9, tzinfo=UTC)
_STAGE2_COLUMNS = ("sketch", "numbers", "entities")


def sentences(seed: int, n: int = 12, words: int = 18) -> list[list[str]]:
    rng = random.Random(seed)
    return [[rng.choice(_VOCAB) for _ in range(words)] for _ in range(n)]


def body(sents: list[list[str]], numbers: list[str] = ()) -> str:
    out = [" ".join(s) + "۔" for s in sents]
    for k, num in enumerate(numbers):  # a figure in every other sentence
        out[2 * k] = out[2 * k].replace("۔", f" {num} روپے۔")
    return " ".join(out)


def rewrite_of(sents: list[list[str]], seed: int) -> list[list[str]]:
    """Another desk's version: sentences reordered, one dropped, two words of each changed."""
    rng = random.Random(seed)
    kept = sents[1:]
    rng.shuffle(kept)
    return [[rng.choice(_VOCAB) if k in (4, 12) else w for k, w in enumerate(s)] for s in kept]


def table(rows: list[dict]) -> pa.Table:
    """Rows of (id, body, published, entities) as the copy search's signature rows."""
    bodies = [r["body"] for r in rows]
    return pa.table(
        {
            "article_id": [r["id"] for r in rows],
            "content_hash": [content_hash(b) for b in bodies],
            "published_at": pa.array([r.get("published", DAY) for r in rows], pa.timestamp("us", tz="UTC")),
            "signature": minhash.signature_array(minhash.signatures(bodies)),
            "sketch": rewrites.sketches(bodies),
            "numbers": rewrites.number_keys(bodies),
            "entities": rewrites.entity_keys([r.get("entities", ["person:الف", "location:کراچی"]) for r in rows]),
            "site": [r.get("site", f"{r['id']}.pk") for r in rows],
        }
    )


def result(found: pa.Table) -> dict[str, dict]:
    return {r["article_id"]: r for r in found.to_pylist()}


def test_sketch_samples_the_same_3grams_and_skips_short_bodies():
    a = body(sentences(1, n=5))
    longer = a + " " + body(sentences(2, n=5))  # fewer 3-grams than MAX_SKETCH: all of them kept
    short, empty = " ".join(["کراچی"] * (minhash.MIN_NEAR_WORDS - 1)), ""
    sk = rewrites.sketches([a, longer, short, empty, None]).to_pylist()
    assert sk[0] and set(sk[0]) <= set(sk[1])  # the text inside another: every sampled value is there
    assert sk[2] == [] and sk[3] == [] and sk[4] == []
    assert all(v % rewrites.SAMPLE == 0 for v in sk[1]) and sk[1] == sorted(set(sk[1]))
    assert len(rewrites.sketches([body(sentences(3, n=60))])[0]) <= rewrites.MAX_SKETCH


def test_stop_word_3grams_are_not_sketched():
    stops = sorted(rewrites.quality.stop_words())[:12]
    only_stops = " ".join(stops[k % len(stops)] for k in range(200))
    assert rewrites.sketches([only_stops]).to_pylist() == [[]]


def test_numbers_are_keyed_as_written_without_separators():
    keys = rewrites.number_keys(["قیمت 1,250 روپے اور 3.5 فیصد، 1250", "کوئی عدد نہیں", None]).to_pylist()
    assert len(keys[0]) == 2 and keys[1] == [] and keys[2] == []


def evidence(containment: float, numbers=(0, 0, 0), entities=(0, 0, 0), days=None, same_site=False):
    return rewrites.Evidence(containment, 30, numbers, entities, days, same_site)


def test_decision_needs_agreeing_facts():
    assert rewrites.kind_of(evidence(0.8)) == "rewrite"
    # two days' template reports: the phrases agree, the figures do not
    assert rewrites.kind_of(evidence(0.8, numbers=(1, 6, 7))) is None
    assert rewrites.kind_of(evidence(0.8, days=rewrites.MAX_DAYS + 1)) is None
    between = (rewrites.REWRITE_SUPPORTED + rewrites.REWRITE_CONTAINMENT) / 2
    assert rewrites.kind_of(evidence(between)) is None
    assert rewrites.kind_of(evidence(between, numbers=(4, 5, 5))) is None  # one figure differs
    assert rewrites.kind_of(evidence(between, numbers=(5, 5, 6))) == "rewrite"
    assert rewrites.kind_of(evidence(between, entities=(3, 3, 8))) == "rewrite"
    # one site's two articles sharing paragraphs: a follow-up or a template, not a rewrite
    assert rewrites.kind_of(evidence(0.8, same_site=True)) is None
    assert rewrites.kind_of(evidence(0.2, entities=(3, 4, 4), same_site=True)) is None
    assert rewrites.kind_of(evidence(rewrites.STORY_CONTAINMENT, entities=(3, 4, 4))) == "story"
    assert rewrites.kind_of(evidence(rewrites.STORY_CONTAINMENT / 2, entities=(3, 4, 4))) is None


def test_a_rewrite_is_a_copy_and_shares_the_story():
    src = sentences(10)
    nums = ["1200", "45", "7"]
    orig, rewritten = body(src, nums), body(rewrite_of(src, 1), nums)
    jaccard = float((minhash.signatures([orig])[0] == minhash.signatures([rewritten])[0]).mean())
    assert jaccard < minhash.THRESHOLD  # MinHash alone misses it
    other = body(sentences(11), ["3"])
    found = result(
        clusters.find_duplicates(
            table(
                [
                    {"id": "agency", "body": orig, "published": DAY},
                    {"id": "desk", "body": rewritten, "published": DAY + dt.timedelta(hours=3)},
                    {"id": "other", "body": other, "entities": ["person:ب"]},
                ]
            )
        )
    )
    assert found["desk"]["duplicate_of"] == "agency" and found["desk"]["kind"] == "rewrite"
    assert 0 < found["desk"]["similarity"] <= 1
    assert found["desk"]["story_id"] == found["agency"]["story_id"] == "agency"
    assert found["agency"]["duplicate_of"] is None and "other" not in found
    one_site = [{"id": "a", "body": orig, "site": "x.pk"}, {"id": "b", "body": rewritten, "site": "x.pk"}]
    assert clusters.find_duplicates(table(one_site)).num_rows == 0


def test_template_reports_of_other_days_are_not_rewrites():
    src = sentences(20)
    monday, tuesday = body(src, ["2900", "281", "75"]), body(src[:-1], ["3100", "279", "76"])
    found = result(clusters.find_duplicates(table([{"id": "mon", "body": monday}, {"id": "tue", "body": tuesday}])))
    assert not any(r["kind"] == "rewrite" for r in found.values())
    far = DAY + dt.timedelta(days=rewrites.MAX_DAYS + 2)
    src = sentences(21)
    same = body(rewrite_of(src, 2), ["5"])
    rows = [{"id": "then", "body": body(src, ["5"])}, {"id": "later", "body": same, "published": far}]
    assert clusters.find_duplicates(table(rows)).num_rows == 0


def test_same_event_written_independently_shares_a_story_only():
    a, b = sentences(30), sentences(31)
    mixed = b[:9] + [s[:] for s in a[:3]]  # a few sentences in common, the rest its own
    ents = ["person:الف", "location:کراچی", "organization:ج"]
    found = result(
        clusters.find_duplicates(
            table([{"id": "a", "body": body(a), "entities": ents}, {"id": "b", "body": body(mixed), "entities": ents}])
        )
    )
    assert found["b"]["duplicate_of"] is None and found["b"]["story_id"] == found["a"]["story_id"] == "a"


def test_history_story_is_followed_and_old_lakes_without_sketches_still_match():
    src = sentences(40)
    old = table([{"id": "old", "body": body(src, ["9", "10"])}])
    old = old.append_column("ingest_date", pa.array(["2024-11-04"])).append_column("story_id", pa.array(["root"]))
    new = table([{"id": "new", "body": body(rewrite_of(src, 3), ["9", "10"])}])
    found = result(clusters.find_duplicates(new, old))
    assert found["new"]["duplicate_of"] == "old" and found["new"]["kind"] == "rewrite"
    assert found["new"]["story_id"] == "root"
    stale = old.drop_columns(["sketch", "numbers", "entities"])  # a lake written before the second stage
    assert clusters.find_duplicates(new, stale).num_rows == 0
    exact = table([{"id": "copy", "body": body(src, ["9", "10"])}])
    assert result(clusters.find_duplicates(exact, stale))["copy"]["kind"] == "exact"


def test_pair_kinds_is_the_pipelines_decision():
    src = sentences(50)
    nums = ["300", "12"]
    orig = body(src, nums)
    art = {"body": orig, "headline": "کراچی میں بارش", "published_at": DAY, "source": "a"}
    pairs = [
        (art, {**art, "source": "b"}),
        (art, {**art, "body": body(rewrite_of(src, 5), nums), "source": "b"}),
        (art, {**art, "body": body(rewrite_of(src, 5), nums)}),  # one site
        (art, {**art, "body": body(sentences(51), ["8"]), "headline": "لاہور"}),
        (art, {**art, "body": orig + " " + "مزید تفصیل"}),
    ]
    kinds = rewrites.pair_kinds(pairs)
    assert kinds == ["exact", "rewrite", None, None, "near"]
    assert rewrites.pair_kinds([]) == []


def test_signature_table_carries_the_second_stage():
    arts = pa.table(
        {
            "article_id": ["a", "a"],
            "content_hash": ["h", "h"],
            "published_at": pa.array([DAY, None], pa.timestamp("us", tz="UTC")),
            "body": [body(sentences(60), ["1"]), "مختصر"],
            "source_site": ["urdu.geo.tv", None],
            "source_file": ["f", "f"],
            "record_no": [1, 2],
        }
    )
    mentions = pa.table({"source_file": ["f", "f"], "record_no": [2, 2], "entity_id": ["person:x", "person:x"]})
    sigs = minhash.signature_table(arts, mentions)
    assert sigs["entities"].to_pylist()[0] == [] and len(sigs["entities"].to_pylist()[1]) == 1
    assert len(sigs["sketch"][0]) > 0 and sigs["sketch"].to_pylist()[1] == []
    assert sigs["story_id"].null_count == 2 and sigs["site"].to_pylist() == ["urdu.geo.tv", None]
    assert np.array_equal(minhash.signature_matrix(sigs["signature"])[0], minhash.signatures([arts["body"][0]])[0])


def test_a_history_cut_to_the_days_values_finds_the_same_links():
    src, other = sentences(80), sentences(81)
    old = table(
        [
            {"id": "old", "body": body(src, ["9", "10"])},
            {"id": "unrelated", "body": body(other, ["3"])},
            {"id": "story", "body": body(other[:9] + src[:3]), "entities": ["person:الف", "location:کراچی"]},
        ]
    ).append_column("ingest_date", pa.array(["2024-11-04"] * 3))
    new = table([{"id": "new", "body": body(rewrite_of(src, 4), ["9", "10"])}])
    wanted = rewrites.distinct_values(new["sketch"])
    cut, size = rewrites.restrict(old["sketch"], wanted)
    assert size.tolist() == [len(s) for s in old["sketch"].to_pylist()]
    assert all(
        set(c) <= set(wanted.tolist()) and set(c) <= set(s) for c, s in zip(cut.to_pylist(), old["sketch"].to_pylist())
    )
    assert len(cut[1]) < size[1]  # the unrelated article shares little
    restricted = (
        old.drop_columns(["sketch"])
        .append_column("sketch", cut)
        .append_column("sketch_size", pa.array(size, pa.int32()))
    )
    full, held = clusters.find_duplicates(new, old), clusters.find_duplicates(new, restricted)
    assert full.equals(held) and result(full)["new"]["kind"] == "rewrite"


def _candidates_by_hand(sketch, touched, live, lengths):
    """Every pair counted one by one: shared values held by at most STOP_BUCKET live rows."""
    values, offsets = sketch
    rows = [set(values[offsets[r] : offsets[r + 1]].tolist()) if live[r] else set() for r in range(len(offsets) - 1)]
    holders: dict[int, int] = {}
    for row in rows:
        for v in row:
            holders[v] = holders.get(v, 0) + 1
    out = []
    for a in range(len(rows)):
        for b in range(a + 1, len(rows)):
            if not (touched[a] or touched[b]):
                continue
            shared = sum(1 for v in rows[a] & rows[b] if holders[v] <= rewrites.STOP_BUCKET)
            if shared >= rewrites.MIN_SHARED and shared >= rewrites.STORY_CONTAINMENT * min(lengths[a], lengths[b]):
                out.append((a, b))
    return out


def test_candidates_equal_the_pairs_counted_by_hand_whatever_the_key_block(monkeypatch):
    # 60 articles, 45 sharing one paragraph: its 3-grams are held by more than STOP_BUCKET rows
    stock = sentences(300, n=3)
    bodies = [body(sentences(90 + k % 4, n=6) + sentences(200 + k, n=4) + (stock if k < 45 else [])) for k in range(60)]
    t = table([{"id": f"c{k}", "body": b} for k, b in enumerate(bodies)])
    f = rewrites.Features.from_columns(t["sketch"], t["numbers"], t["entities"], [None] * 60, [None] * 60)
    touched, live = np.arange(60) >= 20, np.arange(60) != 7
    whole = rewrites.candidates(f.sketch, touched, live)
    expected = _candidates_by_hand(f.sketch, touched, live, f.size)
    assert len(expected) > 100 and whole.tolist() == [list(p) for p in expected]
    monkeypatch.setattr(rewrites, "KEY_BLOCK", 97)  # the keys sorted in many parts
    assert np.array_equal(rewrites.candidates(f.sketch, touched, live), whole)


def test_the_result_does_not_depend_on_the_rows_order_and_keeps_every_minhash_copy(corpora):
    """Real cross-site news (the three news_sites files: copies, rewrites, follow-ups, templates):
    shuffled, the search finds the same copies, kinds and stories; the second stage never takes a
    copy link away from an article MinHash found, and a story is never a chain of unrelated news."""
    import csv
    import hashlib

    from etl.enrich import entities
    from etl.enrich.structure import source_site
    from etl.text.normalize import normalize

    csv.field_size_limit(10**9)
    arts = []
    for name in (
        "geo_jang_express_2024a.csv",
        "geo_jang_express_dunya_2024b.csv",
        "jang_express_geo_samaa_dawn_2024c.csv",
    ):
        with open(corpora / "news_sites" / name, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                body = normalize(r.get("content") or r.get("Contents") or "")
                if body:
                    arts.append((body, r.get("link") or r.get("Links"), r.get("title") or r.get("Titles")))
    arts = random.Random(0).sample(arts, 700)
    found = entities.extract_entities_batch([a[2] for a in arts], [a[0] for a in arts])
    day = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)
    ids = [hashlib.sha1((a[0] + str(a[1])).encode()).hexdigest()[:16] for a in arts]
    articles = pa.table(
        {
            "article_id": ids,
            "content_hash": [hashlib.sha256(a[0].encode()).hexdigest()[:16] for a in arts],
            "published_at": pa.array(
                [day + dt.timedelta(hours=k % 5) for k in range(len(arts))], pa.timestamp("us", tz="UTC")
            ),
            "body": [a[0] for a in arts],
            "source_site": [source_site(a[1]) for a in arts],
            "source_file": ["f"] * len(arts),
            "record_no": pa.array(range(len(arts)), pa.int64()),
        }
    )
    mentions = pa.table(
        {
            "source_file": ["f"] * sum(map(len, found)),
            "record_no": pa.array([k for k, ms in enumerate(found) for _ in ms], pa.int64()),
            "entity_id": [f"{m.type}:{m.key}" for ms in found for m in ms],
        }
    )
    sigs = minhash.signature_table(articles, mentions)
    runs = []
    for seed in range(3):
        order = list(range(sigs.num_rows))
        random.Random(seed).shuffle(order)
        runs.append(sorted(map(tuple, (r.values() for r in clusters.find_duplicates(sigs.take(order)).to_pylist()))))
    assert runs[0] == runs[1] == runs[2]
    full = result(clusters.find_duplicates(sigs))
    assert sum(r["kind"] == "rewrite" for r in full.values()) > 5
    stage_one = result(clusters.find_duplicates(sigs.drop_columns(["sketch", "numbers", "entities"])))
    assert all(full[a]["duplicate_of"] for a, r in stage_one.items() if r["duplicate_of"])
    # every two articles of a story that take part in no copy cluster were checked as telling it
    in_copies = {r["duplicate_of"] for r in full.values() if r["duplicate_of"]}
    stories: dict[str, list[str]] = {}
    for a, r in full.items():
        if r["story_id"] and not r["duplicate_of"] and a not in in_copies:
            stories.setdefault(r["story_id"], []).append(a)
    row = {a: k for k, a in enumerate(ids)}
    feats = rewrites.Features.from_columns(
        *(sigs[c].combine_chunks() for c in ("sketch", "numbers", "entities")),
        sigs["published_at"].cast(pa.int64()).to_pylist(),
        sigs["site"].to_pylist(),
    )
    for members in stories.values():
        for x in members:
            for y in members:
                if x < y:
                    assert rewrites.kind_of(rewrites.evidence(feats, row[x], row[y])) in ("rewrite", "story")


def test_vectorised_decision_equals_kind_of():
    rng = random.Random(11)
    cases = []
    for _ in range(3000):
        keys = []
        for _ in range(2):
            a, b = rng.choice([0, 1, 2, 3, 5, 8]), rng.choice([0, 1, 2, 3, 5, 8])
            keys.append((rng.randint(0, min(a, b)), a, b))
        cases.append(
            rewrites.Evidence(
                containment=rng.choice([0.0, 0.05, 0.1, 0.2, 0.325, 0.33, 0.375, 0.5, 1.0, rng.random()]),
                shared=rng.randint(0, 50),
                numbers=keys[0],
                entities=keys[1],
                days_apart=rng.choice([None, 0.0, 1.5, 3.0, 3.0000001, 10.0]),
                same_site=rng.random() < 0.2,
            )
        )
    codes = rewrites.kinds_of(
        np.array([e.containment for e in cases]),
        np.array([e.numbers for e in cases]),
        np.array([e.entities for e in cases]),
        np.array([np.nan if e.days_apart is None else e.days_apart for e in cases]),
        np.array([e.same_site for e in cases]),
    )
    assert [rewrites.KINDS[c] for c in codes] == [rewrites.kind_of(e) for e in cases]
    assert {rewrites.KINDS[c] for c in codes} == {None, "rewrite", "story"}


def test_batch_codes_and_pair_kinds_equal_the_single_pair_decision():
    rng = random.Random(8)
    base = [sentences(90 + k, n=rng.randint(4, 14)) for k in range(5)]
    rows = []
    for k in range(16):
        src = base[k % 5]
        sents = rewrite_of(src, k) if k >= 5 else src
        rows.append(
            {
                "id": f"p{k}",
                "body": body(sents, [str(k % 3), "7"][: k % 3]),
                "entities": [f"person:{k % 5}", f"location:{k % 2}"],
                "site": f"s{k % 4}.pk" if k % 7 else None,
                "published": None if k == 3 else DAY + dt.timedelta(days=k % 6),
            }
        )
    t = table(rows)
    f = rewrites.Features.from_columns(
        t["sketch"], t["numbers"], t["entities"], t["published_at"].cast(pa.int64()).to_pylist(), t["site"].to_pylist()
    )
    i, j = np.triu_indices(len(rows), 1)
    keep, codes, contained = rewrites.pair_codes(f, i, j, rewrites.STORY_CONTAINMENT)
    single = [rewrites.evidence(f, a, b) for a, b in zip(i.tolist(), j.tolist())]
    assert keep.tolist() == [k for k, e in enumerate(single) if e.containment >= rewrites.STORY_CONTAINMENT]
    assert [rewrites.KINDS[c] for c in codes] == [rewrites.kind_of(single[k]) for k in keep.tolist()]
    assert contained.tolist() == [single[k].containment for k in keep.tolist()]
    assert {rewrites.KINDS[c] for c in codes} >= {"rewrite", None}
    back_keep, back_codes, back_contained = rewrites.pair_codes(f, j, i, rewrites.STORY_CONTAINMENT)
    assert np.array_equal(back_keep, keep) and np.array_equal(back_codes, codes)
    assert np.array_equal(back_contained, contained)


def test_rows_not_in_order_are_sorted_before_pairs_are_compared():
    lists = pa.array([[5, 1, 9], [9, 5], [], [3, 2, 1]], rewrites.list_type())
    f = rewrites.Features.from_columns(lists, lists, lists, [None] * 4, [None] * 4)
    assert f.sketch[0].tolist() == [1, 5, 9, 5, 9, 1, 2, 3]
    assert rewrites.evidence(f, 0, 1).shared == 2 and rewrites.evidence(f, 0, 3).shared == 1
    assert rewrites.evidence(f, 0, 2).shared == 0


def test_a_story_joins_a_copy_group_only_when_it_tells_the_story_of_every_member_its_canonical_included():
    """History: ``a``, and ``b`` that an earlier run pointed at ``a``. The day: ``c``, an exact copy
    of ``b`` (so a copy of ``a``), and ``d``, which shares a few sentences with ``a`` alone. The
    group of ``a``, ``b`` and ``c`` reaches ``a`` only through ``b``'s pointer; ``d`` tells the
    story of ``a`` but not of ``b`` or ``c``, so it stays out of their story."""
    a_text, b_text = sentences(120), sentences(121)
    history = table(
        [
            {"id": "a", "body": body(a_text), "published": DAY - dt.timedelta(hours=5)},
            {"id": "b", "body": body(b_text), "published": DAY - dt.timedelta(hours=4)},
        ]
    )
    history = history.append_column("ingest_date", pa.array(["2024-11-04"] * 2)).append_column(
        "duplicate_of", pa.array([None, "a"], pa.string())
    )
    batch = table([{"id": "c", "body": body(b_text)}, {"id": "d", "body": body(a_text[:3] + sentences(122, n=10))}])
    feats = rewrites.Features.from_columns(
        *(pa.concat_arrays([history[c].combine_chunks(), batch[c].combine_chunks()]) for c in _STAGE2_COLUMNS),
        [None] * 4,
        ["a.pk", "b.pk", "c.pk", "d.pk"],
    )
    assert rewrites.kind_of(rewrites.evidence(feats, 0, 3)) == "story"  # d tells a's story ...
    assert rewrites.kind_of(rewrites.evidence(feats, 1, 3)) is None  # ... and not b's
    found = result(clusters.find_duplicates(batch, history))
    assert found["c"]["duplicate_of"] == "a" and found["c"]["story_id"] == "a"
    assert "d" not in found or found["d"]["story_id"] is None


def test_flat_reads_chunked_lists_with_nulls_and_joined_lets_its_parts_go():
    col = pa.chunked_array(
        [pa.array([[3, 1], None, []], rewrites.list_type()), pa.array([[7], [2, 5, 9]], rewrites.list_type())]
    )
    values, offsets = rewrites.flat(col)
    rows = [values[offsets[r] : offsets[r + 1]].tolist() for r in range(len(offsets) - 1)]
    assert rows == [[3, 1], [], [], [7], [2, 5, 9]] and values.dtype == np.uint32
    parts = [rewrites.flat(col.slice(0, 2)), rewrites.flat(col.slice(2))]
    joined_values, joined_offsets = rewrites.joined(parts)
    assert parts == []  # emptied: the parts are let go once joined
    assert joined_values.tolist() == values.tolist() and joined_offsets.tolist() == offsets.tolist()
    assert values.flags.writeable and joined_values.flags.writeable  # copies, not views of Arrow's buffers
    assert rewrites.distinct_values([rewrites.flat(col)]).tolist() == [1, 2, 3, 5, 7, 9]
    assert rewrites.distinct_values(col).tolist() == [1, 2, 3, 5, 7, 9]


def test_the_second_stage_given_flat_in_parts_finds_what_the_columns_find():
    src, other = sentences(90), sentences(91)
    old = table([{"id": "old", "body": body(src, ["4"])}]).append_column("ingest_date", pa.array(["2024-11-04"]))
    new = table(
        [
            {"id": "new", "body": body(rewrite_of(src, 5), ["4"])},
            {"id": "same", "body": body(src, ["4"]), "site": "old.pk"},
            {"id": "unrelated", "body": body(other)},
            {"id": "story", "body": body(other[:9] + src[:3])},
        ]
    )
    given = {c: [rewrites.flat(new[c].slice(0, 1)), rewrites.flat(new[c].slice(1))] for c in _STAGE2_COLUMNS}
    from_parts = clusters.find_duplicates(new.drop_columns(list(_STAGE2_COLUMNS)), old, batch_stage2=given)
    assert given == {}  # every column's parts were taken
    from_columns = clusters.find_duplicates(new, old)
    assert from_parts.equals(from_columns)
    assert result(from_columns)["new"]["kind"] == "rewrite"


def _signature_rows(rows: list[dict]) -> pa.Table:
    """``table``'s rows in the lake's signatures schema."""
    t = table(rows)
    n = t.num_rows
    columns = {name: t[name] if name in t.column_names else pa.nulls(n, f.type) for name, f in zip(SIG.names, SIG)}
    columns["signature"] = t["signature"].cast(SIG.field("signature").type)
    return pa.table(columns, schema=SIG)


def test_the_days_distinct_values_are_sorted_only_when_an_earlier_day_is_read(tmp_path, monkeypatch):
    from etl.dedup import copies
    from etl.load import lake

    src = sentences(95)
    day = [_signature_rows([{"id": "new", "body": body(rewrite_of(src, 6), ["8"])}])]
    calls = []
    real = rewrites.distinct_values
    monkeypatch.setattr(rewrites, "distinct_values", lambda sketch: calls.append(1) or real(sketch))
    alone = copies.find_copies(iter(day), 1, tmp_path, "2024-11-05", None)
    assert alone.num_rows == 0 and calls == []  # nothing earlier: the sort is never made
    lake.replace_partition(
        tmp_path, "signatures", "2024-11-04", "a", _signature_rows([{"id": "old", "body": body(src, ["8"])}])
    )
    found = copies.find_copies(iter(day), 1, tmp_path, "2024-11-05", None)
    assert calls == [1]  # made once, for the earlier day's record batches
    assert result(found)["new"]["duplicate_of"] == "old" and result(found)["new"]["kind"] == "rewrite"
