"""Article structure: dateline city and the publication date, from the clean text and metadata."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from etl.enrich.dateline import Dateline, parse_dateline
from etl.enrich.dates import parse_date, plausible, strip_trailing_date


def dateline_city(body: str) -> str | None:
    """The place a body's dateline names, as written (``etl.enrich.dateline``), or ``None``."""
    return parse_dateline(body).place


def publication_date(
    published: str | None,
    headline: str | None,
    body: str,
    latest: dt.datetime | None = None,
    dateline: Dateline | None = None,
) -> tuple[dt.datetime | None, str | None]:
    """Best publication date and the headline with any glued date removed.

    Order: the metadata field, a date glued to the end of the headline, a full date (day, month
    and year) stated in the body's dateline (``لاہور (اردو پوائنٹ … ۔ 02 مارچ2023ء)``). A date
    further into the body is an event's, never the publication's. ``dateline`` is the body's
    already parsed ``Dateline``, when the caller has it.
    """
    when = parse_date(published, latest)
    if headline:
        headline, glued = strip_trailing_date(headline)
        when = when or plausible(glued, latest)
    if when is None:
        stated = (dateline or parse_dateline(body)).full_date
        if stated is not None:
            when = plausible(dt.datetime(stated.year, stated.month, stated.day, tzinfo=dt.UTC), latest)
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
