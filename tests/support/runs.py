"""A whole pipeline run in the test process, into a given data dir and warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from etl import runner
from etl.config import Source
from etl.contracts import RunSummary
from etl.settings import Settings


def settings_for(data_dir: Path, url: str | None = None) -> Settings:
    """The settings of the environment, with this data dir (and warehouse URL, when given)."""
    return Settings.from_env().replace(data_dir=Path(data_dir).resolve(), warehouse_url=url)


def run_pipeline(sources: list[Source], day: dt.date, data_dir: Path, url: str, **options) -> RunSummary:
    """``etl.runner.run`` of ``sources`` for ``day``, into ``data_dir`` and the warehouse at ``url``."""
    return runner.run(sources, day, settings_for(data_dir, url), **options)
