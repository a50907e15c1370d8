"""Plotly figure dicts for the knowledge base's statistics page.

Pure functions from counts (computed by the view with the ORM) to plain dicts, in the style of
:mod:`webui.charts`: ``static/js/charts.js`` draws them. Tag names, titles and anything else a
user typed go through :func:`webui.charts.escape`, because plotly renders HTML in labels.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from webui.charts import CONTAINER_PALETTE, axis, base_layout, escape

Figure = dict[str, Any]

TOP_FINDINGS = 15
NO_PATTERN = "no pattern"
NO_TAG = "(no tag)"
STATUS_COLOURS = {
    # Okabe-Ito, fixed per status so the legend reads the same on every page.
    "draft": "#999999",
    "in-review": "#E69F00",
    "approved": "#009E73",
    "rejected": "#D55E00",
}


def month_key(value: date | datetime | str) -> str:
    """'2025-03' for a date, a datetime (TruncMonth's result) or an ISO string."""
    if isinstance(value, str):
        return value[:7]
    return f"{value.year:04d}-{value.month:02d}"


def _months_between(first: str, last: str) -> list[str]:
    """Every 'YYYY-MM' from ``first`` to ``last`` inclusive, so empty months stay on the axis."""
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def patterns_over_time(
    rows: Iterable[tuple[date | datetime | str, str, int]],
    *,
    titles: Mapping[str, str] | None = None,
) -> Figure:
    """Reviews created per month, stacked by the pattern they chose.

    ``rows`` are ``(month, pattern id, count)``; ``titles`` maps pattern ids to display names.
    """
    titles = titles or {}
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, pattern, n in rows:
        counts[pattern or ""][month_key(month)] += int(n)
    months = sorted({m for per in counts.values() for m in per})
    months = _months_between(months[0], months[-1]) if months else []
    order = sorted(counts, key=lambda p: (-sum(counts[p].values()), p == "", p))
    data = []
    for i, pattern in enumerate(order):
        name = escape(titles.get(pattern, pattern) if pattern else NO_PATTERN)
        y = [counts[pattern].get(m, 0) for m in months]
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": months,
                "y": y,
                "customdata": [[name] for _ in months],
                "marker": {"color": CONTAINER_PALETTE[i % len(CONTAINER_PALETTE)]},
                "hovertemplate": "%{x}: %{y} review(s)<br>%{customdata[0]}<extra></extra>",
            }
        )
    layout = base_layout("Patterns chosen over time (reviews created per month)", 380)
    layout |= {
        "barmode": "stack",
        "showlegend": True,  # also for a single pattern: the legend names it
        "xaxis": axis(title="month created", type="category"),
        "yaxis": counts_axis(data, "y", title="reviews"),
    }
    if not data:
        return empty(layout, "No reviews yet")
    return {"data": data, "layout": layout}


def top_findings(
    counts: Iterable[tuple[str, int]],
    *,
    titles: Mapping[str, str] | None = None,
    limit: int = TOP_FINDINGS,
) -> Figure:
    """The rule ids raised by the most reviews, most frequent first (``(rule id, count)``)."""
    titles = titles or {}
    ranked = sorted(((str(r), int(n)) for r, n in counts), key=lambda item: (-item[1], item[0]))
    ranked = ranked[:limit]
    rules = [escape(r) for r, _ in ranked]
    data = []
    if ranked:
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": "reviews raising the rule",
                "y": rules,
                "x": [n for _, n in ranked],
                "customdata": [
                    [rule, escape(titles.get(r, ""))]
                    for rule, (r, _) in zip(rules, ranked, strict=True)
                ],
                "marker": {"color": CONTAINER_PALETTE[0]},
                "text": [n for _, n in ranked],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": (
                    "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
                    "raised in %{x} review(s)<extra></extra>"
                ),
            }
        )
    layout = base_layout(
        f"Most frequent findings (top {limit} rules)", 160 + 26 * max(len(rules), 3)
    )
    layout |= {
        "showlegend": False,
        "xaxis": counts_axis(data, "x", title="reviews raising it"),
        "yaxis": axis(
            type="category", categoryorder="array", categoryarray=rules, autorange="reversed"
        ),
    }
    if not data:
        return empty(layout, "No review has raised a finding yet")
    return {"data": data, "layout": layout}


def by_tag(
    rows: Iterable[tuple[str | None, str, int]],
    *,
    labels: Mapping[str, str] | None = None,
    colours: Mapping[str, str] | None = None,
    group_title: str = "status",
) -> Figure:
    """Reviews per team tag, stacked by a second attribute (status or pattern).

    ``rows`` are ``(tag name or None, group value, count)``; ``labels`` names the group values
    (status labels, pattern titles) and fixes their order; ``colours`` optionally fixes colours.
    """
    labels = labels or {}
    colours = colours or {}
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for tag, group, n in rows:
        counts[group or ""][tag or NO_TAG] += int(n)
    totals: dict[str, int] = defaultdict(int)
    for per in counts.values():
        for tag, n in per.items():
            totals[tag] += n
    tags = sorted(totals, key=lambda t: (t == NO_TAG, -totals[t], t))
    x = [escape(t) for t in tags]
    known = [g for g in labels if g in counts]
    groups = known + sorted(g for g in counts if g not in labels)
    data = []
    for i, group in enumerate(groups):
        name = escape(labels.get(group, group) or f"no {group_title}")
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": x,
                "y": [counts[group].get(t, 0) for t in tags],
                "customdata": [[name] for _ in tags],
                "marker": {
                    "color": colours.get(group, CONTAINER_PALETTE[i % len(CONTAINER_PALETTE)])
                },
                "hovertemplate": "%{x}: %{y} review(s)<br>%{customdata[0]}<extra></extra>",
            }
        )
    layout = base_layout(f"Reviews per team tag, by {escape(group_title)}", 380)
    layout |= {
        "barmode": "stack",
        "showlegend": True,
        "xaxis": axis(title="tag", type="category", categoryorder="array", categoryarray=x),
        "yaxis": counts_axis(data, "y", title="reviews"),
    }
    if not data:
        return empty(layout, "No reviews yet")
    return {"data": data, "layout": layout}


# ---------------------------------------------------------------------------------------------
# layout: shared with webui.charts


def counts_axis(data: list[dict[str, Any]], key: str, *, title: str) -> dict[str, Any]:
    """An axis of whole counts: integer ticks only (one per unit while the largest stack is
    small), with room above the largest bar for its label."""
    stacks: dict[Any, float] = defaultdict(float)
    for trace in data:
        other = "y" if key == "x" else "x"
        for at, n in zip(trace.get(other, []), trace.get(key, []), strict=False):
            stacks[at] += n or 0
    top = max(stacks.values(), default=0)
    options: dict[str, Any] = {"rangemode": "tozero", "tickformat": "d", "tick0": 0}
    if top <= 10:
        options["dtick"] = 1
    options["range"] = [0, max(top, 1) * 1.15]
    return axis(title=title, **options)


def empty(layout: dict[str, Any], text: str) -> Figure:
    """A chart with nothing to draw: one line of text, not a full-size empty plot."""
    layout = dict(layout)
    layout |= {
        "height": 90,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "showlegend": False,
        "annotations": [_note(text)],
    }
    return {"data": [], "layout": layout}


def _note(text: str) -> dict[str, Any]:
    return {
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
        "text": text,
        "showarrow": False,
        "font": {"size": 13},
    }


def table_rows(figure: Figure) -> tuple[list[str], list[tuple[str, list[Any]]]]:
    """The figure's data as (column headings, rows) for a table beside the chart.

    Labels are HTML-escaped for plotly in the figure; here they are plain text again, for a
    template that escapes them itself.
    """
    traces: Sequence[dict[str, Any]] = figure.get("data", [])
    if not traces:
        return [], []
    horizontal = traces[0].get("orientation") == "h"
    keys = traces[0]["y" if horizontal else "x"]
    values = [t["x" if horizontal else "y"] for t in traces]
    headings = [html.unescape(t["name"]) for t in traces]
    return headings, [(html.unescape(k), [v[i] for v in values]) for i, k in enumerate(keys)]
