"""Log-linear trend of the detection-rate index, with a 95% band, projected forward."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

from metrics.filters import month_bounds

MIN_POINTS = 4
MIN_COVERAGE = 0.5


# in days: closer than this to a day's start is that start (a microsecond is 1.2e-11 days;
# the float error of ``decimal_year`` near the year 2200 is below 1e-12 of a year)
_SAME_INSTANT = 1e-9


def decimal_year(day: dt.date | pd.Timestamp) -> float:
    """2020-07-01 → 2020.497…: the time axis of the trend."""
    if type(day) is dt.date and day.year < dt.MAXYEAR:
        # whole days over the days in the year: the same float as the Timestamp route below
        start = dt.date(day.year, 1, 1).toordinal()
        length = dt.date(day.year + 1, 1, 1).toordinal() - start
        return day.year + (day.toordinal() - start) / length
    day = pd.Timestamp(day)
    start = pd.Timestamp(year=day.year, month=1, day=1)
    length = pd.Timestamp(year=day.year + 1, month=1, day=1) - start
    return day.year + (day - start) / length


def from_decimal_year(x: float) -> dt.date:
    """The day that holds the instant ``x`` of the trend's time axis: the inverse of
    :func:`decimal_year`, so that a day's own start gives that day back."""
    year = math.floor(x)
    if dt.MINYEAR <= year < dt.MAXYEAR:
        start = dt.date(year, 1, 1)
        length = dt.date(year + 1, 1, 1).toordinal() - start.toordinal()
        days = (x - year) * length
        # ``decimal_year`` adds whole days over the year's length to the year; taking the year
        # off and multiplying back can land a rounding error below the whole day (2019-01-03:
        # 1.99999999997), which cut to the day would give the day before
        nearest = round(days)
        if abs(days - nearest) < _SAME_INSTANT:
            days = nearest
        return start + dt.timedelta(days=math.floor(days))
    start = pd.Timestamp(year=year, month=1, day=1)
    length = pd.Timestamp(year=year + 1, month=1, day=1) - start
    return (start + (x - year) * length).date()


@cache
def quarter_midpoint(quarter: str) -> dt.date:
    first, last = month_bounds(quarter)
    return first + (last - first + dt.timedelta(days=1)) / 2


@cache
def _quarter_x(quarter: str) -> float:
    return decimal_year(quarter_midpoint(quarter))


@cache
def _t_quantile(level: float, dof: int) -> float:
    # the two-sided Student t quantile of the band; scipy takes ~0.3 ms a call
    return float(stats.t.ppf(0.5 + level / 2, dof))


@dataclass(frozen=True)
class Trend:
    """ln(rate index) = intercept + slope × year, fitted by least squares."""

    intercept: float
    slope: float
    n: int
    residual_sd: float
    x_mean: float
    sxx: float
    first: dt.date
    last: dt.date

    @property
    def annual_change(self) -> float:
        """The fitted change of the detection rate per year (−0.3 = falling 30% a year)."""
        return math.exp(self.slope) - 1

    def index_at(self, when: dt.date, level: float = 0.95) -> tuple[float, float, float]:
        """The fitted rate index at a date, with the band of the fitted trend (``level``)."""
        return self._index_at_x(decimal_year(when), level)

    def _index_at_x(self, x: float, level: float = 0.95) -> tuple[float, float, float]:
        centre = self.intercept + self.slope * x
        se = self.residual_sd * math.sqrt(1 / self.n + (x - self.x_mean) ** 2 / self.sxx)
        half = _t_quantile(level, self.n - 2) * se
        return math.exp(centre), math.exp(centre - half), math.exp(centre + half)

    def date_reaching(self, index: float) -> dt.date | None:
        """When the trend reaches a rate index (e.g. 0.2 for an 80% reduction), if it falls."""
        if self.slope >= 0:
            return None
        x = (math.log(index) - self.intercept) / self.slope
        if x > 2200:
            return None
        return from_decimal_year(x)


def fit_trend(series: pd.DataFrame) -> Trend | None:
    """Fit the log-linear trend to one group's quarterly reduction series.

    Uses the quarters with a positive rate index whose matched panel covers at least half of the
    baseline volume (earlier quarters speak for too few platforms); needs at least four.
    """
    return _fit(*_fit_columns(series))


def _fit_columns(series: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The period, rate index and coverage columns that :func:`_fit` reads, as arrays."""
    return (
        series["period"].to_numpy(),
        series["rate_index"].to_numpy(dtype=float, na_value=np.nan),
        series["coverage_share"].to_numpy(dtype=float, na_value=np.nan),
    )


def _fit(periods: np.ndarray, rate: np.ndarray, coverage: np.ndarray) -> Trend | None:
    """:func:`fit_trend` on one group's columns, in period order."""
    with np.errstate(invalid="ignore"):
        usable = (rate > 0) & (coverage >= MIN_COVERAGE)
    periods = periods[usable]
    if len(periods) < MIN_POINTS:
        return None
    x = np.array([_quarter_x(q) for q in periods])
    y = np.log(rate[usable])
    # np.polyfit, not the closed form: the same figures to the last bit as before
    slope, intercept = (float(c) for c in np.polyfit(x, y, 1))
    x_mean = x.mean()
    residuals = y - (intercept + slope * x)
    dof = len(x) - 2
    residual_sd = math.sqrt(float(residuals @ residuals) / dof)
    return Trend(
        intercept=intercept,
        slope=slope,
        n=len(x),
        residual_sd=residual_sd,
        x_mean=float(x_mean),
        sxx=float(((x - x_mean) ** 2).sum()),
        first=quarter_midpoint(periods[0]),
        last=quarter_midpoint(periods[-1]),
    )


PATH_COLUMNS = [
    "period",
    "date",
    "fitted_index",
    "index_low",
    "index_high",
    "fitted_reduction",
    "reduction_low",
    "reduction_high",
    "is_projection",
]


def trend_path(trend: Trend, quarters: list[str]) -> pd.DataFrame:
    """The fitted index and its band at each quarter's midpoint, as reductions too."""
    return pd.DataFrame(_path_rows(trend, quarters), columns=PATH_COLUMNS)


def _path_rows(trend: Trend, quarters: list[str]) -> list[tuple]:
    """The rows of :func:`trend_path`."""
    rows = []
    for q in quarters:
        mid = quarter_midpoint(q)
        centre, low, high = trend._index_at_x(_quarter_x(q))
        rows.append((q, mid, centre, low, high, 1 - centre, 1 - high, 1 - low, mid > trend.last))
    return rows
