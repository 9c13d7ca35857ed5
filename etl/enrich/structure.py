"""Article structure: dateline city and the publication date, from the clean text and metadata."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from etl.enrich.dates import EARLIEST, find_urdu_date, parse_date, strip_trailing_date

# `راولپنڈی:` or `لاہور (اُردو پوائنٹ ...)` or `ڈھاکہ ۔ یکم دسمبر (اے پی پی)` at the start of the body:
# one to three words, then a colon, an opening bracket or a ۔ separator.
_DATELINE = re.compile(r"^((?:[\u0621-\u06d3]+ ?){1,3}?)\s*(?::|\(|۔\s)")


def dateline_city(body: str) -> str | None:
    """The city a body opens with (its dateline), or ``None``."""
    m = _DATELINE.match(body[:80])
    return m.group(1).strip() if m else None


def publication_date(
    published: str | None, headline: str | None, body: str, latest: dt.datetime | None = None
) -> tuple[dt.datetime | None, str | None]:
    """Best publication date and the headline with any glued date removed.

    Order: the metadata field, a date glued to the end of the headline, a date in the first
    100 characters of the body (UrduPoint-style datelines).
    """

    def plausible(value: dt.datetime | None) -> dt.datetime | None:
        return value if value and value >= EARLIEST and (latest is None or value <= latest) else None

    when = parse_date(published, latest)
    if headline:
        headline, glued = strip_trailing_date(headline)
        when = when or plausible(glued)
    if when is None:
        when = plausible(find_urdu_date(body[:100])[0])
    return when, headline


def source_site(url: str | None) -> str | None:
    """The site an article was published on, from its URL: the host without ``www.`` (``urdu.geo.tv``)."""
    if not url:
        return None
    try:
        url = url.strip()
        host = urlsplit(url if "://" in url else "//" + url).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    return host.removeprefix("www.").removeprefix("m.")
