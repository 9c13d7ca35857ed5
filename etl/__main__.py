"""``python -m etl``, the same command line as ``urdu-etl`` (``etl/cli.py``)."""

from etl.cli import entry

if __name__ == "__main__":
    entry()
