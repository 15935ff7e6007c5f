"""The database layer: transactions, superseding, constraints, and sharing the file between
threads and processes."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from coalition import store
from coalition.db import Database, DatabaseBusy

REPO = Path(__file__).resolve().parent.parent
UPLOADED = dt.datetime(2019, 4, 10, 9, 0)


@pytest.fixture
def db(tmp_path: Path, empty_db_file: Path) -> Database:
    """A freshly initialised database without data (a copy of the session's template)."""
    path = tmp_path / "coalition.duckdb"
    shutil.copyfile(empty_db_file, path)
    return Database(path, retry_seconds=5)


def add_partner(db: Database) -> None:
    with db.write() as cur:
        store.add_partner(
            cur,
            "shopco",
            "ShopCo",
            "e-commerce",
            dt.date(2018, 1, 1),
            platforms=(("ShopMarket", "marketplace"), ("ShopResale", "other")),
        )


def records_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (platform, period, species, country, removed, blocked, detected, effort)."""
    columns = [
        "platform",
        "period",
        "species_group",
        "country",
        "listings_removed",
        "listings_blocked",
        "listings_detected",
        "search_effort",
    ]
    return pd.DataFrame([list(r) for r in rows], columns=columns, dtype=object)


def count(db: Database, table: str) -> int:
    with db.read() as cur:
        return cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# --- Database.write is all or nothing ------------------------------------------------------


def test_write_that_fails_leaves_nothing_and_keeps_the_data_version(db):
    assert db.data_version() == 1  # init is one successful write
    with pytest.raises(RuntimeError, match="boom"), db.write() as cur:
        store.add_partner(
            cur,
            "shopco",
            "ShopCo",
            "e-commerce",
            dt.date(2018, 1, 1),
            platforms=(("ShopMarket", "marketplace"),),
        )
        store.add_submission(
            cur,
            partner="shopco",
            records=records_frame([("ShopMarket", "2019-Q1", "elephants", "CHN", 1, 2, 3, 4)]),
            uploaded_by="a@example.org",
            uploaded_at=UPLOADED,
            status="accepted",
        )
        # everything so far is visible inside the transaction ...
        assert cur.execute("SELECT count(*) FROM records").fetchone()[0] == 1
        raise RuntimeError("boom")
    # ... and none of it after the failure
    assert [count(db, t) for t in ("partners", "platforms", "submissions", "records")] == [
        0,
        0,
        0,
        0,
    ]
    assert db.data_version() == 1


def test_each_successful_write_bumps_the_data_version_once(db):
    add_partner(db)  # one write
    assert db.data_version() == 2
    with db.write() as cur:  # a write that changes nothing still counts
        cur.execute("SELECT 1")
    assert db.data_version() == 3
    assert count(db, "partners") == 1
    assert count(db, "platforms") == 2


def test_unknown_platform_refuses_the_whole_submission(db):
    add_partner(db)
    with pytest.raises(store.StoreError, match="not registered"), db.write() as cur:
        store.add_submission(
            cur,
            partner="shopco",
            records=records_frame(
                [
                    ("ShopMarket", "2019-Q1", "elephants", "CHN", 1, 2, None, None),
                    ("NoSuchPlatform", "2019-Q1", "elephants", "CHN", 1, 2, None, None),
                ]
            ),
            uploaded_by="a@example.org",
            uploaded_at=UPLOADED,
        )
    assert count(db, "submissions") == 0
    assert count(db, "records") == 0
    assert db.data_version() == 2


# --- Superseding ---------------------------------------------------------------------------


def submit(db: Database, rows: list[tuple], when: dt.datetime, status="accepted") -> int:
    with db.write() as cur:
        return store.add_submission(
            cur,
            partner="shopco",
            records=records_frame(rows),
            uploaded_by="a@example.org",
            uploaded_at=when,
            status=status,
        )


def test_resubmission_supersedes_rows_of_the_same_platform_and_period(db):
    add_partner(db)
    first = submit(
        db,
        [
            ("ShopMarket", "2019-Q1", "elephants", "CHN", 10, 20, None, None),
            ("ShopMarket", "2019-Q1", "pangolins", "VNM", 1, 2, None, None),
            ("ShopMarket", "2019-Q2", "elephants", "CHN", 30, 40, None, None),
            ("ShopResale", "2019-Q1", "elephants", "CHN", 5, 6, None, None),
        ],
        UPLOADED,
    )
    # corrects ShopMarket 2019-Q1 only (and with one species group fewer)
    second = submit(
        db,
        [("ShopMarket", "2019-Q1", "elephants", "CHN", 11, 21, None, None)],
        UPLOADED + dt.timedelta(days=1),
    )
    with db.read() as cur:
        rows = cur.execute(
            "SELECT submission_id, platform_id, period, species_group, listings_removed, "
            "listings_blocked, superseded_by FROM records ORDER BY id"
        ).fetchall()
        statuses = dict(cur.execute("SELECT id, status FROM submissions").fetchall())
        current = cur.execute(
            "SELECT sum(listings_removed) FROM facts WHERE platform = 'ShopMarket' "
            "AND period = '2019-Q1'"
        ).fetchone()[0]
    market, resale = 1, 2  # platform ids in the order they were added
    assert rows == [
        # both old ShopMarket 2019-Q1 rows keep their figures and point at the new submission
        (first, market, "2019-Q1", "elephants", 10, 20, second),
        (first, market, "2019-Q1", "pangolins", 1, 2, second),
        # another period and another platform are untouched
        (first, market, "2019-Q2", "elephants", 30, 40, None),
        (first, resale, "2019-Q1", "elephants", 5, 6, None),
        (second, market, "2019-Q1", "elephants", 11, 21, None),
    ]
    assert current == 11  # only the new row is current
    # the first submission still has current rows, so it keeps its status
    assert statuses == {first: "accepted", second: "accepted"}


def test_submission_whose_rows_are_all_superseded_becomes_superseded(db):
    add_partner(db)
    first = submit(
        db,
        [
            ("ShopMarket", "2019-Q1", "elephants", "CHN", 10, 20, None, None),
            ("ShopMarket", "2019-Q2", "elephants", "CHN", 30, 40, None, None),
        ],
        UPLOADED,
    )
    second = submit(
        db,
        [("ShopMarket", "2019-Q1", "elephants", "CHN", 11, 21, None, None)],
        UPLOADED + dt.timedelta(days=1),
    )
    third = submit(
        db,
        [("ShopMarket", "2019-Q2", "elephants", "CHN", 31, 41, None, None)],
        UPLOADED + dt.timedelta(days=2),
    )
    with db.read() as cur:
        statuses = dict(cur.execute("SELECT id, status FROM submissions").fetchall())
        kept = cur.execute(
            "SELECT listings_removed, superseded_by FROM records WHERE submission_id = ? "
            "ORDER BY period",
            [first],
        ).fetchall()
    assert statuses == {first: "superseded", second: "accepted", third: "accepted"}
    assert kept == [(10, second), (30, third)]  # history keeps the old figures


def test_resubmission_supersedes_overlapping_periods(db):
    add_partner(db)
    quarter = submit(
        db,
        [
            ("ShopMarket", "2019-Q1", "elephants", "CHN", 30, 30, None, None),
            ("ShopMarket", "2019-Q2", "elephants", "CHN", 40, 40, None, None),
            ("ShopResale", "2019-Q1", "elephants", "CHN", 5, 5, None, None),
        ],
        UPLOADED,
    )
    # February overlaps 2019-Q1 of ShopMarket only
    month = submit(
        db,
        [("ShopMarket", "2019-02", "elephants", "CHN", 10, 10, None, None)],
        UPLOADED + dt.timedelta(days=1),
    )
    # and a quarter resubmitted over that month supersedes it in turn
    again = submit(
        db,
        [("ShopMarket", "2019-Q1", "elephants", "CHN", 33, 33, None, None)],
        UPLOADED + dt.timedelta(days=2),
    )
    with db.read() as cur:
        rows = cur.execute(
            "SELECT submission_id, platform_id, period, superseded_by FROM records ORDER BY id"
        ).fetchall()
        statuses = dict(cur.execute("SELECT id, status FROM submissions").fetchall())
    assert rows == [
        (quarter, 1, "2019-Q1", month),
        (quarter, 1, "2019-Q2", None),
        (quarter, 2, "2019-Q1", None),
        (month, 1, "2019-02", again),
        (again, 1, "2019-Q1", None),
    ]
    assert statuses == {quarter: "accepted", month: "superseded", again: "accepted"}


# --- Constraints ---------------------------------------------------------------------------


def insert_record(cur, **counts) -> None:
    columns = ", ".join(counts)
    marks = ", ".join("?" for _ in counts)
    cur.execute(
        "INSERT INTO records (submission_id, platform_id, period, species_group"
        + (", " + columns if counts else "")
        + ") VALUES (?, 1, '2019-Q1', 'elephants'"
        + (", " + marks if counts else "")
        + ")",
        [cur.execute("SELECT max(id) FROM submissions").fetchone()[0], *counts.values()],
    )


def test_check_constraint_refuses_a_negative_count(db):
    add_partner(db)
    submit(db, [("ShopMarket", "2019-Q1", "elephants", "CHN", 1, None, None, None)], UPLOADED)
    with db.read():  # keeps the file open across the writes below, so they are quick
        for column in store.COUNT_COLUMNS:
            with (
                pytest.raises(duckdb.ConstraintException, match=f"{column} >= 0"),
                db.write() as cur,
            ):
                insert_record(cur, **{column: -1})
            with db.write() as cur:  # 0 is a count like any other
                insert_record(cur, **{column: 0})
    # the first row, then one row with a 0 for each of the six counts
    assert count(db, "records") == 1 + 6


def test_check_constraint_refuses_a_row_without_any_count(db):
    add_partner(db)
    submit(db, [("ShopMarket", "2019-Q1", "elephants", "CHN", 1, None, None, None)], UPLOADED)
    with pytest.raises(duckdb.ConstraintException, match="CHECK"), db.write() as cur:
        insert_record(cur, notes="nothing counted")
    assert count(db, "records") == 1


def test_add_submission_with_a_negative_count_stores_nothing(db):
    add_partner(db)
    with pytest.raises(duckdb.Error):
        submit(
            db,
            [
                ("ShopMarket", "2019-Q1", "elephants", "CHN", 1, 2, None, None),
                ("ShopMarket", "2019-Q2", "elephants", "CHN", -1, 2, None, None),
            ],
            UPLOADED,
        )
    assert count(db, "submissions") == 0
    assert count(db, "records") == 0


def test_add_submission_reports_the_constraint_that_failed(db):
    add_partner(db)
    with pytest.raises(duckdb.ConstraintException, match="listings_removed >= 0"):
        submit(db, [("ShopMarket", "2019-Q2", "elephants", "CHN", -1, 2, None, None)], UPLOADED)


def test_add_submission_refuses_a_row_without_any_count(db):
    add_partner(db)
    with pytest.raises(duckdb.Error):
        submit(
            db, [("ShopMarket", "2019-Q2", "elephants", "CHN", None, None, None, None)], UPLOADED
        )
    assert count(db, "submissions") == 0


# --- Threads and processes -----------------------------------------------------------------


def test_many_threads_read_at_once_through_one_database(db):
    add_partner(db)
    threads = 16
    barrier = threading.Barrier(threads)

    def read(_: int) -> int:
        with db.read() as cur:
            barrier.wait(timeout=10)  # all sixteen hold a cursor at the same moment
            return cur.execute("SELECT count(*) FROM platforms").fetchone()[0]

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(read, range(threads)))
    assert results == [2] * threads
    # and the file is released afterwards: another write works
    with db.write() as cur:
        store.add_platform(cur, "shopco", "ShopThird")
    assert count(db, "platforms") == 3


HOLDER = textwrap.dedent("""
    import sys, time
    from coalition.db import Database
    with Database(sys.argv[1]).write() as cur:
        cur.execute("INSERT INTO meta VALUES ('held_by_child', 'yes')")
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def hold_in_child(path: Path, seconds: float) -> subprocess.Popen:
    """A second process that opens the database for writing and keeps it for ``seconds``."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "holding"
    return child


def test_second_process_waits_for_the_database_then_succeeds(db):
    child = hold_in_child(db.path, 1.5)
    try:
        start = time.monotonic()
        with Database(db.path, retry_seconds=10).read() as cur:
            held = cur.execute("SELECT value FROM meta WHERE key = 'held_by_child'").fetchone()
        waited = time.monotonic() - start
    finally:
        child.wait(timeout=20)
    assert child.returncode == 0
    assert held == ("yes",)  # it saw the child's committed write
    assert 0.5 < waited < 10  # it had to wait for the child, not for the full retry time


def test_second_process_gives_up_with_database_busy(db):
    child = hold_in_child(db.path, 1.5)
    try:
        start = time.monotonic()
        with (
            pytest.raises(DatabaseBusy, match="in use by another process"),
            Database(db.path, retry_seconds=0.5).read(),
        ):
            pass
        waited = time.monotonic() - start
    finally:
        child.wait(timeout=20)
    assert 0.5 <= waited < 1.5  # it retried for half a second, then gave up (child holds 1.5 s)
    assert child.returncode == 0


def _actions(db: Database, include_submitted: bool = False) -> int:
    from metrics import Filters, actions

    with db.read() as cur:
        frame = actions(cur, Filters(include_submitted=include_submitted), grain=None)
    return int(frame["actions"].sum())


def test_review_accepts_or_returns_a_pending_correction(db: Database) -> None:
    add_partner(db)
    with db.write() as cur:
        store.add_submission(
            cur,
            partner="shopco",
            records=records_frame(
                [("ShopMarket", "2019-Q1", "elephants", "CHN", 10, 30, None, None)]
            ),
            uploaded_by="t",
            uploaded_at=UPLOADED,
            status="accepted",
        )
        first = store.add_submission(
            cur,
            partner="shopco",
            records=records_frame(
                [("ShopMarket", "2019-Q1", "elephants", "CHN", 1, 2, None, None)]
            ),
            uploaded_by="t",
            status="submitted",
        )
    # pending: the accepted 40 stay; "include submitted" shows the correction's 3 instead
    assert (_actions(db), _actions(db, include_submitted=True)) == (40, 3)
    with db.write() as cur:
        store.review_submission(cur, first, "returned", reviewed_by="sec", comment="Q1 is off")
        second = store.add_submission(
            cur,
            partner="shopco",
            records=records_frame(
                [("ShopMarket", "2019-01", "elephants", "CHN", 5, 5, None, None)]
            ),
            uploaded_by="t",
            status="submitted",
        )
    with db.read() as cur:
        assert cur.execute(
            "SELECT status, review_comment FROM submissions WHERE id = ?", [first]
        ).fetchone() == ("returned", "Q1 is off")
    assert (_actions(db), _actions(db, include_submitted=True)) == (40, 10)
    with db.write() as cur:
        store.review_submission(cur, second, "accepted", reviewed_by="sec")
    # the accepted month supersedes the overlapping accepted quarter, which stays in history
    assert _actions(db) == 10
    with db.read() as cur:
        statuses = cur.execute("SELECT id, status FROM submissions ORDER BY id").fetchall()
        kept = cur.execute("SELECT count(*) FROM records WHERE superseded_by = ?", [second])
        assert kept.fetchone()[0] == 1
    assert [s for _, s in statuses] == ["superseded", "returned", "accepted"]
    with db.write() as cur, pytest.raises(store.StoreError, match="only a submitted one"):
        store.review_submission(cur, second, "returned", reviewed_by="sec")


def test_a_superseded_submission_can_be_restored(db: Database) -> None:
    add_partner(db)
    row = ("ShopMarket", "2019-Q1", "elephants", "CHN", 10, 30, None, None)
    with db.write() as cur:
        first = store.add_submission(
            cur, partner="shopco", records=records_frame([row]), uploaded_by="t", status="accepted"
        )
        second = store.add_submission(
            cur,
            partner="shopco",
            records=records_frame(
                [("ShopMarket", "2019-Q1", "elephants", "CHN", 1, 1, None, None)]
            ),
            uploaded_by="t",
            status="accepted",
        )
    assert _actions(db) == 2
    with db.write() as cur:
        assert store.restore_submission(cur, first) == 1
    assert _actions(db) == 40  # the first figures are back
    with db.read() as cur:
        statuses = dict(cur.execute("SELECT id, status FROM submissions").fetchall())
    assert statuses == {first: "accepted", second: "superseded"}
    with db.write() as cur:  # and back again: nothing is ever lost
        store.restore_submission(cur, second)
    assert _actions(db) == 2
    with db.write() as cur, pytest.raises(store.StoreError, match="no superseded rows"):
        store.restore_submission(cur, second)


def test_a_lingering_database_stays_open_between_queries_then_lets_go(tmp_path):
    from coalition import db as dbmodule

    path = tmp_path / "linger.duckdb"
    store.init(Database(path))
    db = Database(path, linger_seconds=0.3)
    with db.read() as cur:
        cur.execute("SELECT 1")
    shared = dbmodule._shared[str(path.resolve())]
    assert shared.connection is not None  # kept for the next query of the same page
    with db.read() as cur:  # the next query reuses it and restarts the wait
        cur.execute("SELECT 1")
    time.sleep(0.8)
    assert shared.connection is None  # released: another process can have the file
