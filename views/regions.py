"""Regions: where the listings that platforms acted on were offered and where monitoring still
finds them — by country on a world map, by UN M49 region and subregion, one region at a time.

Rows without a country (Global / unspecified) and countries too small for the map are counted
beside it, never dropped. The map's outlines come from the app itself (static/topojson), so it
draws without the internet.
"""

from dataclasses import replace
from functools import partial

import pandas as pd
import streamlit as st

from coalition import charts
from coalition import charts_regions as regions_charts
from coalition.i18n import format_count, format_percent, region_name, t
from coalition.reference import GLOBAL
from coalition.ui import components, data
from coalition.ui.filter_bar import filter_bar


def table(frame: pd.DataFrame, key: str) -> None:
    """A breakdown table as readers see it: short headers, thousands separators."""
    shown, formats = components.derived(regions_charts.display_table, frame)
    config = {
        c: st.column_config.NumberColumn(format=f, help=h) if f else st.column_config.Column(help=h)
        for c, (f, h) in formats.items()
    }
    st.dataframe(shown, hide_index=True, column_config=config, key=f"table_{key}")


def download(frame: pd.DataFrame, key: str) -> None:
    """The unformatted figures of a table as CSV, as ``components.chart`` offers them."""
    csv = partial(components.csv_bytes, frame)  # made when clicked, not on every run
    label, icon = t("Download the table (CSV)"), ":material/download:"
    st.download_button(label, csv, f"{key}.csv", "text/csv", key=f"download_{key}", icon=icon,
                       on_click="ignore")  # fmt: skip


def breakdown(level: str, scope, *, with_progress: bool = True) -> pd.DataFrame:
    return data.area_breakdown(src, scope, level, target=target, with_progress=with_progress)


def ask_ahead(level: str, scope) -> None:
    """Start working out what ``breakdown(level, scope)`` will ask for (``data.ask_ahead``)."""
    for indicator, kwargs in (
        (data.actions, {"grain": None}),
        (data.detection_rate, {"grain": None}),
        (data.progress, {"target": target}),
    ):
        data.ask_ahead(indicator, src, scope, by=level, **kwargs)


src = data.current()
filters, target = filter_bar(src)
st.title(t("Regions"))
# the regions' figures while the countries' are worked out here (in vain only for filters that
# leave nothing, where they are empty and quick)
ask_ahead("region", filters)
countries = data.countries(src)
by_country = breakdown("country", filters, with_progress=False)
if by_country.empty:
    components.stop_when_nothing_matches()

options = data.filter_options(src)
regions = breakdown("region", filters)
choices = sorted(r for r in regions["region"] if r != GLOBAL)
if st.session_state.get("level") == "subregion":
    ask_ahead("subregion", filters)
if choices:  # the region looked into below, while the map is drawn
    ask_ahead("subregion", replace(filters, regions=(st.session_state.get("detail", choices[0]),)))
st.markdown(
    regions_charts.headline_text(filters, options.first_month, options.last_month, regions, target)
)
measure = st.radio(
    t("Measure"),
    regions_charts.MEASURES,
    format_func=regions_charts.measure_label,
    captions=[regions_charts.measure_unit(m) for m in regions_charts.MEASURES],
    horizontal=True,
    key="measure",
    bind="query-params",  # a link opens the same view
)
unit = regions_charts.measure_unit(measure)

st.subheader(t("By country"))
st.plotly_chart(
    components.figure_for(
        by_country, partial(regions_charts.world_map_figure, measure=measure, countries=countries)
    ),
    key="chart_world_map",
    theme=None,
    # the map's outlines from this app, not from cdn.plot.ly; the page scrolls, the map doesn't
    config={"displaylogo": False, "scrollZoom": False, "topojsonURL": regions_charts.TOPOJSON_URL},
    alt=t("World map of {measure} by country", measure=unit),
)
st.caption(regions_charts.off_map_text(by_country, measure) + " " + t("Grey: no figures."))
download(by_country, "by_country")
with st.expander(t("Table: {n} places with records", n=format_count(len(by_country)))):
    table(by_country, "by_country")

st.subheader(t("By UN M49 region"))
level = st.radio(
    t("Level"),
    ["region", "subregion"],
    format_func=regions_charts.level_label,
    horizontal=True,
    key="level",
    bind="query-params",
)
areas = regions if level == "region" else breakdown("subregion", filters)
components.chart(
    areas,
    partial(regions_charts.area_figure, measure=measure, level=level),
    key=f"by_{level}_{measure}",
    empty=t("No records for these filters."),
    alt=t("Bars of {measure} by {level}", measure=unit, level=regions_charts.level_label(level)),
)
table(areas, f"by_{level}")

st.subheader(t("Look into a region"))
if not choices:
    st.info(t("No records with a country for these filters."), icon=":material/public_off:")
    st.stop()
region = st.selectbox(
    t("Region"), choices, format_func=region_name, key="detail", bind="query-params"
)
name = region_name(region)
row = regions.set_index("region").loc[region]
reduction, progress, actions = st.columns(3, border=True)
with reduction:
    st.metric(
        t("Reduction vs baseline"),
        format_percent(row.reduction),
        help=regions_charts.reduction_help(row.current_period),
    )
    st.caption(charts.panel_text(row.platforms_in_panel, row.coverage_share))
with progress:
    st.metric(t("Progress to target"), format_percent(row.progress))
    components.status_badge(row.status)
with actions:
    st.metric(t("Actions (removed + blocked)"), format_count(row.actions))
    st.caption(t("{share} of all actions", share=format_percent(row.actions_share)))
inside = replace(filters, regions=(region,))
subregions = breakdown("subregion", inside)
components.chart(
    subregions,
    partial(regions_charts.area_figure, measure=measure, level="subregion"),
    key=f"subregions_{measure}",
    empty=t("No records for these filters."),
    alt=t("Bars of {measure} by subregion of {region}", measure=unit, region=name),
)
table(subregions, "subregions")
st.markdown(t("**Countries and territories in {region}**", region=name))
in_region = regions_charts.countries_within(by_country, countries, region)
if in_region is None:  # merged countries: their figures in the region need the database
    in_region = breakdown("country", inside, with_progress=False)
table(in_region, "countries")
download(in_region, f"countries_{region}")
st.caption(t("Shares are of the actions in {region}.", region=name))
