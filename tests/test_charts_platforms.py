"""The builders of coalition.charts_platforms, without Streamlit or a database: hand-made
frames shaped like ``metrics`` output (by platform) in, figure and table contents checked."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

import metrics
from coalition import charts_platforms as cp
from coalition import theme

TARGET = metrics.Target("80% by end of 2020", 0.8, dt.date(2020, 12, 31))


def progress_rows(rows: list[tuple]) -> pd.DataFrame:
    """Rows of metrics.progress(by="platform"): (platform, reduction, pace_ratio, status)."""
    frame = pd.DataFrame(rows, columns=["group", "reduction", "pace_ratio", "status"])
    return frame.assign(
        as_of=dt.date(2020, 6, 30),
        current_period="2020-Q2",
        rate_index=1 - frame["reduction"],
        coverage_share=[1.0 if pd.notna(r) else 0.0 for r in frame["reduction"]],
        units_in_panel=[1 if pd.notna(r) else 0 for r in frame["reduction"]],
        platforms_in_panel=[1 if pd.notna(r) else 0 for r in frame["reduction"]],
        progress=frame["reduction"] / 0.8,
        projected_reduction_at_deadline=frame["reduction"] + 0.1,
        projected_target_date=None,
        cumulative_actions=[1234567, 890, 45, 0][: len(frame)],
    )


PROGRESS = progress_rows(
    [
        ("Alpha Shop", 0.40, 0.96, "on_track"),
        ("Beta Feed", -0.25, -0.30, "deterioration"),
        ("Gamma Search", None, None, "insufficient_data"),
        ("Delta Resale", 0.55, 0.70, "acceleration_needed"),
    ]
)
PLATFORMS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5],
        "name": ["Alpha Shop", "Beta Feed", "Delta Resale", "Gamma Search", "Omega Unused"],
        "partner": ["alpha", "beta", "alpha", "gamma", "omega"],
        "kind": ["marketplace", "social", "second-hand", "search", "other"],
        "sector": ["e-commerce", "social-media", "e-commerce", "search", "other"],
    }
)
PROACTIVE = pd.DataFrame(
    {
        "group": ["Alpha Shop", "Beta Feed", "Delta Resale"],
        "period": "total",
        "listings_blocked": [7500.0, 1000.0, 0.0],
        "listings_removed": [2500.0, 3000.0, 12345.0],
        "proactive_share": [0.75, 0.25, 0.0],
        "rows_used": [40, 12, 3],
    }
)
PARTNERS = {"alpha": "Alpha Inc.", "beta": "Beta Ltd", "gamma": "Gamma GmbH"}
SECTORS = {"e-commerce": "E-commerce", "social-media": "Social media", "search": "Search"}


def table() -> pd.DataFrame:
    return cp.platform_table(
        PROGRESS, PROACTIVE, PLATFORMS, partner_names=PARTNERS, sector_labels=SECTORS
    )


# --- the table of figures ---------------------------------------------------------------------


def test_platform_table_joins_partner_sector_and_proactive_share_best_status_first():
    frame = table()
    assert list(frame.columns) == cp.TABLE_COLUMNS
    # by status (on track before acceleration needed before deterioration), then reduction
    assert list(frame["platform"]) == ["Alpha Shop", "Delta Resale", "Beta Feed", "Gamma Search"]
    row = frame.set_index("platform").loc["Delta Resale"]
    assert (row.partner, row.sector) == ("Alpha Inc.", "E-commerce")
    assert row.status_label == "► Acceleration needed"
    assert row.reduction == pytest.approx(0.55)
    assert row.progress == pytest.approx(0.55 / 0.8)
    assert row.proactive_share == 0.0
    assert row.cumulative_actions == 0
    assert frame.set_index("platform").loc["Alpha Shop"].cumulative_actions == 1234567
    gamma = frame.set_index("platform").loc["Gamma Search"]
    assert gamma.status_label == "○ Insufficient data"
    assert math.isnan(gamma.proactive_share)  # no proactive figure: blank, not 0
    assert math.isnan(gamma.reduction)


def test_platform_table_of_nothing_is_empty_with_its_columns():
    frame = cp.platform_table(
        PROGRESS.iloc[0:0], PROACTIVE, PLATFORMS, partner_names={}, sector_labels={}
    )
    assert frame.empty and list(frame.columns) == cp.TABLE_COLUMNS


def test_status_counts_in_status_order():
    assert cp.status_counts(table()) == [
        ("on_track", 1),
        ("acceleration_needed", 1),
        ("deterioration", 1),
        ("insufficient_data", 1),
    ]


def test_platform_colors_do_not_depend_on_the_platforms_on_screen():
    everyone = cp.platform_colors(PLATFORMS["name"])
    assert everyone == theme.category_colors(sorted(PLATFORMS["name"]))
    assert cp.platform_colors(reversed(list(PLATFORMS["name"]))) == everyone
    assert len(set(everyone.values())) == len(everyone)


# --- reduction and status ---------------------------------------------------------------------


def by_name(fig) -> dict:
    return {trace.name: trace for trace in fig.data}


def test_reduction_figure_one_trace_per_status_with_symbol_in_legend_and_axis():
    fig = cp.reduction_figure(table(), TARGET)
    assert [trace.name for trace in fig.data] == [
        "▲ On track",
        "► Acceleration needed",
        "✖ Deterioration",
    ]
    on_track = by_name(fig)["▲ On track"]
    assert on_track.marker.color == theme.status_style("on_track").colour
    assert list(on_track.x) == pytest.approx([0.40])
    assert list(on_track.text) == ["40.0%"]
    # best at the top; a platform without a figure is not drawn
    assert list(fig.layout.yaxis.categoryarray) == ["Beta Feed", "Alpha Shop", "Delta Resale"]
    assert list(fig.layout.yaxis.ticktext) == ["► Delta Resale", "▲ Alpha Shop", "✖ Beta Feed"]
    (target,) = fig.layout.shapes
    assert (target.x0, target.x1) == (0.8, 0.8)
    assert any(a.text == "Target 80% (100% progress)" for a in fig.layout.annotations)
    assert fig.layout.xaxis.title.text == "Reduction of the detection rate vs baseline"
    assert fig.layout.xaxis.range[0] < -0.25  # the deterioration stays on the chart


def test_reduction_hover_gives_status_and_exact_values():
    fig = cp.reduction_figure(table(), TARGET)
    hover = by_name(fig)["✖ Deterioration"].hovertext[0]
    assert hover == (
        "<b>Beta Feed</b> · Beta Ltd<br>✖ Deterioration<br>"
        "Reduction vs baseline in 2020-Q2: -25.0%<br>"
        "Progress to target (80%): -31.2%<br>"
        "Pace of decline: -30% of the pace needed<br>"
        "Projected reduction at 2020-12-31: -15.0%<br>"
        "Coverage: 100% of baseline volume"
    )


def test_reduction_figure_without_figures_says_so():
    only_gamma = table()[lambda f: f["platform"] == "Gamma Search"]
    fig = cp.reduction_figure(only_gamma, TARGET)
    assert not fig.data
    assert fig.layout.annotations[0].text == (
        "No platform has a reduction figure for these filters"
    )


# --- the target path --------------------------------------------------------------------------

# decimal years, worked out by hand: 2018-08-16 is day 227 of 365, 2020-12-31 day 365 of 366
BASELINE_MIDPOINT = dt.date(2018, 8, 16)  # the midpoint of 2018-Q3
START = 2018 + 227 / 365
ALLOWED = 2020 + 365 / 366 - START


def test_target_path_falls_at_the_pace_needed_then_holds_the_target_level():
    quarters = ["2018-Q2", "2018-Q3", "2019-Q3", "2020-Q3", "2020-Q4", "2021-Q1"]
    path = cp.target_path(BASELINE_MIDPOINT, quarters, TARGET)
    assert math.isnan(path[0])  # before the baseline
    assert path[1] == pytest.approx(100)  # 100 at the baseline
    # 2019-08-16 and 2020-08-16 (day 228 of 366, the midpoint of 2020-Q3)
    assert path[2] == pytest.approx(100 * 0.2 ** ((2019 + 227 / 365 - START) / ALLOWED))
    assert path[2] == pytest.approx(50.8, abs=0.05)
    assert path[3] == pytest.approx(100 * 0.2 ** ((2020 + 228 / 366 - START) / ALLOWED))
    assert path[4:] == [pytest.approx(20), pytest.approx(20)]  # the deadline's quarter on


def test_an_index_on_the_target_path_has_a_pace_ratio_of_one():
    from metrics.progress import pace_ratio
    from metrics.projection import quarter_midpoint

    (on_path,) = cp.target_path(BASELINE_MIDPOINT, ["2019-Q4"], TARGET)
    ratio = pace_ratio(on_path / 100, BASELINE_MIDPOINT, quarter_midpoint("2019-Q4"), TARGET)
    assert ratio == pytest.approx(1)


def test_target_path_without_baseline_or_after_the_deadline_is_the_target_level():
    quarters = ["2021-Q1", "2021-Q2", "2021-Q3"]
    assert cp.target_path(None, quarters, TARGET) == pytest.approx([20, 20, 20])
    late = cp.target_path(dt.date(2021, 5, 16), quarters, TARGET)
    assert math.isnan(late[0]) and late[1:] == pytest.approx([20, 20])


# --- small multiples --------------------------------------------------------------------------


def series_rows(platform: str, volume: float, indices: dict[str, float | None]) -> pd.DataFrame:
    """Rows of metrics.reduction_series(by="platform") for one platform."""
    return pd.DataFrame(
        {
            "group": platform,
            "period": list(indices),
            "rate_index": [i if i is not None else float("nan") for i in indices.values()],
            "coverage_share": [1.0 if i is not None else 0.0 for i in indices.values()],
            "baseline_detected": volume,
            "baseline_midpoint": [
                pd.Timestamp(BASELINE_MIDPOINT) if i is not None else pd.NaT
                for i in indices.values()
            ],
        }
    )


SERIES = pd.concat(
    [
        series_rows("Alpha Shop", 3600, {"2019-Q3": 0.9, "2019-Q4": 0.7, "2020-Q1": 0.6}),
        series_rows("Beta Feed", 1440, {"2019-Q3": 1.1, "2019-Q4": None, "2020-Q1": 1.25}),
        series_rows("Delta Resale", 500, {"2020-Q1": 0.45}),
    ],
    ignore_index=True,
)
STATUSES = {"Alpha Shop": "on_track", "Beta Feed": "deterioration"}


def test_largest_platforms_by_baseline_volume():
    assert cp.largest_platforms(SERIES) == ["Alpha Shop", "Beta Feed", "Delta Resale"]
    assert cp.largest_platforms(SERIES, 2) == ["Alpha Shop", "Beta Feed"]
    assert cp.largest_platforms(SERIES.iloc[0:0]) == []


def test_trend_table_runs_every_quarter_to_the_deadline_with_gaps_and_path():
    frame = cp.trend_table(SERIES, STATUSES, TARGET, ["Alpha Shop", "Beta Feed"])
    assert list(frame.columns) == cp.TREND_COLUMNS
    quarters = ["2019-Q3", "2019-Q4", "2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4"]
    assert list(frame["period"]) == quarters * 2
    beta = frame[frame["platform"] == "Beta Feed"]
    assert beta["index"].tolist()[:3] == pytest.approx([110, float("nan"), 125], nan_ok=True)
    assert beta["index"].iloc[3:].isna().all()  # no figures after 2020-Q1
    assert set(beta["status"]) == {"deterioration"}
    assert beta["target_path"].tolist() == pytest.approx(
        cp.target_path(BASELINE_MIDPOINT, quarters, TARGET)
    )
    assert frame["baseline_detected"].tolist() == [3600] * 6 + [1440] * 6


def test_trend_figure_a_panel_per_platform_with_status_symbol_and_target_path():
    frame = cp.trend_table(SERIES, STATUSES, TARGET, ["Alpha Shop", "Beta Feed", "Delta Resale"])
    colours = cp.platform_colors(PLATFORMS["name"])
    fig = cp.trend_figure(frame, TARGET, colours)
    assert len(fig.data) == 6  # the target path and the index, in each of three panels
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["<b>▲ Alpha Shop</b>", "<b>✖ Beta Feed</b>", "<b>○ Delta Resale</b>"]
    paths = [trace for trace in fig.data if trace.legendgroup == "target"]
    assert [trace.showlegend for trace in paths] == [True, False, False]  # one legend entry
    assert paths[0].line.dash == "dash"
    assert list(paths[0].y)[-1] == pytest.approx(20)
    alpha = fig.data[1]
    assert alpha.name == "Alpha Shop" and alpha.line.color == colours["Alpha Shop"]
    assert (alpha.xaxis, alpha.yaxis) == ("x", "y")
    assert (fig.data[3].xaxis, fig.data[3].yaxis) == ("x2", "y2")
    assert fig.layout.xaxis2.matches == "x" and fig.layout.yaxis2.matches == "y"
    assert list(alpha.y)[:3] == pytest.approx([90, 70, 60])
    assert fig.layout.yaxis.title.text == "Index (baseline = 100)"
    assert fig.layout.yaxis.range[1] == pytest.approx(125 * 1.05)


def test_trend_hover_gives_the_exact_index_path_and_status():
    frame = cp.trend_table(SERIES, STATUSES, TARGET, ["Alpha Shop"])
    fig = cp.trend_figure(frame, TARGET, {})
    path = round(cp.target_path(BASELINE_MIDPOINT, ["2019-Q4"], TARGET)[0], 1)
    assert fig.data[1].hovertext[1] == (
        "<b>Alpha Shop</b> · 2019-Q4<br>▲ On track<br>"
        "Detection-rate index: 70.0 (baseline = 100)<br>Reduction vs baseline: 30.0%<br>"
        f"Target path: {path:,.1f}<br>Baseline volume: 3,600 listings detected"
    )
    assert fig.data[0].hovertext[-1] == "<b>Alpha Shop</b> · 2020-Q4<br>Target level: index 20.0"


def test_trend_figure_of_nothing_says_so():
    empty = cp.trend_table(SERIES, STATUSES, TARGET, [])
    assert empty.empty and list(empty.columns) == cp.TREND_COLUMNS
    fig = cp.trend_figure(empty, TARGET, {})
    assert not fig.data
    assert fig.layout.annotations[0].text == "No detection figures for these filters"


# --- proactive share --------------------------------------------------------------------------


def test_proactive_figure_highest_first_with_counts_and_the_overall_line():
    fig = cp.proactive_figure(PROACTIVE, overall=0.5)
    (bars,) = fig.data
    assert list(bars.y) == ["Alpha Shop", "Beta Feed", "Delta Resale"]
    assert list(fig.layout.yaxis.categoryarray) == ["Delta Resale", "Beta Feed", "Alpha Shop"]
    assert list(bars.text) == ["75%", "25%", "0%"]
    assert bars.hovertext[2] == (
        "<b>Delta Resale</b><br>Proactive share: 0.0%<br>Listings blocked: 0<br>"
        "Listings removed: 12,345<br>Records with both counts: 3"
    )
    (overall,) = fig.layout.shapes
    assert overall.x0 == 0.5
    assert any(a.text == "All platforms: 50%" for a in fig.layout.annotations)


def test_proactive_figure_of_nothing_says_so():
    fig = cp.proactive_figure(PROACTIVE.iloc[0:0])
    assert not fig.data
    assert "No platform reported both" in fig.layout.annotations[0].text


# --- the page's texts, built here so that the page only draws them ----------------------------


def test_headline_text_names_the_date_the_count_and_the_target():
    target = metrics.Target("Coalition 2025", 0.8, dt.date(2025, 12, 31))
    one = cp.headline_text(1, dt.date(2024, 6, 30), target)
    many = cp.headline_text(12, dt.date(2024, 6, 30), target)
    assert "1 platform ·" in one and "12 platforms ·" in many
    assert "2024" in one and "80%" in one and "2025" in one


def test_without_figure_text_lists_the_platforms_and_the_quarter():
    text = cp.without_figure_text(["Alpha", "Beta"], "2024-Q2")
    assert "2 platforms: Alpha, Beta" in text and "2024-Q2" in text
    assert "for 1 platform: Alpha" in cp.without_figure_text(["Alpha"], None)
    assert "—" in cp.without_figure_text(["Alpha"], None)


def test_trends_caption_says_how_many_platforms_are_left_out_only_when_some_are():
    assert "Showing" not in cp.trends_caption(5, 0)
    text = cp.trends_caption(12, 3)
    assert "Showing the 12 platforms" in text and "3 more" in text
