"""The Regions page's figure and table builders, without Streamlit or a database: hand-made
metric frames in, figure contents checked."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from coalition import charts_regions as cr
from coalition import theme

GLOBAL = "Global / unspecified"

# metrics.actions(by="country", grain=None): Hong Kong has no outline on the 110m map
ACTIONS = pd.DataFrame(
    {
        "group": ["HKG", "USA", "VNM", GLOBAL],
        "period": "total",
        "listings_removed": [500.0, 40.0, 12000.0, 100.0],
        "listings_blocked": [500.0, None, 3000.0, 300.0],
        "actions": [1000.0, 40.0, 15000.0, 400.0],
        "cumulative_actions": [1000.0, 40.0, 15000.0, 400.0],
        "partners_reporting": [1, 1, 2, 1],
        "platforms_reporting": [1, 1, 3, 2],
    }
)
# metrics.detection_rate(by="country", grain=None): the USA sent no detections
DETECTION = pd.DataFrame(
    {
        "group": ["HKG", "VNM", GLOBAL],
        "period": "total",
        "listings_detected": [30.0, 250.0, 10.0],
        "search_effort": [1000.0, 2000.0, 1000.0],
        "detection_rate": [0.03, 0.125, 0.01],
        "detected_per_1000_searches": [30.0, 125.0, 10.0],
        "detected_without_effort": [None, None, None],
    }
)
COUNTRIES = pd.DataFrame(
    {
        "iso3": ["CHN", "FRA", "HKG", "USA", "VNM"],
        "name_en": ["China", "France", "Hong Kong", "United States", "Viet Nam"],
        "name_zh": ["中国", "法国", "香港", "美国", "越南"],
    }
)


def country_table() -> pd.DataFrame:
    return cr.breakdown_table("country", ACTIONS, DETECTION, countries=COUNTRIES)


def by_name(fig) -> dict:
    return {trace.name: trace for trace in fig.data}


# --- the map's geometry ----------------------------------------------------------------------


def test_drawn_countries_are_the_iso3_ids_of_the_shipped_topojson():
    drawn = cr.drawn_countries()
    assert len(drawn) == 174  # 177 shapes, three without a code (Kosovo, N. Cyprus, Somaliland)
    assert {"VNM", "USA", "CHN", "FRA", "BRA", "ZAF"} <= drawn
    assert not {"HKG", "SGP", "MAC"} & drawn  # too small at 1:110 million
    assert all(len(code) == 3 and code.isupper() for code in drawn)


# --- tables ----------------------------------------------------------------------------------


def test_country_table_joins_actions_and_detection_largest_first_global_last():
    table = country_table()
    assert table["iso3"].tolist() == ["VNM", "HKG", "USA", ""]
    assert table["country"].tolist() == ["Viet Nam", "Hong Kong", "United States", GLOBAL]
    assert table["on_map"].tolist() == [True, False, True, False]
    assert table["actions"].tolist() == [15000, 1000, 40, 400]
    assert table["actions_share"].tolist() == pytest.approx([15 / 16.44, 1 / 16.44, 0.04 / 16.44,
                                                            0.4 / 16.44])  # fmt: skip
    assert table["detected_per_1000_searches"].tolist()[:2] == [125.0, 30.0]
    assert math.isnan(table.loc[2, "detected_per_1000_searches"])  # USA: not reported, not 0
    assert math.isnan(table.loc[2, "listings_blocked"])
    assert "reduction" not in table  # no progress given


def test_country_table_in_chinese_uses_chinese_names():
    table = cr.breakdown_table(
        "country", ACTIONS, DETECTION, countries=COUNTRIES, name_column="name_zh"
    )
    assert table["country"].tolist()[:3] == ["越南", "香港", "美国"]


def test_region_table_adds_progress_and_keeps_a_region_without_detections():
    actions = pd.DataFrame(
        {
            "group": ["Asia", "Americas", GLOBAL],
            "listings_removed": [12500.0, 40.0, 100.0],
            "listings_blocked": [3500.0, None, 300.0],
            "actions": [16000.0, 40.0, 400.0],
            "partners_reporting": [2, 1, 1],
            "platforms_reporting": [3, 1, 2],
        }
    )
    detection = DETECTION.assign(group=["Asia", "Oceania", GLOBAL])  # Oceania: no actions
    progress = pd.DataFrame(
        {
            "group": ["Asia", GLOBAL],
            "reduction": [0.5, 0.2],
            "progress": [0.625, 0.25],
            "status": ["on_track", "limited_progress"],
            "coverage_share": [0.9, 1.0],
            "platforms_in_panel": [3, 2],
            "current_period": ["2020-Q4", "2020-Q4"],
            "as_of": ["2020-12-31", "2020-12-31"],
        }
    )
    table = cr.breakdown_table("region", actions, detection, progress)
    assert table["region"].tolist() == ["Asia", "Americas", "Oceania", GLOBAL]
    assert table["actions"].tolist() == [16000, 40, 0, 400]
    assert table["status"].tolist()[0] == "on_track"
    assert pd.isna(table.loc[1, "status"])  # no baseline: shown as "—", not guessed
    shown, formats = cr.display_table(table)
    assert list(shown.columns) == [
        "Region", "Actions", "Share", "Per 1,000 searches", "Reduction", "Status",
        "Panel coverage", "Platforms", "Searches",
    ]  # fmt: skip
    assert shown["Status"].tolist() == [
        theme.status_label("on_track"),
        "—",
        "—",
        theme.status_label("limited_progress"),
    ]
    assert shown["Reduction"].tolist()[0] == pytest.approx(50.0)  # per cent
    assert formats["Actions"][0] == "%,d"  # thousands separators
    assert formats["Reduction"][0] == "%.1f%%"
    assert "baseline" in formats["Reduction"][1]


def test_breakdown_table_refuses_an_unknown_level():
    with pytest.raises(ValueError, match="Unknown level"):
        cr.breakdown_table("continent", ACTIONS, DETECTION)


def test_off_map_lists_global_rows_and_countries_too_small_to_draw():
    table = country_table()
    assert cr.off_map(table)["country"].tolist() == ["Hong Kong", GLOBAL]
    assert cr.off_map_text(table, "actions") == (
        "Not on the map: 400 actions (2.4%) in rows without a country (Global / unspecified); "
        "1,000 actions (6.1%) in 1 country or territory too small for this map (Hong Kong)."
    )
    # the detection map leaves out monitoring searches, not actions
    assert cr.off_map_text(table, "detection") == (
        "Not on the map: 1,000 monitoring searches (25.0%) in rows without a country "
        "(Global / unspecified); 1,000 monitoring searches (25.0%) in 1 country or territory "
        "too small for this map (Hong Kong)."
    )


def test_off_map_text_when_everything_is_on_the_map():
    table = country_table()
    assert cr.off_map_text(table[table["on_map"]], "actions") == "Every figure is on the map."


# --- the world map ---------------------------------------------------------------------------


def test_actions_map_colours_drawable_countries_by_iso3_on_a_log_scale():
    fig = cr.world_map_figure(country_table(), "actions", COUNTRIES)
    assert [trace.type for trace in fig.data] == ["choropleth", "choropleth"]
    grey, shown = fig.data
    assert shown.locationmode == grey.locationmode == "ISO-3"
    assert list(shown.locations) == ["VNM", "USA"]  # Hong Kong and global rows: not on it
    assert list(shown.z) == pytest.approx([math.log10(15000), math.log10(40)])
    assert (shown.zmin, shown.zmax) == (1, 5)
    assert list(shown.colorbar.ticktext) == ["10", "100", "1,000", "10,000", "100,000"]
    assert "log scale" in shown.colorbar.title.text
    assert shown.hovertemplate == "%{hovertext}<extra></extra>"
    assert shown.hovertext[0] == (
        "<b>Viet Nam</b> (VNM)<br>Actions: 15,000<br>Removed 12,000 · blocked 3,000<br>"
        "Share of all actions: 91.2%<br>Reported by 3 platforms"
    )
    assert "Removed 40 · blocked —" in shown.hovertext[1]  # not reported is not 0
    assert "Reported by 1 platform" in shown.hovertext[1]
    # every other drawable country is grey, and says why
    assert list(grey.locations) == ["CHN", "FRA"]
    assert set(c for _, c in grey.colorscale) == {cr.NO_DATA}
    assert grey.showscale is False
    assert grey.hovertext[0] == "<b>China</b> (CHN)<br>No records for these filters"


def test_detection_map_is_linear_from_zero_and_greys_countries_without_detections():
    fig = cr.world_map_figure(country_table(), "detection", COUNTRIES)
    grey, shown = fig.data
    assert list(shown.locations) == ["VNM"]
    assert list(shown.z) == [125.0]
    assert (shown.zmin, shown.zmax) == (0, 125)
    assert shown.colorbar.title.text == "Detected<br>per 1,000<br>searches"
    assert shown.hovertext[0] == (
        "<b>Viet Nam</b> (VNM)<br>Detected per 1,000 searches: 125.0<br>"
        "250 listings found in 2,000 searches<br>Reported by 3 platforms"
    )
    assert list(grey.locations) == ["CHN", "FRA", "USA"]
    usa = grey.hovertext[2]
    assert usa == "<b>United States</b> (USA)<br>Records, but no detections with search effort"


def test_map_needs_nothing_from_the_network_and_uses_a_colour_blind_safe_scale():
    fig = cr.world_map_figure(country_table(), "actions", COUNTRIES)
    geo = fig.layout.geo
    assert geo.projection.type == "natural earth"
    assert geo.showframe is False
    spec = fig.to_plotly_json()
    assert "mapbox" not in spec["layout"] and "map" not in spec["layout"]
    assert "http" not in fig.to_json()  # no tiles, no fonts, no images from elsewhere
    assert cr.TOPOJSON.name == "world_110m.json" and cr.TOPOJSON.exists()
    assert cr.TOPOJSON_URL.endswith("app/static/topojson/")
    # one hue getting darker: lightness falls monotonically along the scale
    colours = [c for _, c in fig.data[1].colorscale]

    def lightness(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert [lightness(c) for c in colours] == sorted((lightness(c) for c in colours), reverse=True)
    assert lightness(cr.NO_DATA) > lightness(colours[0])  # grey stays apart from the palest


def test_map_of_nothing_is_all_grey_with_a_message():
    empty = country_table().iloc[0:0]
    fig = cr.world_map_figure(empty, "actions", COUNTRIES)
    grey, shown = fig.data
    assert list(shown.locations) == [] and list(shown.z) == []
    assert list(grey.locations) == ["CHN", "FRA", "USA", "VNM"]
    assert fig.layout.annotations[0].text == "No country figures to map for these filters"


def test_map_refuses_an_unknown_measure():
    with pytest.raises(ValueError, match="Unknown measure"):
        cr.world_map_figure(country_table(), "prevalence", COUNTRIES)


# --- regions as bars -------------------------------------------------------------------------

REGIONS = pd.DataFrame(
    {
        "region": ["Asia", "Americas", GLOBAL],
        "listings_removed": [12500.0, 40.0, 100.0],
        "listings_blocked": [3500.0, None, 300.0],
        "actions": [16000.0, 40.0, 400.0],
        "actions_share": [16000 / 16440, 40 / 16440, 400 / 16440],
        "listings_detected": [280.0, 50.0, 10.0],
        "search_effort": [3000.0, 200.0, 1000.0],
        "detected_per_1000_searches": [280 / 3, 250.0, 10.0],
    }
)


def test_actions_bars_stack_removed_and_blocked_largest_on_top_global_last_and_hatched():
    fig = cr.area_figure(REGIONS, "actions", "region")
    assert fig.layout.barmode == "stack"
    # plotly lists categories bottom-up: the global row at the bottom, Asia on top
    assert list(fig.layout.yaxis.categoryarray) == [GLOBAL, "Americas", "Asia"]
    traces = by_name(fig)
    removed = traces["Listings removed"]
    assert removed.orientation == "h"
    assert list(removed.y) == ["Americas", "Asia"] and list(removed.x) == [40, 12500]
    assert removed.marker.color == theme.REMOVED
    assert traces["Listings blocked"].marker.color == theme.BLOCKED
    hatched = traces[f"Listings blocked · {GLOBAL}"]
    assert list(hatched.y) == [GLOBAL] and hatched.marker.pattern.shape == "/"
    assert hatched.showlegend is False
    assert removed.hovertext[1] == (
        "<b>Asia</b><br>Listings removed: 12,500<br>Actions: 16,000 (97.3% of all)"
    )
    assert fig.layout.xaxis.title.text == "Actions (listings removed + blocked)"
    assert fig.layout.yaxis.title.text == "Region"


def test_detection_bars_sort_by_rate_with_a_line_at_the_overall_rate():
    fig = cr.area_figure(REGIONS, "detection", "region")
    assert list(fig.layout.yaxis.categoryarray) == [GLOBAL, "Asia", "Americas"]
    bars = by_name(fig)["Detected per 1,000 searches"]
    assert list(bars.x) == pytest.approx([280 / 3, 250.0])
    assert bars.hovertext[1] == (
        "<b>Americas</b><br>Detected per 1,000 searches: 250.0<br>50 listings found in 200 searches"
    )
    (line,) = fig.layout.shapes
    assert line.x0 == line.x1 == pytest.approx(1000 * 340 / 4200)
    assert fig.layout.annotations[0].text == "All: 81.0"
    assert fig.layout.xaxis.title.text == "Listings found per 1,000 monitoring searches"


def test_subregion_bars_name_their_axis():
    table = REGIONS.rename(columns={"region": "subregion"})
    fig = cr.area_figure(table, "actions", "subregion")
    assert fig.layout.yaxis.title.text == "Subregion"


# --- the page's texts, built here so that the page only draws them ----------------------------


def test_headline_text_uses_the_filters_range_else_the_data_months():
    import datetime as dt

    import metrics

    regions = pd.DataFrame({"as_of": [pd.NaT, pd.Timestamp("2024-06-30")]})
    target = metrics.Target("Coalition 2025", 0.8, dt.date(2025, 12, 31))
    data_range = cr.headline_text(metrics.Filters(), "2019-02", "2024-05", regions, target)
    assert "**2019-Q1 to 2024-Q2**" in data_range and "(Coalition 2025)" in data_range
    chosen = metrics.Filters(period_from="2020-Q1", period_to="2021-Q4")
    assert "**2020-Q1 to 2021-Q4**" in cr.headline_text(chosen, "2019-02", "2024-05", regions, None)
    assert "(—)" in cr.headline_text(chosen, "2019-02", "2024-05", regions, None)


def test_reduction_help_names_the_quarter_or_a_dash():
    assert "2024-Q2" in cr.reduction_help("2024-Q2")
    assert "rate in — ÷" in cr.reduction_help(None)
    assert "rate in — ÷" in cr.reduction_help(float("nan"))
