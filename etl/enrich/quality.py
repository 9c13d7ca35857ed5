"""Quality flags of one article, calibrated for Urdu news.

A flagged article is kept and marked, never dropped: ``quality_flags`` returns reason codes
(an empty list means clean) and the warehouse can filter on them.

Flags and where their thresholds come from
------------------------------------------
The starting point is FineWeb-2's filter configuration for Urdu in Arabic script
(huggingface/fineweb-2 ``configs/urd_Arab.yml`` and ``fineweb-2-pipeline.py``, which feed
datatrove's GopherRepetitionFilter, FineWebQualityFilter and GopherQualityFilter). Those numbers
were tuned on Urdu web pages; what was adapted for clean news articles says why below. English
defaults (Gopher's "the, be, to, of ..." stop words, its 0.2/0.18/0.16 n-gram fractions) are
never used.

``empty_body``
    No text at all. (The transform already rejects such records; the flag covers other callers.)
``stub_body``
    Fewer than ``MIN_WORDS`` = 50 words: Gopher's ``min_doc_words``, which FineWeb-2 keeps for
    every language, taken as is. On the corpora it marks the BBC/VOA video pages, whose body is
    a one- or two-sentence caption ("دیکھیے اس ویڈیو میں"), and a few truncated news bodies. The
    express source holds a headline and a one-line lead per row (18 words on average), so all
    of its rows are stubs by design: there the flag says "no article body", not "bad row".
``non_urdu``
    Under ``MIN_URDU_SHARE`` of the letters are Arabic-script letters. FineWeb-2 uses a GlotLID
    confidence (``language_score: 0.847``), a model score that cannot be computed cheaply here;
    the share of script is its cheap stand-in. 0.5 lets through Urdu articles that quote English
    names, bylines and embeds (the lowest shares in the cleaned corpora: 0.78 in a UrduPoint story
    on a phone launch full of Latin model names, 0.6 in a one-line express lead naming two actresses
    in Latin letters) and catches bodies that are mostly English.
``roman_urdu``
    Mostly Latin letters, and at least ``MIN_ROMAN_SHARE`` of the Latin words are common
    Roman-Urdu function words (hai, ki, ke, mein, aur ...): Urdu written in Latin letters. It
    replaces ``non_urdu`` for such text, since the language is Urdu. The list leaves out words
    that are also English (to, me, in, is, us, the, main, par) so English text scores near 0.
``heavy_repetition``
    Gopher-style repetition with FineWeb-2's urd_Arab thresholds, taken as they are: duplicate
    lines (paragraphs here) over ``DUP_LINE_FRAC`` = 0.182 of the lines; characters of duplicate
    lines over ``DUP_LINE_CHAR_FRAC`` = 0.1 of the text (FineWeb-2's ``char_duplicates_ratio``,
    raised there from FineWeb's 0.01); the most frequent 2/3/4-gram covering over 0.074/0.082/0.093
    of the characters; duplicate 5- to 10-grams covering over 0.115 ... 0.064 of them. Adapted:
    the n-gram fractions are multiplied by ``NEWS_REPETITION_FACTOR`` = 2.5, and run only on
    bodies of ``MIN_WORDS`` words or more (Gopher's order: a short document fails before its
    repetition is looked at). News articles are short (median ~200 words in the news_sites files)
    and formulaic: the subject's name recurs (یوٹیلیٹی اسٹورز 9 times in 190 words), a
    price report repeats "فی کلو قیمت ... روپے", and BBC/VOA bodies repeat their summary
    sentence. With the urd_Arab numbers as they are, 15% of clean BBC and news bodies were
    flagged, almost all such normal text; at 2x still 0.5-2%, mostly a repeated summary sentence;
    at 2.5x 0.2-0.5%, each a text with verbatim passages repeated several times (cement sales
    tables, a convict list repeating one sentence 8 times, two copies of one report). A body
    pasted twice (fractions near 0.5) is caught at any of these.
``low_stopword_ratio``
    FineWeb-2 keeps a document with at least 2 of its 13 Urdu stop words (``min_stop_words: 2``);
    kept as is. Added: the 13 stop words (``،`` included, as FineWeb-2 counts it) must number at
    least ``MIN_STOPWORD_RATIO`` = 0.08 of the words. In running Urdu news prose they are about a
    quarter of the words (medians 0.24-0.27 per source; the lowest clean body, a figures-heavy
    State Bank report, 0.10); lists, tables, keyword dumps and transliterations fall far below.
    Both tests run only on bodies of ``MIN_WORDS`` words or more, as in Gopher, where a short
    document fails before its stop words are counted: headline-style leads (express) often have
    a single stop word.
``boilerplate_only``
    The cleaning stage removed page furniture (share widgets, "مزید پڑھیں" links, sidebars). Flagged
    when the removed characters are ``MAX_BOILERPLATE_SHARE`` = 0.5 or more of what the record
    held and what is left is a stub: the page was mostly furniture around little or no article
    (BBC video pages). The stub condition is an adaptation: a Jang sidebar pasted into 39% of
    one news_sites file is often larger than the article it sits in (a share over 0.5 in a third
    of that file), yet the article left after its removal is a whole, clean story.

FineWeb-2 checks not used: ``line_punct_thr`` and ``new_line_ratio`` judge line structure of
web pages, which the pipeline's cleaning already rebuilds (hard-wrapped BBC lines are joined);
``min/max_avg_word_length`` (3/31) never fire on the cleaned corpora, and
``max_non_alpha_words_ratio`` (0.839: at least that share of words must hold a letter) fires on
0-0.6% per source, all figure-heavy market and price reports, which are not low quality.
The line tests (``dup_line``) are kept but rarely matter here: most sources deliver a body as
one paragraph.

The repetition tests themselves are in ``etl.enrich.repetition``, the letter, word and reading-time
counts in ``etl.enrich.text_counts``; their public names can be imported from here too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from etl import rule_files
from etl.enrich.repetition import (
    DUP_LINE_CHAR_FRAC,
    DUP_LINE_FRAC,
    DUP_NGRAMS,
    MIN_WORDS,
    TOP_NGRAMS,
    heavy_repetition_column,
    repetition_reason,
)
from etl.enrich.text_counts import (
    ArticleTokens,
    letter_counts,
    letter_counts_batch,
    reading_time_seconds,
    urdu_share,
    urdu_shares,
    word_count,
    word_counts,
)

__all__ = [
    "MIN_WORDS",
    "MIN_URDU_SHARE",
    "MIN_ROMAN_SHARE",
    "MIN_LATIN_WORDS",
    "DUP_LINE_FRAC",
    "DUP_LINE_CHAR_FRAC",
    "TOP_NGRAMS",
    "DUP_NGRAMS",
    "MIN_STOP_WORDS",
    "MIN_STOPWORD_RATIO",
    "MAX_BOILERPLATE_SHARE",
    "ROMAN_URDU_WORDS",
    "STOP_WORDS_FILE",
    "QUALITY_VERSION",
    "stop_words",
    "core_stop_words",
    "quality_flags",
    "quality_flags_batch",
    "quality_flags_column",
    "repetition_reason",
    "letter_counts",
    "urdu_share",
    "urdu_shares",
    "reading_time_seconds",
    "word_count",
]

#: Urdu stop words, one a line; "core" in a second column marks FineWeb-2's thirteen.
STOP_WORDS_FILE = Path(__file__).resolve().parent / "rules" / "urdu_stop_words.txt"

# ------------------------------------------------------------------------------ thresholds
# MIN_WORDS and the repetition thresholds are etl.enrich.repetition's.
MIN_URDU_SHARE = 0.5
MIN_ROMAN_SHARE = 0.1
MIN_LATIN_WORDS = 5  # Roman-Urdu detection needs a few Latin words to judge
MIN_STOP_WORDS = 2  # FineWeb-2 GopherQualityFilter(min_stop_words=2)
MIN_STOPWORD_RATIO = 0.08
MAX_BOILERPLATE_SHARE = 0.5

#: Common Roman-Urdu function words; none is also a common English word (to, me, in, is, us,
#: the, main, par, or and the news agency AP are left out for that reason).
ROMAN_URDU_WORDS = frozenset(
    [
        "hai",
        "hain",
        "hy",
        "ki",
        "ke",
        "ka",
        "ko",
        "se",
        "mein",
        "mai",
        "aur",
        "nahi",
        "nahin",
        "nai",
        "bhi",
        "tha",
        "thi",
        "thay",
        "kya",
        "yeh",
        "ye",
        "woh",
        "wo",
        "kar",
        "karna",
        "karne",
        "kiya",
        "liye",
        "lekin",
        "magar",
        "agar",
        "raha",
        "rahe",
        "rahi",
        "gaya",
        "gayi",
        "diya",
        "apne",
        "apni",
        "apna",
        "hum",
        "aap",
        "sab",
        "kuch",
        "koi",
        "wala",
        "wali",
        "wale",
        "tak",
        "jab",
        "phir",
        "abhi",
        "sirf",
        "bohat",
        "bahut",
        "hota",
        "hoti",
        "hotay",
        "kyun",
        "kyunke",
        "hoga",
        "hogi",
        "sakta",
        "sakte",
        "chahiye",
    ]
)
_LATIN_WORD = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=1)
def _stopword_table() -> dict[str, bool]:
    """Every stop word of rules/urdu_stop_words.txt -> whether it is one of FineWeb-2's core thirteen."""
    out: dict[str, bool] = {}
    for line in rule_files.lines(STOP_WORDS_FILE):
        word, _, mark = line.partition("\t")
        out[word.strip()] = out.get(word.strip(), False) or mark.strip() == "core"
    return out


def stop_words() -> frozenset[str]:
    """All Urdu stop words (the keyword extractor skips them)."""
    return frozenset(_stopword_table())


@lru_cache(maxsize=1)
def core_stop_words() -> frozenset[str]:
    """FineWeb-2's thirteen urd_Arab stop words, which the stop-word flag counts."""
    return frozenset(w for w, core in _stopword_table().items() if core)


QUALITY_VERSION = "1.0.0+" + rule_files.files_digest(
    [STOP_WORDS_FILE],
    repr(
        (
            MIN_WORDS,
            MIN_URDU_SHARE,
            MIN_ROMAN_SHARE,
            MIN_LATIN_WORDS,
            DUP_LINE_FRAC,
            DUP_LINE_CHAR_FRAC,
            TOP_NGRAMS,
            DUP_NGRAMS,
            MIN_STOP_WORDS,
            MIN_STOPWORD_RATIO,
            MAX_BOILERPLATE_SHARE,
            sorted(ROMAN_URDU_WORDS),
        )
    ),
)


# --------------------------------------------------------------------------------------- flags


def _language_flag(body: str) -> str:
    """The flag of a body that is not mostly Urdu script: ``roman_urdu`` or ``non_urdu``."""
    latin = [w.lower() for w in _LATIN_WORD.findall(body)]
    roman = sum(w in ROMAN_URDU_WORDS for w in latin)
    if len(latin) >= MIN_LATIN_WORDS and roman / len(latin) >= MIN_ROMAN_SHARE:
        return "roman_urdu"
    return "non_urdu"


def quality_flags(body: str, tokens: list[str] | None = None, boilerplate_chars: int = 0) -> list[str]:
    """Reason codes for a clean body (empty list: clean), in a fixed order.

    ``tokens`` are the article's tokens as ``etl.text.segment`` gives them (words, numbers and
    punctuation, all sentences in order); without them the body is split at whitespace, which the
    normalizer's spacing of ``۔ ، ؟`` makes nearly the same. ``boilerplate_chars`` is how many
    characters the cleaning stage removed as page furniture.
    """
    body = body or ""
    if not body or body.isspace():
        return ["empty_body"]
    if tokens is None:
        tokens = body.split()
    n_words = word_count(tokens)
    flags: list[str] = []
    if n_words < MIN_WORDS:
        flags.append("stub_body")
    arabic, letters = letter_counts(body)
    if not letters or arabic / letters < MIN_URDU_SHARE:
        flags.append(_language_flag(body))
    if repetition_reason(body, tokens, n_words):
        flags.append("heavy_repetition")
    if n_words >= MIN_WORDS:
        core = core_stop_words()
        stops = sum(map(core.__contains__, tokens))
        if stops < MIN_STOP_WORDS or stops / n_words < MIN_STOPWORD_RATIO:
            flags.append("low_stopword_ratio")
    elif boilerplate_chars > 0 and boilerplate_chars / (boilerplate_chars + len(body)) >= MAX_BOILERPLATE_SHARE:
        flags.append("boilerplate_only")
    return flags


def quality_flags_batch(
    bodies: Sequence[str | None],
    tokens: Sequence[Sequence[str] | None] | None = None,
    boilerplate_chars: Sequence[int | None] | None = None,
) -> list[list[str]]:
    """``quality_flags`` of many articles; the lists are parallel to ``bodies``."""
    n = len(bodies)
    toks = tokens if tokens is not None else [None] * n
    boiler = boilerplate_chars if boilerplate_chars is not None else [0] * n
    return [
        quality_flags(b or "", None if t is None else list(t), int(c or 0)) for b, t, c in zip(bodies, toks, boiler)
    ]


def quality_flags_column(
    bodies: Sequence[str | None],
    tokens: ArticleTokens,
    boilerplate_chars: Sequence[int | None] | None = None,
    letters: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[list[str]]:
    """``quality_flags(body, tokens, boilerplate_chars)`` of every article of a shard at once.

    ``tokens`` holds every article's tokens (``ArticleTokens``); ``letters`` is the bodies'
    ``letter_counts_batch`` when the caller has it. Counts come from whole columns (a token's
    properties are looked up once per distinct token); only the rare bodies that are not mostly
    Urdu script or that a repetition bound does not settle are looked at one by one.
    """
    n = len(bodies)
    filled = [b or "" for b in bodies]
    boiler = np.fromiter((int(c or 0) for c in (boilerplate_chars or [0] * n)), dtype=np.int64, count=n)
    sizes = np.fromiter(map(len, filled), dtype=np.int64, count=n)
    words = word_counts(tokens)
    arabic, all_letters = letter_counts_batch(filled) if letters is None else letters
    # the same divisions as quality_flags, in float64 as Python's
    non_urdu = (all_letters == 0) | (np.divide(arabic, np.maximum(all_letters, 1)) < MIN_URDU_SHARE)
    repeated = heavy_repetition_column(filled, tokens, words)
    core = core_stop_words()
    stops = tokens.sum_per_article(tokens.per_vocab(core.__contains__)[tokens.ids])
    full = words >= MIN_WORDS
    low_stop = full & ((stops < MIN_STOP_WORDS) | (np.divide(stops, np.maximum(words, 1)) < MIN_STOPWORD_RATIO))
    furniture = np.divide(boiler, np.maximum(boiler + sizes, 1))
    mostly_furniture = ~full & (boiler > 0) & (furniture >= MAX_BOILERPLATE_SHARE)
    out: list[list[str]] = []
    for i, body in enumerate(filled):
        if not body or body.isspace():
            out.append(["empty_body"])
            continue
        flags = ["stub_body"] if not full[i] else []
        if non_urdu[i]:
            flags.append(_language_flag(body))
        if repeated[i]:
            flags.append("heavy_repetition")
        if low_stop[i] or mostly_furniture[i]:
            flags.append("low_stopword_ratio" if full[i] else "boilerplate_only")
        out.append(flags)
    return out
