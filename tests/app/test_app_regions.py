"""The Regions page, run by Streamlit's AppTest on the sample database (see sample_db.py).

The sample has three places: Viet Nam (Asia, South-eastern Asia), the USA (Americas, Northern
America) and global rows; every place gets the same actions, so each holds a third of them.
What the page shows must be what ``metrics`` computes for the same filters: the tests compute
it beside the app and compare, for the map (from the figure sent to the browser), the region
and subregion tables and the drill-down.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import metrics
from coalition import theme
from coalition.db import Database
from coalition.i18n import format_count, format_percent

REGIONS = "views/regions.py"
GLOBAL = "Global / unspecified"
NOTHING = "No records match these filters"


def open_regions(app, db: Database, query: dict | None = None):
    at = app(db).run()  # app.py first: switch_page refuses a page that st.navigation lacks
    if query:
        at.query_params.update(query)
    return at.switch_page(REGIONS).run()


def page_tables(at) -> list[pd.DataFrame]:
    """The page's tables in order: the map's (countries), the regions' or subregions', then
    the drill-down's subregions and countries."""
    return [d.value for d in at.dataframe]


def figures(at) -> dict[str, go.Figure]:
    """The figures sent to the browser, by key (typed arrays decoded)."""
    return {c.key: pio.from_json(c.proto.spec, skip_invalid=True) for c in at.get("plotly_chart")}


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(str(p) for p in parts)


def expected_areas(db: Database, filters: metrics.Filters, by: str) -> pd.DataFrame:
    """The region or subregion table as metrics give it, indexed by group."""
    with db.read() as cur:
        actions = metrics.actions(cur, filters, by=by, grain=None).set_index("group")
        rate = metrics.detection_rate(cur, filters, by=by, grain=None).set_index("group")
        progress = metrics.progress(cur, filters, by=by).set_index("group")
    return actions.join(rate[["detected_per_1000_searches", "search_effort"]]).join(
        progress[["reduction", "status", "coverage_share"]]
    )


def assert_area_table(shown: pd.DataFrame, expected: pd.DataFrame, level: str) -> None:
    names = shown[level].tolist()
    assert sorted(names) == sorted(expected.index)
    rows = expected.loc[names]
    assert shown["Actions"].tolist() == rows["actions"].tolist()
    assert shown["Share"].tolist() == pytest.approx(
        (100 * rows["actions"] / rows["actions"].sum()).tolist()
    )
    assert shown["Per 1,000 searches"].tolist() == pytest.approx(
        rows["detected_per_1000_searches"].tolist(), nan_ok=True
    )
    assert shown["Searches"].tolist() == pytest.approx(rows["search_effort"].tolist(), nan_ok=True)
    assert shown["Reduction"].tolist() == pytest.approx(
        (100 * rows["reduction"].astype(float)).tolist(), nan_ok=True
    )
    assert shown["Status"].tolist() == [theme.status_label(s) for s in rows["status"]]


def area_table(at, level: str) -> pd.DataFrame:
    """The region or subregion table of the 'By UN M49 region' section (the second table)."""
    frame = page_tables(at)[1]
    assert frame.columns[0] == {"region": "Region", "subregion": "Subregion"}[level]
    return frame.rename(columns={frame.columns[0]: level})


def numbers(array) -> list:
    """A figure's array as numbers: Plotly sends numeric arrays as base64 typed arrays."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def map_trace(at):
    return figures(at)["chart_world_map"].data[1]


def expected_map(db: Database, filters: metrics.Filters, measure: str) -> dict[str, float]:
    with db.read() as cur:
        if measure == "actions":
            frame = metrics.actions(cur, filters, by="country", grain=None)
            column = "actions"
        else:
            frame = metrics.detection_rate(cur, filters, by="country", grain=None)
            column = "detected_per_1000_searches"
    frame = frame[frame["group"] != GLOBAL]
    return dict(zip(frame["group"], frame[column].astype(float), strict=True))


def shown_map(at, measure: str) -> dict[str, float]:
    trace = map_trace(at)
    values = numbers(trace.z)
    values = values if measure == "detection" else [10**z for z in values]
    return dict(zip(trace.locations, values, strict=True))


# --- the default view ------------------------------------------------------------------------


def test_regions_page_draws_map_bars_tables_and_downloads(app, sample):
    at = open_regions(app, sample)
    assert not at.exception
    assert at.title[0].value == "Regions"
    assert list(figures(at)) == ["chart_world_map", "chart_by_region_actions",
                                 "chart_subregions_actions"]  # fmt: skip
    assert len(at.dataframe) == 4  # the map's, the regions', the drill-down's two
    # one CSV per chart (map, regions, subregions) and for the countries of the region
    assert [b.label for b in at.download_button] == ["Download the table (CSV)"] * 4
    assert at.radio(key="measure").value == "actions"
    assert at.radio(key="level").value == "region"
    assert not at.info
    assert "**2018-Q1 to 2020-Q4**" in texts(at) and "as of 2020-12-31" in texts(at)


def test_map_draws_offline_geometry_by_iso3_with_the_exact_actions(app, sample):
    at = open_regions(app, sample)
    chart = at.get("plotly_chart")[0]
    assert json.loads(chart.proto.config)["topojsonURL"] == "./app/static/topojson/"
    trace = map_trace(at)
    assert trace.type == "choropleth" and trace.locationmode == "ISO-3"
    shown = shown_map(at, "actions")
    assert shown == pytest.approx(expected_map(sample, metrics.Filters(), "actions"))
    assert shown == pytest.approx({"USA": 19600, "VNM": 19600})
    assert "Actions: 19,600" in trace.hovertext[0]


def test_rows_without_a_country_are_counted_beside_the_map(app, sample):
    at = open_regions(app, sample)
    with sample.read() as cur:
        total = metrics.actions(cur, grain=None).iloc[0].actions
        global_ = metrics.actions(cur, by="country", grain=None).set_index("group").loc[GLOBAL]
    assert (
        f"Not on the map: {format_count(global_.actions)} actions "
        f"({format_percent(global_.actions / total)}) in rows without a country "
        "(Global / unspecified)." in texts(at)
    )
    assert "Not on the map: 19,600 actions (33.3%)" in texts(at)
    country_table = page_tables(at)[0]
    assert country_table.set_index("Country or territory").loc[GLOBAL, "On the map"] == False  # noqa: E712


def test_region_table_equals_the_metrics(app, sample):
    at = open_regions(app, sample)
    assert_area_table(area_table(at, "region"), expected_areas(sample, metrics.Filters(), "region"),
                      "region")  # fmt: skip
    assert area_table(at, "region")["region"].tolist()[-1] == GLOBAL  # always last


def test_subregion_level_lists_subregions_as_the_metrics_do(app, sample):
    at = open_regions(app, sample)
    at.radio(key="level").set_value("subregion").run()
    assert not at.exception
    shown = area_table(at, "subregion")
    assert set(shown["subregion"]) == {"Northern America", "South-eastern Asia", GLOBAL}
    assert_area_table(shown, expected_areas(sample, metrics.Filters(), "subregion"), "subregion")
    assert "chart_by_subregion_actions" in figures(at)


def test_detection_measure_maps_and_bars_the_rate_per_1000_searches(app, sample):
    at = open_regions(app, sample)
    at.radio(key="measure").set_value("detection").run()
    assert not at.exception
    shown = shown_map(at, "detection")
    assert shown == pytest.approx(expected_map(sample, metrics.Filters(), "detection"))
    assert map_trace(at).colorbar.title.text == "Detected<br>per 1,000<br>searches"
    bars = figures(at)["chart_by_region_detection"].data
    assert bars[0].name == "Detected per 1,000 searches"
    with sample.read() as cur:
        rates = metrics.detection_rate(cur, by="region", grain=None).set_index("group")
    assert dict(zip(bars[0].y, numbers(bars[0].x), strict=True)) == pytest.approx(
        rates.loc[["Americas", "Asia"], "detected_per_1000_searches"].to_dict()
    )
    assert list(bars[0].y) == ["Americas", "Asia"]  # by rate, bottom-up
    assert list(bars[1].y) == [GLOBAL] and bars[1].marker.pattern.shape == "/"
    assert "monitoring searches" in texts(at)  # what the detection map leaves out


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "filters"),
    [
        ("filter_sectors", ["search"], metrics.Filters(sectors=("search",))),
        ("filter_species", ["pangolins"], metrics.Filters(species_groups=("pangolins",))),
        ("filter_platforms", ["MarketCo Shop"], metrics.Filters(platforms=("MarketCo Shop",))),
        ("filter_period", ("2018-Q1", "2019-Q4"), metrics.Filters(period_to="2019-Q4")),
        (
            "filter_period",
            ("2019-Q2", "2020-Q2"),
            metrics.Filters(period_from="2019-Q2", period_to="2020-Q2"),
        ),
        ("filter_regions", ["Asia"], metrics.Filters(regions=("Asia",))),
    ],
    ids=["sector", "species", "platform", "period-to", "period-range", "region"],
)
def test_filters_change_map_and_tables_as_the_metrics_say(app, sample, key, value, filters):
    at = open_regions(app, sample)
    before = area_table(at, "region")
    widget = at.select_slider(key=key) if key == "filter_period" else at.multiselect(key=key)
    widget.set_value(value).run()
    assert not at.exception
    shown = area_table(at, "region")
    assert_area_table(shown, expected_areas(sample, filters, "region"), "region")
    assert not shown.equals(before)
    assert shown_map(at, "actions") == pytest.approx(expected_map(sample, filters, "actions"))


def test_period_range_sets_the_dates_in_the_heading(app, sample):
    at = open_regions(app, sample)
    at.select_slider(key="filter_period").set_value(("2019-Q2", "2020-Q2")).run()
    assert "**2019-Q2 to 2020-Q2**" in texts(at) and "as of 2020-06-30" in texts(at)


def test_a_filter_that_leaves_nothing_shows_the_empty_state(app, sample):
    at = open_regions(app, sample)
    at.multiselect(key="filter_species").set_value(["corals"]).run()
    assert not at.exception
    assert NOTHING in at.info[0].value
    assert not at.get("plotly_chart") and not at.dataframe and not at.metric


def test_only_global_rows_leave_the_map_empty_and_say_so(app, sample):
    at = open_regions(app, sample)
    at.multiselect(key="filter_regions").set_value([GLOBAL]).run()
    assert not at.exception
    trace = map_trace(at)
    assert list(trace.locations) == []
    annotations = figures(at)["chart_world_map"].layout.annotations
    assert annotations[0].text == "No country figures to map for these filters"
    assert "Not on the map: 19,600 actions (100.0%) in rows without a country" in texts(at)
    assert "No records with a country for these filters." in at.info[0].value
    assert not at.metric  # no region to look into


def test_empty_database_shows_the_empty_state(app, empty):
    at = open_regions(app, empty)
    assert not at.exception
    assert NOTHING in at.info[0].value
    assert not at.get("plotly_chart")


# --- looking into a region -------------------------------------------------------------------


def test_drill_down_shows_the_regions_reduction_status_subregions_and_countries(app, sample):
    at = open_regions(app, sample)
    assert at.selectbox(key="detail").options == ["Americas", "Asia"]  # not the global rows
    at.selectbox(key="detail").set_value("Asia").run()
    assert not at.exception
    with sample.read() as cur:
        row = metrics.progress(cur, by="region").set_index("group").loc["Asia"]
        alone = metrics.progress(cur, metrics.Filters(regions=("Asia",))).iloc[0]
        subregion = metrics.progress(cur, by="subregion").set_index("group")
    assert row.reduction == pytest.approx(alone.reduction)  # the region's own matched panel
    shown = {m.label: m.value for m in at.metric}
    assert shown == {
        "Reduction vs baseline": format_percent(row.reduction),
        "Progress to target": format_percent(row.progress),
        "Actions (removed + blocked)": "19,600",
    }
    assert theme.status_label(row.status) in texts(at)
    assert "33.3% of all actions" in texts(at)
    _, _, subregions, countries = page_tables(at)
    assert subregions["Subregion"].tolist() == ["South-eastern Asia"]
    assert subregions["Reduction"].tolist() == pytest.approx(
        [100 * subregion.loc["South-eastern Asia", "reduction"]]
    )
    assert countries["ISO code"].tolist() == ["VNM"]
    assert countries["Share"].tolist() == [100.0]
    assert "**Countries and territories in Asia**" in texts(at)


def test_drill_down_offers_only_the_regions_the_filters_leave(app, sample):
    at = open_regions(app, sample)
    at.multiselect(key="filter_regions").set_value(["Americas"]).run()
    assert at.selectbox(key="detail").options == ["Americas"]
    _, _, subregions, countries = page_tables(at)
    assert subregions["Subregion"].tolist() == ["Northern America"]
    assert countries["ISO code"].tolist() == ["USA"]


def test_a_link_opens_the_same_measure_level_and_region(app, sample):
    at = open_regions(
        app, sample, {"measure": "Detection rate", "level": "Subregion", "detail": "Asia"}
    )
    assert not at.exception
    assert at.radio(key="measure").value == "detection"
    assert at.radio(key="level").value == "subregion"
    assert at.selectbox(key="detail").value == "Asia"


def test_drill_down_changes_with_the_period(app, sample):
    at = open_regions(app, sample)
    at.selectbox(key="detail").set_value("Asia")
    at.select_slider(key="filter_period").set_value(("2018-Q1", "2019-Q4")).run()
    filters = metrics.Filters(period_to="2019-Q4")
    with sample.read() as cur:
        row = metrics.progress(cur, filters, by="region").set_index("group").loc["Asia"]
    assert {m.label: m.value for m in at.metric}["Reduction vs baseline"] == format_percent(
        row.reduction
    )


def test_country_names_follow_the_language(app, sample):
    at = app(sample)
    at.session_state["language"] = "zh_CN"
    at.run()
    at.switch_page(REGIONS).run()
    assert not at.exception
    assert set(page_tables(at)[0].iloc[:, 0]) >= {"美国", "越南"}
    assert any(text.startswith("<b>越南</b> (VNM)") for text in map_trace(at).hovertext)


@pytest.mark.parametrize(
    "viewer",
    [metrics.SECRETARIAT, metrics.OBSERVER, metrics.Viewer("partner", "marketco")],
    ids=["secretariat", "observer", "partner"],
)
def test_countries_of_a_region_from_the_world_table_equal_the_narrowed_query(sample, viewer):
    """The drill-down's country table is cut from the map's table when no country is merged;
    it must be the very table that asking the database with the region filter gives."""
    from coalition import charts_regions as cr
    from coalition import store

    filters = metrics.Filters(viewer=viewer)

    def table(flt: metrics.Filters) -> pd.DataFrame:
        with sample.read() as cur:
            return cr.breakdown_table(
                "country",
                metrics.actions(cur, flt, by="country", grain=None),
                metrics.detection_rate(cur, flt, by="country", grain=None),
                countries=store.countries(cur),
            )

    with sample.read() as cur:
        countries = store.countries(cur)
    world = table(filters)
    cut = 0
    for region in ("Asia", "Americas", "South-eastern Asia", "Europe"):
        derived = cr.countries_within(world, countries, region)
        if derived is None:
            assert (world["iso3"] == "Others (merged)").any()
            continue
        cut += 1
        narrowed = table(metrics.Filters(viewer=viewer, regions=(region,)))
        pd.testing.assert_frame_equal(derived, narrowed, check_dtype=False)
    merged = (world["iso3"] == "Others (merged)").any()
    assert cut == (0 if merged else 4)
    assert merged == (viewer != metrics.SECRETARIAT)  # both paths are exercised


@pytest.mark.parametrize("chosen", [None, "Asia"])
def test_asking_ahead_works_out_what_the_page_shows_once(asking_ahead, sample, chosen):
    # the regions' figures while the countries' are worked out, and the region looked into
    state = {"detail": chosen} if chosen else {}
    at = asking_ahead(sample, REGIONS, **state)
    assert at.selectbox(key="detail").value == (chosen or "Americas")


def test_figures_withheld_from_the_viewer_are_said_so_on_every_run(app, sample):
    # the regions rest on MarketCo (named) and two protected partners: withheld from an
    # observer, which the page says also on a rerun, when the tables come from the cache
    at = app(sample, user="observer").run()
    at.switch_page(REGIONS).run()
    for _ in range(2):
        assert not at.exception, at.exception
        assert any("Some figures are withheld" in i.value for i in at.info)
        assert (area_table(at, "region")["Reduction"].isna()).all()
        at.run()
