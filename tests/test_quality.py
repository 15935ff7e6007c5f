"""Data-quality flags on a small database in which each kind of flag occurs, worked out by hand
below."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from coalition import quality

# Three partners, all joined 2019-01-01; one platform each. Due dates (45 days): Q1
# 2019-05-15, Q2 2019-08-14, Q3 2019-11-14, Q4 2020-02-14.
PARTNERS = [
    ("acme", "e-commerce", dt.date(2019, 1, 1), ["AcmeShop"]),
    ("bolt", "social-media", dt.date(2019, 1, 1), ["BoltChat"]),
    ("cora", "search", dt.date(2019, 1, 1), ["CoraFind"]),
]


def _sub(partner, uploaded, rows, status="accepted"):
    return dict(partner=partner, uploaded_at=uploaded, rows=rows, status=status)


def _row(platform, period, removed, blocked, detected=None, effort=None, species="elephants"):
    return (platform, period, species, "CHN", removed, blocked, detected, effort)


# Actions (removed + blocked) by quarter, and each platform's share of the quarter's total:
#             Q1           Q2            Q3           Q4
#   AcmeShop  20  (1.8%)   210 (17.4%)   30  (2.7%)   30  (2.9%)
#   BoltChat  80  (7.3%)   -             80  (7.2%)   -
#   CoraFind  1000         1000          1000         1000
#   total     1100         1210          1110         1030
# AcmeShop's search effort: 100, 100, 400, then 40 in a correction awaiting review.
SUBMISSIONS = [
    _sub("acme", dt.datetime(2019, 4, 20), [_row("AcmeShop", "2019-Q1", 10, 10, 5, 100)]),  # 1
    _sub("acme", dt.datetime(2019, 7, 20), [_row("AcmeShop", "2019-Q2", 200, 10, 5, 100)]),  # 2
    _sub("acme", dt.datetime(2019, 10, 20), [_row("AcmeShop", "2019-Q3", 20, 10, 5, 400)]),  # 3
    _sub("acme", dt.datetime(2020, 1, 20), [_row("AcmeShop", "2019-Q4", 20, 10, 5, 400)]),  # 4
    _sub("bolt", dt.datetime(2019, 5, 20), [_row("BoltChat", "2019-Q1", 30, 50, 4)]),  # 5: late
    _sub("bolt", dt.datetime(2019, 10, 20), [_row("BoltChat", "2019-Q3", 30, 50)]),  # 6
    _sub("cora", dt.datetime(2019, 4, 20), [_row("CoraFind", "2019-Q1", 1000, 0)]),  # 7
    _sub("cora", dt.datetime(2019, 7, 20), [_row("CoraFind", "2019-Q2", 1000, 0)]),  # 8
    _sub("cora", dt.datetime(2019, 10, 20), [_row("CoraFind", "2019-Q3", 1000, 0)]),  # 9
    _sub(  # 10: detections with an effort of 0
        "cora",
        dt.datetime(2020, 1, 20),
        [
            _row("CoraFind", "2019-Q4", 1000, 0),
            _row("CoraFind", "2019-Q4", None, None, 3, 0, species="pangolins"),
        ],
    ),
    _sub(  # 11: awaiting review; stands in for submission 4
        "acme",
        dt.datetime(2020, 1, 25),
        [_row("AcmeShop", "2019-Q4", 20, 10, 5, 40)],
        status="submitted",
    ),
]
TODAY = dt.date(2020, 3, 1)

EXPECTED = [
    # partner, platform, period, kind, submission, detail, severity
    (
        "acme", "AcmeShop", "2019-Q2", "jump", 2,
        "listings_removed is 200, against 10 in 2019-Q1 (elephants, CHN)", "warning",
    ),
    (
        "acme", "AcmeShop", "2019-Q2", "share_jump", 2,
        "Share of coalition actions 17.4%, against 1.8% in 2019-Q1", "info",
    ),
    (
        "acme", "AcmeShop", "2019-Q3", "effort_change", 3,
        "Search effort 400, against 100 in 2019-Q2: detection rates are not comparable",
        "warning",
    ),
    (
        "acme", "AcmeShop", "2019-Q3", "share_jump", 3,
        "Share of coalition actions 2.7%, against 17.4% in 2019-Q2", "info",
    ),
    (
        "acme", "AcmeShop", "2019-Q4", "effort_change", 11,
        "Search effort 40, against 400 in 2019-Q3: detection rates are not comparable",
        "warning",
    ),
    (
        "bolt", "BoltChat", "2019-Q1", "detection_without_effort", 5,
        "1 row(s) report 4 detected listings without the search effort", "warning",
    ),
    (
        "bolt", "BoltChat", "2019-Q1", "late", 5,
        "Figures for 2019-Q1 first arrived on 2019-05-20, 5 day(s) after the due date "
        "2019-05-15", "info",
    ),
    (
        "bolt", "BoltChat", "2019-Q2", "silent", 6,
        "No figures for 2019-Q2, though there are figures before and after it", "warning",
    ),
    (
        "bolt", "BoltChat", "2019-Q4", "silent", 6,
        "No figures since 2019-Q3, while the coalition has figures up to 2019-Q4", "warning",
    ),
    (
        "cora", "CoraFind", "2019-Q4", "detection_without_effort", 10,
        "1 row(s) report 3 detected listings without the search effort", "warning",
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def db(build_db):
    return build_db(PARTNERS, SUBMISSIONS)


def _as_tuples(frame: pd.DataFrame) -> list[tuple]:
    cols = ["partner", "platform", "period", "kind", "submission_id", "detail", "severity"]
    return [tuple(r) for r in frame[cols].astype(object).values.tolist()]


def test_every_kind_of_flag(db) -> None:
    with db.read() as cur:
        flags = quality.flags(cur, today=TODAY)
    assert flags.columns.tolist() == quality.COLUMNS
    assert _as_tuples(flags) == EXPECTED
    assert set(flags["kind"]) == set(quality.KINDS)


def test_a_platform_has_not_stopped_before_the_next_due_date(db) -> None:
    # on 2020-02-01, 2019-Q4 figures are not due yet: BoltChat may still send them
    with db.read() as cur:
        flags = quality.flags(cur, today=dt.date(2020, 2, 1))
    silent = flags[flags["kind"] == "silent"]
    assert silent["period"].tolist() == ["2019-Q2"]
    assert len(flags) == len(EXPECTED) - 1


def test_a_late_first_upload_stays_late_but_a_late_correction_does_not_count(build_db) -> None:
    on_time_then_corrected = [
        _sub("acme", dt.datetime(2019, 4, 20), [_row("AcmeShop", "2019-Q1", 10, 10)]),
        _sub("acme", dt.datetime(2019, 9, 1), [_row("AcmeShop", "2019-Q1", 11, 10)]),
    ]
    with build_db(PARTNERS[:1], on_time_then_corrected).read() as cur:
        assert quality.flags(cur, today=TODAY).empty


def test_no_flags_on_an_empty_database(build_db) -> None:
    with build_db().read() as cur:
        flags = quality.flags(cur, today=TODAY)
    assert flags.empty
    assert flags.columns.tolist() == quality.COLUMNS


def test_thresholds_are_strict(build_db) -> None:
    # exactly ten times (10 → 100) and exactly three times the effort (100 → 300): no flag;
    # the share stays 100% as the only platform
    rows = [
        _sub("acme", dt.datetime(2019, 4, 20), [_row("AcmeShop", "2019-Q1", 10, 0, 1, 100)]),
        _sub("acme", dt.datetime(2019, 7, 20), [_row("AcmeShop", "2019-Q2", 100, 0, 1, 300)]),
    ]
    with build_db(PARTNERS[:1], rows).read() as cur:
        assert quality.flags(cur, today=TODAY).empty


def test_months_are_compared_with_the_previous_month(build_db) -> None:
    rows = [
        _sub(
            "acme",
            dt.datetime(2019, 4, 20),
            [
                _row("AcmeShop", "2019-01", 30, 0),
                _row("AcmeShop", "2019-02", 2, 0),  # less than a tenth of 30
                _row("AcmeShop", "2019-03", 19, 0),  # more than ten times 2, but below 20
            ],
        )
    ]
    with build_db(PARTNERS[:1], rows).read() as cur:
        flags = quality.flags(cur, today=TODAY)
    assert _as_tuples(flags) == [
        (
            "acme", "AcmeShop", "2019-02", "jump", 1,
            "listings_removed is 2, against 30 in 2019-01 (elephants, CHN)", "warning",
        )
    ]  # fmt: skip
