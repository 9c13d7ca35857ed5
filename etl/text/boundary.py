"""Sentence ends where the punctuation is missing: a small model learnt from the corpora's own ۔

Some sources publish whole articles without a single ۔, or run sentences together (``... کیا گیا
انہوں نے کہا ...``). ``etl.text.segment.sentences`` hands every piece of a paragraph that its rules
leave ``MIN_WORDS`` words long or longer to this model, which puts the missing ends back; a
paragraph whose pieces are all shorter never reaches it.

The model is a logistic regression over hashed features of each gap between two words: the word
before (verb-final auxiliaries such as ہے ہیں تھا گیا کیا), the word after (the opener of a new
subject), the word pairs around the gap, the last and first letters, the punctuation on either
side (a ، or : before the gap, an opening quote after it) and how far the gap is from the piece's
ends (``etl.text.compiled.boundary_scan`` lists them and computes them in one compiled pass). It
was trained without hand labels by ``bench/train_boundary.py``: the corpora's well-punctuated
paragraphs with their terminators removed, the removed terminators as the labels. Its weights
(``rules/boundary_model.npz``: the non-zero entries of the hashed table, float16) are one of the
rule files, so the normalizer version changes with them.

Decoding: the gaps whose probability reaches a threshold become ends, the most likely first,
keeping every sentence at least ``min_gap`` words long, never before a conjunction that continues
the sentence (``JOINERS``: اور لیکن مگر تاہم کہ ...). The threshold is higher in a paragraph
that has terminators elsewhere (a missing ۔ there is rarer than in text that has none at all),
except where that paragraph has no comma either: there a sentence still ``LONG_WORDS`` words long
is cut again at the lower threshold (a source that lost its commas with its full stops).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from etl.text.normalize import LETTERS

MODEL_PATH = Path(__file__).resolve().parent / "rules" / "boundary_model.npz"
#: A piece the punctuation rules leave with at least this many words goes through the model.
MIN_WORDS = 40
#: Bits of the feature hash (the table the training script fills; the file keeps its non-zeros).
HASH_BITS = 18
#: Conjunctions that continue a sentence even without a mark: no end is put before them.
JOINERS = ("اور", "لیکن", "مگر", "تاہم", "البتہ", "جبکہ", "کیونکہ", "لہذا", "تو", "پھر", "بلکہ", "کہ", "بشمول")
#: In a paragraph that has terminators but not a single comma (a source that dropped its ، too), a
#: sentence the model leaves this many words long or longer is cut again at the threshold of
#: text without terminators (its most likely gap first), unless it holds Latin letters (share
#: buttons, links: runs of labels, not sentences).
LONG_WORDS = 20
_WS = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # as segment._WS
_CORE = LETTERS + "\u200cA-Za-z0-9۰-۹٠-٩"  # a word's core: Urdu and Latin letters, ZWNJ, digits


class Model(NamedTuple):
    """The dense hashed weights and the decoder's settings."""

    weights: object  # numpy float32 array of 2**HASH_BITS (1 MB: it stays in the cache)
    threshold: float  # in a paragraph without any terminator
    threshold_punctuated: float  # in a paragraph that has terminators elsewhere
    min_gap: int


def class_table(spec: str):
    """A bool array over the BMP: True for the characters of the regex class body ``spec``."""
    import re

    import numpy as np

    table = np.zeros(0x10000, dtype=np.bool_)
    pattern = re.compile(f"[{spec}]")
    table[[c for c in range(0x10000) if pattern.match(chr(c))]] = True
    return table


@functools.cache
def tables():
    """The word-core and whitespace tables of the compiled pass (built once)."""
    return class_table(_CORE), class_table(_WS)


def word_hash(core: str) -> int:
    """The compiled pass's hash of a word's core (FNV-1a over its code points)."""
    h = 0xCBF29CE484222325
    for c in core:
        h = ((h ^ ord(c)) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


@functools.cache
def _joiners():
    import numpy as np

    return np.array(sorted(word_hash(w) for w in JOINERS), dtype=np.uint64)


@functools.cache
def model() -> Model:
    """The shipped model, loaded once."""
    import numpy as np

    with np.load(MODEL_PATH) as f:
        weights = np.zeros(1 << HASH_BITS, dtype=np.float32)
        weights[f["index"]] = f["weight"].astype(np.float32)
        return Model(weights, float(f["threshold"]), float(f["threshold_punctuated"]), int(f["min_gap"]))


def _buffers(pieces):
    """UTF-8 bytes and offsets of a pyarrow string array or a list of str."""
    import numpy as np
    import pyarrow as pa

    from etl.text.compiled import string_buffers

    if not isinstance(pieces, pa.Array):
        pieces = pa.array(list(pieces), type=pa.string())
    offsets, data = string_buffers(pieces)
    return data, offsets.astype(np.int64)


def gap_index(pieces: Sequence[str]):
    """Feature indices of every gap between two words of ``pieces`` (rows of ``N_FEATURES``), and
    each gap's piece: what the model scores, for training it."""
    from etl.text.compiled import boundary_scan

    data, offsets = _buffers(pieces)
    core, space = tables()
    rows, piece, _, _ = boundary_scan.gap_index(data, offsets[:-1], offsets[1:], core, space, (1 << HASH_BITS) - 1)
    return rows, piece


def ends(pieces, punctuated, commaless=None, m: Model | None = None):
    """Where the model ends sentences in ``pieces`` (a list of str or a pyarrow string array):
    arrays of the piece, the UTF-8 byte (from the piece's start) where a sentence ends and the one
    where the next starts, in order. ``punctuated`` (a bool per piece) picks the threshold;
    ``commaless`` (a bool per piece, default all False) marks the pieces of a punctuated paragraph
    without any comma, whose long sentences are cut again (``LONG_WORDS``).
    Pieces under ``MIN_WORDS`` words are left whole."""
    import numpy as np

    from etl.text.compiled import boundary_scan

    m = m or model()
    data, offsets = _buffers(pieces)
    core, space = tables()
    punctuated = np.asarray(punctuated, dtype=bool)
    relax = np.zeros(len(punctuated), dtype=bool) if commaless is None else np.asarray(commaless, dtype=bool)
    out = []
    for flag, threshold in ((False, m.threshold), (True, m.threshold_punctuated)):
        rows = np.flatnonzero(punctuated == flag)
        if not len(rows):
            continue
        piece, end, nxt = boundary_scan.ends(
            data,
            offsets[rows],
            offsets[rows + 1],
            core,
            space,
            (1 << HASH_BITS) - 1,
            m.weights,
            threshold,
            m.min_gap,
            MIN_WORDS,
            _joiners(),
            relax[rows] & flag,
            m.threshold,
            LONG_WORDS,
        )
        piece = rows[piece]
        out.append((piece, end - offsets[piece], nxt - offsets[piece]))
    if not out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    piece, end, nxt = (np.concatenate(parts) for parts in zip(*out))
    order = np.lexsort((end, piece))
    return piece[order], end[order], nxt[order]


def split(piece: str, punctuated: bool, commaless: bool = False) -> list[str]:
    """One piece cut where the model ends sentences (each part stripped)."""
    _, end, nxt = ends([piece], [punctuated], [commaless])
    if not len(end):
        return [piece]
    raw = piece.encode()
    cuts = [0, *[int(v) for pair in zip(end, nxt) for v in pair], len(raw)]
    return [raw[a:b].decode().strip() for a, b in zip(cuts[0::2], cuts[1::2])]
