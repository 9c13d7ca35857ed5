"""``python -m etl``, the same command line as ``urdu-etl`` (``etl/cli.py``)."""

import sys

from etl.cli import main

if __name__ == "__main__":
    sys.exit(main())
