"""The column-wise enrichment (``ArticleTokens`` and the ``*_column`` functions) equals the
per-article functions it replaces, on hand-made edge cases and on real corpus text."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from etl import schema
from etl.articles import segment_articles
from etl.enrich import columns, keywords, quality, repetition, text_counts
from etl.enrich.text_counts import ArticleTokens
from etl.read.bbc_doc import parse as parse_bbc
from etl.text.normalize import collapse_whitespace, normalize
from etl.text.repair import remove_boilerplate, repair_raw
from etl.text.segment_column import segment
from tests.test_quality import ENGLISH, ROMAN_URDU, STORY

LINE = "اس سال بارش معمول سے زیادہ ہوئی ہے۔"
NOUNS = " ".join(["بارش", "سیلاب", "پانی", "شہر", "سڑک", "گاڑی", "بجلی", "اسکول", "بازار", "دکان"] * 6)


def _tokens(bodies: list[str]) -> list[list[str]]:
    seg = segment(bodies)
    out: list[list[str]] = [[] for _ in bodies]
    for doc, toks in zip(seg["doc"].to_pylist(), seg["tokens"].to_pylist()):
        out[doc].extend(toks)
    return out


def _hand_made() -> list[str]:
    words = STORY.split()
    shuffled = words[:]
    random.Random(3).shuffle(shuffled)
    return [
        STORY,
        "",
        " \n ",
        ENGLISH,
        ROMAN_URDU,
        STORY + " " + STORY,  # pasted twice: duplicate n-grams
        "\n".join([STORY] + [LINE] * 4),  # duplicate lines
        "\n".join([STORY, LINE, STORY]),  # duplicate line characters
        NOUNS,  # a word list: no stop words, one top n-gram
        " ".join(shuffled),
        "پاکستان میں بارش کا نیا سلسلہ شروع ہو گیا۔",  # a stub
        STORY + " He said: we will help. 😀 " + "𝐀𝐁𝐂",  # Latin words and characters past the BMP
        " ".join(["سیلاب"] * 60),
        " ".join(f"لفظ{i % 7} خبر{i % 5}" for i in range(80)),
    ]


def _bbc_bodies(corpora, k: int) -> list[str]:
    paths = sorted(corpora.glob("bbc_voa/*/*/*.doc"))
    random.Random(5).shuffle(paths)
    out = []
    for path in paths[:k]:
        body = parse_bbc(path.read_text(encoding="utf-8"), path.name)["body"] or ""
        fixed, _ = repair_raw(body)
        clean, furniture = remove_boilerplate(normalize(fixed))
        out.append(collapse_whitespace(clean) if furniture else clean)
    return [b for b in out if b]


def _check(bodies: list[str], boiler: list[int]) -> None:
    toks = _tokens(bodies)
    column = ArticleTokens.from_lists(toks)
    assert [column.tokens_of(i) for i in range(len(toks))] == toks
    assert text_counts.word_counts(column).tolist() == [text_counts.word_count(t) for t in toks]
    assert quality.quality_flags_column(bodies, column, boiler) == [
        quality.quality_flags(b, t, c) for b, t, c in zip(bodies, toks, boiler)
    ]
    assert repetition.heavy_repetition_column(bodies, column).tolist() == [
        repetition.repetition_reason(b, t) is not None for b, t in zip(bodies, toks)
    ]
    for k in (0, 1, 3, keywords.DEFAULT_K, 50):
        assert keywords.keywords_column(column, k).to_pylist() == [keywords.keywords(t, k) for t in toks]
    arabic, letters = text_counts.letter_counts_batch(bodies)
    assert list(zip(arabic.tolist(), letters.tolist())) == [text_counts.letter_counts(b) for b in bodies]


def test_columns_equal_the_per_article_functions_on_edge_cases():
    bodies = _hand_made()
    boiler = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 500, 3, 0, 0]
    flags = quality.quality_flags_column(bodies, ArticleTokens.from_lists(_tokens(bodies)), boiler)
    # the cases reach every flag, so the equality below compares each of them
    assert {f for fs in flags for f in fs} == {
        "empty_body",
        "stub_body",
        "non_urdu",
        "roman_urdu",
        "heavy_repetition",
        "low_stopword_ratio",
        "boilerplate_only",
    }
    _check(bodies, boiler)


def test_columns_of_no_articles_and_of_articles_without_tokens():
    _check([], [])
    column = ArticleTokens.from_lists([[], [], []])
    assert keywords.keywords_column(column).to_pylist() == [[], [], []]
    assert quality.quality_flags_column(["", "", ""], column) == [["empty_body"]] * 3


def test_columns_equal_the_per_article_functions_on_corpus_text(corpora):
    bodies = _bbc_bodies(corpora, 400)
    assert len(bodies) > 300
    # some made repetitive on purpose, so that the exact tests behind the bounds run too
    bodies += [b + " " + b for b in bodies[:15]] + ["\n".join([b, b, b]) for b in bodies[15:20]]
    boiler = [random.Random(i).choice([0, 0, 10, 4000]) for i in range(len(bodies))]
    flags = quality.quality_flags_column(bodies, ArticleTokens.from_lists(_tokens(bodies)), boiler)
    assert sum("heavy_repetition" in f for f in flags) >= 20
    _check(bodies, boiler)


def _shard(bodies: list[str]) -> tuple[pa.Table, pa.Table]:
    rows = [
        {
            "article_id": f"{i:016x}",
            "source_file": f"f{i % 3}.csv",
            "record_no": i,
            "body": body,
            "char_count": len(body),
            "boilerplate_chars": 0,
        }
        for i, body in enumerate(bodies)
    ]
    return segment_articles(pa.Table.from_pylist(rows, schema=schema.ARTICLES))


def test_token_column_gathers_each_articles_sentences_in_any_order():
    articles, sentences = _shard([STORY, NOUNS, ENGLISH, STORY + " " + LINE])
    expected = columns.article_tokens(articles, sentences)
    assert [columns.article_token_column(articles, sentences).tokens_of(i) for i in range(4)] == expected
    # sentences in another order than their articles: each article still gets its own, in order
    mixed = sentences.take(pa.array(np.random.default_rng(1).permutation(sentences.num_rows)))
    stable = sentences.take(pa.array(np.argsort(mixed["record_no"].to_numpy(), kind="stable")))
    assert columns.article_tokens(articles, mixed) != expected
    got = columns.article_token_column(articles, mixed)
    assert [got.tokens_of(i) for i in range(4)] == columns.article_tokens(articles, mixed)
    assert stable.num_rows == sentences.num_rows
    # a sentence of a record the articles do not hold is an error, as in article_tokens
    stray = sentences.slice(0, 1).set_column(
        sentences.schema.get_field_index("record_no"), "record_no", pa.array([99], pa.int64())
    )
    with pytest.raises(KeyError):
        columns.article_token_column(articles, pa.concat_tables([sentences, stray]))


def test_token_column_of_a_chunked_array_has_one_vocabulary():
    first, second = ["سیلاب", "بارش", "پانی"], ["پانی", "تیز", "بارش"]
    flat = pa.chunked_array([pa.array(first), pa.array(second), pa.array([], pa.string())])
    column = ArticleTokens.from_arrow(flat, np.array([0, 2, 6]))
    assert column.vocab.to_pylist() == sorted(set(first + second))  # code-point order
    assert [column.tokens_of(0), column.tokens_of(1)] == [first[:2], first[2:] + second]
    assert keywords.keywords_column(column, 2).to_pylist() == [
        keywords.keywords(first[:2], 2),
        keywords.keywords(first[2:] + second, 2),
    ]
    assert column.tokens_of(1)[0] == column.tokens_of(1)[1]  # one id for one token across chunks
