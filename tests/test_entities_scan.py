"""The compiled gazetteer and title scan (``etl.text.compiled.entity_scan``) finds what the regexes
that define it find (``entities._scan_spec``), and the batch guards equal the per-text ones."""

from __future__ import annotations

import random
import re

import pytest

from etl.enrich import entities
from etl.enrich.gazetteers import WORD_CHARS, bounded, gazetteer, trie_regex, word_set
from etl.text.compiled import entity_scan


def batch_of(texts):
    found = entities._scan_batch(texts)
    hits = entities._scanner()[5]
    out = []
    for text, spans, ends in zip(texts, found.gazetteer, found.title_ends, strict=True):
        assert [hits[s] for _, _, s in spans] == [entities._gazetteer_hits()[text[a:b]] for a, b, _ in spans]
        out.append(([(a, b) for a, b, _ in spans], ends))
    return out


def random_texts(n, seed):
    rng = random.Random(seed)
    surfaces = sorted(gazetteer())
    titles = sorted(word_set("titles.txt"))
    words = ["کے", "نے", "میں", "اور", "خان", "علی", "شریف", "لاہوری", "پاکستانی", "ab", "12", "\u200c"]
    seps = [" ", " ", " ", "  ", "۔ ", "، ", "\n", "-", "", "(", ")", "\U0001f600", "\ud800", "٫"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(0, 40)):
            r = rng.random()
            part = rng.choice(titles) if r < 0.3 else rng.choice(surfaces) if r < 0.6 else rng.choice(words)
            if rng.random() < 0.1:  # a surface cut short or run on into a longer word
                part = part[: rng.randint(1, len(part))] if rng.random() < 0.5 else part + rng.choice(words)
            parts += [part, rng.choice(seps)]
        out.append("".join(parts))
    return out


def test_scan_finds_what_the_regexes_find():
    texts = random_texts(400, seed=1) + ["", " ", "وزیراعظم", "صدر ", "سابق وزیر اعظم شہباز شریف"]
    assert batch_of(texts) == [entities._scan_spec(t) for t in texts]
    assert sum(len(e) for _, e in batch_of(texts)) > 100  # the texts do hold title chains
    assert sum(len(g) for g, _ in batch_of(texts)) > 1000


def test_scan_in_pieces_gives_what_it_gives_in_one(monkeypatch):
    texts = random_texts(60, seed=2)
    whole = batch_of(texts)
    monkeypatch.setattr(entity_scan, "PIECE", 50)
    assert batch_of(texts) == whole


def _spec(gaz, titles, text):
    """``_scan_spec`` with lists of one's own."""
    one = trie_regex(titles)
    chain = f"({one}(?: (?:{one}))*)(?![{WORD_CHARS}])"
    g = bounded(trie_regex(gaz))
    t = re.compile(f"(?<![{WORD_CHARS}]){chain}")
    return [(m.start(), m.end()) for m in g.finditer(text)], [m.end() for m in t.finditer(text)]


@pytest.mark.parametrize(
    "gaz, titles, text",
    [
        # the first title is taken longest first, even where a shorter one would make a longer chain
        (["ا"], ["ا", "ا ب", "ب ج"], "ا ب ج۔"),
        # a chain that cannot end before a non-word character backs off to a shorter one
        (["ا"], ["ا", "ا ب", "ب"], "ا ب ج ا ب"),
        (["ا"], ["ا", "ب", "ا ب", "ب د"], "ا ب دج ا ب د"),
        (["ا"], ["ا"], " ".join(["ا"] * 300) + "ب"),  # a long chain that never ends: no title
        # the longest surface a word character does not follow; none inside a word
        (["ا", "ا ب", "ا ب ج"], ["ت"], "ا ب جد ا ب ج ا بج لا ب"),
        (["ب"], ["ب"], "ب\u200cب ب1 ب"),
    ],
)
def test_scan_backs_off_as_the_regex_does(gaz, titles, text):
    symbol = entity_scan.symbols(gaz, titles)
    g_trie, surfaces = entity_scan.build_trie(gaz, symbol)
    t_trie, _ = entity_scan.build_trie(titles, symbol)
    found = entity_scan.scan([text], entity_scan.word_table(WORD_CHARS), symbol, g_trie, t_trie, max(map(len, titles)))
    spans, ends = _spec(gaz, titles, text)
    assert [(a, b) for a, b, _ in found.gazetteer[0]] == spans
    assert [surfaces[k] for _, _, k in found.gazetteer[0]] == [text[a:b] for a, b in spans]
    assert found.title_ends[0] == ends


def test_word_table_is_the_character_class():
    table = entity_scan.word_table(WORD_CHARS)
    pattern = re.compile(f"[{WORD_CHARS}]")
    for cp in [0x30, 0x41, 0x20, 0x627, 0x6D4, 0x200C, 0x200D, 0xD800, 0x1F600, 0x10FFFF]:
        assert bool(table[cp]) == bool(pattern.match(chr(cp))), hex(cp)
        assert (chr(cp) in entities._word_chars()) == bool(pattern.match(chr(cp))), hex(cp)
    assert len(entities._word_chars()) == int(table.sum()) > 200


def test_batch_guards_equal_the_per_text_search():
    texts = random_texts(100, seed=3) + ["محکمہ موسمیات", "انسٹی ٹیوٹ", "انسٹی  ٹیوٹ", "\ud800", ""]
    for name in ("body_heads.txt", "org_heads.txt"):
        expected = [bool(entities._any_word_of(name).search(t)) for t in texts]
        assert entities._holding(texts, name) == expected
        assert any(expected) and not all(expected)
