"""Figure builders: a tidy DataFrame from ``metrics`` in, a Plotly figure out.

Pure functions — no Streamlit, no database — so that a figure can be tested, exported to a
slide, or shown on any page the same way. All styling comes from :mod:`coalition.theme`; all
text from :func:`coalition.i18n.t`. Hover texts are written out per point (exact values,
thousands separators), so what a reader sees on hover is what a test can read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from coalition import theme
from coalition.i18n import format_count, format_date, format_percent, t
from metrics import Target
from metrics.filters import next_quarter, quarter_of, quarter_range  # noqa: F401 (re-exported)
from metrics.projection import MIN_COVERAGE

INDEX_TABLE_COLUMNS = [
    "period",
    "index",
    "reduction",
    "coverage_share",
    "platforms_in_panel",
    "units_in_panel",
    "in_trend",
    "fitted_index",
    "index_low",
    "index_high",
    "is_projection",
    "target_index",
]


YEARLY_TICKS_ABOVE = 16


def quarter_xaxis(quarters: list[str]) -> dict[str, Any]:
    """The x axis of quarters in order, every one of them even without data; over a long
    range only each year's first quarter is labelled (hover still names every quarter)."""
    ticks = quarters
    if len(quarters) > YEARLY_TICKS_ABOVE:
        ticks = [q for q in quarters if q.endswith("Q1")]
    return {
        "title": {"text": t("Quarter")},
        "type": "category",
        "categoryorder": "array",
        "categoryarray": quarters,
        "tickvals": ticks,
        "range": [-0.5, len(quarters) - 0.5],
    }


def vertical_line(x: float, line: dict[str, Any], *, yref: str = "y domain", **more: Any) -> dict:
    """A layout shape: a line at ``x`` across the whole plot height (what ``add_vline`` adds,
    without its cost), ``more`` its other properties (``name``, ``layer``, …)."""
    return {
        "type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": yref,
        "line": line, **more,
    }  # fmt: skip


def horizontal_line(y: float, line: dict[str, Any], *, yref: str = "y") -> dict:
    """A layout shape: a line at ``y`` across the whole plot width (as ``add_hline`` adds)."""
    return {
        "type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": yref, "y0": y, "y1": y,
        "line": line,
    }  # fmt: skip


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font={"size": 16, "color": theme.GREY},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return theme.apply(fig)


def panel_text(platforms: float | None, coverage: float | None) -> str:
    """What a matched-panel figure speaks for: 'Matched panel: 3 platforms, 73% of baseline
    volume'."""
    if pd.isna(platforms) or pd.isna(coverage):
        return t("No matched panel")
    n = int(platforms)
    return t(
        "Matched panel: {n} platform, {coverage} of baseline volume",
        plural="Matched panel: {n} platforms, {coverage} of baseline volume",
        n=n,
        coverage=format_percent(coverage, 0),
    )


# --- Detection-rate index, trend and target ---------------------------------------------------


def headline_text(as_of: dt.date, target: Target) -> str:
    """The line above the Overview's and the Species page's charts: the as-of date and the
    target."""
    return t(
        "**As of {date}** · target: {reduction} reduction of the detection rate by {deadline} "
        "({name})",
        date=format_date(as_of),
        reduction=format_percent(target.reduction, 0),
        deadline=format_date(target.deadline),
        name=target.name,
    )


def index_table(series: pd.DataFrame, path: pd.DataFrame, target: Target) -> pd.DataFrame:
    """The table behind :func:`detection_index_figure`, one row per quarter.

    ``series`` is one group's rows of ``metrics.reduction_series`` and ``path`` the same
    group's rows of ``metrics.projection``. Indices are per 100 of the baseline detection rate;
    ``in_trend`` says whether the quarter entered the fitted trend (positive index, matched
    panel covering at least half of the baseline volume).
    """
    observed = pd.DataFrame(
        {
            "period": series["period"].astype(str),
            "index": 100 * series["rate_index"].astype(float),
            "reduction": series["reduction"].astype(float),
            "coverage_share": series["coverage_share"].astype(float),
            "platforms_in_panel": series["platforms_in_panel"],
            "units_in_panel": series["units_in_panel"],
            "in_trend": (series["rate_index"] > 0) & (series["coverage_share"] >= MIN_COVERAGE),
        }
    )
    fitted = pd.DataFrame(
        {
            "period": path["period"].astype(str),
            "fitted_index": 100 * path["fitted_index"].astype(float),
            "index_low": 100 * path["index_low"].astype(float),
            "index_high": 100 * path["index_high"].astype(float),
            "is_projection": path["is_projection"].astype(bool),
        }
    )
    table = observed.merge(fitted, on="period", how="outer").sort_values("period")
    table["is_projection"] = table["is_projection"].eq(True)  # quarters outside the fit: False
    table["in_trend"] = table["in_trend"].eq(True)
    table["target_index"] = 100 * (1 - target.reduction)
    return table.reset_index(drop=True)[INDEX_TABLE_COLUMNS]


def _observed_hover(row: Any) -> str:
    lines = [
        f"<b>{row.period}</b>",
        t("Detection-rate index: {value} (baseline = 100)", value=f"{row.index:,.1f}"),
        t("Reduction vs baseline: {value}", value=format_percent(row.reduction)),
        panel_text(row.platforms_in_panel, row.coverage_share),
    ]
    if not row.in_trend:
        lines.append(t("Not used for the trend: coverage below {share}", share="50%"))
    return "<br>".join(lines)


def _fitted_hover(row: Any) -> str:
    kind = t("projection") if row.is_projection else t("fitted trend")
    return "<br>".join(
        [
            f"<b>{row.period}</b> · {kind}",
            t(
                "Index: {value} (95% band {low}–{high})",
                value=f"{row.fitted_index:,.1f}",
                low=f"{row.index_low:,.1f}",
                high=f"{row.index_high:,.1f}",
            ),
            t("Reduction vs baseline: {value}", value=format_percent(1 - row.fitted_index / 100)),
        ]
    )


def detection_index_figure(table: pd.DataFrame, target: Target) -> go.Figure:
    """The detection-rate index (baseline = 100) quarter by quarter, with the fitted log-linear
    trend and its projection to the deadline in a 95% band, the target line at
    100 × (1 − target), and the deadline marked. ``table`` comes from :func:`index_table`."""
    observed = table.dropna(subset=["index"])
    if observed.empty:
        return _empty(t("No detection figures for these filters"))
    fitted = table.dropna(subset=["fitted_index"])
    deadline_quarter = quarter_of(target.deadline)
    first = min(table["period"].min(), deadline_quarter)
    last = max(table["period"].max(), deadline_quarter)
    # a quarter beyond the deadline, so that the deadline line is not on the edge of the chart
    quarters = quarter_range(first, next_quarter(last) if last == deadline_quarter else last)

    # traces and layout as dicts, given to go.Figure once: trace objects are checked twice,
    # and add_hline and the update_* methods cost more than the data
    traces: list[dict[str, Any]] = []
    if not fitted.empty:
        periods = fitted["period"].to_numpy()
        traces += [
            {
                "type": "scatter",
                "x": periods,
                "y": fitted["index_high"].to_numpy(),
                "mode": "lines",
                "line": {"width": 0},
                "hoverinfo": "skip",
                "showlegend": False,
                "name": "band_high",
            },
            {
                "type": "scatter",
                "x": periods,
                "y": fitted["index_low"].to_numpy(),
                "mode": "lines",
                "line": {"width": 0},
                "fill": "tonexty",
                "fillcolor": theme.BAND,
                "hoverinfo": "skip",
                "name": t("95% band of the trend"),
            },
        ]
        in_data = fitted[~fitted["is_projection"]]
        # the projection starts at the last fitted quarter, so that the two lines join
        ahead = fitted[fitted["is_projection"] | (fitted["period"] == in_data["period"].max())]
        for part, name, dash in (
            (in_data, t("Fitted trend"), "solid"),
            (ahead, t("Projection"), "dash"),
        ):
            traces.append(
                {
                    "type": "scatter",
                    "x": part["period"].to_numpy(),
                    "y": part["fitted_index"].to_numpy(),
                    "mode": "lines",
                    "name": name,
                    "line": {"color": theme.TREND, "dash": dash, "width": 2},
                    "hovertext": [_fitted_hover(r) for r in part.itertuples(index=False)],
                    "hovertemplate": "%{hovertext}<extra></extra>",
                }
            )
    traces.append(
        {
            "type": "scatter",
            "x": observed["period"].to_numpy(),
            "y": observed["index"].to_numpy(),
            "mode": "lines+markers",
            "name": t("Detection-rate index"),
            "line": {"color": theme.OBSERVED},
            "marker": {
                "color": theme.OBSERVED,
                "symbol": ["circle" if ok else "circle-open" for ok in observed["in_trend"]],
                "line": {"width": 2, "color": theme.OBSERVED},
            },
            "hovertext": [_observed_hover(r) for r in observed.itertuples(index=False)],
            "hovertemplate": "%{hovertext}<extra></extra>",
        }
    )
    target_index = 100 * (1 - target.reduction)
    traces.append(
        {
            "type": "scatter",
            "x": quarters,
            "y": [target_index] * len(quarters),
            "mode": "lines",
            "name": t(
                "Target: {reduction} reduction (index {index})",
                reduction=format_percent(target.reduction, 0),
                index=f"{target_index:,.0f}",
            ),
            "line": {"color": theme.TARGET, "dash": "dot", "width": 2},
            "hovertemplate": t("Target index: {value}", value=f"{target_index:,.0f}")
            + "<extra></extra>",
        }
    )
    deadline_x = quarters.index(deadline_quarter) + 0.5  # the end of the deadline's quarter
    top = max(105.0, table[["index", "index_high"]].max().max() * 1.05)
    layout = {
        "shapes": [
            horizontal_line(100, {"color": theme.GREY, "width": 1}),  # the baseline
            vertical_line(  # the deadline
                deadline_x, {"color": theme.TARGET, "dash": "dash", "width": 1.5}, yref="paper"
            ),
        ],
        "annotations": [
            {
                "x": deadline_x,
                "y": 0,
                "xref": "x",
                "yref": "paper",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "xshift": 4,
                "text": t("Deadline {date}", date=format_date(target.deadline)),
                "font": {"size": 13},
            }
        ],
        "xaxis": quarter_xaxis(quarters),
        "yaxis": {
            "title": {"text": t("Detection-rate index (baseline = 100)")},
            "range": [0, top],
        },
    }
    return theme.apply(go.Figure(data=traces, layout=layout))


# --- Actions ---------------------------------------------------------------------------------


def actions_figure(frame: pd.DataFrame) -> go.Figure:
    """Listings removed and blocked per quarter (stacked bars) and the cumulative actions since
    the first record (line, right axis). ``frame`` is ``metrics.actions`` for one group."""
    if frame.empty:
        return _empty(t("No actions reported for these filters"))
    frame = frame.sort_values("period")
    periods = frame["period"].to_numpy()
    # the layout of make_subplots(specs=[[{"secondary_y": True}]]), written out: with the
    # traces as dicts, go.Figure checks everything once (several times faster)
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "x": periods,
            "y": frame[column].astype(float).to_numpy(),
            "name": name,
            "marker": {"color": colour},
            "hovertext": [
                f"<b>{p}</b><br>{name}: {format_count(v)}"
                for p, v in zip(periods, frame[column], strict=True)
            ],
            "hovertemplate": "%{hovertext}<extra></extra>",
            "xaxis": "x",
            "yaxis": "y",
        }
        for column, name, colour in (
            ("listings_removed", t("Listings removed"), theme.REMOVED),
            ("listings_blocked", t("Listings blocked"), theme.BLOCKED),
        )
    ]
    name = t("Cumulative actions (removed + blocked)")
    traces.append(
        {
            "type": "scatter",
            "x": periods,
            "y": frame["cumulative_actions"].astype(float).to_numpy(),
            "name": name,
            "mode": "lines+markers",
            "line": {"color": theme.CUMULATIVE},
            "marker": {"symbol": "diamond", "color": theme.CUMULATIVE},
            "hovertext": [
                f"<b>{p}</b><br>{name}: {format_count(v)}"
                for p, v in zip(periods, frame["cumulative_actions"], strict=True)
            ],
            "hovertemplate": "%{hovertext}<extra></extra>",
            "xaxis": "x",
            "yaxis": "y2",
        }
    )
    layout = {
        "xaxis": {
            "anchor": "y",
            "domain": [0.0, 0.94],
            **quarter_xaxis(quarter_range(frame["period"].min(), frame["period"].max())),
        },
        "yaxis": {
            "anchor": "x",
            "domain": [0.0, 1.0],
            "title": {"text": t("Listings per quarter")},
        },
        "yaxis2": {
            "anchor": "x",
            "overlaying": "y",
            "side": "right",
            "title": {"text": t("Cumulative actions (listings)")},
            "tickmode": "auto",  # plotly.js 4 syncs an overlaying axis' ticks: uneven numbers
            "rangemode": "tozero",
            "showgrid": False,
        },
        "barmode": "stack",
    }
    return theme.apply(go.Figure(data=traces, layout=layout))


# --- Reporting coverage ----------------------------------------------------------------------


def _coverage_hover(period: str, name: str, value: int, expected: float) -> str:
    text = f"<b>{period}</b><br>{name}: {format_count(value)}"
    if not pd.isna(expected):
        text += "<br>" + t("Partners expected to report: {n}", n=format_count(expected))
    return text


def coverage_figure(frame: pd.DataFrame) -> go.Figure:
    """Partners that reported on time, late, or not at all, stacked, so that a bar's height is
    the number of partners expected to report (members by the end of the quarter). ``frame``
    is ``metrics.reporting_coverage``."""
    if frame.empty:
        return _empty(t("No reporting for these filters"))
    frame = frame.sort_values("period")
    reporting = frame["partners_reporting"].fillna(0).astype(int)
    late = frame["partners_late"].fillna(0).astype(int)
    parts = [
        (reporting - late, t("Reported on time"), {"color": theme.ON_TIME}),
        (late, t("Reported late"), {"color": theme.LATE}),
    ]
    # expected counts exist only for the coalition, a partner, sector or platform
    if frame["partners_expected"].notna().any():
        missing = frame["partners_missing"].fillna(0).astype(int)
        parts.append(
            (
                missing,
                t("Missing"),
                {
                    "color": "white",
                    # no outline on an empty segment: it would draw a line on every bar
                    "line": {"color": theme.GREY, "width": [1.5 if m else 0 for m in missing]},
                    "pattern": {"shape": "/", "fgcolor": theme.GREY},
                },
            )
        )
    fig = go.Figure()
    for values, name, marker in parts:
        fig.add_trace(
            go.Bar(
                x=frame["period"],
                y=values,
                name=name,
                marker=marker,
                hovertext=[
                    _coverage_hover(p, name, v, e)
                    for p, v, e in zip(
                        frame["period"], values, frame["partners_expected"], strict=True
                    )
                ],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(**quarter_xaxis(quarter_range(frame["period"].min(), frame["period"].max())))
    top = sum(values for values, _, _ in parts).max()
    # whole partners: a tick per partner while there are few of them
    fig.update_yaxes(
        title={"text": t("Partners")}, rangemode="tozero", dtick=1 if top <= 12 else None
    )
    return theme.apply(fig)
