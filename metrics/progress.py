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
    decimal_year,
    fit_trend,
    quarter_midpoint,
    trend_path,
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

    # split once: filtering the series per group costs seconds with a hundred platforms
    histories = dict(tuple(series[series["period"] <= (quarter or "")].groupby("group")))
    rows = []
    for row in now.itertuples(index=False):
        red = _number(row.reduction)
        history = histories.get(row.group)
        trend = fit_trend(history) if history is not None else None
        ratio = None
        if red is not None and not pd.isna(row.baseline_midpoint):
            ratio = pace_ratio(
                1 - red, row.baseline_midpoint.date(), quarter_midpoint(quarter), target
            )
        projected = _projection(trend, target)
        rows.append(
            {
                "group": row.group,
                "as_of": as_of,
                "current_period": quarter,
                "reduction": red,
                "rate_index": _number(row.rate_index),
                "coverage_share": _number(row.coverage_share),
                "units_in_panel": int(row.units_in_panel) if not pd.isna(row.units_in_panel) else 0,
                "units_with_baseline": (
                    int(row.units_with_baseline) if not pd.isna(row.units_with_baseline) else 0
                ),
                "platforms_in_panel": (
                    int(row.platforms_in_panel) if not pd.isna(row.platforms_in_panel) else 0
                ),
                "target_name": target.name,
                "target_reduction": target.reduction,
                "deadline": target.deadline,
                "progress": None if red is None else red / target.reduction,
                "pace_ratio": ratio,
                "status": status_of(red, ratio, as_of, target) if as_of else "insufficient_data",
                **projected,
                "cumulative_actions": _count(cumulative.get(row.group, 0)),
                # figures blanked for this viewer (see metrics.access)
                "withheld": row.withheld is True or bool(totals_withheld.get(row.group, False)),
            }
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


def _projection(trend: Trend | None, target: Target) -> dict:
    # a trend fitted only on quarters after the deadline says nothing about the deadline
    if trend is None or target.deadline < trend.first:
        return {
            "projected_reduction_at_deadline": None,
            "projected_reduction_low": None,
            "projected_reduction_high": None,
            "projected_target_date": None,
        }
    centre, low, high = trend.index_at(target.deadline)
    return {
        "projected_reduction_at_deadline": 1 - centre,
        "projected_reduction_low": 1 - high,
        "projected_reduction_high": 1 - low,
        "projected_target_date": trend.date_reaching(1 - target.reduction),
    }


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
    frames = []
    for group, history in series.groupby("group", sort=True):
        trend = fit_trend(history[history["period"] <= (quarter or "")])
        if trend is None:
            continue
        end = max(target.deadline, trend.last + dt.timedelta(days=366))
        quarters = quarter_range(quarter_of(trend.first), quarter_of(end))
        if filters.period_from:
            quarters = [q for q in quarters if q >= quarter_of(filters.from_date)]
        path = trend_path(trend, quarters)
        path.insert(0, "group", group)
        frames.append(path)
    if not frames:
        return pd.DataFrame(columns=["group", *PATH_COLUMNS])
    return pd.concat(frames, ignore_index=True)
