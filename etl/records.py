"""Shared record types that flow between stages."""

from __future__ import annotations

from dataclasses import dataclass, field

from etl.contracts import RejectRow

#: Canonical raw fields a reader may fill. ``body`` is the only one every record needs.
RAW_FIELDS = (
    "headline",
    "summary",
    "body",
    "caption",
    "photo_credit",
    "url",
    "external_id",
    "category",
    "published",
    "dateline",
)

# Reason codes for records that cannot be loaded. Stable: they are stored in `rejects`.
UNDECODABLE = "undecodable_bytes"
EMPTY_BODY = "empty_body"
MISSING_FIELD = "missing_field"
BAD_ROW_SHAPE = "bad_row_shape"
BAD_JSON = "bad_json"
UNEXPECTED_FILE = "unexpected_file"
UNREADABLE_FILE = "unreadable_file"
INVALID_CHARACTERS = "invalid_characters"
EMPTY_FILE = "empty_file"
HTML_PAGE = "html_page"
TOO_LARGE = "record_too_large"
TRANSFORM_ERROR = "transform_error"
UNSAFE_FILE = "unsafe_file"
REASONS = {
    UNDECODABLE: "bytes that are not valid in the source's declared encoding",
    EMPTY_BODY: "the article body is empty or whitespace after cleaning",
    MISSING_FIELD: "a column the source's mapping requires is absent from the file",
    BAD_ROW_SHAPE: "a CSV row whose field count differs from the header's",
    BAD_JSON: "a JSONL line that is not a JSON object",
    UNEXPECTED_FILE: "a file in the dump that the source's format does not read",
    UNREADABLE_FILE: "a file that could not be opened or parsed at all",
    INVALID_CHARACTERS: "NUL bytes or lone surrogate code points, which no text column can store",
    TRANSFORM_ERROR: "an unexpected failure while cleaning this one record (the message says what)",
    EMPTY_FILE: "a file of zero bytes",
    HTML_PAGE: "a web page (an error page, a login wall) where the dump should hold an article file",
    TOO_LARGE: "a record larger than MAX_RECORD_CHARS: no news article is that long",
    UNSAFE_FILE: "a link, FIFO, socket or device in a dump folder, a file over the fetch's size cap, "
    "or a name that is not UTF-8: not read",
}

# Reason codes of records the readers cannot take apart: broken quoting, types and headers, and
# records the independent count of a file finds that the reader did not account for.
BAD_QUOTING = "bad_quoting"
BAD_FIELD_TYPE = "bad_field_type"
BAD_HEADER = "bad_header"
UNACCOUNTED = "unaccounted_records"
REASONS |= {
    BAD_QUOTING: "a CSV quote left open that would swallow the lines after it: only its own line is rejected",
    BAD_FIELD_TYPE: "a JSON field of the wrong type (a body that is a number, a boolean headline, ...)",
    BAD_HEADER: "a CSV header that names a mapped column twice, or that is too long to be one",
    UNACCOUNTED: "a line the independent count of a file found but its reader did not yield: one per line",
}

#: A record (CSV row, JSONL line, one-article file) longer than this is rejected unread: it is a
#: broken dump (a missing quote swallowing the file, a log line), and would cost memory and time.
#: The longest real articles are about 320,000 characters (a one-article file; CSV rows stay under
#: 12,000), so two million characters leaves a margin of six, and bounds what a reader holds for
#: one record: a line is read at most this many characters at a time, and the rest of a longer
#: line is skipped unread.
MAX_RECORD_CHARS = 2_000_000


@dataclass(slots=True)
class RawRecord:
    """One article as a reader found it, with its provenance."""

    source: str
    file: str
    record_no: int
    fields: dict[str, str | None] = field(default_factory=dict)
    #: The non-blank physical lines of the file this record was read from (a CSV row with line
    #: breaks in a quoted field has several); checked against an independent count of the file.
    lines: int = 1


@dataclass(slots=True)
class Reject:
    """A record, or a whole file, that could not become an article, and why."""

    source: str
    file: str
    record_no: int
    reason: str
    detail: str = ""
    excerpt: str = ""
    #: As ``RawRecord.lines``; 0 for a reject of a whole file (``record_no`` 0), which counts as one record.
    lines: int = 1

    def as_row(self) -> RejectRow:
        return RejectRow(
            source=self.source,
            file=self.file,
            record_no=self.record_no,
            reason=self.reason,
            detail=self.detail,
            excerpt=self.excerpt,
        )
