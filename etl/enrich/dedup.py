"""Exact and near-duplicate articles: content hashes, MinHash signatures and LSH banding.

Why: the same story reaches the lake many times — the same URL scraped into several dumps, one body
pasted under two ids, a copy with its punctuation and digits stripped. Every duplicate is pointed at
one canonical article so that counts and the warehouse see each story once, and the pointer says
how it was found (``exact`` content hash or ``near`` MinHash estimate) and how similar it is.

How (all vectorised; figures and the choice of every constant: ``bench/dedup_choice.py``):

* words are the runs of letters of the normalized body (digits and punctuation dropped, because
  copies of one story differ exactly there); each *distinct* word gets a stable 64-bit blake2b
  hash once (``dictionary_encode`` of all tokens), never Python's salted ``hash()``;
* ``SHINGLE`` consecutive word hashes are mixed into one 31-bit shingle value with numpy;
* ``NUM_PERM`` permutations ``(a*x + b) mod (2**31 - 1)`` are applied to blocks of shingles and
  reduced per article with ``np.minimum.reduceat``; the block size bounds memory;
* the signature is cut into ``BANDS`` bands of ``ROWS`` rows; articles sharing a band bucket are
  candidates, kept when their estimated Jaccard similarity reaches ``THRESHOLD``;
* exact copies (same ``content_hash``) and kept candidate pairs are joined with union-find; each
  component points to one canonical article: earliest published, then earliest ingested (history
  before the batch), then the smallest ``article_id``.

Articles with fewer than ``MIN_NEAR_WORDS`` words get no signature (all ``EMPTY``) and only take
part in exact matching: on a lead of twenty words, two market reports written from one template
pass any threshold.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Words per shingle, permutations, LSH bands x rows and the kept similarity: see bench/dedup_choice.py.
SHINGLE = 5
NUM_PERM = 128
BANDS = 32
ROWS = 4
THRESHOLD = 0.5
#: Shorter bodies (leads, captions, market tickers written from one template) only match exactly:
#: on a few dozen words a shared template alone passes the threshold.
MIN_NEAR_WORDS = 40
DEDUP_VERSION = f"minhash-w{SHINGLE}-p{NUM_PERM}-b{BANDS}r{ROWS}-t{THRESHOLD}-m{MIN_NEAR_WORDS}-v3"

#: The signature value of an article without shingles (never produced by a permutation, all < 2**31).
EMPTY = np.uint32(0xFFFFFFFF)
#: Result columns of :func:`find_duplicates`.
RESULT_SCHEMA = pa.schema([
    ("article_id", pa.string()),
    ("duplicate_of", pa.string()),
    ("kind", pa.string()),
    ("similarity", pa.float32()),
])

_WORD = r"[^\p{L}\p{M}]+"           # separators: anything that is not a letter or a combining mark
_PRIME = np.uint64((1 << 31) - 1)   # Mersenne prime: x mod p by a shift-and-add fold
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BLOCK = 1024                       # shingles per permutation block: 1024 x 128 x 8 B = 1 MiB (cache)
_TEXT_CHUNK = 8_000_000             # bytes of body text per signature chunk
_BIG_BUCKET = 64                    # larger LSH buckets are linked as a chain (in row order), not all pairs
assert BANDS * ROWS == NUM_PERM


def signature_type() -> pa.DataType:
    """The Parquet/Arrow type of the signature column."""
    return pa.list_(pa.uint32(), NUM_PERM)


def _stable_u64(text: str, salt: str = "") -> int:
    return int.from_bytes(hashlib.blake2b(f"{salt}{text}".encode(), digest_size=8).digest(), "little")


def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients ``a`` in [1, p) and ``b`` in [0, p), derived from blake2b so they never change."""
    p = int(_PRIME)
    a = [1 + _stable_u64(str(i), "dedup-a:") % (p - 1) for i in range(num_perm)]
    b = [_stable_u64(str(i), "dedup-b:") % p for i in range(num_perm)]
    return np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)


_A, _B = _permutations(NUM_PERM)


def _fmix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the output (in place on a uint64 array)."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def word_tokens(bodies: pa.Array | pa.ChunkedArray | Sequence[str | None],
                separators: str = _WORD) -> tuple[pa.Array, np.ndarray]:
    """All word tokens of all bodies, flat, and the per-body offsets into them (``n + 1`` values)."""
    arr = bodies if isinstance(bodies, (pa.Array, pa.ChunkedArray)) else pa.array(list(bodies), pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    lists = pc.split_pattern_regex(arr, separators)
    flat = pc.list_flatten(lists)
    parent = pc.list_parent_indices(lists).to_numpy()
    keep = pc.greater(pc.binary_length(flat), 0)
    flat = flat.filter(keep)
    parent = parent[keep.to_numpy(zero_copy_only=False)]
    offsets = np.zeros(len(arr) + 1, dtype=np.int64)
    np.cumsum(np.bincount(parent, minlength=len(arr)), out=offsets[1:])
    return flat, offsets


def word_hashes(tokens: pa.Array, cache: dict[str, int] | None = None) -> np.ndarray:
    """A stable 64-bit hash per token, computed once per distinct word (``cache`` carries them over)."""
    if len(tokens) == 0:
        return np.zeros(0, dtype=np.uint64)
    enc = tokens.dictionary_encode()
    cache = {} if cache is None else cache
    words = enc.dictionary.to_pylist()
    table = np.fromiter((cache[w] if w in cache else cache.setdefault(w, _stable_u64(w)) for w in words),
                        dtype=np.uint64, count=len(words))
    return table[enc.indices.to_numpy()]


def shingle_values(words: np.ndarray, offsets: np.ndarray, k: int = SHINGLE) -> tuple[np.ndarray, np.ndarray]:
    """31-bit values of every run of ``k`` consecutive words inside one body, and per-body offsets."""
    counts = np.maximum(np.diff(offsets) - (k - 1), 0)
    out_offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out_offsets[1:])
    total = int(out_offsets[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint64), out_offsets
    # start position (in ``words``) of every shingle: body start + rank inside the body
    doc = np.repeat(np.arange(len(counts)), counts)
    starts = offsets[:-1][doc] + (np.arange(total) - out_offsets[:-1][doc])
    h = words[starts].copy()
    for j in range(1, k):
        h *= _MIX
        h ^= words[starts + j] + np.uint64(j)
    return _fmix(h) >> np.uint64(33), out_offsets


def minhash(values: np.ndarray, offsets: np.ndarray, num_perm: int = NUM_PERM,
            block: int = _BLOCK) -> np.ndarray:
    """MinHash signatures ``(n, num_perm)`` uint32 from per-body shingle values (``EMPTY`` rows for none)."""
    a, b = (_A, _B) if num_perm == NUM_PERM else _permutations(num_perm)
    n = len(offsets) - 1
    sig = np.full((n, num_perm), EMPTY, dtype=np.uint32)
    lengths = np.diff(offsets)
    docs = np.flatnonzero(lengths > 0)
    if len(docs) == 0:
        return sig
    ends = offsets[docs + 1]
    # permutations along the first axis, so that the per-body reduction runs over contiguous memory
    size = num_perm * max(block, int(lengths.max()))
    buf, tmp = np.empty(size, dtype=np.uint64), np.empty(size, dtype=np.uint64)
    i = 0
    while i < len(docs):
        # take whole bodies until the block is full (always at least one body)
        end_pos = offsets[docs[i]] + block
        j = max(i + 1, int(np.searchsorted(ends, end_pos, side="right")))
        group = docs[i:j]
        s0, s1 = int(offsets[group[0]]), int(offsets[group[-1] + 1])
        w = s1 - s0                              # contiguous views: strided ones are 3x slower
        v, t = buf[: num_perm * w].reshape(num_perm, w), tmp[: num_perm * w].reshape(num_perm, w)
        np.multiply(a[:, None], values[None, s0:s1], out=v)
        # a*x + b < 2**62 + 2**31; one fold y = (v & p) + (v >> 31) is congruent and below 2p + 3,
        # then min(y, y - p) with uint64 wrap-around is y mod p (up to p + 2 in a vanishing corner)
        v += b[:, None]
        np.right_shift(v, np.uint64(31), out=t)
        v &= _PRIME
        v += t
        np.subtract(v, _PRIME, out=t)
        np.minimum(v, t, out=v)
        sig[group] = np.minimum.reduceat(v, offsets[group] - s0, axis=1).T
        i = j
    return sig


def signatures(bodies: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> np.ndarray:
    """MinHash signatures ``(n, NUM_PERM)`` uint32 of normalized bodies; the same in every process.

    Bodies are taken ``_TEXT_CHUNK`` bytes of text at a time, so memory stays bounded whatever the
    input size; each distinct word is hashed once per call.
    """
    arr = bodies if isinstance(bodies, (pa.Array, pa.ChunkedArray)) else pa.array(list(bodies), pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    sizes = pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    cuts = np.searchsorted(np.cumsum(sizes), np.arange(_TEXT_CHUNK, int(sizes.sum()), _TEXT_CHUNK), side="right")
    bounds = [0, *sorted(set(cuts.tolist()) - {0, len(arr)}), len(arr)]
    cache: dict[str, int] = {}
    out = np.empty((len(arr), NUM_PERM), dtype=np.uint32)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        tokens, offsets = word_tokens(arr.slice(lo, hi - lo))
        values, sh_offsets = shingle_values(word_hashes(tokens, cache), offsets)
        out[lo:hi] = minhash(values, sh_offsets)
        out[lo:hi][np.diff(offsets) < MIN_NEAR_WORDS] = EMPTY
    return out


def signature_array(sig: np.ndarray) -> pa.FixedSizeListArray:
    """The signature matrix as an Arrow column of :func:`signature_type`."""
    sig = np.ascontiguousarray(sig, dtype=np.uint32)
    return pa.FixedSizeListArray.from_arrays(pa.array(sig.reshape(-1)), NUM_PERM)


def signature_matrix(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A signature column (fixed-size or variable list, nulls allowed) back to an ``(n, NUM_PERM)`` matrix.

    Filled a chunk at a time, so the matrix is the only copy made of the signatures.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out = np.full((len(column), NUM_PERM), EMPTY, dtype=np.uint32)
    at = 0
    for chunk in chunks:
        n = len(chunk)
        valid = ~chunk.is_null().to_numpy(zero_copy_only=False)
        if valid.any():
            rows = chunk.filter(pa.array(valid)) if not valid.all() else chunk
            lengths = pc.list_value_length(rows).to_numpy(zero_copy_only=False)
            if (lengths != NUM_PERM).any():
                raise ValueError(f"signatures must have {NUM_PERM} values (DEDUP_VERSION {DEDUP_VERSION})")
            values = pc.list_flatten(rows).to_numpy(zero_copy_only=False).reshape(-1, NUM_PERM)
            if valid.all():
                out[at:at + n] = values
            else:
                out[at:at + n][valid] = values
        at += n
    return out


def band_keys(sig: np.ndarray, band: int, rows: int = ROWS, index: np.ndarray | None = None) -> np.ndarray:
    """uint64 bucket keys of one band (of the rows ``index`` picks): its ``rows`` signature values
    mixed into one."""
    h = np.zeros(len(sig) if index is None else len(index), dtype=np.uint64)
    for r in range(rows):
        h *= _MIX
        column = sig[:, band * rows + r]
        h ^= (column if index is None else column[index]).astype(np.uint64)
    h += np.uint64(band)                          # the same values in two bands are different buckets
    return _fmix(h)


def candidate_pairs(sig: np.ndarray, active: np.ndarray | None = None,
                    bands: int = BANDS, rows: int = ROWS, live: np.ndarray | None = None) -> np.ndarray:
    """``(m, 2)`` row pairs ``i < j`` sharing at least one LSH bucket; rows with ``EMPTY`` never pair.

    When ``active`` (bool per row) is given, only pairs with at least one active row are returned;
    when ``live`` is given, only rows it marks take part. Buckets are found one band at a time, so
    the temporaries are a few bytes per row, not the whole key matrix.
    """
    mask = sig[:, 0] != EMPTY
    if live is not None:
        mask &= live
    rows_in = np.flatnonzero(mask)
    if len(rows_in) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    n = np.int64(len(sig))
    found = []
    for band in range(bands):
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
    key = np.unique(np.concatenate(found))
    return np.stack((key // n, key % n), 1)


def similarity(sig: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of each row pair: the share of equal signature values."""
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.float32)
    out = np.empty(len(pairs), dtype=np.float32)
    for s in range(0, len(pairs), 65536):       # bounded temporaries
        p = pairs[s:s + 65536]
        out[s:s + 65536] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
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
        if rx != ry:
            self.parent[max(rx, ry)] = min(rx, ry)

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


def find_duplicates(batch: pa.Table, history: pa.Table | None = None,
                    batch_signatures: np.ndarray | None = None) -> pa.Table:
    """The duplicates among ``batch`` articles, within the batch and against ``history``.

    ``batch`` has article_id, content_hash, published_at and signature (or its signatures come as
    the matrix ``batch_signatures``, one row per batch row); ``history`` (earlier runs)
    has the same plus ingest_date and optionally duplicate_of (a history row already known to be a
    copy points to its canonical). Returns one row per batch article that is a duplicate:
    article_id, duplicate_of (its cluster's canonical, possibly a history article), kind
    (``exact`` when its content hash equals the canonical's, else ``near``) and similarity (estimated
    Jaccard to the canonical, 1.0 for exact). A history row is never re-pointed.
    """
    nb = batch.num_rows
    hist = history if history is not None and history.num_rows else None
    nh = hist.num_rows if hist is not None else 0
    if nb == 0:
        return RESULT_SCHEMA.empty_table()
    tables = [hist, batch] if hist is not None else [batch]
    ids = pa.concat_arrays([_column(t, "article_id", t.num_rows, pa.string()) for t in tables]).to_pylist()
    hashes = pa.concat_arrays([_column(t, "content_hash", t.num_rows, pa.string()) for t in tables])
    published = pa.concat_arrays([_column(t, "published_at", t.num_rows, pa.timestamp("us", tz="UTC"))
                                  for t in tables]).cast(pa.int64()).to_pylist()
    own = batch_signatures if batch_signatures is not None else signature_matrix(batch["signature"])
    if len(own) != nb:
        raise ValueError(f"{len(own)} signatures for {nb} articles")
    sig = np.concatenate([signature_matrix(hist["signature"]), own]) if hist is not None else own
    ingest = ([str(v) if v is not None else "" for v in _column(hist, "ingest_date", nh, pa.string())
               .to_pylist()] if hist is not None else []) + ["\uffff"] * nb      # batch after history
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

    # history rows already resolved by an earlier run join the article they point to
    index = {aid: k for k, aid in enumerate(ids)}
    for k in [x for x in uf.parent if x < nh]:
        target = index.get(dup_of[k]) if dup_of[k] else None
        if target is not None:
            uf.union(k, target)
    rows = []
    for comp in uf.members().values():
        if not any(active[x] for x in comp):
            continue
        canon = _canonical(comp, ids, published, ingest, dup_of, index)
        crow = index.get(canon)
        for x in comp:
            if not active[x] or ids[x] == canon:
                continue
            if crow is not None and hashes[x].as_py() == hashes[crow].as_py():
                kind, sim = "exact", 1.0
            else:
                ref = crow if crow is not None and sig[crow, 0] != EMPTY else None
                if ref is None or sig[x, 0] == EMPTY:   # canonical unknown here: best known member
                    others = [y for y in comp if y != x and sig[y, 0] != EMPTY]
                    sim = max((float((sig[x] == sig[y]).mean()) for y in others), default=0.0) \
                        if sig[x, 0] != EMPTY else 0.0
                else:
                    sim = float((sig[x] == sig[ref]).mean())
                kind = "near"
            rows.append((ids[x], canon, kind, sim))
    rows.sort()
    return pa.table([pa.array([r[i] for r in rows], f.type) for i, f in enumerate(RESULT_SCHEMA)],
                    schema=RESULT_SCHEMA)


def _canonical(comp: list[int], ids: list[str], published: list, ingest: list[str],
               dup_of: list, index: dict[str, int]) -> str:
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
                continue                 # the target row is itself ranked (it is in this component)
            stub_key = (key[0], key[1], key[2], target)
            best[target] = min(best.get(target, stub_key), stub_key)
            continue
        best[ids[x]] = key
    if not best:                         # only re-pointing rows: keep the smallest id
        return min(ids[x] for x in comp)
    return min(best, key=lambda k: best[k])
