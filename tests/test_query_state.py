"""Reading the filter bar's choices from a link and writing them back (no Streamlit)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.ui import filter_bar
from coalition.ui.query_state import PARAMS, Choices, FilterState, from_query, to_query

CHOICES = Choices(
    quarters=("2018-Q3", "2018-Q4", "2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4", "2020-Q1"),
    sectors=("e-commerce", "social-media", "search", "other"),
    partners=("marketco", "socialco"),
    platforms=("MarketCo Shop", "Resale, by MarketCo", "SocialCo Feed"),
    species=("birds", "elephants", "pangolins"),
    regions=("Africa", "Americas", "Asia"),
    targets=("80% by end of 2020", "50% by end of 2021"),
)


def test_every_parameter_is_documented_in_the_filter_bar():
    assert set(PARAMS) == set(FilterState.__dataclass_fields__)
    for name in PARAMS.values():
        assert f"\n{name} " in filter_bar.__doc__


def test_a_link_names_the_choices():
    state, ignored = from_query(
        {
            "from": ["2019-Q1"],
            "to": ["2019-Q4"],
            "sector": ["e-commerce"],
            "species": ["pangolins", "elephants"],
            "region": ["Asia"],
            "partner": ["marketco"],
            "platform": ["MarketCo Shop"],
            "target": ["50% by end of 2021"],
        },
        CHOICES,
    )
    assert ignored == []
    assert state == FilterState(
        period_from="2019-Q1",
        period_to="2019-Q4",
        sectors=("e-commerce",),
        partners=("marketco",),
        platforms=("MarketCo Shop",),
        species=("elephants", "pangolins"),  # sorted: equal choices, one cache entry
        regions=("Asia",),
        target="50% by end of 2021",
    )


def test_commas_repeated_keys_case_and_quarter_spellings_are_read_alike():
    state, ignored = from_query(
        {
            "species": ["Elephants,pangolins", "birds", "elephants"],
            "from": ["2019q1"],
            "to": ["Q4 2019"],
            "region": ["asia"],
        },
        CHOICES,
    )
    assert ignored == []
    assert state == FilterState(
        period_from="2019-Q1",
        period_to="2019-Q4",
        species=("birds", "elephants", "pangolins"),
        regions=("Asia",),
    )


def test_a_name_with_a_comma_is_one_value():
    state, ignored = from_query({"platform": ["Resale, by MarketCo"]}, CHOICES)
    assert state.platforms == ("Resale, by MarketCo",) and ignored == []
    assert to_query(state, CHOICES)["platform"] == ["Resale, by MarketCo"]


@pytest.mark.parametrize(
    ("params", "left_out"),
    [
        ({"species": ["dragons"]}, ["species=dragons"]),
        ({"species": ["elephants,dragons"]}, ["species=dragons"]),
        ({"from": ["2030-Q1"]}, ["from=2030-Q1"]),  # outside the data
        ({"to": ["2010-Q4"]}, ["to=2010-Q4"]),
        ({"to": ["2019-07"]}, ["to=2019-07"]),  # a month, not a quarter
        ({"from": ["yesterday"]}, ["from=yesterday"]),
        ({"from": ["2019-Q4"], "to": ["2019-Q1"]}, ["from=2019-Q4", "to=2019-Q1"]),
        ({"target": ["90% by 2099"]}, ["target=90% by 2099"]),
        ({"partner": ["<script>alert(1)</script>"]}, ["partner=<script>alert(1)</script>"]),
        ({"from": ["2019-Q1", "2019-Q2"]}, ["from=2019-Q1"]),  # the last one counts
        ({"to": ["2019-Q4", "9999-Q9"]}, ["to=9999-Q9"]),  # the last that the data offers
    ],
)
def test_what_the_data_does_not_offer_is_left_out_and_said(params, left_out):
    state, ignored = from_query(params, CHOICES)
    assert ignored == left_out
    valid = {k: v for k, v in to_query(state, CHOICES).items() if v}
    assert all(f"{k}={v}" not in left_out for k, values in valid.items() for v in values)


def test_a_repeated_single_value_counts_the_last_one_the_data_offers():
    state, ignored = from_query({"to": ["2019-Q3", "2019-Q4", "9999-Q9"]}, CHOICES)
    assert state.period_to == "2019-Q4"
    assert ignored == ["to=2019-Q3", "to=9999-Q9"]


def test_blank_values_and_other_parameters_are_nothing():
    state, ignored = from_query(
        {"species": ["", " ,"], "from": [""], "platform_detail": ["SocialCo Feed"]}, CHOICES
    )
    assert state == FilterState() and ignored == []


def test_the_data_ends_and_the_default_target_are_no_restriction():
    state, _ = from_query(
        {"from": ["2018-Q3"], "to": ["2020-Q1"], "target": ["80% by end of 2020"]}, CHOICES
    )
    assert state == FilterState()
    assert all(values == [] for values in to_query(state, CHOICES).values())


def test_one_quarter_of_data_has_no_period_range():
    one = Choices(quarters=("2019-Q1",), species=("elephants",))
    state, _ = from_query({"from": ["2019-Q1"], "to": ["2019-Q1"]}, one)
    assert state == FilterState()


def test_to_query_writes_lists_as_repeated_keys_and_every_name():
    state = FilterState(period_to="2019-Q4", species=("elephants", "pangolins"))
    assert to_query(state, CHOICES) == {
        "from": [],
        "to": ["2019-Q4"],
        "sector": [],
        "partner": [],
        "platform": [],
        "species": ["elephants", "pangolins"],
        "region": [],
        "target": [],
    }


def test_within_drops_what_the_data_no_longer_offers():
    state = FilterState(period_from="2017-Q1", species=("elephants", "saiga"), target="gone")
    assert state.within(CHOICES) == FilterState(species=("elephants",))


def _states():
    def subset(options):
        return st.lists(st.sampled_from(options), unique=True).map(lambda v: tuple(sorted(v)))

    quarter = st.one_of(st.none(), st.sampled_from(CHOICES.quarters[1:-1]))
    return st.builds(
        FilterState,
        period_from=quarter,
        period_to=quarter,
        sectors=subset(CHOICES.sectors),
        partners=subset(CHOICES.partners),
        platforms=subset(CHOICES.platforms),
        species=subset(CHOICES.species),
        regions=subset(CHOICES.regions),
        target=st.one_of(st.none(), st.just(CHOICES.targets[1])),
    ).filter(lambda s: not (s.period_from and s.period_to and s.period_from > s.period_to))


@given(_states())
def test_what_is_written_reads_back_the_same(state):
    assert from_query(to_query(state, CHOICES), CHOICES) == (state, [])


@given(st.dictionaries(st.sampled_from([*PARAMS.values(), "x"]), st.lists(st.text())))
def test_any_link_gives_valid_choices_and_never_an_error(params):
    state, _ = from_query(params, CHOICES)
    assert state == state.within(CHOICES)
