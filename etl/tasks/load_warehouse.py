"""Task ``load_warehouse``: the day's lake partitions into the warehouse, in one transaction; the run recorded."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from etl import schema
from etl.config import Source
from etl.contracts import ACCOUNTING, LakeReport, LoadReport
from etl.load import lake, warehouse, warehouse_url

log = logging.getLogger("etl")


def load_warehouse(
    lake_report: LakeReport, url: str, run_id: str, started_at: dt.datetime, sources: list[Source]
) -> LoadReport:
    """Load the day's lake partitions into the warehouse at ``url`` in one transaction; record the run."""
    began = time.perf_counter()
    day = dt.date.fromisoformat(lake_report["day"])
    lake_root = lake.resolve(lake_report["lake"])
    rows = {
        name: {
            t: warehouse_rows(t, lake.iter_partition(lake_root, t, lake_report["day"], name, schema.TABLES[t]))
            for t in schema.TABLES
        }
        for name in lake_report["sources"]
    }
    run = {
        "run_id": run_id,
        "day": day,
        "started_at": started_at,
        "finished_at": dt.datetime.now(dt.UTC),
        "status": "loaded",
        "sources": ",".join(sorted(lake_report["sources"])),
        **totals(lake_report),
    }
    dump_rows: list[dict] = []
    for name, rep in lake_report["sources"].items():
        manifest = _manifest(lake_report["staging"], name)
        dump_rows.append(
            {
                "run_id": run_id,
                "source": name,
                "day": day,
                "url": manifest.get("url", ""),
                "bytes": manifest.get("bytes", 0),
                "sha256": manifest.get("sha256", ""),
                "files": len(manifest.get("files", [])),
                **{k: rep[k] for k in ACCOUNTING},
            }
        )
    with warehouse.opened(url) as engine:
        written = warehouse.load_run(
            engine,
            day,
            rows,
            run,
            dump_rows,
            [warehouse.sources_row(s, run_id) for s in sources if s.name in rows],
            expected=_expected(lake_report),
        )
    log.info("warehouse %s: %s", warehouse_url.url_for_display(url), written)
    return LoadReport(
        run_id=run_id, day=lake_report["day"], written=written, seconds=round(time.perf_counter() - began, 3)
    )


def _expected(lake_report: LakeReport) -> dict[str, int]:
    """The rows the day's lake holds per warehouse table, as far as its counts say."""
    reports = lake_report["sources"].values()
    return {
        "articles": sum(rep["loaded"] for rep in reports),
        "sentences": sum(rep["sentences"] for rep in reports),
        "mentions": sum(rep["mentions"] for rep in reports),
    }


def totals(lake_report: LakeReport) -> dict[str, int]:
    """The day's accounting over all its sources."""
    return {k: sum(rep[k] for rep in lake_report["sources"].values()) for k in ACCOUNTING}


def warehouse_rows(table: str, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Lake batches of ``table`` as the warehouse stores them: tokens joined by spaces, keyword and
    flag lists as JSON text, column-wise."""
    for batch in batches:
        if table == "sentences":
            batch = batch.set_column(
                batch.schema.get_field_index("tokens"), "tokens", pc.binary_join(batch.column("tokens"), " ")
            )
        elif table == "articles":
            for name in ("keywords", "quality_flags"):
                batch = batch.set_column(batch.schema.get_field_index(name), name, _json_lists(batch.column(name)))
        yield batch


_JSON_ESCAPES = r'[\\"\x00-\x1f]'


def _json_lists(lists: pa.Array) -> pa.Array:
    """Each list of strings as ``json.dumps(list, ensure_ascii=False)`` writes it, column-wise
    (values that JSON would escape send the batch through ``json.dumps``)."""
    values = pc.list_flatten(lists)
    if len(values) and pc.any(pc.match_substring_regex(values, _JSON_ESCAPES)).as_py():
        return pa.array([json.dumps(v, ensure_ascii=False) for v in lists.to_pylist()], pa.string())
    joined = pc.binary_join_element_wise('["', pc.binary_join(lists, '", "'), '"]', "")
    empty = pc.equal(pc.list_value_length(lists), 0)
    return pc.if_else(pc.is_null(lists), "null", pc.if_else(empty, "[]", joined))


def _manifest(staging: list[str], source: str) -> dict:
    for folder in staging:
        path = Path(folder) / source / "manifest.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    return {}
