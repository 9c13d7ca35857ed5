"""Task ``check``: the run's invariants, its status in the warehouse, its summary and report."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from etl import housekeeping, report
from etl.contracts import LakeReport, LoadReport, RunOutcome, RunSummary, SourceCounts, SourceReport
from etl.errors import InvariantError
from etl.load import warehouse, warehouse_url
from etl.settings import Settings
from etl.tasks.load_warehouse import totals

log = logging.getLogger("etl")


def check(lake_report: LakeReport, load_report: LoadReport, settings: Settings, url: str) -> RunSummary:
    """Verify the run's invariants, record its status and write ``runs/<day>/summary.json``.

    Invariants: for every source, records in = loaded + duplicates + rejected; the warehouse
    holds, for the day and source, exactly the rows the lake holds. A broken one is an
    ``InvariantError``, after the summary is written.
    """
    began = time.perf_counter()
    day = lake_report["day"]
    problems = []
    with warehouse.opened(url) as engine:
        with engine.begin() as conn:
            for name, rep in sorted(lake_report["sources"].items()):
                if rep["records_in"] != rep["loaded"] + rep["duplicates"] + rep["rejected"]:
                    problems.append(
                        f"{name}: {rep['records_in']} records in but {rep['loaded']} loaded + "
                        f"{rep['duplicates']} duplicates + {rep['rejected']} rejected"
                    )
                for table, expected in (
                    ("articles", rep["loaded"]),
                    ("rejects", rep["rejected"]),
                    ("duplicates", rep["duplicates"]),
                ):
                    t = warehouse.metadata.tables[table]
                    got = conn.execute(
                        sa.select(sa.func.count())
                        .select_from(t)
                        .where(t.c.ingest_date == dt.date.fromisoformat(day), t.c.source == name)
                    ).scalar_one()
                    if got != expected:
                        problems.append(f"{name}: warehouse {table} has {got} rows for {day}, lake has {expected}")
            status = "failed" if problems else "ok"
            conn.execute(
                warehouse.runs.update()
                .where(warehouse.runs.c.run_id == load_report["run_id"])
                .values(status=status, finished_at=dt.datetime.now(dt.UTC))
            )
        tables = warehouse.table_counts(engine)
    summary = RunSummary(
        run_id=load_report["run_id"],
        day=day,
        status=status,
        **totals(lake_report),  # type: ignore[typeddict-item]
        sources={n: _counts(r) for n, r in lake_report["sources"].items()},
        partitions=sorted(
            {str(Path(f).parent) for r in lake_report["sources"].values() for fs in r["files"].values() for f in fs}
        ),
        lake=lake_report["lake"],
        warehouse=warehouse_url.url_for_display(url),
        warehouse_tables=tables,
        problems=problems,
        stages={
            **lake_report.get("stages", {}),
            "load_warehouse": load_report.get("seconds", 0.0),
            "check": round(time.perf_counter() - began, 3),
        },
    )
    out = settings.runs / day
    with housekeeping.writing(out):
        out.mkdir(parents=True, exist_ok=True)
    try:  # the report is for people: a failure to draw it is logged, and never fails the run
        summary["report"] = report.build_report(summary, lake_report["lake"], out)["html"]
        log.info("run report: %s", Path(summary["report"]).resolve().as_uri())
    except Exception:
        log.exception("could not build the run report for %s", day)
    with housekeeping.writing(out / "summary.json"):
        (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    if problems:
        raise InvariantError("run check failed: " + "; ".join(problems))
    clear_staging(lake_report)
    return summary


def _counts(rep: SourceReport) -> SourceCounts:
    return SourceCounts(
        records_in=rep["records_in"],
        loaded=rep["loaded"],
        duplicates=rep["duplicates"],
        rejected=rep["rejected"],
        sentences=rep["sentences"],
        mentions=rep["mentions"],
        copies=rep["copies"],
        repairs=rep["repairs"],
    )


def outcome(summary: RunSummary) -> RunOutcome:
    """The run's status and accounting, as the check task hands them on."""
    return RunOutcome(
        run_id=summary["run_id"],
        day=summary["day"],
        status=summary["status"],
        records_in=summary["records_in"],
        loaded=summary["loaded"],
        duplicates=summary["duplicates"],
        rejected=summary["rejected"],
    )


def clear_staging(lake_report: LakeReport) -> None:
    """Drop a checked run's staged copies of the dumps and its shard outputs; keep the manifests.

    The folder is marked checked, so no later run's sweep takes it for a killed run's leftover
    (``etl.housekeeping``), and this process stops holding it.
    """
    for folder in map(Path, lake_report["staging"]):
        shutil.rmtree(folder / "shards", ignore_errors=True)
        for name in lake_report["sources"]:
            shutil.rmtree(folder / name / "files", ignore_errors=True)
        housekeeping.finish(folder)


def read_summary(settings: Settings, day: dt.date) -> RunSummary | None:
    """The summary of the last checked run of ``day``, if any."""
    path = settings.runs / day.isoformat() / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def format_summary(summary: RunSummary) -> str:
    """The run summary as a few lines of text for a terminal."""
    lines = [
        f"Run {summary['run_id']} for {summary['day']}: {summary['status']}",
        f"  records in {summary['records_in']}, loaded {summary['loaded']}, "
        f"duplicates {summary['duplicates']}, rejected {summary['rejected']}",
        f"  {'source':<24}{'in':>8}{'loaded':>8}{'dup':>6}{'rejected':>10}{'copies':>8}{'sentences':>11}"
        f"{'mentions':>10}",
    ]
    for name, r in sorted(summary["sources"].items()):
        lines.append(
            f"  {name:<24}{r['records_in']:>8}{r['loaded']:>8}{r['duplicates']:>6}"
            f"{r['rejected']:>10}{r.get('copies') or 0:>8}{r['sentences']:>11}{r.get('mentions') or 0:>10}"
        )
    repairs = sum((Counter(r.get("repairs", {})) for r in summary["sources"].values()), Counter())
    if repairs:
        lines.append("  cleaning: " + ", ".join(f"{k} {v}" for k, v in sorted(repairs.items())))
    tables = Counter(Path(p).parts[0] for p in summary["partitions"])
    lines.append(
        f"  partitions written: {len(summary['partitions'])} under {summary.get('lake', 'the lake')} ("
        + ", ".join(f"{t} {n}" for t, n in sorted(tables.items()))
        + ")"
    )
    lines.append(
        f"  warehouse {summary['warehouse']}: " + ", ".join(f"{t} {n}" for t, n in summary["warehouse_tables"].items())
    )
    if summary.get("stages"):
        lines.append("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in summary["stages"].items()))
    if summary.get("report"):
        lines.append(f"  report {summary['report']}")
    for p in summary["problems"]:
        lines.append(f"  PROBLEM: {p}")
    return "\n".join(lines)
