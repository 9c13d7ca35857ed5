"""Paragraph, sentence and token segmentation of clean Urdu text.

Two entry points with ONE behaviour:

* ``segment(bodies)`` splits a whole batch of clean body texts at once with ``pyarrow.compute``
  (RE2 regexes over whole arrays, so the per-character work runs in C++; tokens are found by a
  compiled scanner, ``etl.text.token_scan``, that does what the token regex does) and returns one
  row per sentence. This is the fast path.
* ``paragraphs``, ``sentences``, ``tokens`` and ``is_word`` do the same for one string.

Both run the same regexes, written in the subset that Python ``re`` and RE2 read alike (explicit
character classes, no lookarounds, no backreferences; both pick the leftmost-first match), in the
same order, so they agree; ``tests/test_segment_batch.py`` checks that on real corpus text and on
generated text. ``segment`` runs one boundary pass over every paragraph and one token pass over
every sentence; the few paragraphs that need more (a dateline, a decimal written 2۔50, a Latin
initial: one protect pass more, still in Arrow; a possible abbreviation such as ``پی۔ٹی۔آئی``,
whose letter names are checked in Python, or odd whitespace: the per-string functions) are picked
out by one regex match. Fused words are looked up with ``pc.index_in``; only those lists are
rebuilt. The markers U+FDD0/U+FDD1 (noncharacters) are used internally.

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

import functools
import re
from collections.abc import Sequence

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
_PROTECT = (rf"(۔)( ?[0-9]{{1,2}} [{LETTERS}]+ [0-9]{{4}}ء?\))"
            r"|([0-9]۔)([0-9])"
            r"|(^|[^A-Za-z])((?:[A-Z]\.)+)")
_PROTECT_REPL = r"\1\3\5\6" + _KEEP + r"\2\4"
# Sentence ends, marked with _SEP in one pass. A run with its closing marks ends a sentence before
# whitespace; glued to what follows, closing marks followed by punctuation stay with the sentence
# and marks glued to a word open the next one. (At the end of the text nothing needs marking.)
_RUN_END = (rf"({_RUN})(?:([{_CLOSE}]*)[{_WS}]+"
            rf"|([{_CLOSE}]*)([^{_WS}{_CLOSE}{_TERM}.{_WORDCH}{_SEP}{_KEEP}])|([{_CLOSE}]*[{_WORDCH}]))")
# An ASCII full stop after a letter ends a sentence before whitespace, and between two Urdu words.
_DOT_END = rf"([{LETTERS}A-Za-z]\.[{_TERM}.]*[{_CLOSE}]*)[{_WS}]+|([{LETTERS}]\.)([{LETTERS}])"
_BOUNDARY = f"{_RUN_END}|{_DOT_END}"
_BOUNDARY_REPL = r"\1\2\3\6\7" + _SEP + r"\4\5\8"

# Tokens, in order of preference at each position (leftmost-first, as both engines match). The
# pieces are named because etl.text.token_scan builds its tables from the same classes.
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
# etl.text.token_scan does in one pass (the tests hold it to this pattern).
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


# ------------------------------------------------------------------------------- batch segmenter

def _number_within(group):
    """1-based position of each element within its run of equal (sorted) group ids."""
    import numpy as np

    n = len(group)
    if not n:
        return np.zeros(0, dtype=np.int32)
    idx = np.arange(n)
    start = np.empty(n, dtype=bool)
    start[0] = True
    start[1:] = group[1:] != group[:-1]
    first = np.maximum.accumulate(np.where(start, idx, 0))
    return (idx - first + 1).astype(np.int32)


def _mask(bools):
    return bools.to_numpy(zero_copy_only=False)


def _drop_empty(parent, strings):
    import pyarrow.compute as pc

    lengths = pc.binary_length(strings)
    if not len(strings) or pc.min(lengths).as_py() > 0:
        return parent, strings
    keep = pc.greater(lengths, 0)
    return parent[_mask(keep)], strings.filter(keep)


def _put(strings, rows, values):
    """``strings`` with the elements at ``rows`` replaced by ``values``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(rows):
        return strings
    rows = np.asarray(rows)
    order = np.argsort(rows, kind="stable")  # replace_with_mask takes values in row order
    mask = np.zeros(len(strings), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(strings, pa.array(mask), pa.array([values[i] for i in order], pa.string()))


def _split_fused(offsets, toks, lead, flags):
    """Whole tokens listed in rules/fused_words.tsv become their words (کیخلاف -> کے خلاف).

    ``offsets`` (numpy) and ``toks`` are the flattened token lists, ``lead`` and ``flags`` their
    first two bytes and word flags; returns offsets, tokens and flags, updated.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    table = rules.fused_words()
    if not table or not len(toks):
        return offsets, toks, flags
    keys = list(table)
    # look up only tokens that start like a key and are as long as one (a few percent of them)
    key_bytes = [k.encode() for k in keys]
    lengths = np.diff(np.frombuffer(toks.buffers()[1], dtype=np.int32)[toks.offset:toks.offset + len(toks) + 1])
    lead_ok = np.zeros(1 << 16, dtype=bool)
    for b in key_bytes:  # a one-byte key matches whatever byte follows it
        lead_ok[(b[0] << 8) | b[1] if len(b) > 1 else slice(b[0] << 8, (b[0] + 1) << 8)] = True
    len_ok = np.zeros(max(map(len, key_bytes)) + 2, dtype=bool)
    len_ok[[len(b) for b in key_bytes]] = True
    cand = np.flatnonzero(lead_ok[lead] & len_ok[np.minimum(lengths, len(len_ok) - 1)])
    hit = pc.index_in(toks.take(pa.array(cand)), value_set=pa.array(keys, pa.string()))
    if hit.null_count == len(hit):
        return offsets, toks, flags
    found = _mask(hit.is_valid())
    at = cand[found]
    which = hit.to_numpy(zero_copy_only=False)[found].astype(np.int64)
    words = [pa.array(table[k], pa.string()) for k in keys]
    word_flags = [np.array([is_word(w) for w in table[k]], dtype=bool) for k in keys]
    chunks, flag_chunks, prev = [], [], 0
    for i, k in zip(at.tolist(), which.tolist()):
        chunks += [toks.slice(prev, i - prev), words[k]]
        flag_chunks += [flags[prev:i], word_flags[k]]
        prev = i + 1
    chunks.append(toks.slice(prev))
    flag_chunks.append(flags[prev:])
    extra = np.concatenate([[0], np.cumsum(np.array([len(table[k]) - 1 for k in keys])[which])])
    offsets = offsets + extra[np.searchsorted(at, offsets, side="left")]  # fused tokens before each
    return offsets.astype(np.int32), pa.concat_arrays(chunks), np.concatenate(flag_chunks)


@functools.cache
def _token_tables():
    """The token scanner's tables, built from the classes of _ARROW_TOKEN (once)."""
    from etl.text import token_scan

    return token_scan.tables(digits=_DIGITS, latin=_LATIN, indic=_INDIC, runs=_RUN_CHARS,
                             unwrapped=_UNWRAPPED, num_seps=_NUM_SEPS, latin_seps=_LATIN_SEPS,
                             suffixes=_NUM_SUFFIXES, is_word=is_word)


def _segment_schema():
    import pyarrow as pa

    return pa.schema([("doc", pa.int32()), ("paragraph_no", pa.int32()), ("sentence_no", pa.int32()),
                      ("text", pa.string()), ("tokens", pa.list_(pa.string())), ("word_count", pa.int32())])


def segment(bodies: Sequence[str | None] | object):
    """Split clean body texts into sentences and tokens, all at once; returns a ``pyarrow.Table``.

    ``bodies`` is a list of strings (or a pyarrow string array), already cleaned by
    ``etl.text.normalize.normalize``. One row per sentence: ``doc`` (index into ``bodies``),
    ``paragraph_no`` (1-based among the doc's non-empty paragraphs), ``sentence_no`` (1-based in
    the doc), ``text``, ``tokens`` and ``word_count`` (tokens that are words or numbers, as
    ``is_word``). Docs without text (empty or null) give no rows. The result equals running
    ``paragraphs``, ``sentences``, ``tokens`` and ``is_word`` on each body.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from etl.text import token_scan

    arr = bodies
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not isinstance(arr, pa.Array):
        arr = pa.array(list(arr), type=pa.string())
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    arr = arr.fill_null("")

    # paragraphs: non-empty lines, stripped
    lines = pc.split_pattern(arr, pattern="\n")
    para_doc, paras = _drop_empty(pc.list_parent_indices(lines).to_numpy(),
                                  pc.utf8_trim_whitespace(pc.list_flatten(lines)))

    # sentences: mark the ends in one regex pass and split there; the few paragraphs that need
    # more than that (see _ARROW_ROUTE) go through sentences()
    route = np.flatnonzero(_mask(pc.match_substring_regex(paras, pattern=_ARROW_ROUTE)))
    marked = pc.replace_substring_regex(paras, pattern=_BOUNDARY, replacement=_BOUNDARY_REPL)
    if len(route):
        texts = [paras[int(i)].as_py() for i in route.tolist()]
        py = np.array([bool(_PY_NEEDS_PYTHON.search(t)) for t in texts], dtype=bool)
        # rows that only need _PROTECT: its pass, the boundary pass, then the marks deleted
        sub = paras.take(pa.array(route[~py]))
        sub = pc.replace_substring_regex(sub, pattern=_PROTECT, replacement=_PROTECT_REPL)
        sub = pc.replace_substring_regex(sub, pattern=_BOUNDARY, replacement=_BOUNDARY_REPL)
        sub = pc.replace_substring(sub, pattern=_KEEP, replacement="")
        values = sub.to_pylist() + [_SEP.join(sentences(t)) for t, p in zip(texts, py) if p]
        marked = _put(marked, np.concatenate([route[~py], route[py]]), values)
    pieces = pc.split_pattern(marked, pattern=_SEP)
    sent_para, sents = _drop_empty(pc.list_parent_indices(pieces).to_numpy(),
                                   pc.utf8_trim_whitespace(pc.list_flatten(pieces)))
    sent_doc = para_doc[sent_para]
    paragraph_no = _number_within(para_doc)[sent_para]
    sentence_no = _number_within(sent_doc)

    # tokens: one compiled scan does what _ARROW_TOKEN and a split at spaces would; the sentences
    # of routed paragraphs that need it go through tokens(), joined by spaces, and the scan only
    # splits those at spaces
    text, plain = sents, np.zeros(len(sents), dtype=bool)
    if len(route):
        rows = np.flatnonzero(np.isin(sent_para, route[py]))
        texts = [sents[int(i)].as_py() for i in rows.tolist()]
        fix = [(r, t) for r, t in zip(rows.tolist(), texts) if _PY_NEEDS_PYTHON.search(t)]
        text = _put(sents, [r for r, _ in fix], [" ".join(tokens(t)) for _, t in fix])
        plain[[r for r, _ in fix]] = True
    offsets, toks, flags, lead = token_scan.scan(text, plain, _token_tables())
    astral = np.flatnonzero(flags < 0)  # is_word of a first character the tables do not hold
    if len(astral):
        flags[astral] = [is_word(t[0]) for t in toks.take(pa.array(astral)).to_pylist()]
    flags = flags.astype(bool)
    offsets, toks, flags = _split_fused(offsets, toks, lead, flags)  # none left in tokens() output

    words = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    word_count = (words[offsets[1:]] - words[offsets[:-1]]).astype(np.int32)
    tok_col = pa.ListArray.from_arrays(pa.array(offsets), toks)

    return pa.Table.from_arrays(
        [pa.array(sent_doc.astype(np.int32)), pa.array(paragraph_no), pa.array(sentence_no),
         sents, tok_col, pa.array(word_count)],
        schema=_segment_schema())
