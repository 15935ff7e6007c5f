"""Actions and proactive share: what platforms did about the listings they found."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.filters import Filters, run


def actions(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    by: str | None = None,
    grain: str | None = "quarter",
) -> pd.DataFrame:
    """**Actions** = listings removed + listings blocked: the figure the coalition used to
    publish.

    One row per group and period with ``listings_removed``, ``listings_blocked``, ``actions``
    (their sum; a count that was not reported adds nothing), ``cumulative_actions`` (the running
    total since the first record, including periods before the chosen range), and the number of
    partners and platforms that reported anything. ``grain`` is ``"month"``, ``"quarter"`` or
    ``"year"`` (a quarterly figure is placed at its quarter's last month when shown by month),
    or ``None`` for one row per group: the counts over the chosen range, and
    ``cumulative_actions`` still the running total since the first record.
    """
    return run(con, "actions", filters.params(by, grain))


def proactive_share(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    *,
    by: str | None = None,
    grain: str | None = "quarter",
) -> pd.DataFrame:
    """**Proactive share** = listings blocked / (listings blocked + listings removed).

    Blocking a listing before it goes live is prevention; removing it afterwards is a takedown.
    A rising share is progress. Only rows that report both counts are used, so that a partner
    reporting one of them alone cannot tilt the share; ``rows_used`` says how many.
    """
    return run(con, "proactive_share", filters.params(by, grain))
