"""Progress to the target, the projection, and the status of each figure."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import duckdb
import pandas as pd

from metrics.actions import actions
from metrics.filters import Filters, month_bounds, quarter_of, quarter_range
from metrics.projection import (
    PATH_COLUMNS,
    Trend,
    _fit,
    _fit_columns,
    _path_rows,
    decimal_year,
    quarter_midpoint,
)
from metrics.reduction import current_quarter, latest, reduction_series

ON_TRACK, ACCELERATION = 0.95, 0.60

STATUSES = (
    "achieved",
    "on_track",
    "acceleration_needed",
    "limited_progress",
    "deterioration",
    "missed",
    "insufficient_data",
)


@dataclass(frozen=True)
class Target:
    """A reduction to reach by a deadline (0.8 and 2020-12-31 for the coalition's first)."""

    name: str
    reduction: float
    deadline: dt.date


def targets(con: duckdb.DuckDBPyConnection) -> list[Target]:
    """The configured targets, the default first."""
    rows = con.execute(
        "SELECT name, reduction, deadline FROM targets ORDER BY is_default DESC, deadline"
    ).fetchall()
    return [Target(name, float(reduction), deadline) for name, reduction, deadline in rows]


def default_target(con: duckdb.DuckDBPyConnection) -> Target:
    found = targets(con)
    return found[0] if found else Target("80% by end of 2020", 0.8, dt.date(2020, 12, 31))


def pace_ratio(rate_index: float, since: dt.date, now: dt.date, target: Target) -> float | None:
    """Actual pace of decline over the pace needed, in the Open SDG / Statistics Canada manner.

    The actual pace is the compound annual rate at which the detection rate has fallen since the
    baseline, ln(index) / years elapsed; the needed pace is the rate that would take it from the
    baseline to (1 − target) by the deadline, ln(1 − target) / years from baseline to deadline.
    1 means exactly on pace; below 0 means the rate has risen.
    """
    elapsed = decimal_year(now) - decimal_year(since)
    allowed = decimal_year(target.deadline) - decimal_year(since)
    if elapsed <= 0 or allowed <= 0 or not rate_index > 0:
        return None
    actual = math.log(rate_index) / elapsed
    needed = math.log(1 - target.reduction) / allowed
    return actual / needed


def status_of(reduction: float | None, ratio: float | None, as_of: dt.date, target: Target) -> str:
    """The status class of a figure (see :func:`progress`)."""
    if reduction is None or math.isnan(reduction):
        return "insufficient_data"
    if reduction >= target.reduction:
        return "achieved"
    if as_of >= target.deadline:
        return "missed"
    if ratio is None:
        return "insufficient_data"
    if ratio >= ON_TRACK:
        return "on_track"
    if ratio >= ACCELERATION:
        return "acceleration_needed"
    if ratio >= 0:
        return "limited_progress"
    return "deterioration"


def _as_of(filters: Filters, quarter: str | None) -> dt.date | None:
    if filters.to_date:
        return filters.to_date
    return month_bounds(quarter)[1] if quarter else None


def _count(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def progress(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    by: str | None = None,
    target: Target | None = None,
    series: pd.DataFrame | None = None,
    totals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """**Progress to target** = reduction / target reduction, with the projection and status,
    as of the end of the chosen range, one row per group.

    * ``reduction``, ``coverage_share``, ``units_in_panel``: as in the reduction indicator, for
      the quarter that holds the end of the range (``current_period``).
    * ``progress``: the reduction as a share of the target (1 = target met).
    * ``projected_reduction_at_deadline`` with ``projected_reduction_low``/``_high``: a
      straight line fitted to the logarithm of the rate index, quarter by quarter (a constant
      percentage fall per year), read at the deadline, with its 95% band.
      ``projected_target_date`` is when that line reaches the target (empty if it never does).
    * ``pace_ratio``: the pace of decline since the baseline over the pace needed to reach the
      target on time (see :func:`pace_ratio`).
    * ``status``: ``achieved`` (reduction ≥ target); ``missed`` (the deadline came, short of
      it — a figure as of the deadline itself is judged against the target, not by pace);
      otherwise by pace ratio ``on_track`` (≥ 0.95), ``acceleration_needed`` (0.60–0.95),
      ``limited_progress`` (0–0.60), ``deterioration`` (< 0); ``insufficient_data`` when
      there is no matched panel for the quarter.
    * ``cumulative_actions``: removed + blocked since the first record, to the end of the range.
    * ``withheld``: the group's figures are blanked for this viewer (built from one or two
      partners who have not consented to be named; see :mod:`metrics.access`).

    ``series`` (:func:`reduction_series` with ``whole_history=True``) and ``totals``
    (:func:`actions` with ``grain=None``) may be given when the caller has them already, for the
    same filters and ``by``; they are computed otherwise.
    """
    target = target or default_target(con)
    if series is None:
        series = reduction_series(con, filters, by=by, whole_history=True)
    quarter = current_quarter(series, filters)
    as_of = _as_of(filters, quarter)
    if totals is None:
        totals = actions(con, filters, by=by, grain=None)
    cumulative = dict(zip(totals["group"], totals["cumulative_actions"], strict=True))
    totals_withheld = dict(zip(totals["group"], totals["withheld"], strict=True))
    # every group with data gets a row, also one with no baseline yet (insufficient data)
    groups = sorted(set(series["group"]) | set(cumulative)) or ([] if by else ["All"])
    now = latest(series, filters, groups=groups)

    trends = _trends(series, quarter)
    midpoint = quarter_midpoint(quarter) if quarter else None
    rows = []
    # column by column once, not row objects: a hundred platforms made the per-row cost show
    names = [
        "group",
        "reduction",
        "rate_index",
        "coverage_share",
        "units_in_panel",
        "units_with_baseline",
        "platforms_in_panel",
        "baseline_midpoint",
        "withheld",
    ]
    for (
        group,
        reduction,
        rate_index,
        coverage_share,
        units_in_panel,
        units_with_baseline,
        platforms_in_panel,
        baseline_midpoint,
        withheld,
    ) in zip(*(list(now[name]) for name in names), strict=True):
        red = _number(reduction)
        trend = trends.get(group)
        ratio = None
        if red is not None and not pd.isna(baseline_midpoint):
            ratio = pace_ratio(1 - red, baseline_midpoint.date(), midpoint, target)
        rows.append(
            (
                group,
                as_of,
                quarter,
                red,
                _number(rate_index),
                _number(coverage_share),
                int(units_in_panel) if not pd.isna(units_in_panel) else 0,
                int(units_with_baseline) if not pd.isna(units_with_baseline) else 0,
                int(platforms_in_panel) if not pd.isna(platforms_in_panel) else 0,
                target.name,
                target.reduction,
                target.deadline,
                None if red is None else red / target.reduction,
                ratio,
                status_of(red, ratio, as_of, target) if as_of else "insufficient_data",
                *_projection(trend, target),
                _count(cumulative.get(group, 0)),
                # figures blanked for this viewer (see metrics.access)
                withheld is True or bool(totals_withheld.get(group, False)),
            )
        )
    columns = [
        "group",
        "as_of",
        "current_period",
        "reduction",
        "rate_index",
        "coverage_share",
        "units_in_panel",
        "units_with_baseline",
        "platforms_in_panel",
        "target_name",
        "target_reduction",
        "deadline",
        "progress",
        "pace_ratio",
        "status",
        "projected_reduction_at_deadline",
        "projected_reduction_low",
        "projected_reduction_high",
        "projected_target_date",
        "cumulative_actions",
        "withheld",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["cumulative_actions"] = frame["cumulative_actions"].astype("Int64")
    return frame


def _trends(series: pd.DataFrame, quarter: str | None) -> dict[str, Trend | None]:
    """The trend of each group (in sorted order) fitted on its quarters up to ``quarter``.

    The columns are read once and the rows split by group once: filtering the series per group
    cost seconds with a hundred platforms.
    """
    periods, rate, coverage = _fit_columns(series)
    upto = periods <= (quarter or "")
    trends = {}
    for group, at in sorted(series.groupby("group").indices.items()):
        at = at[upto[at]]
        trends[group] = _fit(periods[at], rate[at], coverage[at])
    return trends


def _projection(trend: Trend | None, target: Target) -> tuple:
    """The projected reduction at the deadline, its band, and the date the target is reached."""
    # a trend fitted only on quarters after the deadline says nothing about the deadline
    if trend is None or target.deadline < trend.first:
        return (None, None, None, None)
    centre, low, high = trend.index_at(target.deadline)
    return (1 - centre, 1 - high, 1 - low, trend.date_reaching(1 - target.reduction))


def projection(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    by: str | None = None,
    target: Target | None = None,
    series: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The fitted trend of the rate index quarter by quarter with its 95% band, from the first
    quarter it was fitted on to the deadline (or a year past the end of the range, whichever is
    later); ``is_projection`` marks the quarters beyond the data. ``series`` as in
    :func:`progress`."""
    target = target or default_target(con)
    if series is None:
        series = reduction_series(con, filters, by=by, whole_history=True)
    quarter = current_quarter(series, filters)
    trends = _trends(series, quarter)
    from_quarter = quarter_of(filters.from_date) if filters.period_from else None
    rows = []
    for group, trend in trends.items():
        if trend is None:
            continue
        end = max(target.deadline, trend.last + dt.timedelta(days=366))
        quarters = quarter_range(quarter_of(trend.first), quarter_of(end))
        if from_quarter:
            quarters = [q for q in quarters if q >= from_quarter]
        rows.extend((group, *path) for path in _path_rows(trend, quarters))
    frame = pd.DataFrame(rows, columns=["group", *PATH_COLUMNS])
    if not rows and any(trend is not None for trend in trends.values()):
        # trends, but every quarter before period_from: the group column is text, as ever
        frame["group"] = frame["group"].astype("str")
    return frame
