"""Storage: creating the database and writing partners, platforms and submissions.

Functions that write take a cursor from ``Database.write()`` so that the caller decides what one
transaction holds; functions that read take any cursor.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa

from coalition import migrate, reference
from coalition.db import Database, get_meta, set_meta
from metrics import rollups

SECTORS = ("e-commerce", "social-media", "search", "other")
PLATFORM_KINDS = ("marketplace", "second-hand", "social", "messaging", "search", "other")
COUNT_COLUMNS = (
    "listings_removed",
    "listings_blocked",
    "accounts_actioned",
    "reports_received",
    "listings_detected",
    "search_effort",
)
_ARROW_TEXT = pd.StringDtype("pyarrow")
RECORD_COLUMNS = (
    "platform",
    "period",
    "species_group",
    "country",
    "taxon",
    *COUNT_COLUMNS,
    "notes",
)
DEFAULT_DUE_DAYS = 45


class StoreError(ValueError):
    """A write that the data cannot take; the message says what to change."""


def init(db: Database) -> None:
    """Create the schema (or bring an older one up to date) and load the reference data.

    Safe to run on an existing database: nothing stored is lost.
    """
    with db.write() as cur:
        migrate.migrate(cur)
        reference.load(cur)
        if get_meta(cur, "submission_due_days") is None:
            set_meta(cur, "submission_due_days", str(DEFAULT_DUE_DAYS))


def is_initialised(db: Database) -> bool:
    if not db.exists:
        return False
    with db.read() as cur:
        row = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
        ).fetchone()
        return bool(row[0]) and get_meta(cur, "schema_version") is not None


def is_synthetic(cur: duckdb.DuckDBPyConnection) -> bool:
    """True when the database holds the generated demo data rather than real submissions."""
    return get_meta(cur, "synthetic", "0") == "1"


def add_partner(
    cur: duckdb.DuckDBPyConnection,
    slug: str,
    name: str,
    sector: str,
    joined: dt.date,
    *,
    consent_to_name: bool = False,
    platforms: tuple[tuple[str, str], ...] = (),
) -> None:
    """Register a partner and, optionally, its platforms as (name, kind) pairs."""
    if sector not in SECTORS:
        raise StoreError(f"Unknown sector {sector!r}: use one of {', '.join(SECTORS)}.")
    if cur.execute("SELECT 1 FROM partners WHERE slug = ?", [slug]).fetchone():
        raise StoreError(f"A partner with the slug {slug!r} exists already.")
    try:
        cur.execute(
            "INSERT INTO partners (slug, name, sector, joined, consent_to_name) "
            "VALUES (?, ?, ?, ?, ?)",
            [slug, name, sector, joined, consent_to_name],
        )
    except duckdb.ConstraintException as exc:
        raise StoreError(
            f"Cannot add partner {slug!r}: the slug must be lower-case letters, digits and "
            f"hyphens, and the name must be unused ({exc})."
        ) from exc
    for platform_name, kind in platforms:
        add_platform(cur, slug, platform_name, kind)


def add_platform(
    cur: duckdb.DuckDBPyConnection, partner: str, name: str, kind: str = "other"
) -> int:
    """Register a platform of a partner; returns its id."""
    if kind not in PLATFORM_KINDS:
        raise StoreError(f"Unknown platform kind {kind!r}: use one of {', '.join(PLATFORM_KINDS)}.")
    if cur.execute("SELECT 1 FROM platforms WHERE name = ?", [name]).fetchone():
        raise StoreError(f"A platform named {name!r} exists already; platform names are unique.")
    return cur.execute(
        "INSERT INTO platforms (partner, name, kind) VALUES (?, ?, ?) RETURNING id",
        [partner, name, kind],
    ).fetchone()[0]


# The current rows that a submission's rows cover: same platform, overlapping period (a month
# resubmitted over a quarter, or the reverse, would otherwise count twice), sent earlier.
OVERLAPPED_ROWS = """
SELECT old.id
FROM records AS old
JOIN submissions AS os ON os.id = old.submission_id
JOIN periods AS op ON op.period = old.period
JOIN (SELECT DISTINCT r.platform_id, p.start_date, p.end_date
      FROM records AS r JOIN periods AS p ON p.period = r.period
      WHERE r.submission_id = $new) AS n
  ON n.platform_id = old.platform_id
 AND op.start_date <= n.end_date AND n.start_date <= op.end_date
WHERE old.superseded_by IS NULL AND old.submission_id < $new
  AND list_contains($statuses, os.status)
"""

SUPERSEDE_OLDER_ROWS = f"""
UPDATE records SET superseded_by = $new, replaced_by_pending = NULL
WHERE id IN ({OVERLAPPED_ROWS})
"""

MARK_PENDING_REPLACEMENT = f"""
UPDATE records SET replaced_by_pending = $new
WHERE id IN ({OVERLAPPED_ROWS})
"""

MARK_FULLY_SUPERSEDED = """
UPDATE submissions SET status = 'superseded'
WHERE status <> 'superseded'
  AND id IN (SELECT submission_id FROM records WHERE superseded_by = $new)
  AND NOT EXISTS (SELECT 1 FROM records AS r
                  WHERE r.submission_id = submissions.id AND r.superseded_by IS NULL)
"""

INSERT_RECORDS = """
INSERT INTO records (submission_id, platform_id, period, species_group, country, taxon,
                     listings_removed, listings_blocked, accounts_actioned, reports_received,
                     listings_detected, search_effort, notes)
SELECT $submission, p.id, n.period, n.species_group, n.country, n.taxon,
       n.listings_removed, n.listings_blocked, n.accounts_actioned, n.reports_received,
       n.listings_detected, n.search_effort, n.notes
FROM new_records AS n
JOIN platforms AS p ON p.name = n.platform AND p.partner = $partner
"""

# What the columns of records refer to: (column, table, key column). records has no foreign
# keys (DuckDB checks them row by row, through an index per column: see migration 0004); every
# insert into it checks these set-wise first, with check_record_references.
RECORD_REFERENCES = (
    ("submission_id", "submissions", "id"),
    ("platform_id", "platforms", "id"),
    ("period", "periods", "period"),
    ("species_group", "species_groups", "slug"),
    ("country", "countries", "iso3"),
)
_REFERENCE_NAMES = {
    "submissions": "submission",
    "platforms": "platform id",
    "periods": "period",
    "species_groups": "species group",
    "countries": "country",
}

# The distinct values of some columns of the rows to insert, in one pass over them; then those
# of one column that the table they name lacks. (Column and table names come from
# RECORD_REFERENCES and the caller's own relation, never from data.)
DISTINCT_VALUES = "SELECT {lists} FROM {rows}"
MISSING_VALUES = """
SELECT v FROM unnest(?) AS d(v)
ANTI JOIN "{table}" AS t ON t."{key}" = d.v
ORDER BY v
LIMIT 6
"""


def _distinct_values(
    cur: duckdb.DuckDBPyConnection, rows: str, columns: list[str]
) -> dict[str, list]:
    """Each column's distinct values in ``rows`` (NULL included), read in one pass."""
    lists = ", ".join(f'list(DISTINCT "{column}")' for column in columns)
    found = cur.execute(DISTINCT_VALUES.format(lists=lists, rows=rows)).fetchone()
    return {column: list(values or []) for column, values in zip(columns, found, strict=True)}


def _refuse_missing(cur: duckdb.DuckDBPyConnection, column: str, values: list) -> None:
    """Raise :class:`StoreError` if the table that ``column`` refers to lacks any of
    ``values`` (NULL is no reference)."""
    values = [v for v in values if v is not None]
    if not values:
        return
    _, table, key = next(r for r in RECORD_REFERENCES if r[0] == column)
    missing = [
        r[0] for r in cur.execute(MISSING_VALUES.format(table=table, key=key), [values]).fetchall()
    ]
    if missing:
        shown = ", ".join(repr(v) for v in missing[:5]) + (", …" if len(missing) > 5 else "")
        raise StoreError(
            f"Rows name a {_REFERENCE_NAMES[table]} that the database does not have "
            f"({column} {shown}: not in the {table} table). Nothing was stored."
        )


def check_record_references(
    cur: duckdb.DuckDBPyConnection, rows: str, columns: tuple[str, ...] | None = None
) -> None:
    """Refuse rows meant for ``records`` that name something the database does not have.

    ``rows`` is a table, view or registered frame (a name from the caller's code) with
    records' column names; ``columns`` limits the check to some of them (default: all five
    references). The distinct values of each column are read in one pass over the rows and
    looked up in their table at once, so a 200,000-row submission costs a few milliseconds.
    Raises :class:`StoreError` naming the values and the table; run it before inserting,
    inside the write, so that nothing is stored.
    """
    wanted = [r[0] for r in RECORD_REFERENCES if columns is None or r[0] in columns]
    for column, values in _distinct_values(cur, rows, wanted).items():
        _refuse_missing(cur, column, values)


def add_submission(
    cur: duckdb.DuckDBPyConnection,
    *,
    partner: str,
    records: pd.DataFrame,
    uploaded_by: str,
    uploaded_at: dt.datetime | None = None,
    source: str = "cli",
    status: str = "submitted",
    file_name: str | None = None,
    file_sha256: str | None = None,
) -> int:
    """Store one submission and its rows; returns its id.

    Rows stored earlier for the same platform and an overlapping period are superseded (kept
    for history) when this submission is accepted — at once for ``status="accepted"``, else
    by :func:`review_submission`. Until then they stay in the figures, marked as replaced by a
    pending submission for views that include submitted data.

    ``records`` has the columns of ``RECORD_COLUMNS`` with normalised values (platform name,
    period key, species slug, ISO alpha-3 or empty). Every platform, period, species group
    and country they name must exist (:class:`StoreError` otherwise, before anything is
    written). Run inside ``Database.write()`` so that a failure leaves nothing behind.
    """
    frame = records.reindex(columns=list(RECORD_COLUMNS))
    for col in COUNT_COLUMNS:
        if frame[col].dtype != "Int64":
            frame[col] = pd.array(frame[col], dtype="Int64")
    for col in ("platform", "period", "species_group", "country", "taxon", "notes"):
        if isinstance(frame[col].dtype, pd.StringDtype):  # texts already (validation's)
            continue
        if frame[col].isna().all():  # a column left empty (taxon, usually): no text to look at
            frame[col] = pd.array(pa.nulls(len(frame), pa.string()), dtype=_ARROW_TEXT)
        else:
            frame[col] = frame[col].astype("string")
    frame["country"] = frame["country"].mask(frame["country"] == "")  # "" = no country
    cur.register("new_records", frame)
    try:
        _check_new_records(cur, partner, frame)
        submission = cur.execute(
            "INSERT INTO submissions (partner, uploaded_by, uploaded_at, file_name, "
            "file_sha256, source, status) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                partner,
                uploaded_by,
                uploaded_at or dt.datetime.now(),
                file_name,
                file_sha256,
                source,
                status,
            ],
        ).fetchone()[0]
        stored = cur.execute(
            INSERT_RECORDS, {"submission": submission, "partner": partner}
        ).fetchone()[0]
    finally:
        # after a failed INSERT the transaction is aborted and unregistering fails too; the
        # INSERT's own error is the one worth reporting
        with contextlib.suppress(duckdb.Error):
            cur.unregister("new_records")
    if stored != len(frame):  # the checks above make this impossible; a guard all the same
        raise StoreError(f"{len(frame) - stored} row(s) could not be stored. Nothing was stored.")
    if status == "accepted":
        _supersede(cur, submission, ["accepted", "submitted"])
    elif status == "submitted":
        # an earlier submission still awaiting review is obsolete at once; accepted figures
        # stay until this one is accepted
        _supersede(cur, submission, ["submitted"])
        cur.execute(MARK_PENDING_REPLACEMENT, {"new": submission, "statuses": ["accepted"]})
    return submission


# what a submission's rows name, besides their platform (its id is found by name)
_NEW_RECORD_REFERENCES = ("period", "species_group", "country")


def _check_new_records(cur: duckdb.DuckDBPyConnection, partner: str, frame: pd.DataFrame) -> None:
    """The references of a submission's rows: their platforms (by name, among the partner's),
    periods, species groups and countries, each column's distinct values at once."""
    distinct = {
        column: frame[column].dropna().unique().tolist()
        for column in ("platform", *_NEW_RECORD_REFERENCES)
    }
    if frame["platform"].isna().any():
        distinct["platform"].append(None)
    known = [
        r[0]
        for r in cur.execute(
            "SELECT name FROM platforms WHERE partner = ? ORDER BY name", [partner]
        ).fetchall()
    ]
    registered = set(known)
    unknown = sorted(
        (p for p in distinct["platform"] if p not in registered), key=lambda p: (p is None, p)
    )
    if unknown:
        raise StoreError(
            f"Rows name a platform that is not registered for {partner!r}: "
            f"{', '.join(repr(p) for p in unknown[:5])} (known: {', '.join(known) or 'none'}). "
            "Nothing was stored."
        )
    for column in _NEW_RECORD_REFERENCES:
        _refuse_missing(cur, column, distinct[column])


def _supersede(cur: duckdb.DuckDBPyConnection, submission: int, statuses: list[str]) -> None:
    cur.execute(SUPERSEDE_OLDER_ROWS, {"new": submission, "statuses": statuses})
    cur.execute(MARK_FULLY_SUPERSEDED, {"new": submission})


def review_submission(
    cur: duckdb.DuckDBPyConnection,
    submission: int,
    decision: str,
    *,
    reviewed_by: str,
    comment: str | None = None,
    reviewed_at: dt.datetime | None = None,
) -> None:
    """Accept a submission (its rows then supersede the older rows they cover) or return it to
    the partner with a comment (the accepted figures it would have replaced stay)."""
    if decision not in ("accepted", "returned"):
        raise StoreError(f"A review accepts or returns a submission, not {decision!r}.")
    row = cur.execute("SELECT status FROM submissions WHERE id = ?", [submission]).fetchone()
    if row is None:
        raise StoreError(f"There is no submission {submission}.")
    if row[0] != "submitted":
        raise StoreError(f"Submission {submission} is {row[0]}; only a submitted one is reviewed.")
    cur.execute(
        "UPDATE submissions SET status = ?, reviewed_by = ?, reviewed_at = ?, review_comment = ? "
        "WHERE id = ?",
        [decision, reviewed_by, reviewed_at or dt.datetime.now(), comment, submission],
    )
    cur.execute(
        "UPDATE records SET replaced_by_pending = NULL WHERE replaced_by_pending = ?", [submission]
    )
    if decision == "accepted":
        _supersede(cur, submission, ["accepted", "submitted"])


# --- Lists for filters and forms -----------------------------------------------------------


def partners(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute(
        "SELECT slug, name, sector, joined, consent_to_name FROM partners ORDER BY name"
    ).df()


def platforms(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute(
        "SELECT p.id, p.name, p.partner, p.kind, pa.sector FROM platforms p "
        "JOIN partners pa ON pa.slug = p.partner ORDER BY p.name"
    ).df()


def species_groups(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute(
        "SELECT slug, name_en, name_zh, cites_appendix FROM species_groups ORDER BY sort_order"
    ).df()


def regions(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """UN M49 regions, then 'Global / unspecified' for rows without a country."""
    rows = cur.execute("SELECT DISTINCT region FROM countries ORDER BY region").fetchall()
    return [r[0] for r in rows] + [reference.GLOBAL]


def targets(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return cur.execute(
        "SELECT id, name, reduction, deadline, is_default FROM targets "
        "ORDER BY is_default DESC, deadline"
    ).df()


def data_months(cur: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """The first and last month that current records cover, as 'YYYY-MM', or None."""
    # the same rows, summed, in the pre-aggregated table when it is up to date
    source = "rollup_platform" if rollups.fresh(cur) else "facts"
    row = cur.execute(
        f"SELECT strftime(min(start_date), '%Y-%m'), max(end_month) FROM {source}"
    ).fetchone()
    return (row[0], row[1]) if row and row[0] else None


RESTORE_ROWS = """
UPDATE records SET superseded_by = NULL
WHERE submission_id = $old AND superseded_by IS NOT NULL
"""

# the current rows that the restored rows cover (same platform, overlapping period)
SUPERSEDE_BY_RESTORED = """
UPDATE records SET superseded_by = $old
WHERE superseded_by IS NULL AND submission_id <> $old
  AND id IN (
      SELECT cur.id
      FROM records AS cur
      JOIN periods AS cp ON cp.period = cur.period
      JOIN (SELECT DISTINCT r.platform_id, p.start_date, p.end_date
            FROM records AS r JOIN periods AS p ON p.period = r.period
            WHERE r.submission_id = $old) AS o
        ON o.platform_id = cur.platform_id
       AND cp.start_date <= o.end_date AND o.start_date <= cp.end_date)
"""


def restore_submission(cur: duckdb.DuckDBPyConnection, submission: int) -> int:
    """Bring a superseded submission's rows back into the figures; the rows that had replaced
    them are superseded in turn (and stay in the history, so this can be undone the same way).
    Returns the number of rows restored."""
    row = cur.execute("SELECT status FROM submissions WHERE id = ?", [submission]).fetchone()
    if row is None:
        raise StoreError(f"There is no submission {submission}.")
    if row[0] == "returned":
        raise StoreError(
            f"Submission {submission} was returned to the partner; it cannot be restored."
        )
    restored = cur.execute(
        "SELECT count(*) FROM records WHERE submission_id = ? AND superseded_by IS NOT NULL",
        [submission],
    ).fetchone()[0]
    if restored == 0:
        raise StoreError(f"Submission {submission} has no superseded rows to restore.")
    cur.execute(RESTORE_ROWS, {"old": submission})
    cur.execute(SUPERSEDE_BY_RESTORED, {"old": submission})
    cur.execute("UPDATE submissions SET status = 'accepted' WHERE id = ?", [submission])
    cur.execute(MARK_FULLY_SUPERSEDED, {"new": submission})
    return restored


def submissions(cur: duckdb.DuckDBPyConnection, partner: str | None = None) -> pd.DataFrame:
    """Submissions, newest first, with how many rows each holds and how many are current."""
    return cur.execute(
        """
        SELECT s.id, s.partner, s.uploaded_by, s.uploaded_at, s.file_name, s.file_sha256,
               s.source, s.status, s.reviewed_by, s.reviewed_at, s.review_comment,
               count(r.id) AS rows,
               count(r.id) FILTER (WHERE r.superseded_by IS NULL) AS current_rows,
               min(r.period) AS first_period, max(r.period) AS last_period
        FROM submissions AS s LEFT JOIN records AS r ON r.submission_id = s.id
        WHERE $partner IS NULL OR s.partner = $partner
        GROUP BY ALL
        ORDER BY s.uploaded_at DESC, s.id DESC
        """,
        {"partner": partner},
    ).df()


def submission_of_file(cur: duckdb.DuckDBPyConnection, partner: str, sha256: str) -> int | None:
    """The submission that already loaded this file (by its hash) for ``partner``, if any; a
    returned submission does not count, so a returned file can be sent again."""
    row = cur.execute(
        "SELECT id FROM submissions WHERE partner = ? AND file_sha256 = ? "
        "AND status <> 'returned' ORDER BY id LIMIT 1",
        [partner, sha256],
    ).fetchone()
    return row[0] if row else None


def countries(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """ISO alpha-3 codes with their English and Chinese names and their UN M49 region and
    subregion."""
    return cur.execute(
        "SELECT iso3, name_en, name_zh, region, subregion FROM countries ORDER BY iso3"
    ).df()
