"""Per-run report: one self-contained HTML page with inline SVG charts, and its JSON twin.

``build_report(summary, lake_root, out_dir)`` reads the run's day from the lake (only the
partitions of the sources in the summary, only the columns it needs) and writes
``report.html`` and ``report.json``. Both are deterministic: the same summary and lake give
byte-identical files (no generation time; matplotlib's SVG ids are salted with a fixed string
and its metadata date is dropped), so reports of two runs can be diffed.

The HTML needs nothing from outside: no scripts, no external CSS, fonts or images. Charts are
SVG with text kept as ``<text>`` (``svg.fonttype = none``): matplotlib cannot shape Arabic
script, so it only places the labels and the browser shapes the Urdu with a local font. Every
string from the data is escaped (headlines may hold ``<script>`` or template syntax).
"""

from __future__ import annotations

import json
from pathlib import Path

from etl.contracts import RunSummary
from etl.load import lake as lake_store
from etl.report.charts import render_charts
from etl.report.numbers import REPORT_VERSION, collect
from etl.report.page import render_html

__all__ = ["REPORT_VERSION", "build_report", "collect", "render_charts", "render_html"]


def build_report(summary: RunSummary, lake_root: lake_store.Location, out_dir: Path) -> dict[str, str]:
    """Write ``out_dir/report.html`` and ``out_dir/report.json`` for one run.

    Returns ``{"html": path, "json": path}`` (strings).
    """
    data = collect(summary, lake_store.resolve(lake_root))
    page = render_html(data, render_charts(data))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, json_path = out_dir / "report.html", out_dir / "report.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    html_path.write_text(page, encoding="utf-8")
    return {"html": str(html_path), "json": str(json_path)}
