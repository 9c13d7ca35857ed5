"""TF-IDF keywords with Urdu stop words (etl.enrich.keywords) and the shipped idf table."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from etl.enrich import keywords as kw
from etl.enrich.keywords import is_candidate, keywords
from etl.enrich.quality import stop_words
from etl.read.bbc_doc import parse as parse_bbc
from etl.text.normalize import normalize
from etl.text.segment_column import segment

ROOT = Path(__file__).resolve().parents[1]


def tokens_of(text: str) -> list[str]:
    return [t for toks in segment([text])["tokens"].to_pylist() for t in toks]


def test_stop_words_digits_punctuation_latin_and_single_letters_are_never_keywords():
    toks = tokens_of("کے میں اور 2024 ۱۹۹۰ ، ۔ ؟ ( ) BBC News ب ک سی آئی سی سی سیلاب سیلاب")
    assert keywords(toks, k=20) == ["سیلاب"]
    assert not any(is_candidate(w) for w in stop_words())
    assert is_candidate("پی۔ٹی۔آئی") and is_candidate("نیب") and not is_candidate("1990ء")


def test_frequency_and_rarity_both_count():
    idf, unknown = kw.idf_table()
    assert unknown == max(idf.values())
    assert idf["پاکستان"] < idf["سیلاب"]  # the most common word of the corpora weighs least
    # an unknown word once beats the commonest word once; the common word said five times wins
    assert keywords(["پاکستان", "قزلقورم"], k=1) == ["قزلقورم"]
    assert keywords(["پاکستان"] * 5 + ["قزلقورم"], k=1) == ["پاکستان"]


def test_ties_are_broken_by_word_and_order_does_not_matter():
    words = ["ژژژب", "ژژژا", "ژژژج"]  # unknown words: equal weight
    assert keywords(words) == sorted(words)
    assert keywords(list(reversed(words))) == sorted(words)
    assert keywords(words, k=2) == sorted(words)[:2]
    assert keywords(words, k=0) == [] and keywords([]) == []


def test_keywords_do_not_depend_on_the_batch():
    a = tokens_of("کراچی میں سیلاب سے سڑکیں ڈوب گئیں اور سیلاب کا پانی گھروں میں داخل ہو گیا۔")
    b = tokens_of("لاہور میں کرکٹ میچ بارش کی وجہ سے منسوخ کر دیا گیا۔")
    alone = keywords(a)
    assert kw.keywords_batch([a, b]) == [alone, keywords(b)]
    assert kw.keywords_batch([b, a, a])[1:] == [alone, alone]
    assert alone[0] == "سیلاب" and len(alone) == len(set(alone)) <= kw.DEFAULT_K


def test_idf_table_is_modest_sorted_and_holds_candidates_only():
    path = kw.IDF_FILE
    assert path.stat().st_size < 1_000_000
    lines = path.read_text(encoding="utf-8").splitlines()
    documents = [int(line.split("\t")[1]) for line in lines if line.startswith("# documents\t")]
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    assert documents and documents[0] > 10_000
    assert 1_000 < len(rows) <= 30_000
    counts = [int(c) for _, c in rows]
    assert counts == sorted(counts, reverse=True) and counts[-1] >= 2 and counts[0] <= documents[0]
    assert all(is_candidate(w) and normalize(w) == w for w, _ in rows)
    assert len({w for w, _ in rows}) == len(rows)


def test_document_frequency_counts_each_body_once():
    sys.path.insert(0, str(ROOT / "bench"))
    from build_idf import document_frequencies

    df = document_frequencies(["سیلاب سیلاب سیلاب کا پانی۔", "سیلاب کے بعد۔", "کرکٹ میچ۔"])
    assert df["سیلاب"] == 2 and df["پانی"] == 1 and df["کرکٹ"] == 1
    assert "کا" not in df and "کے" not in df and "۔" not in df


def test_bbc_keywords_name_the_story(corpora):
    paths = sorted(corpora.glob("bbc_voa/*/*/*.doc"))
    random.Random(5).shuffle(paths)
    hits = total = 0
    for path in paths[:300]:
        doc = parse_bbc(path.read_text(encoding="utf-8"), path.name)
        body, headline = normalize(doc["body"] or ""), normalize(doc.get("headline") or "")
        if not body or not headline:
            continue
        toks = tokens_of(body)
        words = keywords(toks)
        assert words == keywords(toks)  # deterministic
        assert all(w in toks for w in words)
        total += 1
        hits += bool(set(words) & set(headline.split()))
    # most headlines share a word with the article's keywords (about 86% over the whole BBC/VOA set)
    assert total > 250 and hits / total > 0.7
