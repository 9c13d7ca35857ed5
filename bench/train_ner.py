"""Train the entity tagger of ``etl.enrich.ner`` on three Urdu NER corpora, compare learners, save it.

Usage:
    .venv/bin/python bench/train_ner.py [--corpora DIR] [--candidates lr,crf,perceptron] [--no-save]

DIR defaults to ../shared/corpora (beside the repository); its ``ner/`` folder holds the training
corpora (IJCNLP-2008 Urdu, Jahangir et al., UNER), read here into sentences of (token, tag) with
tags mapped onto PERSON/LOCATION/ORGANIZATION (DESIGNATION, DATE, TIME, NUMBER are O). Each token is
normalized with ``etl.text.normalize`` and the sentence re-tokenized by the predictor's own
tokenizer (``etl.enrich.ner.tokenize``), so punctuation glued to a word (``ہے۔``, ``پاکستان،``) is
split off exactly as at run time; a word keeps the tag of the corpus token it came from,
punctuation is O.

Candidates, all on the same features (``etl.enrich.ner.word_properties`` at offsets -2..+2) and all
exported to the same plain-array model, so every score below is computed by the runtime predictor:

* ``lr``: multinomial logistic regression (scikit-learn) over the window features, per token;
* ``crf``: a linear-chain CRF (python-crfsuite, L-BFGS with L1+L2), decoded by Viterbi;
* ``perceptron``: an averaged perceptron over the same features, per token (numpy).

Measured for each: cross-corpus entity P/R/F1 (train on two corpora, test on the third; an entity
is a maximal run of one type, exact span and type), per type, token accuracy; tagging speed of
``predict_spans`` (MB/s of UTF-8 text, one core) over 2,000 clean news bodies (BBC Urdu and the
news_sites CSVs, never VOA or UNTM, the blind test's sources); model size. The chosen learner is
retrained on all three corpora and written to etl/enrich/models/ner-<name>.npz; the measurements go to
bench/results/ner_model.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# one core: numpy's BLAS (the CRF's forward-backward) must not spread over others while timed
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from etl.articles import clean_body
from etl.enrich import ner
from etl.enrich.gazetteers import gazetteer, word_set
from etl.enrich.ner import CLASSES, LIST_NAMES, NerModel, Tokens, tokenize, word_properties
from etl.read.bbc_doc import parse as parse_bbc
from etl.text.normalize import normalize

DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora"
RESULTS = HERE / "results" / "ner_model.json"
CORPUS_FILES = {"ijcnlp": "ijcnlp2008_urdu.tsv", "jahangir": "jahangir.tsv", "uner": "uner.txt"}
TAG_CLASS = {"PERSON": "person", "LOCATION": "location", "ORGANIZATION": "organization"}
#: Speed input: clean bodies of these sources only (the blind test reads bbc_voa/voa and untm).
SPEED_CSVS = {
    "news_sites/geo_jang_express_2024a.csv": "Contents",
    "news_sites/geo_jang_express_dunya_2024b.csv": "content",
    "news_sites/jang_express_geo_samaa_dawn_2024c.csv": "content",
}
SPEED_TEXTS = 2000
SPEED_BATCH = 1000

#: Templates per offset (the window). Feature selection is measured with ``--features``.
FEATURE_SETS: dict[str, dict[int, tuple[str, ...]]] = {
    "full": {
        -2: ("w", "g_location", "g_organization", "g_person", "g_title"),
        -1: ("w", "s1", "s2", "s3", "shape", "g_location", "g_organization", "g_person", "g_title"),
        0: ("w", "s1", "s2", "s3", "p2", "p3", "shape", "g_location", "g_organization", "g_person", "g_title"),
        1: ("w", "s1", "s2", "s3", "shape", "g_location", "g_organization", "g_person", "g_title"),
        2: ("w", "g_location", "g_organization", "g_person", "g_title"),
    },
}
FEATURE_SETS["words_only"] = dict.fromkeys((-2, -1, 0, 1, 2), ("w",))
FEATURE_SETS["no_gazetteer"] = {
    o: tuple(t for t in ts if not t.startswith("g_")) for o, ts in FEATURE_SETS["full"].items()
}
MIN_COUNT = 2  # a value seen fewer times in training is "unknown" (whose weight is learnt too)


# ---------------------------------------------------------------------------------------------
# Readers


@dataclass
class Sentence:
    tokens: list[str]
    tags: list[str]  # "O" or a class of ``CLASSES``


def _tag(raw: str) -> str:
    return TAG_CLASS.get(raw.strip(), "O")


def read_tsv(path: Path) -> list[Sentence]:
    """``token<TAB>tag`` lines, a blank line between sentences (a BOM is skipped)."""
    out: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if not line.strip():
            if tokens:
                out.append(Sentence(tokens, tags))
            tokens, tags = [], []
            continue
        token, _, tag = line.partition("\t")
        if token.strip():
            tokens.append(token.strip())
            tags.append(_tag(tag))
    if tokens:
        out.append(Sentence(tokens, tags))
    return out


_INLINE = re.compile(r"<(/?)([A-Z]+)>|/<([A-Z]+)>")


def read_uner(path: Path) -> list[Sentence]:
    """One sentence a line with inline ``<TYPE>..</TYPE>``; a BOM inside a line starts a new one.

    The file has a few broken tags, read as the annotator meant where that is clear: ``x/<NUMBER>``
    closes NUMBER; a closing tag with no opening one closes nothing (its words stay O).
    """
    out: list[Sentence] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        for part in line.split("\ufeff"):
            tokens: list[str] = []
            tags: list[str] = []
            current = "O"
            pos = 0
            for m in [*_INLINE.finditer(part), None]:
                chunk = part[pos : m.start() if m else len(part)]
                for token in chunk.split():
                    tokens.append(token)
                    tags.append(current)
                if m is None:
                    break
                pos = m.end()
                if m.group(1) or m.group(3):  # a closing tag
                    current = "O"
                else:
                    current = _tag(m.group(2))
            if tokens:
                out.append(Sentence(tokens, tags))
    return out


def read_corpus(name: str, corpora: Path = DEFAULT_CORPORA) -> list[Sentence]:
    path = corpora / "ner" / CORPUS_FILES[name]
    return read_uner(path) if name == "uner" else read_tsv(path)


def entity_runs(tags: list[str]) -> list[tuple[int, int, str]]:
    """Entities of an IO sequence: maximal runs of one type, as (first, end, type)."""
    runs: list[tuple[int, int, str]] = []
    for i, tag in enumerate(tags):
        if tag == "O":
            continue
        if runs and runs[-1][1] == i and runs[-1][2] == tag:
            runs[-1] = (runs[-1][0], i + 1, tag)
        else:
            runs.append((i, i + 1, tag))
    return runs


# ---------------------------------------------------------------------------------------------
# Data: the corpora through the predictor's tokenizer


@dataclass
class Dataset:
    tokens: Tokens
    labels: np.ndarray  # (n_tokens,) class index


#: Honorifics that are not part of a person's name (the guideline of tests/gold), besides titles.
HONORIFICS_BEFORE = frozenset({"حضرت", "جناب", "محترم", "محترمہ", "سر"})
HONORIFICS_AFTER = frozenset({"صاحب", "صاحبہ"})


def harmonize(sentences: list[Sentence], title_words: frozenset[str]) -> tuple[list[Sentence], int]:
    """Tags moved onto the project's guideline: a title or honorific at the start of a PERSON run
    (``صدر``, ``وزیراعظم``, ``جنرل``, which one corpus tags as part of the person) and ``صاحب`` at
    its end are O. Returns the sentences and the number of tokens changed."""
    before = title_words | HONORIFICS_BEFORE
    changed = 0
    out = []
    for sent in sentences:
        tags = list(sent.tags)
        words = [" ".join(normalize(t).split()) for t in sent.tokens]
        for first, end, typ in entity_runs(tags):
            if typ != "person":
                continue
            i = first
            while i < end and words[i] in before:
                tags[i] = "O"
                i += 1
            j = end - 1
            while j >= i and words[j] in HONORIFICS_AFTER:
                tags[j] = "O"
                j -= 1
        changed += sum(a != b for a, b in zip(tags, sent.tags))
        out.append(Sentence(sent.tokens, tags))
    return out, changed


def title_words() -> frozenset[str]:
    """Every word of every title of the gazetteer's ``titles.txt``."""
    return frozenset(w for title in word_set("titles.txt") for w in title.split())


def dataset(sentences: list[Sentence]) -> Dataset:
    """Sentences as the predictor sees text: tokens normalized, joined by spaces, re-tokenized."""
    texts: list[str] = []
    starts: list[int] = []  # global char start of each source token
    labels: list[int] = []
    base = 0
    for sent in sentences:
        pieces: list[str] = []
        at = 0
        for token, tag in zip(sent.tokens, sent.tags):
            t = " ".join(normalize(token).split())
            if not t:
                continue
            starts.append(base + at)
            labels.append(CLASSES.index(tag) if tag != "O" else 0)
            pieces.append(t)
            at += len(t) + 1
        text = " ".join(pieces)
        texts.append(text)
        base += len(text) + 1
    tokens = tokenize(texts)
    text_base = np.concatenate([[0], np.cumsum([len(t) + 1 for t in texts])])
    where = text_base[tokens.doc] + tokens.start
    source = np.searchsorted(np.array(starts), where, side="right") - 1
    y = np.array(labels, dtype=np.int64)[source]
    y[~tokens.is_word] = 0
    return Dataset(tokens, y)


def concat(parts: list[list[Sentence]]) -> list[Sentence]:
    return [s for p in parts for s in p]


# ---------------------------------------------------------------------------------------------
# Features and learners


def gazetteer_lists() -> dict[str, pa.Array]:
    """The words of the gazetteer names of each type, and of the titles, as the model stores them."""
    words: dict[str, set[str]] = {name: set() for name in LIST_NAMES}
    for surface, entry in gazetteer().items():
        if entry.type in words:
            words[entry.type].update(surface.split())
    for title in word_set("titles.txt"):
        words["title"].update(title.split())
    return {name: pa.array(sorted(ws), pa.string()) for name, ws in words.items()}


def empty_model(train: Dataset, lists: dict[str, pa.Array], features: dict[int, tuple[str, ...]]) -> NerModel:
    """A model with the vocabularies of ``train`` and zero weights."""
    templates = tuple(t for t in FEATURE_SETS["full"][0] if any(t in ts for ts in features.values()))
    props = word_properties(train.tokens.types, lists)
    counts = np.bincount(train.tokens.type_id, minlength=len(train.tokens.types))
    vocabs = {}
    for t in templates:
        c: Counter = Counter()
        for value, n in zip(props[t].to_pylist(), counts.tolist()):
            if value is not None:
                c[value] += n
        vocabs[t] = pa.array(sorted(v for v, n in c.items() if n >= MIN_COUNT), pa.string())
    offsets = tuple(sorted(features))
    shell = NerModel(offsets, templates, vocabs, lists, np.zeros(0), np.zeros(len(CLASSES)), None, {})
    return NerModel(
        offsets,
        templates,
        vocabs,
        lists,
        np.zeros((len(offsets), shell.n_rows, len(CLASSES)), dtype=np.float32),
        np.zeros(len(CLASSES), dtype=np.float32),
        None,
        {"features": {str(o): list(ts) for o, ts in features.items()}},
    )


def active_mask(model: NerModel) -> np.ndarray:
    """``(n_offsets, n_templates)``: template used at offset."""
    feats = model.meta["features"]
    return np.array([[t in feats[str(o)] for t in model.templates] for o in model.offsets])


def feature_columns(model: NerModel, tokens: Tokens) -> list[np.ndarray]:
    """For every token, its active feature columns (offset block * n_rows + row), as a list per token
    position in a (n_tokens, n_features) int array with -1 for none."""
    rows = model.type_rows(tokens.types)
    nb = model.neighbours(tokens)
    act = active_mask(model)
    cols = []
    for k in range(len(model.offsets)):
        r = rows[nb[k]][:, act[k]]  # (n, active templates)
        r = np.where(r == model.zero_row, -1, r + k * model.n_rows)
        cols.append(r)
    return cols


def design_matrix(model: NerModel, tokens: Tokens):
    from scipy import sparse

    cols = np.concatenate(feature_columns(model, tokens), axis=1)
    n = len(tokens.type_id)
    row = np.repeat(np.arange(n), cols.shape[1])
    flat = cols.ravel()
    keep = flat >= 0
    return sparse.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (row[keep], flat[keep])),
        shape=(n, len(model.offsets) * model.n_rows),
    )


def with_weights(model: NerModel, w_flat: np.ndarray, bias: np.ndarray, transitions, meta: dict) -> NerModel:
    """``model`` carrying weights given as (n_offsets * n_rows, n_classes)."""
    weights = w_flat.reshape(len(model.offsets), model.n_rows, len(CLASSES)).astype(np.float32)
    return NerModel(
        model.offsets,
        model.templates,
        model.vocabs,
        model.lists,
        weights,
        bias.astype(np.float32),
        transitions,
        {**model.meta, **meta},
    )


def train_lr(train: Dataset, lists, features, c: float = 1.0) -> NerModel:
    from sklearn.linear_model import LogisticRegression

    shell = empty_model(train, lists, features)
    x = design_matrix(shell, train.tokens)
    clf = LogisticRegression(C=c, max_iter=300, tol=1e-4)
    clf.fit(x, train.labels)
    assert list(clf.classes_) == list(range(len(CLASSES)))
    return with_weights(shell, clf.coef_.T, clf.intercept_, None, {"learner": f"logistic regression, C={c}"})


def train_crf(train: Dataset, lists, features, c1: float = 0.05, c2: float = 0.05) -> NerModel:
    import pycrfsuite

    shell = empty_model(train, lists, features)
    cols = np.concatenate(feature_columns(shell, train.tokens), axis=1)
    seg = train.tokens.segment
    bounds = np.flatnonzero(np.concatenate([[True], seg[1:] != seg[:-1], [True]]))
    trainer = pycrfsuite.Trainer(verbose=False)
    for a, b in zip(bounds[:-1], bounds[1:]):
        xseq = [[f"f{v}" for v in row if v >= 0] + ["bias"] for row in cols[a:b].tolist()]
        trainer.append(xseq, [str(v) for v in train.labels[a:b].tolist()])
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": 200, "feature.possible_transitions": True})
    path = Path(tempfile.mkdtemp()) / "ner.crfsuite"
    trainer.train(str(path))
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    info = tagger.info()
    w = np.zeros((len(shell.offsets) * shell.n_rows, len(CLASSES)))
    bias = np.zeros(len(CLASSES))
    for (attr, label), weight in info.state_features.items():
        if attr == "bias":
            bias[int(label)] = weight
        else:
            w[int(attr[1:]), int(label)] = weight
    trans = np.zeros((len(CLASSES), len(CLASSES)), dtype=np.float32)
    for (a, b), weight in info.transitions.items():
        trans[int(a), int(b)] = weight
    tagger.close()
    shutil.rmtree(path.parent)
    return with_weights(shell, w, bias, trans, {"learner": f"linear-chain CRF (crfsuite L-BFGS), c1={c1}, c2={c2}"})


def train_perceptron(train: Dataset, lists, features, epochs: int = 8, seed: int = 0) -> NerModel:
    """Averaged multi-class perceptron over the window features, one token at a time."""
    shell = empty_model(train, lists, features)
    x = design_matrix(shell, train.tokens)
    n_cols = x.shape[1]
    w = np.zeros((n_cols + 1, len(CLASSES)))  # last row: bias
    total = np.zeros_like(w)
    stamp = np.zeros(n_cols + 1)
    rng = np.random.default_rng(seed)
    step = 0
    indptr, indices = x.indptr, x.indices
    y = train.labels
    for _ in range(epochs):
        for i in rng.permutation(x.shape[0]).tolist():
            step += 1
            f = np.append(indices[indptr[i] : indptr[i + 1]], n_cols)
            guess = int(w[f].sum(axis=0).argmax())
            if guess != y[i]:
                # lazy averaging: bring the touched rows' running totals up to date first
                total[f] += (step - stamp[f])[:, None] * w[f]
                stamp[f] = step
                w[f, y[i]] += 1
                w[f, guess] -= 1
    total += (step - stamp)[:, None] * w
    avg = total / step
    return with_weights(shell, avg[:-1], avg[-1], None, {"learner": f"averaged perceptron, {epochs} epochs"})


LEARNERS = {"lr": train_lr, "crf": train_crf, "perceptron": train_perceptron}


def learner(spec: str):
    """``lr``, ``lr@0.3`` (C), ``crf@0.1,0.01`` (c1, c2), ``perceptron@8`` (epochs): a training function."""
    name, _, params = spec.partition("@")
    args = [float(v) for v in params.split(",")] if params else []
    if name == "perceptron":
        args = [int(v) for v in args]
    return lambda data, lists, features: LEARNERS[name](data, lists, features, *args)


# ---------------------------------------------------------------------------------------------
# Measurement


def evaluate(model: NerModel, test: Dataset) -> dict:
    """Entity P/R/F1 (exact span and type, overall and per type) and token accuracy, computed by the
    runtime decoder on the test corpus's tokens."""
    labels, _ = model.decode(test.tokens)
    acc = float((labels == test.labels).mean())
    word = test.tokens.is_word
    word_acc = float((labels[word] == test.labels[word]).mean())

    def runs(lab: np.ndarray) -> set[tuple[int, int, int]]:
        seg = test.tokens.segment
        idx = np.flatnonzero(lab > 0)
        if not len(idx):
            return set()
        new = np.ones(len(idx), dtype=bool)
        new[1:] = (idx[1:] != idx[:-1] + 1) | (lab[idx[1:]] != lab[idx[:-1]]) | (seg[idx[1:]] != seg[idx[:-1]])
        first = np.flatnonzero(new)
        last = np.concatenate([first[1:], [len(idx)]]) - 1
        return set(zip(idx[first].tolist(), idx[last].tolist(), lab[idx[first]].tolist()))

    gold, pred = runs(test.labels), runs(labels)
    out: dict = {"token_accuracy": round(acc, 4), "word_token_accuracy": round(word_acc, 4)}
    for name, k in [("all", None), *[(c, i) for i, c in enumerate(CLASSES) if i]]:
        g = {r for r in gold if k is None or r[2] == k}
        p = {r for r in pred if k is None or r[2] == k}
        tp = len(g & p)
        prec = tp / len(p) if p else 0.0
        rec = tp / len(g) if g else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[name] = {"p": round(prec, 4), "r": round(rec, 4), "f1": round(f1, 4), "gold": len(g), "predicted": len(p)}
    return out


def speed_texts(corpora: Path, n: int = SPEED_TEXTS) -> list[str]:
    """``n`` clean bodies, every k-th of BBC Urdu + news_sites (the blind test's sources are left out)."""
    raw: list[str] = []
    for path in sorted(corpora.glob("bbc_voa/bbc/*/*.doc")):
        raw.append(parse_bbc(path.read_text(encoding="utf-8"), str(path.relative_to(corpora)))["body"])
    csv.field_size_limit(sys.maxsize)
    for rel, column in SPEED_CSVS.items():
        with open(corpora / rel, encoding="utf-8-sig", newline="") as fh:
            raw.extend(row[column] for row in csv.DictReader(fh) if row.get(column))
    step = max(1, len(raw) // n)
    return [b for b in (clean_body(r)[0] for r in raw[::step][:n]) if b]


def speed(model: NerModel, texts: list[str], rounds: int = 5) -> dict:
    """MB/s of UTF-8 text through tokenize + decode + spans (what ``predict_spans`` runs), median round."""
    mb = sum(len(t.encode()) for t in texts) / 1e6
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for i in range(0, len(texts), SPEED_BATCH):
            tokens = tokenize(texts[i : i + SPEED_BATCH])
            labels, probs = model.decode(tokens)
            ner.spans_of(tokens, labels, probs)
        times.append(time.perf_counter() - t0)
    med = float(np.median(times))
    return {"texts": len(texts), "mb": round(mb, 3), "seconds_median": round(med, 3), "mb_per_s": round(mb / med, 2)}


def model_size(model: NerModel) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ner.npz"
        model.save(path)
        return path.stat().st_size


def dev_scores(min_confidence: tuple[float, ...] = (0.0, 0.8)) -> dict:
    """The shipped model alone (no gazetteer matching, no rules) on the DEV gold set of
    tests/gold (mentions compared as (type, normalized surface) per article), keeping spans whose
    confidence reaches each threshold. Never the blind test set."""
    from tests.gold import entities as gold

    items = gold.load("dev")
    out: dict = {"articles": len(items), "gold_mentions": sum(len(i["gold"]) for i in items)}
    for threshold in min_confidence:

        def recognize(headline: str, body: str, threshold: float = threshold) -> list[tuple[str, str]]:
            found = []
            for text, spans in zip((headline, body), ner.predict_spans([headline, body])):
                found += [(t.upper(), text[s:e]) for s, e, t, p in spans if p >= threshold]
            return found

        result = gold.score(recognize, items)
        out[f"confidence>={threshold}"] = {t: result[t] for t in ("ALL", *gold.TYPES)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    ap.add_argument("--candidates", default="lr;crf;perceptron", help="learners, ';'-separated (see learner())")
    ap.add_argument("--features", default="full", help="comma-separated FEATURE_SETS to compare (with --ablate)")
    ap.add_argument("--ablate", default="lr", help="the learner the feature sets are compared with")
    ap.add_argument("--choose", default="crf", help="the learner to ship (a key of the candidates)")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--dev", action="store_true", help="only score the shipped model on the dev gold set")
    args = ap.parse_args()
    if args.dev:
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results.setdefault("shipped", {})["dev"] = dev_scores()
        results["shipped"]["model_version"] = ner.MODEL_VERSION
        print(json.dumps(results["shipped"], indent=1))
        RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
        return
    if not (args.corpora / "ner").is_dir():
        sys.exit(f"NER corpora not found at {args.corpora / 'ner'}")
    corpora = {name: read_corpus(name, args.corpora) for name in CORPUS_FILES}
    harmonized = {}
    for name in CORPUS_FILES:
        corpora[name], harmonized[name] = harmonize(corpora[name], title_words())
    lists = gazetteer_lists()
    texts = speed_texts(args.corpora)
    stats = {
        name: {
            "sentences": len(s),
            "tokens": sum(len(x.tokens) for x in s),
            "entities": dict(Counter(r[2] for x in s for r in entity_runs(x.tags))),
            "title_tokens_made_o": harmonized[name],
        }
        for name, s in corpora.items()
    }
    print(json.dumps(stats, ensure_ascii=False), flush=True)
    data = {name: dataset(s) for name, s in corpora.items()}
    results: dict = {"corpora": stats, "candidates": {}}
    runs = [(c, "full") for c in args.candidates.split(";") if c]
    runs += [(args.ablate, f) for f in args.features.split(",") if f != "full"]
    for name, feats in runs:
        key = name if feats == "full" else f"{name}/{feats}"
        entry: dict = {"features": feats, "cross_corpus": {}}
        t0 = time.perf_counter()
        for held in CORPUS_FILES:
            train_sents = concat([corpora[n] for n in CORPUS_FILES if n != held])
            model = learner(name)(dataset(train_sents), lists, FEATURE_SETS[feats])
            entry["cross_corpus"][held] = evaluate(model, data[held])
            print(key, held, json.dumps(entry["cross_corpus"][held]["all"]), flush=True)
        entry["cross_corpus_train_seconds"] = round(time.perf_counter() - t0, 1)
        f1s = [entry["cross_corpus"][h]["all"]["f1"] for h in CORPUS_FILES]
        entry["mean_f1"] = round(float(np.mean(f1s)), 4)
        full = learner(name)(dataset(concat(list(corpora.values()))), lists, FEATURE_SETS[feats])
        entry["speed"] = speed(full, texts)
        entry["size_bytes"] = model_size(full)
        entry["learner"] = full.meta["learner"]
        print(key, json.dumps({k: v for k, v in entry.items() if k != "cross_corpus"}), flush=True)
        results["candidates"][key] = entry
        if key == args.choose and not args.no_save:
            meta = {
                "trained_on": list(CORPUS_FILES.values()),
                "cross_corpus_mean_f1": entry["mean_f1"],
                "speed_mb_per_s": entry["speed"]["mb_per_s"],
            }
            shipped = with_weights(full, full.weights.reshape(-1, len(CLASSES)), full.bias, full.transitions, meta)
            shipped.save(ner.MODEL_PATH)
            results["shipped"] = {"file": f"etl/enrich/models/{ner.MODEL_PATH.name}", "learner": key}
    results["machine"] = {"python": platform.python_version(), "processor": platform.machine()}
    if not args.no_save:
        RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
