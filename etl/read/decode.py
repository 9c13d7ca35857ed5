"""Byte decoding that reports, rather than raises on, undecodable input."""

from __future__ import annotations

import re


def decode_text(data: bytes, encoding: str) -> tuple[str, str]:
    """Decode ``data``; return ``(text, "")`` or ``("", reason detail)`` when it is not valid."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return "", f"not valid {encoding} at byte {exc.start}: {data[exc.start : exc.start + 8]!r}"
    return text.removeprefix("\ufeff"), ""


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_INVALID = re.compile("[\x00\ud800-\udfff]")


def has_surrogates(text: str) -> bool:
    """True when ``text`` holds bytes smuggled in by the ``surrogateescape`` error handler."""
    return _ESCAPED_BYTE.search(text) is not None


def has_invalid_characters(text: str) -> bool:
    """True for NUL or any lone surrogate (from JSON ``\\ud83d`` escapes, say): no database column stores them."""
    return _INVALID.search(text) is not None
