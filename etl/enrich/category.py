"""Article category: the source's own label mapped onto one taxonomy, else a light model's guess.

Sources spell one section many ways (``world``/``international``, ``miscleneous``/``misc``,
``science-technology``/``Science & Technology``, ``Showbiz``/``entertainment``). The table
``rules/categories.tsv`` maps each known spelling to one slug of ``CATEGORIES``; matching ignores
case, spacing and punctuation. A label the table does not know maps to ``None`` and is logged
once, never guessed, so a new spelling is added to the table by a person.

Articles without a mappable label get a prediction from a TF-IDF + multinomial logistic-regression
model trained by ``bench/train_category.py`` on the labelled corpora. scikit-learn is needed only
to train it: the saved model is plain arrays (vocabulary, idf, coefficients) and prediction here
is numpy alone, batched over many articles at once.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.rule_files import files_digest, numbered_lines
from etl.text.normalize import LETTERS, normalize

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
RULES = HERE / "rules" / "categories.tsv"

#: The canonical taxonomy. ``national`` (a paper's home news section) and ``misc`` (what sources
#: file as miscellaneous) come only from labels: no labelled corpus trains them, so the model never
#: predicts them.
CATEGORIES: tuple[str, ...] = (
    "politics",
    "world",
    "business",
    "sports",
    "entertainment",
    "science-tech",
    "health",
    "offbeat",
    "national",
    "misc",
)

#: Version of the model (its features and training recipe); the model file is named after it.
MODEL_VERSION = "tfidf-lr-1"
#: The model, the revision of the term extraction that feeds it (2: trimmed before splitting) and
#: the label table together: what the category columns depend on.
CATEGORY_VERSION = f"{MODEL_VERSION}.terms2.{files_digest([RULES])}"
MODEL_PATH = HERE / "models" / f"category-{MODEL_VERSION}.npz"

#: Only the first this-many characters of a body are read: the topic is set in the opening
#: paragraphs, and long bodies would otherwise dominate the cost.
MAX_BODY_CHARS = 3000

# A separator is anything but an Urdu letter, ZWNJ or an ASCII letter (RE2 syntax, for Arrow).
_NOT_WORD = "[^a-zA-Z\\x{200c}" + "".join("-" if ch == "-" else f"\\x{{{ord(ch):04x}}}" for ch in LETTERS) + "]+"


# ---------------------------------------------------------------------------------------------
# The source's own label


def label_key(raw: str) -> str:
    """The matching key of a label: Urdu-normalized, case-folded, letters and digits only.

    ``Science & Technology``, ``science-technology`` and ``science technology`` share one key.
    """
    return "".join(ch for ch in normalize(raw).casefold() if ch.isalnum())


@lru_cache(maxsize=1)
def label_table() -> dict[str, str]:
    """``label_key(raw) -> canonical slug`` from ``rules/categories.tsv``; checked when loaded."""
    table: dict[str, str] = {}
    for no, line in numbered_lines(RULES):
        raw, _, slug = line.partition("\t")
        slug = slug.strip()
        if slug not in CATEGORIES:
            raise ValueError(f"{RULES.name}:{no}: {slug!r} is not one of CATEGORIES")
        key = label_key(raw)
        if not key:
            raise ValueError(f"{RULES.name}:{no}: label {raw!r} has no letters")
        if table.get(key, slug) != slug:
            raise ValueError(f"{RULES.name}:{no}: {raw!r} maps to both {table[key]!r} and {slug!r}")
        table[key] = slug
    return table


_reported: set[str] = set()


@lru_cache(maxsize=4096)
def _lookup(raw: str) -> str | None:
    # A label is a word or three; a longer value is a broken field (a row spilled into the cell).
    if len(raw) > 60:
        return None
    key = label_key(raw)
    return label_table().get(key) if key else None


def canonical_category(raw: str | None) -> str | None:
    """The canonical slug of a source's label, or ``None`` when absent or unknown.

    An unknown label is logged once per process (with its first 60 characters), not guessed.
    """
    if raw is None or not raw.strip():
        return None
    slug = _lookup(raw.strip())
    if slug is None and raw not in _reported:
        _reported.add(raw)
        log.warning("unknown category label %r: not in %s, left unmapped", raw[:60], RULES.name)
    return slug


def unmapped_labels(raws: Iterable[str | None]) -> dict[str, int]:
    """How often each non-empty label that has no canonical slug occurs, most frequent first."""
    counts = Counter(r for r in raws if r is not None and r.strip() and _lookup(r.strip()) is None)
    return dict(counts.most_common())


# ---------------------------------------------------------------------------------------------
# The model


def article_words(headlines: Sequence[str | None], bodies: Sequence[str | None]) -> tuple[np.ndarray, pa.Array]:
    """The words of a batch of articles, in order, as ``(article index, word)`` pairs: the runs of
    Urdu letters (or of ASCII letters, lower-cased) of headline + body opening. ``article_terms``
    adds the pairs of adjacent words."""
    if len(headlines) != len(bodies):
        raise ValueError(f"{len(headlines)} headlines for {len(bodies)} bodies")
    heads = pc.fill_null(pa.array(headlines, pa.string()), "")
    texts = pc.utf8_slice_codeunits(pc.fill_null(pa.array(bodies, pa.string()), ""), 0, MAX_BODY_CHARS)
    text = pc.ascii_lower(pc.binary_join_element_wise(heads, texts, "\n"))
    return word_runs(text)


@lru_cache(maxsize=1)
def _word_chars() -> np.ndarray:
    """Per code point of the Basic Multilingual Plane: whether it is a word character (Urdu
    letter, ZWNJ or ASCII letter: what ``_NOT_WORD`` does not match). No character past the BMP is."""
    word = re.compile(f"[a-zA-Z\u200c{LETTERS}]")
    return np.array([word.match(chr(cp)) is not None for cp in range(0x10000)], dtype=bool)


@lru_cache(maxsize=1)
def _two_byte_table() -> np.ndarray:
    """Indexed by a byte and the next one (``first << 8 | second``): whether the first byte starts a
    word character of one or two bytes (an ASCII letter, or a two-byte character whose bytes
    these are). Continuation bytes and the leads of longer characters give False."""
    words = _word_chars()
    table = np.zeros((256, 256), dtype=bool)
    table[:0x80, :] = words[:0x80, None]
    first, second = np.meshgrid(np.arange(0xC0, 0xE0), np.arange(0x80, 0xC0), indexing="ij")
    table[first, second] = words[((first & 0x1F) << 6) | (second & 0x3F)]
    return table.reshape(-1)


def word_runs(text: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """The maximal runs of word characters of each string of ``text``, in order, as ``(string
    index, word)``: the strings split wherever ``_NOT_WORD`` matches, empty pieces left out.

    Read from the strings' UTF-8 bytes with numpy (a byte and the next one say whether a one- or
    two-byte word character starts there; three-byte characters are decoded where they start),
    several times faster than a regex replace and a whitespace split over the same text.
    """
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    n = len(text)
    if n > _RUN_BATCH:  # a bounded amount of text at once: the byte arrays below are a few times its size
        parts = [_word_runs(text.slice(i, _RUN_BATCH)) for i in range(0, n, _RUN_BATCH)]
        return (
            np.concatenate([doc + i for (doc, _), i in zip(parts, range(0, n, _RUN_BATCH))]),
            pa.concat_arrays([words for _, words in parts]),
        )
    return _word_runs(text)


#: Strings that ``word_runs`` reads at once.
_RUN_BATCH = 1024


def _word_runs(text: pa.Array) -> tuple[np.ndarray, pa.Array]:
    text = text.cast(pa.large_string())
    n = len(text)
    if n == 0:
        return np.zeros(0, dtype=np.int64), pa.array([], pa.string())
    _, offsets_buf, data_buf = text.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[text.offset : text.offset + n + 1]
    lo, hi = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buf, dtype=np.uint8)[lo:hi] if data_buf is not None else np.zeros(0, np.uint8)
    offsets = offsets - lo
    size = len(data)
    pair = data.astype(np.uint16) << 8
    pair[:-1] |= data[1:]
    word_at = _two_byte_table()[pair]  # where a one- or two-byte word character starts
    in_word = word_at.copy()
    in_word[1:] |= word_at[:-1] & (data[:-1] >= 0xC0)  # the second byte of a two-byte one
    three = np.flatnonzero((data >= 0xE0) & (data < 0xF0))  # three-byte characters (four: none is a word's)
    if len(three):
        three = three[three + 2 < size]
        code = ((data[three] & 0x0F).astype(np.int64) << 12) | ((data[three + 1] & 0x3F).astype(np.int64) << 6)
        code |= data[three + 2] & 0x3F
        three = three[_word_chars()[code]]
        for k in range(3):
            in_word[three + k] = True
    boundary = np.zeros(size + 1, dtype=bool)  # where a string starts (or all of them end)
    boundary[offsets] = True
    before = np.zeros(size, dtype=bool)
    before[1:] = in_word[:-1]
    before &= ~boundary[:size]
    after = np.zeros(size, dtype=bool)
    after[:-1] = in_word[1:]
    after &= ~boundary[1:]
    starts = np.flatnonzero(in_word & ~before)
    ends = np.flatnonzero(in_word & ~after) + 1
    doc = np.searchsorted(offsets, starts, side="right") - 1
    word_offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(ends - starts, out=word_offsets[1:])
    words = pa.LargeStringArray.from_buffers(
        len(starts), pa.py_buffer(word_offsets), pa.py_buffer(np.ascontiguousarray(data[in_word]))
    )
    return doc.astype(np.int64), words.cast(pa.string())


def article_terms(headlines: Sequence[str | None], bodies: Sequence[str | None]) -> tuple[np.ndarray, pa.Array]:
    """The model's terms of a batch of articles, as ``(article index, term)`` pairs.

    Terms are the words of headline + body opening (``article_words``: runs of Urdu letters, or of
    ASCII letters lower-cased), then each pair of adjacent words. Tokenising runs in Arrow's
    vectorised string kernels, not a Python loop. Training (``bench/train_category.py``) and
    prediction both use these terms, so their features cannot drift apart (prediction finds the
    pairs by word ids, ``CategoryModel.term_ids``, which gives the same terms).
    """
    doc, flat = article_words(headlines, bodies)
    same = doc[1:] == doc[:-1]
    pairs = (
        pc.binary_join_element_wise(flat[:-1], flat[1:], " ").filter(pa.array(same))
        if len(doc) > 1
        else pa.array([], pa.string())
    )
    return np.concatenate([doc, doc[1:][same]]), pa.concat_arrays([flat, pairs])


def features(headline: str | None, body: str) -> list[str]:
    """The terms of one article (for inspection and tests); ``article_terms`` does batches."""
    return article_terms([headline], [body])[1].to_pylist()


@dataclass(frozen=True)
class CategoryModel:
    """A saved linear text classifier: ``softmax(l2norm(tf_sublinear * idf) @ coef + intercept)``."""

    terms: pa.StringArray  # (n_terms,) the vocabulary, in column order
    idf: np.ndarray  # (n_terms,) float32
    coef: np.ndarray  # (n_terms, n_classes) float32
    intercept: np.ndarray  # (n_classes,) float32
    classes: tuple[str, ...]
    meta: dict

    @cached_property
    def coef_by_class(self) -> np.ndarray:
        """``coef`` transposed and contiguous: one class's weights are gathered from one row."""
        return np.ascontiguousarray(self.coef.T)

    def save(self, path: Path) -> None:
        """Write the model as one compressed ``.npz`` of plain arrays (no pickle)."""
        np.savez_compressed(
            path,
            terms=np.frombuffer("\n".join(self.terms.to_pylist()).encode(), dtype=np.uint8),
            idf=self.idf.astype(np.float16),
            coef=self.coef.astype(np.float16),
            intercept=self.intercept.astype(np.float32),
            classes=np.frombuffer("\n".join(self.classes).encode(), dtype=np.uint8),
            meta=np.frombuffer(json.dumps(self.meta, ensure_ascii=False, sort_keys=True).encode(), dtype=np.uint8),
        )

    @classmethod
    def load(cls, path: Path) -> CategoryModel:
        with np.load(path, allow_pickle=False) as z:
            terms = z["terms"].tobytes().decode().split("\n")
            model = cls(
                terms=pa.array(terms, pa.string()),
                idf=z["idf"].astype(np.float32),
                coef=z["coef"].astype(np.float32),
                intercept=z["intercept"].astype(np.float32),
                classes=tuple(z["classes"].tobytes().decode().split("\n")),
                meta=json.loads(z["meta"].tobytes().decode()),
            )
        if model.coef.shape != (len(terms), len(model.classes)) or model.idf.shape != (len(terms),):
            raise ValueError(f"{path.name}: array shapes do not agree with {len(terms)} terms")
        unknown = set(model.classes) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"{path.name}: classes {sorted(unknown)} are not in CATEGORIES")
        return model

    @cached_property
    def _word_index(self) -> tuple[pa.Array, np.ndarray, pa.Array, np.ndarray]:
        """The vocabulary by words: the words its terms are made of; per word, its own term
        (-1: none); the sorted word-id pairs of the two-word terms, and their terms."""
        words: dict[str, int] = {}
        unigram: dict[int, int] = {}
        pair_keys: list[tuple[int, int]] = []
        pair_terms: list[int] = []
        for t, term in enumerate(self.terms.to_pylist()):
            parts = term.split(" ")
            if len(parts) == 1:
                unigram.setdefault(words.setdefault(term, len(words)), t)
            elif len(parts) == 2 and all(parts):  # a term of 3+ words, or with an empty one, is never met
                pair_keys.append((words.setdefault(parts[0], len(words)), words.setdefault(parts[1], len(words))))
                pair_terms.append(t)
        own = np.full(len(words) + 1, -1, dtype=np.int64)  # the last entry: a word not in the vocabulary
        for w, t in unigram.items():
            own[w] = t
        keys = np.array([a * len(words) + b for a, b in pair_keys], dtype=np.int64)
        keys, first = np.unique(keys, return_index=True)  # a repeated term: its first column, as index_in
        return (
            pa.array(list(words), pa.string()),
            own,
            pa.array(keys, pa.int64()),
            np.array(pair_terms, dtype=np.int64)[first],
        )

    @cached_property
    def _pair_ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Per word id (and a last entry for a word not in the vocabulary): whether it opens a
        two-word term, whether it closes one."""
        words, _, keys, _ = self._word_index
        opens = np.zeros(len(words) + 1, dtype=bool)
        closes = np.zeros(len(words) + 1, dtype=bool)
        pairs = keys.to_numpy()
        opens[pairs // max(len(words), 1)] = True
        closes[pairs % max(len(words), 1)] = True
        return opens, closes

    def term_ids(self, headlines: Sequence[str | None], bodies: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(article index, term column)`` of every vocabulary term the articles hold, one per
        occurrence: the terms of ``article_terms`` found in ``terms``, in another order. Word pairs
        are looked up by their two word ids, without building the pair strings."""
        doc, flat = article_words(headlines, bodies)
        words, own, pair_keys, pair_terms = self._word_index
        wid = pc.fill_null(pc.index_in(flat, value_set=words), -1).to_numpy().astype(np.int64)
        single = own[wid]  # wid -1 reads the last entry, -1
        opens, closes = self._pair_ends
        both = (doc[1:] == doc[:-1]) & opens[wid[:-1]] & closes[wid[1:]]
        key = wid[:-1][both] * len(words) + wid[1:][both]
        at = pc.fill_null(pc.index_in(pa.array(key, pa.int64()), value_set=pair_keys), -1).to_numpy()
        found = at >= 0
        return (
            np.concatenate([doc[single >= 0], doc[:-1][both][found]]),
            np.concatenate([single[single >= 0], pair_terms[at[found]]]),
        )

    def probabilities(self, headlines: Sequence[str | None], bodies: Sequence[str]) -> np.ndarray:
        """``(n_articles, n_classes)`` class probabilities, one vectorised pass over the batch."""
        n = len(bodies)
        doc, ids = self.term_ids(headlines, bodies)
        n_terms = len(self.terms)
        cells, counts = np.unique(doc * n_terms + ids, return_counts=True)
        doc, term = np.divmod(cells, n_terms)
        weight = (1.0 + np.log(counts)) * self.idf[term]
        norm = np.sqrt(np.bincount(doc, weights=weight * weight, minlength=n))
        weight /= norm[doc]
        scores = np.tile(self.intercept.astype(np.float64), (n, 1))
        for c, column in enumerate(self.coef_by_class):
            scores[:, c] += np.bincount(doc, weights=weight * column[term], minlength=n)
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> CategoryModel:
    """The saved model, loaded once per process."""
    return CategoryModel.load(path)


def predict_categories(headlines: Sequence[str | None], bodies: Sequence[str]) -> list[tuple[str, float]]:
    """``(slug, probability)`` of the most likely category of each article, in input order.

    Inputs are the clean headline (``None`` allowed) and clean body of each article. An article
    with no known term gets the class the model leans to a priori, at a low probability.
    """
    if not len(bodies):
        return []
    model = load_model()
    proba = model.probabilities(headlines, bodies)
    best = proba.argmax(axis=1)
    top = proba[np.arange(len(best)), best]
    return [(model.classes[b], float(p)) for b, p in zip(best.tolist(), top.tolist())]


def model_metadata() -> dict:
    """The saved model's metadata: version, training corpora and held-out scores."""
    return dict(load_model().meta)


__all__ = [
    "CATEGORIES",
    "MODEL_VERSION",
    "canonical_category",
    "predict_categories",
    "unmapped_labels",
    "features",
    "label_key",
    "CategoryModel",
    "load_model",
    "model_metadata",
]
