"""The pre-aggregated tables that the indicators read at scale, and keeping them up to date.

Every indicator reads the ``facts`` view: each current record joined to its submission,
platform, partner, period and country. At two million records and more, scanning and joining
that view is most of the cost of a page (see ``docs/scaling.md``). The tables here hold the same
figures summed over the records that no indicator tells apart, in the very shape of ``facts``
plus a column ``n_rows`` (how many records a row stands for), so the indicator SQL of
``metrics/sql`` runs on them unchanged but for its ``FROM facts`` (``metrics/rollups.py``
chooses the table and rewrites the query).

The sums are exact, not approximate: records are grouped by which of their counts are blank
as well as by the dimensions kept, so a clause such as ``sum(listings_detected) FILTER (WHERE
search_effort IS NOT NULL)`` selects whole groups, never parts of one. (Accounts actioned and
reports received are summed without that care; no indicator filters on their blanks.)

=========================  ==========================================================
table                      kept (besides status, pending flag and the period)
=========================  ==========================================================
``rollup_cells``           platform, species group, country (drops ``taxon`` detail)
``rollup_platform``        platform only: the coalition, platform, partner and sector
                           figures with no species, region or country filter
``rollup_species``         platform × species group
``rollup_subregion``       platform × region × subregion
``rollup_country``         platform × country (species groups folded)
``rollup_*_total``         each of the five above summed over all periods (one row where
                           they have one per month): the whole range's actions, detection
                           and proactive share, which the pages show by default
``rollup_uploads``         platform × period: when figures first arrived (coverage)
``rollup_jumps``           not figures but the data-quality ``jump`` flags
                           (:mod:`coalition.quality`), worked out platform by platform
                           from ``rollup_cells``, and kept only while that is a table
=========================  ==========================================================

**Keeping them up to date.** After every write that changes figures
(:meth:`coalition.db.Database.write`), :func:`after_write` runs in a transaction of its own:
it compares a fingerprint of each platform's records (ids, submission, status, supersession)
and names with the one stored at the last refresh (``rollup_state``) and rebuilds only the
platforms that differ, then stamps ``meta.rollup_version`` with the data version it
describes. A reader uses the tables only when that stamp matches the current data version
(:func:`metrics.rollups.fresh`); until then — after a crash between the two transactions, a
failed refresh, a database from an older release — the indicators read ``facts``: slower,
never wrong. Databases under :data:`MIN_RECORDS` records are not worth it and keep no rollups.

**``rollup_cells`` is a view below :data:`CELLS_MIN_RECORDS` records.** Real data has about one
record per platform × species group × country × month, so this table holds nearly as many rows
as ``records``: writing it costs as much as storing the records again (0.45 s of a 200,000-row
load), and what it saves a reader is only the joins of ``facts``, which cost little until the
records number in the millions. Below that size ``rollup_cells`` is a view that sums ``facts``
the same way when read; the other tables are built from it as from the table.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from coalition import quality
from coalition.store import COUNT_COLUMNS
from metrics import rollups

logger = logging.getLogger(__name__)

# Below this many records, reading facts is fast enough (the demo has ~150,000); the rollups'
# upkeep would cost every small write more than it saves. $COALITION_ROLLUP_MIN overrides it.
MIN_RECORDS = 50_000
MIN_RECORDS_ENV = "COALITION_ROLLUP_MIN"
# From this many records rollup_cells is a table, below it a view (see the module docstring).
# $COALITION_ROLLUP_CELLS_MIN overrides it.
CELLS_MIN_RECORDS = 500_000
CELLS_MIN_RECORDS_ENV = "COALITION_ROLLUP_CELLS_MIN"
CELLS = "rollup_cells"
# The data-quality jump flags (coalition/quality.py), platform by platform: kept, like
# rollup_cells, only from CELLS_MIN_RECORDS records (the quality page works them out on
# reading below that).
JUMPS = "rollup_jumps"

# The null pattern a group keeps whole (see the module docstring).
_NULL_FLAGS = (
    "listings_removed IS NULL",
    "listings_blocked IS NULL",
    "listings_detected IS NULL",
    "search_effort IS NULL",
)
_COUNTS = COUNT_COLUMNS
# The columns of facts besides its counts and the keys summed by, in facts' own words: a
# platform's and a period's are looked up by their key once the rows are summed (see
# level_sql); the rest are kept by some tables and NULL in the others.
_PLATFORM_COLUMNS = "pl.name AS platform, pl.partner, pa.sector"
_PERIOD_COLUMNS = (
    "pe.kind AS period_kind, pe.start_date, pe.end_date, pe.end_month, pe.quarter, pe.year, "
    "pe.months"
)
_DIMENSIONS = ("species_group", "country", "region", "subregion")

# name → (the dimensions it keeps beyond status, platform and period; the table it is summed
# from). Each table is summed from the smallest one that keeps what it keeps, so the order
# matters: a table is built after its source.
_LEVELS: dict[str, tuple[tuple[str, ...], str]] = {
    "rollup_cells": (("species_group", "country", "region", "subregion"), "facts"),
    "rollup_country": (("country", "region", "subregion"), "rollup_cells"),
    "rollup_species": (("species_group",), "rollup_cells"),
    "rollup_subregion": (("region", "subregion"), "rollup_country"),
    "rollup_platform": ((), "rollup_species"),
}
# Each of them summed over all periods as well: name + "_total" → the table it is summed from
# (see metrics/rollups.py for the queries they answer).
_TOTALS = {name + rollups.TOTAL_SUFFIX: name for name in _LEVELS}
# Their period columns: empty, as no query that reads them looks at one.
_NO_PERIOD_COLUMNS = (
    "CAST(NULL AS TEXT) AS period, CAST(NULL AS TEXT) AS period_kind, "
    "CAST(NULL AS DATE) AS start_date, CAST(NULL AS DATE) AS end_date, "
    "CAST(NULL AS TEXT) AS end_month, CAST(NULL AS TEXT) AS quarter, "
    "CAST(NULL AS INTEGER) AS year, CAST(NULL AS INTEGER) AS months"
)
TABLES = (*_LEVELS, *_TOTALS, "rollup_uploads")

UPLOADS = """
SELECT r.platform_id, r.period, min(sub.uploaded_at) AS first_uploaded
FROM records AS r
JOIN submissions AS sub ON sub.id = r.submission_id
{where}
GROUP BY r.platform_id, r.period
"""

# What a platform's rows in the rollups depend on. Records' counts are never updated in place
# (a correction is a new submission whose rows supersede the old ones), so their ids, their
# submission's status and upload time and the two supersession columns tell every change;
# the platform's name, partner and sector are copied into the rollups too.
FINGERPRINTS = """
SELECT
    pl.id AS platform_id,
    hash(pl.name, pl.partner, pa.sector, count(r.id))
        + coalesce(sum(hash(r.id, r.submission_id, s.status, s.uploaded_at, r.superseded_by,
                            r.replaced_by_pending)), 0) AS fingerprint
FROM platforms AS pl
JOIN partners AS pa ON pa.slug = pl.partner
LEFT JOIN records AS r ON r.platform_id = pl.id
LEFT JOIN submissions AS s ON s.id = r.submission_id
GROUP BY pl.id, pl.name, pl.partner, pa.sector
"""
# Reference data every platform's rows depend on (country → region, period calendar).
GLOBAL_FINGERPRINT = """
SELECT (SELECT coalesce(sum(hash(iso3, region, subregion)), 0) FROM countries)
     + (SELECT coalesce(sum(hash(period, kind, start_date, end_date)), 0) FROM periods)
"""


def _setting(env: str, default: int) -> int:
    try:
        return max(0, int(os.environ[env]))
    except (KeyError, ValueError):
        return default


def min_records() -> int:
    """How many records a database needs before it keeps rollups."""
    return _setting(MIN_RECORDS_ENV, MIN_RECORDS)


def cells_min_records() -> int:
    """How many records a database needs before ``rollup_cells`` is a table, not a view."""
    return _setting(CELLS_MIN_RECORDS_ENV, CELLS_MIN_RECORDS)


def level_sql(name: str, where: str = "", *, cells_table: bool = True) -> str:
    """The SELECT that computes rollup table ``name`` (from ``facts`` or a finer rollup
    table), limited by ``where`` (a WHERE clause or empty).

    The rows are summed by the few columns that tell them apart — status, platform id,
    period (none for an all-time table), the dimensions kept and the null pattern — and only
    then given the platform's name, partner and sector and the period's calendar, looked up by
    their keys as the ``facts`` view looks them up (each depends on its key alone; the tests
    compare every indicator on both). Grouping by those dozen text columns as well took three
    times as long (0.15 s against 0.05 s for 200,000 records), and a full build at 2,000,000
    records 8.2 s against 6.4 s. With ``cells_table=False`` (``rollup_cells`` is a view) the
    tables built from it are summed from ``facts`` directly."""
    by_period = name in _LEVELS
    kept, source = _LEVELS[name] if by_period else (_LEVELS[_TOTALS[name]][0], _TOTALS[name])
    if source == CELLS and not cells_table:
        source = "facts"  # summing facts at once beats summing the view's sums of it
    keys = ", ".join(("status", "platform_id", *(["period"] if by_period else []), *kept))
    flags = ", ".join(_NULL_FLAGS) + ", replaced_by_pending IS NULL"
    rows = "count(*)" if source == "facts" else "sum(n_rows)"
    sums = ", ".join(f"sum({c}) AS {c}" for c in _COUNTS)
    dimensions = ", ".join(
        f"g.{d}" if d in kept else f"CAST(NULL AS TEXT) AS {d}" for d in _DIMENSIONS
    )
    counts = ", ".join(f"g.{c}" for c in _COUNTS)
    period = f"g.period, {_PERIOD_COLUMNS}" if by_period else _NO_PERIOD_COLUMNS
    calendar = " JOIN periods AS pe ON pe.period = g.period" if by_period else ""
    return (
        f"SELECT g.status, g.platform_id, {_PLATFORM_COLUMNS}, {period}, "
        f"{dimensions}, g.replaced_by_pending, {counts}, g.n_rows "
        f"FROM (SELECT {keys}, min(replaced_by_pending) AS replaced_by_pending, {sums}, "
        f"{rows} AS n_rows FROM {source} {where} GROUP BY {keys}, {flags}) AS g "
        "JOIN platforms AS pl ON pl.id = g.platform_id "
        "JOIN partners AS pa ON pa.slug = pl.partner" + calendar
    )


def refresh(
    cur: duckdb.DuckDBPyConnection,
    platform_ids: Iterable[int] | None = None,
    *,
    cells_table: bool = True,
) -> None:
    """Rebuild the rollup tables from ``facts`` (all of them), or only the rows of
    ``platform_ids``, inside the caller's transaction. It does not stamp them: see
    :func:`after_write`. A full rebuild makes ``rollup_cells`` a table or, with
    ``cells_table=False``, a view; a partial one must be told which it is, and leaves a view
    as it is (it is never stale)."""
    if platform_ids is None:
        for name in (*_LEVELS, *_TOTALS):  # each after the table it is summed from
            kind = "TABLE" if name != CELLS or cells_table else "VIEW"
            _drop(cur, name, unless=kind)
            # no ORDER BY: every page's query reads whole tables, and sorting cost a third of
            # a build. Except rollup_cells by platform: a partial refresh reads the refreshed
            # platforms' rows of it three times (the tables summed from it, and the jumps),
            # and in platform order DuckDB skips the blocks of the others (0.22 -> 0.08 s a
            # platform at 2M records, for 2 s more on a full build)
            sql = level_sql(name, cells_table=cells_table)
            if name == CELLS and cells_table:  # (a view sorted would sort on every read)
                sql += " ORDER BY g.platform_id"
            cur.execute(f"CREATE OR REPLACE {kind} {name} AS {sql}")
        cur.execute(f"CREATE OR REPLACE TABLE rollup_uploads AS {UPLOADS.format(where='')}")
        _drop(cur, JUMPS)
        if cells_table:
            cur.execute(f"CREATE TABLE {JUMPS} AS {quality.jumps_sql()}", quality.JUMP_PARAMETERS)
        return
    ids = sorted({int(i) for i in platform_ids})
    if not ids:
        return
    stored = [name for name in TABLES if name != CELLS or cells_table]
    for name in stored:
        cur.execute(f"DELETE FROM {name} WHERE list_contains($ids, platform_id)", {"ids": ids})
    for name in (*_LEVELS, *_TOTALS):
        if name in stored:
            where = "WHERE list_contains($ids, platform_id)"
            sql = level_sql(name, where, cells_table=cells_table)
            cur.execute(f"INSERT INTO {name} BY NAME {sql}", {"ids": ids})
    cur.execute(
        "INSERT INTO rollup_uploads BY NAME "
        + UPLOADS.format(where="WHERE list_contains($ids, r.platform_id)"),
        {"ids": ids},
    )
    if cells_table:
        cur.execute(f"DELETE FROM {JUMPS} WHERE list_contains($ids, platform_id)", {"ids": ids})
        cur.execute(
            f"INSERT INTO {JUMPS} BY NAME {quality.jumps_sql(quality.PLATFORMS)}",
            {"ids": ids, **quality.JUMP_PARAMETERS},
        )


def _meta(cur: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = cur.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def _set_meta(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    cur.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?",
        [key, value, value],
    )


def _has_tables(cur: duckdb.DuckDBPyConnection, names: Iterable[str]) -> bool:
    """Whether every one of ``names`` exists, as a table or (``rollup_cells``) a view."""
    return all(_kind(cur, name) is not None for name in names)


def _kind(cur: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """ "TABLE", "VIEW" or None: what ``name`` is in the database."""
    row = cur.execute(
        "SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $name AND NOT temporary "
        "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $name AND NOT internal "
        "AND NOT temporary",
        {"name": name},
    ).fetchone()
    return row[0] if row else None


def _drop(cur: duckdb.DuckDBPyConnection, name: str, unless: str | None = None) -> None:
    """Drop ``name``, whether a table or a view (DuckDB's DROP names the kind), unless it is
    of the kind ``unless`` (which CREATE OR REPLACE then replaces)."""
    kind = _kind(cur, name)
    if kind is not None and kind != unless:
        cur.execute(f"DROP {kind} {name}")


def drop(cur: duckdb.DuckDBPyConnection) -> None:
    """Remove the rollup tables and their stamp (the indicators read ``facts`` again)."""
    for name in (*TABLES, JUMPS, "rollup_state"):
        _drop(cur, name)
    cur.execute("DELETE FROM meta WHERE key IN (?, ?)", [rollups.STAMP_KEY, "rollup_reference"])


def update(cur: duckdb.DuckDBPyConnection) -> str:
    """Bring the rollups in line with the data, in the caller's transaction, and stamp them
    with the current data version. Returns what was done: ``"none"`` (a small database, or
    no schema yet), ``"full"``, ``"N platforms"`` or ``"current"``."""
    if not _has_tables(cur, ("meta", "records", "platforms", "partners", "submissions")):
        return "none"
    version = _meta(cur, "data_version") or "0"
    if _meta(cur, rollups.STAMP_KEY) == rollups.stamp(version):
        return "current"
    records = cur.execute("SELECT count(*) FROM records").fetchone()[0]
    if records < min_records():
        if _has_tables(cur, ("rollup_state",)) or _meta(cur, rollups.STAMP_KEY):
            drop(cur)
        return "none"
    cells_table = records >= cells_min_records()
    reference = str(cur.execute(GLOBAL_FINGERPRINT).fetchone()[0])
    current = {int(p): int(f) for p, f in cur.execute(FINGERPRINTS).fetchall()}
    stamped = _meta(cur, rollups.STAMP_KEY) or ""
    complete = (
        stamped.startswith(rollups.FORMAT + ":")
        and _meta(cur, "rollup_reference") == reference
        and _has_tables(cur, (*TABLES, "rollup_state", *([JUMPS] if cells_table else [])))
        and _kind(cur, CELLS) == ("TABLE" if cells_table else "VIEW")
    )
    if complete:
        stored = {int(p): int(f) for p, f in cur.execute("SELECT * FROM rollup_state").fetchall()}
        changed = sorted(
            p for p in current.keys() | stored.keys() if current.get(p) != stored.get(p)
        )
        refresh(cur, changed, cells_table=cells_table)  # of the kind it has (``complete``)
        done = f"{len(changed)} platforms"
    else:
        refresh(cur, cells_table=cells_table)
        done = "full"
    cur.execute("CREATE OR REPLACE TABLE rollup_state (platform_id INTEGER, fingerprint HUGEINT)")
    if current:
        cur.executemany("INSERT INTO rollup_state VALUES (?, ?)", list(current.items()))
    _set_meta(cur, "rollup_reference", reference)
    _set_meta(cur, rollups.STAMP_KEY, rollups.stamp(version))
    return done


def after_write(cur: duckdb.DuckDBPyConnection) -> None:
    """Update the rollups in a transaction of their own, after a write has committed. A
    failure is logged, not raised: the write itself is stored, and the indicators read
    ``facts`` until a later write (or ``coalition rollup``) brings the rollups up to date."""
    started = time.perf_counter()
    try:
        cur.begin()
        done = update(cur)
        cur.commit()
    except Exception:  # noqa: BLE001 - a derived table must never fail the write before it
        with contextlib.suppress(duckdb.Error):
            cur.rollback()
        logger.exception("Could not update the pre-aggregated tables; reading facts instead.")
        return
    if done not in ("none", "current"):
        logger.debug("rollups: %s in %.2f s", done, time.perf_counter() - started)


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
        for name in TABLES:
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
            params = flt.params(by, "quarter")
            table = rollups.table_for(params)
            if name == "coverage":
                params["due_days"] = 45
            text = mfilters.sql(name)
            used = {k: v for k, v in params.items() if f"${k}" in text}
            fast = rollups.rewrite(text, table)
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
