"""Task ``fetch``: stage every source's dump for the day and cut the staged files into shards."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from etl import failpoints, housekeeping
from etl.config import Source, load_sources, parse_day
from etl.contracts import Shard, SpanSpec
from etl.errors import ConfigError, NoDumpError
from etl.fetch import fetch_dump
from etl.read import FORMATS, split_file
from etl.settings import Settings

log = logging.getLogger("etl")

#: Formats of one article per file group up to this many files in a shard.
FILES_PER_SHARD = 400


def resolve_day(date_param: str | None, interval_start: dt.datetime | None, tz: str) -> dt.date:
    """The day a run processes: the ``date`` param when given, else the data interval's start day in ``tz``.

    Either lies between ``FIRST_DAY`` and ``LAST_DAY`` (``etl.config.parse_day``), else a ``ConfigError``.
    """
    if date_param is not None and not (isinstance(date_param, str) and not date_param.strip()):
        return parse_day(date_param, "date")
    if interval_start is None:
        raise ConfigError("no date given and the run has no data interval")
    return parse_day(interval_start.astimezone(ZoneInfo(tz)).date(), "the data interval's day")


def declared_sources(settings: Settings) -> dict[str, Source]:
    """The sources the sources file (``settings.sources_file``) declares, by name."""
    return load_sources(settings.sources_file)


def select_sources(all_sources: dict[str, Source], names: list[str] | None) -> list[Source]:
    """The named sources (all of them when ``names`` is empty), in name order."""
    if not names:
        return [all_sources[n] for n in sorted(all_sources)]
    unknown = [n for n in names if n not in all_sources]
    if unknown:
        raise ConfigError(f"unknown source(s) {', '.join(unknown)}; declared: {', '.join(sorted(all_sources))}")
    return [all_sources[n] for n in sorted(set(names))]


def run_key(run_id: str) -> str:
    """A file-name-safe form of a run id, naming the run's staging folder."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)[:120]


@housekeeping.storage_errors(lambda settings: settings.staging)
def fetch(
    sources: list[Source],
    day: dt.date,
    settings: Settings,
    dump_url: str | None = None,
    missing_ok: bool = True,
    run_id: str = "manual",
    max_shards: int | None = None,
) -> list[Shard]:
    """Fetch every source's dump for ``day`` and cut the staged files into shards.

    Files are staged under ``staging/<day>/<run>/``, so concurrent runs never share a folder.
    A source with no dump for the day is logged and skipped when ``missing_ok``, else an error.
    ``max_shards`` (the DAG passes Airflow's ``[core] max_map_length``, the most mapped tasks it
    runs over one task's result) makes the shards coarser until the day fits (``fit_shards``).
    """
    if dump_url and len(sources) != 1:
        raise ConfigError("an explicit dump URL needs exactly one source to say how to read it")
    staging = housekeeping.tidy(settings, day.isoformat(), run_id)  # held; killed runs' leftovers removed
    fetched: list[tuple[dict, Source]] = []
    began = time.perf_counter()
    for source in sources:
        try:
            manifest = fetch_dump(source, day, staging, dump_url, settings)
        except NoDumpError as exc:
            if not missing_ok:
                raise
            log.warning("%s", exc)
            continue
        log.info(
            "fetched %s for %s: %d file(s), %d bytes, sha256 %s",
            source.name,
            day,
            len(manifest["files"]),
            manifest["bytes"],
            manifest["sha256"][:12],
        )
        failpoints.hit("fetched")
        fetched.append((manifest, source))
    shards = fit_shards(fetched, staging, settings.shard_bytes, max_shards)
    for shard in shards:  # how long the stage took travels with its output, for the run report
        shard["fetch_seconds"] = round(time.perf_counter() - began, 3)
    return shards


def fit_shards(
    fetched: list[tuple[dict, Source]], staging: Path, target_bytes: int, max_shards: int | None = None
) -> list[Shard]:
    """The shards of every fetched dump (``plan_shards``), at most ``max_shards`` of them.

    When the day would make more, every source is planned again ``scale`` times coarser (shards of
    ``scale`` times ``target_bytes``, ``scale`` times the files in a shard), the least power of two
    that fits, with a warning: each transform task then holds a larger shard. A day of more
    sources than ``max_shards`` cannot fit (a shard holds one source's records): a ``ConfigError``.
    """
    if max_shards is not None and len(fetched) > max_shards:
        raise ConfigError(
            f"the day has dumps of {len(fetched)} sources, and each needs a transform task of its own: more "
            f"than Airflow maps over one task's result ([core] max_map_length = {max_shards}); raise it "
            "(AIRFLOW__CORE__MAX_MAP_LENGTH) or run fewer sources at a time (the sources param)"
        )

    def plan(scale: int) -> list[Shard]:
        return [s for manifest, source in fetched for s in plan_shards(manifest, source, staging, target_bytes, scale)]

    scale = 1
    shards = planned = plan(scale)
    while max_shards is not None and len(shards) > max_shards:
        scale *= 2
        shards = plan(scale)
    if scale > 1:
        log.warning(
            "the day makes %d shards at %.3g MiB, more than Airflow maps over one task's result "
            "([core] max_map_length = %d): %d shards of about %.3g MiB instead, each transform task holding "
            "that much more; raise max_map_length to keep shards of URDU_ETL_SHARD_MB",
            len(planned),
            target_bytes / (1 << 20),
            max_shards,
            len(shards),
            target_bytes * scale / (1 << 20),
        )
    return shards


def plan_shards(manifest: dict, source: Source, staging: Path, target_bytes: int, scale: int = 1) -> list[Shard]:
    """Cut a dump into shards; a shard's id comes from its files (and byte span), never its position.

    Formats of one article per file group up to ``FILES_PER_SHARD`` files in a shard. A file of a
    format that can be cut (CSV, JSONL) is a shard of its own, and one larger than ``target_bytes``
    is cut into spans of whole records of about that size (``etl.read.split_file``). ``scale``
    (``fit_shards``) makes shards that many times coarser: spans of ``scale`` times
    ``target_bytes``, ``scale`` times ``FILES_PER_SHARD`` files, and files not cut grouped
    ``scale`` at a time.
    """
    files = manifest["files"]
    units: list[tuple[list[str], SpanSpec | None]] = []
    if FORMATS[source.format].split is not None:
        whole: list[str] = []  # files read whole, in order, ``scale`` to a shard
        for rel in files:
            spans = split_file(Path(manifest["files_dir"]) / rel, source, target_bytes * scale)
            if spans or len(whole) == scale:
                units += [(whole, None)] if whole else []
                whole = []
            if spans:
                units += [([rel], span.as_dict()) for span in spans]
            else:
                whole.append(rel)
        units += [(whole, None)] if whole else []
    else:
        per_shard = FILES_PER_SHARD * scale
        units = [(files[i : i + per_shard], None) for i in range(0, len(files), per_shard)]
    shards = []
    for i, (group, span) in enumerate(units or [([], None)]):
        key = "\n".join(group) + (f"@{span['start']}-{span['end']}" if span else "")
        shards.append(
            Shard(
                shard_id=f"{source.name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}",
                source=source.spec(),
                day=manifest["day"],
                staging=str(staging),
                dump_sha256=manifest["sha256"],
                files_dir=manifest["files_dir"],
                files=group,
                span=span,
                # rejects found while fetching (archives that would not expand) travel with the first shard
                rejects=manifest["rejects"] if i == 0 else [],
                fetch_seconds=0.0,
            )
        )
    return shards
