"""The run report as one self-contained HTML page: numbers, tables and the charts, every string escaped."""

from __future__ import annotations

import html

from etl.report.charts import ENTITY_COLOURS, OTHER_COLOUR
from etl.report.numbers import REPORT_VERSION, TOP_CLUSTERS, TOP_N

# Local fonts that hold every Urdu letter, Naskh first (compact in charts and tables).
URDU_FONTS = (
    '"Noto Naskh Arabic", "Noto Sans Arabic", "Segoe UI", "Geeza Pro", "Noto Nastaliq Urdu", '
    '"Jameel Noori Nastaleeq", "Urdu Typesetting", "DejaVu Sans", sans-serif'
)


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
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="etl.report {REPORT_VERSION}">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>Urdu news run report</h1>",
        '<dl class="meta">',
        f"<dt>Run</dt><dd>{_e(run['run_id'])}</dd>",
        f"<dt>Day</dt><dd>{_e(run['day'])}</dd>",
        f'<dt>Status</dt><dd><span class="status {status_class}">{_e(status)}</span></dd>',
        f"<dt>Warehouse</dt><dd>{_e(run['warehouse'])}</dd>",
        "</dl>",
    ]
    if run["problems"]:
        out.append(
            '<h2 id="h-problems">Problems</h2><ul>'
            + "".join(f'<li class="note">{_e(p)}</li>' for p in run["problems"])
            + "</ul>"
        )
    if data["notes"]:
        out.append("<ul>" + "".join(f'<li class="note">{_e(p)}</li>' for p in data["notes"]) + "</ul>")
    out += _counts_html(data["counts"]) + _rejects_html(data["rejects"]) + _stages_html(data["stages"])
    c = data["charts"]
    out += _chart_html("articles_per_source", "Articles per source", charts, "No articles loaded for this day.")
    out += _chart_html("word_count", "Body length (words)", charts, "No articles loaded for this day.")
    out += _chart_html("top_entities", f"Top {TOP_N} entities", charts, "No entity mentions for this day.")
    out += _entities_table(c["top_entities"])
    out += _chart_html(
        "top_dateline_cities", f"Top {TOP_N} dateline cities", charts, "No article of this day has a dateline city."
    )
    out += _cities_table(c["top_dateline_cities"])
    out += _chart_html(
        "duplicate_clusters", "Duplicate clusters", charts, "No article of this day is a copy of another."
    )
    out += _clusters_html(c["duplicate_clusters"])
    out += [f'<p class="empty">Report {REPORT_VERSION}; numbers also in report.json.</p>', "</body>", "</html>", ""]
    return "\n".join(out)


def _counts_html(counts: dict) -> list[str]:
    heads = (
        ("records_in", "Records in"),
        ("loaded", "Loaded"),
        ("duplicates", "Duplicates (same key)"),
        ("copies", "Copies (of other articles)"),
        ("rejected", "Rejected"),
        ("sentences", "Sentences"),
        ("mentions", "Entity mentions"),
    )
    rows = [
        '<h2 id="h-counts">Records per source</h2>',
        "<table>",
        "<tr><th>Source</th>" + "".join(f'<th class="n">{_e(h)}</th>' for _, h in heads) + "</tr>",
    ]
    for name, c in counts["sources"].items():
        rows.append(
            f"<tr><td>{_e(name)}</td>" + "".join(_num(c[k], f"counts.sources.{name}.{k}") for k, _ in heads) + "</tr>"
        )
    rows.append(
        '<tr class="total"><td>Total</td>'
        + "".join(_num(counts["total"][k], f"counts.total.{k}") for k, _ in heads)
        + "</tr>"
    )
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
        out.append(
            f"<tr><td>{_e(name)}</td>"
            + "".join(
                _num(counts[r], f"rejects.by_source.{name}.{r}") if r in counts else '<td class="n">0</td>'
                for r in rej["reasons"]
            )
            + "</tr>"
        )
    out.append(
        '<tr class="total"><td>Total</td>'
        + "".join(_num(rej["total"][r], f"rejects.total.{r}") for r in rej["reasons"])
        + "</tr>"
    )
    return out + ["</table>"]


def _stages_html(st: dict) -> list[str]:
    out = ['<h2 id="h-stages">Time per stage</h2>']
    if not st["order"]:
        return out + ['<p class="empty">The run summary records no stage times.</p>']
    out += ["<table>", '<tr><th>Stage</th><th class="n">Seconds</th><th class="n">Share</th><th></th></tr>']
    for s in st["order"]:
        share = st["share"][s]
        width = f"{(share or 0) * 200:.1f}px"
        out.append(
            f"<tr><td>{_e(s)}</td>{_num(st['seconds'][s], f'stages.seconds.{s}', 'seconds')}"
            f"{_num(share, f'stages.share.{s}', 'share')}"
            f'<td><span class="bar" style="width:{width}"></span></td></tr>'
        )
    out.append(
        f'<tr class="total"><td>Total</td>{_num(st["total_seconds"], "stages.total_seconds", "seconds")}'
        "<td></td><td></td></tr>"
    )
    return out + ["</table>"]


def _chart_html(key: str, title: str, charts: dict, empty: str) -> list[str]:
    svg = charts.get(key)
    return [f'<h2 id="h-{key}">{_e(title)}</h2>', svg if svg else f'<p class="empty">{_e(empty)}</p>']


def _entities_table(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    out = [
        '<table class="entities">',
        '<tr><th class="n">#</th><th>Entity</th><th>Type</th>'
        '<th class="n">Articles</th><th class="n">Mentions</th></tr>',
    ]
    for i, r in enumerate(rows):
        colour = ENTITY_COLOURS.get(r["entity_type"], OTHER_COLOUR)
        out.append(
            f'<tr><td class="n">{i + 1}</td>{_ur(r["entity_name"])}'
            f'<td><span class="swatch" style="background:{colour}"></span>{_e(r["entity_type"])}</td>'
            f"{_num(r['articles'], f'charts.top_entities.{i}.articles')}"
            f"{_num(r['mentions'], f'charts.top_entities.{i}.mentions')}</tr>"
        )
    return out + ["</table>"]


def _cities_table(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    out = ['<table class="cities">', '<tr><th class="n">#</th><th>City</th><th class="n">Articles</th></tr>']
    for i, r in enumerate(rows):
        out.append(
            f'<tr><td class="n">{i + 1}</td>{_ur(r["city"])}'
            f"{_num(r['articles'], f'charts.top_dateline_cities.{i}.articles')}</tr>"
        )
    return out + ["</table>"]


def _clusters_html(c: dict) -> list[str]:
    out = [
        f"<p>{c['clusters']:,} clusters, {c['copies']:,} copies: articles whose body is the same as "
        "or nearly the same as (MinHash) a canonical article, the earliest published, or rewritten from the same "
        "text (word 3-grams, numbers and names).</p>"
    ]
    if not c["largest"]:
        return out
    out += [
        f"<h3>{min(TOP_CLUSTERS, len(c['largest']))} largest clusters</h3>",
        '<table class="clusters">',
        '<tr><th>Canonical headline</th><th>Canonical source</th><th class="n">Copies</th>'
        '<th class="n">Exact</th><th class="n">Near</th><th class="n">Rewrite</th>'
        "<th>Copies from</th></tr>",
    ]
    for i, r in enumerate(c["largest"]):
        headline = r["canonical_headline"] if r["in_this_day"] else None
        head_cell = (
            _ur(headline)
            if r["in_this_day"]
            else f'<td class="empty">{_e(r["canonical_id"])} (not in this day\'s partitions)</td>'
        )
        key = f"charts.duplicate_clusters.largest.{i}"
        out.append(
            f"<tr>{head_cell}<td>{_e(r['canonical_source'] or '—')}</td>"
            f"{_num(r['copies'], key + '.copies')}{_num(r['exact'], key + '.exact')}"
            f"{_num(r['near'], key + '.near')}{_num(r['rewrite'], key + '.rewrite')}<td>{_e(', '.join(r['copy_sources']))}</td></tr>"
        )
    return out + ["</table>"]
