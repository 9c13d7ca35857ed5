"""Train the sentence-boundary model of ``etl.text.boundary`` without hand labels, compare learners, save it.

Usage:
    .venv/bin/python bench/train_boundary.py [--corpora DIR] [--no-save]

Data: every article body of DIR (../shared/corpora by default) read as ``bench/corpus_texts.py``
reads it, cleaned by ``etl.text.clean_column.clean_batch`` as the pipeline cleans it, split into
paragraphs and cut at their punctuation by ``etl.text.segment``'s rules. A paragraph is used when
its punctuation is plausible: it ends with a terminator and no piece is longer than 60 words. Its
terminators are then removed (``ہے۔’`` becomes ``ہے’``, a lone ``۔`` goes) and the model learns to
put them back: every gap between two words is an example, labelled 1 where a terminator was.
Records listed in the sentence gold sets (``tests/gold/segmentation.jsonl``, and the ids only of
``tests/gold/sentences_dev.jsonl`` and ``sentences_test.jsonl`` when present) are left out. One
document in ten (by a hash of its file and record) is held out for the measurements.

Candidates, on the same hashed features (``etl.text.compiled.boundary_scan``, as the runtime computes them):

* ``lr``: logistic regression, trained by AdaGrad on minibatches with L2 (numpy);
* ``perceptron``: an averaged perceptron (numpy);
* ``lr_words``: ``lr`` with only the word before and the word after (to show what the rest adds).

Measured on the held-out documents, for each: gap-level precision/recall/F1 at the threshold the
decoder uses, and sentence F1 of the whole decoder (``Model.ends``: threshold and minimum sentence
length chosen on the training documents) on (a) paragraphs with every terminator removed, and
(b) paragraphs of at least ``MIN_WORDS`` words with one terminator removed (a run-on), each
scored against the sentences as punctuated. The chosen model's non-zero weights go to
etl/text/rules/boundary_model.npz; the measurements to bench/results/boundary_model.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import platform
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from corpus_texts import CORPORA, CSV_BODIES

from etl.read.bbc_doc import parse as parse_bbc
from etl.read.seed_txt import parse as parse_seed
from etl.text import boundary
from etl.text.boundary import HASH_BITS, MIN_WORDS, gap_index
from etl.text.clean_column import clean_batch
from etl.text.segment import _rule_pieces, paragraphs

GOLD = ROOT / "tests" / "gold"
GOLD_FILES = ("segmentation.jsonl", "sentences_dev.jsonl", "sentences_test.jsonl")
TERMINATORS = "۔؟?!."
MAX_PIECE_WORDS = 60
#: The bias, the word before and the word after (``boundary_scan``'s features 0, 1, 2).
WORD_FEATURES = [0, 1, 2]
#: Features seen fewer times than this in training are not in the shipped model (its size).
MIN_COUNT = 20
#: express_headlines holds 72k one- or two-sentence leads; a share of them is enough.
HEADLINE_SHARE = 0.15


def excluded() -> set[tuple[str, int]]:
    """``(file, record)`` of every record a sentence gold set uses (only those two keys are read)."""
    out = set()
    for name in GOLD_FILES:
        path = GOLD / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    out.add((item["file"], int(item.get("record", 1))))
    return out


def records(root: Path):
    """``(file, record, corpus, raw body)`` of every article of the corpora."""
    for path in sorted(root.glob("seed/*.txt")):
        yield str(path.relative_to(root)), 1, "seed", parse_seed(path.read_text(encoding="utf-8"), path.name)["body"]
    for path in sorted(root.glob("bbc_voa/*/*/*.doc")):
        rel = str(path.relative_to(root))
        yield rel, 1, "bbc_voa", parse_bbc(path.read_text(encoding="utf-8"), rel)["body"]
    csv.field_size_limit(sys.maxsize)
    for rel, column in CSV_BODIES.items():
        with open(root / rel, encoding="utf-8-sig", newline="") as fh:
            for no, row in enumerate(csv.DictReader(fh), 1):
                if row.get(column):
                    yield rel, no, rel.split("/")[0], row[column]


def unpunctuate(piece: str) -> list[str]:
    """The words of a piece with the terminators at its end removed (a word left empty goes)."""
    core = boundary.tables()[0]
    words = piece.split()
    while words:
        last = words[-1]
        j = len(last)
        while j and not (ord(last[j - 1]) < 0x10000 and core[ord(last[j - 1])]):
            j -= 1
        if not j:
            words.pop()  # a lone ۔ (or a mark alone): the word before carries the end
            continue
        words[-1] = last[:j] + "".join(c for c in last[j:] if c not in TERMINATORS)
        break
    return words


def examples(paragraph: str) -> tuple[list[str], list[int]] | None:
    """Words of a well-punctuated paragraph without its terminators, and the gaps that were ends."""
    pieces = [p.strip() for p in _rule_pieces(paragraph)]
    if not pieces or pieces[-1].rstrip("\"'”“’‘»«)]")[-1:] not in TERMINATORS:
        return None
    words: list[str] = []
    ends: list[int] = []
    for piece in pieces:
        w = unpunctuate(piece)
        if not w or len(w) > MAX_PIECE_WORDS:
            return None
        words += w
        ends.append(len(words) - 1)
    return words, ends[:-1]


def build(root: Path):
    """Train and held-out documents: lists of (words, ends) per paragraph, and counts."""
    skip = excluded()
    meta, raws = [], []
    rng = random.Random(15)
    for rel, no, corpus, raw in records(root):
        if (rel, no) in skip:
            continue
        if corpus == "express_headlines" and rng.random() > HEADLINE_SHARE:
            continue
        meta.append((rel, no, corpus))
        raws.append(raw)
    bodies = clean_batch(raws).bodies.to_pylist()
    train, held = [], []
    counts: Counter = Counter()
    for (rel, no, corpus), body in zip(meta, bodies):
        held_out = int(hashlib.sha256(f"{rel}#{no}".encode()).hexdigest()[:8], 16) % 10 == 0
        for para in paragraphs(body or ""):
            ex = examples(para)
            counts["paragraphs"] += 1
            if ex is None or len(ex[0]) < 2:
                continue
            counts["used_paragraphs"] += 1
            counts[f"used_words_{corpus}"] += len(ex[0])
            (held if held_out else train).append(ex)
    counts["excluded_records"] = len(skip)
    return train, held, counts


def matrix(data):
    """Feature index rows and labels of every gap of ``data`` (the runtime's compiled pass)."""
    rows, _ = gap_index([" ".join(words) for words, _ in data])
    labels = []
    for words, ends in data:
        y = np.zeros(len(words) - 1, dtype=np.float32)
        y[ends] = 1
        labels.append(y)
    return rows, np.concatenate(labels)


#: The index rare features are mapped to while training: its weight stays 0.
SINK = 1 << HASH_BITS


def train_lr(x, y, epochs=4, lr=0.2, l2=1e-6, batch=512, seed=0):
    """Logistic regression over hashed binary features: AdaGrad on minibatches, L2. Returns the
    weights (one more than the table: the SINK, always 0)."""
    w = np.zeros(SINK + 1, dtype=np.float64)
    g2 = np.full(SINK + 1, 1e-8)
    rng = np.random.default_rng(seed)
    k = x.shape[1]
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch):
            idx = order[start : start + batch]
            xb = x[idx]
            err = 1 / (1 + np.exp(-w[xb].sum(axis=1))) - y[idx]
            touched, inv = np.unique(xb, return_inverse=True)
            gt = np.bincount(inv.ravel(), weights=np.repeat(err, k), minlength=len(touched))
            gt += l2 * w[touched] * len(idx)
            g2[touched] += gt * gt
            w[touched] -= lr * gt / np.sqrt(g2[touched])
            w[SINK] = 0.0
    return w


def train_perceptron(x, y, epochs=2, seed=0):
    """Averaged perceptron over the same features (labels +-1), returned as weights."""
    w = np.zeros(1 << HASH_BITS)
    total = np.zeros(1 << HASH_BITS)
    stamp = np.zeros(1 << HASH_BITS)
    t = 0
    rng = np.random.default_rng(seed)
    sign = np.where(y > 0, 1.0, -1.0)
    for _ in range(epochs):
        for i in rng.permutation(len(y)).tolist():
            t += 1
            xi = x[i]
            if sign[i] * w[xi].sum() <= 0:
                total[xi] += (t - stamp[xi]) * w[xi]
                stamp[xi] = t
                w[xi] += sign[i]
    total += (t - stamp) * w
    return total / t


def gap_prf(p, y, threshold):
    pred = p >= threshold
    tp = int((pred & (y > 0)).sum())
    p = tp / max(pred.sum(), 1)
    r = tp / max((y > 0).sum(), 1)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / max(p + r, 1e-9), 4)}


def probabilities(weights, data, only_words: bool = False) -> list[np.ndarray]:
    """P(end) of every gap of every paragraph of ``data``, as the runtime model computes it."""
    rows, piece = gap_index([" ".join(words) for words, _ in data])
    if only_words:
        rows = rows[:, WORD_FEATURES]
    p = 1 / (1 + np.exp(-weights[rows].sum(axis=1)))
    return np.split(p, np.cumsum([len(words) - 1 for words, _ in data])[:-1])


def decode(p, threshold, min_gap):
    """The runtime decoder (``boundary_scan.ends``) over one piece's probabilities, in Python."""
    n = len(p) + 1
    taken: list[int] = []
    for i in np.argsort(-p, kind="stable").tolist():
        if p[i] < threshold:
            break
        if i + 1 < min_gap or n - 1 - i < min_gap or any(abs(i - j) < min_gap for j in taken):
            continue
        taken.append(i)
    return sorted(taken)


def sentence_f1(probs, data, threshold: float, min_gap: int) -> dict:
    """Sentence P/R/F1 of the decoder over whole pieces, against the punctuated sentences."""
    tp = n_pred = n_gold = 0
    for p, (words, ends) in zip(probs, data):
        gold = _spans(ends, len(words))
        pred = _spans(decode(p, threshold, min_gap), len(words))
        tp += len(gold & pred)
        n_pred += len(pred)
        n_gold += len(gold)
    p, r = tp / max(n_pred, 1), tp / max(n_gold, 1)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / max(p + r, 1e-9), 4)}


def _spans(ends, n):
    cuts = [-1, *sorted(ends), n - 1]
    return {(a + 1, b) for a, b in zip(cuts, cuts[1:])}


def run_ons(data, rng):
    """Paragraphs of at least MIN_WORDS words with one end (chosen at random) unmarked: the words of
    the run-on piece and its true ends, as the product meets them."""
    out = []
    for words, ends in data:
        if not ends:
            continue
        k = rng.randrange(len(ends))
        cuts = [-1, *ends, len(words) - 1]
        lo, hi = cuts[k] + 1, cuts[k + 2]  # the two sentences around the removed end
        if hi - lo + 1 >= MIN_WORDS:
            out.append((words[lo : hi + 1], [ends[k] - lo]))
    return out


def choose_decoder(probs, data):
    """Threshold and minimum sentence length with the best sentence F1 on ``data``."""
    best = None
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        for min_gap in (2, 3, 4, 5, 6):
            f = sentence_f1(probs, data, threshold, min_gap)["f1"]
            if best is None or f > best[0]:
                best = (f, threshold, min_gap)
    return best[1], best[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--candidates", default="lr,perceptron,lr_words", help="learners to compare (lr is saved)")
    parser.add_argument("--threshold", type=float, help="the decoder's threshold (default: chosen on training data)")
    parser.add_argument("--min-gap", type=int, help="the decoder's minimum sentence length in words (same)")
    parser.add_argument(
        "--threshold-punctuated", type=float, help="threshold in paragraphs with terminators (default: --threshold)"
    )
    args = parser.parse_args()
    if not args.corpora.is_dir():
        sys.exit(f"corpora not found at {args.corpora}: this script reads ../shared/corpora")
    t0 = time.perf_counter()
    train, held, counts = build(args.corpora)
    rng = random.Random(7)
    tune = rng.sample(train, min(3000, len(train)))  # the decoder's settings, on training documents
    held_runons = run_ons(held, random.Random(8))
    print(f"data: {len(train)} train / {len(held)} held-out paragraphs, {time.perf_counter() - t0:.0f}s", flush=True)
    x, y = matrix(train)
    _, yh = matrix(held)
    xw = x[:, WORD_FEATURES]
    results = {}
    chosen = None
    for name in args.candidates.split(","):
        t = time.perf_counter()
        only_words = name == "lr_words"
        if name == "perceptron":
            w = train_perceptron(x, y)
        else:
            w = train_lr(xw if only_words else x, y)[:SINK]
        seconds = time.perf_counter() - t
        w32 = w.astype(np.float32)
        threshold, min_gap = choose_decoder(probabilities(w32, tune, only_words), tune)
        held_p = probabilities(w32, held, only_words)
        entry = {
            "train_seconds": round(seconds, 1),
            "threshold": threshold,
            "min_gap": min_gap,
            "gap_prf_at_threshold": gap_prf(np.concatenate(held_p), yh, threshold),
            "sentence_f1_unpunctuated": sentence_f1(held_p, held, threshold, min_gap),
            "sentence_f1_run_on": sentence_f1(
                probabilities(w32, held_runons, only_words), held_runons, threshold, min_gap
            ),
        }
        results[name] = entry
        print(name, json.dumps(entry), flush=True)
        if name == "lr":
            chosen = (w, threshold, min_gap)
    assert chosen is not None
    w, threshold, min_gap = chosen
    decoder_on_training = {"threshold": threshold, "min_gap": min_gap}
    threshold = args.threshold if args.threshold is not None else threshold
    min_gap = args.min_gap if args.min_gap is not None else min_gap
    threshold_punctuated = args.threshold_punctuated if args.threshold_punctuated is not None else threshold
    # the shipped table: features seen fewer than MIN_COUNT times in training are left out of the
    # model (their weight is 0, as for a feature never seen) and the rest retrained; smaller counts
    # are measured to show what a larger table would add
    counts_per_feature = np.bincount(x.ravel(), minlength=1 << HASH_BITS)
    pruning = {}
    for min_count in (10, MIN_COUNT):
        rare = counts_per_feature < min_count
        pruned = train_lr(np.where(rare[x], SINK, x), y)[:SINK].astype(np.float16).astype(np.float32)
        f = sentence_f1(probabilities(pruned, held), held, threshold, min_gap)
        pruning[min_count] = {"features": int((~rare).sum()), "sentence_f1_unpunctuated": f["f1"]}
        print("min_count", min_count, pruning[min_count], flush=True)
    w = pruned
    keep = np.flatnonzero(w)
    out = {
        "data": dict(sorted(counts.items())),
        "train_paragraphs": len(train),
        "held_out_paragraphs": len(held),
        "held_out_run_ons": len(held_runons),
        "train_gaps": int(len(y)),
        "held_out_gaps": int(len(yh)),
        "min_words": MIN_WORDS,
        "candidates": results,
        "chosen": "lr",
        "decoder_chosen_on_training_data": decoder_on_training,
        "decoder_shipped": {"threshold": threshold, "threshold_punctuated": threshold_punctuated, "min_gap": min_gap},
        "kept_weights": int(len(keep)),
        "min_feature_count": min_count,
        "by_min_feature_count": pruning,
        "python": platform.python_version(),
    }
    if not args.no_save:
        np.savez_compressed(
            boundary.MODEL_PATH,
            index=keep.astype(np.uint32),
            weight=w[keep].astype(np.float16),
            threshold=np.float32(threshold),
            threshold_punctuated=np.float32(threshold_punctuated),
            min_gap=np.int32(min_gap),
        )
        out["model_bytes"] = boundary.MODEL_PATH.stat().st_size
        # the saved (pruned, float16) model is what ships: score it as loaded
        boundary.model.cache_clear()
        shipped = boundary.model()
        for label, data, th in (
            ("unpunctuated", held, shipped.threshold),
            ("run_on", held_runons, shipped.threshold_punctuated),
        ):
            probs = probabilities(shipped.weights, data)
            out[f"shipped_sentence_f1_{label}"] = sentence_f1(probs, data, th, shipped.min_gap)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "boundary_model.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
