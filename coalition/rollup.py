"""Pre-aggregated copies of ``facts`` for the indicator queries (a prototype, not wired in).

Every indicator reads the ``facts`` view: each current record joined to its submission,
platform, partner, period and country. At two million records and more, scanning and joining
that view is most of the cost of a page (see ``docs/scaling.md``). The tables here hold the same
figures summed over the records that no indicator tells apart, in the very shape of ``facts``
plus a column ``n_rows`` (how many records a row stands for), so the indicator SQL of
``metrics/sql`` runs on them unchanged but for its ``FROM facts`` (and ``count(*)`` becoming
``sum(n_rows)``).

The sums are exact, not approximate: records are grouped by which of their counts are blank
as well as by the dimensions kept, so a clause such as ``sum(listings_detected) FILTER (WHERE
search_effort IS NOT NULL)`` selects whole groups, never parts of one. (Accounts actioned and
reports received are summed without that care; no page's indicator filters on their blanks.)

=========================  ==========================================================
table                      kept (besides status, pending flag and the period)
=========================  ==========================================================
``rollup_cells``           platform, species group, country (drops ``taxon`` detail)
``rollup_platform``        platform only: the coalition, platform, partner and sector
                           figures with no species, region or country filter
``rollup_species``         platform × species group
``rollup_subregion``       platform × region × subregion
``rollup_uploads``         platform × period: when figures first arrived (coverage)
=========================  ==========================================================

:func:`refresh` rebuilds them (or, given platform ids, only those platforms' rows) inside the
caller's transaction — the place for it is the end of every write that changes records
(ingest, review, restore). :func:`table_for` picks the smallest table that can answer a query.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

# The null pattern a group keeps whole (see the module docstring).
_NULL_FLAGS = (
    "listings_removed IS NULL",
    "listings_blocked IS NULL",
    "listings_detected IS NULL",
    "search_effort IS NULL",
)
_PERIOD_COLUMNS = "period, period_kind, start_date, end_date, end_month, quarter, year, months"
_PLATFORM_COLUMNS = "platform_id, platform, partner, sector"
_SUMS = """
    sum(listings_removed) AS listings_removed,
    sum(listings_blocked) AS listings_blocked,
    sum(accounts_actioned) AS accounts_actioned,
    sum(reports_received) AS reports_received,
    sum(listings_detected) AS listings_detected,
    sum(search_effort) AS search_effort,
    {rows} AS n_rows
"""

# name → (the dimensions it keeps beyond status/pending/platform/period, their values when
# dropped, the table it is summed from)
_LEVELS: dict[str, tuple[str, str, str]] = {
    "rollup_cells": (
        "species_group, country, region, subregion",
        "",
        "facts",
    ),
    "rollup_platform": (
        "",
        "CAST(NULL AS TEXT) AS species_group, CAST(NULL AS TEXT) AS country, "
        "CAST(NULL AS TEXT) AS region, CAST(NULL AS TEXT) AS subregion",
        "rollup_cells",
    ),
    "rollup_species": (
        "species_group",
        "CAST(NULL AS TEXT) AS country, CAST(NULL AS TEXT) AS region, "
        "CAST(NULL AS TEXT) AS subregion",
        "rollup_cells",
    ),
    "rollup_subregion": (
        "region, subregion",
        "CAST(NULL AS TEXT) AS species_group, CAST(NULL AS TEXT) AS country",
        "rollup_cells",
    ),
}

UPLOADS = """
SELECT r.platform_id, r.period, min(sub.uploaded_at) AS first_uploaded
FROM records AS r
JOIN submissions AS sub ON sub.id = r.submission_id
{where}
GROUP BY r.platform_id, r.period
"""


def level_sql(name: str, where: str = "") -> str:
    """The SELECT that computes rollup table ``name`` (from ``facts`` or ``rollup_cells``),
    limited by ``where`` (a WHERE clause or empty)."""
    kept, dropped, source = _LEVELS[name]
    rows = "count(*)" if source == "facts" else "sum(n_rows)"
    pending = "min(replaced_by_pending) AS replaced_by_pending"
    dims = ", ".join(part for part in ("status", _PLATFORM_COLUMNS, _PERIOD_COLUMNS, kept) if part)
    flags = ", ".join(_NULL_FLAGS) + ", replaced_by_pending IS NULL"
    return (
        f"SELECT {dims}{', ' + dropped if dropped else ''}, {pending},"
        f"{_SUMS.format(rows=rows)}"
        f"FROM {source} {where} GROUP BY {dims}, {flags}"
    )


def refresh(cur: duckdb.DuckDBPyConnection, platform_ids: Iterable[int] | None = None) -> None:
    """Rebuild the rollup tables from ``facts`` (all of them), or only the rows of
    ``platform_ids`` (after a write that touched those platforms' records). Runs in the
    caller's transaction, so readers see the records and the rollups change together."""
    if platform_ids is None:
        for name in _LEVELS:
            cur.execute(
                f"CREATE OR REPLACE TABLE {name} AS {level_sql(name)} ORDER BY platform_id, period"
            )
        cur.execute(f"CREATE OR REPLACE TABLE rollup_uploads AS {UPLOADS.format(where='')}")
        return
    ids = sorted({int(i) for i in platform_ids})
    if not ids:
        return
    for name in (*_LEVELS, "rollup_uploads"):
        cur.execute(f"DELETE FROM {name} WHERE list_contains($ids, platform_id)", {"ids": ids})
    for name in _LEVELS:
        where = "WHERE list_contains($ids, platform_id)"
        cur.execute(f"INSERT INTO {name} BY NAME {level_sql(name, where)}", {"ids": ids})
    cur.execute(
        "INSERT INTO rollup_uploads BY NAME "
        + UPLOADS.format(where="WHERE list_contains($ids, r.platform_id)"),
        {"ids": ids},
    )


_SPECIES_LEVEL = {"species_group"}
_REGION_LEVEL = {"region", "subregion"}
_CELL_LEVEL = {"country"}


def table_for(by: str | None, filters: Any) -> str:
    """The smallest rollup table that keeps every dimension a query breaks down or filters by
    (``filters`` is a :class:`metrics.Filters`)."""
    needs = {by} if by else set()
    if filters.species_groups:
        needs.add("species_group")
    if filters.regions:
        needs |= {"region", "subregion"}
    if filters.countries:
        needs.add("country")
    needs -= {"platform", "partner", "sector"}
    if not needs:
        return "rollup_platform"
    if needs <= _SPECIES_LEVEL:
        return "rollup_species"
    if needs <= _REGION_LEVEL:
        return "rollup_subregion"
    return "rollup_cells"


def rewrite(sql: str, table: str) -> str:
    """Indicator SQL written for ``facts`` made to read ``table`` instead."""
    out = sql.replace("FROM facts", f"FROM {table}").replace(
        "count(*) AS rows_used", "sum(n_rows) AS rows_used"
    )
    return out.replace(
        """    FROM records AS r
    JOIN submissions AS sub ON sub.id = r.submission_id
    GROUP BY r.platform_id, r.period""",
        "    FROM rollup_uploads AS r\n    GROUP BY r.platform_id, r.period",
    ).replace("min(sub.uploaded_at) AS first_uploaded", "min(r.first_uploaded) AS first_uploaded")


# --- measuring (benchmarks/bench_pages.py --rollup) -----------------------------------------


def measure(path: str | Path, repeat: int = 3) -> dict[str, Any]:
    """Build the rollups in the database at ``path`` (a scratch copy: this writes to it) and
    compare indicator queries on them with the same queries on ``facts``: times (best of
    ``repeat`` on an open connection) and whether the results are equal."""
    import pandas as pd

    import metrics
    from metrics import filters as mfilters

    out: dict[str, Any] = {}
    con = duckdb.connect(str(path))
    try:
        started = time.perf_counter()
        con.begin()
        refresh(con)
        con.commit()
        out["refresh (full) s"] = round(time.perf_counter() - started, 3)
        for name in (*_LEVELS, "rollup_uploads"):
            out[f"rows {name}"] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        out["rows facts"] = con.execute("SELECT count(*) FROM facts").fetchone()[0]
        partner = con.execute(
            "SELECT partner FROM platforms GROUP BY partner ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
        ids = [
            r[0]
            for r in con.execute("SELECT id FROM platforms WHERE partner = ?", [partner]).fetchall()
        ]
        started = time.perf_counter()
        con.begin()
        refresh(con, ids)
        con.commit()
        out[f"refresh ({len(ids)} platforms of one partner) s"] = round(
            time.perf_counter() - started, 3
        )
        cases = [
            ("reduction", None, metrics.Filters()),
            ("reduction", "platform", metrics.Filters()),
            ("reduction", "species_group", metrics.Filters()),
            ("reduction", "region", metrics.Filters()),
            ("reduction", "country", metrics.Filters()),
            ("actions", None, metrics.Filters()),
            ("actions", "species_group", metrics.Filters()),
            ("detection_rate", "species_group", metrics.Filters()),
            ("proactive_share", "platform", metrics.Filters()),
            ("coverage", None, metrics.Filters()),
            ("reduction", None, metrics.Filters(species_groups=("elephants",))),
        ]
        for name, by, flt in cases:
            table = table_for(by, flt)
            params = flt.params(by, "quarter")
            if name == "coverage":
                params["due_days"] = 45
            text = mfilters.sql(name)
            used = {k: v for k, v in params.items() if f"${k}" in text}
            fast = rewrite(text, table)
            times = {}
            results = {}
            for label, query in (("facts", text), (table, fast)):
                best = float("inf")
                for _ in range(repeat):
                    started = time.perf_counter()
                    results[label] = con.execute(query, used).df()
                    best = min(best, time.perf_counter() - started)
                times[label] = best
            a, b = results["facts"], results[table]
            try:
                pd.testing.assert_frame_equal(
                    a.reset_index(drop=True),
                    b.reset_index(drop=True),
                    check_dtype=False,
                    rtol=1e-9,
                )
                same = "equal"
            except AssertionError as exc:
                same = f"DIFFERENT: {str(exc).splitlines()[0]}"
            key = f"{name}(by={by}{', species filter' if flt.species_groups else ''})"
            out[key] = (
                f"facts {times['facts']:.3f} s, {table} {times[table]:.4f} s, "
                f"{times['facts'] / max(times[table], 1e-6):.0f}x, {same}"
            )
    finally:
        con.close()
    return out
