"""MinHash signatures of article bodies, and the parameters of the whole near-duplicate search.

Why: the same story reaches the lake many times — the same URL scraped into several dumps, one body
pasted under two ids, a copy with its punctuation and digits stripped. Every duplicate is pointed at
one canonical article so that counts and the warehouse see each story once, and the pointer says
how it was found (``exact`` content hash or ``near`` MinHash estimate) and how similar it is.

How (all vectorised; figures and the choice of every constant: ``bench/dedup_choice.py``):

* words are the runs of letters of the normalized body (digits and punctuation dropped, because
  copies of one story differ exactly there); each *distinct* word gets a stable 64-bit blake2b
  hash once (``dictionary_encode`` of all tokens), never Python's salted ``hash()``;
* ``SHINGLE`` consecutive word hashes are mixed into one 31-bit shingle value with numpy;
* ``NUM_PERM`` permutations ``(a*x + b) mod (2**31 - 1)`` are applied to every shingle and
  reduced per article in one compiled pass (``etl.dedup.compiled``), with no temporaries;
* ``etl.dedup.clusters`` cuts the signature into ``BANDS`` bands of ``ROWS`` rows; articles
  sharing a band bucket are candidates, kept when their estimated Jaccard similarity reaches
  ``THRESHOLD``; exact copies (same ``content_hash``) and kept candidate pairs are joined into
  clusters, each pointing to one canonical article.

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

from etl import schema

#: Words per shingle, permutations, LSH bands x rows and the kept similarity: see bench/dedup_choice.py.
SHINGLE = 5
NUM_PERM = 128
BANDS = 32
ROWS = 4
THRESHOLD = 0.5
#: Shorter bodies (leads, captions, market tickers written from one template) only match exactly:
#: on a few dozen words a shared template alone passes the threshold.
MIN_NEAR_WORDS = 40
#: The second stage's parameters (``etl.dedup.rewrites`` checks that they are its own).
REWRITE_VERSION = "rw-w3s1k256-v1"
DEDUP_VERSION = f"minhash-w{SHINGLE}-p{NUM_PERM}-b{BANDS}r{ROWS}-t{THRESHOLD}-m{MIN_NEAR_WORDS}-v3+{REWRITE_VERSION}"

#: The signature value of an article without shingles (never produced by a permutation, all < 2**31).
EMPTY = np.uint32(0xFFFFFFFF)

_WORD = r"[^\p{L}\p{M}]+"  # separators: anything that is not a letter or a combining mark
_PRIME = np.uint64((1 << 31) - 1)  # Mersenne prime: x mod p by a shift-and-add fold
_MIX = np.uint64(0x9E3779B97F4A7C15)
_TEXT_CHUNK = 8_000_000  # bytes of body text per signature chunk
assert BANDS * ROWS == NUM_PERM


def signature_type() -> pa.DataType:
    """The Parquet/Arrow type of the signature column (``etl.schema.SIGNATURE``: a test holds them equal)."""
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


def word_tokens(
    bodies: pa.Array | pa.ChunkedArray | Sequence[str | None], separators: str = _WORD
) -> tuple[pa.Array, np.ndarray]:
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
    table = np.fromiter(
        (cache[w] if w in cache else cache.setdefault(w, _stable_u64(w)) for w in words),
        dtype=np.uint64,
        count=len(words),
    )
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


def minhash(values: np.ndarray, offsets: np.ndarray, num_perm: int = NUM_PERM) -> np.ndarray:
    """MinHash signatures ``(n, num_perm)`` uint32 from per-body shingle values (``EMPTY`` rows for none).

    Compiled (``etl.dedup.compiled.minhash_rows``, imported here, so that importing this module
    does not load numba): each permutation's minimum is taken as the values stream by,
    with no temporary per value."""
    from etl.dedup.compiled import minhash_rows

    a, b = (_A, _B) if num_perm == NUM_PERM else _permutations(num_perm)
    n = len(offsets) - 1
    sig = np.full((n, num_perm), EMPTY, dtype=np.uint32)
    if n and int(offsets[-1]) > int(offsets[0]):
        minhash_rows(
            np.ascontiguousarray(values, dtype=np.uint64), np.ascontiguousarray(offsets, dtype=np.int64), a, b, sig
        )
    return sig


def signatures(bodies: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> np.ndarray:
    """MinHash signatures ``(n, NUM_PERM)`` uint32 of normalized bodies; the same in every process.

    Bodies are taken ``_TEXT_CHUNK`` bytes of text at a time, so memory stays bounded whatever the
    input size; each distinct word is hashed once per call.
    """
    return _signatures(bodies, False)[0]


def signatures_and_sketches(
    bodies: pa.Array | pa.ChunkedArray | Sequence[str | None],
) -> tuple[np.ndarray, pa.ListArray]:
    """``signatures`` and the second stage's sketches (``etl.dedup.rewrites``) from one pass over
    the words."""
    sig, sketch = _signatures(bodies, True)
    assert sketch is not None
    return sig, sketch


def _signatures(
    bodies: pa.Array | pa.ChunkedArray | Sequence[str | None], with_sketches: bool
) -> tuple[np.ndarray, pa.ListArray | None]:
    from etl.dedup import rewrites  # it builds on this module

    arr = bodies if isinstance(bodies, (pa.Array, pa.ChunkedArray)) else pa.array(list(bodies), pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    sizes = pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    cuts = np.searchsorted(np.cumsum(sizes), np.arange(_TEXT_CHUNK, int(sizes.sum()), _TEXT_CHUNK), side="right")
    bounds = [0, *sorted(set(cuts.tolist()) - {0, len(arr)}), len(arr)]
    cache: dict[str, int] = {}
    out = np.empty((len(arr), NUM_PERM), dtype=np.uint32)
    sketches = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        tokens, offsets = word_tokens(arr.slice(lo, hi - lo))
        words = word_hashes(tokens, cache)
        values, sh_offsets = shingle_values(words, offsets)
        out[lo:hi] = minhash(values, sh_offsets)
        out[lo:hi][np.diff(offsets) < MIN_NEAR_WORDS] = EMPTY
        if with_sketches:
            sketches.append(rewrites.sketch_of_words(tokens, words, offsets))
    if not with_sketches:
        return out, None
    if not sketches:
        return out, pa.array([], pa.list_(pa.uint32()))
    return out, pa.concat_arrays(sketches)


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
                out[at : at + n] = values
            else:
                out[at : at + n][valid] = values
        at += n
    return out


def signature_table(articles: pa.Table, mentions: pa.Table | None = None) -> pa.Table:
    """The signature of each of a shard's articles, with what the copy search needs besides (the
    second stage's keys, ``etl.dedup.rewrites``: ``mentions`` are the shard's entity mentions, with
    their records' ``source_file`` and ``record_no``), and the record's provenance until same-key
    duplicates are resolved."""
    from etl.dedup import rewrites  # it builds on this module

    sig_type = signature_type()
    matrix, sketches = signatures_and_sketches(articles["body"])
    sigs = signature_array(matrix).cast(sig_type)
    n = articles.num_rows
    return pa.table(
        {
            "article_id": articles["article_id"],
            "content_hash": articles["content_hash"],
            "published_at": articles["published_at"],
            "duplicate_of": pa.nulls(n, pa.string()),
            "story_id": pa.nulls(n, pa.string()),
            "signature": sigs,
            "sketch": sketches,
            "numbers": rewrites.number_keys(articles["body"]),
            "entities": rewrites.entity_key_column(articles, mentions),
            "site": articles["source_site"] if "source_site" in articles.column_names else pa.nulls(n, pa.string()),
            "source_file": articles["source_file"],
            "record_no": articles["record_no"],
        },
        schema=pa.schema([*schema.SIGNATURES, ("source_file", pa.string()), ("record_no", pa.int64())]),
    )
