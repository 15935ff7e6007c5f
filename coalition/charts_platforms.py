"""Figure and table builders of the Platforms page: which platforms are on track, which not.

Pure functions, like :mod:`coalition.charts`: frames from ``metrics`` (by ``"platform"``) in,
a Plotly figure or a tidy table out; no Streamlit, no database. A platform's colour comes from
:func:`platform_colors` over every registered platform, so it is the same on every page and
under every filter; a status is shown by its colour and by its symbol and label
(:mod:`coalition.theme`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from functools import cache

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from coalition import theme
from coalition.charts import _empty, quarter_range, vertical_line
from coalition.i18n import format_count, format_date, format_percent, t
from metrics import STATUSES, Target
from metrics.filters import month_bounds, quarter_of
from metrics.projection import decimal_year, quarter_midpoint

# Small multiples beyond this many panels stop being read; the rest are named in a note.
MAX_PANELS = 12
PANEL_COLUMNS = 3
BAR_ROW_HEIGHT = 22  # pixels per platform in the bar charts, so that every name stays legible

TABLE_COLUMNS = [
    "platform",
    "partner",
    "sector",
    "status",
    "status_label",
    "current_period",
    "reduction",
    "progress",
    "pace_ratio",
    "coverage_share",
    "units_in_panel",
    "projected_reduction_at_deadline",
    "projected_target_date",
    "proactive_share",
    "cumulative_actions",
]
PERCENT_COLUMNS = [
    "reduction",
    "progress",
    "pace_ratio",
    "coverage_share",
    "projected_reduction_at_deadline",
    "proactive_share",
]
TREND_COLUMNS = [
    "platform",
    "period",
    "status",
    "index",
    "target_path",
    "coverage_share",
    "baseline_detected",
]


def platform_colors(names: Iterable[str]) -> dict[str, str]:
    """A colour per platform, by its place among ``names`` sorted: pass every registered
    platform (not only those on screen) so that a platform's colour never changes."""
    return theme.category_colors(sorted(set(names)))


def _status_rank(status: pd.Series) -> pd.Series:
    return status.map({s: i for i, s in enumerate(STATUSES)}).fillna(len(STATUSES))


# --- The table of figures ----------------------------------------------------------------------


def platform_table(
    progress: pd.DataFrame,
    proactive: pd.DataFrame,
    platforms: pd.DataFrame,
    *,
    partner_names: Mapping[str, str],
    sector_labels: Mapping[str, str],
) -> pd.DataFrame:
    """One row per platform of ``progress`` (``metrics.progress(by="platform")``), with its
    partner's name and sector (from ``platforms``: ``store.platforms``) and its proactive share
    over the chosen range (``metrics.proactive_share(by="platform", grain=None)``).

    Ratios stay fractions (0.45 = 45%). Rows come best status first, then by reduction.
    """
    if progress.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    owners = platforms.set_index("name")
    share = dict(zip(proactive["group"], proactive["proactive_share"], strict=True))
    table = pd.DataFrame(
        {
            "platform": progress["group"],
            "partner": progress["group"]
            .map(owners["partner"])
            .map(lambda slug: partner_names.get(slug, slug)),
            "sector": progress["group"]
            .map(owners["sector"])
            .map(lambda sector: sector_labels.get(sector, sector)),
            "status": progress["status"],
            "status_label": progress["status"].map(theme.status_label),
            "current_period": progress["current_period"],
            "reduction": progress["reduction"].astype(float),
            "progress": progress["progress"].astype(float),
            "pace_ratio": progress["pace_ratio"].astype(float),
            "coverage_share": progress["coverage_share"].astype(float),
            "units_in_panel": progress["units_in_panel"].astype(int),
            "projected_reduction_at_deadline": progress["projected_reduction_at_deadline"].astype(
                float
            ),
            "projected_target_date": progress["projected_target_date"],
            "proactive_share": progress["group"].map(share).astype(float),
            "cumulative_actions": progress["cumulative_actions"].astype("Int64"),
        }
    )
    order = table.assign(_rank=_status_rank(table["status"]))
    order = order.sort_values(["_rank", "reduction", "platform"], ascending=[True, False, True])
    return order.drop(columns="_rank").reset_index(drop=True)[TABLE_COLUMNS]


def status_counts(table: pd.DataFrame) -> list[tuple[str, int]]:
    """How many platforms have each status, in the order of ``metrics.STATUSES`` (the ones
    present only)."""
    counts = table["status"].value_counts()
    return [(status, int(counts[status])) for status in STATUSES if status in counts]


# --- Reduction and status, platform by platform ---------------------------------------------


def _reduction_hover(row, target: Target) -> str:
    lines = [
        f"<b>{row.platform}</b> · {row.partner}",
        theme.status_label(row.status),
        t("Reduction vs baseline in {period}: {value}", period=row.current_period,
          value=format_percent(row.reduction)),
        t("Progress to target ({target}): {value}", target=format_percent(target.reduction, 0),
          value=format_percent(row.progress)),
        t("Pace of decline: {value} of the pace needed", value=format_percent(row.pace_ratio, 0)),
        t("Projected reduction at {deadline}: {value}", deadline=format_date(target.deadline),
          value=format_percent(row.projected_reduction_at_deadline)),
        t("Coverage: {share} of baseline volume", share=format_percent(row.coverage_share, 0)),
    ]  # fmt: skip
    return "<br>".join(lines)


def reduction_figure(table: pd.DataFrame, target: Target) -> go.Figure:
    """A bar per platform: its reduction of the detection rate against its own baseline, in
    the colour of its status, best at the top, with the target as a vertical line. The status
    symbol stands before each platform's name and in the legend, so colour is never the only
    clue. ``table`` comes from :func:`platform_table`; platforms without a figure are left out.
    """
    rows = table.dropna(subset=["reduction"])
    if rows.empty:
        return _empty(t("No platform has a reduction figure for these filters"))
    rows = rows.sort_values(["reduction", "platform"], ascending=[False, True])
    names = list(rows["platform"])
    reductions = rows["reduction"].to_numpy(dtype=float)
    statuses = rows["status"].to_numpy()
    hovers = [_reduction_hover(r, target) for r in rows.itertuples(index=False)]
    # traces and layout as dicts, given to go.Figure once (trace objects, add_vline and the
    # update_* methods cost several times more)
    traces = []
    for status in STATUSES:
        at = (statuses == status).nonzero()[0]
        if not len(at):
            continue
        style = theme.status_style(status)
        traces.append(
            {
                "type": "bar",
                "x": reductions[at],
                "y": [names[i] for i in at],
                "orientation": "h",
                "name": theme.status_label(status),
                "marker": {"color": style.colour, "line": {"color": theme.TEXT, "width": 0.5}},
                "text": [format_percent(reductions[i]) for i in at],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertext": [hovers[i] for i in at],
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    symbols = dict(zip(names, [theme.status_style(s) for s in statuses], strict=True))
    low = min(0.0, rows["reduction"].min())
    high = max(1.0, rows["reduction"].max())
    span = high - low
    layout = {
        "shapes": [
            vertical_line(
                target.reduction,
                {"color": theme.TARGET, "dash": "dot", "width": 2},
                layer="below",
            )
        ],
        "annotations": [
            {
                "text": t(
                    "Target {reduction} (100% progress)",
                    reduction=format_percent(target.reduction, 0),
                ),
                "x": target.reduction,
                "xref": "x",
                "xanchor": "center",
                "y": 1,
                "yref": "y domain",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 13},
            }
        ],
        "yaxis": {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": names[::-1],  # the first category is drawn at the bottom
            "tickvals": names,
            "ticktext": [f"{symbols[n].symbol} {n}" for n in names],
            "title": {"text": ""},
        },
        "xaxis": {
            "title": {"text": t("Reduction of the detection rate vs baseline")},
            "tickformat": ".0%",
            "range": [low - 0.1 * span, high + 0.1 * span],  # room for the labels beside the bars
            "zeroline": True,
        },
        "barmode": "overlay",
        "height": 140 + BAR_ROW_HEIGHT * len(names),
        "bargap": 0.25,
    }
    return theme.apply(go.Figure(data=traces, layout=layout))


# --- Detection-rate index per platform: small multiples -------------------------------------


def target_path(baseline_midpoint: object, quarters: list[str], target: Target) -> list[float]:
    """The detection-rate index (baseline = 100) a platform would have in each quarter if it
    fell at exactly the pace needed to reach the target on time: a constant percentage a year,
    from 100 at the middle of its baseline to 100 × (1 − target) at the deadline.

    This is the path that the status measures against (see ``metrics.progress.pace_ratio``):
    an index on the path has a pace ratio of 1. From the quarter that holds the deadline on,
    the path is the target level itself (a figure as of the deadline is judged against it), and
    so it is all along for a platform whose baseline came after the deadline; before the
    baseline the path is undefined (NaN). Without a baseline date, the target level is all
    there is.
    """
    level = 100 * (1 - target.reduction)
    if baseline_midpoint is None or pd.isna(baseline_midpoint):
        return [level] * len(quarters)
    start = decimal_year(pd.Timestamp(baseline_midpoint))
    allowed = decimal_year(target.deadline) - start
    out = []
    for quarter in quarters:
        midpoint, last_day = _quarter_position(quarter)
        elapsed = midpoint - start
        if elapsed < 0:
            out.append(math.nan)
        elif allowed <= 0 or last_day >= target.deadline:
            out.append(level)
        else:
            out.append(100 * (1 - target.reduction) ** (elapsed / allowed))
    return out


@cache
def _quarter_position(quarter: str) -> tuple[float, dt.date]:
    """A quarter's midpoint as a decimal year (the time axis of the pace) and its last day."""
    return decimal_year(quarter_midpoint(quarter)), month_bounds(quarter)[1]


def largest_platforms(series: pd.DataFrame, limit: int = MAX_PANELS) -> list[str]:
    """The ``limit`` platforms of ``metrics.reduction_series(by="platform")`` with the largest
    baseline volume (detections at baseline), largest first."""
    if series.empty:
        return []
    volume = series.groupby("group")["baseline_detected"].max().fillna(0)
    volume = volume.reset_index().sort_values(
        ["baseline_detected", "group"], ascending=[False, True]
    )
    return list(volume["group"].head(limit))


def trend_table(
    series: pd.DataFrame,
    statuses: Mapping[str, str],
    target: Target,
    platforms: list[str],
) -> pd.DataFrame:
    """The table behind :func:`trend_figure`: for each of ``platforms`` (in that order), every
    quarter from the first with data to the deadline (or the last with data), with its index
    (baseline = 100; empty where the platform had no matched figure), the :func:`target_path`,
    its coverage and baseline volume, and the platform's current status."""
    rows = series[series["group"].isin(platforms)]
    if rows.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    first = rows["period"].min()
    last = max(rows["period"].max(), quarter_of(target.deadline))
    quarters = quarter_range(first, last)
    per_platform = rows.groupby("group")
    volume = per_platform["baseline_detected"].max()
    midpoint = per_platform["baseline_midpoint"].first()  # the first non-empty: one per platform
    grid = pd.DataFrame(
        {
            "platform": [p for p in platforms for _ in quarters],
            "period": quarters * len(platforms),
        }
    )
    table = grid.merge(
        rows[["group", "period", "rate_index", "coverage_share"]].rename(
            columns={"group": "platform"}
        ),
        on=["platform", "period"],
        how="left",
    )
    table["status"] = table["platform"].map(lambda p: statuses.get(p, "insufficient_data"))
    table["index"] = 100 * table["rate_index"].astype(float)
    table["target_path"] = [
        value for p in platforms for value in target_path(midpoint.get(p), quarters, target)
    ]
    table["coverage_share"] = table["coverage_share"].astype(float)
    table["baseline_detected"] = table["platform"].map(volume)
    return table[TREND_COLUMNS]


def _trend_hover(row) -> str:
    return "<br>".join(
        [
            f"<b>{row.platform}</b> · {row.period}",
            theme.status_label(row.status),
            t("Detection-rate index: {value} (baseline = 100)", value=f"{row.index:,.1f}"),
            t("Reduction vs baseline: {value}", value=format_percent(1 - row.index / 100)),
            t("Target path: {value}", value=f"{row.target_path:,.1f}")
            if pd.notna(row.target_path)
            else t("Target path: —"),
            t("Baseline volume: {n} listings detected", n=format_count(row.baseline_detected)),
        ]
    )


def _path_hover(row, target: Target) -> str:
    if _quarter_position(row.period)[1] >= target.deadline:
        what = t("Target level: index {value}", value=f"{row.target_path:,.1f}")
    else:
        what = t("On the pace needed: index {value}", value=f"{row.target_path:,.1f}")
    return f"<b>{row.platform}</b> · {row.period}<br>{what}"


def _tick_labels(quarters: list[str]) -> tuple[list[str], list[str]]:
    """Every quarter while there are few; else each year at its first quarter."""
    if len(quarters) <= 6:
        return quarters, quarters
    firsts = [q for q in quarters if q.endswith("Q1")]
    return firsts, [q[:4] for q in firsts]


def _grid(n: int, columns: int, gap_x: float = 0.045, gap_y: float = 0.1) -> list[tuple]:
    """The x and y domains of ``n`` panels, row by row from the top."""
    rows = math.ceil(n / columns)
    gap_y = min(gap_y, 0.4 / rows)
    width = (1 - gap_x * (columns - 1)) / columns
    height = (1 - gap_y * (rows - 1)) / rows
    out = []
    for i in range(n):
        row, col = divmod(i, columns)
        x0 = col * (width + gap_x)
        y1 = 1 - row * (height + gap_y)
        # rounded: float error must not take the last panel below 0
        out.append(
            (
                (round(x0, 6), round(min(1, x0 + width), 6)),
                (round(max(0, y1 - height), 6), round(y1, 6)),
            )
        )
    return out


def trend_figure(table: pd.DataFrame, target: Target, colors: Mapping[str, str]) -> go.Figure:
    """Small multiples, one panel per platform (in the order of ``table``): its detection-rate
    index quarter by quarter in the platform's colour, against the dashed target path (the
    pace needed, then the target level from the deadline on) and the baseline (100). The
    panel title starts with the status symbol. Axes are shared, so panels compare."""
    if table.empty or table["index"].isna().all():
        return _empty(t("No detection figures for these filters"))
    platforms = list(dict.fromkeys(table["platform"]))
    quarters = list(dict.fromkeys(table["period"]))
    columns = min(PANEL_COLUMNS, len(platforms))
    n_rows = math.ceil(len(platforms) / columns)
    status = dict(zip(table["platform"], table["status"], strict=False))
    tickvals, ticktext = _tick_labels(quarters)
    top = max(110.0, float(table["index"].max()) * 1.05)
    path_name = t("Target path: the pace needed to reach the target, then the target level")
    # hover texts in one pass over the table, and one split by platform (not one per panel)
    rows = list(table.itertuples(index=False))
    table = table.assign(
        hover=[_trend_hover(r) if pd.notna(r.index) else "" for r in rows],
        path_hover=[_path_hover(r, target) if pd.notna(r.target_path) else "" for r in rows],
    )
    panels = dict(tuple(table.groupby("platform", sort=False)))

    # A hand-built grid: plotly's make_subplots and add_hline take a second for twelve panels.
    traces, layout, shapes, titles = [], {}, [], []
    for i, (platform, (x_domain, y_domain)) in enumerate(
        zip(platforms, _grid(len(platforms), columns), strict=True)
    ):
        k = "" if i == 0 else str(i + 1)
        row, col = divmod(i, columns)
        bottom = i + columns >= len(platforms)  # no panel below this one
        layout[f"xaxis{k}"] = {
            "domain": x_domain,
            "anchor": f"y{k}",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": quarters,
            "tickvals": tickvals,
            "ticktext": ticktext,
            "range": [-0.5, len(quarters) - 0.5],
            "showticklabels": bottom,
            "title": {"text": t("Quarter") if bottom else ""},
            **({"matches": "x"} if k else {}),
        }
        layout[f"yaxis{k}"] = {
            "domain": y_domain,
            "anchor": f"x{k}",
            "range": [0, top],
            "tickformat": ",~f",
            "showticklabels": col == 0,
            "title": {"text": t("Index (baseline = 100)") if col == 0 else ""},
            **({"matches": "y"} if k else {}),
        }
        shapes.append(
            {
                "type": "line",
                "xref": f"x{k} domain",
                "x0": 0,
                "x1": 1,
                "yref": f"y{k}",
                "y0": 100,
                "y1": 100,
                "line": {"color": theme.GREY, "width": 1},
                "layer": "below",
            }
        )
        titles.append(
            {
                "text": f"<b>{theme.status_style(status[platform]).symbol} {platform}</b>",
                "xref": f"x{k} domain",
                "yref": f"y{k} domain",
                "x": 0,
                "y": 1,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 14},
            }
        )
        own = panels[platform]
        path = own[own["target_path"].notna()]
        colour = colors.get(platform, theme.OBSERVED)
        # plain dicts, validated once by go.Figure below: a go.Scatter each is three times slower
        traces.append(
            dict(
                type="scatter",
                x=list(path["period"]),
                y=list(path["target_path"]),
                xaxis=f"x{k}",
                yaxis=f"y{k}",
                mode="lines",
                name=path_name,
                legendgroup="target",
                showlegend=i == 0,
                line={"color": theme.TARGET, "dash": "dash", "width": 1.5},
                hovertext=list(path["path_hover"]),
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
        traces.append(
            dict(
                type="scatter",
                x=list(own["period"]),
                y=list(own["index"]),
                xaxis=f"x{k}",
                yaxis=f"y{k}",
                mode="lines+markers",
                name=platform,
                showlegend=False,
                connectgaps=False,
                line={"color": colour, "width": 2},
                marker={"size": 5, "color": colour},
                hovertext=list(own["hover"]),
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    # one construction: every update_layout of plotly validates the whole layout again
    return go.Figure(
        data=traces,
        layout={
            **layout,
            "shapes": shapes,
            "annotations": titles,
            "height": 90 + 240 * n_rows,
            "margin": {"t": 60},
            "template": pio.templates[theme.TEMPLATE_NAME],  # as theme.apply
        },
    )


# --- Proactive share ----------------------------------------------------------------------


def proactive_figure(frame: pd.DataFrame, overall: float | None = None) -> go.Figure:
    """A bar per platform: listings blocked before going live as a share of all listings
    blocked or removed over the chosen range (``metrics.proactive_share(by="platform",
    grain=None)``), highest at the top, in the colour of blocked listings on every chart (the
    bars are named on the axis: a colour per platform would add only noise); ``overall`` (the
    same share over all platforms in the filter) as a reference line."""
    rows = frame.dropna(subset=["proactive_share"])
    if rows.empty:
        return _empty(t("No platform reported both listings blocked and removed"))
    rows = rows.sort_values(["proactive_share", "group"], ascending=[False, True])
    names = list(rows["group"])
    bars = dict(  # a plain dict, validated once by go.Figure below
        type="bar",
        x=rows["proactive_share"],
        y=rows["group"],
        orientation="h",
        name=t("Proactive share"),
        showlegend=False,
        marker={"color": theme.BLOCKED},
        text=[format_percent(v, 0) for v in rows["proactive_share"]],
        textposition="outside",
        cliponaxis=False,
        hovertext=[
            "<br>".join(
                [
                    f"<b>{r.group}</b>",
                    t("Proactive share: {value}", value=format_percent(r.proactive_share)),
                    t("Listings blocked: {n}", n=format_count(r.listings_blocked)),
                    t("Listings removed: {n}", n=format_count(r.listings_removed)),
                    t("Records with both counts: {n}", n=format_count(r.rows_used)),
                ]
            )
            for r in rows.itertuples(index=False)
        ],
        hovertemplate="%{hovertext}<extra></extra>",
    )
    layout: dict = {
        "yaxis": {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": names[::-1],
            "title": {"text": ""},
        },
        "xaxis": {
            "title": {"text": t("Proactive share: listings blocked ÷ (blocked + removed)")},
            "tickformat": ".0%",
            "range": [0, 1.1],
        },
        "height": 140 + BAR_ROW_HEIGHT * len(names),
        "bargap": 0.25,
        "template": pio.templates[theme.TEMPLATE_NAME],  # as theme.apply
    }
    if overall is not None and pd.notna(overall):
        line = {"color": theme.TARGET, "dash": "dot", "width": 2}
        layout["shapes"] = [vertical_line(overall, line, layer="below")]
        layout["annotations"] = [
            {
                "text": t("All platforms: {value}", value=format_percent(overall, 0)),
                "x": overall,
                "xref": "x",
                "y": 1,
                "yref": "y domain",
                "showarrow": False,
                "xanchor": "center",
                "yanchor": "bottom",
                "font": {"size": 13},
            }
        ]
    # one construction: add_vline and each update_* go through plotly's relayout
    return go.Figure(data=[bars], layout=layout)


# --- What the page writes around its charts ---------------------------------------------------


def headline_text(n: int, as_of: dt.date, target: Target) -> str:
    """The line above the page's charts: the as-of date, how many platforms, the target."""
    return t(
        "**As of {date}** · {n} platform · target: {reduction} reduction of the detection rate "
        "by {deadline}, each platform against its own baseline",
        plural="**As of {date}** · {n} platforms · target: {reduction} reduction of the "
        "detection rate by {deadline}, each platform against its own baseline",
        n=n,
        date=format_date(as_of),
        reduction=format_percent(target.reduction, 0),
        deadline=format_date(target.deadline),
    )


def reduction_caption(period: str | None) -> str:
    """What the reduction chart shows, for the quarter ``period``."""
    return t(
        "Reduction of the detection rate in {period} against each platform's own baseline. The "
        "status compares the pace of decline since the baseline with the pace needed to reach "
        "the target by the deadline; after the deadline, whether the target was reached.",
        period=period or "—",
    )


def without_figure_text(names: list[str], period: str | None) -> str:
    """The platforms left out of the reduction chart, named."""
    return t(
        "○ No figure (no baseline yet, or no detection figures in {period}) for {n} "
        "platform: {names}",
        plural="○ No figure (no baseline yet, or no detection figures in {period}) for {n} "
        "platforms: {names}",
        n=len(names),
        period=period or "—",
        names=", ".join(names),
    )


def trends_caption(shown: int, hidden: int) -> str:
    """What the panels of index trends show, and how many platforms they leave out."""
    text = t(
        "Index of each platform's detection rate, baseline = 100, in the platform's colour. "
        "Dashed: the path at the pace needed to reach the target by the deadline, then the "
        "target level. A symbol before the name gives the status."
    )
    if not hidden:
        return text
    return (
        text
        + " "
        + t(
            "Showing the {shown} platforms with the largest baseline volume; {n} more with a "
            "baseline are not shown — choose them in the Platform filter.",
            plural="Showing the {shown} platforms with the largest baseline volume; {n} more "
            "with a baseline are not shown — choose them in the Platform filter.",
            n=hidden,
            shown=shown,
        )
    )
