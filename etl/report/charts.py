"""The run report's charts as inline SVG: matplotlib places the labels, the browser shapes the Urdu."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

ENTITY_COLOURS = {"person": "#1f77b4", "location": "#2ca02c", "organization": "#ff7f0e"}
OTHER_COLOUR = "#7f7f7f"
COPY_COLOUR = "#d62728"
SALT = "urdu-etl-report"
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_SPACES = re.compile(r"\s+")


def render_charts(data: dict) -> dict[str, str | None]:
    """Each chart as an inline SVG string, or None when there is nothing to draw."""
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no global figure state, any thread

    charts = data["charts"]
    # each takes the Figure class and its part of data["charts"], and gives a figure or None
    plans: dict[str, Callable[[Any, Any], Any]] = {
        "articles_per_source": _chart_articles,
        "word_count": _chart_words,
        "top_entities": _chart_entities,
        "top_dateline_cities": _chart_cities,
        "duplicate_clusters": _chart_clusters,
    }
    out = {}
    for key, plot in plans.items():
        rc = {
            "svg.fonttype": "none",
            "svg.hashsalt": f"{SALT}-{key}",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
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
        text = text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


def _svg(fig, key: str) -> str:
    buf = io.StringIO()
    fig.savefig(
        buf,
        format="svg",
        bbox_inches="tight",
        pad_inches=0.15,
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    # the page's inline SVGs share one id space: prefix each chart's ids and references to them
    svg = re.sub(r'\bid="', f'id="{key}-', svg)
    svg = re.sub(r"url\(#", f"url(#{key}-", svg)
    svg = re.sub(r'href="#', f'href="#{key}-', svg)
    svg = svg.replace("<svg ", f'<svg class="chart" role="img" aria-labelledby="h-{key}" ', 1)
    # Urdu labels: a font that has every letter, picked by CSS (see _CSS)
    return re.sub(
        r"<text ([^>]*)>([^<]*)</text>",
        lambda m: f'<text lang="ur" {m.group(1)}>{m.group(2)}</text>' if _ARABIC.search(m.group(2)) else m.group(0),
        svg,
    )


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
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.supxlabel("words in body", fontsize=8)
    return fig


def _chart_entities(Figure, rows: list[dict]):
    if not rows:
        return None
    colours = [ENTITY_COLOURS.get(r["entity_type"], OTHER_COLOUR) for r in rows]
    fig, ax = _hbar(
        Figure,
        [r["entity_name"] for r in rows],
        [r["articles"] for r in rows],
        colours,
        "articles mentioning the entity",
    )
    from matplotlib.patches import Patch

    types = sorted({r["entity_type"] for r in rows})
    ax.legend(
        handles=[Patch(color=ENTITY_COLOURS.get(t, OTHER_COLOUR), label=_label(t)) for t in types],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=8,
    )
    return fig


def _chart_cities(Figure, rows: list[dict]):
    if not rows:
        return None
    fig, _ = _hbar(
        Figure, [r["city"] for r in rows], [r["articles"] for r in rows], "#9467bd", "articles with this dateline city"
    )
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
