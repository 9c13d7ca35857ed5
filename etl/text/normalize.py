"""Unicode and Urdu character normalization.

``normalize`` turns raw article text into the clean text every later stage works on. It is
one NFC pass, a handful of compositions, one ``str.translate`` with a precomputed table and
two regex passes, so it runs in linear time over the text.

Digit policy: the clean text writes every digit in ASCII (``۲۰`` and ``٢٠`` become ``20``);
the raw text keeps the digits as published. Both digit sets are accepted wherever numbers
and dates are parsed.
"""

from __future__ import annotations

import re
import unicodedata

#: Bumped whenever a rule changes what ``normalize`` returns; stored on every output row.
NORMALIZER_VERSION = "1.0.0"

# Arabic code points that Urdu writes with its own letters.
_ARABIC_TO_URDU = {
    "\u0643": "\u06a9",  # ك -> ک
    "\u064a": "\u06cc",  # ي -> ی
    "\u0649": "\u06cc",  # ى -> ی
    "\u0629": "\u06c3",  # ة -> ۃ
}

# Combining sequences with a precomposed Urdu letter; applied before diacritics are removed.
_COMPOSITIONS = (
    ("\u0627\u0653", "\u0622"),  # ا + ٓ -> آ
    ("\u06cc\u0654", "\u0626"),  # ی + ٔ -> ئ
    ("\u064a\u0654", "\u0626"),  # ي + ٔ -> ئ
    ("\u06c1\u0654", "\u06c2"),  # ہ + ٔ -> ۂ
    ("\u0648\u0654", "\u0624"),  # و + ٔ -> ؤ
    ("\u06d2\u0654", "\u06d3"),  # ے + ٔ -> ۓ
)

_DIACRITICS = [*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06DD),
               *range(0x06DF, 0x06E5), 0x06E7, 0x06E8, *range(0x06EA, 0x06EE)]
# Invisible format characters that carry no meaning in clean text. ZWNJ (U+200C) is kept:
# Urdu uses it inside words to stop letters joining.
_DROPPED = [0x0640, 0x200D, 0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F),
            *range(0x2066, 0x206A), 0x2060, 0xFEFF, 0x00AD]
_SPACES = [0x00A0, *range(0x2000, 0x200B), 0x200B, 0x202F, 0x205F, 0x3000, 0x0009, 0x000B, 0x000C]
_DIGITS = {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)}}


def _presentation_form_table() -> dict[int, str]:
    """Map every Arabic presentation form with a compatibility decomposition to its letters."""
    table: dict[int, str] = {}
    for cp in (*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)):
        ch = chr(cp)
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch:
            table[cp] = folded
    return table


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for cp, folded in _presentation_form_table().items():
        folded = unicodedata.normalize("NFC", folded)
        for a, b in _COMPOSITIONS:
            folded = folded.replace(a, b)
        table[cp] = "".join(_ARABIC_TO_URDU.get(c, c) for c in folded
                            if ord(c) not in _DIACRITICS)
    table.update({ord(k): v for k, v in _ARABIC_TO_URDU.items()})
    table.update({cp: None for cp in _DIACRITICS})
    table.update({cp: None for cp in _DROPPED})
    table.update({cp: " " for cp in _SPACES})
    table.update(_DIGITS)
    return table


_TABLE = _build_table()

# Arabic heh (U+0647) is ھ (do-chashmi) after a consonant Urdu aspirates and before another
# letter (بهی -> بھی); everywhere else it is ہ (goal heh).
_ASPIRATED_HEH = re.compile(r"(?<=[بپتٹجچدڈرڑکگلمن])\u0647(?=[\u0621-\u06ff])")
_HEH = re.compile("\u0647")
_H_SPACE = re.compile(r"[ \t]+")
_EDGE_SPACE = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def normalize(text: str) -> str:
    """Return the clean form of ``text``: NFC, Urdu letters, no diacritics or controls, tidy spaces.

    Paragraph breaks (blank lines) and line breaks survive; runs of spaces collapse to one.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for a, b in _COMPOSITIONS:
        if a in text:
            text = text.replace(a, b)
    text = text.translate(_TABLE)
    if "\u0647" in text:
        text = _HEH.sub("\u06c1", _ASPIRATED_HEH.sub("\u06be", text))
    text = _H_SPACE.sub(" ", text)
    text = _EDGE_SPACE.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


def parse_digits(text: str) -> str:
    """Rewrite Urdu (۰-۹) and Arabic-Indic (٠-٩) digits as ASCII, leaving everything else."""
    return text.translate(_DIGITS)
