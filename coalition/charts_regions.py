"""Figure and table builders for the Regions page: where actions and detections are, and how
much of them a map can show.

Pure functions, like :mod:`coalition.charts`: tidy frames from ``metrics`` in, a Plotly figure
or a table out. The world map is drawn from the topojson that ships in ``static/topojson``
(served by Streamlit at ``app/static/topojson/``), never from a CDN; countries too small for
that 1:110 million map, and rows without a country, are reported beside it, not dropped
silently.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from coalition import charts, theme
from coalition.i18n import (
    N_,
    country_name,
    format_count,
    format_date,
    format_percent,
    get_language,
    normalise_language,
    region_name,
    t,
)
from coalition.reference import GLOBAL
from metrics import Filters, Target
from metrics.access import OTHER
from metrics.filters import month_bounds, quarter_of

TOPOJSON = Path(__file__).resolve().parent.parent / "static" / "topojson" / "world_110m.json"
# Relative to the page's address: every page of the app is one level below the app's root (also
# under a server.baseUrlPath), and Streamlit serves static/ at app/static/.
TOPOJSON_URL = "./app/static/topojson/"

MEASURES = ("actions", "detection")
MEASURE_COLUMNS = {"actions": "actions", "detection": "detected_per_1000_searches"}
# short, since a chosen measure is written into the page address as its label
MEASURE_LABELS = {"actions": N_("Actions"), "detection": N_("Detection rate")}
MEASURE_UNITS = {
    "actions": N_("Listings removed + listings blocked"),
    "detection": N_("Listings found per 1,000 monitoring searches"),
}
LEVELS = ("region", "subregion", "country")
LEVEL_LABELS = {"region": N_("Region"), "subregion": N_("Subregion"), "country": N_("Country")}

# ColorBrewer "Blues" without its palest steps: a single hue, ordered by lightness, so that it
# reads with every colour-vision deficiency and the lightest class stays apart from the grey
# of countries without figures.
COLOURSCALE = ["#9ECAE1", "#6BAED6", "#4292C6", "#2171B5", "#08519C", "#08306B"]
NO_DATA = "#DDDDDD"
BORDER = "#FFFFFF"

TABLE_COLUMNS = [
    "listings_removed",
    "listings_blocked",
    "actions",
    "actions_share",
    "partners_reporting",
    "platforms_reporting",
    "listings_detected",
    "search_effort",
    "detected_per_1000_searches",
]
PROGRESS_COLUMNS = [
    "reduction",
    "progress",
    "status",
    "coverage_share",
    "platforms_in_panel",
    "current_period",
    "as_of",
]


@cache
def drawn_countries() -> frozenset[str]:
    """ISO alpha-3 codes of the countries that the shipped world map draws (177 of them: at
    1:110 million, Hong Kong, Singapore and most small islands have no outline)."""
    with TOPOJSON.open(encoding="utf-8") as file:
        geometries = json.load(file)["objects"]["countries"]["geometries"]
    return frozenset(g["id"] for g in geometries if g.get("id"))


# --- Tables ----------------------------------------------------------------------------------


# The column of the countries table (``store.countries``) that names countries in a language;
# other languages take their names from coalition.i18n.country_name (pycountry's catalogues).
NAME_COLUMNS = {"en": "name_en", "zh_Hans": "name_zh"}


def country_names(countries: pd.DataFrame, name_column: str | None = None) -> dict[str, str]:
    """Each country's name by its ISO alpha-3 code, from ``countries`` (``iso3``,
    ``name_en``, …): its ``name_column`` if given, else in the current language (see
    :func:`coalition.i18n.country_name`); the English name where there is none."""
    column = name_column or NAME_COLUMNS.get(normalise_language(get_language()))
    names = {}
    for row in countries.to_dict("records"):
        name = row.get(column) if column else country_name(row["iso3"])
        if not isinstance(name, str) or not name or (column is None and name == row["iso3"]):
            name = row["name_en"]
        names[row["iso3"]] = str(name)
    return names


def breakdown_table(
    level: str,
    actions: pd.DataFrame,
    detection: pd.DataFrame,
    progress: pd.DataFrame | None = None,
    countries: pd.DataFrame | None = None,
    *,
    name_column: str | None = None,
) -> pd.DataFrame:
    """One row per region, subregion or country that has records: ``metrics.actions`` and
    ``metrics.detection_rate`` (both ``grain=None``) and optionally ``metrics.progress``, all
    with ``by=level``, side by side, largest number of actions first.

    ``actions_share`` is the row's share of all actions in the table. Rows without a country
    are the row ``Global / unspecified``. At country level ``iso3`` holds the code (empty for
    the global row), ``country`` the name from ``countries`` (columns ``iso3`` and
    ``name_column``; without one, the name in the current language: see
    :func:`country_names`), and ``on_map`` whether the world map can draw it. Region and
    subregion keep their English (stored) names: :func:`display_table` and the figures name
    them in the current language.
    """
    if level not in LEVELS:
        raise ValueError(f"Unknown level {level!r}: use one of {', '.join(LEVELS)}.")
    keep = ["listings_detected", "search_effort", "detected_per_1000_searches"]
    table = actions.drop(columns=["period", "cumulative_actions"], errors="ignore").merge(
        detection[["group", *keep]], on="group", how="outer"
    )
    if progress is not None:
        table = table.merge(progress[["group", *PROGRESS_COLUMNS]], on="group", how="left")
    table["actions"] = table["actions"].fillna(0)
    total = table["actions"].sum()
    table["actions_share"] = table["actions"] / total if total else np.nan
    columns = TABLE_COLUMNS + (PROGRESS_COLUMNS if progress is not None else [])
    if level == "country":
        names = {} if countries is None else country_names(countries, name_column)
        is_global = table["group"] == GLOBAL
        table["iso3"] = table["group"].where(~is_global, "")
        table["country"] = [t(GLOBAL) if g == GLOBAL else names.get(g, g) for g in table["group"]]
        table["on_map"] = table["iso3"].isin(drawn_countries())
        columns = ["iso3", "country", "on_map", *columns]
    else:
        table[level] = table["group"]
        columns = [level, *columns]
    order = table.assign(_global=table["group"] == GLOBAL).sort_values(
        ["_global", "actions", "group"], ascending=[True, False, True]
    )
    return order[columns].reset_index(drop=True)


def countries_within(
    by_country: pd.DataFrame, countries: pd.DataFrame, region: str
) -> pd.DataFrame | None:
    """The rows of a country table (:func:`breakdown_table` at country level, for some
    filters) whose country lies in ``region`` (a region or a subregion, as in the ``regions``
    column of ``countries``), with ``actions_share`` taken of the actions in the region: the
    table that the same filters narrowed to ``region`` give, without asking the database again.

    Each country's figures depend on that country's records only, so narrowing the filters to
    a region changes none of them — except the row of countries merged to protect partners
    (``Others (merged)``), whose figures mix countries of several regions. For a table with
    that row, this returns None: ask the database with the narrowed filters instead.
    """
    if (by_country["iso3"] == OTHER).any():
        return None
    inside = countries.loc[(countries["region"] == region) | (countries["subregion"] == region)]
    table = by_country[by_country["iso3"].isin(set(inside["iso3"]))].copy()
    total = table["actions"].sum()
    table["actions_share"] = table["actions"] / total if total else np.nan
    return table.reset_index(drop=True)


def display_table(
    table: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, tuple[str | None, str]]]:
    """``table`` (from :func:`breakdown_table`) as a reader sees it: short translated headers,
    percentages as numbers of per cent, status as symbol and label, and the global row named.
    Returns the frame and, per column that needs one, a help text saying what the short header
    means, with a printf format for a number (thousands separators; None for text)."""
    spec = [
        ("region", t("Region"), None, ""),
        ("subregion", t("Subregion"), None, ""),
        ("country", t("Country or territory"), None, ""),
        ("iso3", t("ISO code"), None, ""),
        ("on_map", t("On the map"), None, ""),
        ("actions", t("Actions"), "%,d", t("Listings removed + listings blocked")),
        ("actions_share", t("Share"), "%.1f%%", t("Share of the actions in this table")),
        (
            "detected_per_1000_searches",
            t("Per 1,000 searches"),
            "%,.1f",
            t("Listings found per 1,000 monitoring searches"),
        ),
        (
            "reduction",
            t("Reduction"),
            "%.1f%%",
            t("Reduction of the detection rate against the baseline, matched panel"),
        ),
        (
            "status",
            t("Status"),
            None,
            t("The pace of decline since the baseline against the pace needed to meet the target"),
        ),
        (
            "coverage_share",
            t("Panel coverage"),
            "%.0f%%",
            t("Share of the baseline volume that the matched panel covers"),
        ),
        ("platforms_reporting", t("Platforms"), "%,d", t("Platforms that reported actions")),
        ("search_effort", t("Searches"), "%,d", t("Monitoring searches run")),
    ]
    shown = pd.DataFrame(index=table.index)
    formats = {}
    for column, header, number_format, help_text in spec:
        if column not in table:
            continue
        values = table[column]
        if column in ("actions_share", "reduction", "coverage_share"):
            values = 100 * values.astype(float)
        elif column == "status":
            values = values.map(lambda s: theme.status_label(s) if isinstance(s, str) else "—")
        elif column in ("region", "subregion"):
            values = values.map(_area_name)
        elif number_format:
            values = values.astype(float)
        shown[header] = values
        if help_text:
            formats[header] = (number_format, help_text)
    return shown.reset_index(drop=True), formats


def off_map(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a country :func:`breakdown_table` that the map cannot show: the global row
    and countries too small to draw."""
    return table[~table["on_map"]].reset_index(drop=True)


def off_map_text(table: pd.DataFrame, measure: str) -> str:
    """What the map leaves out, in the measure's own volume: actions for the actions map,
    monitoring searches for the detection map (a rate has no share of its own)."""
    volume = "actions" if measure == "actions" else "search_effort"
    total = table[volume].sum()
    missing = off_map(table)
    is_global = missing["iso3"] == ""
    small = missing[~is_global & missing[volume].fillna(0).gt(0)]
    glob = missing.loc[is_global, volume].fillna(0).sum()
    unit = t("actions") if measure == "actions" else t("monitoring searches")
    if total == 0:
        return ""

    def share(value: float) -> str:
        return format_percent(value / total)

    parts = []
    if glob:
        parts.append(
            t(
                "{value} {unit} ({share}) in rows without a country (Global / unspecified)",
                value=format_count(glob),
                unit=unit,
                share=share(glob),
            )
        )
    if not small.empty:
        names = small.sort_values(volume, ascending=False)["country"].tolist()
        examples = ", ".join(names[:3]) + ("…" if len(names) > 3 else "")
        parts.append(
            t(
                "{value} {unit} ({share}) in {n} country or territory too small for this "
                "map ({examples})",
                plural="{value} {unit} ({share}) in {n} countries and territories too small for "
                "this map ({examples})",
                n=len(names),
                value=format_count(small[volume].sum()),
                unit=unit,
                share=share(small[volume].sum()),
                examples=examples,
            )
        )
    if not parts:
        return t("Every figure is on the map.")
    return t("Not on the map: {parts}.", parts="; ".join(parts))


# --- The world map ---------------------------------------------------------------------------


def _country_hover(row, measure: str) -> str:
    lines = [f"<b>{row.country}</b> ({row.iso3})"]
    if measure == "actions":
        lines += [
            t("Actions: {value}", value=format_count(row.actions)),
            t(
                "Removed {removed} · blocked {blocked}",
                removed=format_count(row.listings_removed),
                blocked=format_count(row.listings_blocked),
            ),
            t("Share of all actions: {share}", share=format_percent(row.actions_share)),
        ]
    else:
        lines += [
            t(
                "Detected per 1,000 searches: {value}",
                value=f"{row.detected_per_1000_searches:,.1f}",
            ),
            t(
                "{detected} listings found in {searches} searches",
                detected=format_count(row.listings_detected),
                searches=format_count(row.search_effort),
            ),
        ]
    lines.append(
        t(
            "Reported by {n} platform",
            plural="Reported by {n} platforms",
            n=int(row.platforms_reporting) if pd.notna(row.platforms_reporting) else 0,
        )
    )
    return "<br>".join(lines)


def _log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Powers of ten from ``low`` to ``high`` (log10 values) with their counts as labels."""
    powers = range(math.floor(low), math.ceil(high) + 1)
    return [float(p) for p in powers], [format_count(10**p) for p in powers]


def world_map_figure(
    table: pd.DataFrame,
    measure: str,
    countries: pd.DataFrame,
    *,
    name_column: str | None = None,
) -> go.Figure:
    """A world choropleth of ``measure`` (``actions`` or ``detection``) by country.

    ``table`` is a country :func:`breakdown_table`; ``countries`` (``iso3``, and
    ``name_column`` or else ``name_en``: see :func:`country_names`) lists every country, so
    that those without a figure are drawn grey with a hover saying so, named in the current
    language unless ``name_column`` says otherwise. Actions span several orders of magnitude
    and are coloured on a log scale (labelled in counts); the detection rate is coloured on a
    linear scale from zero. Hover texts give exact values. Nothing in it needs the network but
    the topojson.
    """
    if measure not in MEASURES:
        raise ValueError(f"Unknown measure {measure!r}: use one of {', '.join(MEASURES)}.")
    column = MEASURE_COLUMNS[measure]
    drawn = drawn_countries()
    shown = table[table["on_map"] & table[column].notna()]
    with_records = set(table["iso3"])
    blank = countries[countries["iso3"].isin(drawn) & ~countries["iso3"].isin(shown["iso3"])]
    no_records = t("No records for these filters")
    no_rate = t("Records, but no detections with search effort")
    names = country_names(blank, name_column)

    # plain dicts, validated once by go.Figure below (see charts.detection_index_figure)
    grey = dict(
        type="choropleth",
        name=t("No figures"),
        locations=blank["iso3"].tolist(),
        locationmode="ISO-3",
        z=[0] * len(blank),
        colorscale=[[0, NO_DATA], [1, NO_DATA]],
        showscale=False,
        marker={"line": {"color": BORDER, "width": 0.5}},
        hovertext=[
            f"<b>{names[iso3]}</b> ({iso3})<br>" + (no_rate if iso3 in with_records else no_records)
            for iso3 in blank["iso3"]
        ],
        hovertemplate="%{hovertext}<extra></extra>",
    )
    values = shown[column].astype(float)
    if measure == "actions":
        z = np.log10(values.clip(lower=1))
        low, high = (float(z.min()), float(z.max())) if len(z) else (0.0, 1.0)
        zmin, zmax = math.floor(low), max(math.ceil(high), math.floor(low) + 1)
        tickvals, ticktext = _log_ticks(zmin, zmax)
        title = t("Actions<br>(listings,<br>log scale)")
    else:
        z = values
        zmin, zmax = 0.0, float(values.max()) if len(values) and values.max() > 0 else 1.0
        tickvals, ticktext = None, None
        title = t("Detected<br>per 1,000<br>searches")
    measured = dict(
        type="choropleth",
        name=measure_label(measure),
        locations=shown["iso3"].tolist(),
        locationmode="ISO-3",
        z=z.tolist(),
        zmin=zmin,
        zmax=zmax,
        colorscale=[[i / (len(COLOURSCALE) - 1), c] for i, c in enumerate(COLOURSCALE)],
        marker={"line": {"color": BORDER, "width": 0.5}},
        colorbar={
            "title": {"text": title},
            "tickvals": tickvals,
            "ticktext": ticktext,
            "tickformat": ",~f",
            "thickness": 14,
            "len": 0.8,
        },
        hovertext=[_country_hover(row, measure) for row in shown.itertuples(index=False)],
        hovertemplate="%{hovertext}<extra></extra>",
    )
    layout: dict = {
        "geo": {
            "projection": {"type": "natural earth"},
            "showframe": False,
            "showcoastlines": False,
            "showland": True,
            "landcolor": NO_DATA,  # also the few shapes without a code (Kosovo, Northern Cyprus…)
            "showcountries": True,
            "countrycolor": BORDER,
            "showocean": False,
            "showlakes": False,
            "bgcolor": "white",
            "lataxis": {"range": [-58, 85]},  # no Antarctica: it takes a fifth of the map
        },
        "height": 440,
        "margin": {"l": 0, "r": 0, "t": 10, "b": 0},
        "dragmode": False,
        "template": pio.templates[theme.TEMPLATE_NAME],  # as theme.apply
    }
    if shown.empty:
        layout["annotations"] = [
            {
                "text": t("No country figures to map for these filters"),
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 16, "color": theme.TEXT},
            }
        ]
    # one construction: each add_trace and update_* goes through plotly's relayout
    return go.Figure(data=[grey, measured], layout=layout)


# --- Regions and subregions as bars ----------------------------------------------------------


def _area_name(value: str) -> str:
    """A region or subregion (stored by its English UN M49 name) in the current language."""
    return region_name(value)


def _actions_hover(row, name: str, column: str) -> str:
    return "<br>".join(
        [
            f"<b>{_area_name(row.area)}</b>",
            f"{name}: {format_count(getattr(row, column))}",
            t(
                "Actions: {value} ({share} of all)",
                value=format_count(row.actions),
                share=format_percent(row.actions_share),
            ),
        ]
    )


def _rate_hover(row) -> str:
    rate = row.detected_per_1000_searches
    return "<br>".join(
        [
            f"<b>{_area_name(row.area)}</b>",
            t(
                "Detected per 1,000 searches: {value}",
                value="—" if pd.isna(rate) else f"{rate:,.1f}",
            ),
            t(
                "{detected} listings found in {searches} searches",
                detected=format_count(row.listings_detected),
                searches=format_count(row.search_effort),
            ),
        ]
    )


def area_figure(table: pd.DataFrame, measure: str, level: str) -> go.Figure:
    """Horizontal bars of ``measure`` for the regions or subregions of a
    :func:`breakdown_table` (``level``): largest at the top, Global / unspecified last and
    hatched, since rows without a country are not a place.

    Actions are stacked as removed and blocked (the Overview's colours); the detection rate
    has one bar per area and a dashed line at the rate over all of them."""
    if measure not in MEASURES:
        raise ValueError(f"Unknown measure {measure!r}: use one of {', '.join(MEASURES)}.")
    if table.empty:
        return charts._empty(t("No records for these filters"))
    column = MEASURE_COLUMNS[measure]
    rows = table.assign(area=table[level], _global=table[level] == GLOBAL).sort_values(
        ["_global", column, "area"], ascending=[False, True, False], na_position="first"
    )  # plotly draws the first category at the bottom
    names = [_area_name(v) for v in rows["area"]]
    # the rows as tuples once (itertuples reads every column anew on each call)
    flags = rows["_global"].tolist()
    records = list(rows.itertuples(index=False))
    parts = [
        (rows[~rows["_global"]], [r for r, g in zip(records, flags, strict=True) if not g], True),
        (rows[rows["_global"]], [r for r, g in zip(records, flags, strict=True) if g], False),
    ]
    if measure == "actions":
        series = [
            ("listings_removed", t("Listings removed"), theme.REMOVED),
            ("listings_blocked", t("Listings blocked"), theme.BLOCKED),
        ]
    else:
        series = [(column, t("Detected per 1,000 searches"), theme.OBSERVED)]
    traces = []
    for column_name, name, colour in series:
        for part, part_rows, is_place in parts:
            if part.empty:
                continue
            # plain dicts, validated once by go.Figure below (see charts.detection_index_figure)
            traces.append(
                dict(
                    type="bar",
                    y=[_area_name(v) for v in part["area"]],
                    x=part[column_name].fillna(0).astype(float),
                    orientation="h",
                    name=name if is_place else f"{name} · {t(GLOBAL)}",
                    legendgroup=column_name,
                    showlegend=is_place,
                    marker={"color": colour, "pattern": {"shape": "" if is_place else "/"}},
                    hovertext=[
                        _actions_hover(r, name, column_name)
                        if measure == "actions"
                        else _rate_hover(r)
                        for r in part_rows
                    ],
                    hovertemplate="%{hovertext}<extra></extra>",
                )
            )
    layout: dict = {
        "xaxis": {"rangemode": "tozero", "tickformat": ",~f"},
        "yaxis": {
            "title": {"text": level_label(level)},
            "type": "category",
            "categoryorder": "array",
            "categoryarray": names,
            "ticks": "",
        },
        "height": max(260, 60 + 34 * len(names)),
        "showlegend": measure == "actions",
        "template": pio.templates[theme.TEMPLATE_NAME],  # as theme.apply
    }
    if measure == "actions":
        layout["barmode"] = "stack"
        layout["xaxis"]["title"] = {"text": t("Actions (listings removed + blocked)")}
    else:
        layout["xaxis"]["title"] = {"text": t("Listings found per 1,000 monitoring searches")}
        effort = table["search_effort"].sum()
        if effort > 0:
            overall = 1000 * table["listings_detected"].sum() / effort
            layout["shapes"] = [
                charts.vertical_line(overall, {"color": theme.TARGET, "dash": "dash", "width": 1.5})
            ]
            layout["annotations"] = [
                {
                    "text": t("All: {value}", value=f"{overall:,.1f}"),
                    "x": overall,
                    "xref": "x",
                    "y": 1,
                    "yref": "y domain",
                    "showarrow": False,
                    "xanchor": "left",
                    "yanchor": "bottom",
                    "font": {"size": 13},
                }
            ]
    # one construction: add_vline and each update_* go through plotly's relayout
    return go.Figure(data=traces, layout=layout)


def measure_label(measure: str) -> str:
    """The measure's name in the current language."""
    msgid = MEASURE_LABELS[measure]  # marked with N_() above
    return t(msgid)


def measure_unit(measure: str) -> str:
    """The measure's unit in the current language."""
    msgid = MEASURE_UNITS[measure]  # marked with N_() above
    return t(msgid)


def level_label(level: str) -> str:
    """The name of a level (region, subregion) in the current language."""
    msgid = LEVEL_LABELS[level]  # marked with N_() above
    return t(msgid)


# --- What the page writes around its charts ---------------------------------------------------


def headline_text(
    filters: Filters,
    first_month: str | None,
    last_month: str | None,
    regions: pd.DataFrame,
    target: Target | None,
) -> str:
    """The line above the page's charts: the quarters shown (the filters' range, else the
    quarters of the first and last months with data), the date the reductions are as of (the
    latest ``as_of`` of :func:`breakdown_table` by region) and the target."""
    first = filters.period_from or quarter_of(month_bounds(first_month)[0])
    last = filters.period_to or quarter_of(month_bounds(last_month)[0])
    return t(
        "Where partners' listings were removed or blocked, and where monitoring finds them, "
        "**{first} to {last}**. Reduction and status as of {date}, against the target "
        "({target}).",
        first=first,
        last=last,
        date=format_date(regions["as_of"].dropna().max()),
        target=target.name if target else "—",
    )


def reduction_help(period: str | None) -> str:
    """How a region's reduction is measured, for the quarter ``period``."""
    return t(
        "1 − detection rate in {period} ÷ detection rate at baseline, over the platforms "
        "with data in both (the matched panel) in this region.",
        period=period if not pd.isna(period) else "—",
    )
