"""The secretariat's review of submissions: who has sent what for which quarter, what a
submission holds, what its check says, how it differs from the figures it replaces, and the
decision to accept it or return it to the partner.

Pure functions over a DuckDB cursor; the Review page draws what they return. :func:`review`
writes and takes the cursor of ``Database.write()``, so the decision and its audit entry are
stored together or not at all.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from coalition import audit, store
from coalition.db import get_meta
from coalition.i18n import t
from coalition.store import COUNT_COLUMNS, StoreError
from coalition.validation import Report, validate
from metrics import rollups

# The statuses of a partner's quarter in the matrix, in the order of precedence (see
# :func:`status_cells`).
SUBMITTED = "submitted"
LATE = "late"
ACCEPTED = "accepted"
RETURNED = "returned"
NOT_A_MEMBER = "not_a_member"
MISSING = "missing"
NOT_YET_DUE = "not_yet_due"
STATUSES = (SUBMITTED, LATE, ACCEPTED, RETURNED, NOT_A_MEMBER, MISSING, NOT_YET_DUE)

DECISIONS = {"accept": "accepted", "return": "returned"}
KEY = ("platform", "period", "species_group", "country")
_QUARTER = re.compile(r"\d{4}-Q[1-4]")


class ReviewError(StoreError):
    """A review that cannot be made as asked; the message says what to change."""


def due_days(cur: duckdb.DuckDBPyConnection) -> int:
    """Days after a quarter's end by which its figures are due (meta ``submission_due_days``)."""
    return int(get_meta(cur, "submission_due_days") or store.DEFAULT_DUE_DAYS)


# One row per partner and quarter. The lateness rule is the one of metrics/sql/coverage.sql:
# figures for a platform and period are late when they first arrived (in any submission, even
# one superseded or returned since, so a late correction does not make an on-time report late)
# after the whole due day, the end of the period's quarter plus the due days.
_STATUS_CELLS = """
WITH
quarters AS (
    SELECT period AS quarter, end_date,
           end_date + to_days(CAST($due_days AS INTEGER)) AS due_date
    FROM periods
    WHERE kind = 'quarter' AND period BETWEEN $first AND $last
),
received AS (
    -- what each submission brought for a quarter, whatever became of it since
    SELECT s.partner, p.quarter, s.id, s.status,
           bool_or(r.superseded_by IS NULL) AS is_current
    FROM records AS r
    JOIN submissions AS s ON s.id = r.submission_id
    JOIN periods AS p ON p.period = r.period
    WHERE p.quarter BETWEEN $first AND $last
    GROUP BY ALL
),
deciding AS (
    SELECT partner, quarter,
           max(id) FILTER (WHERE status = 'submitted' AND is_current) AS submitted_id,
           max(id) FILTER (WHERE status = 'accepted' AND is_current) AS accepted_id,
           max(id) FILTER (WHERE status = 'returned') AS returned_id
    FROM received
    GROUP BY ALL
),
first_upload AS ({first_upload}),
lateness AS (
    -- accepted figures of a quarter, late if any platform's period first arrived late
    SELECT f.partner, f.quarter,
           bool_or(CAST(u.first_uploaded AS DATE) > q.due_date) AS late
    FROM {accepted} AS f
    JOIN quarters AS q ON q.quarter = f.quarter
    JOIN first_upload AS u ON u.platform_id = f.platform_id AND u.period = f.period
    WHERE f.status = 'accepted'
    GROUP BY ALL
)
SELECT
    pa.slug AS partner,
    pa.name AS partner_name,
    q.quarter,
    q.due_date,
    CASE
        WHEN d.submitted_id IS NOT NULL THEN 'submitted'
        WHEN d.accepted_id IS NOT NULL AND l.late THEN 'late'
        WHEN d.accepted_id IS NOT NULL THEN 'accepted'
        WHEN d.returned_id IS NOT NULL THEN 'returned'
        WHEN pa.joined > q.end_date THEN 'not_a_member'
        WHEN $today > q.due_date THEN 'missing'
        ELSE 'not_yet_due'
    END AS status,
    coalesce(d.submitted_id, d.accepted_id, d.returned_id) AS submission_id
FROM partners AS pa
CROSS JOIN quarters AS q
LEFT JOIN deciding AS d ON d.partner = pa.slug AND d.quarter = q.quarter
LEFT JOIN lateness AS l ON l.partner = pa.slug AND l.quarter = q.quarter
ORDER BY pa.name, q.quarter
"""

STATUS_CELLS = _STATUS_CELLS.format(
    first_upload="""
    SELECT r.platform_id, r.period, min(s.uploaded_at) AS first_uploaded
    FROM records AS r
    JOIN submissions AS s ON s.id = r.submission_id
    GROUP BY ALL
""",
    accepted="facts",
)
# The same from the pre-aggregated tables while they are fresh (coalition/rollup.py): the first
# uploads are kept in rollup_uploads, and rollup_platform has a row for every status, platform
# and period that facts has. Only ``received`` (which submission brought what) reads records.
STATUS_CELLS_FROM_ROLLUPS = _STATUS_CELLS.format(
    first_upload="SELECT platform_id, period, first_uploaded FROM rollup_uploads",
    accepted="rollup_platform",
)

_DEFAULT_FIRST_QUARTER = """
SELECT least(
    (SELECT min(p.quarter) FROM partners AS pa
     JOIN periods AS p ON p.kind = 'quarter' AND pa.joined BETWEEN p.start_date AND p.end_date),
    (SELECT min(p.quarter) FROM {records} AS r JOIN periods AS p ON p.period = r.period))
"""
DEFAULT_FIRST_QUARTER = _DEFAULT_FIRST_QUARTER.format(records="records")
# rollup_uploads has a row for every platform and period that records have
DEFAULT_FIRST_QUARTER_FROM_ROLLUPS = _DEFAULT_FIRST_QUARTER.format(records="rollup_uploads")


def _quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def status_cells(
    cur: duckdb.DuckDBPyConnection,
    first_quarter: str | None = None,
    last_quarter: str | None = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """Every partner and quarter with its one status, the submission that decides it and the
    quarter's due date: columns ``partner`` (slug), ``partner_name``, ``quarter``,
    ``due_date``, ``status``, ``submission_id`` (empty when nothing was received).

    The quarters run from ``first_quarter`` (default: the quarter in which the first partner
    joined, or of the earliest figures if older) to ``last_quarter`` (default: the quarter of
    ``today``). A quarter's figures are due ``submission_due_days`` (45 unless the secretariat
    set another) after it ends. A partner's quarter gets the first status that applies:

    1. ``submitted`` — a submission with figures for the quarter awaits review (it needs the
       secretariat's action, so it shows even where accepted figures exist);
    2. ``late`` — accepted figures, of which some first arrived after the due date (the rule of
       the coverage indicator: the first upload for a platform and period counts, so a late
       correction does not make an on-time report late);
    3. ``accepted`` — accepted figures, all on time;
    4. ``returned`` — the only figures received were returned to the partner;
    5. ``not_a_member`` — nothing received and the partner joined after the quarter ended;
    6. ``missing`` — nothing received although the partner had joined by the quarter's end and
       the due date has passed;
    7. ``not_yet_due`` — nothing received yet, and the due date has not passed.

    The deciding submission is the latest one of that kind for the quarter.
    """
    today = today or dt.date.today()
    fresh = rollups.fresh(cur)
    if first_quarter is None:
        default = DEFAULT_FIRST_QUARTER_FROM_ROLLUPS if fresh else DEFAULT_FIRST_QUARTER
        first_quarter = cur.execute(default).fetchone()[0]
    last_quarter = last_quarter or _quarter_of(today)
    columns = ["partner", "partner_name", "quarter", "due_date", "status", "submission_id"]
    if first_quarter is None:  # no partner yet
        return pd.DataFrame(columns=columns)
    for quarter in (first_quarter, last_quarter):
        if not _QUARTER.fullmatch(quarter):
            raise ValueError(
                t("'{quarter}' is not a quarter: use YYYY-Qn, e.g. 2019-Q3.", quarter=quarter)
            )
    frame = cur.execute(
        STATUS_CELLS_FROM_ROLLUPS if fresh else STATUS_CELLS,
        {
            "first": first_quarter,
            "last": last_quarter,
            "today": today,
            "due_days": due_days(cur),
        },
    ).df()
    frame["submission_id"] = frame["submission_id"].astype("Int64")
    frame["due_date"] = pd.to_datetime(frame["due_date"]).dt.date
    return frame[columns]


def status_matrix(
    cur: duckdb.DuckDBPyConnection,
    first_quarter: str | None = None,
    last_quarter: str | None = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """Partners (rows, by slug, in the order of their names) × quarters (columns, in time
    order), one status each; see :func:`status_cells` for the statuses and their precedence."""
    cells = status_cells(cur, first_quarter, last_quarter, today)
    if cells.empty:
        return pd.DataFrame(index=pd.Index([], name="partner"))
    order = list(dict.fromkeys(cells["partner"]))
    matrix = cells.pivot(index="partner", columns="quarter", values="status")
    matrix = matrix.reindex(order)
    matrix.columns.name = None
    return matrix


# --- One submission ------------------------------------------------------------------------

SUBMISSION_INFO = """
SELECT s.id, s.partner, pa.name AS partner_name, s.uploaded_by, s.uploaded_at, s.file_name,
       s.file_sha256, s.source, s.status, s.reviewed_by, s.reviewed_at, s.review_comment,
       (SELECT count(*) FROM records AS r WHERE r.submission_id = s.id) AS rows,
       (SELECT count(*) FROM records AS r
        WHERE r.submission_id = s.id AND r.superseded_by IS NULL) AS current_rows,
       (SELECT min(r.period) FROM records AS r WHERE r.submission_id = s.id) AS first_period,
       (SELECT max(r.period) FROM records AS r WHERE r.submission_id = s.id) AS last_period,
       EXISTS (SELECT 1 FROM files AS f WHERE f.sha256 = s.file_sha256) AS file_archived
FROM submissions AS s
JOIN partners AS pa ON pa.slug = s.partner
WHERE s.id = $id
"""

SUBMISSION_ROWS = """
SELECT r.id, pl.name AS platform, r.period, r.species_group, sg.name_en AS species,
       r.country, c.name_en AS country_name, r.taxon,
       r.listings_removed, r.listings_blocked, r.accounts_actioned, r.reports_received,
       r.listings_detected, r.search_effort, r.notes, r.superseded_by, r.replaced_by_pending
FROM records AS r
JOIN platforms AS pl ON pl.id = r.platform_id
JOIN species_groups AS sg ON sg.slug = r.species_group
LEFT JOIN countries AS c ON c.iso3 = r.country
WHERE r.submission_id = $id
ORDER BY pl.name, r.period, sg.sort_order, r.country NULLS FIRST, r.id
"""


@dataclass(frozen=True)
class SubmissionDetail:
    """A submission's metadata (``info``: who sent it when, its file, its review) and its rows
    with the platform, species group and country named."""

    info: dict[str, Any]
    rows: pd.DataFrame


def _info(cur: duckdb.DuckDBPyConnection, submission_id: int) -> dict[str, Any]:
    frame = cur.execute(SUBMISSION_INFO, {"id": submission_id}).df()
    if frame.empty:
        raise ReviewError(t("There is no submission {id}.", id=submission_id))
    info = frame.iloc[0].to_dict()
    return {k: (None if _isna(v) else v) for k, v in info.items()}


def _isna(value: object) -> bool:
    return not isinstance(value, (list, tuple, dict)) and bool(pd.isna(value))


def submission_detail(cur: duckdb.DuckDBPyConnection, submission_id: int) -> SubmissionDetail:
    """What a submission holds. Raises :class:`ReviewError` for an unknown id."""
    info = _info(cur, submission_id)
    rows = cur.execute(SUBMISSION_ROWS, {"id": submission_id}).df()
    for col in (*COUNT_COLUMNS, "superseded_by", "replaced_by_pending"):
        rows[col] = rows[col].astype("Int64")
    return SubmissionDetail(info, rows)


# Current figures of the same partner that overlap a row's platform and period, from another
# submission: when these exist, "this file will supersede figures" is still worth saying.
OTHER_FIGURES = """
SELECT DISTINCT n.platform, n.period
FROM file_pairs AS n
JOIN periods AS np ON np.period = n.period
JOIN facts AS f ON f.platform = n.platform AND f.partner = $partner
 AND f.status IN ('accepted', 'submitted') AND f.submission_id <> $id
 AND f.start_date <= np.end_date AND np.start_date <= f.end_date
"""


def submission_warnings(cur: duckdb.DuckDBPyConnection, submission_id: int) -> Report | None:
    """The check of the submission's archived file, run again now (``coalition.validation``):
    its errors and warnings, each with the spreadsheet row and column. None when the file is
    not archived (a demo submission, or one loaded without a file).

    The check runs against today's data, not the data as it was at upload: platforms,
    partners' joining dates and the stored figures that jumps are compared with are those of
    now. Periods are judged "in the future" as of the upload day, and the submission's own
    stored rows are not counted as earlier figures that it would supersede.
    """
    info = _info(cur, submission_id)
    if not info["file_sha256"]:
        return None
    row = cur.execute(
        "SELECT content FROM files WHERE sha256 = ?", [info["file_sha256"]]
    ).fetchone()
    if row is None:
        return None
    uploaded = pd.Timestamp(info["uploaded_at"]).date()
    validation = validate(
        cur, info["partner"], bytes(row[0]), info["file_name"] or "upload.xlsx", today=uploaded
    )
    report = validation.report
    records = validation.records
    flagged = [w for w in report.warnings if w.code == "period_already_submitted"]
    if flagged and len(records):
        pairs = records.groupby(["platform", "period"], as_index=False)["row"].min()
        cur.register("file_pairs", pairs)
        try:
            others = cur.execute(
                OTHER_FIGURES, {"partner": info["partner"], "id": submission_id}
            ).fetchall()
        finally:
            cur.unregister("file_pairs")
        keep_rows = set(pairs.merge(pd.DataFrame(others, columns=["platform", "period"]))["row"])
        report.warnings = [
            w for w in report.warnings if w.code != "period_already_submitted" or w.row in keep_rows
        ]
    return report


# The rows a submission replaces: linked by superseded_by (once accepted) or
# replaced_by_pending (while it awaits review). A returned submission keeps no link, so for it
# the rows are those it would have replaced: the current accepted rows of the same platform
# and an overlapping period, sent earlier. Where several earlier submissions hold a key, the
# latest of them is the previous version.
DIFF = """
WITH
sub AS (SELECT id, status FROM submissions WHERE id = $id),
new_rows AS (
    SELECT r.* FROM records AS r WHERE r.submission_id = $id
),
linked AS (
    SELECT r.* FROM records AS r
    WHERE (r.superseded_by = $id OR r.replaced_by_pending = $id) AND r.submission_id <> $id
),
would_replace AS (
    SELECT old.*
    FROM records AS old
    JOIN submissions AS os ON os.id = old.submission_id
    JOIN periods AS op ON op.period = old.period
    JOIN (SELECT DISTINCT r.platform_id, p.start_date, p.end_date
          FROM new_rows AS r JOIN periods AS p ON p.period = r.period) AS n
      ON n.platform_id = old.platform_id
     AND op.start_date <= n.end_date AND n.start_date <= op.end_date
    WHERE old.superseded_by IS NULL AND old.submission_id < $id AND os.status = 'accepted'
      AND (SELECT status FROM sub) = 'returned'
),
old_all AS (
    SELECT * FROM linked UNION ALL BY NAME SELECT * FROM would_replace
),
old_rows AS (
    SELECT * FROM old_all
    QUALIFY row_number() OVER (
        PARTITION BY platform_id, period, species_group, coalesce(country, '')
        ORDER BY submission_id DESC, id DESC) = 1
),
paired AS (
    SELECT
        coalesce(n.platform_id, o.platform_id) AS platform_id,
        coalesce(n.period, o.period) AS period,
        coalesce(n.species_group, o.species_group) AS species_group,
        coalesce(n.country, o.country) AS country,
        o.submission_id AS old_submission_id,
        CASE WHEN o.id IS NULL THEN 'added'
             WHEN n.id IS NULL THEN 'removed'
             WHEN (n.listings_removed, n.listings_blocked, n.accounts_actioned,
                   n.reports_received, n.listings_detected, n.search_effort)
                  IS DISTINCT FROM
                  (o.listings_removed, o.listings_blocked, o.accounts_actioned,
                   o.reports_received, o.listings_detected, o.search_effort) THEN 'changed'
             ELSE 'unchanged' END AS change,
        o.listings_removed AS listings_removed_old, n.listings_removed AS listings_removed_new,
        o.listings_blocked AS listings_blocked_old, n.listings_blocked AS listings_blocked_new,
        o.accounts_actioned AS accounts_actioned_old,
        n.accounts_actioned AS accounts_actioned_new,
        o.reports_received AS reports_received_old, n.reports_received AS reports_received_new,
        o.listings_detected AS listings_detected_old,
        n.listings_detected AS listings_detected_new,
        o.search_effort AS search_effort_old, n.search_effort AS search_effort_new
    FROM new_rows AS n
    FULL JOIN old_rows AS o
      ON o.platform_id = n.platform_id AND o.period = n.period
     AND o.species_group = n.species_group
     AND coalesce(o.country, '') = coalesce(n.country, '')
)
SELECT pl.name AS platform, d.* EXCLUDE (platform_id)
FROM paired AS d
JOIN platforms AS pl ON pl.id = d.platform_id
JOIN species_groups AS sg ON sg.slug = d.species_group
WHERE $include_unchanged OR d.change <> 'unchanged'
ORDER BY pl.name, d.period, sg.sort_order, d.country NULLS FIRST
"""


def submission_diff(
    cur: duckdb.DuckDBPyConnection, submission_id: int, *, include_unchanged: bool = False
) -> pd.DataFrame:
    """The submission's rows against the previous version of the same figures, per platform ×
    period × species group × country: ``change`` is ``added`` (a key the previous version did
    not have), ``removed`` (a key it had and this submission has not), ``changed`` (some count
    differs; a blank and a 0 differ) or, with ``include_unchanged``, ``unchanged``. Each count
    comes as ``<count>_old`` and ``<count>_new``; ``old_submission_id`` names the previous
    version's submission.

    The previous version is the rows this submission replaced (once accepted) or would replace
    (while it awaits review); for a returned submission, the accepted figures it would have
    replaced. Where several earlier submissions hold a key, the latest of them counts. A
    submission that replaces nothing shows every row as added.
    """
    _info(cur, submission_id)
    frame = cur.execute(DIFF, {"id": submission_id, "include_unchanged": include_unchanged}).df()
    for col in frame.columns:
        if col.endswith(("_old", "_new")) or col == "old_submission_id":
            frame[col] = frame[col].astype("Int64")
    frame["country"] = frame["country"].astype(object).where(frame["country"].notna(), None)
    return frame


# --- The decision --------------------------------------------------------------------------


def review(
    cur: duckdb.DuckDBPyConnection,
    submission_id: int,
    decision: str,
    comment: str | None,
    actor: str,
) -> None:
    """Accept a submission (its figures then replace the older ones they cover) or return it to
    the partner, whose page shows the comment; a return needs a comment saying what to fix.

    Writes the decision and its audit-log entry; run it inside ``Database.write()`` so that
    both are stored or neither. Raises :class:`ReviewError` (a
    :class:`coalition.store.StoreError`) for a decision that cannot be made.
    """
    if decision not in DECISIONS:
        raise ReviewError(
            t("A review accepts or returns a submission, not '{decision}'.", decision=decision)
        )
    comment = (comment or "").strip() or None
    if decision == "return" and comment is None:
        raise ReviewError(
            t("Say why the submission is returned: the partner reads the comment to fix it.")
        )
    before = _info(cur, submission_id)
    store.review_submission(
        cur, submission_id, DECISIONS[decision], reviewed_by=actor, comment=comment
    )
    audit.record(
        cur,
        actor,
        decision,
        "submission",
        str(submission_id),
        before={"status": before["status"]},
        after={"status": DECISIONS[decision], "comment": comment},
    )
