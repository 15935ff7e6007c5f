"""The figure builders of coalition.charts and the theme, without Streamlit or a database:
hand-made metric frames in, figure contents checked."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pandas as pd
import plotly.io as pio
import pytest

import metrics
from coalition import charts, theme

TARGET = metrics.Target("80% by end of 2020", 0.8, dt.date(2020, 12, 31))


def series(rows: list[tuple[str, float, float, int]]) -> pd.DataFrame:
    """Rows of metrics.reduction_series: (period, rate_index, coverage_share, platforms)."""
    frame = pd.DataFrame(rows, columns=["period", "rate_index", "coverage_share", "platforms"])
    return frame.assign(
        group="All",
        reduction=1 - frame["rate_index"],
        platforms_in_panel=frame["platforms"],
        units_in_panel=frame["platforms"],
    )


def path(rows: list[tuple[str, float, float, float, bool]]) -> pd.DataFrame:
    """Rows of metrics.projection: (period, fitted, low, high, is_projection)."""
    return pd.DataFrame(
        rows, columns=["period", "fitted_index", "index_low", "index_high", "is_projection"]
    ).assign(group="All")


SERIES = series(
    [
        ("2019-Q1", 0.90, 0.40, 2),  # coverage below 50%: shown, not in the trend
        ("2019-Q2", 0.80, 1.00, 3),
        ("2019-Q3", 0.70, 1.00, 3),
        ("2019-Q4", 0.65, 1.00, 3),
        ("2020-Q1", 0.60, 0.75, 1),
    ]
)
PATH = path(
    [
        ("2019-Q2", 0.80, 0.75, 0.85, False),
        ("2019-Q3", 0.72, 0.68, 0.76, False),
        ("2019-Q4", 0.66, 0.62, 0.70, False),
        ("2020-Q1", 0.60, 0.55, 0.65, False),
        ("2020-Q2", 0.55, 0.49, 0.61, True),
        ("2020-Q3", 0.50, 0.43, 0.57, True),
        ("2020-Q4", 0.46, 0.38, 0.54, True),
    ]
)


def by_name(fig) -> dict:
    return {trace.name: trace for trace in fig.data}


# --- detection-rate index ---------------------------------------------------------------------


def test_index_table_joins_observed_and_fitted_quarters():
    table = charts.index_table(SERIES, PATH, TARGET)
    assert list(table.columns) == charts.INDEX_TABLE_COLUMNS
    assert list(table["period"]) == charts.quarter_range("2019-Q1", "2020-Q4")
    assert table["index"].tolist()[:5] == pytest.approx([90, 80, 70, 65, 60])
    assert table["index"].isna().tolist()[5:] == [True, True, True]
    assert table["in_trend"].tolist()[:5] == [False, True, True, True, True]
    assert table["target_index"].tolist() == pytest.approx([20] * 8)


def test_index_figure_traces_target_line_and_points():
    fig = charts.detection_index_figure(charts.index_table(SERIES, PATH, TARGET), TARGET)
    traces = by_name(fig)
    assert [t.name for t in fig.data if t.showlegend is not False] == [
        "95% band of the trend",
        "Fitted trend",
        "Projection",
        "Detection-rate index",
        "Target: 80% reduction (index 20)",
    ]
    observed = traces["Detection-rate index"]
    assert list(observed.x) == ["2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4", "2020-Q1"]
    assert list(observed.y) == pytest.approx([90, 80, 70, 65, 60])
    assert list(observed.marker.symbol) == ["circle-open"] + ["circle"] * 4
    target = traces["Target: 80% reduction (index 20)"]
    assert list(target.y) == pytest.approx([20] * len(target.y))
    # the target line spans the axis: first quarter of data to one past the deadline
    assert list(target.x) == list(fig.layout.xaxis.categoryarray)
    assert list(fig.layout.xaxis.categoryarray) == charts.quarter_range("2019-Q1", "2021-Q1")
    # the projection joins the fitted trend at the last quarter with data
    assert list(traces["Fitted trend"].x) == ["2019-Q2", "2019-Q3", "2019-Q4", "2020-Q1"]
    assert list(traces["Projection"].x) == ["2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4"]
    assert traces["Projection"].line.dash == "dash"
    assert fig.layout.xaxis.title.text == "Quarter"
    assert fig.layout.yaxis.title.text == "Detection-rate index (baseline = 100)"


def test_index_figure_marks_the_deadline_at_the_end_of_its_quarter():
    fig = charts.detection_index_figure(charts.index_table(SERIES, PATH, TARGET), TARGET)
    quarters = list(fig.layout.xaxis.categoryarray)
    (deadline,) = [s for s in fig.layout.shapes if s.x0 == s.x1 and s.yref == "paper"]
    assert deadline.x0 == quarters.index("2020-Q4") + 0.5
    assert any(a.text == "Deadline 2020-12-31" for a in fig.layout.annotations)


def test_index_hover_gives_exact_values_and_coverage():
    fig = charts.detection_index_figure(charts.index_table(SERIES, PATH, TARGET), TARGET)
    observed = by_name(fig)["Detection-rate index"]
    assert observed.hovertemplate == "%{hovertext}<extra></extra>"
    assert observed.hovertext[0] == (
        "<b>2019-Q1</b><br>Detection-rate index: 90.0 (baseline = 100)<br>"
        "Reduction vs baseline: 10.0%<br>"
        "Matched panel: 2 platforms, 40% of baseline volume<br>"
        "Not used for the trend: coverage below 50%"
    )
    assert "Matched panel: 1 platform, 75% of baseline volume" in observed.hovertext[4]
    projection = by_name(fig)["Projection"]
    assert projection.hovertext[-1] == (
        "<b>2020-Q4</b> · projection<br>Index: 46.0 (95% band 38.0–54.0)<br>"
        "Reduction vs baseline: 54.0%"
    )


def test_index_figure_without_trend_shows_observed_and_target_only():
    table = charts.index_table(SERIES, PATH.iloc[0:0], TARGET)
    names = [t.name for t in charts.detection_index_figure(table, TARGET).data]
    assert names == ["Detection-rate index", "Target: 80% reduction (index 20)"]


# --- actions and coverage ---------------------------------------------------------------------

ACTIONS = pd.DataFrame(
    {
        "group": "All",
        "period": ["2019-Q1", "2019-Q2", "2019-Q4"],
        "listings_removed": [1200.0, 2500.0, None],
        "listings_blocked": [300.0, 12345.0, 10.0],
        "actions": [1500.0, 14845.0, 10.0],
        "cumulative_actions": [1500.0, 16345.0, 16355.0],
    }
)


def test_actions_figure_stacks_removed_and_blocked_with_cumulative_on_second_axis():
    fig = charts.actions_figure(ACTIONS)
    traces = by_name(fig)
    assert list(traces) == [
        "Listings removed",
        "Listings blocked",
        "Cumulative actions (removed + blocked)",
    ]
    assert fig.layout.barmode == "stack"
    assert traces["Cumulative actions (removed + blocked)"].yaxis == "y2"
    assert list(traces["Listings blocked"].y) == [300, 12345, 10]
    # a quarter without data keeps its place on the axis
    assert list(fig.layout.xaxis.categoryarray) == ["2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4"]
    assert fig.layout.yaxis.title.text == "Listings per quarter"
    assert fig.layout.yaxis2.title.text == "Cumulative actions (listings)"


def test_actions_hover_has_thousands_separators_and_blank_for_not_reported():
    traces = by_name(charts.actions_figure(ACTIONS))
    assert traces["Listings blocked"].hovertext[1] == "<b>2019-Q2</b><br>Listings blocked: 12,345"
    assert traces["Listings removed"].hovertext[2] == "<b>2019-Q4</b><br>Listings removed: —"
    cumulative = traces["Cumulative actions (removed + blocked)"].hovertext[2]
    assert cumulative.endswith(": 16,355")


COVERAGE = pd.DataFrame(
    {
        "group": "All",
        "period": ["2020-Q3", "2020-Q4"],
        "partners_expected": [3, 3],
        "partners_reporting": [3, 2],
        "platforms_expected": [4, 4],
        "platforms_reporting": [4, 3],
        "partners_late": [1, 0],
        "partners_missing": [0, 1],
        "reporting_share": [1.0, 2 / 3],
    }
)


def test_coverage_figure_stacks_on_time_late_and_missing_up_to_expected():
    fig = charts.coverage_figure(COVERAGE)
    traces = by_name(fig)
    assert list(traces) == ["Reported on time", "Reported late", "Missing"]
    assert list(traces["Reported on time"].y) == [2, 2]
    assert list(traces["Reported late"].y) == [1, 0]
    assert list(traces["Missing"].y) == [0, 1]
    assert traces["Missing"].marker.pattern.shape == "/"  # missing is told by pattern too
    assert traces["Missing"].hovertext[1] == (
        "<b>2020-Q4</b><br>Missing: 1<br>Partners expected to report: 3"
    )
    assert fig.layout.yaxis.title.text == "Partners"


def test_coverage_without_expected_counts_has_no_missing_bars():
    by_species = COVERAGE.assign(partners_expected=pd.NA, partners_missing=pd.NA)
    assert [t.name for t in charts.coverage_figure(by_species).data] == [
        "Reported on time",
        "Reported late",
    ]


# --- empty input, theme, layering -------------------------------------------------------------


@pytest.mark.parametrize(
    "figure",
    [
        lambda: charts.detection_index_figure(
            charts.index_table(SERIES.iloc[0:0], PATH.iloc[0:0], TARGET), TARGET
        ),
        lambda: charts.actions_figure(ACTIONS.iloc[0:0]),
        lambda: charts.coverage_figure(COVERAGE.iloc[0:0]),
    ],
    ids=["index", "actions", "coverage"],
)
def test_empty_input_gives_a_figure_that_says_so(figure):
    fig = figure()
    assert len(fig.data) == 0
    assert fig.layout.annotations[0].text.startswith("No ")


def test_every_figure_uses_the_coalition_template():
    template = pio.templates[theme.TEMPLATE_NAME]
    for fig in (
        charts.detection_index_figure(charts.index_table(SERIES, PATH, TARGET), TARGET),
        charts.actions_figure(ACTIONS),
        charts.coverage_figure(COVERAGE),
    ):
        assert fig.layout.template == template
    assert list(template.layout.colorway) == list(theme.PALETTE)


def test_every_status_has_a_symbol_label_and_colour_of_its_own():
    assert set(theme.STATUS_STYLES) == set(metrics.STATUSES)
    looks = {(s.symbol, s.colour) for s in theme.STATUS_STYLES.values()}
    assert len(looks) == len(metrics.STATUSES)
    assert len({s.label for s in theme.STATUS_STYLES.values()}) == len(metrics.STATUSES)
    assert theme.status_label("on_track") == "▲ On track"
    assert theme.status_label("missed") == "✖ Target missed"
    assert theme.status_label("unheard-of") == "○ Insufficient data"


def test_long_ranges_label_each_years_first_quarter_only():
    quarters = charts.quarter_range("2018-Q1", "2024-Q3")
    long = ACTIONS.iloc[[0]].assign(period="2018-Q1")
    long = pd.concat([long, ACTIONS.iloc[[1]].assign(period="2024-Q3")])
    axis = charts.actions_figure(long).layout.xaxis
    assert list(axis.categoryarray) == quarters
    assert list(axis.tickvals) == [f"{year}-Q1" for year in range(2018, 2025)]
    assert list(charts.actions_figure(ACTIONS).layout.xaxis.tickvals) == list(
        charts.quarter_range("2019-Q1", "2019-Q4")
    )


def test_quarter_helpers():
    assert charts.quarter_range("2019-Q3", "2020-Q2") == [
        "2019-Q3",
        "2019-Q4",
        "2020-Q1",
        "2020-Q2",
    ]
    assert charts.quarter_range("2020-Q2", "2020-Q1") == []
    assert charts.next_quarter("2019-Q4") == "2020-Q1"


def test_charts_do_not_import_streamlit():
    code = "import sys, coalition.charts; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_headline_text_names_the_date_and_the_target():
    target = metrics.Target("Coalition 2025", 0.8, dt.date(2025, 12, 31))
    text = charts.headline_text(dt.date(2024, 6, 30), target)
    assert text == (
        "**As of 2024-06-30** · target: 80% reduction of the detection rate by 2025-12-31 "
        "(Coalition 2025)"
    )
