"""Data-quality flags read from the pre-aggregated tables (coalition/quality.py,
``FLAGS_FROM_ROLLUPS``) must be exactly the flags read from the records (``FLAGS``): the same
kinds, details and submissions, for the fixture databases of the other tests, for a case worked
out by hand in which reading the wrong status or a key in parts would show, and for random
databases with blank counts, corrections, submissions awaiting review or returned.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coalition import quality, rollup, store
from coalition.db import Database
from metrics import rollups

TESTS = Path(__file__).resolve().parent


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixtures = _module("_quality_rollup_fixtures", TESTS / "conftest.py")
by_hand = _module("_quality_rollup_by_hand", TESTS / "test_quality.py")
page = _module("_quality_rollup_page", TESTS / "app" / "test_quality_page.py")

TODAYS = (dt.date(2019, 9, 1), dt.date(2020, 2, 1), dt.date(2020, 3, 1), dt.date(2021, 1, 1))


@pytest.fixture(autouse=True, params=["cells table", "cells view"])
def rollups_for_any_size(monkeypatch, request):
    """Keep rollups whatever the number of records (the test databases are small), with
    ``rollup_cells`` a table (as on a large database) or a view (as on a small one)."""
    monkeypatch.setenv(rollup.MIN_RECORDS_ENV, "0")
    cells_min = "0" if request.param == "cells table" else str(rollup.CELLS_MIN_RECORDS)
    monkeypatch.setenv(rollup.CELLS_MIN_RECORDS_ENV, cells_min)
    return request.param


def both_ways(cur: duckdb.DuckDBPyConnection, today: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flags from the rollups, then from the records (the rollups' stamp cleared in a
    transaction that is rolled back)."""
    assert rollups.fresh(cur)
    fast = quality.flags(cur, today=today)
    cur.begin()
    try:
        cur.execute("DELETE FROM meta WHERE key = ?", [rollups.STAMP_KEY])
        assert not rollups.fresh(cur)
        slow = quality.flags(cur, today=today)
    finally:
        cur.rollback()
    return fast, slow


def assert_same_flags(cur: duckdb.DuckDBPyConnection, today: dt.date) -> pd.DataFrame:
    fast, slow = both_ways(cur, today)
    pd.testing.assert_frame_equal(fast, slow, obj=f"flags on {today}")
    return fast


def test_fixture_databases_give_the_same_flags(build_db):
    cases = [
        (by_hand.PARTNERS, by_hand.SUBMISSIONS),
        (by_hand.PARTNERS[:1], by_hand.SUBMISSIONS[:4]),
        (page.PARTNERS, page.SUBMISSIONS),
        (fixtures.ACTIVITY_PARTNERS, fixtures.ACTIVITY_SUBMISSIONS),
        (fixtures.PANEL_PARTNERS, fixtures.PANEL_SUBMISSIONS),
    ]
    kinds = set()
    for partners, submissions in cases:
        with build_db(partners, submissions).read() as cur:
            for today in TODAYS:
                kinds |= set(assert_same_flags(cur, today)["kind"])
    assert kinds == set(quality.KINDS)  # every rule was compared on some flag


def test_the_hand_worked_flags_from_the_rollups(build_db):
    with build_db(by_hand.PARTNERS, by_hand.SUBMISSIONS).read() as cur:
        assert rollups.fresh(cur)
        flags = quality.flags(cur, today=by_hand.TODAY)
    assert by_hand._as_tuples(flags) == by_hand.EXPECTED


def test_small_cases_of_test_quality(build_db):
    rows = [
        by_hand._sub("acme", dt.datetime(2019, 4, 20), [by_hand._row("AcmeShop", m, r, 0)])
        for m, r in (("2019-01", 30), ("2019-02", 2), ("2019-03", 19), ("2019-04", 400))
    ]
    corrected = [
        by_hand._sub(
            "acme", dt.datetime(2019, 4, 20), [by_hand._row("AcmeShop", "2019-Q1", 10, 10)]
        ),
        by_hand._sub(
            "acme", dt.datetime(2019, 9, 1), [by_hand._row("AcmeShop", "2019-Q1", 11, 10)]
        ),
    ]
    for submissions in (rows, corrected):
        with build_db(by_hand.PARTNERS[:1], submissions).read() as cur:
            for today in TODAYS:
                assert_same_flags(cur, today)


# SoloShop, by hand (due 45 days after each quarter; figures awaiting review included):
#   1 accepted    Q1  removed 10, blocked 0, detected 5, effort 100
#   2 accepted    Q2  removed 12, blocked 0, detected 5, effort 100 (replaced by 3, pending)
#   3 submitted   Q2  two taxa of one key, blank in different counts:
#                     removed 100, blocked -, detected 5, effort -
#                     removed 150, blocked 0, detected -, effort 50
#                 → the key: removed 250, blocked 0, detected 5, effort 50
#   4 returned    Q3  removed 5000 (late, but returned: not a figure)
# One flag: removed 250 against 10 is a jump. Reading only accepted figures would give none
# (12 against 10); keeping the rows 3 replaces, 262; counting the returned submission, a jump
# and a late quarter in Q3; each taxon on its own, 150 and detections without effort.
SPLIT_COLUMNS = ("taxon", *fixtures.ROW_COLUMNS)
SPLIT_SUBMISSIONS = [
    dict(
        partner="solo",
        uploaded_at=dt.datetime(2019, 4, 20),
        rows=[("SoloShop", "2019-Q1", "elephants", "CHN", 10, 0, 5, 100)],
    ),
    dict(
        partner="solo",
        uploaded_at=dt.datetime(2019, 7, 10),
        rows=[("SoloShop", "2019-Q2", "elephants", "CHN", 12, 0, 5, 100)],
    ),
    dict(
        partner="solo",
        uploaded_at=dt.datetime(2019, 7, 20),
        status="submitted",
        columns=SPLIT_COLUMNS,
        rows=[
            ("Loxodonta africana", "SoloShop", "2019-Q2", "elephants", "CHN", 100, None, 5, None),
            ("Loxodonta cyclotis", "SoloShop", "2019-Q2", "elephants", "CHN", 150, 0, None, 50),
        ],
    ),
    dict(
        partner="solo",
        uploaded_at=dt.datetime(2019, 12, 1),
        status="returned",
        rows=[("SoloShop", "2019-Q3", "elephants", "CHN", 5000, 0, None, None)],
    ),
]
SOLO = [("solo", "e-commerce", dt.date(2019, 1, 1), ["SoloShop"])]


def test_a_key_in_parts_and_the_figures_awaiting_review(build_db):
    with build_db(SOLO, SPLIT_SUBMISSIONS).read() as cur:
        # the key is indeed split across rollup rows (else this test would not test that)
        parts = cur.execute(
            "SELECT count(*) FROM rollup_cells WHERE period = '2019-Q2' AND status = 'submitted'"
        ).fetchone()[0]
        assert parts == 2
        fast, slow = both_ways(cur, dt.date(2020, 3, 1))
    expected = [
        (
            "jump", "solo", "SoloShop", "2019-Q2", 3,
            "listings_removed is 250, against 10 in 2019-Q1 (elephants, CHN)", "warning",
        )
    ]  # fmt: skip
    for flags in (fast, slow):
        assert [tuple(r) for r in flags.astype(object).values.tolist()] == expected


def test_the_rollups_are_what_is_read_while_fresh(build_db, rollups_for_any_size):
    """Changing a rollup table (in a transaction rolled back) changes the flags: they come
    from the rollups, not the records, while the stamp says the rollups are current."""
    if rollups_for_any_size == "cells view":
        pytest.skip("a view cannot be changed")
    with build_db(by_hand.PARTNERS, by_hand.SUBMISSIONS).read() as cur:
        before = quality.flags(cur, today=by_hand.TODAY)
        cur.begin()
        try:
            cur.execute(
                "UPDATE rollup_uploads SET first_uploaded = first_uploaded + INTERVAL 1 YEAR"
            )
            cur.execute("UPDATE rollup_cells SET search_effort = NULL")
            cur.execute("UPDATE rollup_platform SET search_effort = NULL")
            cur.execute("DELETE FROM rollup_jumps")  # kept with a table rollup_cells
            assert rollups.fresh(cur)
            changed = quality.flags(cur, today=by_hand.TODAY)
        finally:
            cur.rollback()
    assert set(before["kind"]) >= {"effort_change", "late", "jump"}
    assert not {"effort_change", "jump"} & set(changed["kind"])
    assert (changed["kind"] == "late").sum() > (before["kind"] == "late").sum()


def test_the_jumps_are_stored_only_with_a_table_rollup_cells(build_db, rollups_for_any_size):
    """With rollup_cells a table the jump flags are kept in rollup_jumps, platform by platform,
    and a write refreshes the rows of the platforms it changed; with a view there is none."""
    db = build_db(by_hand.PARTNERS, by_hand.SUBMISSIONS)
    with db.read() as cur:
        tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if rollups_for_any_size == "cells view":
            assert "rollup_jumps" not in tables
            return
        stored = cur.execute("SELECT * FROM rollup_jumps ORDER BY ALL").fetchall()
        assert stored
        platform, period = cur.execute(
            "SELECT platform_id, period FROM rollup_jumps ORDER BY ALL LIMIT 1"
        ).fetchone()
    with db.write() as cur:  # that platform and period's records taken out, as a correction would
        cur.execute(
            "UPDATE records SET superseded_by = -1 WHERE platform_id = ? AND period = ?",
            [platform, period],
        )
    with db.read() as cur:
        assert rollups.fresh(cur)
        after = cur.execute("SELECT * FROM rollup_jumps ORDER BY ALL").fetchall()
        worked_out = cur.execute(
            quality.jumps_sql() + " ORDER BY ALL", quality.JUMP_PARAMETERS
        ).fetchall()
    assert after == worked_out
    assert after != stored
    assert not [r for r in after if (r[1], r[2]) == (platform, period)]


# --- random databases -------------------------------------------------------------------------

SPECIES = ("elephants", "pangolins")
COUNTRIES = ("CHN", "KEN", "")
PERIODS = ("2019-01", "2019-02", "2019-03", "2019-05", "2019-Q1", "2019-Q2", "2019-Q3")
PERIODS += ("2019-Q4", "2020-Q1", "2020-Q2")
TAXA = (None, "a", "b")
count_st = st.sampled_from((None, 0, 1, 3, 19, 20, 25, 60, 200, 1000))
row_st = st.tuples(
    st.integers(0, 3),  # partner
    st.integers(0, 1),  # platform of that partner
    st.sampled_from(PERIODS),
    st.sampled_from(SPECIES),
    st.sampled_from(COUNTRIES),
    st.sampled_from(TAXA),
    count_st,
    count_st,
    count_st,
    count_st,
)
JOINED = dt.date(2018, 1, 1)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    partners=st.lists(st.integers(1, 2), min_size=1, max_size=4),
    batches=st.lists(
        st.tuples(
            st.sampled_from(("accepted", "submitted", "returned")),
            st.integers(0, 500),  # days after 2019-01-01
            st.lists(row_st, max_size=14),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_random_databases_give_the_same_flags(empty_db_file, tmp_path_factory, partners, batches):
    path = tmp_path_factory.mktemp("quality") / "c.duckdb"
    shutil.copyfile(empty_db_file, path)
    db = Database(path)
    slugs = [f"p{i}" for i in range(len(partners))]
    with db.write() as cur:
        for slug, n in zip(slugs, partners, strict=True):
            store.add_partner(
                cur, slug, slug.upper(), "e-commerce", JOINED,
                platforms=tuple((f"{slug}-site{j}", "marketplace") for j in range(n)),
            )  # fmt: skip
    for batch, (status, day, rows) in enumerate(batches):
        per_partner: dict[str, dict[tuple, tuple]] = {}
        for p, j, period, species, country, taxon, removed, blocked, detected, effort in rows:
            slug, n = slugs[p % len(slugs)], partners[p % len(slugs)]
            if all(c is None for c in (removed, blocked, detected, effort)):
                removed = 0
            key = (taxon, f"{slug}-site{j % n}", period, species, country)
            per_partner.setdefault(slug, {})[key] = (*key, removed, blocked, detected, effort)
        for slug, keyed in per_partner.items():
            with db.write() as cur:
                store.add_submission(
                    cur,
                    partner=slug,
                    records=fixtures.records_frame(list(keyed.values()), SPLIT_COLUMNS),
                    uploaded_by="test",
                    # one time per batch: the first upload of a period is never a tie
                    uploaded_at=dt.datetime(2019, 1, 1) + dt.timedelta(days=day, minutes=batch),
                    status=status,
                )
    with db.read() as cur:
        for today in (dt.date(2019, 10, 1), dt.date(2021, 1, 1)):
            assert_same_flags(cur, today)


# The rollups' jump rule first compares the counts as floating-point numbers, with a little
# room, then the exact counts of the pairs it kept: a count exactly ten times the previous one is
# no jump, one more is; and counts too large for a floating-point number to hold exactly
# (5 × 2^60 + 1 is stored as 5 × 2^60) are still told apart.
HUGE = 2**59
EDGE_SUBMISSIONS = [
    by_hand._sub(
        "acme",
        dt.datetime(2019, 3, 10),
        [
            by_hand._row("AcmeShop", "2019-01", 20, 0, species="elephants"),
            by_hand._row("AcmeShop", "2019-02", 200, 0, species="elephants"),
            by_hand._row("AcmeShop", "2019-01", 20, 0, species="pangolins"),
            by_hand._row("AcmeShop", "2019-02", 201, 0, species="pangolins"),
        ],
    ),
    by_hand._sub(
        "bolt",
        dt.datetime(2019, 3, 10),
        [
            by_hand._row("BoltChat", "2019-01", HUGE, 0, species="elephants"),
            by_hand._row("BoltChat", "2019-02", 10 * HUGE + 1, 0, species="elephants"),
            by_hand._row("BoltChat", "2019-01", HUGE, 0, species="pangolins"),
            by_hand._row("BoltChat", "2019-02", 10 * HUGE, 0, species="pangolins"),
        ],
    ),
]


def test_jumps_at_the_factor_and_beyond_floating_point(build_db):
    assert float(10 * HUGE + 1) == float(10 * HUGE)  # the case is one doubles cannot tell
    with build_db(by_hand.PARTNERS[:2], EDGE_SUBMISSIONS).read() as cur:
        flags = assert_same_flags(cur, dt.date(2019, 6, 1))
    jumps = flags.loc[flags["kind"] == "jump", ["platform", "detail"]]
    assert [tuple(r) for r in jumps.values.tolist()] == [
        (
            "AcmeShop",
            "listings_removed is 201, against 20 in 2019-01 (pangolins, CHN)",
        ),
        (
            "BoltChat",
            f"listings_removed is {10 * HUGE + 1:,}, against {HUGE:,} in 2019-01 (elephants, CHN)",
        ),
    ]
