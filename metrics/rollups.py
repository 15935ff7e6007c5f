"""Reading the pre-aggregated tables instead of ``facts`` (how they are built and kept up to
date: ``coalition/rollup.py``).

Every indicator's SQL is written for the ``facts`` view: one row per current record. The
rollup tables hold the same columns summed over the records that no indicator tells apart,
plus ``n_rows`` (how many records a row stands for), so the same SQL runs on them with only
its ``FROM facts`` changed. Their figures are exact, not approximate. They are used only when
the database says they describe its current data (``meta.rollup_version`` equal to
``FORMAT:data_version``); otherwise every query reads ``facts`` as before, so a database
whose rollups are missing, stale or older than this release still gives the right figures,
only more slowly.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import duckdb

# Bump when the tables' definition in coalition/rollup.py changes: older tables are then
# ignored until rebuilt.
FORMAT = "4"
STAMP_KEY = "rollup_version"

# the dimensions each table keeps, beyond status, platform, partner, sector and period
TABLES = (
    ("rollup_platform", frozenset()),
    ("rollup_species", frozenset({"species_group"})),
    ("rollup_subregion", frozenset({"region", "subregion"})),
    ("rollup_country", frozenset({"country", "region", "subregion"})),
    ("rollup_cells", frozenset({"species_group", "region", "subregion", "country"})),
)
# The same tables summed over all periods too (``TOTAL_SUFFIX``): one row where the tables
# above have one per month. They answer the queries that see periods only through the grain
# and the date range (``WHOLE_RANGE_QUERIES``) when those ask for the whole range in one
# figure: grain "total", no start or end date — what the pages show by default.
TOTAL_SUFFIX = "_total"
WHOLE_RANGE_QUERIES = frozenset({"actions", "detection_rate", "proactive_share"})
_ALWAYS_KEPT = frozenset({"platform", "platform_kind", "partner", "sector"})
_BY_NEEDS = {"species_region": {"species_group", "region"}}

# one scan of meta for both values, compared here: it runs before every indicator query, and
# this takes half the time of comparing them in SQL with two subqueries
_FRESH = "SELECT key, value FROM meta WHERE key = $stamp OR key = 'data_version'"


def stamp(data_version: int | str) -> str:
    """The ``meta.rollup_version`` value that says the tables describe ``data_version``."""
    return f"{FORMAT}:{data_version}"


def fresh(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the rollup tables describe the data as it is now."""
    values = dict(con.execute(_FRESH, {"stamp": STAMP_KEY}).fetchall())
    return values.get(STAMP_KEY) == stamp(values.get("data_version", "0"))


def table_for(params: dict[str, Any], query: str | None = None) -> str:
    """The smallest rollup table that keeps every dimension a query (its parameters, as made
    by :meth:`metrics.Filters.params`) breaks down or filters by; its all-time twin when
    ``query`` (a name in ``metrics/sql``) asks for one figure over the whole range."""
    by = params.get("by") or ""
    needs = set(_BY_NEEDS.get(by, {by} if by else set()))
    if params.get("species"):
        needs.add("species_group")
    if params.get("regions"):
        needs |= {"region", "subregion"}
    if params.get("countries"):
        needs.add("country")
    needs -= _ALWAYS_KEPT
    whole_range = (
        query in WHOLE_RANGE_QUERIES
        and params.get("grain") == "total"
        and params.get("from_date") is None
        and params.get("to_date") is None
    )
    for name, kept in TABLES:
        if needs <= kept:
            return name + TOTAL_SUFFIX if whole_range else name
    raise ValueError(f"No rollup table keeps {sorted(needs)}.")


@cache
def rewrite(sql: str, table: str) -> str:
    """Indicator SQL written for ``facts`` made to read ``table`` instead."""
    out = sql.replace("FROM facts", f"FROM {table}").replace(
        "count(*) AS rows_used", "sum(n_rows) AS rows_used"
    )
    # coverage: when a platform's figures for a period first arrived
    out = out.replace(
        """    FROM records AS r
    JOIN submissions AS sub ON sub.id = r.submission_id
    GROUP BY r.platform_id, r.period""",
        "    FROM rollup_uploads AS r\n    GROUP BY r.platform_id, r.period",
    ).replace("min(sub.uploaded_at) AS first_uploaded", "min(r.first_uploaded) AS first_uploaded")
    if "FROM records" in out or "count(*) AS rows_used" in out:
        raise ValueError("This query reads records in a way the rollup tables cannot answer.")
    return out
