"""Category: source labels onto one taxonomy, and the light model for articles without a label."""

from __future__ import annotations

import csv
import importlib.util
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pytest

from etl.enrich import category
from etl.enrich.category import (
    CATEGORIES,
    MODEL_VERSION,
    article_terms,
    canonical_category,
    features,
    predict_categories,
    unmapped_labels,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "category_model.json"

# Label columns of the CSV corpora.
LABEL_COLUMNS = {
    "news_sites/geo_jang_express_2024a.csv": "Gold Labels",
    "news_sites/geo_jang_express_dunya_2024b.csv": "gold_label",
    "news_sites/jang_express_geo_samaa_dawn_2024c.csv": "gold_label",
    "untm/sampled_UNTM.csv": "Category",
    "express_headlines/express_headlines_all.csv": "category",
}


def _training_script():
    """``bench/train_category.py`` as a module (its reader and held-out split), without scikit-learn."""
    spec = importlib.util.spec_from_file_location("train_category", ROOT / "bench" / "train_category.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _corpus_labels(corpora: Path) -> dict[str, int]:
    """Every raw label value in the corpora: BBC/VOA folder names and the CSV label columns."""
    counts: dict[str, int] = {}
    for folder in sorted(corpora.glob("bbc_voa/*/*")):
        if folder.is_dir():
            counts[folder.name] = counts.get(folder.name, 0) + 1
    csv.field_size_limit(sys.maxsize)
    for rel, column in LABEL_COLUMNS.items():
        with open(corpora / rel, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                value = row[column]
                counts[value] = counts.get(value, 0) + 1
    return counts


# --- labels -------------------------------------------------------------------------------------


def test_every_label_in_the_corpora_maps(corpora):
    labels = _corpus_labels(corpora)
    # A label is one short line; the express sheet also holds a few rows spilled into the category
    # cell (tabs, newlines and whole headlines), which are broken fields, not labels.
    real = {raw for raw in labels if "\n" not in raw and "\t" not in raw and len(raw) <= 60}
    broken = set(labels) - real
    assert len(real) >= 15, sorted(real)
    unmapped = {raw for raw in real if canonical_category(raw) is None}
    assert not unmapped, f"labels in the corpora without a canonical category: {sorted(unmapped)}"
    # every category but `national` (no corpus here has a home-news section) is labelled somewhere
    assert {canonical_category(raw) for raw in real} == set(CATEGORIES) - {"national"}
    # the broken cells are reported as unmapped, never guessed from the label word inside them
    assert broken and all(canonical_category(raw) is None for raw in broken)
    assert set(unmapped_labels(labels)) == broken


@pytest.mark.parametrize(
    "variants, slug",
    [
        (["world", "World", "international", "International", " INTERNATIONAL ", "world news"], "world"),
        (["miscleneous", "misc", "Miscellaneous"], "misc"),
        (
            [
                "science-technology",
                "Science & Technology",
                "science technology",
                "Science_and_Technology",
                "Technology",
                "science",
            ],
            "science-tech",
        ),
        (["sports", "Sports", "SPORT"], "sports"),
        (["entertainment", "Showbiz", "show-biz", "شوبز"], "entertainment"),
        (["business", "Business", "economy", "Economy"], "business"),
        (["weird news", "Weird", "WeirdNews"], "offbeat"),
        (["Politics", "politics", "سیاست"], "politics"),
        (["Health", "صحت"], "health"),
    ],
)
def test_variants_map_to_one_label(variants, slug):
    assert {canonical_category(v) for v in variants} == {slug}


def test_arabic_letter_forms_of_an_urdu_label_match():
    # Arabic kaf/heh/yeh in place of the Urdu letters: the same label after normalization
    assert canonical_category("كهيل") == canonical_category("کھیل") == "sports"


@pytest.mark.parametrize("raw", ["opinion", "blogs", "local", "sportsworld", "politics and sports", "x" * 80])
def test_unknown_labels_map_to_none_and_are_logged(raw, caplog):
    with caplog.at_level(logging.WARNING, logger="etl.enrich.category"):
        assert canonical_category(raw) is None
        canonical_category(raw)
    assert sum("unknown category label" in r.getMessage() for r in caplog.records) == 1
    assert unmapped_labels([raw, raw, "sports", None, ""]) == {raw: 2}


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_missing_labels_map_to_none(raw):
    assert canonical_category(raw) is None


def test_taxonomy_and_table_are_well_formed():
    assert all(re.fullmatch(r"[a-z]+(?:-[a-z]+)*", slug) for slug in CATEGORIES)
    assert len(set(CATEGORIES)) == len(CATEGORIES)
    table = category.label_table()
    assert set(table.values()) == set(CATEGORIES)
    # every slug is also a label of its own
    assert all(canonical_category(slug) == slug for slug in CATEGORIES)


# --- features -----------------------------------------------------------------------------------


def test_features_are_words_then_word_pairs():
    terms = features("Cricket خبر،", "قومی ٹیم (اے پی پی) نے 20 رنز۔")
    words = ["cricket", "خبر", "قومی", "ٹیم", "اے", "پی", "پی", "نے", "رنز"]
    assert terms == words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    assert features(None, "") == [] and features("", " ، ۔ ") == []


def test_word_pairs_never_cross_articles():
    doc, terms = article_terms(["پہلی", None], ["خبر", "دوسری خبر"])
    pairs = [(int(d), t) for d, t in zip(doc, terms.to_pylist()) if " " in t]
    assert pairs == [(0, "پہلی خبر"), (1, "دوسری خبر")]


def test_mismatched_batch_is_refused():
    with pytest.raises(ValueError):
        predict_categories(["one headline"], ["a body", "another body"])


# --- the model ----------------------------------------------------------------------------------


def test_model_file_is_small_versioned_and_loads():
    path = category.MODEL_PATH
    assert MODEL_VERSION in path.name
    assert path.stat().st_size < 1_000_000
    meta = category.model_metadata()
    assert meta["model_version"] == MODEL_VERSION
    model = category.load_model()
    assert set(model.classes) <= set(CATEGORIES) and "misc" not in model.classes
    assert len(model.terms) == meta["terms"] and model.coef.shape == (len(model.terms), len(model.classes))


def test_clear_handwritten_examples():
    headlines = ["قومی کرکٹ ٹیم نے ٹیسٹ میچ جیت لیا", "اسٹاک ایکسچینج میں تیزی", None]
    bodies = [
        "کپتان نے سنچری اسکور کی اور بولرز نے پانچ وکٹیں حاصل کیں ۔ میچ میں شائقین کی بڑی تعداد موجود تھی ۔",
        "کاروبار کے دوران انڈیکس میں 500 پوائنٹس کا اضافہ ہوا اور حصص کی قیمتیں بڑھ گئیں ۔ ڈالر کی قدر میں کمی ہوئی ۔",
        "اداکارہ کی نئی فلم سینما گھروں میں ریلیز کر دی گئی ۔ فلم کے گانے اور ڈرامے کے مداح بہت خوش ہیں ۔",
    ]
    labels = [label for label, _ in predict_categories(headlines, bodies)]
    assert labels == ["sports", "business", "entertainment"]


def test_predicts_held_out_corpus_articles(corpora):
    """Real articles the model never saw (held-out groups of the training split), read at test time."""
    script = _training_script()
    rows = [r for r in script.read_corpora(corpora, {"untm", "bbc_voa"}) if r["label"] not in (None, "misc")]
    held = [r for g, r in zip(script.group_ids(rows), rows) if script.held_out(g)]
    assert len(held) >= 200
    predicted = predict_categories([r["headline"] for r in held], [r["body"] for r in held])
    right = np.array([p == r["label"] for (p, _), r in zip(predicted, held)])
    assert right.mean() >= 0.85
    # UNTM's sports, business and politics stories are clear-cut: nearly all must come out right
    clear = [
        ok for ok, r in zip(right, held) if r["source"] == "untm" and r["label"] in {"sports", "business", "politics"}
    ]
    assert len(clear) >= 15 and np.mean(clear) >= 0.85


def test_predictions_are_deterministic_and_batch_independent():
    headlines = ["کرکٹ میچ", None, "بجٹ خسارہ", "فلم"]
    bodies = ["ٹیم نے میچ جیت لیا ۔", "", "حکومت نے ٹیکس بڑھا دیا ۔ معیشت", "اداکار ۔ بالی ووڈ ۔ ڈرامہ"]
    first = predict_categories(headlines, bodies)
    assert predict_categories(headlines, bodies) == first
    one_by_one = [predict_categories([h], [b])[0] for h, b in zip(headlines, bodies)]
    assert [label for label, _ in one_by_one] == [label for label, _ in first]
    assert np.allclose([p for _, p in one_by_one], [p for _, p in first])
    assert all(label in CATEGORIES and 0.0 < p <= 1.0 for label, p in first)
    assert predict_categories([], []) == []


def _found_terms(model, headlines, bodies):
    """``(article, term column)`` of the terms ``article_terms`` gives that the vocabulary holds, sorted."""
    doc, terms = article_terms(headlines, bodies)
    ids = np.array([-1 if i is None else i for i in pa.compute.index_in(terms, value_set=model.terms).to_pylist()])
    return sorted(zip(doc[ids >= 0].tolist(), ids[ids >= 0].tolist()))


def test_term_ids_find_the_same_terms_as_the_term_strings(corpora):
    model = category.load_model()
    # made-up articles: pairs of known words that are no term, unknown words, Latin words, blanks
    vocab = model.terms.to_pylist()
    pair = next(t for t in vocab if " " in t)
    single = next(t for t in vocab if " " not in t)
    headlines = [pair, None, "", f"{single} {single}", "BBC News کرکٹ"]
    bodies = [f"{pair} {pair.split()[1]} {single} ژژژ", "", "۔ ، 123", f"{pair.split()[0]}\n{pair.split()[1]}", "x"]
    script = _training_script()
    rows = script.read_corpora(corpora, {"untm", "bbc_voa"})[:400]
    headlines += [r["headline"] for r in rows]
    bodies += [r["body"] for r in rows]
    doc, ids = model.term_ids(headlines, bodies)
    expected = _found_terms(model, headlines, bodies)
    assert len(expected) > 10_000 and sum(" " in vocab[i] for _, i in expected) > 1000
    assert sorted(zip(doc.tolist(), ids.tolist())) == expected
    assert (0, vocab.index(pair)) in expected


def test_probabilities_sum_to_one():
    proba = category.load_model().probabilities(["کرکٹ", None], ["میچ", "نامعلوم"])
    assert proba.shape == (2, len(category.load_model().classes))
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_model_metadata_matches_the_results_file():
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    meta = category.model_metadata()
    assert results["model_version"] == meta["model_version"] == MODEL_VERSION
    assert results["accuracy"] == meta["accuracy"]
    assert results["macro_f1"] == meta["macro_f1"]
    assert results["scores"]["full"]["accuracy"] == meta["accuracy_full_articles"]
    assert results["scores"]["headline"]["accuracy"] == meta["accuracy_headline_only"]
    assert results["model_bytes"] == category.MODEL_PATH.stat().st_size
    assert set(results["per_class_f1"]) == set(meta["classes"])


def test_terms_are_the_same_in_every_call_of_a_fresh_process():
    """A body ending in ``۔`` ends in a blank once separators are blanked; the terms must not carry
    it. (pyarrow's whitespace split gave the last word a stray byte of it on a process's first
    calls, so a shard's predictions depended on what the process had done before.) Checked in a
    fresh interpreter, where it showed."""
    code = """
import json
from etl.enrich import category
category.load_model()
head = "پشاور میں درجہ حرارت 91 ڈگری تک گر گیا"
body = ("پشاور: محکمہ موسمیات کے مطابق رات کا درجہ حرارت 91 ڈگری ریکارڈ کیا گیا۔ آئندہ دو دنوں میں بارش کا "
        "امکان ہے۔\\n\\nشہریوں کو احتیاط کرنے کی ہدایت کی گئی ہے۔")
calls = [category.article_terms([head], [body])[1].to_pylist() for _ in range(3)]
probs = [category.predict_categories([head], [body])[0][1] for _ in range(3)]
print(json.dumps({"calls": calls, "probs": probs}, ensure_ascii=False))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["calls"][0] == out["calls"][1] == out["calls"][2]
    assert not [t for t in out["calls"][0] if t != t.strip() or not t]
    assert len(set(out["probs"])) == 1


def _regex_words(text):
    """The words of each string as a regex replace and a whitespace split find them."""
    words = pa.compute.utf8_split_whitespace(
        pa.compute.utf8_trim_whitespace(pa.compute.replace_substring_regex(text, category._NOT_WORD, " "))
    )
    flat = pa.compute.list_flatten(words)
    doc = pa.compute.list_parent_indices(words).to_numpy()
    keep = pa.compute.not_equal(flat, "").to_numpy(zero_copy_only=False)
    return doc[keep].tolist(), flat.filter(pa.array(keep)).to_pylist()


def test_word_runs_split_as_the_separator_regex_does(corpora):
    made = [
        "",
        "abc",
        "  ",
        "اردو\u200cزبان، BBC-News 2024ء x",
        "😀خبر😀 𝐀 ۔۔ ک",
        "\n\nپاکستان\n",
        "é ü ß ñ Ω д",
        "ZWNJ\u200c\u200c at ends\u200c",
    ]
    script = _training_script()
    rows = script.read_corpora(corpora, {"untm", "bbc_voa"})[:1500]
    texts = made + [f"{r['headline'] or ''}\n{r['body']}".lower() for r in rows]
    text = pa.array(texts, pa.string())
    doc, words = category.word_runs(text)
    expected_doc, expected_words = _regex_words(text)
    assert len(expected_words) > 100_000  # more strings than one batch of word_runs
    assert words.to_pylist() == expected_words and doc.tolist() == expected_doc
    # a slice (an array with an offset) reads its own strings only
    doc, words = category.word_runs(text.slice(3, 5))
    assert (doc.tolist(), words.to_pylist()) == _regex_words(text.slice(3, 5))
