"""The tables and figures of the Species page (coalition.charts_species), without Streamlit or a
database: hand-made metric frames in, table rows and figure contents checked."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

import metrics
from coalition import charts, theme
from coalition import charts_species as cs
from coalition.reference import GLOBAL

TARGET = metrics.Target("80% by end of 2020", 0.8, dt.date(2020, 12, 31))

# store.species_groups, in its sort order (a part of the real list, enough to see the order)
SPECIES = pd.DataFrame(
    [
        ("elephants", "Elephants (ivory)", "大象（象牙）", "I / II"),
        ("rhinoceroses", "Rhinoceroses (horn)", "犀牛（犀牛角）", "I / II"),
        ("pangolins", "Pangolins", "穿山甲", "I"),
        ("sharks_rays", "Sharks and rays", "鲨鱼及鳐鱼", "II"),
        ("other", "Other / unspecified", "其他/未指明", "various"),
    ],
    columns=["slug", "name_en", "name_zh", "cites_appendix"],
)
REFERENCE = cs.species_reference(SPECIES)
COLOURS = dict(zip(REFERENCE["group"], REFERENCE["colour"], strict=True))


def progress_rows(rows: list[tuple]) -> pd.DataFrame:
    """Rows of metrics.progress: (group, reduction, status, coverage, units, baseline units)."""
    frame = pd.DataFrame(
        rows,
        columns=["group", "reduction", "status", "coverage_share", "units_in_panel",
                 "units_with_baseline"],
    )  # fmt: skip
    return frame.assign(
        current_period="2020-Q4",
        progress=frame["reduction"] / 0.8,
        platforms_in_panel=frame["units_in_panel"],
        cumulative_actions=[1000 * (i + 1) for i in range(len(frame))],
    )


PROGRESS = progress_rows(
    [
        ("pangolins", 0.3, "limited_progress", 0.9, 3, 4),
        ("elephants", 0.85, "achieved", 0.75, 2, 3),
        ("sharks_rays", math.nan, "insufficient_data", math.nan, 0, 2),
        ("rhinoceroses", -0.1, "deterioration", 1.0, 1, 1),
    ]
)
TOTALS = pd.DataFrame(
    {"group": ["elephants", "pangolins", "rhinoceroses", "sharks_rays"],
     "actions": [500, 250, 125, 0]}
)  # fmt: skip


def by_name(fig) -> dict:
    return {trace.name: trace for trace in fig.data}


# --- names, CITES appendix, colours ------------------------------------------------------------


def test_species_label_names_the_cites_appendix():
    assert cs.species_label("Pangolins", "I") == "Pangolins (App. I)"
    assert cs.species_label("Elephants (ivory)", "I / II") == "Elephants (ivory) (App. I / II)"
    assert cs.species_label("Other / unspecified", "various") == (
        "Other / unspecified (various appendices)"
    )
    assert cs.species_label("Saiga", None) == "Saiga"
    assert cs.species_label("Saiga", math.nan) == "Saiga"


def test_reference_keeps_the_sort_order_and_colours_every_group():
    assert list(REFERENCE.columns) == cs.REFERENCE_COLUMNS
    assert list(REFERENCE["group"]) == list(SPECIES["slug"])
    assert REFERENCE["label"].tolist()[2] == "Pangolins (App. I)"
    assert theme.category_colors(list(SPECIES["slug"])) == COLOURS
    assert len(set(COLOURS.values())) == len(COLOURS)


def test_reference_in_chinese_takes_the_chinese_names():
    chinese = cs.species_reference(SPECIES, "name_zh")
    assert chinese["name"].tolist()[2] == "穿山甲"
    assert chinese["label"].tolist()[2] == "穿山甲 (App. I)"
    assert chinese["colour"].tolist() == REFERENCE["colour"].tolist()  # colours do not move


# --- reduction per group -----------------------------------------------------------------------


def test_reduction_table_best_first_without_panel_last():
    table = cs.species_reduction_table(PROGRESS, REFERENCE, TOTALS)
    assert list(table.columns) == cs.SPECIES_REDUCTION_COLUMNS
    assert table["group"].tolist() == ["elephants", "pangolins", "rhinoceroses", "sharks_rays"]
    assert table["label"].tolist()[0] == "Elephants (ivory) (App. I / II)"
    assert table["name"].tolist()[0] == "Elephants (ivory)"
    assert table["cites_appendix"].tolist() == ["I / II", "I", "I / II", "II"]
    assert table["status_label"].tolist() == [
        "✔ Target achieved",
        "▼ Limited progress",
        "✖ Deterioration",
        "○ Insufficient data",
    ]
    assert table["actions_in_range"].tolist() == [500, 250, 125, 0]


def test_reduction_figure_a_trace_per_status_with_symbol_and_the_target_line():
    table = cs.species_reduction_table(PROGRESS, REFERENCE, TOTALS)
    fig = cs.reduction_figure(table, TARGET, category_title="Species group")
    traces = by_name(fig)
    assert [t.name for t in fig.data if t.showlegend is not False] == [
        "✔ Target achieved",
        "▼ Limited progress",
        "✖ Deterioration",
        "○ Insufficient data",
    ]
    achieved = traces["✔ Target achieved"]
    assert list(achieved.y) == ["Elephants (ivory) (App. I / II)"]
    assert list(achieved.x) == pytest.approx([0.85])
    assert achieved.marker.symbol == theme.status_style("achieved").marker
    assert achieved.marker.color == theme.status_style("achieved").colour
    assert list(achieved.text) == ["85.0%"]
    # no matched panel: an open circle at zero, no number
    missing = traces["○ Insufficient data"]
    assert list(missing.x) == [0] and list(missing.text) == ["—"]
    assert missing.marker.symbol == "circle-open"
    assert "No matched panel in 2020-Q4" in missing.hovertext[0]
    # hover: exact values, coverage and units
    hover = traces["▼ Limited progress"].hovertext[0]
    assert "Reduction vs baseline: 30.0%" in hover
    assert "Progress to target: 37.5%" in hover
    assert "Coverage: 90% of baseline volume" in hover
    assert "Units in panel: 3 of 4 with a baseline (3 platforms)" in hover
    assert "Cumulative actions: 1,000" in hover
    # the target: a dotted line at 80%, named in the legend
    (line,) = [s for s in fig.layout.shapes if s.showlegend]
    assert line.x0 == line.x1 == pytest.approx(0.8)
    assert line.name == "Target: 80% reduction by 2020-12-31"
    assert line.line.dash == "dot"
    # rows top to bottom as in the table; a negative reduction stays in view
    assert list(fig.layout.yaxis.categoryarray) == table["label"].tolist()
    assert fig.layout.yaxis.range == (3.5, -0.5)
    assert fig.layout.xaxis.range[0] < -0.1
    assert fig.layout.xaxis.tickformat == ".0%"
    assert "%" in fig.layout.xaxis.title.text


def test_reduction_figure_for_platforms_uses_their_names():
    rows = progress_rows([("Shop", 0.5, "on_track", 1.0, 1, 1)])
    table = cs.reduction_table(rows, {})
    assert table["label"].tolist() == ["Shop"]
    fig = cs.reduction_figure(table, TARGET, category_title="Platform")
    assert list(by_name(fig)["▲ On track"].y) == ["Shop"]
    assert fig.layout.yaxis.title.text == "Platform"


def test_reduction_figure_without_rows_says_so():
    empty = cs.reduction_table(PROGRESS.iloc[0:0], {})
    fig = cs.reduction_figure(empty, TARGET, category_title="Species group")
    assert fig.layout.annotations[0].text == "No groups for these filters"


# --- actions per quarter -----------------------------------------------------------------------

ACTIONS = pd.DataFrame(
    [
        ("pangolins", "2019-Q4", 10, 5, 15),
        ("pangolins", "2020-Q2", 20, 10, 30),
        ("elephants", "2019-Q4", 100, 50, 150),
        ("elephants", "2020-Q1", 1200, 34, 1234),
        ("elephants", "2020-Q2", 80, 40, 120),
    ],
    columns=["group", "period", "listings_removed", "listings_blocked", "actions"],
).assign(partners_reporting=1, platforms_reporting=1)


def test_actions_table_in_reference_order():
    table = cs.actions_by_group_table(ACTIONS, REFERENCE)
    assert list(table.columns) == cs.ACTIONS_COLUMNS
    assert table["group"].tolist() == ["elephants"] * 3 + ["pangolins"] * 2
    assert table["period"].tolist()[:3] == ["2019-Q4", "2020-Q1", "2020-Q2"]


def test_actions_area_stacks_groups_in_their_colours_with_the_total():
    fig = cs.actions_area_figure(cs.actions_by_group_table(ACTIONS, REFERENCE), COLOURS)
    traces = by_name(fig)
    elephants, pangolins = traces["Elephants (ivory) (App. I / II)"], traces["Pangolins (App. I)"]
    assert elephants.stackgroup == pangolins.stackgroup == "actions"
    assert elephants.fillcolor == COLOURS["elephants"]
    assert pangolins.line.color == COLOURS["pangolins"]
    assert list(elephants.x) == ["2019-Q4", "2020-Q1", "2020-Q2"]
    assert list(elephants.y) == [150, 1234, 120]
    # pangolins sent nothing for 2020-Q1: it adds nothing to the stack and says so
    assert list(pangolins.y) == [15, 0, 30]
    assert pangolins.hovertext[1] == "Pangolins (App. I): none reported"
    assert elephants.hovertext[1] == "Elephants (ivory) (App. I / II): 1,234"
    total = traces["All species groups shown"]
    assert total.stackgroup is None
    assert list(total.y) == [165, 1234, 150]
    assert fig.layout.hovermode == "x unified"
    assert fig.layout.yaxis.title.text == "Listings removed + blocked per quarter"
    assert fig.layout.xaxis.title.text == "Quarter"


def test_colours_do_not_depend_on_which_groups_are_shown():
    only_pangolins = ACTIONS[ACTIONS["group"] == "pangolins"]
    fig = cs.actions_area_figure(cs.actions_by_group_table(only_pangolins, REFERENCE), COLOURS)
    assert by_name(fig)["Pangolins (App. I)"].fillcolor == COLOURS["pangolins"]
    assert COLOURS["pangolins"] != theme.CATEGORY_PALETTE[0]


def test_actions_area_without_rows_says_so():
    empty = cs.actions_by_group_table(ACTIONS.iloc[0:0], REFERENCE)
    fig = cs.actions_area_figure(empty, COLOURS)
    assert fig.layout.annotations[0].text == "No actions reported for these filters"


# --- detection rate heatmap --------------------------------------------------------------------

DETECTION = pd.DataFrame(
    [
        ("pangolins", "2020-Q1", 30, 1000, 0.03, 30.0, None),
        ("pangolins", "2020-Q2", 25, 1000, 0.025, 25.0, None),
        ("elephants", "2020-Q1", 1234, 2000, 0.617, 617.0, 7),
        ("elephants", "2020-Q3", None, None, None, None, 40),  # detections without a sweep size
    ],
    columns=["group", "period", "listings_detected", "search_effort", "detection_rate",
             "detected_per_1000_searches", "detected_without_effort"],
)  # fmt: skip


def test_detection_heatmap_cells_are_the_rates_per_1000_searches():
    table = cs.detection_table(DETECTION, REFERENCE)
    assert list(table.columns) == cs.DETECTION_COLUMNS
    fig = cs.detection_heatmap_figure(table)
    (heat,) = fig.data
    assert list(heat.y) == ["Elephants (ivory) (App. I / II)", "Pangolins (App. I)"]
    assert list(heat.x) == ["2020-Q1", "2020-Q2", "2020-Q3"]
    z = pd.DataFrame(heat.z)
    assert z.iloc[0].tolist()[0] == 617.0 and math.isnan(z.iloc[0, 1]) and math.isnan(z.iloc[0, 2])
    assert z.iloc[1].tolist()[:2] == [30.0, 25.0]
    assert heat.hovertext[0][0] == (
        "<b>Elephants (ivory) (App. I / II)</b> · 2020-Q1<br>"
        "Detected per 1,000 searches: 617.0<br>"
        "1,234 listings detected in 2,000 searches<br>"
        "Detected without a reported sweep size: 7"
    )
    assert "No monitoring searches reported" in heat.hovertext[0][2]
    assert heat.hovertext[1][2] == ""  # no row at all: no hover
    assert heat.colorscale is not None and heat.zmin == 0
    assert fig.layout.yaxis.range == (1.5, -0.5)  # the first group at the top


def test_detection_heatmap_keeps_room_for_its_colour_bar_with_few_groups():
    """With two groups a height by rows alone (200 px) squashed the colour bar until its tick
    labels ran into each other; up to the number of groups whose rows fill more, the heatmap
    keeps HEATMAP_MIN_HEIGHT."""
    two = cs.detection_heatmap_figure(cs.detection_table(DETECTION, REFERENCE))
    assert len(two.data[0].y) == 2
    assert two.layout.height == cs.HEATMAP_MIN_HEIGHT == 320
    every = pd.DataFrame(
        [(group, "2020-Q1", 10, 100, 0.1, 100.0, None) for group in REFERENCE["group"]],
        columns=DETECTION.columns,
    )
    fig = cs.detection_heatmap_figure(cs.detection_table(every, REFERENCE))
    assert len(fig.data[0].y) == len(REFERENCE) == 5
    assert fig.layout.height == cs.HEATMAP_MIN_HEIGHT


def test_detection_heatmap_without_any_rate_says_so():
    table = cs.detection_table(DETECTION.iloc[3:], REFERENCE)
    fig = cs.detection_heatmap_figure(table)
    assert fig.layout.annotations[0].text == "No monitoring searches reported for these filters"


# --- ranked actions: platforms and countries ---------------------------------------------------


def totals(rows: list[tuple[str, int, int]], index_from: int = 0) -> pd.DataFrame:
    """Rows of metrics.actions(grain=None): (group, removed, blocked)."""
    frame = pd.DataFrame(rows, columns=["group", "listings_removed", "listings_blocked"])
    frame.index = range(index_from, index_from + len(frame))  # as a filtered frame comes
    return frame.assign(
        period="total",
        actions=frame["listings_removed"] + frame["listings_blocked"],
        cumulative_actions=0,
        partners_reporting=1,
        platforms_reporting=1,
    )


COUNTRIES = pd.DataFrame(
    {
        "iso3": ["BRA", "CHN", "USA", "VNM"],
        "name_en": ["Brazil", "China", "United States of America", "Viet Nam"],
        "name_zh": ["巴西", "中国", "美国", "越南"],
    }
)


def test_ranked_table_keeps_the_top_and_sums_the_rest():
    frame = totals(
        [("VNM", 600, 400), ("USA", 100, 50), (GLOBAL, 200, 100), ("BRA", 20, 5), ("CHN", 1, 2),
         ("ZZZ", 0, 0)],
        index_from=3,
    )  # fmt: skip
    table = cs.country_actions_table(frame, COUNTRIES, top=2)
    assert list(table.columns) == ["iso3", *cs.RANKED_COLUMNS]
    assert table["iso3"].tolist() == ["VNM", "", ""]
    assert table["name"].tolist() == ["Viet Nam", "Global / unspecified", "3 other countries"]
    assert table["actions"].tolist() == [1000, 300, 178]
    assert table["listings_removed"].tolist() == [600, 200, 121]
    assert table["is_rest"].tolist() == [False, False, True]
    assert table["share_of_actions"].sum() == pytest.approx(1)
    assert table["share_of_actions"].iloc[0] == pytest.approx(1000 / 1478)
    assert pd.isna(table["platforms_reporting"].iloc[2])  # distinct counts are not summed


def test_ranked_table_without_a_rest_and_in_chinese():
    table = cs.country_actions_table(totals([("CHN", 3, 4)]), COUNTRIES, "name_zh", top=5)
    assert table["name"].tolist() == ["中国"] and not table["is_rest"].any()
    nothing = cs.country_actions_table(totals([("CHN", 0, 0)]), COUNTRIES, top=5)
    assert nothing.empty and list(nothing.columns) == ["iso3", *cs.RANKED_COLUMNS]


def test_ranked_figure_largest_on_top_rest_grey_colours_by_key():
    frame = totals([("Shop", 10, 10), ("Feed", 30, 0), ("Web", 1, 0), ("Chat", 1, 1)])
    table = cs.platform_actions_table(frame, top=2)
    assert table["name"].tolist() == ["Feed", "Shop", "2 other platforms"]
    colours = {"Feed": "#111111", "Shop": "#222222"}
    fig = cs.ranked_actions_figure(table, key="platform", colours=colours, category_title="Pl")
    (bars,) = fig.data
    assert list(bars.y) == ["Feed", "Shop", "2 other platforms"]
    assert list(bars.x) == [30, 20, 3]
    assert list(bars.marker.color) == ["#111111", "#222222", cs.REST]
    assert list(bars.text) == ["30", "20", "3"]
    assert "Actions: 30 (56.6% of the group's)" in bars.hovertext[0]
    assert "Listings removed: 30" in bars.hovertext[0]
    assert fig.layout.yaxis.range == (2.5, -0.5)
    assert fig.layout.xaxis.tickformat == ",~f"
    one_colour = cs.ranked_actions_figure(table, key="platform", colour="#333333",
                                          category_title="Pl")  # fmt: skip
    assert list(one_colour.data[0].marker.color) == ["#333333", "#333333", cs.REST]


def test_ranked_figure_without_rows_says_so():
    table = cs.platform_actions_table(totals([("Shop", 0, 0)]), top=3)
    fig = cs.ranked_actions_figure(table, key="platform", category_title="Platform")
    assert fig.layout.annotations[0].text == "No actions reported for these filters"


# --- what the page shows as tables -------------------------------------------------------------


def test_summary_display_writes_figures_as_the_charts_do():
    table = cs.species_reduction_table(PROGRESS, REFERENCE, TOTALS)
    shown = cs.species_summary_display(table)
    first = shown.iloc[0].tolist()
    assert first == ["Elephants (ivory)", "I / II", "85.0%", "106.2%", "✔ Target achieved",
                     "75%", "2 of 3", "500", "2,000"]  # fmt: skip
    last = shown.iloc[-1].tolist()
    assert last[2:6] == ["—", "—", "○ Insufficient data", "—"]


def test_ranked_display_counts_and_shares():
    table = cs.country_actions_table(totals([("VNM", 1200, 34), (GLOBAL, 1, 0)]), COUNTRIES, top=5)
    shown = cs.ranked_display(table, key="iso3", key_title="ISO3", name_title="Country")
    assert shown.values.tolist() == [
        ["VNM", "Viet Nam", "1,234", "99.9%", "1,200", "34"],
        ["—", "Global / unspecified", "1", "0.1%", "1", "0"],
    ]


def test_figures_serialise_for_the_browser():
    """Streamlit sends a figure as JSON: every figure here must survive that."""
    import plotly.io as pio

    table = cs.species_reduction_table(PROGRESS, REFERENCE, TOTALS)
    for fig in (
        cs.reduction_figure(table, TARGET, category_title="Species group"),
        cs.actions_area_figure(cs.actions_by_group_table(ACTIONS, REFERENCE), COLOURS),
        cs.detection_heatmap_figure(cs.detection_table(DETECTION, REFERENCE)),
    ):
        assert pio.from_json(fig.to_json()).layout.template.layout.font.family == theme.FONT
    assert charts.quarter_range("2019-Q4", "2020-Q2") == ["2019-Q4", "2020-Q1", "2020-Q2"]


# --- the page's texts and sizes, built here so that the page only draws them -----------------


def test_reduction_caption_names_the_quarter_or_a_dash():
    assert "2024-Q2" in cs.reduction_caption("2024-Q2")
    assert "detection rate in — ÷" in cs.reduction_caption(None)


def test_table_height_fits_every_row_and_the_header():
    assert cs.table_height(pd.DataFrame({"a": range(3)})) == 35 * 4 + 3
    assert cs.table_height(pd.DataFrame({"a": []})) == 35 + 3
