"""Tables and figures of the Species page: which species groups are still traded, and where.

Pure functions, like :mod:`coalition.charts`: frames from ``metrics`` in, a table (the one a
reader downloads as CSV) or a Plotly figure out; no Streamlit, no database. Species groups are
keyed by their slug; their names and CITES appendix come from the ``species_groups`` reference
table (``store.species_groups``), and their colours from :func:`coalition.theme.category_colors`
over every slug in sort order, so a group keeps its colour under every filter and on every page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from coalition import theme
from coalition.charts import _empty, quarter_range, quarter_xaxis, vertical_line
from coalition.i18n import format_count, format_percent, t
from coalition.reference import GLOBAL
from metrics import STATUSES, Target

REFERENCE_COLUMNS = ["group", "name", "cites_appendix", "label", "colour"]
REDUCTION_COLUMNS = [
    "group",
    "label",
    "current_period",
    "reduction",
    "progress",
    "status",
    "status_label",
    "coverage_share",
    "units_in_panel",
    "units_with_baseline",
    "platforms_in_panel",
    "cumulative_actions",
]
SPECIES_REDUCTION_COLUMNS = [
    "group",
    "name",
    "cites_appendix",
    *REDUCTION_COLUMNS[1:],
    "actions_in_range",
]
ACTIONS_COLUMNS = [
    "group",
    "label",
    "period",
    "listings_removed",
    "listings_blocked",
    "actions",
    "partners_reporting",
    "platforms_reporting",
]
DETECTION_COLUMNS = [
    "group",
    "label",
    "period",
    "listings_detected",
    "search_effort",
    "detected_per_1000_searches",
    "detected_without_effort",
]
RANKED_COLUMNS = [
    "name",
    "listings_removed",
    "listings_blocked",
    "actions",
    "share_of_actions",
    "partners_reporting",
    "platforms_reporting",
    "is_rest",
]
# the rest of a ranking, summed into one bar
REST = theme.GREY
# dark outline, so that a light status colour (yellow) still stands out on white
OUTLINE = "#4D4D4D"
# a sequential scale made for colour-vision deficiencies; reversed where used, so that the
# cells where more is still found are the darker ones
DETECTION_SCALE = "Cividis"


def _height(rows: int) -> int:
    """Pixels for a chart with one row per category: roomy for a few, compact for many."""
    return 140 + (30 if rows <= 30 else 22) * rows


# the platforms and countries named in the drill-down of one group; the rest are summed
DETAIL_TOP = 15


def table_height(table: pd.DataFrame) -> int:
    """Every row of a table in view, without a scroll bar (Streamlit rows are 35 px high)."""
    return 35 * (len(table) + 1) + 3


def reduction_caption(period: str | None) -> str:
    """What the reduction chart shows, for the quarter ``period``."""
    return t(
        "1 − detection rate in {period} ÷ detection rate at baseline, per species group, over "
        "its matched panel (the platforms with data for the group in both). The symbol and the "
        "legend give the status; hover for the coverage of the baseline volume.",
        period=period or "—",
    )


def detection_caption() -> str:
    """What the detection heatmap shows, and why it is not the fair comparison."""
    return t(
        "Listings found per 1,000 monitoring searches, over every platform that reported a "
        "sweep in the quarter (not a matched panel: the reduction above is the fair comparison)."
    )


# --- Species groups: names, CITES appendix, colours ------------------------------------------


def appendix_text(appendix: str | None) -> str:
    """'I / II' → 'App. I / II'; 'various' → 'various appendices'; missing → ''."""
    appendix = "" if pd.isna(appendix) else str(appendix).strip()
    if not appendix:
        return ""
    if set(appendix) <= set("I /"):
        return t("App. {appendix}", appendix=appendix)
    if appendix.lower() == "various":
        return t("various appendices")
    return appendix


def species_label(name: str, appendix: str | None) -> str:
    """A species group's name with its CITES appendix: 'Pangolins (App. I)'."""
    text = appendix_text(appendix)
    return t("{name} ({appendix})", name=name, appendix=text) if text else name


def species_reference(species: pd.DataFrame, name_column: str = "name_en") -> pd.DataFrame:
    """One row per species group, in the reference sort order: ``group`` (slug), ``name`` (from
    ``name_column``: ``name_en`` or ``name_zh``), ``cites_appendix``, ``label`` (name and
    appendix) and ``colour``. ``species`` is ``store.species_groups``: all groups, so that the
    colours do not depend on a filter."""
    colours = theme.category_colors(list(species["slug"]))
    return pd.DataFrame(
        {
            "group": species["slug"].astype(str),
            "name": species[name_column].astype(str),
            "cites_appendix": species["cites_appendix"],
            "label": [
                species_label(n, a)
                for n, a in zip(species[name_column], species["cites_appendix"], strict=True)
            ],
            "colour": [colours[slug] for slug in species["slug"]],
        },
        columns=REFERENCE_COLUMNS,
    ).reset_index(drop=True)


def _in_reference_order(table: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the reference's ``label``, rows in the reference's order (then period);
    a group missing from the reference keeps its slug as label and comes last."""
    order = {group: i for i, group in enumerate(reference["group"])}
    labels = dict(zip(reference["group"], reference["label"], strict=True))
    out = table.assign(
        label=[labels.get(g, g) for g in table["group"]],
        _order=table["group"].map(order).fillna(len(order)),
    )
    keys = ["_order", "group"] + (["period"] if "period" in out.columns else [])
    return out.sort_values(keys).drop(columns="_order").reset_index(drop=True)


# --- Reduction per group, with the target and status ------------------------------------------


def reduction_table(progress: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """The table behind :func:`reduction_figure`: ``metrics.progress`` by some breakdown, one
    row per group, best reduction first and groups without a matched panel last, with the
    status as symbol and label (``status_label``)."""
    table = progress.assign(
        group=progress["group"].astype(str),
        label=[str(labels.get(g, g)) for g in progress["group"]],
        status_label=progress["status"].map(theme.status_label),
        reduction=progress["reduction"].astype(float),
        progress=progress["progress"].astype(float),
        coverage_share=progress["coverage_share"].astype(float),
    )
    table = table.sort_values(
        ["reduction", "label"], ascending=[False, True], na_position="last", kind="stable"
    )
    return table.reset_index(drop=True)[REDUCTION_COLUMNS]


def species_reduction_table(
    progress: pd.DataFrame, reference: pd.DataFrame, totals: pd.DataFrame
) -> pd.DataFrame:
    """:func:`reduction_table` for species groups, with each group's name and CITES appendix,
    and ``actions_in_range`` (listings removed + blocked in the chosen period range, from
    ``metrics.actions(by="species_group", grain=None)`` = ``totals``)."""
    table = reduction_table(
        progress, dict(zip(reference["group"], reference["label"], strict=True))
    )
    info = reference.set_index("group")
    in_range = dict(zip(totals["group"], totals["actions"], strict=True))
    table["name"] = table["group"].map(info["name"]).fillna(table["group"])
    table["cites_appendix"] = table["group"].map(info["cites_appendix"])
    table["actions_in_range"] = table["group"].map(in_range).fillna(0).astype("int64")
    return table[SPECIES_REDUCTION_COLUMNS]


def _panel_lines(row: Any) -> list[str]:
    if pd.isna(row.reduction):
        return [t("No matched panel in {period}", period=row.current_period or "—")]
    return [
        t("Coverage: {share} of baseline volume", share=format_percent(row.coverage_share, 0)),
        t(
            "Units in panel: {units} of {baseline} with a baseline ({platforms} platforms)",
            units=format_count(row.units_in_panel),
            baseline=format_count(row.units_with_baseline),
            platforms=format_count(row.platforms_in_panel),
        ),
    ]


def _reduction_hover(row: Any) -> str:
    return "<br>".join(
        [
            f"<b>{row.label}</b> · {row.current_period or '—'}",
            t("Reduction vs baseline: {value}", value=format_percent(row.reduction)),
            t("Progress to target: {value}", value=format_percent(row.progress)),
            t("Status: {status}", status=row.status_label),
            *_panel_lines(row),
            t("Cumulative actions: {n}", n=format_count(row.cumulative_actions)),
        ]
    )


def reduction_figure(table: pd.DataFrame, target: Target, *, category_title: str) -> go.Figure:
    """The reduction of each group's detection rate against its baseline, over the matched
    panel, as a dot on a stem from zero: the dot's symbol and the legend name the status (the
    colour repeats it), the dotted line is the target. Groups without a matched panel sit at
    zero with an open circle. ``table`` comes from :func:`reduction_table` (top row first)."""
    if table.empty:
        return _empty(t("No groups for these filters"))
    labels = list(table["label"])
    reductions = table["reduction"].astype(float)
    statuses = table["status"].to_numpy()
    hovers = [_reduction_hover(row) for row in table.itertuples(index=False)]
    # traces as dicts, given to go.Figure once: a trace object would be checked twice
    traces: list[dict[str, Any]] = [
        {  # the stems: thin bars from zero to each dot
            "type": "bar",
            "x": reductions.fillna(0).to_numpy(),
            "y": labels,
            "orientation": "h",
            "width": 0.08,
            "marker": {"color": theme.GREY},
            "hoverinfo": "skip",
            "showlegend": False,
            "name": "stems",
        }
    ]
    for status in STATUSES:
        rows = (statuses == status).nonzero()[0]
        if not len(rows):
            continue
        style = theme.status_style(status)
        values = reductions.iloc[rows]
        traces.append(
            {
                "type": "scatter",
                "x": values.fillna(0).to_numpy(),
                "y": [labels[i] for i in rows],
                "mode": "markers+text",
                "name": theme.status_label(status),
                "marker": {
                    "symbol": style.marker,
                    "color": style.colour,
                    "size": 14,
                    "line": {
                        "color": OUTLINE if "open" not in style.marker else style.colour,
                        "width": 1 if "open" not in style.marker else 2,
                    },
                },
                "text": [format_percent(v) for v in values],
                "textposition": "middle right",
                "cliponaxis": False,
                "hovertext": [hovers[i] for i in rows],
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    low = min(0.0, reductions.min(skipna=True) if reductions.notna().any() else 0.0)
    # the layout in one piece: Plotly's update_* and add_* methods cost several times more
    layout = {
        "shapes": [
            vertical_line(
                target.reduction,
                {"color": theme.TARGET, "dash": "dot", "width": 2},
                yref="paper",
                showlegend=True,
                name=t(
                    "Target: {reduction} reduction by {deadline}",
                    reduction=format_percent(target.reduction, 0),
                    deadline=target.deadline.isoformat(),
                ),
            ),
            vertical_line(0, {"color": theme.GREY, "width": 1}),  # zero
        ],
        "xaxis": {
            "title": {"text": t("Reduction of the detection rate vs baseline (%)")},
            "tickformat": ".0%",
            "range": [low - 0.08, 1.12],  # room for the value labels right of the dots
            "zeroline": False,
        },
        "yaxis": {
            "title": {"text": category_title},
            "type": "category",
            "categoryorder": "array",
            "categoryarray": labels,
            "range": [len(labels) - 0.5, -0.5],  # the first row at the top, no padding
        },
        "height": _height(len(labels)),
        "showlegend": True,
    }
    return theme.apply(go.Figure(data=traces, layout=layout))


# --- Actions per quarter by species group -----------------------------------------------------


def actions_by_group_table(actions: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """The table behind :func:`actions_area_figure`: ``metrics.actions(by="species_group")``
    per quarter, in the reference order of the groups, with their labels."""
    return _in_reference_order(actions, reference)[ACTIONS_COLUMNS]


def actions_area_figure(table: pd.DataFrame, colours: Mapping[str, str]) -> go.Figure:
    """Listings removed + blocked per quarter, stacked by species group (one colour per group,
    the same on every page), with the total as a black line; the hover lists every group's exact
    count for the quarter. A quarter a group did not report adds nothing and says so."""
    if table.empty:
        return _empty(t("No actions reported for these filters"))
    quarters = quarter_range(table["period"].min(), table["period"].max())
    # one column per group: a single reshaping, not one selection per group (a third of the
    # figure's time at 15 groups)
    wide = table.pivot(index="period", columns="group", values="actions").reindex(quarters)
    labels = dict(zip(table["group"], table["label"], strict=True))
    traces: list[dict[str, Any]] = []
    for group in dict.fromkeys(table["group"]):  # in the table's order
        label = labels[group]
        values = wide[group]
        traces.append(
            {
                "type": "scatter",
                "x": quarters,
                "y": values.fillna(0).to_numpy(dtype=float),
                "name": label,
                "mode": "lines",
                "stackgroup": "actions",
                "line": {"color": colours.get(group, theme.GREY), "width": 0.5},
                "fillcolor": colours.get(group, theme.GREY),
                "hovertext": [
                    f"{label}: {format_count(v)}"
                    if not pd.isna(v)
                    else t("{label}: none reported", label=label)
                    for v in values
                ],
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    total = table.groupby("period")["actions"].sum().reindex(quarters)
    name = t("All species groups shown")
    traces.append(
        {
            "type": "scatter",
            "x": quarters,
            "y": total.fillna(0).to_numpy(dtype=float),
            "name": name,
            "mode": "lines",
            "line": {"color": theme.BLACK, "width": 1.5},
            "hovertext": [f"<b>{name}: {format_count(v)}</b>" for v in total.fillna(0)],
            "hovertemplate": "%{hovertext}<extra></extra>",
        }
    )
    layout = {
        "xaxis": quarter_xaxis(quarters),
        "yaxis": {
            "title": {"text": t("Listings removed + blocked per quarter")},
            "rangemode": "tozero",
        },
        "hovermode": "x unified",
        "height": 520,
        # the legend beside the stack, top to bottom as the areas are stacked
        "legend": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top",
                   "traceorder": "reversed"},
    }  # fmt: skip
    return theme.apply(go.Figure(data=traces, layout=layout))


# --- Detection rate by species group and quarter ----------------------------------------------


def detection_table(detection: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """The table behind :func:`detection_heatmap_figure`: ``metrics.detection_rate(by=
    "species_group")`` per quarter, in the reference order of the groups, with their labels."""
    return _in_reference_order(detection, reference)[DETECTION_COLUMNS]


def _detection_hover(row: Any) -> str:
    lines = [f"<b>{row.label}</b> · {row.period}"]
    if pd.isna(row.detected_per_1000_searches):
        lines.append(t("No monitoring searches reported"))
    else:
        lines += [
            t(
                "Detected per 1,000 searches: {value}",
                value=f"{row.detected_per_1000_searches:,.1f}",
            ),
            t(
                "{detected} listings detected in {searches} searches",
                detected=format_count(row.listings_detected),
                searches=format_count(row.search_effort),
            ),
        ]
    if not pd.isna(row.detected_without_effort) and row.detected_without_effort:
        lines.append(
            t(
                "Detected without a reported sweep size: {n}",
                n=format_count(row.detected_without_effort),
            )
        )
    return "<br>".join(lines)


# the heatmap's least height in pixels: room for its colour bar's title and four ticks
HEATMAP_MIN_HEIGHT = 320


def detection_heatmap_figure(table: pd.DataFrame) -> go.Figure:
    """Listings found per 1,000 monitoring searches, species group × quarter: the darker the
    cell, the more prohibited trade the sweep still finds. Blank: no sweep size reported."""
    rated = table.dropna(subset=["detected_per_1000_searches"])
    if rated.empty:
        return _empty(t("No monitoring searches reported for these filters"))
    quarters = quarter_range(table["period"].min(), table["period"].max())
    labels = list(dict.fromkeys(table["label"]))
    # each row's figure and hover text put straight into its cell (two pivots took longer)
    row_of = {label: i for i, label in enumerate(labels)}
    column_of = {quarter: j for j, quarter in enumerate(quarters)}
    z = np.full((len(labels), len(quarters)), np.nan)
    hover = np.full(z.shape, "", dtype=object)
    for row in table.itertuples(index=False):
        cell = row_of[row.label], column_of[row.period]
        z[cell] = row.detected_per_1000_searches
        hover[cell] = _detection_hover(row)
    heatmap = {
        "type": "heatmap",
        "z": z,
        "x": quarters,
        "y": labels,
        "colorscale": DETECTION_SCALE,
        "reversescale": True,
        "zmin": 0,
        "xgap": 1,
        "ygap": 1,
        "hoverongaps": False,
        "hovertext": hover,
        "hovertemplate": "%{hovertext}<extra></extra>",
        "colorbar": {
            "title": {"text": t("Detected per<br>1,000 searches"), "side": "top"},
            "tickformat": ",~f",
        },
        "name": t("Detected per 1,000 searches"),
    }
    layout = {
        "xaxis": {**quarter_xaxis(quarters), "showgrid": False},
        "yaxis": {
            "title": {"text": t("Species group")},
            "type": "category",
            "categoryorder": "array",
            "categoryarray": labels,
            "range": [len(labels) - 0.5, -0.5],  # the first group at the top
            "showgrid": False,
        },
        # never so low that the colour bar's scale runs into itself (with one or two groups)
        "height": max(_height(len(labels)), HEATMAP_MIN_HEIGHT),
    }
    return theme.apply(go.Figure(data=[heatmap], layout=layout))


# --- One group in detail: where its actions are ------------------------------------------------


def ranked_actions_table(
    totals: pd.DataFrame,
    names: Mapping[str, str],
    *,
    key: str,
    top: int,
    rest: Callable[[int], str],
) -> pd.DataFrame:
    """The ``top`` groups of ``metrics.actions(grain=None)`` by listings removed + blocked in
    the range, largest first, and one row summing the others (``is_rest``; ``rest(n)`` names
    it). ``key`` names the column of the group's key (``platform``, ``iso3``); ``names`` gives
    a group's name (a key without a name is shown as it is). ``share_of_actions`` is of the
    total over all groups, the summed rest included; partners and platforms reporting are not
    summed (one partner can report in several), so the rest row leaves them empty. Groups
    without any action are left out."""
    columns = [key, *RANKED_COLUMNS]
    frame = totals[totals["actions"].fillna(0) > 0]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.sort_values(["actions", "group"], ascending=[False, True], kind="stable")
    total = float(frame["actions"].sum())
    frame = frame.reset_index(drop=True)
    shown, others = frame.head(top), frame.iloc[top:]
    table = pd.DataFrame(
        {
            key: shown["group"].astype(str),
            "name": [names.get(g, g) for g in shown["group"]],
            "listings_removed": shown["listings_removed"],
            "listings_blocked": shown["listings_blocked"],
            "actions": shown["actions"],
            "share_of_actions": shown["actions"] / total,
            "partners_reporting": shown["partners_reporting"],
            "platforms_reporting": shown["platforms_reporting"],
            "is_rest": False,
        }
    )
    if not others.empty:
        table.loc[len(table)] = {
            key: "",
            "name": rest(len(others)),
            "listings_removed": others["listings_removed"].sum(),
            "listings_blocked": others["listings_blocked"].sum(),
            "actions": others["actions"].sum(),
            "share_of_actions": others["actions"].sum() / total,
            "partners_reporting": None,
            "platforms_reporting": None,
            "is_rest": True,
        }
    for column in ("listings_removed", "listings_blocked", "actions"):
        table[column] = table[column].astype(float)
    return table.reset_index(drop=True)[columns]


def _ranked_hover(row: Any) -> str:
    return "<br>".join(
        [
            f"<b>{row.name}</b>",
            t(
                "Actions: {n} ({share} of the group's)",
                n=format_count(row.actions),
                share=format_percent(row.share_of_actions),
            ),
            t("Listings removed: {n}", n=format_count(row.listings_removed)),
            t("Listings blocked: {n}", n=format_count(row.listings_blocked)),
        ]
    )


def ranked_actions_figure(
    table: pd.DataFrame,
    *,
    key: str,
    colours: Mapping[str, str] | None = None,
    colour: str = theme.BLUE,
    category_title: str,
) -> go.Figure:
    """Listings removed + blocked per platform or country, largest at the top, the summed rest
    in grey at the bottom, with the exact count beside each bar. ``table`` comes from
    :func:`ranked_actions_table`; a bar takes its key's colour from ``colours`` (platforms keep
    their colour across pages), else ``colour``."""
    if table.empty:
        return _empty(t("No actions reported for these filters"))
    colours = colours or {}
    names = list(table["name"])
    bar = {
        "type": "bar",
        "x": table["actions"].astype(float).to_numpy(),
        "y": names,
        "orientation": "h",
        "marker": {
            "color": [
                REST if rest else colours.get(k, colour)
                for k, rest in zip(table[key], table["is_rest"], strict=True)
            ]
        },
        "text": [format_count(v) for v in table["actions"]],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertext": [_ranked_hover(row) for row in table.itertuples(index=False)],
        "hovertemplate": "%{hovertext}<extra></extra>",
        "name": t("Listings removed + blocked"),
    }
    layout = {
        "xaxis": {
            "title": {"text": t("Listings removed + blocked")},
            "tickformat": ",~f",
            "range": [0, float(table["actions"].max()) * 1.3],  # room for the counts
        },
        "yaxis": {
            "title": {"text": category_title},
            "type": "category",
            "categoryorder": "array",
            "categoryarray": names,
            "range": [len(names) - 0.5, -0.5],  # the largest at the top
        },
        "height": _height(len(names)),
        "showlegend": False,
    }
    return theme.apply(go.Figure(data=[bar], layout=layout))


# --- What the page shows as tables -----------------------------------------------------------


def species_summary_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`species_reduction_table` as a reader sees it: translated headers, percentages and
    counts written out as in the charts, status with its symbol."""
    return pd.DataFrame(
        {
            t("Species group"): table["name"],
            t("CITES App."): table["cites_appendix"].fillna("—"),
            t("Reduction"): table["reduction"].map(format_percent),
            t("Progress"): table["progress"].map(format_percent),
            t("Status"): table["status_label"],
            t("Coverage"): [
                format_percent(c, 0) if not pd.isna(r) else "—"
                for c, r in zip(table["coverage_share"], table["reduction"], strict=True)
            ],
            t("Units in panel"): [
                t("{units} of {baseline}", units=format_count(u), baseline=format_count(b))
                for u, b in zip(table["units_in_panel"], table["units_with_baseline"], strict=True)
            ],
            t("Actions in range"): table["actions_in_range"].map(format_count),
            t("Cumulative actions"): table["cumulative_actions"].map(format_count),
        }
    )


def ranked_display(
    table: pd.DataFrame, *, key: str, key_title: str, name_title: str
) -> pd.DataFrame:
    """:func:`ranked_actions_table` as a reader sees it: translated headers, counts with
    thousands separators, shares in per cent."""
    return pd.DataFrame(
        {
            key_title: table[key].replace("", "—"),
            name_title: table["name"],
            t("Actions"): table["actions"].map(format_count),
            t("Share"): table["share_of_actions"].map(format_percent),
            t("Listings removed"): table["listings_removed"].map(format_count),
            t("Listings blocked"): table["listings_blocked"].map(format_count),
        }
    )


def country_actions_table(
    totals: pd.DataFrame,
    countries: pd.DataFrame,
    name_column: str = "name_en",
    *,
    top: int = DETAIL_TOP,
) -> pd.DataFrame:
    """:func:`ranked_actions_table` of ``metrics.actions(by="country", grain=None)``: ISO
    alpha-3 code and the country's name from the ``countries`` reference table
    (``store.countries``); rows without a country are 'Global / unspecified', with no code."""
    names = dict(zip(countries["iso3"], countries[name_column], strict=True))
    names[GLOBAL] = t("Global / unspecified")
    table = ranked_actions_table(
        totals,
        names,
        key="iso3",
        top=top,
        rest=lambda n: t("{n} other country", plural="{n} other countries", n=n),
    )
    table["iso3"] = table["iso3"].replace(GLOBAL, "")
    return table


def platform_actions_table(totals: pd.DataFrame, *, top: int = DETAIL_TOP) -> pd.DataFrame:
    """:func:`ranked_actions_table` of ``metrics.actions(by="platform", grain=None)``."""
    return ranked_actions_table(
        totals,
        {},
        key="platform",
        top=top,
        rest=lambda n: t("{n} other platform", plural="{n} other platforms", n=n),
    )
