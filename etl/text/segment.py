"""Paragraph, sentence and token segmentation of clean Urdu text: the specification.

``paragraphs``, ``sentences``, ``tokens`` and ``is_word`` split one string. They define what
segmentation is; ``etl.text.segment_column.segment`` does the same over a whole column at once,
and ``tests/test_segment_batch.py`` holds it to these functions on real corpus text and on
generated text.

The regexes here are written in the subset that Python ``re`` and RE2 read alike (explicit
character classes, no lookarounds, no backreferences; both pick the leftmost-first match), so
that the column path can run the same patterns in ``pyarrow.compute``. The markers U+FDD0/U+FDD1
(noncharacters) are used internally.

Sentences (the gold-set guidelines, tests/gold/README.md): a sentence ends after a run of ۔ ؟ ? !
(mixed runs and the ellipsis ۔۔۔ or ... are one run) and any closing quotes or brackets, whether or
not a space follows (``ہے۔(جاری ہے)``, ``ہو سکے۔90``); a quote mark glued to the next word opens
the next sentence (``ہے۔’ایکٹر``); any other character glued after the run starts the next
sentence (``ہے؟، ووٹر``). An ASCII full stop after a letter ends a sentence when a space follows
(or between two Urdu words). Not sentence ends: ۔ inside abbreviations of letter names, ۔ between
digits (``2۔50``, a decimal point), the ۔ before the date in a dateline
(``آن لائن۔05 مارچ 2023ء)``), the dot after a Latin initial (``Waseem A. Siddiqui``), and dots
inside URLs (no space follows).
"""

from __future__ import annotations

import re

from etl.text import rules
from etl.text.normalize import LETTERS, is_abbreviation

# ----------------------------------------------------------------------------- shared patterns
# Whitespace exactly as str.isspace / str.strip / str.split see it (and as Arrow's utf8_*_whitespace
# kernels do), written out because RE2's \s is ASCII only.
_WS = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_DIGITS = "0-9۰-۹٠-٩"
_ZWNJ = "\u200c"
_INDIC = "\u0900-\u0963\u0971-\u097f"  # Devanagari letters and marks (not danda, not digits)
_WORDCH = f"{LETTERS}\u200cA-Za-z{_DIGITS}{_INDIC}"  # characters that start a word or number
_TERM = "۔؟?!"
_CLOSE = "\"'”“’‘»«)\\]"

# Internal markers (Unicode noncharacters, which text never contains): the sentence boundary,
# and a mark put right after a ۔ or . that must not end a sentence (deleted again at the end).
_SEP, _KEEP = "\ufdd0", "\ufdd1"

_RUN = rf"(?:[{_TERM}]|\.\.+)[{_TERM}.]*"  # a run of terminators: ۔ ؟ ? ! or an ASCII ellipsis

# Protection: a _KEEP goes after the ۔ before the date of a dateline (آن لائن۔05 مارچ 2023ء)),
# after a ۔ between digits (2۔50) and after Latin initials (Waseem A. Siddiqui, U.N.).
_PROTECT = (
    rf"(۔)( ?[0-9]{{1,2}} [{LETTERS}]+ [0-9]{{4}}ء?\))"
    r"|([0-9]۔)([0-9])"
    r"|(^|[^A-Za-z])((?:[A-Z]\.)+)"
)
_PROTECT_REPL = r"\1\3\5\6" + _KEEP + r"\2\4"
# Sentence ends, marked with _SEP in one pass. A run with its closing marks ends a sentence before
# whitespace; glued to what follows, closing marks followed by punctuation stay with the sentence
# and marks glued to a word open the next one. (At the end of the text nothing needs marking.)
_RUN_END = (
    rf"({_RUN})(?:([{_CLOSE}]*)[{_WS}]+"
    rf"|([{_CLOSE}]*)([^{_WS}{_CLOSE}{_TERM}.{_WORDCH}{_SEP}{_KEEP}])|([{_CLOSE}]*[{_WORDCH}]))"
)
# An ASCII full stop after a letter ends a sentence before whitespace, and between two Urdu words.
_DOT_END = rf"([{LETTERS}A-Za-z]\.[{_TERM}.]*[{_CLOSE}]*)[{_WS}]+|([{LETTERS}]\.)([{LETTERS}])"
_BOUNDARY = f"{_RUN_END}|{_DOT_END}"
_BOUNDARY_REPL = r"\1\2\3\6\7" + _SEP + r"\4\5\8"

# Tokens, in order of preference at each position (leftmost-first, as both engines match). The
# pieces are named because etl.text.compiled.token_scan builds its tables from the same classes.
_LATIN = "A-Za-z"
_NUM_SEPS = ".,:/٫"  # 3.5, 1,200, 10:30
_NUM_SUFFIXES = ("ء", "ویں", "واں")  # 1990ء, 11ویں
_LATIN_SEPS = "'’\\-"
_RUN_CHARS = "۔؟!?."  # a run of one of them is one token (۔۔۔, ...)
_NUM = rf"(?P<num>[{_DIGITS}]+(?:[{_NUM_SEPS}][{_DIGITS}]+)*(?:{'|'.join(_NUM_SUFFIXES)})?)"
_WORD = rf"(?P<word>[{LETTERS}{_ZWNJ}]+)"  # Urdu words (ZWNJ stays inside a word)
_REST = (
    rf"|(?P<latin>[{_LATIN}]+(?:[{_LATIN_SEPS}][{_LATIN}]+)*)"  # Latin words
    rf"|(?P<indic>[{_INDIC}]+)"  # Devanagari words with their vowel signs
    rf"|(?P<run>{'|'.join(re.escape(c) + '+' for c in _RUN_CHARS)})"  # ۔+|؟+|!+|\?+|\.+
)
_ABBR = rf"(?P<abbr>[{LETTERS}]+(?:۔[{LETTERS}]+)+)"  # letter names joined by ۔ (checked in Python)
_PY_TOKEN = re.compile(rf"{_ABBR}|{_NUM}|{_WORD}{_REST}|(?P<other>[^{_WS}])")  # any other character alone
# The batch's tokens: every token but Urdu words wrapped in spaces (Urdu words are the runs left
# between them), so "other" must not take a letter there, then a split at spaces. That is what
# etl.text.compiled.token_scan does in one pass (the tests hold it to this pattern).
_UNWRAPPED = f"{_WS}{LETTERS}{_ZWNJ}"
_ARROW_TOKEN = rf"{_NUM}{_REST}|(?P<other>[^{_UNWRAPPED}])"

# Paragraphs the batch cannot do with the one boundary pass: those _PROTECT changes (they get the
# protect pass too, still in Arrow) and those that need Python (_NEEDS_PYTHON: they go through
# sentences() and tokens()): a ۔ glued between two letters may be an abbreviation, whose letter
# names are checked in Python; whitespace other than a space, which the batch's split at spaces
# would miss; and a _KEEP already in the text.
_ODD_WS = _WS.replace(" ", "").replace("\n", "")
_NEEDS_PYTHON = f"[{LETTERS}]۔[{LETTERS}]|[{_ODD_WS}{_KEEP}]"
_ARROW_ROUTE = f"{_PROTECT}|{_NEEDS_PYTHON}"


_PY_NEEDS_PYTHON = re.compile(_NEEDS_PYTHON)
_PY_PROTECT = re.compile(_PROTECT)
# Necessary conditions, written to start with a literal (which Python's engine finds fast), so
# that it runs the slower patterns only where they can match.
_PY_PROTECT_GUARD = re.compile(r"۔(?: ?[0-9]|(?<=[0-9]۔))|\.(?<=[A-Z]\.)")
_PY_BOUNDARY = re.compile(_BOUNDARY)
_PY_RUN_END = re.compile(_RUN_END)  # _BOUNDARY on text without an ASCII "."
_RUN_END_REPL = r"\1\2\3" + _SEP + r"\4\5"
_PY_MAYBE_ABBR = re.compile(rf"۔(?=[{LETTERS}])(?<=[{LETTERS}]۔)")  # as [{LETTERS}]۔[{LETTERS}]
_PY_CHAIN = re.compile(rf"[{LETTERS}]+(?:۔[{LETTERS}]+)+")
_WORDS_IN = re.compile(rf"[{LETTERS}{_ZWNJ}]+|۔")


# ------------------------------------------------------------------------ per-string functions


def paragraphs(text: str) -> list[str]:
    """Split clean text into paragraphs: every non-empty line is one."""
    return [p.strip() for p in text.split("\n") if p.strip()]


def _keep_abbreviation(m: re.Match) -> str:
    run = m.group(0)
    return run.replace("۔", "۔" + _KEEP) if is_abbreviation(run) else run


def sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences; a sentence of a single word is kept."""
    text = paragraph
    if _PY_MAYBE_ABBR.search(text):
        text = _PY_CHAIN.sub(_keep_abbreviation, text)
    if _PY_PROTECT_GUARD.search(text):
        text = _PY_PROTECT.sub(_PROTECT_REPL, text)
    if "." in text:
        text = _PY_BOUNDARY.sub(_BOUNDARY_REPL, text)
    else:
        text = _PY_RUN_END.sub(_RUN_END_REPL, text)
    if _KEEP in text:
        text = text.replace(_KEEP, "")
    return [s for s in (p.strip() for p in text.split(_SEP)) if s]


def tokens(sentence: str) -> list[str]:
    """Split a sentence into word, number and punctuation tokens; fused words are split whole."""
    split = rules.fused_words()
    out: list[str] = []
    for m in _PY_TOKEN.finditer(sentence):
        kind, tok = m.lastgroup, m.group(0)
        if kind == "abbr" and not is_abbreviation(tok):
            out.extend(_WORDS_IN.findall(tok))  # words glued by ۔ that are not an abbreviation
        elif kind == "word" and tok in split:
            out.extend(split[tok])
        else:
            out.append(tok)
    return out


def is_word(token: str) -> bool:
    """True for tokens that count as words (letters or numbers, not punctuation)."""
    return bool(token) and (token[0].isalnum() or "\u0621" <= token[0] <= "\u06ff" and token[0] not in "،؛؟۔")
