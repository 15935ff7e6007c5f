"""The app and its Overview page, run by Streamlit's AppTest on the sample database.

The headline must show exactly what ``metrics.progress`` computes for the same filters (the
function behind ``coalition progress``); the tests compute it beside the app and compare.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

import metrics
from coalition import theme
from coalition.db import Database, DatabaseBusy
from coalition.i18n import format_count, format_percent
from coalition.ui import data

BANNER = "Synthetic demo data — not real coalition figures"
NOTHING = "No records match these filters"


def headline(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_headline(db: Database, filters: metrics.Filters, target=None) -> dict[str, str]:
    with db.read() as cur:
        row = metrics.progress(cur, filters, target=target).iloc[0]
        latest = metrics.reporting_coverage(cur, filters).iloc[-1]
    return {
        "Reduction vs baseline": format_percent(row.reduction),
        "Progress to target": format_percent(row.progress),
        "Projected reduction": format_percent(row.projected_reduction_at_deadline),
        "Cumulative actions": format_count(row.cumulative_actions),
        "Partners reporting": (
            f"{latest.partners_reporting}"
            if pd.isna(latest.partners_expected)  # not known under a species or region filter
            else f"{latest.partners_reporting} of {latest.partners_expected}"
        ),
    }


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(str(p) for p in parts)


def test_overview_runs_and_draws_headline_and_three_charts(app, sample):
    at = app(sample).run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert len(at.metric) == 5
    assert len(at.get("plotly_chart")) == 3
    assert [b.label for b in at.download_button] == ["Download the table (CSV)"] * 3
    assert not at.info


def test_headline_equals_metrics_progress(app, sample):
    at = app(sample).run()
    assert headline(at) == expected_headline(sample, metrics.Filters())
    # worked out from sample_db.py: 3 of 4 platforms matched in 2020-Q4 (SocialCo is missing)
    assert headline(at) == {
        "Reduction vs baseline": "46.5%",
        "Progress to target": "58.2%",
        "Projected reduction": "49.8%",
        "Cumulative actions": "58,800",
        "Partners reporting": "2 of 3",
    }
    shown = texts(at)
    assert "**As of 2020-12-31**" in shown
    assert "Matched panel: 3 platforms, 73% of baseline volume" in shown
    with sample.read() as cur:
        status = metrics.progress(cur).iloc[0].status
    assert theme.status_label(status) in shown  # symbol and label, besides the colour
    assert "In 2020-Q4; 0 reported late" in shown


@pytest.mark.parametrize("is_synthetic", [False, True])
def test_synthetic_banner_iff_meta_synthetic(app, sample, is_synthetic, request):
    db = request.getfixturevalue("synthetic") if is_synthetic else sample
    at = app(db).run()
    assert not at.exception
    assert (BANNER in [w.value for w in at.warning]) is is_synthetic


def test_missing_database_says_how_to_create_it(app, tmp_path):
    path = tmp_path / "nowhere" / "coalition.duckdb"
    at = app(path).run()
    assert not at.exception
    assert "There is no tracker database" in at.error[0].value
    assert "coalition init" in texts(at) and "coalition demo" in texts(at)
    assert not at.metric
    assert not path.exists()  # looking must not create it


def test_database_without_schema_says_how_to_create_it(app, tmp_path):
    path = tmp_path / "blank.duckdb"
    duckdb.connect(str(path)).close()
    at = app(path).run()
    assert not at.exception
    assert "coalition init" in texts(at)


def test_file_that_is_not_a_database_says_so(app, tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("not a database\n" * 1000)
    at = app(path).run()
    assert not at.exception
    assert "is not a tracker database" in at.error[0].value


def test_busy_database_says_so(app, sample, monkeypatch):
    # another process holds the file, as a long command-line load would
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(60)", str(sample.path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(data, "RETRY_SECONDS", 0.3)
        at = app(sample).run()
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception
    assert "The database is busy" in at.warning[0].value


def test_database_busy_in_the_middle_of_a_run_says_so(app, sample, monkeypatch):
    def busy(*args, **kwargs):
        raise DatabaseBusy("held by another process")

    monkeypatch.setattr(data, "progress", busy)
    at = app(sample).run()
    assert not at.exception
    assert "The database is busy" in at.warning[0].value


def test_database_without_records_shows_empty_state(app, empty):
    at = app(empty).run()
    assert not at.exception
    assert NOTHING in at.info[0].value
    assert "No data yet." in [c.value for c in at.sidebar.caption]
    assert not at.metric and not at.get("plotly_chart")


def test_filter_that_leaves_nothing_shows_empty_state(app, sample):
    at = app(sample).run()
    at.multiselect(key="filter_species").set_value(["corals"]).run()
    assert not at.exception
    assert NOTHING in at.info[0].value
    assert not at.metric and not at.get("plotly_chart")


def test_no_baseline_yet_shows_insufficient_data_and_chart_empty_states(app, sample):
    # SearchCo joined in 2019-Q2; its four baseline quarters end in 2020-Q1
    at = app(sample).run()
    at.multiselect(key="filter_partners").set_value(["searchco"])
    at.select_slider(key="filter_period").set_value(("2018-Q1", "2019-Q4")).run()
    assert not at.exception
    assert headline(at)["Reduction vs baseline"] == "—"
    assert "○ Insufficient data" in texts(at)
    assert "No detection figures for these filters" in at.info[0].value
    assert len(at.get("plotly_chart")) == 2  # actions and coverage still drawn


@pytest.mark.parametrize(
    ("key", "value", "filters"),
    [
        ("filter_sectors", ["e-commerce"], metrics.Filters(sectors=("e-commerce",))),
        ("filter_species", ["pangolins"], metrics.Filters(species_groups=("pangolins",))),
        ("filter_regions", ["Asia"], metrics.Filters(regions=("Asia",))),
        ("filter_platforms", ["MarketCo Shop"], metrics.Filters(platforms=("MarketCo Shop",))),
        ("filter_period", ("2018-Q1", "2019-Q4"), metrics.Filters(period_to="2019-Q4")),
        (
            "filter_period",
            ("2019-Q2", "2020-Q2"),
            metrics.Filters(period_from="2019-Q2", period_to="2020-Q2"),
        ),
    ],
    ids=["sector", "species", "region", "platform", "period-to", "period-range"],
)
def test_filters_change_the_numbers_as_the_metrics_say(app, sample, key, value, filters):
    at = app(sample).run()
    unfiltered = headline(at)
    widget = at.select_slider(key=key) if key == "filter_period" else at.multiselect(key=key)
    widget.set_value(value).run()
    assert not at.exception
    assert headline(at) == expected_headline(sample, filters)
    assert headline(at) != unfiltered


def test_species_filter_reports_partners_without_an_expected_count(app, sample):
    at = app(sample).run()
    at.multiselect(key="filter_species").set_value(["elephants"]).run()
    assert headline(at)["Partners reporting"] == "2"
    assert "Who was expected to report a species group or a region is not known." in texts(at)


def test_period_range_sets_the_as_of_date(app, sample):
    at = app(sample).run()
    at.select_slider(key="filter_period").set_value(("2018-Q1", "2019-Q4")).run()
    assert "**As of 2019-12-31**" in texts(at)


def test_reset_filters_restores_the_unfiltered_headline(app, sample):
    at = app(sample).run()
    unfiltered = headline(at)
    at.multiselect(key="filter_species").set_value(["pangolins"]).run()
    at.sidebar.button[0].click().run()
    assert at.multiselect(key="filter_species").value == []
    assert headline(at) == unfiltered


def test_choosing_another_target_measures_against_it(app, sample):
    with sample.write() as cur:
        cur.execute(
            "INSERT INTO targets (name, reduction, deadline) VALUES ('50% by end of 2021', 0.5, "
            "DATE '2021-12-31')"
        )
    at = app(sample).run()
    at.selectbox(key="filter_target").set_value("50% by end of 2021").run()
    assert not at.exception
    target = metrics.Target("50% by end of 2021", 0.5, dt.date(2021, 12, 31))
    assert headline(at) == expected_headline(sample, metrics.Filters(), target)
    assert headline(at)["Progress to target"] == "93.1%"  # 46.5% of a 50% target
    assert "▲ On track" in texts(at)


def test_headline_matches_the_command_line(app, sample):
    """What `coalition progress --json` prints is what the Overview shows."""
    import json

    from click.testing import CliRunner

    from coalition.cli import cli

    at = app(sample).run()
    shown = headline(at)
    result = CliRunner().invoke(cli, ["progress", "--json", "--db", str(sample.path)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert shown["Reduction vs baseline"] == format_percent(printed["reduction"])
    assert shown["Progress to target"] == format_percent(printed["progress"])
    assert shown["Projected reduction"] == format_percent(
        printed["projected_reduction_at_deadline"]
    )
    assert shown["Cumulative actions"] == format_count(printed["cumulative_actions"])
    assert f"{printed['coverage']:.0%} of baseline volume" in texts(at)
    assert theme.status_label(printed["status"]) in texts(at)
