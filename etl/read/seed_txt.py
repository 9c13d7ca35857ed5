"""The seed layout: one ``.txt`` per article.

Headline line, optionally the headline again, ``کیپشن:`` caption, ``سورس:`` photo credit, then
the body. The body's first words may be a ``شہر:`` dateline, which the enrich stage reads.
"""

from __future__ import annotations

CAPTION = "کیپشن:"
CREDIT = "سورس:"


def parse(text: str, rel: str) -> dict[str, str | None]:
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").split("\n")]
    fields: dict[str, str | None] = {"headline": None, "caption": None, "photo_credit": None}
    body: list[str] = []
    for line in lines:
        if not line:
            if body and body[-1] != "":
                body.append("")
            continue
        if fields["headline"] is None:
            fields["headline"] = line
        elif line.startswith(CAPTION) and fields["caption"] is None and not _has_text(body):
            fields["caption"] = line[len(CAPTION) :].strip()
        elif line.startswith(CREDIT) and fields["photo_credit"] is None and not _has_text(body):
            fields["photo_credit"] = line[len(CREDIT) :].strip()
        elif line == fields["headline"] and not _has_text(body):
            continue  # the repeated headline
        else:
            body.append(line)
    fields["body"] = "\n".join(body).strip()
    return fields


def _has_text(body: list[str]) -> bool:
    return any(body)
