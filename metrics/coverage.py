"""Reporting coverage and timeliness: how complete and how current the picture is."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.filters import Filters, run

DEFAULT_DUE_DAYS = 45
EXPECTED_BREAKDOWNS = (None, "partner", "sector", "platform")


def reporting_coverage(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    by: str | None = None,
    grain: str = "quarter",
) -> pd.DataFrame:
    """**Coverage and timeliness**: for each period, the partners and platforms that were
    members (had joined by the period's end) and so were expected to report, how many did
    report, how many are missing, and how many reported late — their first upload for the
    period came more than the due time (45 days unless the secretariat set another) after the
    end of the period's quarter (partners report quarterly, so a month's figures are due with
    its quarter's). ``reporting_share`` = partners reporting / partners expected.

    Expected counts exist for the coalition as a whole and by partner, sector or platform; for
    a breakdown by (or a filter on) species group, region or country only who reported is
    known, so the expected columns are empty.
    """
    params = filters.params(by, grain)
    row = con.execute("SELECT value FROM meta WHERE key = 'submission_due_days'").fetchone()
    params["due_days"] = int(row[0]) if row else DEFAULT_DUE_DAYS
    frame = run(con, "coverage", params)
    # Who was expected to report a species group, region or country is unknown: a partner
    # that reported other species is not missing.
    if (
        by not in EXPECTED_BREAKDOWNS
        or filters.species_groups
        or filters.regions
        or (filters.countries)
    ):
        frame = frame[frame["partners_reporting"] > 0].copy()
        for col in (
            "partners_expected",
            "platforms_expected",
            "partners_missing",
            "reporting_share",
        ):
            frame[col] = pd.NA
    return frame.reset_index(drop=True)
