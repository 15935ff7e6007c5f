"""The Species page, run by Streamlit's AppTest on the sample database.

What the page draws must be what ``metrics`` computes for the same filters: the tests read the
figures Streamlit would send to the browser (their JSON) and the tables shown, and compare them
with the metric functions called beside the app on the same database.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import math

import duckdb
import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

import metrics
from coalition import store, theme
from coalition.db import Database
from coalition.i18n import format_count, format_percent
from coalition.ui import data

PAGE = "views/species.py"
DETAIL_KEY = "species_detail"
NOTHING = "No records match these filters"
CHARTS = [
    "species_reduction",
    "species_actions",
    "species_detection",
    "species_detail_reduction",
    "species_detail_platforms",
    "species_detail_countries",
]
# the sample's two groups, as the page labels them (name and CITES appendix)
ELEPHANTS = "Elephants (ivory) (App. I / II)"
PANGOLINS = "Pangolins (App. I)"
LABELS = {"elephants": ELEPHANTS, "pangolins": PANGOLINS}


def species_page(app, db: Database, **state):
    at = app(db)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def figures(at) -> dict[str, object]:
    """The figures on the page by their chart key, as the browser gets them."""
    out = {}
    for element in at.get("plotly_chart"):
        key = element.proto.id.rsplit("-chart_", 1)[1]
        out[key] = pio.from_json(element.proto.spec)
    return out


def values(array) -> list:
    """A figure array as plain values (Plotly sends numbers as base64 typed arrays)."""
    if isinstance(array, dict) and "bdata" in array:
        data = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
        if "shape" in array:
            data = data.reshape([int(n) for n in str(array["shape"]).split(",")])
        return data.tolist()
    return list(array)


def reduction_points(fig) -> dict[str, tuple[float, str]]:
    """label → (reduction drawn, legend name of its status) from a reduction figure."""
    points = {}
    for trace in fig.data:
        if trace.showlegend is False:
            continue
        for label, x, text in zip(values(trace.y), values(trace.x), trace.text, strict=True):
            points[label] = (math.nan if text == "—" else x, trace.name)
    return points


def expected_points(frame: pd.DataFrame, labels: dict[str, str]) -> dict[str, tuple]:
    return {
        labels.get(row.group, row.group): (
            math.nan if pd.isna(row.reduction) else row.reduction,
            theme.status_label(row.status),
        )
        for row in frame.itertuples()
    }


def same(points: dict, expected: dict) -> bool:
    if points.keys() != expected.keys():
        return False
    for key, (x, name) in points.items():
        ex, ename = expected[key]
        if name != ename or not (math.isnan(x) and math.isnan(ex) or x == pytest.approx(ex)):
            return False
    return True


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(str(p) for p in parts)


def assert_page_shows_the_metrics(at, db: Database, filters: metrics.Filters, group: str):
    """Every figure of the page equals the metrics for ``filters`` (and, in the drill-down,
    ``filters`` restricted to ``group``)."""
    only = dataclasses.replace(filters, species_groups=(group,))
    with db.read() as cur:
        progress = metrics.progress(cur, filters, by="species_group")
        per_quarter = metrics.actions(cur, filters, by="species_group")
        in_range = metrics.actions(cur, filters, by="species_group", grain=None)
        detection = metrics.detection_rate(cur, filters, by="species_group")
        platforms = metrics.progress(cur, only, by="platform")
        platform_actions = metrics.actions(cur, only, by="platform", grain=None)
        country_actions = metrics.actions(cur, only, by="country", grain=None)
    shown = figures(at)
    assert list(shown) == CHARTS

    # reduction per species group: each dot, its status, and the table beside it
    assert same(reduction_points(shown["species_reduction"]), expected_points(progress, LABELS))
    table = at.dataframe[0].value.set_index("Species group")
    names = {"elephants": "Elephants (ivory)", "pangolins": "Pangolins"}
    for row in progress.itertuples():
        line = table.loc[names[row.group]]
        assert line["Reduction"] == format_percent(row.reduction)
        assert line["Progress"] == format_percent(row.progress)
        assert line["Status"] == theme.status_label(row.status)
        assert line["Cumulative actions"] == format_count(row.cumulative_actions)
        total = in_range.loc[in_range["group"] == row.group, "actions"].iloc[0]
        assert line["Actions in range"] == format_count(total)

    # actions per quarter, stacked by group
    area = {t.name: t for t in shown["species_actions"].data}
    for group, rows in per_quarter.groupby("group"):
        trace = area[LABELS[group]]
        drawn = dict(zip(values(trace.x), values(trace.y), strict=True))
        assert {p: drawn[p] for p in rows["period"]} == dict(
            zip(rows["period"], rows["actions"].astype(float), strict=True)
        )

    # detection per 1,000 searches, group × quarter
    (heat,) = shown["species_detection"].data
    z = values(heat.z)
    for row in detection.itertuples():
        cell = z[values(heat.y).index(LABELS[row.group])][values(heat.x).index(row.period)]
        assert cell == pytest.approx(row.detected_per_1000_searches)

    # the drill-down: reduction and actions by platform, actions by country
    assert same(reduction_points(shown["species_detail_reduction"]), expected_points(platforms, {}))
    (bars,) = shown["species_detail_platforms"].data
    assert dict(zip(values(bars.y), values(bars.x), strict=True)) == dict(
        zip(platform_actions["group"], platform_actions["actions"].astype(float), strict=True)
    )
    countries = at.dataframe[1].value
    expected = country_actions[country_actions["actions"] > 0]
    assert sorted(countries["Actions"]) == sorted(expected["actions"].map(format_count))
    assert set(countries["ISO3"]) == {c if len(c) == 3 else "—" for c in expected["group"]}


def test_species_page_draws_reduction_actions_detection_and_drill_down(app, sample):
    at = species_page(app, sample)
    assert at.title[0].value == "Species groups"
    assert list(figures(at)) == CHARTS
    assert [b.label for b in at.download_button] == ["Download the table (CSV)"] * len(CHARTS)
    assert len(at.dataframe) == 2
    assert not at.info
    assert "**As of 2020-12-31**" in texts(at)
    detail = at.selectbox(key="species_detail")
    assert detail.options == [ELEPHANTS, PANGOLINS]  # reference order, with CITES appendix
    assert detail.value == "elephants"
    assert at.dataframe[0].value["CITES App."].tolist() == ["I / II", "I"]


def test_figures_equal_the_metrics(app, sample):
    at = species_page(app, sample)
    assert_page_shows_the_metrics(at, sample, metrics.Filters(), "elephants")
    # worked out from sample_db.py: elephants fall 12% a quarter, pangolins 4%
    points = reduction_points(figures(at)["species_reduction"])
    assert [format_percent(x) for x, _ in points.values()] == ["60.5%", "32.6%"]
    # the country table names the country from the reference table, with its ISO3 code
    countries = at.dataframe[1].value
    assert countries.set_index("ISO3")["Country / territory"].to_dict() == {
        "—": "Global / unspecified",
        "USA": "United States",
        "VNM": "Vietnam",
    }


@pytest.mark.parametrize(
    ("key", "value", "filters"),
    [
        ("filter_sectors", ["e-commerce"], metrics.Filters(sectors=("e-commerce",))),
        ("filter_regions", ["Asia"], metrics.Filters(regions=("Asia",))),
        ("filter_platforms", ["SearchCo Web"], metrics.Filters(platforms=("SearchCo Web",))),
        (
            "filter_period",
            ("2019-Q2", "2020-Q2"),
            metrics.Filters(period_from="2019-Q2", period_to="2020-Q2"),
        ),
    ],
    ids=["sector", "region", "platform", "period-range"],
)
def test_filters_change_the_figures_as_the_metrics_say(app, sample, key, value, filters):
    at = species_page(app, sample)
    unfiltered = reduction_points(figures(at)["species_reduction"])
    widget = at.select_slider(key=key) if key == "filter_period" else at.multiselect(key=key)
    widget.set_value(value).run()
    assert not at.exception
    assert_page_shows_the_metrics(at, sample, filters, "elephants")
    assert reduction_points(figures(at)["species_reduction"]) != unfiltered


def test_period_range_sets_the_as_of_date_and_judges_by_pace(app, sample):
    at = species_page(app, sample)
    at.select_slider(key="filter_period").set_value(("2018-Q1", "2020-Q2")).run()
    assert "**As of 2020-06-30**" in texts(at)
    with sample.read() as cur:
        statuses = metrics.progress(cur, metrics.Filters(period_to="2020-Q2"), by="species_group")
    # before the deadline the status comes from the pace, not "missed"
    assert "missed" not in set(statuses["status"])
    shown = at.dataframe[0].value["Status"].tolist()
    assert shown == [theme.status_label(s) for s in statuses.sort_values("reduction",
                     ascending=False)["status"]]  # fmt: skip


def test_species_filter_shows_only_those_groups(app, sample):
    at = species_page(app, sample)
    at.multiselect(key="filter_species").set_value(["pangolins"]).run()
    assert not at.exception
    shown = figures(at)
    assert list(reduction_points(shown["species_reduction"])) == [PANGOLINS]
    assert [t.name for t in shown["species_actions"].data] == [
        PANGOLINS,
        "All species groups shown",
    ]
    assert values(shown["species_detection"].data[0].y) == [PANGOLINS]
    assert at.dataframe[0].value["Species group"].tolist() == ["Pangolins"]
    assert at.selectbox(key="species_detail").options == [PANGOLINS]
    assert_page_shows_the_metrics(
        at, sample, metrics.Filters(species_groups=("pangolins",)), "pangolins"
    )


def test_a_group_keeps_its_colour_under_a_species_filter(app, sample):
    with sample.read() as cur:
        every_slug = list(store.species_groups(cur)["slug"])
    colours = theme.category_colors(every_slug)
    at = species_page(app, sample)
    before = {t.name: t.fillcolor for t in figures(at)["species_actions"].data if t.stackgroup}
    at.multiselect(key="filter_species").set_value(["pangolins"]).run()
    after = {t.name: t.fillcolor for t in figures(at)["species_actions"].data if t.stackgroup}
    assert before == {ELEPHANTS: colours["elephants"], PANGOLINS: colours["pangolins"]}
    assert after == {PANGOLINS: colours["pangolins"]}


def test_filter_that_leaves_nothing_shows_empty_state(app, sample):
    at = species_page(app, sample)
    at.multiselect(key="filter_species").set_value(["corals"]).run()
    assert not at.exception
    assert NOTHING in at.info[0].value
    assert not at.get("plotly_chart") and not at.dataframe
    assert not [s for s in at.selectbox if s.key != "language_switcher"]


def test_database_without_records_shows_empty_state(app, empty):
    at = species_page(app, empty)
    assert NOTHING in at.info[0].value
    assert not at.get("plotly_chart")


def test_drill_down_into_a_group_shows_its_platforms_and_countries(app, sample):
    at = species_page(app, sample)
    before = figures(at)
    at.selectbox(key="species_detail").set_value("pangolins").run()
    assert not at.exception
    assert_page_shows_the_metrics(at, sample, metrics.Filters(), "pangolins")
    after = figures(at)
    # the group charts stay; the platform reductions are the pangolins' own
    assert reduction_points(after["species_reduction"]) == reduction_points(
        before["species_reduction"]
    )
    assert reduction_points(after["species_detail_reduction"]) != reduction_points(
        before["species_detail_reduction"]
    )
    # the country bars take the group's colour
    with sample.read() as cur:
        colour = theme.category_colors(list(store.species_groups(cur)["slug"]))["pangolins"]
    assert set(values(after["species_detail_countries"].data[0].marker.color)) == {colour}


def test_drill_down_follows_a_filter_that_drops_the_chosen_group(app, sample):
    at = species_page(app, sample)
    at.selectbox(key="species_detail").set_value("pangolins").run()
    at.multiselect(key="filter_species").set_value(["elephants"]).run()
    assert not at.exception
    assert at.selectbox(key="species_detail").value == "elephants"
    assert_page_shows_the_metrics(
        at, sample, metrics.Filters(species_groups=("elephants",)), "elephants"
    )


def test_drill_down_of_a_group_a_platform_lacks_says_so(app, sample):
    # SearchCo has no baseline before 2020-Q2: its drill-down reduction is insufficient data
    at = species_page(app, sample)
    at.multiselect(key="filter_partners").set_value(["searchco"])
    at.select_slider(key="filter_period").set_value(("2018-Q1", "2019-Q4")).run()
    assert not at.exception
    points = reduction_points(figures(at)["species_detail_reduction"])
    assert points.keys() == {"SearchCo Web"}
    (x, status) = points["SearchCo Web"]
    assert math.isnan(x) and status == theme.status_label("insufficient_data")


def test_synthetic_banner_on_the_species_page(app, synthetic):
    at = species_page(app, synthetic)
    assert "Synthetic demo data — not real coalition figures" in [w.value for w in at.warning]


def test_chinese_names_come_from_the_database(app, sample):
    at = species_page(app, sample, language="zh_CN")
    assert at.selectbox(key="species_detail").options == [
        "大象（象牙）（附录 I / II）",
        "穿山甲（附录 I）",
    ]
    assert at.dataframe[0].value.iloc[:, 0].tolist() == ["大象（象牙）", "穿山甲"]


@pytest.mark.parametrize("chosen", [None, "pangolins"])
def test_asking_ahead_works_out_what_the_page_shows_once(asking_ahead, sample, chosen):
    # the figures drawn further down, the drill-down of the group shown among them
    state = {DETAIL_KEY: chosen} if chosen else {}
    at = asking_ahead(sample, PAGE, **state)
    assert at.selectbox(key=DETAIL_KEY).value == (chosen or "elephants")


def test_a_figure_asked_for_ahead_that_fails_is_reported_by_the_page_call(tmp_path, caplog):
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database" * 100)
    src = data.Source(str(broken), 1)
    observer = metrics.Filters(viewer=metrics.OBSERVER)  # no session needed for its viewer
    with caplog.at_level(logging.DEBUG, logger="coalition.ui.data"):
        data.ask_ahead(data.actions, src, observer, by="species_group")
        data.settle()
    assert "ahead failed" in caplog.text  # logged, not raised on a thread no one watches
    with pytest.raises(duckdb.Error):
        data.actions(src, observer, by="species_group")


def test_a_rerun_does_not_ask_again_for_what_it_asked_for(app, sample, monkeypatch):
    # a rerun (a click) finds every figure in the cache: asking ahead again would only read
    # the cache a second time, on another thread, while the page reads it too
    asked = []
    real = data._work_out
    monkeypatch.setattr(data, "_work_out", lambda *args: asked.append(args) or real(*args))
    at = species_page(app, sample)
    data.settle()
    first = len(asked)
    at.run()
    data.settle()
    assert first > 0 and len(asked) == first
    data.clear_caches()  # as new data would: asked for again
    at.run()
    data.settle()
    assert len(asked) == 2 * first
