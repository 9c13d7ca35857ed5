"""Publication dates from metadata or text: ISO, RFC-822, ``DD.MM.YY`` and Urdu month names, in either digit set."""

from __future__ import annotations

import datetime as dt
import email.utils
import re

from etl.text.normalize import parse_digits

URDU_MONTHS = {
    "جنوری": 1,
    "فروری": 2,
    "مارچ": 3,
    "اپریل": 4,
    "مئی": 5,
    "جون": 6,
    "جولائی": 7,
    "اگست": 8,
    "ستمبر": 9,
    "اکتوبر": 10,
    "نومبر": 11,
    "دسمبر": 12,
}
_URDU_DATE = re.compile(r"(\d{1,2})\s*(" + "|".join(URDU_MONTHS) + r")\s*[،,]?\s*(\d{4})\s*ء?")
# Day first, as Pakistani papers write it: 24.04.18, 24.04.2018, 24/04/2018, 24-04-2018.
_DMY = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?\s*(?:Z|GMT|UTC)?$")
#: Dates outside this range are treated as unparseable rather than trusted. The upper bound is
#: the last instant pandas' nanosecond timestamps hold (2262-04-11): a date past it could not
#: pass through a DataFrame, and no article states one.
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2262, 4, 11, tzinfo=dt.UTC)
_RFC_YEAR = re.compile(r"\b(\d{4})\s+\d{1,2}:\d{2}")
# Seconds (or milliseconds) since 1970, as feeds give them: 10 or 13 digits.
_EPOCH = re.compile(r"^(\d{9,10})(?:\.\d+)?$|^(\d{12,13})$")


def parse_date(text: str | None, latest: dt.datetime | None = None) -> dt.datetime | None:
    """Parse one date string to an aware UTC datetime, or ``None`` when it is not a plausible date."""
    if not text or not text.strip():
        return None
    s = parse_digits(text.strip())
    try:
        value = _parse_iso(s) or _parse_dmy(s) or _parse_rfc822(s) or _parse_urdu(s) or _parse_epoch(s)
    except (ValueError, OverflowError, OSError):  # a date out of every range is no date, not a failure
        return None
    return plausible(value, latest)


def plausible(value: dt.datetime | None, latest: dt.datetime | None = None) -> dt.datetime | None:
    """``value`` when it falls between ``EARLIEST`` and ``latest`` (and ``LATEST``), else None."""
    if value is None or value < EARLIEST or value > LATEST or (latest is not None and value > latest):
        return None
    return value


def strip_trailing_date(headline: str) -> tuple[str, dt.datetime | None]:
    """Split a date glued to the end of a title (``…دیا08 نومبر ، 2024``) off the title."""
    s = parse_digits(headline)
    m = None
    for m in _URDU_DATE.finditer(s):  # noqa: B007 - the last match is wanted
        pass
    if m is None or s[m.end() :].strip():
        return headline, None
    value = _urdu_from_match(m)
    if value is None:
        return headline, None
    return headline[: m.start()].rstrip(" ،,-–"), value


def _parse_iso(s: str) -> dt.datetime | None:
    m = _ISO.match(s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(g) if g else 0 for g in m.groups())
    try:
        return dt.datetime(y, mo, d, h, mi, se, tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        return None


def _parse_dmy(s: str) -> dt.datetime | None:
    """``DD.MM.YY`` and its kin; a two-digit year is 19xx from 90 up, else 20xx."""
    m = _DMY.match(s)
    if not m:
        return None
    d, mo, y = int(m.group(1)), int(m.group(3)), m.group(4)
    year = int(y) if len(y) == 4 else (1900 if int(y) >= 90 else 2000) + int(y)
    try:
        return dt.datetime(year, mo, d, tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        return None


def _parse_rfc822(s: str) -> dt.datetime | None:
    year = _RFC_YEAR.search(s)
    if year and int(year.group(1)) < 1000:
        return None  # email.utils reads a four-digit year 0001 as 2001
    try:
        value = email.utils.parsedate_to_datetime(s)
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)  # 31 Dec 9999 -0500 is past datetime's range in UTC
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _parse_epoch(s: str) -> dt.datetime | None:
    m = _EPOCH.match(s)
    if not m:
        return None
    seconds = float(s) if m.group(1) else int(m.group(2)) / 1000
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _parse_urdu(s: str) -> dt.datetime | None:
    m = _URDU_DATE.fullmatch(s)
    return _urdu_from_match(m) if m else None


def _urdu_from_match(m: re.Match) -> dt.datetime | None:
    try:
        return dt.datetime(int(m.group(3)), URDU_MONTHS[m.group(2)], int(m.group(1)), tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        return None
