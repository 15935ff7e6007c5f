"""The review of submissions: the status matrix, a submission's rows, check and changes, and the
decision with its audit entry — on a small database whose every figure is listed below."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from coalition import audit, review, rollup
from coalition.db import set_meta
from coalition.ingest import ingest
from coalition.store import StoreError
from coalition.validation import validate
from metrics import rollups

# acme joined 2019-01-01 (AcmeShop); bolt joined 2019-04-15 (BoltChat), after 2019-Q1 ended.
# Due dates (45 days): Q1 2019-05-15, Q2 2019-08-14, Q3 2019-11-14, Q4 2020-02-14.
PARTNERS = [
    ("acme", "e-commerce", dt.date(2019, 1, 1), ["AcmeShop"]),
    ("bolt", "social-media", dt.date(2019, 4, 15), ["BoltChat"]),
]
#        platform    period     species      country removed blocked detected effort
SUBMISSIONS = [
    dict(  # 1: on time; superseded by 2
        partner="acme",
        uploaded_at=dt.datetime(2019, 4, 10),
        rows=[("AcmeShop", "2019-Q1", "elephants", "CHN", 10, 20, 5, 100)],
    ),
    dict(  # 2: a correction after the due date: Q1 stays on time (first upload counts)
        partner="acme",
        uploaded_at=dt.datetime(2019, 6, 1),
        rows=[("AcmeShop", "2019-Q1", "elephants", "CHN", 12, 20, 5, 100)],
    ),
    dict(  # 3: Q2 by month, after the due date: late
        partner="acme",
        uploaded_at=dt.datetime(2019, 8, 20),
        rows=[
            ("AcmeShop", "2019-04", "elephants", "CHN", 1, 1, None, None),
            ("AcmeShop", "2019-05", "elephants", "CHN", 2, 2, None, None),
            ("AcmeShop", "2019-06", "elephants", "CHN", 3, 3, None, None),
        ],
    ),
    dict(  # 4: Q3 accepted, on time
        partner="acme",
        uploaded_at=dt.datetime(2019, 10, 20),
        rows=[
            ("AcmeShop", "2019-Q3", "elephants", "CHN", 10, 20, 5, 100),
            ("AcmeShop", "2019-Q3", "pangolins", "VNM", 3, 4, None, None),
            ("AcmeShop", "2019-Q3", "birds", None, 1, 1, None, None),
        ],
    ),
    dict(  # 5: a correction of Q3 awaiting review
        partner="acme",
        uploaded_at=dt.datetime(2019, 11, 1),
        status="submitted",
        rows=[
            ("AcmeShop", "2019-Q3", "elephants", "CHN", 10, 20, 5, 100),  # unchanged
            ("AcmeShop", "2019-Q3", "pangolins", "VNM", 3, 0, None, None),  # blocked 4 → 0
            ("AcmeShop", "2019-Q3", "big_cats", "USA", 7, 7, None, None),  # added
            # birds: removed
        ],
    ),
    dict(  # 6: returned
        partner="bolt",
        uploaded_at=dt.datetime(2019, 7, 20),
        status="returned",
        rows=[("BoltChat", "2019-Q2", "elephants", "VNM", 5, 5, None, None)],
    ),
]
TODAY = dt.date(2019, 12, 1)
QUARTERS = ["2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4"]


@pytest.fixture
def db(build_db):
    return build_db(PARTNERS, SUBMISSIONS)


@pytest.fixture(params=["from records", "from rollups"])
def matrix_db(request, build_db, monkeypatch):
    """The database, without or with the pre-aggregated tables (which the status matrix reads
    while they are fresh, as on a large database): the same statuses either way."""
    if request.param == "from rollups":
        monkeypatch.setenv(rollup.MIN_RECORDS_ENV, "0")
    db = build_db(PARTNERS, SUBMISSIONS)
    with db.read() as cur:
        assert rollups.fresh(cur) == (request.param == "from rollups")
    return db


def test_every_status_of_the_matrix(matrix_db) -> None:
    db = matrix_db
    with db.read() as cur:
        matrix = review.status_matrix(cur, today=TODAY)
    expected = pd.DataFrame(
        [
            ["accepted", "late", "submitted", "not_yet_due"],
            ["not_a_member", "returned", "missing", "not_yet_due"],
        ],
        index=pd.Index(["acme", "bolt"], name="partner"),
        columns=QUARTERS,
    )
    pd.testing.assert_frame_equal(matrix, expected)


def test_cells_name_the_deciding_submission_and_due_date(matrix_db) -> None:
    db = matrix_db
    with db.read() as cur:
        cells = review.status_cells(cur, "2019-Q1", "2019-Q4", today=TODAY)
    assert cells["submission_id"].astype(object).where(
        cells["submission_id"].notna(), None
    ).tolist() == [2, 3, 5, None, None, 6, None, None]
    assert cells["due_date"].tolist()[:4] == [
        dt.date(2019, 5, 15),
        dt.date(2019, 8, 14),
        dt.date(2019, 11, 14),
        dt.date(2020, 2, 14),
    ]
    assert cells["partner_name"].tolist() == ["Acme"] * 4 + ["Bolt"] * 4


def test_the_due_days_setting_decides_late_and_missing(matrix_db) -> None:
    db = matrix_db
    with db.write() as cur:
        set_meta(cur, "submission_due_days", "60")  # Q2 due 2019-08-29, Q3 2019-11-29
    with db.read() as cur:
        matrix = review.status_matrix(cur, today=TODAY)
        before_due = review.status_matrix(cur, today=dt.date(2019, 11, 20))
    assert matrix.loc["acme", "2019-Q2"] == "accepted"
    assert matrix.loc["bolt", "2019-Q3"] == "missing"
    assert before_due.loc["bolt", "2019-Q3"] == "not_yet_due"
    assert before_due.columns.tolist() == QUARTERS


def test_quarter_range_and_bad_quarters(matrix_db) -> None:
    db = matrix_db
    with db.read() as cur:
        matrix = review.status_matrix(cur, "2019-Q2", "2019-Q3", today=TODAY)
        assert matrix.columns.tolist() == ["2019-Q2", "2019-Q3"]
        with pytest.raises(ValueError, match="not a quarter"):
            review.status_matrix(cur, "2019-07", today=TODAY)


def test_matrix_without_partners(build_db) -> None:
    with build_db().read() as cur:
        assert review.status_matrix(cur, today=TODAY).empty


def test_detail_names_platform_species_and_country(db) -> None:
    with db.read() as cur:
        found = review.submission_detail(cur, 5)
        with pytest.raises(review.ReviewError, match="no submission 99"):
            review.submission_detail(cur, 99)
    assert found.info["partner_name"] == "Acme"
    assert found.info["status"] == "submitted"
    assert (found.info["rows"], found.info["current_rows"]) == (3, 3)
    assert (found.info["first_period"], found.info["last_period"]) == ("2019-Q3", "2019-Q3")
    assert found.info["file_archived"] is False
    rows = found.rows
    assert rows[["platform", "period", "species", "country", "country_name"]].values.tolist() == [
        ["AcmeShop", "2019-Q3", "Elephants (ivory)", "CHN", "China"],
        ["AcmeShop", "2019-Q3", "Pangolins", "VNM", "Vietnam"],
        ["AcmeShop", "2019-Q3", "Tigers and other big cats", "USA", "United States"],
    ]
    assert rows["listings_blocked"].tolist() == [20, 0, 7]
    assert rows["listings_detected"].tolist()[1:] == [pd.NA, pd.NA]


def _changes(frame: pd.DataFrame, *cols: str) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame[list(cols)].values]


def test_diff_of_a_pending_submission(db) -> None:
    with db.read() as cur:
        diff = review.submission_diff(cur, 5)
        full = review.submission_diff(cur, 5, include_unchanged=True)
    cols = ("change", "species_group", "country", "listings_blocked_old", "listings_blocked_new")
    assert _changes(diff, *cols) == [
        ("changed", "pangolins", "VNM", 4, 0),
        ("added", "big_cats", "USA", None, 7),
        ("removed", "birds", None, 1, None),
    ]
    assert diff["old_submission_id"].tolist()[0] == 4
    assert _changes(full, "change", "species_group") == [
        ("unchanged", "elephants"),
        ("changed", "pangolins"),
        ("added", "big_cats"),
        ("removed", "birds"),
    ]


def test_diff_of_an_accepted_correction_and_of_a_first_submission(db) -> None:
    with db.read() as cur:
        correction = review.submission_diff(cur, 2)
        first = review.submission_diff(cur, 3)
        returned = review.submission_diff(cur, 6)
    assert _changes(correction, "change", "listings_removed_old", "listings_removed_new") == [
        ("changed", 10, 12)
    ]
    assert first["change"].tolist() == ["added"] * 3
    assert first["period"].tolist() == ["2019-04", "2019-05", "2019-06"]
    assert returned["change"].tolist() == ["added"]


def test_diff_of_a_returned_submission_is_against_the_figures_it_would_replace(db) -> None:
    with db.write() as cur:
        review.review(cur, 5, "return", "Blocked listings are missing", "ana")
    with db.read() as cur:
        diff = review.submission_diff(cur, 5)
    assert diff["change"].tolist() == ["changed", "added", "removed"]


def test_warnings_of_an_archived_file_are_checked_again(db) -> None:
    # row 2 jumps from 12 (Q1, stored) to 200; rows 2 and 3 overlap stored Q2 and Q1
    # figures; row 4 (Q4) overlaps nothing but its own stored rows
    csv = (
        b"period,platform,species_group,country,listings_removed,listings_blocked\r\n"
        b"2019-Q2,AcmeShop,elephants,CHN,200,20\r\n"
        b"2019-Q1,AcmeShop,pangolins,VNM,1,1\r\n"
        b"2019-Q4,AcmeShop,elephants,CHN,25,20\r\n"
    )
    result = ingest(db, "acme", csv, "acme.csv", uploaded_by="acme", acknowledge_warnings=True)
    assert result.stored
    with db.read() as cur:
        report = review.submission_warnings(cur, result.submission_id)
        assert review.submission_warnings(cur, 5) is None  # no archived file
        plain = validate(cur, "acme", csv, "acme.csv").report
    # a plain check of the stored file would count the submission's own Q4 rows
    assert (4, "period", "period_already_submitted") in [
        (w.row, w.column, w.code) for w in plain.warnings
    ]
    assert report.valid
    # the Q4 row is not warned about as "already submitted": those figures are its own
    assert [(w.row, w.column, w.code) for w in report.warnings] == [
        (2, "period", "period_already_submitted"),
        (3, "period", "period_already_submitted"),
        (2, "listings_removed", "jump"),
    ]


def test_return_needs_a_comment(db) -> None:
    with db.write() as cur, pytest.raises(review.ReviewError, match="Say why"):
        review.review(cur, 5, "return", "   ", "ana")
    with db.read() as cur:
        assert cur.execute("SELECT status FROM submissions WHERE id = 5").fetchone()[0] == (
            "submitted"
        )
        assert audit.entries(cur).empty


def test_return_stores_the_comment_and_an_audit_entry(db) -> None:
    with db.write() as cur:
        review.review(cur, 5, "return", " Blocked listings are missing ", "ana")
    with db.read() as cur:
        row = cur.execute(
            "SELECT status, reviewed_by, review_comment FROM submissions WHERE id = 5"
        ).fetchone()
        pending = cur.execute(
            "SELECT count(*) FROM records WHERE replaced_by_pending IS NOT NULL"
        ).fetchone()[0]
        log = audit.entries(cur)
        matrix = review.status_matrix(cur, today=TODAY)
    assert row == ("returned", "ana", "Blocked listings are missing")
    assert pending == 0
    assert log[["actor", "action", "entity", "entity_key"]].values.tolist() == [
        ["ana", "return", "submission", "5"]
    ]
    assert json.loads(log["before"][0]) == {"status": "submitted"}
    assert json.loads(log["after"][0]) == {
        "status": "returned",
        "comment": "Blocked listings are missing",
    }
    assert matrix.loc["acme", "2019-Q3"] == "accepted"  # the accepted figures stay


def test_accept_supersedes_and_is_logged(db) -> None:
    with db.write() as cur:
        review.review(cur, 5, "accept", "", "ana")
    with db.read() as cur:
        statuses = dict(cur.execute("SELECT id, status FROM submissions").fetchall())
        superseded = cur.execute(
            "SELECT count(*) FROM records WHERE submission_id = 4 AND superseded_by = 5"
        ).fetchone()[0]
        log = audit.entries(cur)
    assert (statuses[4], statuses[5]) == ("superseded", "accepted")
    assert superseded == 3
    assert json.loads(log["after"][0]) == {"status": "accepted", "comment": None}


def test_a_refused_review_writes_nothing(db) -> None:
    with pytest.raises(StoreError, match="only a submitted one"), db.write() as cur:
        review.review(cur, 4, "accept", None, "ana")
    with pytest.raises(review.ReviewError, match="accepts or returns"), db.write() as cur:
        review.review(cur, 5, "reject", "no", "ana")
    with db.read() as cur:
        assert audit.entries(cur).empty
