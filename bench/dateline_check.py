"""A random check of the dateline places the pipeline finds on the real corpora, for reading by hand.

Every article of the sources ``config/corpora.yaml`` declares (the six corpora of
``../shared/corpora``) is read by the pipeline's own readers (``etl.read.read_file``) and cleaned as
a shard is cleaned (``etl.articles.clean_records``); ``etl.enrich.dateline.parse_dateline`` then
reads each clean body with the publication day the pipeline gives it (the article's
``published_at``, else the run's day). Two seeded uniform samples are drawn over all corpora
together: ``--n`` articles that got a place (to count false places: an organization, a person, a
page label, words that open no dateline) and ``--n`` that got none (to count missed datelines).

    .venv/bin/python bench/dateline_check.py --seed 15            # print both samples for reading
    .venv/bin/python bench/dateline_check.py --seed 15 --table    # the ids only, as Markdown rows

The openings are printed to the terminal for reading and never written to a file: the results
(``bench/results/dateline_check.md``) hold counts, ids (file, record), the reader's verdicts and
the place's gazetteer key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from etl.articles import clean_records
from etl.config import Source, load_sources
from etl.enrich.dateline import Dateline, parse_dateline
from etl.read import FORMATS, read_file
from etl.records import RawRecord

CONFIG = ROOT / "config" / "corpora.yaml"
#: The run day the corpora are cleaned as of (that of the gold sets, ``tests.gold.entities``).
RUN_DAY = dt.date(2026, 1, 1)
#: Records cleaned in one batch, as a shard would be.
BATCH = 2000
#: How much of a body's opening is printed for reading.
OPENING = 160


class Checked(NamedTuple):
    source: str
    file: str
    record: int
    body: str
    published: dt.date | None
    dateline: Dateline


def _files(source: Source) -> Iterator[tuple[Path, str]]:
    """``(path, id)`` of every file of a source; the id is the path under the corpora folder."""
    path = Path(source.url)
    paths = sorted(p for p in path.rglob("*") if p.name.lower().endswith(FORMATS[source.format].suffixes))
    for p in paths if path.is_dir() else [path]:
        yield p, p.as_posix().split("/corpora/", 1)[-1]


def _records(source: Source) -> Iterator[RawRecord]:
    for path, rel in _files(source):
        for item in read_file(path, rel, source):
            if isinstance(item, RawRecord):
                yield item


def checked(config: Path = CONFIG, day: dt.date = RUN_DAY) -> Iterator[Checked]:
    """Every article of the declared corpora with its dateline, as the pipeline reads it."""
    for source in load_sources(config).values():
        if not Path(source.url).exists():
            sys.exit(f"{source.name}: {source.url} not found (the check reads ../shared/corpora)")
        records = list(_records(source))
        for i in range(0, len(records), BATCH):
            chunk = records[i : i + BATCH]
            for rec, row in zip(chunk, clean_records(chunk, day, source.required)):
                if not isinstance(row, dict):
                    continue  # rejected: no article, no dateline
                published = row["published_at"].date() if row["published_at"] else day
                yield Checked(
                    source.name, rec.file, rec.record_no, row["body"], published, parse_dateline(row["body"], published)
                )


def _show(k: int, c: Checked) -> str:
    d = c.dateline
    opening = " ".join(c.body[:OPENING].split())
    return (
        f"[{k}] {c.source} | {c.file} | record {c.record}\n"
        f"    place={d.place!r} key={d.place_key!r} agency={d.agency!r} agency_key={d.agency_key!r} "
        f"date={d.date} end={d.end} published={c.published}\n"
        f"    {opening}\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--n", type=int, default=100, help="articles per sample")
    ap.add_argument("--config", type=Path, default=CONFIG)
    ap.add_argument("--table", action="store_true", help="print Markdown rows of ids and place keys, no text")
    ap.add_argument("--sources", nargs="+", help="draw the samples from these sources only (all are counted)")
    args = ap.parse_args()
    with_place: list[Checked] = []
    without: list[Checked] = []
    total: Counter[str] = Counter()
    placed: Counter[str] = Counter()
    for c in checked(args.config):
        total[c.source] += 1
        placed[c.source] += bool(c.dateline.place)
        if args.sources and c.source not in args.sources:
            continue
        (with_place if c.dateline.place else without).append(c)
    rng = random.Random(args.seed)
    samples = {
        "place": rng.sample(with_place, min(args.n, len(with_place))),
        "none": rng.sample(without, min(args.n, len(without))),
    }
    drawn = f"from {', '.join(args.sources)}" if args.sources else "from all sources"
    print(f"seed {args.seed}, samples drawn {drawn}; articles and those with a dateline place, per source:")
    for source in total:
        print(f"  {source:<20} {total[source]:>7} {placed[source]:>7}")
    print(f"  {'ALL':<20} {sum(total.values()):>7} {sum(placed.values()):>7}\n")
    for kind, sample in samples.items():
        print(f"## sample of {len(sample)} articles with {'a place' if kind == 'place' else 'no place'}\n")
        for k, c in enumerate(sample, 1):
            if args.table:
                key = c.dateline.place_key or ("(not in the gazetteer)" if c.dateline.place else "")
                print(f"| {kind}-{k} | {c.source} | {c.file} | {c.record} | {key} |  |  |")
            else:
                print(_show(k, c))
        print()


if __name__ == "__main__":
    main()
