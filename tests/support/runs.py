"""A whole pipeline run in the test process, into a given data dir and warehouse."""

from __future__ import annotations

import datetime as dt
import random
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


#: Urdu words the generated test articles are made of.
NEWS_WORDS = [
    "حکومت",
    "نے",
    "آج",
    "لاہور",
    "میں",
    "نئے",
    "منصوبے",
    "کا",
    "اعلان",
    "کیا",
    "اور",
    "کہا",
    "کہ",
    "شہر",
    "کے",
    "اسکولوں",
    "کو",
    "بجلی",
    "ملے",
    "گی",
]


def news_article(rng: random.Random, i: int) -> dict:
    """A generated article ``n<i>``: a title and 3-8 sentences of ``NEWS_WORDS``, paragraphs apart."""
    sentences = [" ".join(rng.choices(NEWS_WORDS, k=rng.randint(6, 14))) + "۔" for _ in range(rng.randint(3, 8))]
    return {"id": f"n{i}", "title": " ".join(rng.choices(NEWS_WORDS, k=5)), "text": "\n\n".join(sentences)}
