"""Progress to target, pace ratio, status and projection.

Decimal years, as the trend and the pace use them (day of the year counted from 0):
  2018-07-02 = 2018 + 182/365   2019-02-15 = 2019 + 45/365    2020-02-15 = 2020 + 45/366
  2019-07-02 = 2019 + 182/365   2020-12-31 = 2020 + 365/366   Aug 16 = Y + 227/365 (not leap)
A baseline's midpoint is the middle of its window: 2018-Q1..Q4 → 2018-07-02 12:00, and a
quarter's midpoint is its first day + half its length in whole days (2020-Q1 → 2020-02-15).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from math import log

import duckdb
import pandas as pd
import pytest

from metrics import (
    STATUSES,
    Filters,
    Target,
    default_target,
    progress,
    projection,
    reduction_series,
    targets,
)
from metrics.progress import pace_ratio, status_of
from metrics.projection import decimal_year, fit_trend, from_decimal_year, quarter_midpoint

EXACT = {"rel": 1e-9, "abs": 1e-12}
DEFAULT = Target("80% by end of 2020", 0.8, dt.date(2020, 12, 31))
DEADLINE = 2020 + 365 / 366  # 2020-12-31


def row(frame: pd.DataFrame, group: str = "All") -> pd.Series:
    rows = frame[frame["group"] == group]
    assert len(rows) == 1
    return rows.iloc[0]


# --- pace_ratio and status_of --------------------------------------------------------------


def test_pace_ratio():
    to_2021 = Target("75% by 2021", 0.75, dt.date(2021, 1, 1))
    start, one_year_on = dt.date(2019, 1, 1), dt.date(2020, 1, 1)
    # halved in one year; needed: a quarter left after two years, i.e. halving each year
    assert pace_ratio(0.5, start, one_year_on, to_2021) == pytest.approx(1.0, **EXACT)
    # to a quarter in one year: twice the pace needed
    assert pace_ratio(0.25, start, one_year_on, to_2021) == pytest.approx(2.0, **EXACT)
    assert pace_ratio(1.0, start, one_year_on, to_2021) == 0.0  # no change
    # doubled: ln 2 / ln 0.5 = −1
    assert pace_ratio(2.0, start, one_year_on, to_2021) == pytest.approx(-1.0, **EXACT)
    # half a leap year (2020-01-01 to 2020-07-02 = 183/366) at √0.5, toward 50% by 2021
    half = Target("50% by 2021", 0.5, dt.date(2021, 1, 1))
    assert pace_ratio(
        math.sqrt(0.5), dt.date(2020, 1, 1), dt.date(2020, 7, 2), half
    ) == pytest.approx(1.0, **EXACT)
    # the default target from 2018-07-02: a 40% fall by 2020-02-15
    expected = (log(0.6) / (2020 + 45 / 366 - (2018 + 182 / 365))) / (
        log(0.2) / (DEADLINE - (2018 + 182 / 365))
    )
    assert pace_ratio(0.6, dt.date(2018, 7, 2), dt.date(2020, 2, 15), DEFAULT) == pytest.approx(
        expected, **EXACT
    )


def test_pace_ratio_undefined():
    to_2021 = Target("75% by 2021", 0.75, dt.date(2021, 1, 1))
    start = dt.date(2019, 1, 1)
    assert pace_ratio(0.0, start, dt.date(2020, 1, 1), to_2021) is None  # log of 0
    assert pace_ratio(-0.1, start, dt.date(2020, 1, 1), to_2021) is None
    assert pace_ratio(math.nan, start, dt.date(2020, 1, 1), to_2021) is None
    assert pace_ratio(0.5, start, start, to_2021) is None  # no time elapsed
    assert pace_ratio(0.5, dt.date(2021, 1, 1), dt.date(2022, 1, 1), to_2021) is None


@pytest.mark.parametrize(
    ("reduction", "ratio", "as_of", "status"),
    [
        (None, 1.0, dt.date(2020, 6, 30), "insufficient_data"),
        (math.nan, 1.0, dt.date(2020, 6, 30), "insufficient_data"),
        (0.8, None, dt.date(2020, 6, 30), "achieved"),  # exactly the target
        (0.9, -1.0, dt.date(2021, 3, 31), "achieved"),  # achieved stays achieved
        (0.79, 2.0, dt.date(2021, 3, 31), "missed"),  # deadline passed, short of 80%
        (0.5, None, dt.date(2020, 6, 30), "insufficient_data"),  # no pace to judge
        (0.5, 3.0, dt.date(2020, 6, 30), "on_track"),
        (0.5, 0.95, dt.date(2020, 6, 30), "on_track"),
        (0.5, 0.9499, dt.date(2020, 6, 30), "acceleration_needed"),
        (0.5, 0.60, dt.date(2020, 6, 30), "acceleration_needed"),
        (0.5, 0.5999, dt.date(2020, 6, 30), "limited_progress"),
        (0.0, 0.0, dt.date(2020, 6, 30), "limited_progress"),
        (-0.1, -0.01, dt.date(2020, 6, 30), "deterioration"),
    ],
)
def test_status_of(reduction, ratio, as_of, status):
    assert status_of(reduction, ratio, as_of, DEFAULT) == status
    assert status in STATUSES


def test_targets_default_and_custom(panel):
    assert targets(panel) == [DEFAULT]  # from data/targets.csv
    assert default_target(panel) == DEFAULT
    custom = Target("90% by 2025", 0.9, dt.date(2025, 12, 31))
    frame = progress(panel, target=custom)
    first = row(frame)
    assert (first["target_name"], first["target_reduction"], first["deadline"]) == (
        "90% by 2025",
        0.9,
        dt.date(2025, 12, 31),
    )
    assert first["progress"] == pytest.approx(0.57 / 0.9, **EXACT)


# --- progress() on the panel database (tests/conftest.py; see test_reduction.py) ------------


def test_progress_of_the_coalition(panel):
    frame = progress(panel)
    assert list(frame["group"]) == ["All"]
    now = row(frame)
    assert now["current_period"] == "2020-Q1"
    assert now["as_of"] == dt.date(2020, 3, 31)
    assert now["reduction"] == pytest.approx(0.57, **EXACT)
    assert now["progress"] == pytest.approx(0.57 / 0.8, **EXACT)  # 0.7125
    assert now["coverage_share"] == pytest.approx(1.0, **EXACT)
    assert (now["units_in_panel"], now["units_with_baseline"], now["platforms_in_panel"]) == (
        3,
        3,
        3,
    )
    # baseline midpoint: Alpha and Beta (weight 400 + 100) at 2018-07-02 12:00, Gamma (500)
    # at 2019-07-02 12:00 → halfway, 2019-01-01 = 2019.0; now 2020-02-15
    expected = (log(0.43) / (2020 + 45 / 366 - 2019)) / (log(0.2) / (DEADLINE - 2019))
    assert now["pace_ratio"] == pytest.approx(expected, **EXACT)  # ≈ 0.933
    assert now["status"] == "acceleration_needed"
    assert now["cumulative_actions"] == 20  # ZetaApp: 7 + 3 + 5 + 5
    # five usable quarters: a projection exists, inside its band
    low, mid, high = (
        now["projected_reduction_low"],
        now["projected_reduction_at_deadline"],
        now["projected_reduction_high"],
    )
    assert low < mid < high


def test_progress_by_platform(panel):
    frame = progress(panel, by="platform").set_index("group")
    assert list(frame.index) == ["AlphaMart", "BetaSocial", "EpsilonShop", "GammaSearch", "ZetaApp"]
    assert frame["status"].to_dict() == {
        "AlphaMart": "acceleration_needed",  # 0.6, pace ≈ 0.876
        "BetaSocial": "achieved",  # 0.8
        "EpsilonShop": "insufficient_data",  # three quarters: no baseline
        "GammaSearch": "on_track",  # 0.5 against its own baseline, pace ≈ 1.034
        "ZetaApp": "insufficient_data",  # no detection figures at all
    }
    assert frame.loc["AlphaMart", "pace_ratio"] == pytest.approx(
        (log(0.4) / (2020 + 45 / 366 - (2018 + 182 / 365)))
        / (log(0.2) / (DEADLINE - (2018 + 182 / 365))),
        **EXACT,
    )
    assert frame.loc["GammaSearch", "pace_ratio"] == pytest.approx(
        (log(0.5) / (2020 + 45 / 366 - (2019 + 182 / 365)))
        / (log(0.2) / (DEADLINE - (2019 + 182 / 365))),
        **EXACT,
    )
    assert frame.loc["AlphaMart", "progress"] == pytest.approx(0.6 / 0.8, **EXACT)
    assert frame.loc["BetaSocial", "progress"] == pytest.approx(1.0, **EXACT)
    assert frame.loc["GammaSearch", "progress"] == pytest.approx(0.5 / 0.8, **EXACT)
    for name in ("EpsilonShop", "ZetaApp"):
        assert frame.loc[name, "reduction"] is None or pd.isna(frame.loc[name, "reduction"])
        assert frame.loc[name, "progress"] is None or pd.isna(frame.loc[name, "progress"])
        assert frame.loc[name, "units_in_panel"] == 0
    assert frame["cumulative_actions"].to_dict() == {
        "AlphaMart": 0,
        "BetaSocial": 0,
        "EpsilonShop": 0,
        "GammaSearch": 0,
        "ZetaApp": 20,
    }


def test_progress_as_of_an_earlier_quarter(panel):
    frame = progress(panel, Filters(period_to="2019-Q1"), by="platform").set_index("group")
    # EpsilonShop had not reported yet; ZetaApp had its 2019-Q1 actions only
    assert list(frame.index) == ["AlphaMart", "BetaSocial", "GammaSearch", "ZetaApp"]
    assert set(frame["as_of"]) == {dt.date(2019, 3, 31)}
    elapsed = 2019 + 45 / 365 - (2018 + 182 / 365)  # 2018-07-02 to 2019-02-15
    needed = log(0.2) / (DEADLINE - (2018 + 182 / 365))
    assert frame["reduction"].to_dict() == pytest.approx(
        {"AlphaMart": 0.2, "BetaSocial": 0.4, "GammaSearch": math.nan, "ZetaApp": math.nan},
        nan_ok=True,
        **EXACT,
    )
    assert frame.loc["AlphaMart", "pace_ratio"] == pytest.approx(
        log(0.8) / elapsed / needed, **EXACT
    )  # ≈ 0.555
    assert frame.loc["BetaSocial", "pace_ratio"] == pytest.approx(
        log(0.6) / elapsed / needed, **EXACT
    )  # ≈ 1.270
    assert frame["status"].to_dict() == {
        "AlphaMart": "limited_progress",
        "BetaSocial": "on_track",
        "GammaSearch": "insufficient_data",  # its baseline quarters are still running
        "ZetaApp": "insufficient_data",
    }
    assert frame.loc["ZetaApp", "cumulative_actions"] == 10  # 7 + 3, not 2020's 5 + 5


def test_baseline_but_no_data_in_the_quarter_is_insufficient_data(panel):
    frame = progress(panel, Filters(period_to="2019-Q2"), by="platform").set_index("group")
    # BetaSocial has its 2018 baseline but sent nothing for 2019-Q2: no matched panel
    assert frame.loc["BetaSocial", "units_with_baseline"] == 1
    assert frame.loc["BetaSocial", "units_in_panel"] == 0
    assert frame.loc["BetaSocial", "status"] == "insufficient_data"
    assert frame.loc["AlphaMart", "reduction"] == pytest.approx(0.4, **EXACT)  # 0.06 vs 0.1


def test_progress_without_any_data(build_db):
    with build_db().read() as cur:
        frame = progress(cur)
        assert frame[["group", "status", "cumulative_actions"]].values.tolist() == [
            ["All", "insufficient_data", 0]
        ]
        assert progress(cur, by="platform").empty
        assert projection(cur).empty


def test_deterioration_as_of_2019_q3(panel):
    beta = row(progress(panel, Filters(period_to="2019-Q3"), by="platform"), "BetaSocial")
    # BetaSocial's rate rose from 0.2 to 0.24: index 1.2
    assert beta["reduction"] == pytest.approx(-0.2, **EXACT)
    assert beta["pace_ratio"] == pytest.approx(
        (log(1.2) / (2019 + 227 / 365 - (2018 + 182 / 365)))
        / (log(0.2) / (DEADLINE - (2018 + 182 / 365))),
        **EXACT,
    )  # ≈ −0.25
    assert beta["status"] == "deterioration"


def test_missed_once_the_deadline_has_passed(panel):
    by_2019 = Target("80% by end of 2019", 0.8, dt.date(2019, 12, 31))
    frame = progress(panel, by="platform", target=by_2019).set_index("group")
    assert frame["status"].to_dict() == {
        "AlphaMart": "missed",  # 0.6 on 2020-03-31
        "BetaSocial": "achieved",  # 0.8
        "EpsilonShop": "insufficient_data",
        "GammaSearch": "missed",  # 0.5
        "ZetaApp": "insufficient_data",
    }


def test_period_from_does_not_change_progress(panel):
    later = row(progress(panel, Filters(period_from="2020-Q1")))
    assert later["reduction"] == pytest.approx(0.57, **EXACT)
    assert later["cumulative_actions"] == 20  # the 2019-Q1 actions still count


# --- Projection: a rate index that halves every year ---------------------------------------
#
# SoloMarket, baseline configured as 2017-Q3 alone (1024 detected / 1000 searches), then one
# quarter a year, always Q3 (midpoint Aug 16 = Y + 227/365 in these non-leap years):
#   2018-Q3 512 → index 1/2, 2019-Q3 256 → 1/4, 2021-Q3 64 → 1/16, 2022-Q3 32 → 1/32
# so ln(index) = ln(0.5) × (x − (2017 + 227/365)) exactly.

HALVING = {"2017-Q3": 1024, "2018-Q3": 512, "2019-Q3": 256, "2021-Q3": 64, "2022-Q3": 32}
T875 = Target("87.5% by 2021-08-16", 0.875, dt.date(2021, 8, 16))


@pytest.fixture(scope="module")
def halving(build_db):
    db = build_db(
        [("solo", "e-commerce", dt.date(2017, 1, 1), ["SoloMarket"])],
        [
            dict(
                partner="solo",
                uploaded_at=dt.datetime(2022, 10, 1),
                rows=[
                    ("SoloMarket", q, "elephants", None, None, None, det, 1000)
                    for q, det in HALVING.items()
                ],
            )
        ],
        [("SoloMarket", "2017-Q3", "2017-Q3")],
    )
    with db.read() as cur:
        yield cur


def test_fitted_trend_is_exact(halving):
    series = reduction_series(halving)
    assert series["rate_index"].tolist() == pytest.approx([1 / 2, 1 / 4, 1 / 16, 1 / 32], **EXACT)
    trend = fit_trend(series)
    assert trend.n == 4
    assert trend.slope == pytest.approx(log(0.5), **EXACT)
    assert trend.annual_change == pytest.approx(-0.5, **EXACT)
    assert trend.residual_sd == pytest.approx(0, abs=1e-9)
    assert (trend.first, trend.last) == (dt.date(2018, 8, 16), dt.date(2022, 8, 16))


def test_projection_at_the_deadline_and_target_date(halving):
    now = row(progress(halving, target=T875))
    assert now["current_period"] == "2022-Q3"
    assert now["reduction"] == pytest.approx(31 / 32, **EXACT)
    assert now["status"] == "achieved"
    # 2021-08-16 is four years after the baseline: index 1/16
    assert now["projected_reduction_at_deadline"] == pytest.approx(15 / 16, **EXACT)
    # the band collapses onto the line: the points lie on it exactly
    assert now["projected_reduction_low"] == pytest.approx(15 / 16, abs=1e-9)
    assert now["projected_reduction_high"] == pytest.approx(15 / 16, abs=1e-9)
    # index 1/8 three years after the baseline: x = 2020 + 227/365 = 2020.6219 in leap 2020,
    # 0.6219 × 366 = 227.6 days into 2020 → 2020-08-15
    assert now["projected_target_date"] == dt.date(2020, 8, 15)

    default = row(progress(halving))
    # 2020-12-31: 0.5 ** (2020 + 365/366 − 2017 − 227/365) ≈ 0.0964
    assert default["projected_reduction_at_deadline"] == pytest.approx(
        1 - 0.5 ** (DEADLINE - (2017 + 227 / 365)), **EXACT
    )
    # index 0.2 at 2017 + 227/365 + log2(5) = 2019.9438; 0.9438 × 365 = 344.5 days → Dec 11
    assert default["projected_target_date"] == dt.date(2019, 12, 11)
    assert default["status"] == "achieved"  # 31/32 ≥ 0.8, even after the deadline


def test_projection_path(halving):
    path = projection(halving, target=T875)
    # from the first fitted quarter to a year past the last (2022-08-16 + 366 days → 2023-Q3)
    assert path["period"].iloc[0] == "2018-Q3"
    assert path["period"].iloc[-1] == "2023-Q3"
    assert len(path) == 21  # 2018-Q3 .. 2023-Q3
    fitted = dict(zip(path["period"], path["fitted_index"], strict=True))
    assert fitted["2018-Q3"] == pytest.approx(1 / 2, **EXACT)
    # 2020-Q3's midpoint, Aug 16 of a leap year, is 2020 + 228/366
    assert fitted["2020-Q3"] == pytest.approx(0.5 ** (3 + 228 / 366 - 227 / 365), **EXACT)
    assert fitted["2023-Q3"] == pytest.approx(1 / 64, **EXACT)
    assert path["fitted_reduction"].tolist() == pytest.approx(
        (1 - path["fitted_index"]).tolist(), **EXACT
    )
    assert path["index_low"].tolist() == pytest.approx(path["fitted_index"].tolist(), abs=1e-9)
    assert path["index_high"].tolist() == pytest.approx(path["fitted_index"].tolist(), abs=1e-9)
    # beyond the last data point (2022-Q3) is projection
    assert path.loc[path["is_projection"], "period"].tolist() == [
        "2022-Q4",
        "2023-Q1",
        "2023-Q2",
        "2023-Q3",
    ]
    later = projection(halving, Filters(period_from="2021-Q1"), target=T875)
    assert later["period"].tolist()[0] == "2021-Q1" and len(later) == 11


@pytest.mark.parametrize(
    ("target", "ratio", "status"),
    [
        # as of 2019-Q3: index 1/4 two years after the baseline, ln(index)/2 = ln 0.5 a year
        (T875, 4 / 3, "on_track"),  # needed ln(1/8)/4 = 0.75 ln 0.5
        (Target("99%", 0.99, dt.date(2021, 8, 16)), 2 * log(2) / log(10), "acceleration_needed"),
        (
            Target("99.9%", 0.999, dt.date(2021, 8, 16)),
            4 * log(2) / (3 * log(10)),
            "limited_progress",
        ),
        (Target("90% by mid-2019", 0.9, dt.date(2019, 6, 30)), None, "missed"),
        (Target("75%", 0.75, dt.date(2021, 8, 16)), None, "achieved"),
    ],
)
def test_status_through_progress(halving, target, ratio, status):
    now = row(progress(halving, Filters(period_to="2019-Q3"), target=target))
    assert now["reduction"] == pytest.approx(0.75, **EXACT)
    assert now["progress"] == pytest.approx(0.75 / target.reduction, **EXACT)
    if ratio is not None:
        assert now["pace_ratio"] == pytest.approx(ratio, **EXACT)
    assert now["status"] == status


def test_fewer_than_four_usable_quarters_give_no_projection(halving):
    # as of 2021-Q3 there are three points (2018-Q3, 2019-Q3, 2021-Q3)
    now = row(progress(halving, Filters(period_to="2021-Q3"), target=T875))
    assert now["reduction"] == pytest.approx(15 / 16, **EXACT)
    for col in (
        "projected_reduction_at_deadline",
        "projected_reduction_low",
        "projected_reduction_high",
        "projected_target_date",
    ):
        assert now[col] is None
    assert projection(halving, Filters(period_to="2021-Q3")).empty


def test_fit_trend_skips_low_coverage_and_empty_quarters():
    series = pd.DataFrame(
        {
            "period": ["2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4", "2020-Q1"],
            "rate_index": [0.9, 0.8, 0.0, 0.7, 0.6],
            "coverage_share": [1.0, 0.4, 1.0, 0.5, 1.0],
        }
    )
    # usable: 2019-Q1, 2019-Q4 (coverage 0.5 is enough), 2020-Q1 → three, not enough
    assert fit_trend(series) is None
    series.loc[1, "coverage_share"] = 0.6
    assert fit_trend(series).n == 4


def test_figure_as_of_the_deadline_short_of_the_target_is_missed(halving):
    by_q3 = Target("99% by 2019-09-30", 0.99, dt.date(2019, 9, 30))
    now = row(progress(halving, Filters(period_to="2019-Q3"), target=by_q3))
    assert now["as_of"] == dt.date(2019, 9, 30)
    assert now["reduction"] == pytest.approx(0.75, **EXACT)  # short of 99%
    assert now["status"] == "missed"


# --- The time axis and the per-group split -------------------------------------------------


def _decimal_year_by_timestamps(day: dt.date) -> float:
    start = pd.Timestamp(year=day.year, month=1, day=1)
    length = pd.Timestamp(year=day.year + 1, month=1, day=1) - start
    return day.year + (pd.Timestamp(day) - start) / length


def _from_decimal_year_by_timestamps(x: float) -> dt.date:
    year = math.floor(x)
    start = pd.Timestamp(year=year, month=1, day=1)
    length = pd.Timestamp(year=year + 1, month=1, day=1) - start
    return (start + (x - year) * length).date()


def test_decimal_year_counts_days_as_timestamps_do():
    assert decimal_year(dt.date(2020, 2, 15)) == 2020 + 45 / 366
    assert decimal_year(dt.date(2019, 2, 15)) == 2019 + 45 / 365
    assert decimal_year(dt.date(2020, 12, 31)) == DEADLINE
    # a time of day counts too: a baseline midpoint at noon
    assert decimal_year(pd.Timestamp("2018-07-02 12:00")) == 2018 + 182.5 / 365
    for year in (1900, 2000, 2019, 2020, 2100):
        day = dt.date(year, 1, 1)
        while day.year == year:
            assert decimal_year(day) == _decimal_year_by_timestamps(day), day
            day += dt.timedelta(days=1)


def test_from_decimal_year_lands_on_the_same_day_as_timestamps():
    assert from_decimal_year(2020 + 45.5 / 366) == dt.date(2020, 2, 15)  # noon
    assert from_decimal_year(2019.0) == dt.date(2019, 1, 1)
    for year in (2000, 2019, 2020, 2100):
        days = 366 if year in (2000, 2020) else 365
        for k in range(days):
            x = year + (k + 0.5) / days  # within a day, away from its edges
            for near in (x, x - 0.49 / days, x + 0.49 / days):
                assert from_decimal_year(near) == _from_decimal_year_by_timestamps(near), near


def test_from_decimal_year_gives_back_the_day_of_decimal_year():
    # the start of a day is that day, though multiplying back by the year's length can fall
    # a rounding error short of it ((2019 + 2/365 - 2019) * 365 < 2): cut to the day, that
    # was the day before (2019-01-02)
    assert from_decimal_year(2019 + 2 / 365) == dt.date(2019, 1, 3)
    day = dt.date(1900, 1, 1)
    while day.year <= 2200:
        x = decimal_year(day)
        assert from_decimal_year(x) == day, day
        assert from_decimal_year(math.nextafter(x, 3000)) == day, day
        # a second before the day's start is still the day before
        second = 1 / (86_400 * (366 if calendar.isleap(day.year) else 365))
        assert from_decimal_year(x - second) == day - dt.timedelta(days=1), day
        day += dt.timedelta(days=1)


def _group_series(group: str, indices: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": group,
            "period": list(indices),
            "units_in_panel": 2,
            "units_with_baseline": 2,
            "platforms_in_panel": 1,
            "rate_index": list(indices.values()),
            "reduction": [1 - v for v in indices.values()],
            "coverage_share": 1.0,
            "baseline_midpoint": pd.Timestamp("2018-07-02 12:00"),
            "withheld": False,
        }
    )


def test_each_group_gets_its_own_trend_from_a_given_series():
    quarters = [f"{y}-Q{q}" for y in (2019, 2020) for q in (1, 2, 3, 4)]
    falling = {q: 0.9 ** (i + 1) * (1.02 if i % 2 else 0.98) for i, q in enumerate(quarters)}
    flat = {q: 0.8 + 0.01 * (i % 3) for i, q in enumerate(quarters)}
    short = dict(list(falling.items())[-3:])  # three quarters: no trend
    series = pd.concat(
        [_group_series("Fall", falling), _group_series("Flat", flat), _group_series("Few", short)]
    )
    # rows of the groups interleaved, as a query may return them
    series = series.sort_values(["period", "group"], ignore_index=True)
    totals = pd.DataFrame(
        {"group": ["Fall", "Flat", "Few"], "cumulative_actions": [1, 2, 3], "withheld": False}
    )
    filters = Filters(period_to="2020-Q3")  # the last quarter is left out of every fit
    con = duckdb.connect()
    now = progress(con, filters, by="platform", target=DEFAULT, series=series, totals=totals)
    path = projection(con, filters, by="platform", target=DEFAULT, series=series)
    assert sorted(path["group"].unique()) == ["Fall", "Flat"]
    for group, indices in (("Fall", falling), ("Flat", flat)):
        upto = series[(series["group"] == group) & (series["period"] <= "2020-Q3")]
        trend = fit_trend(upto)
        assert trend.n == 7 and trend.last == dt.date(2020, 8, 16)
        fitted = path[path["group"] == group].set_index("period")["fitted_index"]
        # from the first quarter fitted to a year past the last
        assert (fitted.index[0], fitted.index[-1], len(fitted)) == ("2019-Q1", "2021-Q3", 11)
        for q in ("2019-Q1", "2020-Q3", "2021-Q3"):
            assert fitted[q] == pytest.approx(trend.index_at(quarter_midpoint(q))[0], **EXACT)
        centre, low, high = trend.index_at(DEFAULT.deadline)
        mine = row(now, group)
        assert mine["reduction"] == pytest.approx(1 - indices["2020-Q3"], **EXACT)
        assert mine["projected_reduction_at_deadline"] == pytest.approx(1 - centre, **EXACT)
        assert mine["projected_reduction_low"] == pytest.approx(1 - high, **EXACT)
        assert mine["projected_reduction_high"] == pytest.approx(1 - low, **EXACT)
        assert mine["projected_target_date"] == trend.date_reaching(0.2)
    assert pd.isna(row(now, "Few")["projected_reduction_at_deadline"])
    assert row(now, "Few")["reduction"] == pytest.approx(1 - short["2020-Q3"], **EXACT)
