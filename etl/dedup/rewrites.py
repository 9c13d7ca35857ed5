"""Rewrites and stories: the second stage of the copy search, after MinHash.

Why: MinHash over 5-word shingles at Jaccard 0.5 (``etl.dedup.minhash``) finds a story copied
whole, but a desk that rewrites agency copy reorders sentences, paraphrases and cuts: most such
rewrites share a third of their 3-word phrases with the source, not half of their 5-word ones.
And different articles about one event are worth grouping for analysts without calling them copies.

How (the bars were chosen on the labelled dev pairs of ``tests/gold/PAIRS.md``):

* each article keeps a *sketch*: the distinct 31-bit values of its word 3-grams (letters only,
  the words MinHash hashes, in the same pass: ``minhash.signatures_and_sketches``), leaving out
  3-grams of stop words alone, at most ``MAX_SKETCH`` of the smallest values (a sample by value
  keeps the same 3-grams of every article, ``SAMPLE`` can thin it further). Shared values over
  the smaller sketch are the containment of one article in the other, in either direction;
* besides it, the numbers its body states and the entities the enrichment found in it (hashed to
  32 bits each, at most ``MAX_KEYS`` of each), and its site (``articles.source_site``);
* candidates are article pairs sharing at least ``MIN_SHARED`` values, and ``STORY_CONTAINMENT``
  of the smaller sketch, outside stock phrases (values held by more than ``STOP_BUCKET``
  articles): the (value, article) keys sorted, then each article's partners counted in one
  compiled pass (``etl.dedup.compiled``), never a list of the pairs' occurrences;
* ``kind_of`` decides on a candidate's ``Evidence`` (compiled, the same decision term by term,
  for the search's millions of candidates): ``rewrite`` (a copy: ``duplicate_of`` is
  set, ``duplicate_kind = rewrite``), ``story`` (the same ``story_id`` only) or nothing. Two
  articles of one site, or published more than ``MAX_DAYS`` apart, are neither;
* ``clusters.find_duplicates`` joins rewrites to MinHash's clusters, checking each rewrite
  against its cluster's canonical article, and stories over copies and story links.

Storage (the lake's ``signatures`` table, read back for the copy search's window of days): about
800 bytes per article besides the MinHash signature's 512, so memory stays bounded by the window.
Articles with fewer than ``minhash.MIN_NEAR_WORDS`` words get an empty sketch and take no part.
``pair_kinds`` runs the same search on two articles at a time, for scoring on labelled pairs.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl import memory
from etl.dedup import minhash
from etl.enrich import quality

#: Words per shingle of the sketch, the sampling modulus (1: every 3-gram) and the largest sketch kept.
SHINGLE = 3
SAMPLE = 1
MAX_SKETCH = 256
#: Words of a sketched 3-gram that are not stop words (``etl/enrich/rules/urdu_stop_words.txt``).
MIN_CONTENT = 1
#: Most numbers and entities kept per article.
MAX_KEYS = 64
#: Candidates share at least this many sketch values; values of more articles are stock phrases.
MIN_SHARED = 3
STOP_BUCKET = 40
#: (value, row) keys sorted at once while candidates are found (8 bytes each), and candidate pairs
#: decided at once.
KEY_BLOCK = 4_000_000
PAIR_BLOCK = 1_000_000
#: Publication dates further apart than this are different events (same template, another day).
MAX_DAYS = 3

REWRITE_VERSION = f"rw-w{SHINGLE}s{SAMPLE}k{MAX_SKETCH}-v1"
if REWRITE_VERSION != minhash.REWRITE_VERSION:
    raise ImportError(f"etl.dedup.minhash.REWRITE_VERSION must be {REWRITE_VERSION!r}: DEDUP_VERSION names it")

_NUMBER = r"^[0-9]+(?:[.,][0-9]+)*$"
_NOT_NUMBER = r"[^0-9.,]+"
_MASK32 = np.uint64(0xFFFFFFFF)


def list_type() -> pa.DataType:
    return pa.list_(pa.uint32())


def _u32(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "little")


def sketches(bodies: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.ListArray:
    """The sketch of each body: its distinct word-3-gram values (sorted), empty below
    ``minhash.MIN_NEAR_WORDS`` words (``minhash.signatures_and_sketches`` gives the same)."""
    return minhash.signatures_and_sketches(bodies)[1]


def _distinct(keys: np.ndarray, in_place: bool = False) -> np.ndarray:
    """Sorted distinct values (``np.sort``: several times faster here than ``np.unique``);
    ``in_place`` sorts ``keys`` itself instead of a copy."""
    if in_place:
        keys.sort()
    else:
        keys = np.sort(keys)
    if len(keys):
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    return keys


def sketch_of_words(tokens: pa.Array, words: np.ndarray, offsets: np.ndarray) -> pa.ListArray:
    """Sketches from one chunk's word tokens, their 64-bit hashes and per-body offsets (as
    ``minhash.word_tokens`` and ``minhash.word_hashes`` give them, shared with the MinHash)."""
    n = len(offsets) - 1
    values, sh_off = minhash.shingle_values(words, offsets, SHINGLE)
    doc = np.repeat(np.arange(n, dtype=np.uint64), np.diff(sh_off))
    keep = values % np.uint64(SAMPLE) == 0
    # a 3-gram of stop words alone ("ہو گئے ہیں") says nothing about the story
    content = pc.invert(pc.is_in(tokens, value_set=_stop_words())).to_numpy(zero_copy_only=False).astype(np.int8)
    starts = offsets[:-1][doc.astype(np.int64)] + (np.arange(len(doc)) - sh_off[:-1][doc.astype(np.int64)])
    keep &= sum(content[starts + k] for k in range(SHINGLE)) >= MIN_CONTENT
    keep &= ~(np.diff(offsets) < minhash.MIN_NEAR_WORDS)[doc.astype(np.int64)]
    # distinct per document, ascending: one sort of (document, value) keys (values are 31-bit)
    # at most MAX_SKETCH per document: the smallest values (a consistent sample again)
    return _lists(_distinct((doc[keep] << np.uint64(32)) | values[keep]), n, MAX_SKETCH)


@functools.cache
def _stop_words() -> pa.Array:
    return pa.array(sorted(quality.stop_words()), pa.string())


def number_keys(bodies: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.ListArray:
    """The distinct numbers each body states (digits as the clean text writes them, thousands
    separators dropped), as 32-bit keys."""
    arr = bodies if isinstance(bodies, (pa.Array, pa.ChunkedArray)) else pa.array(list(bodies), pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    pieces = pc.split_pattern_regex(pc.fill_null(arr.cast(pa.large_string()), ""), _NOT_NUMBER)
    flat = pc.utf8_trim(pc.list_flatten(pieces), ".,")
    parent = pc.list_parent_indices(pieces).to_numpy()
    is_number = pc.match_substring_regex(flat, _NUMBER).to_numpy(zero_copy_only=False)
    numbers = pc.replace_substring(flat.filter(pa.array(is_number)), ",", "")
    return _keys_of(numbers, parent[is_number], len(arr))


def _keys_of(items: pa.Array, rows: np.ndarray, n: int) -> pa.ListArray:
    """The distinct 32-bit keys of ``items`` (strings) per row (``rows[k]`` holds ``items[k]``)."""
    enc = items.dictionary_encode()
    words = enc.dictionary.to_pylist()
    hashes = np.fromiter((_u32(x) for x in words), dtype=np.uint64, count=len(words))
    return _lists(_distinct((rows.astype(np.uint64) << np.uint64(32)) | hashes[enc.indices.to_numpy()]), n)


def _lists(key: np.ndarray, n: int, limit: int = MAX_KEYS) -> pa.ListArray:
    """Sorted distinct ``(row << 32 | value)`` keys as a list per row, at most ``limit`` each
    (the smallest)."""
    row = (key >> np.uint64(32)).astype(np.int64)
    counts = np.bincount(row, minlength=n)
    first = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])
    key = key[np.arange(len(key)) - first[:-1][row] < limit]
    out = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.minimum(counts, limit), out=out[1:])
    return pa.ListArray.from_arrays(pa.array(out, pa.int32()), pa.array((key & _MASK32).astype(np.uint32)))


def entity_keys(entity_ids: Sequence[Sequence[str]]) -> pa.ListArray:
    """The distinct entities of each article (lists of ``mentions.entity_id``), as 32-bit keys."""
    lists = pa.array(list(entity_ids), pa.list_(pa.string()))
    return _keys_of(pc.list_flatten(lists), pc.list_parent_indices(lists).to_numpy(), len(lists))


def entity_key_column(articles: pa.Table, mentions: pa.Table | None) -> pa.ListArray:
    """``entity_keys`` of each article's mentions, matched on the record (``source_file``,
    ``record_no``): a shard may hold one ``article_id`` twice before same-key duplicates go."""
    n = articles.num_rows
    if mentions is None or not mentions.num_rows:
        return entity_keys([[]] * n)
    keys = pa.table({"source_file": articles["source_file"], "record_no": articles["record_no"], "_row": np.arange(n)})
    found = mentions.select(["source_file", "record_no", "entity_id"]).join(keys, ["source_file", "record_no"])
    found = found.filter(pc.is_valid(found["_row"]))
    return _keys_of(found["entity_id"].combine_chunks(), found["_row"].to_numpy(), n)


# --------------------------------------------------------------------------- decision


class Evidence(NamedTuple):
    """What one candidate pair shares: the decision (``kind_of``) reads only this."""

    containment: float  # shared sketch values over the smaller sketch
    shared: int  # shared sketch values
    numbers: tuple[int, int, int]  # shared numbers, numbers of the one, of the other
    entities: tuple[int, int, int]  # the same for entities
    days_apart: float | None  # publication dates, when both are known
    same_site: bool  # both published on one site (``articles.source_site``)


#: The bars of ``kind_of`` (chosen on the labelled dev pairs, ``tests/gold/PAIRS.md``): the
#: containment that makes a rewrite alone, and the lower one that needs every number or every
#: entity of the shorter side (at least ``SUPPORT_KEYS``) in the other.
REWRITE_CONTAINMENT = 0.375
REWRITE_SUPPORTED = 0.325
SUPPORT_KEYS = 2
#: Both sides stating at least ``CONFLICT_KEYS`` numbers and sharing less than this share of them:
#: two days' reports written from one template, never a rewrite.
NUMBER_CONFLICT = 0.34
CONFLICT_KEYS = 3
#: A story: this containment and at least one shared entity, half of the shorter side's.
STORY_CONTAINMENT = 0.1
STORY_ENTITIES = 0.5


def _share(counts: tuple[int, int, int]) -> float | None:
    shared, a, b = counts
    return shared / min(a, b) if a and b else None


def kind_of(e: Evidence) -> str | None:
    """``"rewrite"``, ``"story"`` or None for one candidate pair.

    * Two articles of one site are neither: a site does not reword its own story; what it
      publishes twice with shared paragraphs is a follow-up repeating the background, or the
      same template on another day (its copies are MinHash's, stage one).
    * Publication dates more than ``MAX_DAYS`` apart: neither.
    * A rewrite shares at least ``REWRITE_CONTAINMENT`` of the shorter article's 3-grams, or
      ``REWRITE_SUPPORTED`` with all of its numbers or entities (at least ``SUPPORT_KEYS``);
      never with conflicting numbers (``NUMBER_CONFLICT``).
    * A story: ``STORY_CONTAINMENT`` and shared entities (``STORY_ENTITIES``).
    """
    if e.same_site or (e.days_apart is not None and e.days_apart > MAX_DAYS):
        return None
    nums, ents = _share(e.numbers), _share(e.entities)
    conflict = nums is not None and min(e.numbers[1:]) >= CONFLICT_KEYS and nums < NUMBER_CONFLICT
    support = (nums == 1.0 and e.numbers[0] >= SUPPORT_KEYS) or (ents == 1.0 and e.entities[0] >= SUPPORT_KEYS)
    if not conflict and (e.containment >= REWRITE_CONTAINMENT or (e.containment >= REWRITE_SUPPORTED and support)):
        return "rewrite"
    if e.containment >= STORY_CONTAINMENT and ents is not None and e.entities[0] >= 1 and ents >= STORY_ENTITIES:
        return "story"
    return None


#: ``kinds_of``'s codes: no link, a rewrite, a story (``KINDS[code]``).
KINDS = (None, "rewrite", "story")


def kinds_of(
    containment: np.ndarray,
    numbers: np.ndarray,
    entities: np.ndarray,
    days_apart: np.ndarray,
    same_site: np.ndarray,
) -> np.ndarray:
    """``kind_of`` over arrays of pairs, as codes into ``KINDS`` (int8): ``numbers`` and
    ``entities`` are ``(m, 3)`` like ``Evidence``'s, ``days_apart`` is NaN where unknown. The
    compiled decision the copy search runs (``etl.dedup.compiled._decide``), term by term
    ``kind_of``'s."""
    from etl.dedup import compiled

    out = np.zeros(len(containment), dtype=np.int8)
    compiled.decide(
        np.ascontiguousarray(containment, dtype=np.float64),
        np.ascontiguousarray(numbers, dtype=np.int64),
        np.ascontiguousarray(entities, dtype=np.int64),
        np.ascontiguousarray(days_apart, dtype=np.float64),
        np.ascontiguousarray(same_site, dtype=np.bool_),
        _bars(),
        out,
    )
    return out


# --------------------------------------------------------------------------- search


class Features(NamedTuple):
    """Stage-2 columns of ``n`` rows (history then batch), as flat numpy arrays and offsets."""

    sketch: tuple[np.ndarray, np.ndarray]
    numbers: tuple[np.ndarray, np.ndarray]
    entities: tuple[np.ndarray, np.ndarray]
    published: list  # microseconds since the epoch, or None
    site: list  # the article's site, or None
    size: np.ndarray  # values in each row's whole sketch (``sketch`` may hold only some: ``restrict``)
    when: np.ndarray  # ``published`` as int64 microseconds (0 where unknown) ...
    dated: np.ndarray  # ... and where it is known
    site_code: np.ndarray  # ``site`` as an int64 code per distinct site, -1 for None

    @classmethod
    def from_columns(
        cls,
        sketch: pa.Array | pa.ChunkedArray,
        numbers: pa.Array | pa.ChunkedArray,
        entities: pa.Array | pa.ChunkedArray,
        published: list,
        site: list,
        size: np.ndarray | None = None,
    ) -> Features:
        return cls.from_flat(flat(sketch), flat(numbers), flat(entities), published, site, size)

    @classmethod
    def from_flat(
        cls,
        sketch: Flat,
        numbers: Flat,
        entities: Flat,
        published: list,
        site: list,
        size: np.ndarray | None = None,
    ) -> Features:
        """The features of columns already flat (``flat``, ``joined``): their values are kept as
        they are when each row's are ascending, not copied."""
        sketch = _sorted_rows(sketch)
        dated = np.array([p is not None for p in published], dtype=bool)
        when = np.array([p or 0 for p in published], dtype=np.int64)
        enc = pa.array(site, pa.string()).dictionary_encode()
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return cls(
            sketch,
            _sorted_rows(numbers),
            _sorted_rows(entities),
            published,
            site,
            np.diff(sketch[1]) if size is None else size,
            when,
            dated,
            codes,
        )


#: A list<uint32> column as numpy: its values, flat, and each row's offsets into them (``n + 1``,
#: the first 0 and the last the number of values).
Flat = tuple[np.ndarray, np.ndarray]


def flat(col: pa.Array | pa.ChunkedArray) -> Flat:
    """A list<uint32> column as ``Flat`` (nulls are empty lists), its values copied once, a chunk
    at a time: no whole-column Arrow copy is made on the way."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    return joined([_flat_chunk(chunk) for chunk in chunks])


def _flat_chunk(chunk: pa.Array) -> Flat:
    """One Arrow array as ``Flat``; its values may be a read-only view of the Arrow buffer."""
    chunk = chunk.cast(list_type())
    lengths = pc.fill_null(pc.list_value_length(chunk), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.zeros(len(chunk) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pc.list_flatten(chunk).to_numpy(zero_copy_only=False), offsets  # null lists hold no values


#: ``joined`` hands the memory of the parts it has copied back to the system after this many bytes.
_RELEASE_BYTES = 256 << 20


def joined(parts: list[Flat]) -> Flat:
    """The rows of ``parts``, in order, as one ``Flat`` of new arrays.

    The list is emptied as it is read: each part is let go once copied into the result, and the
    memory of those copied is handed back every ``_RELEASE_BYTES`` (``etl.memory.release``), so
    that the join of a day's parts holds little more than its result, not the parts and the
    result both."""
    values = np.empty(sum(len(v) for v, _ in parts), dtype=np.uint32)
    offsets = np.zeros(1 + sum(len(off) - 1 for _, off in parts), dtype=np.int64)
    at_value = at_row = freed = 0
    parts.reverse()
    while parts:
        part_values, part_offsets = parts.pop()
        rows = len(part_offsets) - 1
        values[at_value : at_value + len(part_values)] = part_values
        offsets[at_row + 1 : at_row + 1 + rows] = part_offsets[1:] + at_value
        at_value += len(part_values)
        at_row += rows
        freed += part_values.nbytes
        del part_values, part_offsets
        if freed >= _RELEASE_BYTES:
            memory.release()
            freed = 0
    return values, offsets


def _sorted_rows(flat: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``flat`` with each row's values ascending (as this module writes them; ``evidence`` relies
    on it), sorting only when some row is not."""
    values, offsets = flat
    if len(values) < 2:
        return flat
    down = values[1:] <= values[:-1]
    down[offsets[1:-1][(offsets[1:-1] > 0) & (offsets[1:-1] < len(values))] - 1] = False  # row starts
    if not down.any():
        return flat
    row = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return values[np.lexsort((values, row))], offsets


def empty_column(n: int) -> pa.Array:
    return pa.array([[]] * n, list_type())


def restrict(sketch: pa.Array | pa.ChunkedArray, wanted: np.ndarray) -> tuple[pa.ListArray, np.ndarray]:
    """Each sketch cut down to the values of ``wanted``, and its whole size.

    A day's search compares earlier days' articles with the day's own only: their other values
    can never be shared, so the window of earlier days is held at the size of what it shares
    with the day, not of its text."""
    values, offsets = flat(sketch)
    size = np.diff(offsets)
    # a table of the low 24 bits first (one gather), the few that pass checked exactly
    seen = np.zeros(1 << 24, dtype=bool)
    seen[wanted & 0xFFFFFF] = True
    hit = seen[values & 0xFFFFFF]
    hit[hit] = pc.is_in(pa.array(values[hit]), value_set=pa.array(wanted, pa.uint32())).to_numpy(zero_copy_only=False)
    row = np.repeat(np.arange(len(size)), size)
    out = np.zeros(len(size) + 1, dtype=np.int32)
    np.cumsum(np.bincount(row[hit], minlength=len(size)), out=out[1:])
    return pa.ListArray.from_arrays(pa.array(out, pa.int32()), pa.array(values[hit], pa.uint32())), size


def distinct_values(sketch: pa.Array | pa.ChunkedArray | list[Flat]) -> np.ndarray:
    """The sorted distinct values of a sketch column (or of its ``Flat`` parts)."""
    if isinstance(sketch, list):  # the one copy is the concatenation, sorted in place
        return _distinct(np.concatenate([v for v, _ in sketch]) if sketch else np.zeros(0, np.uint32), in_place=True)
    return _distinct(flat(sketch)[0], in_place=True)


def candidates(
    sketch: tuple[np.ndarray, np.ndarray], touched: np.ndarray, live: np.ndarray, size: np.ndarray | None = None
) -> np.ndarray:
    """``(m, 2)`` rows ``i < j`` sharing at least ``MIN_SHARED`` sketch values outside stock
    phrases (values of more than ``STOP_BUCKET`` rows), at least ``STORY_CONTAINMENT`` of the
    smaller sketch; one of them ``touched``, both ``live``; ascending. (A pair that passes only
    with stock phrases counted is no rewrite and no story; two articles alone have no stock phrases.)

    Compiled (``etl.dedup.compiled``): the (value, row) keys are sorted ``KEY_BLOCK`` at a time
    (values split by their remainder), the rows of every value shared by 2 to ``STOP_BUCKET`` rows
    kept, and each row's partners counted in one table: memory is the kept buckets, never the
    pairs' occurrences."""
    values, offsets = sketch
    n = len(offsets) - 1
    if n < 2 or not len(values):
        return np.zeros((0, 2), dtype=np.int64)
    from etl.dedup import compiled

    lengths = (np.diff(offsets) if size is None else size).astype(np.int64)
    live = np.ascontiguousarray(live, dtype=np.bool_)
    parts = max(1, -(-int(np.diff(offsets)[live].sum()) // KEY_BLOCK))
    rows, sizes = [], []
    for part in range(parts):
        keys = compiled.bucket_keys(values, offsets, live, parts, part)
        keys.sort()
        part_rows, part_sizes = compiled.bucket_rows(keys, STOP_BUCKET)
        del keys
        rows.append(part_rows)
        sizes.append(part_sizes)
    kept_rows, kept_sizes = np.concatenate(rows), np.concatenate(sizes)
    del rows, sizes
    memory.release()  # the sorted key blocks, before the pairs' tables
    return compiled.shared_pairs(
        kept_rows,
        kept_sizes,
        n,
        np.ascontiguousarray(touched, dtype=np.bool_),
        lengths,
        MIN_SHARED,
        STORY_CONTAINMENT,
    )


_US_PER_DAY = 86_400_000_000


def _members(flat: tuple[np.ndarray, np.ndarray], i: int) -> np.ndarray:
    values, offsets = flat
    return values[offsets[i] : offsets[i + 1]]


def _overlap(flat: tuple[np.ndarray, np.ndarray], i: int, j: int) -> tuple[int, int, int]:
    a, b = _members(flat, i), _members(flat, j)
    if not len(a) or not len(b):
        return 0, len(a), len(b)
    # a row's values are sorted and distinct: each of ``a`` is in ``b`` where its place holds it
    at = np.searchsorted(b, a)
    at[at == len(b)] = 0
    return int(np.count_nonzero(b[at] == a)), len(a), len(b)


def evidence(f: Features, i: int, j: int) -> Evidence:
    """The evidence of one pair of rows: what the compiled search (``etl.dedup.compiled._kind``) decides on."""
    shared = _overlap(f.sketch, i, j)[0]
    a, b = int(f.size[i]), int(f.size[j])
    pi, pj = f.published[i], f.published[j]
    return Evidence(
        containment=shared / min(a, b) if min(a, b) else 0.0,
        shared=shared,
        numbers=_overlap(f.numbers, i, j),
        entities=_overlap(f.entities, i, j),
        days_apart=abs(pi - pj) / _US_PER_DAY if pi is not None and pj is not None else None,
        same_site=f.site[i] is not None and f.site[i] == f.site[j],
    )


def _bars() -> np.ndarray:
    """``kind_of``'s constants, in the order ``etl.dedup.compiled._kind`` reads them."""
    return np.array(
        [
            _US_PER_DAY,
            MAX_DAYS,
            CONFLICT_KEYS,
            NUMBER_CONFLICT,
            SUPPORT_KEYS,
            REWRITE_CONTAINMENT,
            REWRITE_SUPPORTED,
            STORY_CONTAINMENT,
            STORY_ENTITIES,
        ],
        dtype=np.float64,
    )


def compiled_args(f: Features) -> tuple:
    """The arrays ``etl.dedup.compiled``'s decision reads, from ``f``."""
    return (
        np.ascontiguousarray(f.sketch[0], dtype=np.uint32),
        np.ascontiguousarray(f.sketch[1], dtype=np.int64),
        np.ascontiguousarray(f.size, dtype=np.int64),
        np.ascontiguousarray(f.numbers[0], dtype=np.uint32),
        np.ascontiguousarray(f.numbers[1], dtype=np.int64),
        np.ascontiguousarray(f.entities[0], dtype=np.uint32),
        np.ascontiguousarray(f.entities[1], dtype=np.int64),
        np.ascontiguousarray(f.dated, dtype=np.bool_),
        np.ascontiguousarray(f.when, dtype=np.int64),
        np.ascontiguousarray(f.site_code, dtype=np.int64),
    )


def pair_codes(
    f: Features, i: np.ndarray, j: np.ndarray, floor: float = 0.0, args: tuple | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``kind_of`` of each pair ``(i[k], j[k])`` whose containment reaches ``floor``, as
    ``kinds_of`` codes: returns the index of those pairs into ``i``, their codes and containments
    (what ``evidence`` and ``kind_of`` give pair by pair, compiled: ``etl.dedup.compiled``;
    ``args`` are ``compiled_args(f)`` when the caller holds them)."""
    from etl.dedup import compiled

    i, j = np.ascontiguousarray(i, dtype=np.int64), np.ascontiguousarray(j, dtype=np.int64)
    keep = np.empty(len(i), dtype=np.int64)
    codes = np.empty(len(i), dtype=np.int8)
    contained = np.empty(len(i), dtype=np.float64)
    args = compiled_args(f) if args is None else args
    m = compiled.pair_kinds(*args, i, j, float(floor), _bars(), keep, codes, contained)
    return keep[:m], codes[:m], contained[:m]


def links(f: Features, touched: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rewrite and story links among the rows: arrays of the rows ``i`` and ``j``, the
    ``KINDS`` code (1 rewrite, 2 story) and the containment of each."""
    cand = candidates(f.sketch, touched, live, f.size)
    if len(cand):
        a, b = f.site_code[cand[:, 0]], f.site_code[cand[:, 1]]
        cand = cand[(a < 0) | (a != b)]
    parts: list[tuple[np.ndarray, ...]] = [(np.zeros(0, np.int64),) * 2 + (np.zeros(0, np.int8), np.zeros(0))]
    args = compiled_args(f)
    for at in range(0, len(cand), PAIR_BLOCK):
        block = cand[at : at + PAIR_BLOCK]
        keep, codes, contained = pair_codes(f, block[:, 0], block[:, 1], STORY_CONTAINMENT, args)
        hit = codes > 0
        parts.append((block[keep[hit], 0], block[keep[hit], 1], codes[hit], contained[hit]))
    i, j, codes, contained = (np.concatenate(column) for column in zip(*parts))
    return i, j, codes, contained


def has_sketch(f: Features, i: int) -> bool:
    return bool(f.size[i] > 0)


# --------------------------------------------------------------------------- pairs


def pair_kinds(pairs: Sequence[tuple[dict, dict]]) -> list[str | None]:
    """The link the copy search makes between the two articles of each pair: ``"exact"``,
    ``"near"``, ``"rewrite"`` (a copy: ``duplicate_of`` is set), ``"story"`` (same ``story_id``
    only) or None.

    Each article is a dict with ``body`` (the clean body), ``headline``, ``published_at`` (UTC
    datetime or None) and ``source``. Every pair runs through ``clusters.find_duplicates`` alone,
    with the columns the pipeline builds (``minhash.signature_table``, entities from the same
    recognizer), so the answer is the pipeline's.
    """
    from etl.dedup import clusters

    if not pairs:
        return []
    sigs = _pair_signatures(pairs)
    out: list[str | None] = []
    for k in range(len(pairs)):
        result = clusters.find_duplicates(sigs.slice(2 * k, 2))
        rows = {r["article_id"]: r for r in result.to_pylist()}
        a, b = rows.get(str(2 * k)), rows.get(str(2 * k + 1))
        copy = next((r for r in (a, b) if r is not None and r["duplicate_of"] is not None), None)
        if copy is not None:
            out.append(copy["kind"])
        elif a is not None and b is not None and a["story_id"] is not None and a["story_id"] == b["story_id"]:
            out.append("story")
        else:
            out.append(None)
    return out


def _pair_signatures(pairs: Sequence[tuple[dict, dict]]) -> pa.Table:
    """The signature rows of the pairs' articles, two per pair, as the transform builds them
    (entities from the pipeline's recognizer over headline and body)."""
    from etl.enrich import entities

    flat = [a for pair in pairs for a in pair]
    found = entities.extract_entities_batch([a.get("headline") for a in flat], [a["body"] for a in flat])
    articles = pa.table(
        {
            "article_id": pa.array([f"{k}" for k in range(len(flat))], pa.string()),
            "content_hash": pa.array(
                [hashlib.sha256((a["body"] or "").encode()).hexdigest()[:16] for a in flat], pa.string()
            ),
            "published_at": pa.array([_utc(a.get("published_at")) for a in flat], pa.timestamp("us", tz="UTC")),
            "body": pa.array([a["body"] for a in flat], pa.string()),
            "source_site": pa.array([a.get("source") for a in flat], pa.string()),
            "source_file": pa.array(["pairs"] * len(flat), pa.string()),
            "record_no": pa.array(range(len(flat)), pa.int64()),
        }
    )
    mentions = pa.table(
        {
            "source_file": pa.array(["pairs"] * sum(len(ms) for ms in found), pa.string()),
            "record_no": pa.array([k for k, ms in enumerate(found) for _ in ms], pa.int64()),
            "entity_id": pa.array([f"{m.type}:{m.key}" for ms in found for m in ms], pa.string()),
        }
    )
    return minhash.signature_table(articles, mentions)


def pair_evidence(pairs: Sequence[tuple[dict, dict]]) -> list[Evidence]:
    """What ``kind_of`` sees of each pair (for reading a labelled set's errors)."""
    sigs = _pair_signatures(pairs)
    published = sigs["published_at"].cast(pa.int64()).to_pylist()
    feats = Features.from_columns(
        sigs["sketch"], sigs["numbers"], sigs["entities"], published, sigs["site"].to_pylist()
    )
    return [evidence(feats, 2 * k, 2 * k + 1) for k in range(len(pairs))]


def _utc(when: dt.datetime | None) -> dt.datetime | None:
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=dt.UTC)
