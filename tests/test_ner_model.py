"""The shipped entity tagger (etl/enrich/ner.py and its model file) and the training script's readers."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import random
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from etl.enrich import ner
from etl.text.normalize import LETTERS, normalize

ROOT = Path(__file__).resolve().parents[1]
NER_CORPORA = ROOT.parent / "shared" / "corpora" / "ner"
WORD = re.compile(f"[{LETTERS}\u200c0-9A-Za-z]")


def _train_ner():
    spec = importlib.util.spec_from_file_location("train_ner", ROOT / "bench" / "train_ner.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_ner"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def tagged(text: str) -> list[tuple[str, str]]:
    return [(text[s:e], t) for s, e, t, _ in ner.predict_spans([normalize(text)])[0]]


def check_spans(text: str, spans) -> None:
    """Spans in order, disjoint, on whole words, of known types, with a probability."""
    last = 0
    for s, e, t, p in spans:
        assert last <= s < e <= len(text), (s, e, last)
        assert t in ("person", "location", "organization")
        assert 0.0 <= p <= 1.0
        assert WORD.match(text[s]) and WORD.match(text[e - 1]), text[s:e]
        assert s == 0 or not WORD.match(text[s - 1]), f"starts inside a word: {text[s - 1 : e]!r}"
        assert e == len(text) or not WORD.match(text[e]), f"ends inside a word: {text[s : e + 1]!r}"
        last = e


# --------------------------------------------------------------------------------------------- model


def test_model_file_is_plain_arrays_and_small():
    assert ner.MODEL_PATH.stat().st_size < 3_000_000
    with np.load(ner.MODEL_PATH, allow_pickle=False) as z:  # raises if anything needs pickle
        assert all(z[name].dtype != object for name in z.files)
    model = ner.load_model()
    assert model.weights.shape == (len(model.offsets), model.n_rows, len(ner.CLASSES))
    assert not model.weights[:, model.zero_row].any()


def test_model_version_derives_from_the_file(tmp_path):
    digest = hashlib.sha256(ner.MODEL_PATH.read_bytes()).hexdigest()[:10]
    expected = f"{ner.MODEL_NAME.removeprefix('ner-')}+{digest}"
    assert expected == ner.MODEL_VERSION
    copy = tmp_path / ner.MODEL_PATH.name
    shutil.copy(ner.MODEL_PATH, copy)
    assert ner._file_version(copy) == ner.MODEL_VERSION
    copy.write_bytes(copy.read_bytes() + b"\0")
    assert ner._file_version(copy) != ner.MODEL_VERSION


def test_clear_sentences_are_tagged():
    # a person after a title (the title is not part of the name), a city, an organization before نے
    assert ("شہباز شریف", "person") in tagged("وزیراعظم شہباز شریف نے اجلاس کی صدارت کی۔")
    assert ("وزیراعظم شہباز شریف", "person") not in tagged("وزیراعظم شہباز شریف نے اجلاس کی صدارت کی۔")
    assert ("کراچی", "location") in tagged("کراچی میں شدید بارش کے بعد کئی علاقے زیر آب آ گئے۔")
    assert ("لاہور", "location") in tagged("اجلاس لاہور میں ہوا۔")
    assert ("اقوام متحدہ", "organization") in tagged("اقوام متحدہ نے امداد کی اپیل کی ہے۔")
    assert ("تحریک انصاف", "organization") in tagged("تحریک انصاف نے احتجاج کا اعلان کیا۔")


def test_plain_sentence_has_no_entities():
    assert tagged("آج موسم بہت اچھا ہے اور بچے کھیل رہے ہیں۔") == []


def test_spans_are_whole_words_disjoint_and_ordered():
    words = "وزیراعظم شہباز شریف نے لاہور میں کہا کہ پاکستان اور بھارت تحریک انصاف کے رہنما عمران خان 2024 ABC"
    words = words.split(" ")
    rng = random.Random(7)
    texts = []
    for _ in range(300):
        parts = [
            rng.choice([*words, "۔", "،", "\n", "(", ")", "‘", "’", "پی۔ٹی۔آئی", "11ویں", "🙂"]) for _ in range(30)
        ]
        texts.append(normalize(" ".join(parts)).replace(" ", rng.choice(["", " "]), rng.randint(0, 3)))
    spans = ner.predict_spans(texts)
    assert len(spans) == len(texts)
    assert sum(map(len, spans)) > 100
    for text, found in zip(texts, spans):
        check_spans(text, found)


def test_no_span_crosses_a_line_or_a_full_stop():
    text = "اسلام آباد\nلاہور۔ کراچی"
    for s, e, _, _ in ner.predict_spans([text])[0]:
        assert "\n" not in text[s:e] and "۔" not in text[s:e]


def test_empty_and_odd_inputs():
    assert ner.predict_spans([]) == []
    assert ner.predict_spans(["", " ", "\n\n", "۔۔۔", "🙂", "\u200c"]) == [[]] * 6
    odd = ["\ud800 لاہور میں", "abc 123", "لاہور" * 50, "\t\x00\u2028کراچی\u00a0میں"]
    for text, spans in zip(odd, ner.predict_spans(odd)):
        check_spans(text, spans)


def test_very_long_text():
    sentence = "وزیراعظم شہباز شریف نے لاہور میں کہا کہ تحریک انصاف کے رہنما اسلام آباد گئے "
    text = sentence * (1_000_000 // len(sentence.encode()))  # 1 MB without a full stop
    (spans,) = ner.predict_spans([text])
    check_spans(text, spans)
    assert len(spans) > 1000


def test_batch_equals_one_text_at_a_time():
    texts = [
        "وزیراعظم شہباز شریف نے اجلاس کی صدارت کی۔",
        "",
        "کراچی میں شدید بارش\nاقوام متحدہ نے امداد کی اپیل کی ہے۔",
        "abc",
        "تحریک انصاف نے احتجاج کا اعلان کیا۔ عمران خان لاہور پہنچے۔",
    ]
    assert ner.predict_spans(texts) == [ner.predict_spans([t])[0] for t in texts]
    assert ner.predict_spans(texts[::-1]) == ner.predict_spans(texts)[::-1]


def test_tokens_offsets_are_char_offsets():
    text = "‘پی۔ٹی۔آئی’ کے 11ویں اجلاس، لاہور\n🙂 x"
    tokens = ner.tokenize(["", text])
    got = [text[s:e] for s, e in zip(tokens.start.tolist(), tokens.end.tolist())]
    assert got == ["‘", "پی۔ٹی۔آئی", "’", "کے", "11ویں", "اجلاس", "،", "لاہور", "🙂", "x"]
    assert set(tokens.doc.tolist()) == {1}
    # a new window segment after the comma? no; after the newline, yes
    seg = dict(zip(got, tokens.segment.tolist()))
    assert seg["،"] == seg["لاہور"] != seg["🙂"]


def test_viterbi_matches_brute_force():
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 7):
        scores = rng.normal(size=(n, 4)).astype(np.float32)
        trans = rng.normal(size=(4, 4)).astype(np.float32)

        def total(path, scores=scores, trans=trans):
            return sum(scores[i, k] for i, k in enumerate(path)) + sum(trans[a, b] for a, b in itertools.pairwise(path))

        best = max(itertools.product(range(4), repeat=n), key=total)
        assert ner.viterbi(scores, np.zeros(n, dtype=np.int64), trans).tolist() == list(best)


# --------------------------------------------------------------------------------------------- readers


@pytest.fixture(scope="module")
def train_ner():
    if not NER_CORPORA.is_dir():
        pytest.skip(f"NER corpora not found at ../shared/corpora/ner (looked in {NER_CORPORA})")
    return _train_ner()


@pytest.mark.parametrize(
    ("name", "sentences", "entities"),
    [
        ("ijcnlp", 2006, {"location": 1490, "person": 416, "organization": 189}),
        ("jahangir", 1662, {"location": 1215, "person": 764, "organization": 489}),
        ("uner", 1744, {"location": 1201, "person": 1180, "organization": 667}),
    ],
)
def test_readers_count_sentences_and_entities(train_ner, name, sentences, entities):
    corpus = train_ner.read_corpus(name, NER_CORPORA.parent)
    assert len(corpus) == sentences
    counts: dict[str, int] = {}
    for sent in corpus:
        assert len(sent.tokens) == len(sent.tags) > 0
        assert all(t in ("O", "person", "location", "organization") for t in sent.tags)
        for _, _, typ in train_ner.entity_runs(sent.tags):
            counts[typ] = counts.get(typ, 0) + 1
    assert counts == entities


def test_uner_reader_tags_and_broken_tags(train_ner, tmp_path):
    path = tmp_path / "uner.txt"
    path.write_bytes(
        "<PERSON>سعید اجمل/<PERSON> کا نام\ufeff<LOCATION>لاہور</LOCATION>میں <DESIGNATION>صدر</DESIGNATION>\r\n"
        "رہنما اسحاق خاکوانی</PERSON> اور <NUMBER>25/<NUMBER> لوگ\r\n".encode()
    )
    got = [list(zip(s.tokens, s.tags)) for s in train_ner.read_uner(path)]
    assert got == [
        [("سعید", "person"), ("اجمل", "person"), ("کا", "O"), ("نام", "O")],
        [("لاہور", "location"), ("میں", "O"), ("صدر", "O")],
        [("رہنما", "O"), ("اسحاق", "O"), ("خاکوانی", "O"), ("اور", "O"), ("25", "O"), ("لوگ", "O")],
    ]


def test_training_text_is_split_like_run_time_text(train_ner):
    sents = [train_ner.Sentence(["لاہور،", "پاکستان", "میں", "ہے۔"], ["location", "location", "O", "O"])]
    data = train_ner.dataset(sents)
    words = [data.tokens.types[i].as_py() for i in data.tokens.type_id.tolist()]
    assert words == ["لاہور", "،", "پاکستان", "میں", "ہے", "۔"]
    assert [ner.CLASSES[k] for k in data.labels.tolist()] == ["location", "O", "location", "O", "O", "O"]


def test_titles_are_not_part_of_a_person(train_ner):
    sents = [train_ner.Sentence(["صدر", "عارف", "علوی", "صاحب", "نے"], ["person"] * 4 + ["O"])]
    (out,), changed = train_ner.harmonize(sents, frozenset({"صدر"}))
    assert out.tags == ["O", "person", "person", "O", "O"] and changed == 2
