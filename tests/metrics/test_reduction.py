"""Reduction vs baseline over a matched panel.

Most tests use the panel database of tests/conftest.py (its table is repeated here):

  quarter   AlphaMart      BetaSocial     GammaSearch    EpsilonShop
            det / effort   det / effort   det / effort   det / effort
  2018-Qn   100 / 1000     25 / 125       -              -             (each of Q1..Q4)
  2019-Q1    80 / 1000     15 / 125       125 / 250      -
  2019-Q2    60 / 1000     -              125 / 250      -
  2019-Q3    30 / 500      30 / 125       125 / 250      10 / 100
  2019-Q4    50 / 1000     10 / 125       125 / 250      10 / 100
  2020-Q1    40 / 1000      5 / 125        60 / 240      10 / 100

Default baselines (first four quarters with a rate):
  AlphaMart   2018-Q1..Q4: detected 400, effort 4000 (rate 0.1)
  BetaSocial  2018-Q1..Q4: detected 100, effort 500  (rate 0.2)
  GammaSearch 2019-Q1..Q4: detected 500, effort 1000 (rate 0.5), in the panel from 2020-Q1
  EpsilonShop (three quarters) and ZetaApp (no detection figures) have none.

A unit's contribution in a quarter is its rate × its baseline effort ("detections the baseline
sweep would find today"); rate_index = sum of contributions / baseline detections of the panel.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metrics import Filters, detection_rate, reduction, reduction_series

EXACT = {"rel": 1e-12, "abs": 1e-12}


def column(frame: pd.DataFrame, name: str, key: str = "period") -> dict:
    return dict(zip(frame[key], frame[name], strict=True))


def one(frame: pd.DataFrame, group: str = "All") -> pd.Series:
    rows = frame[frame["group"] == group]
    assert len(rows) == 1
    return rows.iloc[0]


# --- The coalition figure ------------------------------------------------------------------


def test_coalition_series_over_the_matched_panel(panel):
    series = reduction_series(panel)
    assert set(series["group"]) == {"All"}
    # no quarter before 2019-Q1: nobody's baseline was complete before then
    assert list(series["period"]) == ["2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4", "2020-Q1"]
    assert column(series, "detected_at_baseline_effort") == pytest.approx(
        {
            "2019-Q1": 380,  # Alpha 0.08 × 4000 = 320, Beta 0.12 × 500 = 60
            "2019-Q2": 240,  # Alpha 0.06 × 4000; Beta did not report
            "2019-Q3": 360,  # Alpha 30/500 = 0.06 × 4000 = 240, Beta 0.24 × 500 = 120
            "2019-Q4": 240,  # Alpha 0.05 × 4000 = 200, Beta 0.08 × 500 = 40
            "2020-Q1": 430,  # Alpha 0.04 × 4000 = 160, Beta 0.04 × 500 = 20, Gamma 0.25 × 1000
        },
        **EXACT,
    )
    assert column(series, "rate_index") == pytest.approx(
        {
            "2019-Q1": 380 / 500,
            "2019-Q2": 240 / 400,
            "2019-Q3": 360 / 500,
            "2019-Q4": 240 / 500,
            "2020-Q1": 430 / 1000,
        },
        **EXACT,
    )
    assert column(series, "reduction") == pytest.approx(
        {"2019-Q1": 0.24, "2019-Q2": 0.40, "2019-Q3": 0.28, "2019-Q4": 0.52, "2020-Q1": 0.57},
        **EXACT,
    )


def test_coverage_when_a_platform_is_missing_in_the_quarter(panel):
    series = reduction_series(panel).set_index("period")
    q2 = series.loc["2019-Q2"]
    # BetaSocial has a baseline but sent nothing for 2019-Q2: the panel is AlphaMart alone
    assert q2["units_in_panel"] == 1
    assert q2["units_with_baseline"] == 2
    assert q2["platforms_in_panel"] == 1
    assert q2["panel_baseline_detected"] == 400
    assert q2["baseline_detected"] == 500
    assert q2["coverage_share"] == pytest.approx(400 / 500, **EXACT)
    assert q2["reduction"] == pytest.approx(1 - 240 / 400, **EXACT)
    assert column(series.reset_index(), "coverage_share") == pytest.approx(
        {"2019-Q1": 1, "2019-Q2": 0.8, "2019-Q3": 1, "2019-Q4": 1, "2020-Q1": 1}, **EXACT
    )
    assert series["units_with_baseline"].tolist() == [2, 2, 2, 2, 3]  # Gamma from 2020-Q1


def test_reduction_is_as_of_the_latest_quarter(panel):
    now = reduction(panel)
    assert len(now) == 1
    row = one(now)
    assert row["period"] == "2020-Q1"
    assert row["reduction"] == pytest.approx(0.57, **EXACT)
    assert row["units_in_panel"] == 3


# --- A partner that joins after the baseline -----------------------------------------------


def test_newcomer_without_baseline_leaves_the_coalition_figure_unchanged(panel):
    # GammaSearch reports from 2019-Q1 at a rate of 0.5, five times AlphaMart's baseline, but
    # has no complete baseline before the end of 2019: the 2019 figures are those of Alpha and
    # Beta alone, exactly.
    everyone = reduction_series(panel).set_index("period")
    without_gamma = reduction_series(
        panel, Filters(partners=("alpha", "beta", "epsilon", "zeta"))
    ).set_index("period")
    in_2019 = ["2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4"]
    assert (
        everyone.loc[in_2019, "reduction"].tolist()
        == without_gamma.loc[in_2019, "reduction"].tolist()
    )
    assert everyone.loc[in_2019, "reduction"].tolist() == pytest.approx(
        [0.24, 0.40, 0.28, 0.52], **EXACT
    )
    assert everyone.loc[in_2019, "coverage_share"].tolist() == pytest.approx(
        [1, 0.8, 1, 1], **EXACT
    )  # Gamma does not dilute the coverage either

    # A naive ratio of total detection rates would have shown a 44% rise in 2019-Q1:
    # baseline (2018) rate 500 / 4500 = 1/9; 2019-Q1 rate (80 + 15 + 125) / (1000 + 125 + 250)
    # = 220 / 1375 = 0.16; 1 − 0.16 × 9 = −0.44.
    base = detection_rate(panel, Filters(period_to="2018-Q4"), grain=None)
    q1 = detection_rate(panel, Filters(period_from="2019-Q1", period_to="2019-Q1"))
    naive = 1 - q1["detection_rate"].iloc[0] / base["detection_rate"].iloc[0]
    assert naive == pytest.approx(-0.44, **EXACT)
    assert everyone.loc["2019-Q1", "reduction"] == pytest.approx(0.24, **EXACT)


def test_newcomer_then_contributes_only_its_own_change(panel):
    platforms = reduction(panel, by="platform").set_index("group")
    # each platform against its own baseline in 2020-Q1
    assert platforms["reduction"].to_dict() == pytest.approx(
        {
            "AlphaMart": 1 - 0.04 / 0.1,  # 0.6
            "BetaSocial": 1 - 0.04 / 0.2,  # 0.8
            "GammaSearch": 1 - 0.25 / 0.5,  # 0.5: its own halving, not 0.25 against Alpha's 0.1
        },
        **EXACT,
    )
    assert "EpsilonShop" not in platforms.index  # no baseline, no reduction
    assert "ZetaApp" not in platforms.index
    # the coalition index is the baseline-weighted mean of the platforms' own indices:
    # (400 × 0.4 + 100 × 0.2 + 500 × 0.5) / 1000 = 0.43
    coalition = one(reduction(panel))
    weights = {"AlphaMart": 400, "BetaSocial": 100, "GammaSearch": 500}
    weighted = sum(weights[g] * platforms.loc[g, "rate_index"] for g in weights) / 1000
    assert coalition["rate_index"] == pytest.approx(weighted, **EXACT)
    assert coalition["rate_index"] == pytest.approx(0.43, **EXACT)
    # without Gamma the 2020-Q1 figure would be 1 − (160 + 20) / 500 = 0.64
    alone = one(reduction(panel, Filters(platforms=("AlphaMart", "BetaSocial"))))
    assert alone["reduction"] == pytest.approx(0.64, **EXACT)


def test_platform_series_with_a_gap_and_a_rise(panel):
    beta = reduction_series(panel, by="platform")
    beta = beta[beta["group"] == "BetaSocial"]
    assert column(beta, "units_in_panel") == {
        "2019-Q1": 1,
        "2019-Q2": 0,
        "2019-Q3": 1,
        "2019-Q4": 1,
        "2020-Q1": 1,
    }
    red = column(beta, "reduction")
    assert pd.isna(red.pop("2019-Q2"))  # a baseline but no data: an empty figure, not 0
    assert red == pytest.approx(
        {
            "2019-Q1": 1 - 0.12 / 0.2,  # 0.4
            "2019-Q3": 1 - 0.24 / 0.2,  # −0.2: the rate rose
            "2019-Q4": 1 - 0.08 / 0.2,  # 0.6
            "2020-Q1": 1 - 0.04 / 0.2,  # 0.8
        },
        **EXACT,
    )


# --- As of an earlier quarter --------------------------------------------------------------


def test_figures_as_of_an_earlier_quarter(panel):
    then = reduction(panel, Filters(period_to="2019-Q2"))
    row = one(then)
    assert row["period"] == "2019-Q2"
    assert row["reduction"] == pytest.approx(0.4, **EXACT)
    assert row["coverage_share"] == pytest.approx(0.8, **EXACT)
    series = reduction_series(panel, Filters(period_to="2019-Q3"))
    assert column(series, "reduction") == pytest.approx(
        {"2019-Q1": 0.24, "2019-Q2": 0.40, "2019-Q3": 0.28}, **EXACT
    )
    # as of 2019-Q4, Gamma's four quarters are in but its baseline is only just complete
    platforms = reduction(panel, Filters(period_to="2019-Q4"), by="platform")
    assert set(platforms["group"]) == {"AlphaMart", "BetaSocial"}
    # as of the end of 2018 the baselines are complete, but there is no later quarter yet
    assert reduction(panel, Filters(period_to="2018-Q4")).empty
    # as of 2018-Q3 nobody has four quarters yet
    assert reduction_series(panel, Filters(period_to="2018-Q3")).empty


def test_period_from_lists_later_quarters_against_the_same_baselines(panel):
    series = reduction_series(panel, Filters(period_from="2019-Q3"))
    assert column(series, "reduction") == pytest.approx(
        {"2019-Q3": 0.28, "2019-Q4": 0.52, "2020-Q1": 0.57}, **EXACT
    )


def test_filter_by_partner_and_sector(panel):
    assert one(reduction(panel, Filters(partners=("alpha",))))["reduction"] == pytest.approx(
        0.6, **EXACT
    )
    by_sector = reduction(panel, by="sector").set_index("group")
    # e-commerce: AlphaMart (EpsilonShop has no baseline); social-media: BetaSocial
    assert by_sector["reduction"].to_dict() == pytest.approx(
        {"e-commerce": 0.6, "social-media": 0.8, "search": 0.5}, **EXACT
    )
    assert by_sector.loc["e-commerce", "units_with_baseline"] == 1


# --- A configured baseline -----------------------------------------------------------------


def test_configured_baseline(panel_configured):
    # AlphaMart's baseline is set to 2019-Q1..Q2: detected 80 + 60 = 140, effort 2000
    # (rate 0.07); it enters the panel in 2019-Q3.
    series = reduction_series(panel_configured)
    assert column(series, "units_with_baseline") == {
        "2019-Q1": 1,
        "2019-Q2": 1,
        "2019-Q3": 2,
        "2019-Q4": 2,
        "2020-Q1": 3,
    }
    assert column(series, "units_in_panel") == {
        "2019-Q1": 1,
        "2019-Q2": 0,
        "2019-Q3": 2,
        "2019-Q4": 2,
        "2020-Q1": 3,
    }
    red = column(series, "reduction")
    assert pd.isna(red.pop("2019-Q2"))  # only Beta had a baseline and it sent nothing
    assert red == pytest.approx(
        {
            "2019-Q1": 1 - 60 / 100,  # Beta alone: 0.12 × 500 = 60 of 100
            "2019-Q3": 1 - (120 + 120) / (140 + 100),  # Alpha 0.06 × 2000, Beta 0.24 × 500
            "2019-Q4": 1 - (100 + 40) / 240,  # Alpha 0.05 × 2000, Beta 0.08 × 500
            "2020-Q1": 1 - (80 + 20 + 250) / 740,  # Alpha 0.04 × 2000, Beta 20, Gamma 250
        },
        **EXACT,
    )
    alpha = reduction_series(panel_configured, by="platform")
    alpha = alpha[alpha["group"] == "AlphaMart"]
    assert column(alpha, "reduction") == pytest.approx(
        {"2019-Q3": 1 / 7, "2019-Q4": 2 / 7, "2020-Q1": 3 / 7}, **EXACT
    )  # 1 − 0.06/0.07 …
    # as of 2019-Q2 the configured window is not over, and it replaces the default rule
    then = reduction(panel_configured, Filters(period_to="2019-Q2"), by="platform")
    assert "AlphaMart" not in set(then["group"])


# --- Breakdown by species group: platform × species units ----------------------------------

SPECIES_PARTNERS = [
    ("alpha", "e-commerce", dt.date(2018, 1, 1), ["AlphaMart"]),
    ("beta", "social-media", dt.date(2018, 1, 1), ["BetaSocial"]),
]
SPECIES_ROWS = [
    *[
        r
        for q in ("2018-Q1", "2018-Q2", "2018-Q3", "2018-Q4")
        for r in (
            ("AlphaMart", q, "elephants", "CHN", None, None, 50, 500),
            ("AlphaMart", q, "pangolins", "VNM", None, None, 20, 500),
            ("BetaSocial", q, "elephants", "CHN", None, None, 25, 125),
        )
    ],
    ("AlphaMart", "2019-Q1", "elephants", "CHN", None, None, 40, 500),
    ("AlphaMart", "2019-Q1", "pangolins", "VNM", None, None, 10, 500),
    ("AlphaMart", "2019-Q1", "birds", "USA", 3, 4, 16, 100),  # first reported after baseline
    ("BetaSocial", "2019-Q1", "elephants", "CHN", None, None, 10, 125),
]


@pytest.fixture(scope="module")
def species(build_db):
    db = build_db(
        SPECIES_PARTNERS,
        [
            dict(
                partner=p,
                uploaded_at=dt.datetime(2019, 4, 1),
                rows=[r for r in SPECIES_ROWS if r[0] == name],
            )
            for p, name in (("alpha", "AlphaMart"), ("beta", "BetaSocial"))
        ],
    )
    with db.read() as cur:
        yield cur


def test_reduction_by_species_group_uses_platform_species_units(species):
    frame = reduction(species, by="species_group").set_index("group")
    # elephants: (Alpha, elephants) base 200 / 2000, now 40/500 = 0.08 × 2000 = 160;
    #            (Beta, elephants) base 100 / 500, now 10/125 = 0.08 × 500 = 40
    # pangolins: (Alpha, pangolins) base 80 / 2000, now 10/500 = 0.02 × 2000 = 40
    assert frame["reduction"].to_dict() == pytest.approx(
        {"elephants": 1 - 200 / 300, "pangolins": 1 - 40 / 80}, **EXACT
    )
    assert frame["units_in_panel"].to_dict() == {"elephants": 2, "pangolins": 1}
    assert frame["platforms_in_panel"].to_dict() == {"elephants": 2, "pangolins": 1}
    # birds were first reported after AlphaMart's baseline: no unit, no figure
    assert "birds" not in frame.index


def test_species_filter_and_coalition_figure(species):
    # the coalition figure uses platform units: Alpha base 280 / 4000; 2019-Q1 Alpha
    # (40 + 10 + 16) / (500 + 500 + 100) = 0.06 × 4000 = 240, Beta 40: 1 − 280 / 380
    assert one(reduction(species))["reduction"] == pytest.approx(1 - 280 / 380, **EXACT)
    pangolins = one(reduction(species, Filters(species_groups=("pangolins",))))
    assert pangolins["reduction"] == pytest.approx(0.5, **EXACT)
    assert pangolins["units_with_baseline"] == 1  # BetaSocial has no pangolin rows
    by_region = reduction(species, by="region").set_index("group")
    # Asia: Alpha (CHN + VNM) base 280 / 4000, now 50 / 1000 = 0.05 × 4000 = 200; Beta 40
    assert by_region["reduction"].to_dict() == pytest.approx({"Asia": 1 - 240 / 380}, **EXACT)


# --- A platform that never reports search effort -------------------------------------------


@pytest.fixture(scope="module")
def no_effort(build_db):
    rows = [
        ("DeltaBoard", q, "elephants", None, None, None, 30, None)
        for q in ("2018-Q1", "2018-Q2", "2018-Q3", "2018-Q4")
    ]
    rows += [
        ("DeltaBoard", "2019-01", "elephants", None, None, None, 6, None),
        ("DeltaBoard", "2019-02", "elephants", None, None, None, 4, None),
        ("DeltaBoard", "2019-02", "pangolins", None, None, None, 2, None),
        ("DeltaBoard", "2019-Q2", "elephants", None, None, None, 15, None),
    ]
    db = build_db(
        [("delta", "other", dt.date(2018, 1, 1), ["DeltaBoard"])],
        [dict(partner="delta", uploaded_at=dt.datetime(2019, 7, 1), rows=rows)],
    )
    with db.read() as cur:
        yield cur


def test_platform_without_search_effort_uses_detections_per_month(no_effort):
    series = reduction_series(no_effort)
    # baseline: 4 × 30 = 120 detections over 12 months = 10 a month
    # 2019-Q1: 6 + 4 + 2 = 12 in the two months reported = 6 a month → 6 × 12 = 72 of 120
    # 2019-Q2: 15 in a quarter = 5 a month → 60 of 120
    assert column(series, "detected_at_baseline_effort") == pytest.approx(
        {"2019-Q1": 72, "2019-Q2": 60}, **EXACT
    )
    assert column(series, "reduction") == pytest.approx({"2019-Q1": 0.4, "2019-Q2": 0.5}, **EXACT)
    # the detection-rate indicator has no rate for it, only the detections
    rates = detection_rate(no_effort, Filters(period_from="2019-Q1"))
    assert rates["detection_rate"].isna().all()
    assert column(rates, "detected_without_effort") == {"2019-Q1": 12, "2019-Q2": 15}


def test_rows_without_effort_stay_out_of_an_effort_reporting_platforms_rate(build_db):
    rows = [
        ("AlphaMart", q, "elephants", "CHN", None, None, 100, 1000)
        for q in ("2018-Q1", "2018-Q2", "2018-Q3", "2018-Q4")
    ]
    rows += [
        ("AlphaMart", "2019-Q1", "elephants", "CHN", None, None, 50, 1000),
        ("AlphaMart", "2019-Q1", "pangolins", "VNM", None, None, 30, None),
    ]
    db = build_db(
        [("alpha", "e-commerce", dt.date(2018, 1, 1), ["AlphaMart"])],
        [dict(partner="alpha", uploaded_at=dt.datetime(2019, 4, 1), rows=rows)],
    )
    with db.read() as cur:
        rate = detection_rate(cur, Filters(period_from="2019-Q1"))
        now = one(reduction(cur))
    assert rate["detection_rate"].tolist() == pytest.approx([0.05], **EXACT)  # 50 / 1000
    assert now["reduction"] == pytest.approx(1 - 0.05 / 0.1, **EXACT)  # 0.5
