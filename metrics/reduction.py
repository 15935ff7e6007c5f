"""Reduction of the detection rate against a baseline, over a matched panel."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.filters import Filters, quarter_of, run


def reduction_series(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    by: str | None = None,
    whole_history: bool = False,
) -> pd.DataFrame:
    """**Reduction vs baseline** = 1 − detection rate now / detection rate at baseline, quarter
    by quarter.

    *Baseline.* Each platform has its own: the quarters set for it by the secretariat, or else
    its first four quarters with a detection figure. A platform has no baseline until those four
    quarters are over, so a partner that joins late enters the comparison only once its own
    baseline exists, and is then compared with itself — never with the coalition's 2018 level.

    *Matched panel.* A figure for several platforms (or species groups, regions, …) uses only
    the units — a platform, or a platform × the breakdown's group — that have data both in their
    baseline and in the quarter shown. For those units the quarter's rate is applied to the
    baseline's search effort, giving the detections the baseline sweep would find today; the
    index ``rate_index`` is that number over the detections actually found at baseline, and
    ``reduction`` = 1 − ``rate_index``. This weights each unit by its baseline volume.

    *Coverage.* ``coverage_share`` is the share of baseline detections (of all units whose
    baseline was complete by then) that the panel covers; ``units_in_panel`` and
    ``units_with_baseline`` count them. A low coverage means the figure speaks for a small part
    of the coalition. Where a platform never reports search effort, its sweep is taken as
    constant and its rate is detections per month reported.
    """
    frame = run(con, "reduction", filters.params(by, "quarter"))
    return frame if whole_history else in_range(frame, filters)


def in_range(series: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The quarters of a whole-history series that the filters' period range lists."""
    if filters.period_from:
        series = series[series["period"] >= quarter_of(filters.from_date)]
    return series.reset_index(drop=True)


def reduction(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """The reduction as of the end of the chosen range: one row per group for the quarter that
    holds ``period_to`` (or the latest quarter with data), with the columns of
    :func:`reduction_series`. A group without a matched panel in that quarter gets empty
    figures rather than no row."""
    series = reduction_series(con, filters, by=by, whole_history=True)
    return latest(series, filters)


def current_quarter(series: pd.DataFrame, filters: Filters) -> str | None:
    if filters.to_date:
        return quarter_of(filters.to_date)
    return series["period"].max() if not series.empty else None


def latest(series: pd.DataFrame, filters: Filters, groups: list[str] | None = None) -> pd.DataFrame:
    """The rows of ``series`` for the current quarter, one per group (empty where missing)."""
    quarter = current_quarter(series, filters)
    names = groups if groups is not None else sorted(series["group"].unique())
    groups = pd.DataFrame({"group": pd.Series(names, dtype=series["group"].dtype)})
    current = series[series["period"] == quarter]
    frame = groups.merge(current, on="group", how="left")
    frame["period"] = quarter
    return frame
