"""Text counts and quality flags of one article, calibrated for Urdu news.

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
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import count
from pathlib import Path

import numpy as np

from etl import rule_files
from etl.text.segment import is_word

#: Urdu stop words, one a line; "core" in a second column marks FineWeb-2's thirteen.
STOP_WORDS_FILE = Path(__file__).resolve().parent / "rules" / "urdu_stop_words.txt"

# ------------------------------------------------------------------------------ thresholds
MIN_WORDS = 50  # Gopher min_doc_words, kept by FineWeb-2
MIN_URDU_SHARE = 0.5
MIN_ROMAN_SHARE = 0.1
MIN_LATIN_WORDS = 5  # Roman-Urdu detection needs a few Latin words to judge
DUP_LINE_FRAC = 0.182  # FineWeb-2 urd_Arab dup_line_frac
DUP_LINE_CHAR_FRAC = 0.1  # FineWeb-2 char_duplicates_ratio (all languages)
FINEWEB2_TOP_NGRAMS = ((2, 0.074), (3, 0.082), (4, 0.093))  # urd_Arab top_n_grams
FINEWEB2_DUP_NGRAMS = ((5, 0.115), (6, 0.099), (7, 0.087), (8, 0.077), (9, 0.07), (10, 0.064))  # urd_Arab dup_n_grams
NEWS_REPETITION_FACTOR = 2.5  # adapted for short, formulaic news articles (module docstring)
TOP_NGRAMS = tuple((n, frac * NEWS_REPETITION_FACTOR) for n, frac in FINEWEB2_TOP_NGRAMS)
DUP_NGRAMS = tuple((n, frac * NEWS_REPETITION_FACTOR) for n, frac in FINEWEB2_DUP_NGRAMS)
MIN_STOP_WORDS = 2  # FineWeb-2 GopherQualityFilter(min_stop_words=2)
MIN_STOPWORD_RATIO = 0.08
MAX_BOILERPLATE_SHARE = 0.5
#: Reading speed assumed by ``reading_time_seconds`` (see there).
URDU_WORDS_PER_MINUTE = 180

#: Common Roman-Urdu function words; none is also a common English word (to, me, in, is, us,
#: the, main, par, or and the news agency AP are left out for that reason).
ROMAN_URDU_WORDS = frozenset(
    "hai hain hy ki ke ka ko se mein mai aur nahi nahin nai bhi tha thi thay kya yeh ye woh wo "
    "kar karna karne kiya liye lekin magar agar raha rahe rahi gaya gayi diya apne apni apna hum aap "
    "sab kuch koi wala wali wale tak jab phir abhi sirf bohat bahut hota hoti hotay kyun kyunke "
    "hoga hogi sakta sakte chahiye".split())

#: The Arabic script blocks (Arabic, Supplement, Extended-A, presentation forms A and B).
ARABIC_RANGES = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_BLANK = re.compile(r"\n\s*")


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


QUALITY_VERSION = "1.0.0+" + rule_files.files_digest([STOP_WORDS_FILE], repr((
    MIN_WORDS, MIN_URDU_SHARE, MIN_ROMAN_SHARE, MIN_LATIN_WORDS, DUP_LINE_FRAC, DUP_LINE_CHAR_FRAC,
    TOP_NGRAMS, DUP_NGRAMS, MIN_STOP_WORDS, MIN_STOPWORD_RATIO, MAX_BOILERPLATE_SHARE,
    sorted(ROMAN_URDU_WORDS))))


# ------------------------------------------------------------------------------------ counts

@lru_cache(maxsize=1)
def _letter_classes() -> np.ndarray:
    """Per code point of the Basic Multilingual Plane: 0 not a letter, 1 a letter, 2 an Arabic-script letter."""
    table = np.array([chr(cp).isalpha() for cp in range(0x10000)], dtype=np.uint8)
    for lo, hi in ARABIC_RANGES:
        table[lo:hi + 1] *= 2
    return table


def _classes(text: str) -> np.ndarray:
    """The class of each character of ``text`` (one entry per character)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return _letter_classes()[np.minimum(codes, 0xFFFF)]  # past the BMP (emoji ...): U+FFFF, not a letter


def letter_counts(text: str) -> tuple[int, int]:
    """``(Arabic-script letters, all letters)`` of ``text`` (letters as ``str.isalpha``, in the BMP)."""
    if not text:
        return 0, 0
    # Counting needs no per-character alignment, so UTF-16 code units index the table directly:
    # a character past the BMP becomes two surrogates, neither a letter, and counts as no letter.
    codes = np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)
    counts = np.bincount(_letter_classes()[codes], minlength=3)
    return int(counts[2]), int(counts[1] + counts[2])


def urdu_share(text: str) -> float:
    """Share of the letters of ``text`` that are Arabic-script letters; 0.0 when it has no letters.

    Digits, punctuation and spaces are not letters, so numbers and ``۔ ،`` do not move it.
    """
    arabic, letters = letter_counts(text or "")
    return arabic / letters if letters else 0.0


def urdu_shares(texts: Sequence[str | None]) -> np.ndarray:
    """``urdu_share`` of many texts at once (one encode and one table lookup for the whole batch)."""
    texts = [t or "" for t in texts]
    if not texts:
        return np.zeros(0)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    classes = _classes("".join(texts))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    nonempty = lengths > 0
    arabic = np.zeros(len(texts))
    letters = np.zeros(len(texts))
    if nonempty.any():
        at = starts[nonempty]
        arabic[nonempty] = np.add.reduceat(classes == 2, at)
        letters[nonempty] = np.add.reduceat(classes > 0, at)
    return np.divide(arabic, letters, out=np.zeros(len(texts)), where=letters > 0)


def reading_time_seconds(word_count: int) -> int:
    """Seconds an adult needs to read ``word_count`` Urdu words, rounded up.

    Assumes 180 words a minute. No standardised reading-speed norm exists for Urdu; the IReST
    study (Trauzettel-Klosinski et al., 2012) measured silent reading of the same text in 17
    languages: 228 words a minute in English and 138 in Arabic, whose words carry attached
    articles, prepositions and pronouns. Urdu shares the Arabic script but writes postpositions,
    auxiliaries and light verbs as separate short words (کے، میں، ہے، کیا گیا), so one sentence has
    more, shorter words than its Arabic counterpart; 180 sits between the two. It is an
    assumption, not a measurement. Word counts are those of the segmenter (numbers count as words).
    """
    if word_count <= 0:
        return 0
    return math.ceil(word_count * 60 / URDU_WORDS_PER_MINUTE)


@lru_cache(maxsize=1)
def _word_starts() -> frozenset[str]:
    """First characters that make a token a word (``etl.text.segment.is_word`` depends on it alone)."""
    return frozenset(c for c in map(chr, range(0x10000)) if is_word(c))


class _TokenIsWord(dict):
    """``{token: 1 if it is a word or number else 0}``, filled as tokens are met.

    Articles repeat their tokens (``کے``, ``میں`` ...), so one dict lookup per token replaces
    taking its first character (a new string) and testing it. Emptied when it grows past
    ``limit`` entries, so memory stays bounded whatever the corpus.
    """

    limit = 1 << 18

    def __missing__(self, token: str) -> int:
        if len(self) >= self.limit:
            self.clear()
        value = self[token] = 1 if token and token[0] in _word_starts() else 0
        return value


_token_is_word = _TokenIsWord()


def word_count(tokens: Sequence[str]) -> int:
    """How many of ``tokens`` are words or numbers, as ``etl.text.segment.is_word`` counts them
    (a token starting past the Basic Multilingual Plane, an emoji say, is not counted)."""
    return sum(map(_token_is_word.__getitem__, tokens))


# ---------------------------------------------------------------------------------- repetition
# The n-gram tests follow datatrove's GopherRepetitionFilter: a "top" n-gram covers
# len(" ".join(gram)) * count characters; duplicate n-grams are counted scanning left to right,
# jumping past each repeat, with len("".join(gram)) characters each. Both are computed exactly
# on integer ids of the tokens, n ids packed into one integer, in numpy; the Python scan runs
# only when a cheap upper bound says a duplicate test might fail.

def _lines(body: str) -> list[str]:
    return [line for line in (part.strip() for part in _BLANK.split(body)) if line]


def _duplicates(items: Sequence[str]) -> tuple[int, int]:
    """Repeated elements (after their first occurrence): how many, and their characters."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


class _Grams:
    """The tokens of one text as ids, with what the n-gram tests need."""

    def __init__(self, tokens: Sequence[str]):
        vocab: dict[str, int] = {}
        self.tokens = tokens
        # a token's id is where it first occurs: equal tokens, equal ids
        self.ids = np.fromiter(map(vocab.setdefault, tokens, count()), dtype=np.int64, count=len(tokens))
        self.bits = max(1, (len(tokens) - 1).bit_length())
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        self.cum = np.zeros(len(tokens) + 1, dtype=np.int64)  # characters before token i
        np.cumsum(lengths, out=self.cum[1:])
        self._keys: dict[int, np.ndarray] = {1: self.ids}
        self._rarest: dict[int, np.ndarray] = {}

    def keys(self, n: int) -> np.ndarray | None:
        """One integer per n-gram, equal exactly when the n-grams are (None if n ids do not fit).

        The n-gram keys extend the (n-1)-gram ones by one id (the tests ask for n = 2, 3, 4, 5
        in turn), which gives the same integers as packing all n ids afresh.
        """
        count = len(self.ids) - n + 1
        if count <= 0 or n * self.bits > 63:
            return None
        key = self._keys.get(n)
        if key is None:
            shorter = self._keys.get(n - 1)
            if shorter is None:
                key = np.zeros(count, dtype=np.int64)
                for j in range(n):
                    key = (key << self.bits) | self.ids[j:j + count]
            else:
                key = (shorter[:count] << self.bits) | self.ids[n - 1:]
            self._keys[n] = key
        return key

    def rarest(self, n: int) -> np.ndarray:
        """Per n-gram, how often its rarest token occurs in the text: no n-gram occurs more often."""
        out = self._rarest.get(n)
        if out is None:
            if n == 1:
                out = np.bincount(self.ids)[self.ids]
            else:
                shorter = self.rarest(n - 1)
                out = np.minimum(shorter[:-1], self.rarest(1)[n - 1:])
            self._rarest[n] = out
        return out

    def chars(self, n: int) -> np.ndarray:
        """Characters of each n-gram's tokens, without separators."""
        return self.cum[n:] - self.cum[:-n]

    def top_exceeds(self, n: int, limit: float) -> bool:
        """Whether ``top_chars(n)`` exceeds ``limit``; most texts are settled by a bound, without
        finding which n-gram is on top.

        First bound, no sorting: the top n-gram occurs at most as often as its rarest token, so
        ``top_chars(n)`` is at most the largest ``rarest(n) * (chars(n) + n - 1)``. Second, as
        datatrove's own shortcut: the top count times the longest n-gram.
        """
        key = self.keys(n)
        if key is None or not len(key):
            return self.top_chars(n) > limit
        width = self.chars(n) + (n - 1)
        if int((self.rarest(n) * width).max()) <= limit:
            return False
        ordered = np.sort(key)
        starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1], [True]]))
        best = int((starts[1:] - starts[:-1]).max())   # the longest run of equal keys
        if best * int(width.max()) <= limit:
            return False
        return self.top_chars(n) > limit

    def top_chars(self, n: int) -> int:
        """Gopher's top n-gram characters: the most frequent n-gram (the first met among equals)."""
        key = self.keys(n)
        if key is None:
            counts = Counter(zip(*(self.tokens[i:] for i in range(n))))
            if not counts:
                return 0
            gram, count = counts.most_common(1)[0]
            return (sum(map(len, gram)) + n - 1) * count
        _, first, counts = np.unique(key, return_index=True, return_counts=True)
        best = counts.max()
        i = int(first[counts == best].min())
        return int((self.chars(n)[i] + n - 1) * best)

    def repeated_cover(self, n: int) -> int:
        """Characters of the tokens covered by an n-gram seen earlier in the text.

        Every duplicate n'-gram (n' >= n) that Gopher's scan counts lies inside this cover, and
        the counted ones do not overlap, so this bounds the duplicate characters of all n' >= n.
        """
        key = self.keys(n)
        if key is None:
            return int(self.cum[-1])
        order = np.argsort(key, kind="stable")   # equal keys stay in text order
        ordered = key[order]
        at = order[1:][ordered[1:] == ordered[:-1]]   # where an n-gram occurs again
        if not len(at):
            return 0
        edges = np.zeros(len(self.ids) + 1, dtype=np.int64)
        # The indices of each statement are distinct, so fancy ``+=`` adds as np.add.at would.
        edges[at] += 1
        edges[at + n] -= 1
        covered = np.cumsum(edges[:-1]) > 0
        return int((self.cum[1:] - self.cum[:-1])[covered].sum())

    def dup_chars(self, n: int) -> int:
        """Gopher's duplicate n-gram characters: scanning left to right, an n-gram seen before
        counts its characters and the scan jumps past it."""
        grams = list(zip(*(self.tokens[i:] for i in range(n))))
        seen: set[tuple[str, ...]] = set()
        chars, i = 0, 0
        while i < len(grams):
            gram = grams[i]
            if gram in seen:
                chars += sum(map(len, gram))
                i += n
            else:
                seen.add(gram)
                i += 1
        return chars


def repetition_reason(body: str, tokens: Sequence[str], words: int | None = None) -> str | None:
    """Which Gopher repetition test ``body`` fails first (``dup_line``, ``top_2_gram`` ...), or None."""
    size = len(body)
    if not size:
        return None
    lines = _lines(body) if "\n" in body else ()   # one line (most bodies): no line test applies
    if len(lines) > 1:
        dup_lines, dup_chars = _duplicates(lines)
        if dup_lines / len(lines) > DUP_LINE_FRAC:
            return "dup_line"
        if dup_chars / size > DUP_LINE_CHAR_FRAC:
            return "dup_line_chars"
    if (word_count(tokens) if words is None else words) < MIN_WORDS:
        return None
    grams = _Grams(tokens)
    for n, frac in TOP_NGRAMS:
        if grams.top_exceeds(n, frac * size):
            return f"top_{n}_gram"
    first_n = DUP_NGRAMS[0][0]
    if grams.repeated_cover(first_n) / size <= min(frac for _, frac in DUP_NGRAMS):
        return None
    for n, frac in DUP_NGRAMS:
        if grams.dup_chars(n) / size > frac:
            return f"dup_{n}_gram"
    return None


# --------------------------------------------------------------------------------------- flags

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
        latin = [w.lower() for w in _LATIN_WORD.findall(body)]
        roman = sum(w in ROMAN_URDU_WORDS for w in latin)
        if len(latin) >= MIN_LATIN_WORDS and roman / len(latin) >= MIN_ROMAN_SHARE:
            flags.append("roman_urdu")
        else:
            flags.append("non_urdu")
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


def quality_flags_batch(bodies: Sequence[str | None], tokens: Sequence[Sequence[str] | None] | None = None,
                        boilerplate_chars: Sequence[int | None] | None = None) -> list[list[str]]:
    """``quality_flags`` of many articles; the lists are parallel to ``bodies``."""
    n = len(bodies)
    toks = tokens if tokens is not None else [None] * n
    boiler = boilerplate_chars if boilerplate_chars is not None else [0] * n
    return [quality_flags(b or "", None if t is None else list(t), int(c or 0)) for b, t, c in zip(bodies, toks, boiler)]
