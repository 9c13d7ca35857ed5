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
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.text.normalize import LETTERS

HERE = Path(__file__).resolve().parent
#: The shipped model file; ``bench/train_ner.py`` writes it.
MODEL_NAME = "ner-lr-1"
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
_OTHER, _WORD, _SPACE, _NEWLINE = 0, 1, 2, 3
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
    strings: pa.StringArray = field(default_factory=lambda: pa.array([], pa.string()))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _to_arrow(texts: Sequence[str]) -> pa.StringArray:
    try:
        arr = pa.array(texts, pa.string())
    except UnicodeEncodeError:  # lone surrogates: one replacement character each keeps the offsets
        arr = pa.array([None if t is None else _SURROGATE.sub("\ufffd", t) for t in texts], pa.string())
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    if arr.offset:
        arr = pa.concat_arrays([arr])
    return arr


def tokenize(texts: Sequence[str]) -> Tokens:
    """The tokens of every text of the batch, with their char offsets and segments, in one pass."""
    arr = _to_arrow(texts)
    n_texts = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=n_texts + 1).astype(np.int64)
    n_bytes = int(offsets[-1] - offsets[0])
    data = np.frombuffer(bufs[2], dtype=np.uint8)[offsets[0] : offsets[-1]] if n_bytes else np.zeros(0, dtype=np.uint8)
    offsets -= offsets[0]
    lead = (data & 0xC0) != 0x80
    pos = np.flatnonzero(lead)  # byte position of every character
    padded = np.concatenate([data, np.zeros(3, dtype=np.uint8)])
    b0 = padded[pos].astype(np.int32)
    b1 = padded[pos + 1].astype(np.int32) & 0x3F
    b2 = padded[pos + 2].astype(np.int32) & 0x3F
    cp = np.where(
        b0 < 0x80,
        b0,
        np.where(
            b0 < 0xE0, ((b0 & 0x1F) << 6) | b1, np.where(b0 < 0xF0, ((b0 & 0x0F) << 12) | (b1 << 6) | b2, 0x10000)
        ),
    )
    cls = _char_table()[cp]
    lead_cum = np.concatenate([[0], np.cumsum(lead)])
    text_char = lead_cum[offsets]  # char index where each text starts, and the total at the end
    n_chars = len(pos)
    first = np.zeros(n_chars + 1, dtype=bool)
    first[text_char] = True  # a text starts here (or the batch ends)
    word = cls == _WORD
    # ۔ between two letters of one text is part of an abbreviation (پی۔ٹی۔آئی)
    dots = np.flatnonzero((cp == 0x06D4)[1:-1]) + 1 if n_chars > 2 else np.zeros(0, dtype=np.int64)
    if len(dots):
        inner = word[dots - 1] & word[dots + 1] & ~first[dots] & ~first[dots + 1]
        word[dots[inner]] = True
    is_tok = cls < _SPACE
    prev_word = np.concatenate([[False], word[:-1]]) & ~first[:-1]
    next_word = np.concatenate([word[1:], [False]]) & ~first[1:]
    start = np.flatnonzero(is_tok & ~(word & prev_word))
    end = np.flatnonzero(is_tok & ~(word & next_word)) + 1
    doc = np.searchsorted(text_char, start, side="right") - 1
    # token strings: the token bytes of the batch, packed
    char_of_byte = lead_cum[1:] - 1
    keep = is_tok[char_of_byte] if n_bytes else np.zeros(0, dtype=bool)
    bpos = np.concatenate([pos, [n_bytes]])
    tok_bytes = bpos[end] - bpos[start]
    str_off = np.concatenate([[0], np.cumsum(tok_bytes)]).astype(np.int32)
    strings = pa.StringArray.from_buffers(len(start), pa.py_buffer(str_off), pa.py_buffer(data[keep].tobytes()))
    encoded = pc.dictionary_encode(strings)
    type_id = encoded.indices.to_numpy().astype(np.int64)
    # segments: a new one at a text's first token, after a newline, after sentence-final punctuation
    nl_cum = np.concatenate([[0], np.cumsum(cls == _NEWLINE)])
    brk = np.ones(len(start), dtype=bool)
    if len(start) > 1:
        final = np.isin(cp[start[:-1]], [ord(c) for c in FINAL_PUNCT]) & (end[:-1] - start[:-1] == 1)
        brk[1:] = (doc[1:] != doc[:-1]) | (nl_cum[start[1:]] > nl_cum[end[:-1]]) | final
    return Tokens(
        doc=doc,
        start=start - text_char[doc],
        end=end - text_char[doc],
        segment=np.cumsum(brk) - 1,
        is_word=word[start],
        type_id=type_id,
        types=encoded.dictionary,
        n_texts=n_texts,
        strings=strings,
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

    def scores(self, tokens: Tokens) -> np.ndarray:
        """``(n_tokens, n_classes)`` linear scores of every token of the batch."""
        rows = self.type_rows(tokens.types)
        total = np.tile(self.bias, (len(tokens.type_id), 1))
        for k, nb in enumerate(self.neighbours(tokens)):
            table = self.weights[k][rows].sum(axis=1)  # (n_types + 1, n_classes)
            total += table[nb]
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
        """The class of every token and its probability (softmax of its scores); punctuation is O."""
        scores = self.scores(tokens)
        if self.transitions is None:
            labels = scores.argmax(axis=1)
        else:
            labels = viterbi(scores, tokens.segment, self.transitions)
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        labels[~tokens.is_word] = 0
        return labels, scores[np.arange(len(labels)), labels]


#: Viterbi runs over pieces of at most this many tokens (a 1 MB text without punctuation is one
#: segment): the loop is over positions in a piece, vectorised over all pieces.
VITERBI_PIECE = 64


def viterbi(scores: np.ndarray, segment: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """The best label sequence of every segment under ``scores`` (emissions) and ``transitions``."""
    n, c = scores.shape
    if not n:
        return np.zeros(0, dtype=np.int64)
    brk = np.ones(n, dtype=bool)
    brk[1:] = segment[1:] != segment[:-1]
    seg_start = np.maximum.accumulate(np.where(brk, np.arange(n), 0))
    pos = np.arange(n) - seg_start
    brk |= pos % VITERBI_PIECE == 0
    piece = np.cumsum(brk) - 1
    col = pos % VITERBI_PIECE
    n_pieces = int(piece[-1]) + 1
    width = int(col.max()) + 1
    grid = np.zeros((n_pieces, width, c), dtype=np.float32)
    grid[piece, col] = scores
    length = np.bincount(piece, minlength=n_pieces)
    back = np.zeros((n_pieces, width, c), dtype=np.int8)
    delta = grid[:, 0].copy()
    for t in range(1, width):
        cand = delta[:, :, None] + transitions[None, :, :]  # (pieces, from, to)
        back[:, t] = cand.argmax(axis=1)
        new = cand.max(axis=1) + grid[:, t]
        live = length > t
        delta[live] = new[live]
    best = np.zeros((n_pieces, width), dtype=np.int64)
    best[np.arange(n_pieces), length - 1] = delta.argmax(axis=1)
    for t in range(width - 1, 0, -1):
        inside = length > t
        best[inside, t - 1] = back[inside, t, best[inside, t]]
    return best[piece, col]


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> NerModel:
    """The shipped model, loaded once per process."""
    return NerModel.load(path)


Span = tuple[int, int, str, float]


def spans_of(tokens: Tokens, labels: np.ndarray, probs: np.ndarray) -> list[list[Span]]:
    """Maximal runs of one class inside a segment, as ``(start, end, type, lowest probability)``."""
    out: list[list[Span]] = [[] for _ in range(tokens.n_texts)]
    idx = np.flatnonzero(labels > 0)
    if not len(idx):
        return out
    new = np.ones(len(idx), dtype=bool)
    new[1:] = (
        (idx[1:] != idx[:-1] + 1)
        | (labels[idx[1:]] != labels[idx[:-1]])
        | (tokens.segment[idx[1:]] != tokens.segment[idx[:-1]])
    )
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [len(idx)]]) - 1
    conf = np.minimum.reduceat(probs[idx], first)
    docs = tokens.doc[idx[first]].tolist()
    starts = tokens.start[idx[first]].tolist()
    ends = tokens.end[idx[last]].tolist()
    types = [CLASSES[k] for k in labels[idx[first]].tolist()]
    for d, s, e, t, p in zip(docs, starts, ends, types, np.round(conf.astype(np.float64), 4).tolist()):
        out[d].append((s, e, t, p))
    return out


def predict_spans(texts: Sequence[str]) -> list[list[Span]]:
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
