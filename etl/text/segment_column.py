"""Segmentation of a whole column of clean bodies at once: ``segment.py``'s functions, over Arrow.

``segment(bodies)`` returns one row per sentence, with its tokens, and equals running
``paragraphs``, ``sentences``, ``tokens`` and ``is_word`` (``etl.text.segment``, the
specification) on each body; ``tests/test_segment_batch.py`` checks that on real corpus text and
on generated text.

How: ``pyarrow.compute`` runs the specification's regexes over whole arrays (RE2, so the
per-character work is C++): one boundary pass over every paragraph. Tokens come from one compiled
scan (``etl.text.compiled.token_scan``) whose character tables are built from the token regex's
own classes. The few paragraphs that need more (a dateline, a decimal written 2۔50, a Latin
initial: one protect pass more, still in Arrow; a possible abbreviation such as ``پی۔ٹی۔آئی``,
whose letter names are checked in Python, or odd whitespace: the per-string functions) are picked
out by one regex match. Fused words are looked up with ``pc.index_in``; only those lists are
rebuilt.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from etl.text import boundary, rules
from etl.text.segment import (
    _ARROW_ROUTE,
    _BOUNDARY,
    _BOUNDARY_REPL,
    _COMMA,
    _DIGITS,
    _HAS_WORD,
    _INDIC,
    _KEEP,
    _LATIN,
    _LATIN_SEPS,
    _NUM_SEPS,
    _NUM_SUFFIXES,
    _PROTECT,
    _PROTECT_PLACE,
    _PROTECT_PLACE_REPL,
    _PROTECT_REPL,
    _PY_NEEDS_PYTHON,
    _RUN_CHARS,
    _SEP,
    _TERM,
    _UNWRAPPED,
    MIN_WORDS,
    is_word,
    sentences,
    tokens,
)

if TYPE_CHECKING:
    import pyarrow as pa


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
    lengths = np.diff(np.frombuffer(toks.buffers()[1], dtype=np.int32)[toks.offset : toks.offset + len(toks) + 1])
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
    from etl.text.compiled import token_scan

    return token_scan.tables(
        digits=_DIGITS,
        latin=_LATIN,
        indic=_INDIC,
        runs=_RUN_CHARS,
        unwrapped=_UNWRAPPED,
        num_seps=_NUM_SEPS,
        latin_seps=_LATIN_SEPS,
        suffixes=_NUM_SUFFIXES,
        is_word=is_word,
    )


def _unsettled(sents):
    """Two numpy masks over the sentences: those that may be punctuation alone or hold a ``]`` or
    a ``٭`` (``segment._needs_more``'s tests but the length, the first exactly, the others as a
    superset), and
    those with at least ``MIN_WORDS - 1`` spaces (the batch's rows hold no other whitespace, so
    every piece of ``MIN_WORDS`` words is among them). One compiled pass over the bytes."""
    from etl.text.compiled import boundary_scan, string_buffers

    offsets, data = string_buffers(sents)
    return boundary_scan.odd_or_long(data, offsets, _word_table(), MIN_WORDS - 1)


@functools.cache
def _word_table():
    """True for the characters of segment._HAS_WORD's class (a word or number starts there)."""
    return boundary.class_table(_HAS_WORD[1:-1])


def _run_ons(paras, sent_para, sents, rows):
    """Sentences ``rows`` cut where the boundary model ends sentences (``boundary.ends``, as
    ``sentences`` does piece by piece); returns the new paragraph index and sentence arrays."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    own = paras.take(pa.array(sent_para[rows]))
    punctuated = _mask(pc.match_substring_regex(own, pattern=f"[{_TERM}]"))
    commaless = punctuated & ~_mask(pc.match_substring_regex(own, pattern=f"[{_COMMA}]"))
    piece, end, nxt = boundary.ends(sents.take(pa.array(rows)), punctuated, commaless)
    if not len(piece):
        return sent_para, sents
    cut, first = np.unique(piece, return_index=True)  # ends come sorted by piece
    cut_rows = rows[cut]
    bounds = [*first.tolist(), len(piece)]
    end, nxt = end.tolist(), nxt.tolist()
    new = []
    for k, text in enumerate(sents.take(pa.array(cut_rows)).to_pylist()):
        raw = text.encode()
        cuts = [0, *[v for i in range(bounds[k], bounds[k + 1]) for v in (end[i], nxt[i])], len(raw)]
        new.append([raw[a:b].decode().strip() for a, b in zip(cuts[0::2], cuts[1::2])])
    return _replace(sent_para, sents, cut_rows, cut_rows + 1, sent_para[cut_rows], new)


def _replace(sent_para, sents, lo, hi, para, new):
    """The sentence rows ``lo[k]:hi[k]`` (in order, disjoint) replaced by the strings ``new[k]``
    of paragraph ``para[k]``; returns the new paragraph index and sentence arrays."""
    import numpy as np
    import pyarrow as pa

    chunks, para_chunks, prev = [], [], 0
    for a, b, p, strings in zip(lo.tolist(), hi.tolist(), para.tolist(), new):
        chunks += [sents.slice(prev, a - prev), pa.array(strings, pa.string())]
        para_chunks += [sent_para[prev:a], np.full(len(strings), p, dtype=sent_para.dtype)]
        prev = b
    chunks.append(sents.slice(prev))
    para_chunks.append(sent_para[prev:])
    return np.concatenate(para_chunks), pa.concat_arrays(chunks)


def _segment_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("doc", pa.int32()),
            ("paragraph_no", pa.int32()),
            ("sentence_no", pa.int32()),
            ("text", pa.string()),
            ("tokens", pa.list_(pa.string())),
            ("word_count", pa.int32()),
        ]
    )


def segment(bodies: Sequence[str | None] | pa.Array | pa.ChunkedArray):
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

    from etl.text.compiled import token_scan

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
    para_doc, paras = _drop_empty(
        pc.list_parent_indices(lines).to_numpy(), pc.utf8_trim_whitespace(pc.list_flatten(lines))
    )

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
        sub = pc.replace_substring_regex(sub, pattern=_PROTECT_PLACE, replacement=_PROTECT_PLACE_REPL)
        sub = pc.replace_substring_regex(sub, pattern=_BOUNDARY, replacement=_BOUNDARY_REPL)
        sub = pc.replace_substring(sub, pattern=_KEEP, replacement="")
        values = sub.to_pylist() + [_SEP.join(sentences(t)) for t, p in zip(texts, py) if p]
        marked = _put(marked, np.concatenate([route[~py], route[py]]), values)
    pieces = pc.split_pattern(marked, pattern=_SEP)
    sent_para, sents = _drop_empty(
        pc.list_parent_indices(pieces).to_numpy(), pc.utf8_trim_whitespace(pc.list_flatten(pieces))
    )
    # paragraphs with a piece the punctuation cannot settle alone (one without a word, a stray
    # "]": a superset of what segment._needs_more flags) go through sentences(); pieces long
    # enough for the boundary model go through it here, all at once
    done = route[py] if len(route) else np.zeros(0, np.int64)
    odd, long = _unsettled(sents)
    settle = np.setdiff1d(np.unique(sent_para[odd]), done)
    long_paras = np.setdiff1d(np.unique(sent_para[long]), np.concatenate([done, settle]))
    if len(settle):  # their rows (contiguous: sent_para is sorted) replaced by sentences()'s
        lo, hi = np.searchsorted(sent_para, settle, "left"), np.searchsorted(sent_para, settle, "right")
        new = [sentences(t) for t in paras.take(pa.array(settle)).to_pylist()]
        sent_para, sents = _replace(sent_para, sents, lo, hi, settle, new)
    # the long sentences again, among the rows of their paragraphs (which the step above left alone)
    long_rows = np.flatnonzero(np.isin(sent_para, long_paras))
    long_rows = long_rows[_unsettled(sents.take(pa.array(long_rows)))[1]] if len(long_rows) else long_rows
    if len(long_rows):
        sent_para, sents = _run_ons(paras, sent_para, sents, long_rows)
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
        [
            pa.array(sent_doc.astype(np.int32)),
            pa.array(paragraph_no),
            pa.array(sentence_no),
            sents,
            tok_col,
            pa.array(word_count),
        ],
        schema=_segment_schema(),
    )
