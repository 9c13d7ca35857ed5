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

import html
import io
import json
import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.load import lake as lake_store

REPORT_VERSION = "1.0.0"

COUNT_KEYS = ("records_in", "loaded", "duplicates", "copies", "rejected", "sentences", "mentions")
STAGE_ORDER = ("fetch", "transform", "write_lake", "load_warehouse", "check")
# Lower edges of the body-length bins, in words; the last bin is open-ended.
WORD_BINS = (0, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000)
TOP_N = 15
TOP_CLUSTERS = 10
ENTITY_COLOURS = {"person": "#1f77b4", "location": "#2ca02c", "organization": "#ff7f0e"}
OTHER_COLOUR = "#7f7f7f"
COPY_COLOUR = "#d62728"
SALT = "urdu-etl-report"
# Local fonts that hold every Urdu letter, Naskh first (compact in charts and tables).
URDU_FONTS = ('"Noto Naskh Arabic", "Noto Sans Arabic", "Segoe UI", "Geeza Pro", "Noto Nastaliq Urdu", '
              '"Jameel Noori Nastaleeq", "Urdu Typesetting", "DejaVu Sans", sans-serif')
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_SPACES = re.compile(r"\s+")
# Columns read per table, with the type a partition written before the column existed gets.
_ARTICLE_COLS = {"article_id": pa.string(), "word_count": pa.int32(), "dateline_city": pa.string(),
                 "duplicate_of": pa.string(), "duplicate_kind": pa.string()}
_MENTION_COLS = {"article_id": pa.string(), "entity_id": pa.string(), "entity_type": pa.string(),
                 "entity_name": pa.string()}


def build_report(summary: dict, lake_root: lake_store.Location, out_dir: Path) -> dict[str, str]:
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


# ---------------------------------------------------------------------------------------------
# Numbers (the JSON twin)

def collect(summary: dict, lake_root: lake_store.Location) -> dict:
    """Every number the report shows, as plain JSON-ready data."""
    day = str(summary.get("day", ""))
    names = sorted(summary.get("sources") or {})
    lake = _read_lake(lake_root, day, names)
    counts = _counts(summary, names)
    return {
        "report_version": REPORT_VERSION,
        "run": {"run_id": summary.get("run_id"), "day": day, "status": summary.get("status"),
                "warehouse": summary.get("warehouse"), "problems": list(summary.get("problems") or [])},
        "counts": counts,
        "rejects": _reject_reasons(lake["rejects"]),
        "stages": _stages(summary.get("stages") or {}),
        "charts": {
            "articles_per_source": {"sources": names,
                                    "articles": [lake["articles"][n] for n in names],
                                    "copies": [lake["copies"][n] for n in names]},
            "word_count": _word_histogram(lake["word_counts"]),
            "top_entities": _top_entities(lake["entities"]),
            "top_dateline_cities": [{"city": c, "articles": n} for c, n in _top(lake["cities"], TOP_N)],
            "duplicate_clusters": _clusters(lake, lake_root, day),
        },
        "notes": _lake_notes(counts, lake, names),
    }


def _read(lake_root: lake_store.Location, table: str, day: str, source: str, columns: dict[str, pa.DataType]) -> pa.Table | None:
    """One partition, only ``columns`` (a column the files lack comes back as nulls); None when absent."""
    parts = []
    for path in lake_store.partition_files(lake_root, table, day, source):
        # ParquetFile, not read_table: no dataset machinery to load, a fraction of the time and memory
        with lake_store.open_parquet(lake_root, path) as pf:
            present = set(pf.schema_arrow.names)
            t = pf.read(columns=[c for c in columns if c in present])
        for c, typ in columns.items():
            if c not in present:
                t = t.append_column(c, pa.nulls(t.num_rows, typ))
        parts.append(t.select(list(columns)))
    return pa.concat_tables(parts) if parts else None


def _read_lake(lake_root: lake_store.Location, day: str, names: list[str]) -> dict:
    """Per-source aggregates of the day's partitions, one partition in memory at a time."""
    out = {"articles": {}, "copies": {}, "word_counts": {}, "cities": Counter(), "rejects": {},
           "duplicates": {}, "entities": [], "copy_rows": [], "ids": {}}
    for name in names:
        arts = _read(lake_root, "articles", day, name, _ARTICLE_COLS)
        n = arts.num_rows if arts is not None else 0
        out["articles"][name] = n
        if arts is None or n == 0:
            out["copies"][name] = 0
            out["ids"][name] = pa.array([], pa.string())
        else:
            wc = arts["word_count"].drop_null().to_numpy()
            if len(wc):
                out["word_counts"][name] = wc
            cities = pc.utf8_trim_whitespace(arts["dateline_city"])
            cities = cities.filter(pc.fill_null(pc.not_equal(cities, ""), False))
            for row in pc.value_counts(cities).to_pylist():
                out["cities"][row["values"]] += row["counts"]
            copies = arts.filter(pc.is_valid(arts["duplicate_of"]))
            out["copies"][name] = copies.num_rows
            out["copy_rows"].append(copies.select(["article_id", "duplicate_of", "duplicate_kind"])
                                    .append_column("source", pa.array([name] * copies.num_rows, pa.string())))
            out["ids"][name] = arts["article_id"].combine_chunks()
        rej = _read(lake_root, "rejects", day, name, {"reason": pa.string()})
        out["rejects"][name] = ({r["values"]: r["counts"] for r in pc.value_counts(rej["reason"]).to_pylist()}
                                if rej is not None and rej.num_rows else {})
        dup = _read(lake_root, "duplicates", day, name, {"reason": pa.string()})
        out["duplicates"][name] = dup.num_rows if dup is not None else 0
        men = _read(lake_root, "mentions", day, name, _MENTION_COLS)
        if men is not None and men.num_rows:
            # article ids are per source, so per-source distinct counts add up across sources
            out["entities"].append(men.group_by(["entity_id", "entity_type", "entity_name"]).aggregate(
                [("article_id", "count_distinct"), ("article_id", "count")]))
    return out


def _counts(summary: dict, names: list[str]) -> dict:
    """Per-source counts as the run summary states them, with totals (null when a key is absent)."""
    per = {n: {k: (summary["sources"][n] or {}).get(k) for k in COUNT_KEYS} for n in names}
    total = {}
    for k in COUNT_KEYS:
        values = [per[n][k] for n in names if per[n][k] is not None]
        total[k] = sum(values) if values else None
    return {"sources": per, "total": total}


def _lake_notes(counts: dict, lake: dict, names: list[str]) -> list[str]:
    """Disagreements between the summary and what the lake holds (a partition replaced since)."""
    notes = []
    for n in names:
        for key, held, table in (("loaded", lake["articles"][n], "articles"),
                                 ("rejected", sum(lake["rejects"][n].values()), "rejects"),
                                 ("duplicates", lake["duplicates"][n], "duplicates")):
            stated = counts["sources"][n][key]
            if stated is not None and stated != held:
                notes.append(f"{n}: summary says {key} {stated}, lake {table} partition holds {held} rows")
    return notes


def _reject_reasons(per_source: dict[str, dict[str, int]]) -> dict:
    reasons = sorted({r for counts in per_source.values() for r in counts})
    total = Counter()
    for counts in per_source.values():
        total.update(counts)
    return {"reasons": reasons, "by_source": {n: dict(sorted(c.items())) for n, c in per_source.items()},
            "total": dict(sorted(total.items()))}


def _stages(stages: dict) -> dict:
    """Seconds per stage in pipeline order (unknown stages after, by name) and share of the total."""
    seconds = {k: float(v) for k, v in stages.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)}
    order = [s for s in STAGE_ORDER if s in seconds] + sorted(set(seconds) - set(STAGE_ORDER))
    total = round(sum(seconds.values()), 6)
    share = {k: (round(v / total, 4) if total > 0 else None) for k, v in seconds.items()}
    return {"order": order, "seconds": seconds, "share": share, "total_seconds": total}


def _bin_labels() -> list[str]:
    edges = list(WORD_BINS)
    return [f"{lo}–{hi - 1}" for lo, hi in zip(edges, edges[1:])] + [f"{edges[-1]}+"]


def _word_histogram(word_counts: dict[str, np.ndarray]) -> dict:
    edges = np.asarray(WORD_BINS)
    counts, medians = {}, {}
    for name, wc in sorted(word_counts.items()):
        idx = np.clip(np.searchsorted(edges, wc, side="right") - 1, 0, len(edges) - 1)
        counts[name] = np.bincount(idx, minlength=len(edges)).tolist()
        medians[name] = float(np.median(wc))
    return {"edges": list(WORD_BINS), "labels": _bin_labels(), "counts": counts, "median": medians}


def _top(counter: Counter, n: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _top_entities(parts: list[pa.Table]) -> list[dict]:
    """The entities mentioned in most articles (ties: more mentions, then id)."""
    if not parts:
        return []
    agg = pa.concat_tables(parts).group_by(["entity_id", "entity_type", "entity_name"]).aggregate(
        [("article_id_count_distinct", "sum"), ("article_id_count", "sum")])
    rows = [{"entity_id": r["entity_id"], "entity_type": r["entity_type"], "entity_name": r["entity_name"],
             "articles": r["article_id_count_distinct_sum"], "mentions": r["article_id_count_sum"]}
            for r in agg.to_pylist()]
    rows.sort(key=lambda r: (-r["articles"], -r["mentions"], r["entity_id"]))
    return rows[:TOP_N]


def _clusters(lake: dict, lake_root: lake_store.Location, day: str) -> dict:
    """Duplicate clusters of the day: a canonical article and its copies (``duplicate_of``)."""
    rows = [r for t in lake["copy_rows"] for r in t.to_pylist()]
    by_canonical: dict[str, list[dict]] = {}
    for r in rows:
        by_canonical.setdefault(r["duplicate_of"], []).append(r)
    sizes = Counter(len(copies) + 1 for copies in by_canonical.values())
    largest = sorted(by_canonical.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP_CLUSTERS]
    wanted = pa.array([cid for cid, _ in largest], pa.string())
    found: dict[str, tuple[str, str | None]] = {}
    for name, ids in lake["ids"].items():
        if len(wanted) and pc.any(pc.is_in(ids, value_set=wanted)).as_py():
            heads = _read(lake_root, "articles", day, name, {"article_id": pa.string(), "headline": pa.string()})
            heads = heads.filter(pc.is_in(heads["article_id"], value_set=wanted))
            for r in heads.to_pylist():
                found[r["article_id"]] = (name, r["headline"])
    table = []
    for cid, copies in largest:
        src, headline = found.get(cid, (None, None))
        kinds = Counter(c["duplicate_kind"] for c in copies)
        table.append({"canonical_id": cid, "canonical_source": src, "canonical_headline": headline,
                      "in_this_day": cid in found, "copies": len(copies), "exact": kinds.get("exact", 0),
                      "near": kinds.get("near", 0), "copy_sources": sorted({c["source"] for c in copies})})
    return {"clusters": len(by_canonical), "copies": len(rows),
            "sizes": [[s, n] for s, n in sorted(sizes.items())], "largest": table}


# ---------------------------------------------------------------------------------------------
# Charts (SVG strings)

def render_charts(data: dict) -> dict[str, str | None]:
    """Each chart as an inline SVG string, or None when there is nothing to draw."""
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no global figure state, any thread

    charts = data["charts"]
    plans = {"articles_per_source": _chart_articles, "word_count": _chart_words,
             "top_entities": _chart_entities, "top_dateline_cities": _chart_cities,
             "duplicate_clusters": _chart_clusters}
    out = {}
    for key, plot in plans.items():
        rc = {"svg.fonttype": "none", "svg.hashsalt": f"{SALT}-{key}", "font.size": 9,
              "axes.spines.top": False, "axes.spines.right": False}
        with matplotlib.rc_context(rc), warnings.catch_warnings():
            # DejaVu Sans lacks some Urdu letters and matplotlib warns that it cannot shape
            # Arabic: it only measures the labels here, the browser draws them.
            warnings.filterwarnings("ignore", message=r"(Glyph \d+|Matplotlib currently does not support)")
            fig = plot(Figure, charts[key])
            out[key] = _svg(fig, key) if fig is not None else None
    return out


def _label(text: str | None, limit: int = 40) -> str:
    """Data text made safe for a matplotlib label: one line, short, no mathtext."""
    text = _SPACES.sub(" ", text or "").strip() or "—"
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


def _svg(fig, key: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.15,
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    # the page's inline SVGs share one id space: prefix each chart's ids and references to them
    svg = re.sub(r'\bid="', f'id="{key}-', svg)
    svg = re.sub(r"url\(#", f"url(#{key}-", svg)
    svg = re.sub(r'href="#', f'href="#{key}-', svg)
    svg = svg.replace("<svg ", f'<svg class="chart" role="img" aria-labelledby="h-{key}" ', 1)
    # Urdu labels: a font that has every letter, picked by CSS (see _CSS)
    return re.sub(r"<text ([^>]*)>([^<]*)</text>",
                  lambda m: (f'<text lang="ur" {m.group(1)}>{m.group(2)}</text>'
                             if _ARABIC.search(m.group(2)) else m.group(0)), svg)


def _hbar(Figure, labels: list[str], values: list[int], colours, xlabel: str):
    fig = Figure(figsize=(7.5, 0.9 + 0.3 * len(labels)))
    ax = fig.subplots()
    y = np.arange(len(labels))[::-1]
    bars = ax.barh(y, values, color=colours)
    ax.set_yticks(y, [_label(s) for s in labels])
    ax.tick_params(axis="y", labelsize=10.5)  # Naskh letters look small at the Latin size
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.margins(x=0.12)
    _whole_numbers(ax.xaxis)
    return fig, ax


def _whole_numbers(axis) -> None:
    """Counts get whole-number ticks (no 0.5 articles)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _chart_articles(Figure, c: dict):
    if not any(c["articles"]):
        return None
    names, arts, copies = c["sources"], c["articles"], c["copies"]
    fig = Figure(figsize=(7.5, 0.9 + 0.35 * len(names)))
    ax = fig.subplots()
    y = np.arange(len(names))[::-1]
    originals = [a - k for a, k in zip(arts, copies)]
    ax.barh(y, originals, color="#1f77b4", label="originals")
    bars = ax.barh(y, copies, left=originals, color=COPY_COLOUR, label="copies of another article")
    ax.bar_label(bars, labels=[f"{a:,} ({k:,} copies)" for a, k in zip(arts, copies)], padding=3, fontsize=8)
    ax.set_yticks(y, names)
    ax.set_xlabel("articles loaded")
    ax.margins(x=0.25)
    _whole_numbers(ax.xaxis)
    # beside the bars, never over them
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return fig


def _chart_words(Figure, c: dict):
    names = list(c["counts"])
    if not names:
        return None
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(3.2 * cols, 2.4 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    x = np.arange(len(c["labels"]))
    for ax, name in zip(axes, names):
        counts = c["counts"][name]
        ax.bar(x, counts, color="#1f77b4", width=0.85)
        ax.set_title(f"{name}: {sum(counts):,} articles, median {c['median'][name]:g} words", fontsize=8)
        ax.set_xticks(x, c["labels"], rotation=60, ha="right", rotation_mode="anchor", fontsize=6.5)
        ax.tick_params(axis="y", labelsize=7)
        _whole_numbers(ax.yaxis)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.supxlabel("words in body", fontsize=8)
    return fig


def _chart_entities(Figure, rows: list[dict]):
    if not rows:
        return None
    colours = [ENTITY_COLOURS.get(r["entity_type"], OTHER_COLOUR) for r in rows]
    fig, ax = _hbar(Figure, [r["entity_name"] for r in rows], [r["articles"] for r in rows], colours,
                    "articles mentioning the entity")
    from matplotlib.patches import Patch
    types = sorted({r["entity_type"] for r in rows})
    ax.legend(handles=[Patch(color=ENTITY_COLOURS.get(t, OTHER_COLOUR), label=_label(t)) for t in types],
              loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return fig


def _chart_cities(Figure, rows: list[dict]):
    if not rows:
        return None
    fig, _ = _hbar(Figure, [r["city"] for r in rows], [r["articles"] for r in rows], "#9467bd",
                   "articles with this dateline city")
    return fig


def _chart_clusters(Figure, c: dict):
    if not c["sizes"]:
        return None
    sizes, n = zip(*c["sizes"])
    fig = Figure(figsize=(7.5, 2.8))
    ax = fig.subplots()
    x = np.arange(len(sizes))
    bars = ax.bar(x, n, color=COPY_COLOUR, width=0.7)
    ax.bar_label(bars, labels=[f"{v:,}" for v in n], padding=2, fontsize=8)
    ax.set_xticks(x, [str(s) for s in sizes])
    ax.set_xlabel("articles in the cluster (canonical + copies)")
    ax.set_ylabel("clusters")
    ax.margins(y=0.15)
    _whole_numbers(ax.yaxis)
    return fig


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:2rem auto;
max-width:1000px;padding:0 1rem;color:#222;line-height:1.4}
h1{margin-bottom:.3rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.meta dt{font-weight:600}
dl.meta dd{margin:0;word-break:break-all}
.status{display:inline-block;padding:.05rem .6rem;border-radius:.8rem;color:#fff;font-weight:700}
.status-ok{background:#1b7f3b}.status-failed{background:#c62828}.status-other{background:#b26a00}
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:700;background:#fafafa}
.bar{background:#1f77b4;height:.7rem;display:inline-block;vertical-align:middle}
.empty{color:#777;font-style:italic}.note{color:#b26a00}
svg.chart{max-width:100%;height:auto;display:block;margin:.6rem 0}
[lang=ur]{font-family:%URDU%}
svg.chart text[lang=ur]{font-family:%URDU% !important}
td[lang=ur]{font-size:1.05rem}
.swatch{display:inline-block;width:.7rem;height:.7rem;margin-right:.3rem;vertical-align:middle}
""".replace("%URDU%", URDU_FONTS)


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value, key: str, fmt: str = "int") -> str:
    """A number cell, tagged with the JSON path of its value (``data-k``) so the twin can be checked."""
    if value is None:
        text = "—"
    elif fmt == "int":
        text = f"{value:,}"
    elif fmt == "seconds":
        text = f"{value:.3f}"
    else:  # share
        text = f"{value * 100:.1f}%"
    return f'<td class="n" data-k="{_e(key)}">{text}</td>'


def _ur(value) -> str:
    return f'<td dir="auto" lang="ur">{_e(value) if value else "—"}</td>'


def render_html(data: dict, charts: dict[str, str | None]) -> str:
    run = data["run"]
    status = str(run["status"] or "unknown")
    status_class = {"ok": "status-ok", "failed": "status-failed"}.get(status, "status-other")
    title = f"Urdu news run report — {run['day']}"
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f'<meta name="generator" content="etl.report {REPORT_VERSION}">',
           f'<title>{_e(title)}</title>', f'<style>{_CSS}</style>', '</head>', '<body>',
           '<h1>Urdu news run report</h1>', '<dl class="meta">',
           f'<dt>Run</dt><dd>{_e(run["run_id"])}</dd>',
           f'<dt>Day</dt><dd>{_e(run["day"])}</dd>',
           f'<dt>Status</dt><dd><span class="status {status_class}">{_e(status)}</span></dd>',
           f'<dt>Warehouse</dt><dd>{_e(run["warehouse"])}</dd>', '</dl>']
    if run["problems"]:
        out.append('<h2 id="h-problems">Problems</h2><ul>' +
                   "".join(f'<li class="note">{_e(p)}</li>' for p in run["problems"]) + "</ul>")
    if data["notes"]:
        out.append('<ul>' + "".join(f'<li class="note">{_e(p)}</li>' for p in data["notes"]) + "</ul>")
    out += _counts_html(data["counts"]) + _rejects_html(data["rejects"]) + _stages_html(data["stages"])
    c = data["charts"]
    out += _chart_html("articles_per_source", "Articles per source", charts, "No articles loaded for this day.")
    out += _chart_html("word_count", "Body length (words)", charts, "No articles loaded for this day.")
    out += _chart_html("top_entities", f"Top {TOP_N} entities", charts, "No entity mentions for this day.")
    out += _entities_table(c["top_entities"])
    out += _chart_html("top_dateline_cities", f"Top {TOP_N} dateline cities", charts,
                       "No article of this day has a dateline city.")
    out += _cities_table(c["top_dateline_cities"])
    out += _chart_html("duplicate_clusters", "Duplicate clusters", charts,
                       "No article of this day is a copy of another.")
    out += _clusters_html(c["duplicate_clusters"])
    out += [f'<p class="empty">Report {REPORT_VERSION}; numbers also in report.json.</p>', '</body>', '</html>', '']
    return "\n".join(out)


def _counts_html(counts: dict) -> list[str]:
    heads = (("records_in", "Records in"), ("loaded", "Loaded"), ("duplicates", "Duplicates (same key)"),
             ("copies", "Copies (of other articles)"), ("rejected", "Rejected"), ("sentences", "Sentences"),
             ("mentions", "Entity mentions"))
    rows = ['<h2 id="h-counts">Records per source</h2>', "<table>",
            "<tr><th>Source</th>" + "".join(f'<th class="n">{_e(h)}</th>' for _, h in heads) + "</tr>"]
    for name, c in counts["sources"].items():
        rows.append(f"<tr><td>{_e(name)}</td>" +
                    "".join(_num(c[k], f"counts.sources.{name}.{k}") for k, _ in heads) + "</tr>")
    rows.append('<tr class="total"><td>Total</td>' +
                "".join(_num(counts["total"][k], f"counts.total.{k}") for k, _ in heads) + "</tr>")
    rows.append("</table>")
    if not counts["sources"]:
        rows.append('<p class="empty">The run processed no source.</p>')
    return rows


def _rejects_html(rej: dict) -> list[str]:
    out = ['<h2 id="h-rejects">Rejected records by reason</h2>']
    if not rej["reasons"]:
        return out + ['<p class="empty">No record was rejected.</p>']
    out += ["<table>", "<tr><th>Source</th>" + "".join(f'<th class="n">{_e(r)}</th>' for r in rej["reasons"]) + "</tr>"]
    for name, counts in rej["by_source"].items():
        out.append(f"<tr><td>{_e(name)}</td>" + "".join(
            _num(counts[r], f"rejects.by_source.{name}.{r}") if r in counts else '<td class="n">0</td>'
            for r in rej["reasons"]) + "</tr>")
    out.append('<tr class="total"><td>Total</td>' +
               "".join(_num(rej["total"][r], f"rejects.total.{r}") for r in rej["reasons"]) + "</tr>")
    return out + ["</table>"]


def _stages_html(st: dict) -> list[str]:
    out = ['<h2 id="h-stages">Time per stage</h2>']
    if not st["order"]:
        return out + ['<p class="empty">The run summary records no stage times.</p>']
    out += ["<table>", '<tr><th>Stage</th><th class="n">Seconds</th><th class="n">Share</th><th></th></tr>']
    for s in st["order"]:
        share = st["share"][s]
        width = f"{(share or 0) * 200:.1f}px"
        out.append(f"<tr><td>{_e(s)}</td>{_num(st['seconds'][s], f'stages.seconds.{s}', 'seconds')}"
                   f"{_num(share, f'stages.share.{s}', 'share')}"
                   f'<td><span class="bar" style="width:{width}"></span></td></tr>')
    out.append(f'<tr class="total"><td>Total</td>{_num(st["total_seconds"], "stages.total_seconds", "seconds")}'
               "<td></td><td></td></tr>")
    return out + ["</table>"]


def _chart_html(key: str, title: str, charts: dict, empty: str) -> list[str]:
    svg = charts.get(key)
    return [f'<h2 id="h-{key}">{_e(title)}</h2>', svg if svg else f'<p class="empty">{_e(empty)}</p>']


def _entities_table(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    out = ['<table class="entities">', '<tr><th class="n">#</th><th>Entity</th><th>Type</th>'
           '<th class="n">Articles</th><th class="n">Mentions</th></tr>']
    for i, r in enumerate(rows):
        colour = ENTITY_COLOURS.get(r["entity_type"], OTHER_COLOUR)
        out.append(f'<tr><td class="n">{i + 1}</td>{_ur(r["entity_name"])}'
                   f'<td><span class="swatch" style="background:{colour}"></span>{_e(r["entity_type"])}</td>'
                   f'{_num(r["articles"], f"charts.top_entities.{i}.articles")}'
                   f'{_num(r["mentions"], f"charts.top_entities.{i}.mentions")}</tr>')
    return out + ["</table>"]


def _cities_table(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    out = ['<table class="cities">', '<tr><th class="n">#</th><th>City</th><th class="n">Articles</th></tr>']
    for i, r in enumerate(rows):
        out.append(f'<tr><td class="n">{i + 1}</td>{_ur(r["city"])}'
                   f'{_num(r["articles"], f"charts.top_dateline_cities.{i}.articles")}</tr>')
    return out + ["</table>"]


def _clusters_html(c: dict) -> list[str]:
    out = [f'<p>{c["clusters"]:,} clusters, {c["copies"]:,} copies: articles whose body is the same as '
           'or nearly the same as (MinHash) a canonical article, the earliest published.</p>']
    if not c["largest"]:
        return out
    out += [f'<h3>{min(TOP_CLUSTERS, len(c["largest"]))} largest clusters</h3>', '<table class="clusters">',
            '<tr><th>Canonical headline</th><th>Canonical source</th><th class="n">Copies</th>'
            '<th class="n">Exact</th><th class="n">Near</th><th>Copies from</th></tr>']
    for i, r in enumerate(c["largest"]):
        headline = r["canonical_headline"] if r["in_this_day"] else None
        head_cell = (_ur(headline) if r["in_this_day"] else
                     f'<td class="empty">{_e(r["canonical_id"])} (not in this day\'s partitions)</td>')
        key = f"charts.duplicate_clusters.largest.{i}"
        out.append(f'<tr>{head_cell}<td>{_e(r["canonical_source"] or "—")}</td>'
                   f'{_num(r["copies"], key + ".copies")}{_num(r["exact"], key + ".exact")}'
                   f'{_num(r["near"], key + ".near")}<td>{_e(", ".join(r["copy_sources"]))}</td></tr>')
    return out + ["</table>"]
