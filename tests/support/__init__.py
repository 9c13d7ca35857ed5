"""Helpers shared by the test suites."""

from pathlib import Path

#: The repository checkout the tests run from.
ROOT = Path(__file__).resolve().parents[2]
