"""Fetch stage: stage a source's dump for one day and record its manifest."""

from etl.fetch.fetch import FetchError, NoDumpError, fetch_dump

__all__ = ["FetchError", "NoDumpError", "fetch_dump"]
