"""Clusters of copies: LSH candidates from MinHash signatures, verified pairs, canonical articles.

``find_duplicates`` joins exact copies (same ``content_hash``) and candidate pairs (sharing an LSH
bucket of ``BANDS`` bands x ``ROWS`` rows) whose estimated Jaccard similarity reaches
``THRESHOLD`` with union-find, then the second stage's rewrite links (``etl.dedup.rewrites``);
each cluster points to one canonical article: earliest published,
then earliest ingested (history before the batch), then the smallest ``article_id``. The
parameters and their choice: ``etl.dedup.minhash`` and ``bench/dedup_choice.py``. Copies and the
second stage's same-event links make stories: every article of a story of two or more gets the
story's canonical as ``story_id``. The joins over the second stage's links, which check pairs of
articles by the thousands, run compiled (``etl.dedup.compiled``) on a union-find of arrays.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl import memory
from etl.dedup import rewrites
from etl.dedup.minhash import _MIX, BANDS, EMPTY, ROWS, THRESHOLD, _fmix, signature_matrix

#: Result columns of :func:`find_duplicates`.
RESULT_SCHEMA = pa.schema(
    [
        ("article_id", pa.string()),
        ("duplicate_of", pa.string()),
        ("kind", pa.string()),
        ("similarity", pa.float32()),
        ("story_id", pa.string()),
    ]
)

#: The second stage's columns (``etl.dedup.rewrites``), lists of 32-bit keys per article.
STAGE2 = ("sketch", "numbers", "entities")

#: LSH buckets of more rows are linked as a chain (in row order), not all pairs.
_BIG_BUCKET = 64
#: Two story groups join only when every pair across them is a story link; larger joins are refused.
_STORY_CHECKS = 400


def band_keys(sig: np.ndarray, band: int, rows: int = ROWS, index: np.ndarray | None = None) -> np.ndarray:
    """uint64 bucket keys of one band (of the rows ``index`` picks): its ``rows`` signature values
    mixed into one."""
    h = np.zeros(len(sig) if index is None else len(index), dtype=np.uint64)
    for r in range(rows):
        h *= _MIX
        column = sig[:, band * rows + r]
        h ^= (column if index is None else column[index]).astype(np.uint64)
    h += np.uint64(band)  # the same values in two bands are different buckets
    return _fmix(h)


def candidate_pairs(
    sig: np.ndarray,
    active: np.ndarray | None = None,
    bands: int = BANDS,
    rows: int = ROWS,
    live: np.ndarray | None = None,
    band_range: range | None = None,
) -> np.ndarray:
    """``(m, 2)`` row pairs ``i < j`` sharing at least one LSH bucket; rows with ``EMPTY`` never pair.

    When ``active`` (bool per row) is given, only pairs with at least one active row are returned;
    when ``live`` is given, only rows it marks take part. Buckets are found one band at a time, so
    the temporaries are a few bytes per row, not the whole key matrix. ``band_range`` (default:
    every band) takes the buckets of some bands only: the pairs of a split of the bands into
    ranges, united, are the pairs of all of them, so the search can be spread over tasks.
    """
    mask = sig[:, 0] != EMPTY
    if live is not None:
        mask &= live
    rows_in = np.flatnonzero(mask)
    if len(rows_in) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    n = np.int64(len(sig))
    found = []
    for band in range(bands) if band_range is None else band_range:
        keys = band_keys(sig, band, rows, rows_in)
        order = np.argsort(keys, kind="stable")
        keys, owner = keys[order], rows_in[order]
        cut = np.flatnonzero(np.diff(keys)) + 1
        starts = np.concatenate(([0], cut))
        sizes = np.diff(np.concatenate((starts, [len(keys)])))
        pairs = []
        for size in np.unique(sizes[(sizes > 1) & (sizes <= _BIG_BUCKET)]):
            first = starts[sizes == size]
            iu, ju = np.triu_indices(size, 1)
            pairs.append(np.stack((owner[first[:, None] + iu].ravel(), owner[first[:, None] + ju].ravel()), 1))
        # a bucket of more than _BIG_BUCKET rows is linked as a chain: connected at linear cost
        big = np.repeat(sizes > _BIG_BUCKET, sizes)
        link = np.flatnonzero(big[:-1] & (keys[1:] == keys[:-1]))
        pairs.append(np.stack((owner[link], owner[link + 1]), 1))
        p = np.sort(np.concatenate(pairs), axis=1)
        if active is not None:
            p = p[active[p[:, 0]] | active[p[:, 1]]]
        found.append(np.unique(p[:, 0].astype(np.int64) * n + p[:, 1]))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    key = np.unique(np.concatenate(found))
    return np.stack((key // n, key % n), 1)


def similarity(sig: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of each row pair: the share of equal signature values."""
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.float32)
    out = np.empty(len(pairs), dtype=np.float32)
    for s in range(0, len(pairs), 65536):  # bounded temporaries
        p = pairs[s : s + 65536]
        out[s : s + 65536] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
    return out


class _UnionFind:
    """Union-find over row numbers, only for the rows that some edge touches."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, x: int, y: int) -> None:
        rx, ry = self.find(x), self.find(y)
        self.parent.setdefault(rx, rx)
        self.parent.setdefault(ry, ry)  # both roots are members: the one kept is the group's root
        if rx != ry:
            self.parent[max(rx, ry)] = min(rx, ry)

    def copy(self) -> _UnionFind:
        other = _UnionFind()
        other.parent = dict(self.parent)
        return other

    def members(self) -> dict[int, list[int]]:
        """Every touched row, grouped by its component root."""
        groups: dict[int, list[int]] = {}
        for x in list(self.parent):
            groups.setdefault(self.find(x), []).append(x)
        return groups


def _column(table: pa.Table, name: str, n: int, type_: pa.DataType) -> pa.Array:
    if name in table.column_names:
        col = table[name]
        return (col.combine_chunks() if col.num_chunks else pa.array([], col.type)).cast(type_)
    return pa.nulls(n, type_)


def _lists(table: pa.Table, name: str) -> pa.ChunkedArray | pa.Array:
    """A second-stage column as it is (its chunks not joined), or empty lists when absent."""
    return table[name] if name in table.column_names else pa.nulls(table.num_rows, rewrites.list_type())


def find_duplicates(
    batch: pa.Table,
    history: pa.Table | None = None,
    batch_signatures: np.ndarray | None = None,
    batch_stage2: dict[str, list[rewrites.Flat]] | None = None,
) -> pa.Table:
    """The duplicates among ``batch`` articles, within the batch and against ``history``.

    ``batch`` has article_id, content_hash, published_at and signature (or its signatures come as
    the matrix ``batch_signatures``, one row per batch row); ``history`` (earlier runs)
    has the same plus ingest_date and optionally duplicate_of (a history row already known to be a
    copy points to its canonical). Returns one row per batch article that is a duplicate:
    article_id, duplicate_of (its cluster's canonical, possibly a history article), kind
    (``exact`` when its content hash equals the canonical's, ``near`` when MinHash links it to
    the canonical, else ``rewrite``), similarity (1.0 for exact, estimated Jaccard for near,
    estimated containment for rewrite) and story_id; and a row with only story_id for every
    other batch article in a story. The second stage runs when the tables carry its columns
    (sketch, numbers, entities; history may add story_id). A history row is never re-pointed.

    ``batch_stage2`` may give the batch's second-stage columns instead, each as the ``Flat``
    parts of its rows in order (``rewrites.flat``): the parts are taken from the dict as they are
    joined, so that no other copy of the values outlives the join.
    """
    nb = batch.num_rows
    hist = history if history is not None and history.num_rows else None
    nh = hist.num_rows if hist is not None else 0
    if nb == 0:
        return RESULT_SCHEMA.empty_table()
    tables = [hist, batch] if hist is not None else [batch]
    ids = pa.concat_arrays([_column(t, "article_id", t.num_rows, pa.string()) for t in tables]).to_pylist()
    hashes = pa.concat_arrays([_column(t, "content_hash", t.num_rows, pa.string()) for t in tables])
    published = (
        pa.concat_arrays([_column(t, "published_at", t.num_rows, pa.timestamp("us", tz="UTC")) for t in tables])
        .cast(pa.int64())
        .to_pylist()
    )
    own = batch_signatures if batch_signatures is not None else signature_matrix(batch["signature"])
    if len(own) != nb:
        raise ValueError(f"{len(own)} signatures for {nb} articles")
    sig = np.concatenate([signature_matrix(hist["signature"]), own]) if hist is not None else own
    ingest = (
        [str(v) if v is not None else "" for v in _column(hist, "ingest_date", nh, pa.string()).to_pylist()]
        if hist is not None
        else []
    ) + ["\uffff"] * nb  # batch after history
    dup_of = _column(hist, "duplicate_of", nh, pa.string()).to_pylist() if hist is not None else []
    n = nh + nb
    active = np.zeros(n, dtype=bool)
    active[nh:] = True

    uf = _UnionFind()
    # exact: rows sharing a content hash
    enc = pc.fill_null(hashes, "").dictionary_encode()
    codes = np.where(hashes.is_null().to_numpy(zero_copy_only=False), -1, enc.indices.to_numpy())
    order = np.argsort(codes, kind="stable")
    same = (codes[order][1:] == codes[order][:-1]) & (codes[order][1:] >= 0)
    # whole groups that hold a batch row are joined (history-only groups were settled before)
    with_batch = np.zeros(len(enc.dictionary) + 1, dtype=bool)
    with_batch[codes[active] + 1] = True
    link = same & with_batch[codes[order][1:] + 1]
    for i, j in zip(order[:-1][link].tolist(), order[1:][link].tolist()):
        uf.union(i, j)
    # near: one row per distinct content enters LSH (identical texts are already joined)
    first_of_code = np.ones(n, dtype=bool)
    first_of_code[order[1:][same]] = False
    # history rows that share content with a batch row stand in for it
    touched = active.copy()
    for i in np.flatnonzero(~first_of_code & active).tolist():
        touched[uf.find(i)] = True
    pairs = candidate_pairs(sig, touched, live=first_of_code)
    sims = similarity(sig, pairs)
    for i, j in pairs[sims >= THRESHOLD].tolist():
        uf.union(i, j)

    # second stage: rewrites (copies) and stories (same event) from the sampled 3-gram sketches
    flats = {}
    for name in STAGE2:
        parts = [rewrites.flat(_lists(hist, name))] if hist is not None else []
        if batch_stage2 is not None and name in batch_stage2:
            parts.extend(batch_stage2.pop(name))  # taken: the search holds one copy of the values
        else:
            parts.append(rewrites.flat(_lists(batch, name)))
        flats[name] = rewrites.joined(parts)
    site = pa.concat_arrays([_column(t, "site", t.num_rows, pa.string()) for t in tables]).to_pylist()
    # a history read by ``copies`` holds only the values it shares with the batch, and the sizes
    size = np.diff(flats["sketch"][1])
    for t, at in ((hist, 0), (batch, nh)):
        if t is not None and "sketch_size" in t.column_names:
            size[at : at + t.num_rows] = t["sketch_size"].to_numpy()
    feats = rewrites.Features.from_flat(flats["sketch"], flats["numbers"], flats["entities"], published, site, size)
    del flats  # the features hold the values
    memory.release()  # and the copies made on the way to them
    # strongest first, ties by the articles' ids: the result does not depend on the rows' order
    li, lj, codes, scores = rewrites.links(feats, touched, first_of_code)
    id_rank = _rank(ids)
    low, high = np.minimum(id_rank[li], id_rank[lj]), np.maximum(id_rank[li], id_rank[lj])
    order = np.lexsort((high, low, -scores))
    li, lj, codes, scores = li[order], lj[order], codes[order], scores[order]
    del low, high, order
    is_rewrite = codes == rewrites.KINDS.index("rewrite")

    # rewrites join copy groups only through the groups' earliest rows (published, then ingested,
    # then by id: ``_canonical``'s order), so that a chain of partial overlaps does not join
    # different stories
    earliest = _dense_rank(~feats.dated, feats.when, _rank(ingest), id_rank)
    copy_uf = _lead_join(uf, li[is_rewrite], lj[is_rewrite], feats, earliest)

    # history rows already resolved by an earlier run join the article they point to
    index = {aid: k for k, aid in enumerate(ids)}
    for finder in (uf, copy_uf):
        for k in [x for x in finder.parent if x < nh]:
            target = index.get(dup_of[k]) if dup_of[k] else None
            if target is not None:
                finder.union(k, target)
    # each near-copy group's strongest rewrite link
    root = _arrays(uf, n)[0]
    best_link = np.zeros(n)
    for ends in (li[is_rewrite], lj[is_rewrite]):
        np.maximum.at(best_link, root[ends], scores[is_rewrite])
    out: dict[str, list] = {}
    near_groups = uf.members()
    for comp in copy_uf.members().values():
        if not any(active[x] for x in comp):
            continue
        canon = _canonical(comp, ids, published, ingest, dup_of, index)
        crow = index.get(canon)
        # the near-copy groups (exact and MinHash links) that hold the canonical or point to it
        canon_groups = {uf.find(y) for y in comp if ids[y] == canon or (y < nh and dup_of[y] == canon)}
        for x in comp:
            if not active[x] or ids[x] == canon:
                continue
            if crow is not None and hashes[x].as_py() == hashes[crow].as_py():
                kind, sim = "exact", 1.0
            elif uf.find(x) not in canon_groups:
                # a rewrite must be one of the canonical itself, not only of another member
                near_mates = [y for y in near_groups.get(uf.find(x), ()) if y != x and sig[y, 0] != EMPTY]
                if crow is not None and rewrites.has_sketch(feats, x) and rewrites.has_sketch(feats, crow):
                    seen = rewrites.evidence(feats, x, crow)
                    if rewrites.kind_of(seen) == "rewrite":
                        kind, sim = "rewrite", seen.containment
                    elif near_mates and sig[x, 0] != EMPTY:
                        # not a rewrite of the canonical itself, but a near copy of an article of
                        # this cluster: it keeps the copy link MinHash found
                        kind, sim = "near", max(float((sig[x] == sig[y]).mean()) for y in near_mates)
                    else:
                        continue
                else:
                    kind, sim = "rewrite", float(best_link[uf.find(x)])
            else:
                ref = crow if crow is not None and sig[crow, 0] != EMPTY else None
                if ref is None or sig[x, 0] == EMPTY:  # canonical unknown here: best known member
                    others = [y for y in comp if y != x and sig[y, 0] != EMPTY]
                    sim = (
                        max((float((sig[x] == sig[y]).mean()) for y in others), default=0.0)
                        if sig[x, 0] != EMPTY
                        else 0.0
                    )
                else:
                    sim = float((sig[x] == sig[ref]).mean())
                kind = "near"
            out[ids[x]] = [ids[x], canon, kind, sim, None]

    # stories: copies and same-event links; a history row follows its story (or its canonical)
    # a story is a complete-link group: every article of one side tells the story of every article
    # of the other (same-event links chain through a generic article otherwise: one cricket report
    # shares names with every other)
    is_story = codes == rewrites.KINDS.index("story")
    story_uf = _complete_link(copy_uf, li[is_story], lj[is_story], feats, n)
    story_of = _column(hist, "story_id", nh, pa.string()).to_pylist() if hist is not None else []
    pointer = [s or d for s, d in zip(story_of, dup_of)]
    for k in [x for x in story_uf.parent if x < nh]:
        target = index.get(pointer[k]) if pointer[k] else None
        if target is not None:
            story_uf.union(k, target)
    for comp in story_uf.members().values():
        if not any(active[x] for x in comp) or (len(comp) < 2 and not (comp[0] < nh and pointer[comp[0]])):
            continue
        story = _canonical(comp, ids, published, ingest, pointer, index)
        for x in comp:
            if active[x]:
                out.setdefault(ids[x], [ids[x], None, None, None, None])[4] = story
    rows = sorted(out.values())
    return pa.table([pa.array([r[i] for r in rows], f.type) for i, f in enumerate(RESULT_SCHEMA)], schema=RESULT_SCHEMA)


def _arrays(groups: _UnionFind, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``groups`` as a parent array over ``n`` rows (each touched row pointing at its root, the
    group's smallest row) and the touched rows."""
    parent = np.arange(n, dtype=np.int64)
    touched = np.fromiter(groups.parent, dtype=np.int64, count=len(groups.parent))
    if len(touched):
        parent[touched] = [groups.find(x) for x in touched.tolist()]
    return parent, touched


def _from_arrays(parent: np.ndarray, touched: np.ndarray) -> _UnionFind:
    """The union-find of a parent array: the ``touched`` rows and every row joined to another."""
    joined = np.flatnonzero(parent != np.arange(len(parent)))
    out = _UnionFind()
    for x in np.union1d(touched, joined).tolist():
        root = x
        while parent[root] != root:
            root = int(parent[root])
        out.parent[x] = root
        out.parent.setdefault(root, root)
    return out


def _ends(li: np.ndarray, lj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(li, dtype=np.int64), np.ascontiguousarray(lj, dtype=np.int64)


def _rank(strings: list[str]) -> np.ndarray:
    """Each string's place among the distinct strings, in code point order (equal strings, one place)."""
    return pc.rank(pa.array(strings, pa.string()), sort_keys="ascending", tiebreaker="dense").to_numpy()


def _dense_rank(*keys: np.ndarray) -> np.ndarray:
    """Each row's place in the order of ``keys`` (the first key first); equal keys, one place."""
    order = np.lexsort(keys[::-1])
    step = np.zeros(len(order), dtype=np.int64)
    for key in keys:
        step[1:] |= key[order][1:] != key[order][:-1]
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.cumsum(step)
    return ranks


def _lead_join(
    groups: _UnionFind, li: np.ndarray, lj: np.ndarray, feats: rewrites.Features, earliest: np.ndarray
) -> _UnionFind:
    """``groups`` joined over the rewrite links ``(li[k], lj[k])``, in order, when the two groups' earliest rows
    (by ``earliest``, each row's place) are the link's own two or are a rewrite too. Compiled
    (``etl.dedup.compiled.lead_join``); returns a new union-find."""
    if not len(li):
        return groups.copy()
    from etl.dedup import compiled

    parent, touched = _arrays(groups, len(earliest))
    lead = np.arange(len(earliest), dtype=np.int64)
    for root, members in groups.members().items():
        lead[root] = members[int(np.argmin(earliest[members]))]
    compiled.lead_join(parent, lead, earliest, *_ends(li, lj), *rewrites.compiled_args(feats), rewrites._bars())
    return _from_arrays(parent, touched)


def _complete_link(groups: _UnionFind, li: np.ndarray, lj: np.ndarray, feats: rewrites.Features, n: int) -> _UnionFind:
    """``groups`` joined over the story links ``(li[k], lj[k])``, in order, as complete-link groups: two groups
    join only when every article of one is linked as a rewrite or story to every article of the
    other (the link's own two excepted), and only when that is at most ``_STORY_CHECKS`` pairs.
    Compiled (``etl.dedup.compiled.complete_link``); returns a new union-find."""
    if not len(li):
        return groups.copy()
    from etl.dedup import compiled

    parent, touched = _arrays(groups, n)
    ring = np.arange(n, dtype=np.int64)
    count = np.ones(n, dtype=np.int64)
    for members in groups.members().values():  # each group a ring: every member points to the next
        ring[members] = np.roll(members, -1)
        count[min(members)] = len(members)
    compiled.complete_link(
        parent, ring, count, *_ends(li, lj), _STORY_CHECKS, *rewrites.compiled_args(feats), rewrites._bars()
    )
    return _from_arrays(parent, touched)


def _canonical(
    comp: list[int], ids: list[str], published: list, ingest: list[str], dup_of: list, index: dict[str, int]
) -> str:
    """The canonical id of one component: earliest published, earliest ingested, smallest id.

    History rows that already point elsewhere are not candidates; the article they point to is
    (kept as an id when it is not among the rows, ranked as early as the earliest row pointing to it).
    """
    best: dict[str, tuple] = {}
    for x in comp:
        target = dup_of[x] if x < len(dup_of) else None
        key = (published[x] is None, published[x] or 0, ingest[x], ids[x])
        if target and target != ids[x]:
            if target in index:
                continue  # the target row is itself ranked (it is in this component)
            stub_key = (key[0], key[1], key[2], target)
            best[target] = min(best.get(target, stub_key), stub_key)
            continue
        best[ids[x]] = key
    if not best:  # only re-pointing rows: keep the smallest id
        return min(ids[x] for x in comp)
    return min(best, key=lambda k: best[k])
