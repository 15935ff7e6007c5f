"""The shared filter bar, run by Streamlit's AppTest on the sample database (see sample_db.py).

Its choices must come from a link, go back into the address when they change, and hold from
page to page. The Overview headline is compared with ``metrics.progress`` for the filters that
the link or the widgets name.

A real browser drops the query string when the user moves to another page (AppTest keeps it),
so the page-switch tests empty ``at.query_params`` before each switch, as the browser would.
"""

from __future__ import annotations

import datetime as dt

import pytest

import metrics
from coalition.db import Database
from coalition.i18n import format_count, format_percent

OVERVIEW = "views/overview.py"
PAGES_WITH_FILTERS = ("views/platforms.py", "views/species.py", "views/regions.py")
# the sample's data run from 2018-Q1 to 2020-Q4
LINK = {
    "from": "2019-Q1",
    "to": "2020-Q2",
    "sector": "e-commerce",
    "species": "elephants,pangolins",
    "region": "Asia",
}
LINKED = metrics.Filters(
    period_from="2019-Q1",
    period_to="2020-Q2",
    sectors=("e-commerce",),
    species_groups=("elephants", "pangolins"),
    regions=("Asia",),
)
LEFT_OUT = "Left out of the link"


def headline(at) -> dict[str, str]:
    shown = {m.label: m.value for m in at.metric}
    return {
        k: shown[k] for k in ("Reduction vs baseline", "Progress to target", "Cumulative actions")
    }


def expected(db: Database, filters: metrics.Filters, target=None) -> dict[str, str]:
    with db.read() as cur:
        row = metrics.progress(cur, filters, target=target).iloc[0]
    return {
        "Reduction vs baseline": format_percent(row.reduction),
        "Progress to target": format_percent(row.progress),
        "Cumulative actions": format_count(row.cumulative_actions),
    }


def choices(at) -> dict[str, object]:
    """What the filter bar's widgets show."""
    return {
        "period": at.select_slider(key="filter_period").value,
        **{
            name: at.multiselect(key=f"filter_{name}").value
            for name in ("sectors", "partners", "platforms", "species", "regions")
        },
    }


def address(at) -> dict[str, list[str]]:
    """The query string as lists, whether a parameter came once or repeated."""
    return {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()}


def open_link(app, db, params: dict) -> object:
    at = app(db)
    at.query_params.update(params)
    return at.run()


def test_unfiltered_view_has_a_clean_address(app, sample):
    at = app(sample).run()
    assert not at.exception
    assert at.query_params == {}


def test_a_link_sets_the_filters_and_the_headline_follows(app, sample):
    at = open_link(app, sample, LINK)
    assert not at.exception
    assert choices(at) == {
        "period": ("2019-Q1", "2020-Q2"),
        "sectors": ["e-commerce"],
        "partners": [],
        "platforms": [],
        "species": ["elephants", "pangolins"],
        "regions": ["Asia"],
    }
    assert headline(at) == expected(sample, LINKED)
    assert headline(at) != expected(sample, metrics.Filters())
    assert not at.toast
    # rewritten in the app's own spelling: lists as repeated keys
    assert address(at) == {
        "from": ["2019-Q1"],
        "to": ["2020-Q2"],
        "sector": ["e-commerce"],
        "species": ["elephants", "pangolins"],
        "region": ["Asia"],
    }


def test_repeated_keys_commas_case_and_spellings_read_alike(app, sample):
    at = open_link(
        app,
        sample,
        {"from": "2019Q1", "to": "Q2 2020", "sector": "E-Commerce",
         "species": ["pangolins", "Elephants"], "region": "asia"},
    )  # fmt: skip
    assert not at.exception and not at.toast
    assert headline(at) == expected(sample, LINKED)


def test_a_link_can_choose_partner_platform_and_target(app, sample):
    with sample.write() as cur:
        cur.execute(
            "INSERT INTO targets (name, reduction, deadline) VALUES ('50% by end of 2021', 0.5, "
            "DATE '2021-12-31')"
        )
    target = metrics.Target("50% by end of 2021", 0.5, dt.date(2021, 12, 31))
    at = open_link(
        app,
        sample,
        {"partner": "marketco", "platform": "MarketCo Shop", "target": target.name},
    )
    assert not at.exception and not at.toast
    assert at.selectbox(key="filter_target").value == target.name
    filters = metrics.Filters(partners=("marketco",), platforms=("MarketCo Shop",))
    assert headline(at) == expected(sample, filters, target)
    assert address(at)["target"] == [target.name]


@pytest.mark.parametrize(
    ("params", "left_out"),
    [
        ({"species": "dragons"}, "species=dragons"),
        ({"from": "2030-Q1"}, "from=2030-Q1"),
        ({"to": "2015-Q4"}, "to=2015-Q4"),
        ({"from": "2020-Q3", "to": "2019-Q1"}, "from=2020-Q3, to=2019-Q1"),
        ({"to": "2019-07"}, "to=2019-07"),
        ({"from": "'; DROP TABLE records; --"}, "from='; DROP TABLE records; --"),
        ({"region": "Atlantis", "partner": "%00"}, "partner=%00, region=Atlantis"),
        ({"target": "100% by yesterday"}, "target=100% by yesterday"),
        ({"platform": "x" * 5000}, "platform=" + "x" * 5000),
    ],
    ids=["species", "from-late", "to-early", "reversed", "month", "sql", "two", "target", "long"],
)
def test_invalid_values_in_a_link_are_left_out_and_said(app, sample, params, left_out):
    at = open_link(app, sample, {**params, "platform_detail": "SocialCo Feed"})
    assert not at.exception
    assert headline(at) == expected(sample, metrics.Filters())
    assert [t.value for t in at.toast] == [
        f"{LEFT_OUT}, as the data offers no such choice: {left_out}"
    ]
    # the address keeps only what was used, and what is not the filter bar's
    assert address(at) == {"platform_detail": ["SocialCo Feed"]}


def test_valid_values_of_a_link_are_kept_beside_invalid_ones(app, sample):
    at = open_link(app, sample, {"species": "pangolins,dragons", "to": "2019-Q4", "from": "nope"})
    assert not at.exception
    assert headline(at) == expected(
        sample, metrics.Filters(species_groups=("pangolins",), period_to="2019-Q4")
    )
    assert address(at) == {"species": ["pangolins"], "to": ["2019-Q4"]}
    assert "from=nope, species=dragons" in at.toast[0].value


@pytest.mark.parametrize(
    ("key", "value", "written"),
    [
        ("filter_species", ["pangolins", "elephants"], {"species": ["elephants", "pangolins"]}),
        ("filter_sectors", ["social-media"], {"sector": ["social-media"]}),
        ("filter_partners", ["searchco"], {"partner": ["searchco"]}),
        ("filter_platforms", ["MarketCo Shop"], {"platform": ["MarketCo Shop"]}),
        ("filter_regions", ["Americas"], {"region": ["Americas"]}),
        ("filter_period", ("2018-Q1", "2019-Q4"), {"to": ["2019-Q4"]}),
        ("filter_period", ("2019-Q2", "2020-Q4"), {"from": ["2019-Q2"]}),
    ],
)
def test_changing_a_filter_writes_the_address(app, sample, key, value, written):
    at = open_link(app, sample, {"platform_detail": "SocialCo Feed"})
    widget = at.select_slider(key=key) if key == "filter_period" else at.multiselect(key=key)
    widget.set_value(value).run()
    assert not at.exception
    assert address(at) == {"platform_detail": ["SocialCo Feed"], **written}
    # and back: the whole range, or nothing chosen, leaves no trace
    widget.set_value(("2018-Q1", "2020-Q4") if key == "filter_period" else []).run()
    assert address(at) == {"platform_detail": ["SocialCo Feed"]}


def test_the_written_address_opens_the_same_view(app, sample):
    at = app(sample).run()
    at.multiselect(key="filter_species").set_value(["elephants"])
    at.multiselect(key="filter_regions").set_value(["Asia"])
    at.select_slider(key="filter_period").set_value(("2018-Q3", "2020-Q1")).run()
    shown, link = headline(at), dict(at.query_params)
    again = open_link(app, sample, link)  # a new session: the link shared with a colleague
    assert not again.exception and not again.toast
    assert headline(again) == shown
    assert choices(again) == choices(at)


def _switch(at, page: str):
    at.query_params.clear()  # as the browser does on a page switch
    return at.switch_page(page).run()


def test_filters_hold_from_page_to_page_and_return_to_the_address(app, sample):
    at = app(sample).run()
    at.multiselect(key="filter_species").set_value(["pangolins"])
    at.multiselect(key="filter_sectors").set_value(["e-commerce"])
    at.select_slider(key="filter_period").set_value(("2019-Q1", "2020-Q2")).run()
    chosen, link = choices(at), address(at)
    for page in (*PAGES_WITH_FILTERS, OVERVIEW):
        _switch(at, page)
        assert not at.exception, page
        if at.sidebar.multiselect:  # a page still being built may have no filter bar yet
            assert choices(at) == chosen, page
            assert address(at) == link, page
    filters = metrics.Filters(
        period_from="2019-Q1",
        period_to="2020-Q2",
        sectors=("e-commerce",),
        species_groups=("pangolins",),
    )
    assert headline(at) == expected(sample, filters)


def test_a_filter_changed_on_another_page_holds_on_the_overview(app, sample):
    at = open_link(app, sample, {"species": "elephants"})
    _switch(at, PAGES_WITH_FILTERS[0])
    at.multiselect(key="filter_regions").set_value(["Asia"]).run()
    assert address(at) == {"species": ["elephants"], "region": ["Asia"]}
    _switch(at, OVERVIEW)
    assert choices(at)["regions"] == ["Asia"] and choices(at)["species"] == ["elephants"]
    assert headline(at) == expected(
        sample, metrics.Filters(species_groups=("elephants",), regions=("Asia",))
    )


def test_a_page_without_filters_keeps_them_for_the_next(app, sample):
    at = open_link(app, sample, {"species": "elephants"})
    _switch(at, "views/submit.py")
    assert not at.exception
    _switch(at, OVERVIEW)
    assert choices(at)["species"] == ["elephants"]
    assert address(at) == {"species": ["elephants"]}


def test_the_address_is_read_when_the_session_starts_only(app, sample):
    """Later runs of the same session carry whatever the browser's address holds after a
    page switch; the session's choices are the truth and are written back."""
    at = open_link(app, sample, {"species": "elephants"})
    at.query_params.clear()
    at.query_params["species"] = "pangolins"
    at.run()
    assert choices(at)["species"] == ["elephants"]
    assert address(at) == {"species": ["elephants"]}


def test_reset_clears_the_filters_and_their_address(app, sample):
    at = open_link(app, sample, {**LINK, "platform_detail": "SocialCo Feed"})
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert choices(at) == {
        "period": ("2018-Q1", "2020-Q4"),
        "sectors": [],
        "partners": [],
        "platforms": [],
        "species": [],
        "regions": [],
    }
    assert headline(at) == expected(sample, metrics.Filters())
    assert address(at) == {"platform_detail": ["SocialCo Feed"]}  # a page's own: not a filter
    # and the reset holds on the next page
    _switch(at, PAGES_WITH_FILTERS[0])
    assert address(at) == {}


def test_a_choice_the_data_no_longer_offers_is_dropped(app, sample):
    with sample.write() as cur:
        cur.execute(
            "INSERT INTO targets (name, reduction, deadline) VALUES "
            "('50% by end of 2021', 0.5, DATE '2021-12-31'), "
            "('90% by end of 2025', 0.9, DATE '2025-12-31')"
        )
    at = open_link(app, sample, {"target": "90% by end of 2025", "species": "elephants"})
    assert at.selectbox(key="filter_target").value == "90% by end of 2025"
    with sample.write() as cur:  # the secretariat withdraws it
        cur.execute("DELETE FROM targets WHERE name = '90% by end of 2025'")
    at.run()
    assert not at.exception
    assert at.selectbox(key="filter_target").value == "80% by end of 2020"
    assert choices(at)["species"] == ["elephants"]
    assert address(at) == {"species": ["elephants"]}


def test_empty_database_ignores_a_period_in_the_link(app, empty):
    at = open_link(app, empty, {"from": "2019-Q1", "species": "elephants"})
    assert not at.exception
    assert "from=2019-Q1" in at.toast[0].value
    assert address(at) == {"species": ["elephants"]}
    assert "No records match these filters" in at.info[0].value
