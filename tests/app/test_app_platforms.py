"""The Platforms page, run by Streamlit's AppTest on the sample database (``sample_db.py``).

The table must show exactly what ``metrics.progress(by="platform")`` computes for the same
filters (what ``coalition progress --by platform`` prints), and the drill-down what
``metrics.progress`` computes for the one platform; the tests compute both beside the app.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import metrics
from coalition import charts_platforms, theme
from coalition.i18n import format_count, format_percent

NOTHING = "No records match these filters"
PAGE = "views/platforms.py"
CHARTS = 5  # reduction by platform, index small multiples, proactive share; drill-down: 2


def open_page(app, db):
    at = app(db).run()
    return at.switch_page(PAGE).run()


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(str(p) for p in parts)


def shown_table(at) -> pd.DataFrame:
    """The page's table, with its percentages back as fractions, one row per platform."""
    frame = at.dataframe[0].value.set_index("platform").sort_index()
    for column in charts_platforms.PERCENT_COLUMNS:
        frame[column] = frame[column] / 100
    return frame


def expected_table(db, filters: metrics.Filters, target=None) -> pd.DataFrame:
    with db.read() as cur:
        frame = metrics.progress(cur, filters, by="platform", target=target)
    return frame.set_index("group").sort_index()


def assert_table_is_metrics_progress(at, db, filters: metrics.Filters, target=None) -> None:
    shown, expected = shown_table(at), expected_table(db, filters, target)
    assert list(shown.index) == list(expected.index)
    assert list(shown["status"]) == list(expected["status"])
    assert list(shown["status_label"]) == [theme.status_label(s) for s in expected["status"]]
    for column in (
        "reduction",
        "progress",
        "pace_ratio",
        "coverage_share",
        "projected_reduction_at_deadline",
    ):
        assert shown[column].tolist() == pytest.approx(
            expected[column].astype(float).tolist(), nan_ok=True
        ), column
    assert shown["units_in_panel"].tolist() == expected["units_in_panel"].tolist()
    assert shown["cumulative_actions"].tolist() == expected["cumulative_actions"].tolist()
    assert set(shown["current_period"]) == set(expected["current_period"])


def test_platforms_page_default(app, sample):
    at = open_page(app, sample)
    assert not at.exception
    assert at.title[0].value == "Platforms"
    assert len(at.get("plotly_chart")) == CHARTS
    assert [b.label for b in at.download_button] == ["Download the table (CSV)"] * (CHARTS + 1)
    assert len(at.dataframe) == 1
    shown = texts(at)
    assert "**As of 2020-12-31** · 4 platforms" in shown
    # the range ends at the deadline: judged against the target, not by pace
    assert "✖ Target missed</span>&nbsp;**3**" in shown
    assert "○ Insufficient data</span>&nbsp;**1**" in shown
    assert "for 1 platform: SocialCo Feed" in shown  # no figure in 2020-Q4: it sent nothing
    assert "more with a baseline are not shown" not in shown  # 4 platforms: all drawn
    assert not at.info


def test_table_equals_metrics_progress_by_platform(app, sample):
    at = open_page(app, sample)
    assert_table_is_metrics_progress(at, sample, metrics.Filters())
    shown = shown_table(at)
    # worked out from sample_db.py: 1 − 0.461 (MarketCo Resale's index in 2020-Q4)
    assert shown.loc["MarketCo Resale", "reduction"] == pytest.approx(0.538889, abs=1e-6)
    assert shown.loc["MarketCo Resale", "partner"] == "MarketCo"
    assert shown.loc["SocialCo Feed", "sector"] == "Social media"
    with sample.read() as cur:
        share = metrics.proactive_share(cur, by="platform", grain=None).set_index("group")
    assert shown["proactive_share"].tolist() == pytest.approx(
        share.loc[shown.index, "proactive_share"].tolist()
    )


@pytest.mark.parametrize(
    ("key", "value", "filters"),
    [
        ("filter_sectors", ["e-commerce"], metrics.Filters(sectors=("e-commerce",))),
        ("filter_species", ["pangolins"], metrics.Filters(species_groups=("pangolins",))),
        ("filter_regions", ["Asia"], metrics.Filters(regions=("Asia",))),
    ],
    ids=["sector", "species", "region"],
)
def test_filters_change_the_table_as_the_metrics_say(app, sample, key, value, filters):
    at = open_page(app, sample)
    unfiltered = shown_table(at)
    at.multiselect(key=key).set_value(value).run()
    assert not at.exception
    assert_table_is_metrics_progress(at, sample, filters)
    assert not shown_table(at)["reduction"].equals(unfiltered["reduction"])
    assert len(at.get("plotly_chart")) == CHARTS


def test_sector_filter_keeps_only_its_platforms(app, sample):
    at = open_page(app, sample)
    at.multiselect(key="filter_sectors").set_value(["e-commerce"]).run()
    assert list(shown_table(at).index) == ["MarketCo Resale", "MarketCo Shop"]
    assert at.selectbox(key="platform_detail").options == ["MarketCo Resale", "MarketCo Shop"]


def test_range_ending_before_the_deadline_judges_by_pace(app, sample):
    at = open_page(app, sample)
    at.select_slider(key="filter_period").set_value(("2018-Q1", "2020-Q2")).run()
    assert not at.exception
    filters = metrics.Filters(period_to="2020-Q2")
    assert_table_is_metrics_progress(at, sample, filters)
    statuses = set(shown_table(at)["status"])
    assert statuses == {"limited_progress"}  # worked out: about half the pace needed
    assert "**As of 2020-06-30**" in texts(at)
    assert "▼ Limited progress</span>&nbsp;**4**" in texts(at)


def test_range_ending_after_the_baselines_of_all_but_one(app, sample):
    # SearchCo joined in 2019-Q2: as of 2019-Q4 its baseline is not complete
    at = open_page(app, sample)
    at.select_slider(key="filter_period").set_value(("2018-Q1", "2019-Q4")).run()
    assert not at.exception
    assert_table_is_metrics_progress(at, sample, metrics.Filters(period_to="2019-Q4"))
    assert shown_table(at).loc["SearchCo Web", "status_label"] == "○ Insufficient data"
    assert "for 1 platform: SearchCo Web" in texts(at)


def test_range_ending_at_the_deadline_judges_against_the_target(app, sample):
    at = open_page(app, sample)
    at.select_slider(key="filter_period").set_value(("2019-Q1", "2020-Q4")).run()
    assert not at.exception
    assert_table_is_metrics_progress(at, sample, metrics.Filters(period_from="2019-Q1"))
    assert set(shown_table(at)["status"]) == {"missed", "insufficient_data"}


def test_range_ending_after_the_deadline_judges_against_the_target(app, sample):
    with sample.write() as cur:
        cur.execute(
            "INSERT INTO targets (name, reduction, deadline) VALUES ('50% by mid 2020', 0.5, "
            "DATE '2020-06-30')"
        )
    at = open_page(app, sample)
    at.selectbox(key="filter_target").set_value("50% by mid 2020").run()
    assert not at.exception
    target = metrics.Target("50% by mid 2020", 0.5, dt.date(2020, 6, 30))
    assert_table_is_metrics_progress(at, sample, metrics.Filters(), target)
    # worked out: MarketCo's platforms fell by 54%, SearchCo Web by 26%
    assert shown_table(at)["status_label"].to_dict() == {
        "MarketCo Resale": "✔ Target achieved",
        "MarketCo Shop": "✔ Target achieved",
        "SearchCo Web": "✖ Target missed",
        "SocialCo Feed": "○ Insufficient data",
    }
    assert "target: 50% reduction of the detection rate by 2020-06-30" in texts(at)


def test_filter_that_leaves_nothing_shows_empty_state(app, sample):
    at = open_page(app, sample)
    at.multiselect(key="filter_species").set_value(["corals"]).run()
    assert not at.exception
    assert NOTHING in at.info[0].value
    assert not at.get("plotly_chart") and not at.dataframe and not at.metric


def test_no_baseline_yet_draws_empty_states_not_empty_charts(app, sample):
    at = open_page(app, sample)
    at.multiselect(key="filter_partners").set_value(["searchco"])
    at.select_slider(key="filter_period").set_value(("2018-Q1", "2019-Q4")).run()
    assert not at.exception
    infos = [i.value for i in at.info]
    assert "No platform has a reduction figure for these filters." in infos
    assert "No detection figures for these filters, so no reduction can be measured." in infos
    assert "No detection figures for this platform, so no reduction can be measured." in infos
    assert len(at.get("plotly_chart")) == 2  # proactive share and the platform's actions
    assert shown_table(at).loc["SearchCo Web", "status_label"] == "○ Insufficient data"


def test_drill_down_shows_the_platforms_own_headline(app, sample):
    at = open_page(app, sample)
    at.selectbox(key="platform_detail").set_value("SearchCo Web").run()
    assert not at.exception
    with sample.read() as cur:
        head = metrics.progress(cur, metrics.Filters(platforms=("SearchCo Web",))).iloc[0]
    assert {m.label: m.value for m in at.metric} == {
        "Reduction vs baseline": format_percent(head.reduction),
        "Progress to target": format_percent(head.progress),
        "Projected reduction": format_percent(head.projected_reduction_at_deadline),
        "Cumulative actions": format_count(head.cumulative_actions),
    }
    # the platform's own headline is its row of the table
    row = shown_table(at).loc["SearchCo Web"]
    assert format_percent(row.reduction) == format_percent(head.reduction)
    assert "Matched panel: 1 platform, 100% of baseline volume" in texts(at)
    assert theme.status_label(head.status) in texts(at)
    assert len(at.get("plotly_chart")) == CHARTS


def test_drill_down_follows_a_single_platform_filter_and_forgets_a_stale_choice(app, sample):
    at = open_page(app, sample)
    at.selectbox(key="platform_detail").set_value("SocialCo Feed").run()
    at.multiselect(key="filter_platforms").set_value(["MarketCo Resale"]).run()
    assert not at.exception
    assert at.selectbox(key="platform_detail").value == "MarketCo Resale"
    assert list(shown_table(at).index) == ["MarketCo Resale"]


def test_only_the_largest_platforms_get_a_panel_and_the_rest_are_counted(app, sample, monkeypatch):
    monkeypatch.setattr(charts_platforms, "MAX_PANELS", 2)
    at = open_page(app, sample)
    assert not at.exception
    shown = texts(at)
    # SearchCo Web has a baseline too (from 2020-Q2); SocialCo Feed and MarketCo Shop are larger
    assert "Showing the 2 platforms with the largest baseline volume; 2 more with a baseline" in (
        shown
    )


def test_a_link_with_the_platform_opens_its_drill_down(app, sample):
    at = app(sample).run()
    at.query_params["platform_detail"] = "SearchCo Web"  # …/platforms?platform_detail=SearchCo+Web
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="platform_detail").value == "SearchCo Web"
    with sample.read() as cur:
        head = metrics.progress(cur, metrics.Filters(platforms=("SearchCo Web",))).iloc[0]
    assert at.metric[0].value == format_percent(head.reduction)


@pytest.mark.parametrize("chosen", [None, "SearchCo Web"])
def test_asking_ahead_works_out_what_the_page_shows_once(asking_ahead, sample, chosen):
    # the proactive shares, and the drill-down of the platform shown
    state = {"platform_detail": chosen} if chosen else {}
    at = asking_ahead(sample, PAGE, **state)
    assert at.selectbox(key="platform_detail").value == (chosen or "MarketCo Shop")
