"""Fetch stage: stage a source's dump for one day and record its manifest."""

from etl.errors import FetchError, NoDumpError, TransientFetchError
from etl.fetch.fetch import fetch_dump

__all__ = ["FetchError", "NoDumpError", "TransientFetchError", "fetch_dump"]
