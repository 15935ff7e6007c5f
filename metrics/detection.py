"""Detection rate: how much prohibited trade the standardised monitoring sweep still finds."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.filters import Filters, run


def detection_rate(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    by: str | None = None,
    grain: str | None = "quarter",
) -> pd.DataFrame:
    """**Detection rate** = listings detected in monitoring / monitoring searches run.

    This is the prevalence measure: the share of standard searches that still turn up a
    prohibited listing. Dividing by the size of the sweep lets periods with more or fewer
    searches be compared. Only rows that report both counts enter the rate;
    ``detected_without_effort`` shows detections reported without a sweep size (those enter the
    reduction indicator as "detections per month" for platforms whose sweep is constant).
    ``detected_per_1000_searches`` is the same rate in a more readable unit.
    """
    return run(con, "detection_rate", filters.params(by, grain))
