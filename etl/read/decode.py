"""Byte decoding that reports, rather than raises on, undecodable input.

Also the look at a file's first bytes that every reader makes before decoding it: a byte-order
mark that contradicts the declared encoding, UTF-16/32 read as a single-byte encoding (NUL bytes
between the characters), and the byte order of a UTF-16/32 file that has no byte-order mark.
"""

from __future__ import annotations

import codecs
import re

#: How many bytes of a file the checks of its encoding look at.
HEAD_BYTES = 4096

#: The error handler the streaming readers decode with: each byte that is not valid in the
#: encoding becomes the lone surrogate U+DC00 + byte (as ``surrogateescape`` does, but for every
#: byte value, so that a bad UTF-16/32 code unit is carried to the record that holds it rather
#: than stopping the stream); encoding back gives the same bytes.
ESCAPE = "etl-escape"


def _escape(exc: UnicodeError) -> tuple[str | bytes, int]:
    if isinstance(exc, UnicodeDecodeError):
        return "".join(chr(0xDC00 + b) for b in exc.object[exc.start : exc.end]), exc.end
    if isinstance(exc, UnicodeEncodeError):
        chars = exc.object[exc.start : exc.end]
        if all(0xDC00 <= ord(c) <= 0xDCFF for c in chars):
            return bytes(ord(c) - 0xDC00 for c in chars), exc.end
    raise exc


codecs.register_error(ESCAPE, _escape)

_BOMS = (
    ("UTF-32", "le", codecs.BOM_UTF32_LE),
    ("UTF-32", "be", codecs.BOM_UTF32_BE),
    ("UTF-16", "le", codecs.BOM_UTF16_LE),
    ("UTF-16", "be", codecs.BOM_UTF16_BE),
    ("UTF-8", "", codecs.BOM_UTF8),
)


def codec_name(encoding: str) -> str:
    """The codec's canonical name (``utf8`` -> ``utf-8``, ``UTF16`` -> ``utf-16``)."""
    return codecs.lookup(encoding).name


def _bom(head: bytes) -> tuple[str, str, bytes] | None:
    """The byte-order mark ``head`` starts with: (family, byte order, the mark)."""
    for family, order, mark in _BOMS:
        if head.startswith(mark):
            return family, order, mark
    return None


def encoding_problem(head: bytes, encoding: str) -> str:
    """Why a file starting with ``head`` cannot be read in ``encoding`` at all, or ``""``.

    A byte-order mark of another encoding (or of the other byte order), and UTF-16/32 text
    declared as a single-byte encoding or UTF-8 (whose ASCII letters come with NUL bytes between
    them) are rejected whole, with the encoding to declare instead.
    """
    declared = codec_name(encoding)
    bom = _bom(head)
    if bom is not None:
        family, order, _ = bom
        if family == "UTF-8":
            fits = declared in ("utf-8", "utf-8-sig")
        else:
            fits = declared in (family.lower(), f"{family.lower()}-{order}")
        if not fits:
            return (
                f"the file starts with a {family} byte-order mark but the source declares {encoding}; "
                f"declare encoding: {family.lower()} for this source"
            )
        return ""
    if declared.startswith(("utf-16", "utf-32")):
        return ""
    family = _looks_wide(head)
    if family:
        between = "NUL bytes between characters" if head.count(0) * 3 >= len(head) else "0x06 bytes between characters"
        return f"the file looks like {family} ({between}); declare encoding: {family.lower()} for this source"
    return ""


def _looks_wide(head: bytes) -> str:
    """``UTF-16`` or ``UTF-32`` when ``head`` reads as text in it: ASCII letters come with NUL
    bytes and Urdu ones with 0x06 bytes (the Arabic block, U+06xx) at a fixed place in every
    two or four bytes, which no UTF-8 or single-byte text has."""
    sample = head[: len(head) - len(head) % 4]
    if len(sample) < 8:
        return ""

    def share(offset: int, width: int, values: tuple[int, ...]) -> float:
        column = sample[offset::width]
        return sum(1 for b in column if b in values) / len(column)

    if any(share(i, 4, (0,)) > 0.9 and share(j, 4, (0,)) > 0.9 for i, j in ((2, 3), (0, 1))):
        return "UTF-32"
    if any(share(i, 2, (0, 6)) > 0.6 for i in (0, 1)):
        return "UTF-16"
    return ""


def reading_encoding(head: bytes, encoding: str) -> str:
    """The codec to read a file starting with ``head`` with, for a declared ``encoding`` that
    ``encoding_problem`` accepts: a UTF-8 byte-order mark is dropped; a UTF-16/32 file whose
    declaration leaves the byte order open gets it from its mark or, with no mark, from where
    its NUL bytes fall (ASCII letters) or its Arabic-block bytes (0x06, Urdu letters)."""
    declared = codec_name(encoding)
    bom = _bom(head)
    if declared == "utf-8":
        return "utf-8-sig"
    for family, width in (("utf-16", 2), ("utf-32", 4)):
        if not declared.startswith(family):
            continue
        if bom is not None:
            return family  # the codec reads the mark and drops it
        if declared != family:
            return declared  # the order is declared, and there is no mark to contradict it
        sample = head[: len(head) - len(head) % width]
        low = sum(1 for i in range(0, len(sample), width) if sample[i] in (0, 6))
        high = sum(1 for i in range(width - 1, len(sample), width) if sample[i] in (0, 6))
        return f"{family}-be" if low > high else f"{family}-le"
    return declared


def decode_text(data: bytes, encoding: str) -> tuple[str, str]:
    """Decode ``data``; return ``(text, "")`` or ``("", reason detail)`` when it is not valid."""
    problem = encoding_problem(data[:HEAD_BYTES], encoding)
    if problem:
        return "", problem
    codec = reading_encoding(data[:HEAD_BYTES], encoding)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        return "", f"not valid {encoding} at byte {exc.start}: {exc.reason}: {data[exc.start : exc.start + 8]!r}"
    except (UnicodeError, LookupError, ValueError) as exc:
        return "", f"not valid {encoding}: {type(exc).__name__}: {exc}"
    return text.removeprefix("\ufeff"), ""


_ESCAPED_BYTE = re.compile("[\udc00-\udcff]")
_INVALID = re.compile("[\x00\ud800-\udfff]")


def has_surrogates(text: str) -> bool:
    """True when ``text`` holds bytes smuggled in by the ``ESCAPE`` (or ``surrogateescape``) error handler."""
    return _ESCAPED_BYTE.search(text) is not None


def has_invalid_characters(text: str) -> bool:
    """True for NUL or any lone surrogate (from JSON ``\\ud83d`` escapes, say): no database column stores them."""
    return _INVALID.search(text) is not None
