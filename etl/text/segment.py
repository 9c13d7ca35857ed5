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
(``آن لائن۔05 مارچ 2023ء)``) or after the place of a dateline that opens a paragraph, with or
without a year, digits glued or not (``ٹوکیو۔ 3 جولائی (اے پی پی)``, ``فیصل آباد۔24نومبر (اے پی
پی):``, ``راولپنڈی۔ (اردو پوائنٹ ...)``), the dot after a Latin initial (``Waseem A. Siddiqui``),
and dots inside URLs (no space follows).

Where the punctuation cannot settle it: a piece of punctuation alone (a lone ``۔``, a bullet ``٭``)
is not a sentence: it joins the sentence before it (or after it; alone in its paragraph it goes).
A bullet ``٭`` that follows text opens a sentence, punctuated or not. A ``]`` glued to a word and
followed by a space ends a sentence when the paragraph has no ``[`` (a mistyped ۔). A piece still ``MIN_WORDS`` words long has lost its full stops: the boundary model
(``etl.text.boundary``, learnt from the corpora's own punctuation) puts them back. A
well-punctuated paragraph never meets these steps.
"""

from __future__ import annotations

import re

from etl.text import rules
from etl.text.boundary import MIN_WORDS
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

# Protection: a _KEEP goes after the ۔ before the date of a dateline inside brackets
# (آن لائن۔05 مارچ 2023ء), اے پی پی۔ 11 ستمبر), after a ۔ between digits (2۔50), after Latin
# initials (Waseem A. Siddiqui, U.N.), and after the ۔ of a dateline that opens a paragraph: a
# place of one to four words, ۔ (a space before or after it or not), then a date (day, month, an
# optional year, in any digit set, digits glued or not) followed by a bracket, colon, dash or
# comma, or at once a bracket that closes after a year (ٹوکیو۔ 3 جولائی (اے پی پی), فیصل
# آباد۔24نومبر (اے پی پی):, راولپنڈی۔ (اردو پوائنٹ ... 30 مارچ 2023ء)). ``ہوگی۔ 5 نومبر کو`` is a
# full stop (a word follows the date), and so is ``ہے۔(جاری ہے)`` (no year in the bracket).
_DAY = f"(?:[{_DIGITS}]{{1,2}}|یکم)"
_YEAR = f"[{_DIGITS}]{{4}}ء?"
_PLACE = f"^(?:[{LETTERS}]+ ){{0,3}}[{LETTERS}]+ ?۔"
# the month of a dateline's date (a place then a day and any other word is a short sentence then a
# number: حکومت نے اعلان کیا۔ 5 افراد …)
_MONTH = "(?:جنوری|فروری|مارچ|اپریل|مئی|جون|جولائی|اگست|ستمبر|اکتوبر|نومبر|دسمبر)"
_PROTECT = (
    rf"(۔)( ?[{_DIGITS}]{{1,2}} ?[{LETTERS}]+ ?(?:{_YEAR}[)،]|\)))"
    rf"|([{_DIGITS}]۔)([{_DIGITS}])"
    r"|(^|[^A-Za-z])((?:[A-Z]\.)+)"
    rf"|({_PLACE})( ?{_DAY} ?{_MONTH}(?: ?{_YEAR})? ?[(:\-،)])"
)
_PROTECT_REPL = r"\1\3\5\6\7" + _KEEP + r"\2\4\8"  # (RE2 reads group numbers up to 9)
# A second pass, where the first one marked the ۔ before a bracketed date: the place before that
# bracket, when it opens the paragraph (راولپنڈی۔ (اردو پوائنٹ ... اے پی پی۔ 30 مارچ 2023ء)).
_PROTECT_PLACE = rf"({_PLACE})( ?\([^()۔]{{0,80}}۔{_KEEP})"
_PROTECT_PLACE_REPL = r"\1" + _KEEP + r"\2"
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
_PY_PROTECT_PLACE = re.compile(_PROTECT_PLACE)
# Necessary conditions, written to start with a literal (which Python's engine finds fast), so
# that it runs the slower patterns only where they can match.
_PY_PROTECT_GUARD = re.compile(rf"۔(?: ?[{_DIGITS}(]| ?یکم|(?<=[{_DIGITS}]۔))|\.(?<=[A-Z]\.)")
_PY_BOUNDARY = re.compile(_BOUNDARY)
_PY_RUN_END = re.compile(_RUN_END)  # _BOUNDARY on text without an ASCII "."
_RUN_END_REPL = r"\1\2\3" + _SEP + r"\4\5"
_PY_MAYBE_ABBR = re.compile(rf"۔(?=[{LETTERS}])(?<=[{LETTERS}]۔)")  # as [{LETTERS}]۔[{LETTERS}]
_PY_CHAIN = re.compile(rf"[{LETTERS}]+(?:۔[{LETTERS}]+)+")
_WORDS_IN = re.compile(rf"[{LETTERS}{_ZWNJ}]+|۔")
# A piece with a character that starts a word or number is a sentence; one without is punctuation.
_HAS_WORD = f"[{_WORDCH}]"
_PY_HAS_WORD = re.compile(_HAS_WORD)
_PY_TERM = re.compile(f"[{_TERM}]")
_COMMA = "،,"
_PY_COMMA = re.compile(f"[{_COMMA}]")
# a bullet ٭ after text (not in a run of them) with a word after it
_PY_BULLET = re.compile(f"(?<=[^{_WS}٭])[{_WS}]*٭(?=[^{_WORDCH}]*[{_WORDCH}])")
_PY_STRAY_BRACKET = re.compile(rf"(?<=[{LETTERS}])\](?=[{_WS}])")


# ------------------------------------------------------------------------ per-string functions


def paragraphs(text: str) -> list[str]:
    """Split clean text into paragraphs: every non-empty line is one."""
    return [p.strip() for p in text.split("\n") if p.strip()]


def _keep_abbreviation(m: re.Match) -> str:
    run = m.group(0)
    return run.replace("۔", "۔" + _KEEP) if is_abbreviation(run) else run


def _rule_pieces(paragraph: str) -> list[str]:
    """The paragraph cut at its punctuation (the rules above), pieces unstripped, blank ones dropped."""
    text = paragraph
    if _PY_MAYBE_ABBR.search(text):
        text = _PY_CHAIN.sub(_keep_abbreviation, text)
    if _PY_PROTECT_GUARD.search(text):
        text = _PY_PROTECT.sub(_PROTECT_REPL, text)
        if _KEEP in text:
            text = _PY_PROTECT_PLACE.sub(_PROTECT_PLACE_REPL, text)
    if "." in text:
        text = _PY_BOUNDARY.sub(_BOUNDARY_REPL, text)
    else:
        text = _PY_RUN_END.sub(_RUN_END_REPL, text)
    if _KEEP in text:
        text = text.replace(_KEEP, "")
    return [p for p in text.split(_SEP) if p and not p.isspace()]


def _needs_more(piece: str, paragraph: str) -> bool:
    """True for a piece the punctuation rules cannot settle: one without a word (a lone ۔ or ٭),
    one of ``MIN_WORDS`` words or more (missing punctuation), one with a stray ``]`` or with a
    bullet ``٭`` after text."""
    return (
        not _PY_HAS_WORD.search(piece)
        or (len(piece) >= 2 * MIN_WORDS - 1 and len(piece.split()) >= MIN_WORDS)
        or ("]" in piece and "[" not in paragraph)
        or ("٭" in piece and _PY_BULLET.search(piece) is not None)
    )


def _settle(pieces: list[str], paragraph: str) -> list[str]:
    """Pieces without a word join the sentence before them (or after them, or go), a space between
    them; a bullet ``٭`` that follows text opens a sentence; a ``]`` glued to a word and followed by a space, in a paragraph without ``[``, ends a
    sentence (a mistyped ۔); pieces still ``MIN_WORDS`` words long get the ends the boundary model
    finds, with its stricter threshold where the paragraph has terminators elsewhere."""
    joined: list[str] = []
    pending = ""
    for piece in (p.strip() for p in pieces):
        if not _PY_HAS_WORD.search(piece):
            if joined:
                joined[-1] += " " + piece
            else:
                pending += piece + " "
        else:
            joined.append(pending + piece)
            pending = ""
    out: list[str] = []
    punctuated = bool(_PY_TERM.search(paragraph))
    commaless = punctuated and not _PY_COMMA.search(paragraph)
    for piece in joined:
        if "٭" in piece:
            piece = _PY_BULLET.sub(_SEP + "٭", piece)  # a bullet after text opens the next sentence
        if "[" not in paragraph:
            piece = _PY_STRAY_BRACKET.sub("]" + _SEP, piece)
        split = piece.split(_SEP)
        for part in split:
            part = part.strip()
            if len(part) >= 2 * MIN_WORDS - 1 and len(part.split()) >= MIN_WORDS:
                from etl.text import boundary  # numpy and the compiled pass, only when needed

                out.extend(boundary.split(part, punctuated, commaless))
            elif part:
                out.append(part)
    return out


def sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences; a sentence of a single word is kept.

    Where the punctuation cannot settle it (see ``_needs_more``), ``_settle`` does: pieces of
    punctuation alone are not sentences, a stray ``]`` ends one, and a piece of ``MIN_WORDS``
    words or more is split by the boundary model (``etl.text.boundary``).
    """
    pieces = _rule_pieces(paragraph)
    for piece in pieces:
        if _needs_more(piece, paragraph):
            return _settle(pieces, paragraph)
    return [p.strip() for p in pieces]


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
