"""The BBC/VOA ``.doc`` layout: plain UTF-8 text, hard-wrapped at a fixed width.

Blocks are separated by whitespace-only lines: title, summary, an RFC-822 date line, then the
body. Every wrapped line is exactly the wrap width and breaks wherever the width falls, often
inside a word (``اع`` / ``ظم``), so the lines of a block are joined with nothing between them:
a space at a word boundary is still there at the end of one line or the start of the next.
The last line of a block is right-aligned with leading spaces, which are padding, not text.
The category is the name of the folder holding the file.
"""

from __future__ import annotations

import re

_DATE_LINE = re.compile(
    r"^\s*(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} "
    r"\d{2}:\d{2}:\d{2} (?:GMT|[+-]\d{4})\s*$"
)


# Letters that only ever end an Urdu word, and punctuation that ends a phrase: when the previous
# line ends with one of these, the padded last line starts a new word.
_ENDS_WORD = "ےۓ۔،؟!:)"


def unwrap(lines: list[str]) -> str:
    """Join the hard-wrapped lines of one block back into a paragraph."""
    if not lines:
        return ""
    width = max(len(ln) for ln in lines)
    parts: list[str] = []
    for i, line in enumerate(lines):
        if i == len(lines) - 1 and len(lines) > 1 and len(line) == width and line.startswith(" "):
            # right-aligned last line: its leading spaces are padding, which hides whether the
            # wrap fell between two words or inside one
            line = line.lstrip(" ")
            if parts and parts[-1] and parts[-1][-1] in _ENDS_WORD:
                line = " " + line
        parts.append(line)
    return re.sub(r" {2,}", " ", "".join(parts)).strip()


def blocks(text: str) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            out[-1].append(line)
        elif out[-1]:
            out.append([])
    return [b for b in out if b]


def parse(text: str, rel: str) -> dict[str, str | None]:
    bl = blocks(text)
    date_at = next((i for i, b in enumerate(bl) if len(b) == 1 and _DATE_LINE.match(b[0])), None)
    fields: dict[str, str | None] = {"headline": unwrap(bl[0]) if bl else None}
    if date_at is not None:
        fields["published"] = bl[date_at][0].strip()
        fields["summary"] = "\n".join(unwrap(b) for b in bl[1:date_at]) or None
        body_blocks = bl[date_at + 1 :]
    else:
        body_blocks = bl[1:]
    fields["body"] = "\n\n".join(unwrap(b) for b in body_blocks)
    folders = rel.replace("\\", "/").split("/")[:-1]
    fields["category"] = folders[-1] if folders else None
    return fields
