"""A learned tagger of people, places and organizations in Urdu text: ``predict_spans``.

The model (``models/ner-<version>.npz``, trained by ``bench/train_ner.py`` on three public Urdu NER
corpora) tags each token PERSON / LOCATION / ORGANIZATION / O from the words around it; a run of
tokens with one tag is one span. It is used beside the gazetteers of ``etl.enrich.entities``.

Everything here is numpy and pyarrow, vectorised over a whole batch of texts:

* tokens: the texts' UTF-8 bytes are decoded to code points and classified in numpy (word
  characters: Urdu letters, ZWNJ, digits, Latin letters; spaces; everything else is a one-character
  token). A token is a maximal run of word characters, so a span can never start or end inside a
  word; ``۔`` between two letters (``پی۔ٹی۔آئی``) stays inside the word, as ``normalize`` keeps it.
* segments: a window never looks across a newline or past a sentence-final ``۔ ؟ ? !``, as the
  training sentences never did.
* features: every feature is a property of one word at one offset from the tagged token (the word
  itself, its suffixes and prefixes, its shape, whether it is a word of a gazetteer name or of a
  title, each at offsets -2..+2). So the score table of each *distinct* word of the batch is summed
  once from the model's weight rows (``index_in`` against the model's vocabularies), and a token's
  class scores are five gathers from those tables. No Python runs per token.
* decoding: a linear model takes the best class of each token (softmax probabilities); a model
  file that carries transition weights (a CRF) is decoded by Viterbi, vectorised over segments.

The gazetteer word lists the model was trained with are stored in the model file, so a later change
of the gazetteers cannot change what the model sees. ``MODEL_VERSION`` names the file and a digest of
its bytes: a retrained model is a new version.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.text.normalize import LETTERS

HERE = Path(__file__).resolve().parent
#: The shipped model file; ``bench/train_ner.py`` writes it.
MODEL_NAME = "ner-crf-1"
MODEL_PATH = HERE / "models" / f"{MODEL_NAME}.npz"


def _file_version(path: Path) -> str:
    return f"{path.stem.removeprefix('ner-')}+{hashlib.sha256(path.read_bytes()).hexdigest()[:10]}"


#: Stored with the entity rows: the model's name and a digest of the model file.
MODEL_VERSION: str = _file_version(MODEL_PATH) if MODEL_PATH.exists() else f"{MODEL_NAME}+missing"

#: Classes of the model, index 0 is "no entity".
CLASSES = ("O", "person", "location", "organization")
#: The word lists the features read, stored in the model file (``NerModel.lists``).
LIST_NAMES = ("location", "organization", "person", "title")
#: Sentence-final punctuation: a window does not look past it.
FINAL_PUNCT = "۔؟?!"

# character classes of the tokenizer
_OTHER, _WORD, _SPACE, _NEWLINE, _LONG = 0, 1, 2, 3, 4
_WORD_CHARS = f"{LETTERS}\u200c0-9A-Za-z\u064b-\u065f\u0670\u0660-\u0669\u06f0-\u06f9"
_NEWLINES = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@lru_cache(maxsize=1)
def _char_table() -> np.ndarray:
    """Class of every BMP code point; index 0x10000 stands for every code point past the BMP."""
    table = np.full(0x10001, _OTHER, dtype=np.uint8)
    bmp = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x10000)))
    for cls, pattern in ((_WORD, f"[{_WORD_CHARS}]"), (_SPACE, r"\s"), (_NEWLINE, f"[{_NEWLINES}]")):
        table[np.array([ord(c) for c in re.findall(pattern, bmp)], dtype=np.int64)] = cls
    return table


@dataclass
class Tokens:
    """The tokens of a batch of texts, flattened: token ``j`` is ``texts[doc[j]][start[j]:end[j]]``."""

    doc: np.ndarray  # (n,) int64 index of the text
    start: np.ndarray  # (n,) int64 char offset in its text
    end: np.ndarray  # (n,) int64
    segment: np.ndarray  # (n,) int64, increasing: windows stay inside one segment
    is_word: np.ndarray  # (n,) bool: a word token (not punctuation or a symbol)
    type_id: np.ndarray  # (n,) int64 index into ``types``
    types: pa.StringArray  # the distinct token strings of the batch
    n_texts: int = 0


_SURROGATE = re.compile("[\ud800-\udfff]")


def _to_arrow(texts: Sequence[str] | pa.StringArray) -> pa.StringArray:
    """``texts`` as one Arrow string array without nulls or offset; one that is so already is
    returned as it is, so a batch converted once serves every pass over it."""
    if isinstance(texts, pa.StringArray) and not texts.null_count and not texts.offset:
        return texts
    try:
        arr = pa.array(texts, pa.string())
    except UnicodeEncodeError:  # lone surrogates: one replacement character each keeps the offsets
        arr = pa.array([None if t is None else _SURROGATE.sub("\ufffd", t) for t in texts], pa.string())
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    if arr.offset:
        arr = pa.concat_arrays([arr])
    return arr


@lru_cache(maxsize=1)
def _pair_table() -> np.ndarray:
    """Class of a character from its first two UTF-8 bytes (``b0 << 8 | b1``): exact for 1- and
    2-byte characters; ``_LONG`` for 3- and 4-byte ones, which are looked up by code point."""
    chars = _char_table()
    table = np.full(0x10000, _LONG, dtype=np.uint8)
    b0 = np.arange(0x10000) >> 8
    b1 = np.arange(0x10000) & 0xFF
    table[b0 < 0x80] = chars[b0[b0 < 0x80]]
    two = (b0 >= 0xC0) & (b0 < 0xE0)
    table[two] = chars[((b0[two] & 0x1F) << 6) | (b1[two] & 0x3F)]
    return table


@lru_cache(maxsize=1)
def _space_chars() -> str:
    return "".join(chr(c) for c in np.flatnonzero(_char_table()[:0x10000] >= _SPACE).tolist())


def tokenize(texts: Sequence[str] | pa.StringArray) -> Tokens:
    """The tokens of every text of the batch, with their char offsets and segments, in one pass."""
    arr = _to_arrow(texts)
    n_texts = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=n_texts + 1).astype(np.int64)
    n_bytes = int(offsets[-1] - offsets[0])
    if n_bytes:
        data = np.frombuffer(bufs[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    else:
        data = np.zeros(0, dtype=np.uint8)
    offsets -= offsets[0]
    pos = np.flatnonzero((data & 0xC0) != 0x80)  # byte position of every character
    padded = np.empty(n_bytes + 4, dtype=np.uint8)
    padded[:n_bytes] = data
    padded[n_bytes:] = 0
    key = (padded[pos].astype(np.uint16) << 8) | padded[pos + 1]
    cls = _pair_table()[key]
    long = np.flatnonzero(cls == _LONG)
    if len(long):  # 3- and 4-byte characters (ZWNJ, quotes, dashes, emoji): by code point
        p = pos[long]
        b0, b1, b2 = (padded[p + i].astype(np.int64) for i in range(3))
        cp = np.where(b0 < 0xF0, ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F), 0x10000)
        cls[long] = _char_table()[cp]
    text_char = np.searchsorted(pos, offsets)  # char index where each text starts, and the total
    n_chars = len(pos)
    first = np.zeros(n_chars + 1, dtype=bool)
    first[text_char] = True  # a text starts here (or the batch ends)
    word = cls == _WORD
    dots = np.flatnonzero(key == 0xDB94)  # ۔ between two letters of one text: an abbreviation (پی۔ٹی۔آئی)
    dots = dots[(dots > 0) & (dots < n_chars - 1)]
    if len(dots):
        inner = word[dots - 1] & word[dots + 1] & ~first[dots] & ~first[dots + 1]
        word[dots[inner]] = True
    is_tok = cls < _SPACE
    inside = np.zeros(n_chars + 1, dtype=bool)  # char i and char i - 1 are word chars of one text
    inside[1:-1] = word[1:] & word[:-1]
    inside &= ~first
    start = np.flatnonzero(is_tok & ~inside[:-1])
    end = np.flatnonzero(is_tok & ~inside[1:]) + 1
    doc = np.searchsorted(text_char, start, side="right") - 1
    # Token strings: each token's bytes up to the next token, i.e. with the blanks after it, which
    # are trimmed on the distinct values only; a newline among those blanks ends a segment.
    str_off = np.append(pos[start], n_bytes).astype(np.int32)
    strings = pa.StringArray.from_buffers(len(start), pa.py_buffer(str_off), pa.py_buffer(data))
    raw = pc.dictionary_encode(strings)
    raw_types = raw.dictionary
    trimmed = pc.dictionary_encode(pc.utf8_rtrim(raw_types, characters=_space_chars()))
    types = trimmed.dictionary
    raw_id = raw.indices.to_numpy().astype(np.int64)
    type_id = trimmed.indices.to_numpy().astype(np.int64)[raw_id]
    newline_after = pc.match_substring_regex(raw_types, f"[{_NEWLINES}]").to_numpy(zero_copy_only=False)
    final = pc.is_in(types, value_set=pa.array(list(FINAL_PUNCT))).to_numpy(zero_copy_only=False)
    brk = np.ones(len(start), dtype=bool)
    if len(start) > 1:
        brk[1:] = (doc[1:] != doc[:-1]) | newline_after[raw_id[:-1]] | final[type_id[:-1]]
    return Tokens(
        doc=doc,
        start=start - text_char[doc],
        end=end - text_char[doc],
        segment=np.cumsum(brk) - 1,
        is_word=word[start],
        type_id=type_id,
        types=types,
        n_texts=n_texts,
    )


# ---------------------------------------------------------------------------------------------
# Features: properties of one word, at an offset from the tagged token

_URDU_WORD = re.compile(f"^[{LETTERS}\u200c۔]+$").pattern
_DIGITS = "^[0-9\u0660-\u0669\u06f0-\u06f9]+$"
_LATIN = r"^[A-Za-z]+$"


def word_properties(types: pa.Array, lists: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """Each template's value for each distinct token (null: the template does not apply).

    ``w`` the token (Latin lower-cased); ``s1``-``s3``/``p2``-``p3`` the last/first letters of an
    Urdu word longer than that; ``shape`` U/D/L/M/P (Urdu, digits, Latin, mixed word, other) with
    the length of an Urdu word (capped at 8); ``g_<list>`` "1" when the token is a word of a name
    of that gazetteer list (or of a title).
    """
    words = pc.utf8_lower(types)
    n = pc.utf8_length(types)
    urdu = pc.match_substring_regex(types, _URDU_WORD)
    digits = pc.match_substring_regex(types, _DIGITS)
    latin = pc.match_substring_regex(types, _LATIN)
    wordy = pc.match_substring_regex(types, f"^[{_WORD_CHARS}۔]+$")
    null = pa.scalar(None, pa.string())
    length = pc.cast(pc.min_element_wise(n, 8), pa.string())
    shape = pc.if_else(
        urdu,
        pc.binary_join_element_wise("U", length, ""),
        pc.if_else(digits, "D", pc.if_else(latin, "L", pc.if_else(wordy, "M", "P"))),
    )
    out: dict[str, pa.Array] = {"w": words, "shape": shape}
    for k in (1, 2, 3):
        out[f"s{k}"] = pc.if_else(pc.and_(urdu, pc.greater(n, k)), pc.utf8_slice_codeunits(types, -k), null)
    for k in (2, 3):
        out[f"p{k}"] = pc.if_else(pc.and_(urdu, pc.greater(n, k)), pc.utf8_slice_codeunits(types, 0, k), null)
    for name in LIST_NAMES:
        out[f"g_{name}"] = pc.if_else(pc.is_in(types, value_set=lists[name]), "1", null)
    return out


@dataclass(frozen=True)
class NerModel:
    """A saved window tagger: per offset and template, a weight row (one per class) for each value.

    Row layout of ``weights[o]``: the templates in order, each its vocabulary then one row for an
    unknown or missing value; then the padding row (the window is past the segment's edge) and a
    zero row. ``active[o, t]`` says whether template ``t`` is used at offset ``offsets[o]``.
    """

    offsets: tuple[int, ...]
    templates: tuple[str, ...]
    vocabs: dict[str, pa.StringArray]
    lists: dict[str, pa.StringArray]
    weights: np.ndarray  # (n_offsets, n_rows, n_classes) float32
    bias: np.ndarray  # (n_classes,) float32
    transitions: np.ndarray | None  # (n_classes, n_classes) float32 for a CRF, else None
    meta: dict

    @property
    def bases(self) -> np.ndarray:
        sizes = [len(self.vocabs[t]) + 1 for t in self.templates]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    @property
    def n_rows(self) -> int:
        return int(self.bases[-1]) + 2

    @property
    def pad_row(self) -> int:
        return self.n_rows - 2

    @property
    def zero_row(self) -> int:
        return self.n_rows - 1

    def type_rows(self, types: pa.Array) -> np.ndarray:
        """``(n_types + 1, n_templates)`` weight rows of each distinct token; the last line is the
        padding pseudo-token (its padding row under the first template, zero rows elsewhere)."""
        props = word_properties(types, self.lists)
        bases = self.bases
        rows = np.empty((len(types) + 1, len(self.templates)), dtype=np.int64)
        for t, name in enumerate(self.templates):
            idx = pc.index_in(props[name], value_set=self.vocabs[name])
            unknown = len(self.vocabs[name])
            rows[:-1, t] = bases[t] + pc.fill_null(idx, unknown).to_numpy(zero_copy_only=False)
        rows[-1, :] = self.zero_row
        rows[-1, 0] = self.pad_row
        return rows

    def neighbours(self, tokens: Tokens) -> np.ndarray:
        """``(n_offsets, n_tokens)``: the type id of the token at each offset, or the padding id."""
        n = len(tokens.type_id)
        pad = len(tokens.types)
        out = np.full((len(self.offsets), n), pad, dtype=np.int64)
        for k, o in enumerate(self.offsets):
            if o == 0:
                out[k] = tokens.type_id
            elif o > 0 and n > o:
                same = tokens.segment[o:] == tokens.segment[:-o]
                out[k, :-o] = np.where(same, tokens.type_id[o:], pad)
            elif o < 0 and n > -o:
                same = tokens.segment[:o] == tokens.segment[-o:]
                out[k, -o:] = np.where(same, tokens.type_id[:o], pad)
        return out

    @cached_property
    def _by_row(self) -> np.ndarray:
        """``(n_rows, n_offsets * n_classes)``: a row's weights at every offset, in one line."""
        return np.ascontiguousarray(self.weights.transpose(1, 0, 2).reshape(self.n_rows, -1))

    @cached_property
    def _known(self) -> np.ndarray:
        """The score table (as ``type_table``) of every word of the ``w`` vocabulary, computed once."""
        vocab = self.vocabs[self.templates[0]]
        return self._by_row[self.type_rows(vocab)[:-1]].sum(axis=1)

    def type_table(self, types: pa.Array) -> np.ndarray:
        """``(n_types + 1, n_offsets * n_classes)``: what each distinct token (and, last, the padding
        pseudo-token) adds to the scores of the token at each offset from it. Words of the ``w``
        vocabulary come from a table computed once; only the others go through ``word_properties``."""
        known_id = pc.index_in(types, value_set=self.vocabs[self.templates[0]])
        known = known_id.is_valid().to_numpy(zero_copy_only=False)
        out = np.empty((len(types) + 1, self._by_row.shape[1]), dtype=np.float32)
        out[:-1][known] = self._known[known_id.filter(known_id.is_valid()).to_numpy()]
        others = np.flatnonzero(~known)
        rows = self.type_rows(types.take(pa.array(others)))
        out[others] = self._by_row[rows[:-1]].sum(axis=1)
        out[-1] = self._by_row[rows[-1]].sum(axis=0)
        return out

    def scores(self, tokens: Tokens) -> np.ndarray:
        """``(n_tokens, n_classes)`` linear scores of every token of the batch."""
        table = self.type_table(tokens.types)
        c = len(CLASSES)
        total = np.tile(self.bias, (len(tokens.type_id), 1))
        for k, nb in enumerate(self.neighbours(tokens)):
            # one class-score row is 16 bytes: gathered as one complex128, added as float32
            part = np.ascontiguousarray(table[:, k * c : (k + 1) * c]).view(np.complex128).ravel()
            total += part.take(nb).view(np.float32).reshape(-1, c)
        return total

    def save(self, path: Path) -> None:
        """One compressed ``.npz`` of plain arrays (no pickle)."""

        def text(lines) -> np.ndarray:
            return np.frombuffer("\n".join(lines).encode(), dtype=np.uint8)

        meta = {**self.meta, "offsets": list(self.offsets), "templates": list(self.templates), "classes": CLASSES}
        arrays = {
            "weights": self.weights.astype(np.float16),
            "bias": self.bias.astype(np.float32),
            "meta": text([json.dumps(meta, ensure_ascii=False, sort_keys=True)]),
        }
        if self.transitions is not None:
            arrays["transitions"] = self.transitions.astype(np.float32)
        for name in self.templates:
            arrays[f"vocab_{name}"] = text(self.vocabs[name].to_pylist())
        for name in LIST_NAMES:
            arrays[f"list_{name}"] = text(self.lists[name].to_pylist())
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> NerModel:
        def strings(raw: np.ndarray) -> pa.StringArray:
            s = raw.tobytes().decode()
            return pa.array(s.split("\n") if s else [], pa.string())

        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            templates = tuple(meta["templates"])
            model = cls(
                offsets=tuple(meta["offsets"]),
                templates=templates,
                vocabs={name: strings(z[f"vocab_{name}"]) for name in templates},
                lists={name: strings(z[f"list_{name}"]) for name in LIST_NAMES},
                weights=z["weights"].astype(np.float32),
                bias=z["bias"].astype(np.float32),
                transitions=z["transitions"].astype(np.float32) if "transitions" in z.files else None,
                meta=meta,
            )
        if tuple(meta["classes"]) != CLASSES:
            raise ValueError(f"{path.name}: classes {meta['classes']} are not {CLASSES}")
        expected = (len(model.offsets), model.n_rows, len(CLASSES))
        if model.weights.shape != expected:
            raise ValueError(f"{path.name}: weights of shape {model.weights.shape}, expected {expected}")
        return model

    def decode(self, tokens: Tokens) -> tuple[np.ndarray, np.ndarray]:
        """The class of every token (punctuation is O) and, for tokens not O, its probability:
        the softmax of its scores (a per-token model), or its marginal probability in its segment
        (a CRF, by forward-backward). 1.0 is left for O tokens, whose probability nobody reads."""
        scores = self.scores(tokens)
        if self.transitions is None:
            labels = scores.argmax(axis=1)
            labels[~tokens.is_word] = 0
            probs = np.ones(len(labels), dtype=np.float32)
            tagged = np.flatnonzero(labels)
            s = scores[tagged]
            s -= s.max(axis=1, keepdims=True)
            np.exp(s, out=s)
            probs[tagged] = s[np.arange(len(tagged)), labels[tagged]] / s.sum(axis=1)
            return labels, probs
        if not len(scores):
            return np.zeros(0, dtype=np.int64), np.ones(0, dtype=np.float32)
        steps = _Steps.of(tokens.segment)
        emit = steps.lay(scores)
        laid = _viterbi(steps, emit, self.transitions)
        probs = np.ones(len(laid), dtype=np.float32)
        if laid.any():
            marg = _marginals(steps, emit, self.transitions)
            tagged = np.flatnonzero(laid)
            probs[tagged] = marg[laid[tagged], tagged]
        labels = laid[steps.dest].astype(np.int64)
        labels[~tokens.is_word] = 0
        return labels, probs[steps.dest]


#: A chain (CRF) is decoded over pieces of at most this many tokens (a 1 MB text without punctuation
#: is one segment): the loops are over positions in a piece, vectorised over all pieces.
VITERBI_PIECE = 64


@dataclass(frozen=True)
class _Steps:
    """Tokens laid out step-major: every piece's first token, then every second token, ...; within
    a step, pieces ranked longest first, so the pieces still running at a step are a prefix of it."""

    dest: np.ndarray  # (n,) the token's place in the layout
    block: np.ndarray  # (n_steps + 1,) where each step's tokens start

    @classmethod
    def of(cls, segment: np.ndarray) -> _Steps:
        n = len(segment)
        brk = np.ones(n, dtype=bool)
        brk[1:] = segment[1:] != segment[:-1]
        seg_start = np.flatnonzero(brk)[np.cumsum(brk) - 1]
        col = (np.arange(n) - seg_start) % VITERBI_PIECE
        piece = np.cumsum(col == 0) - 1
        length = np.bincount(piece)
        rank = np.empty(len(length), dtype=np.int64)
        rank[np.argsort(-length, kind="stable")] = np.arange(len(length))
        block = np.concatenate([[0], np.cumsum(np.bincount(col))])
        return cls(block[col] + rank[piece], block)

    def lay(self, scores: np.ndarray) -> np.ndarray:
        """``(n, c)`` token rows as ``(c, n)`` in the layout."""
        laid = np.empty(scores.shape, dtype=np.float32)
        if scores.shape[1] == 4:  # one row of four float32 moved as one 16-byte item
            laid.view(np.complex128)[self.dest] = np.ascontiguousarray(scores, dtype=np.float32).view(np.complex128)
        else:
            laid[self.dest] = scores
        return np.ascontiguousarray(laid.T)

    def step(self, t: int) -> slice:
        return slice(int(self.block[t]), int(self.block[t + 1]))


def viterbi(scores: np.ndarray, segment: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """The best label sequence of every segment under ``scores`` (emissions) and ``transitions``."""
    if not len(scores):
        return np.zeros(0, dtype=np.int64)
    steps = _Steps.of(segment)
    return _viterbi(steps, steps.lay(scores), transitions)[steps.dest].astype(np.int64)


def _viterbi(steps: _Steps, emit: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    c = emit.shape[0]
    trans = np.ascontiguousarray(transitions.T)[:, :, None]  # trans[to, from]
    delta = emit[:, steps.step(0)].copy()  # (labels, pieces)
    final = np.empty_like(delta)
    backs = []
    for t in range(1, len(steps.block) - 1):
        now = steps.step(t)
        m = now.stop - now.start
        final[:, m : delta.shape[1]] = delta[:, m:]
        live = delta[:, :m]
        best = live[0] + trans[:, 0]  # (to, m): the best score so far over the "from" labels
        back = np.zeros((c, m), dtype=np.int8)
        for k in range(1, c):
            cand = live[k] + trans[:, k]
            better = cand > best
            np.maximum(best, cand, out=best)
            np.copyto(back, np.int8(k), where=better)
        backs.append(back)
        delta = best + emit[:, now]
    final[:, : delta.shape[1]] = delta
    out = np.empty(emit.shape[1], dtype=np.int8)
    cur = final.argmax(axis=0)
    for t in range(len(steps.block) - 2, -1, -1):
        now = steps.step(t)
        m = now.stop - now.start
        out[now] = cur[:m]
        if t:
            cur[:m] = backs[t - 1][cur[:m], np.arange(m)]
    return out


def _marginals(steps: _Steps, emit: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """``(c, n)`` in the layout: each token's label probabilities given its whole segment piece
    (forward-backward, rescaled at every step)."""
    p = np.exp(emit - emit.max(axis=0))
    e = np.exp(transitions.astype(np.float64)).astype(np.float32)  # e[from, to]
    alpha = np.empty_like(p)
    first = steps.step(0)
    alpha[:, first] = p[:, first] / p[:, first].sum(axis=0)
    n_steps = len(steps.block) - 1
    for t in range(1, n_steps):
        prev, now = steps.step(t - 1), steps.step(t)
        m = now.stop - now.start
        a = (e.T @ alpha[:, prev.start : prev.start + m]) * p[:, now]
        alpha[:, now] = a / a.sum(axis=0)
    beta = np.ones_like(p)
    for t in range(n_steps - 1, 0, -1):
        prev, now = steps.step(t - 1), steps.step(t)
        m = now.stop - now.start
        b = e @ (beta[:, now] * p[:, now])
        beta[:, prev.start : prev.start + m] = b / b.sum(axis=0)
    marg = alpha * beta
    return marg / marg.sum(axis=0)


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> NerModel:
    """The shipped model, loaded once per process."""
    return NerModel.load(path)


Span = tuple[int, int, str, float]


def spans_of(tokens: Tokens, labels: np.ndarray, probs: np.ndarray) -> list[list[Span]]:
    """Maximal runs of one class inside a segment, as ``(start, end, type, lowest probability)``."""
    idx = np.flatnonzero(labels > 0)
    if not len(idx):
        return [[] for _ in range(tokens.n_texts)]
    new = np.ones(len(idx), dtype=bool)
    new[1:] = (
        (idx[1:] != idx[:-1] + 1)
        | (labels[idx[1:]] != labels[idx[:-1]])
        | (tokens.segment[idx[1:]] != tokens.segment[idx[:-1]])
    )
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [len(idx)]]) - 1
    conf = np.minimum.reduceat(probs[idx], first).astype(np.float64)
    names = np.array(CLASSES, dtype=object)[labels[idx[first]]]
    spans = list(
        zip(
            tokens.start[idx[first]].tolist(),
            tokens.end[idx[last]].tolist(),
            names.tolist(),
            np.round(conf, 4).tolist(),
        )
    )
    bounds = np.concatenate([[0], np.cumsum(np.bincount(tokens.doc[idx[first]], minlength=tokens.n_texts))]).tolist()
    return [spans[a:b] for a, b in itertools.pairwise(bounds)]


def predict_spans(texts: Sequence[str] | pa.StringArray) -> list[list[Span]]:
    """For each text, the spans the model tags: ``(char start, char end, type, confidence)``.

    Types are ``person``/``location``/``organization``; confidence is the lowest probability the
    model gave a token of the span. Spans are in text order, on whole words, never overlapping.
    Texts are expected clean and normalized (``etl.text.normalize``), as the lake holds them.
    """
    if not len(texts):
        return []
    model = load_model()
    tokens = tokenize(texts)
    labels, probs = model.decode(tokens)
    return spans_of(tokens, labels, probs)


def model_metadata() -> dict:
    """The shipped model's metadata: training corpora, features, scores."""
    return dict(load_model().meta)


if __name__ == "__main__":  # python -m etl.enrich.ner < text: the spans of stdin
    text = sys.stdin.read()
    for s, e, t, p in predict_spans([text])[0]:
        print(f"{s}\t{e}\t{t}\t{p:.3f}\t{text[s:e]}")


__all__ = ["CLASSES", "MODEL_VERSION", "NerModel", "Tokens", "load_model", "predict_spans", "tokenize"]
