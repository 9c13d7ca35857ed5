"""Byte decoding that reports, rather than raises on, undecodable input."""

from __future__ import annotations


def decode_text(data: bytes, encoding: str) -> tuple[str, str]:
    """Decode ``data``; return ``(text, "")`` or ``("", reason detail)`` when it is not valid."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return "", f"not valid {encoding} at byte {exc.start}: {data[exc.start:exc.start + 8]!r}"
    return text.removeprefix("\ufeff"), ""


def has_surrogates(text: str) -> bool:
    """True when ``text`` holds bytes smuggled in by the ``surrogateescape`` error handler."""
    return any("\udc80" <= c <= "\udcff" for c in text)
