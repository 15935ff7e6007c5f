"""Reporting coverage and timeliness on the activity database (tests/conftest.py).

Members: shopco (joined 2018-01-01; ShopMarket, ShopResale), socialco (2018-06-15; SocialNet),
searchco (2019-02-01; SearchFind). Due time: 45 days after the end of the reported period.

  quarter  expected (joined by its end)      accepted reports (first upload; due date)
  2018-Q4  shopco, socialco: 2 / 3 platforms  shopco r1 (2019-01-20; due 2019-02-14)
  2019-Q1  all three: 3 / 4 platforms         shopco r2-r4 (2019-04-10; due 2019-05-15)
                                              socialco r7 2019-01 (2019-04-05; due 2019-03-17:
                                              late), r8 2019-02 (2019-04-05; due 2019-04-14)
  2019-Q2  all three: 3 / 4 platforms         shopco r5 r6 (2019-07-15; due 2019-08-14)
                                              socialco r11 (2019-08-01), searchco r12
                                              (2019-09-01: late)
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from coalition.db import set_meta
from metrics import Filters, reporting_coverage

COLUMNS = [
    "group",
    "period",
    "partners_expected",
    "partners_reporting",
    "platforms_expected",
    "platforms_reporting",
    "partners_late",
    "partners_missing",
]


def rows(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in frame[COLUMNS].itertuples(index=False)]


def test_coverage_per_quarter(activity):
    frame = reporting_coverage(activity)
    # group, period, expected, reporting, platforms expected, platforms reporting, late, missing
    assert rows(frame) == [
        ("All", "2018-Q4", 2, 1, 3, 1, 0, 1),
        ("All", "2019-Q1", 3, 2, 4, 3, 0, 1),  # searchco missing; January due with Q1
        ("All", "2019-Q2", 3, 3, 4, 4, 1, 0),  # searchco late
    ]
    assert frame["reporting_share"].tolist() == pytest.approx([1 / 2, 2 / 3, 1], rel=1e-12)


def test_coverage_by_sector(activity):
    frame = reporting_coverage(activity, by="sector")
    assert rows(frame) == [
        ("e-commerce", "2018-Q4", 1, 1, 2, 1, 0, 0),
        ("e-commerce", "2019-Q1", 1, 1, 2, 2, 0, 0),
        ("e-commerce", "2019-Q2", 1, 1, 2, 2, 0, 0),
        # searchco had not joined by the end of 2018: no row for 2018-Q4
        ("search", "2019-Q1", 1, 0, 1, 0, 0, 1),
        ("search", "2019-Q2", 1, 1, 1, 1, 1, 0),
        ("social-media", "2018-Q4", 1, 0, 1, 0, 0, 1),
        ("social-media", "2019-Q1", 1, 1, 1, 1, 0, 0),
        ("social-media", "2019-Q2", 1, 1, 1, 1, 0, 0),
    ]
    assert frame["reporting_share"].tolist() == pytest.approx([1, 1, 1, 0, 1, 0, 1, 1])


def test_coverage_by_month_and_range(activity):
    frame = reporting_coverage(
        activity, Filters(period_from="2019-01", period_to="2019-03"), grain="month"
    )
    assert rows(frame) == [
        # January: searchco not yet a member; socialco reports r7 on 2019-04-05, on time:
        # a month is due with its quarter, 45 days after 2019-03-31 (2019-05-15)
        ("All", "2019-01", 2, 1, 3, 1, 0, 1),
        ("All", "2019-02", 3, 1, 4, 1, 0, 2),  # r8 only, on time
        ("All", "2019-03", 3, 1, 4, 2, 0, 2),  # the quarterly rows r2-r4 (r9 is pending)
    ]


def test_coverage_by_partner_and_platform(activity):
    frame = reporting_coverage(activity, Filters(period_to="2019-Q1"), by="partner")
    assert rows(frame[frame["group"] == "shopco"]) == [
        ("shopco", "2018-Q4", 1, 1, 2, 1, 0, 0),  # ShopResale did not report in 2018-Q4
        ("shopco", "2019-Q1", 1, 1, 2, 2, 0, 0),
    ]
    platforms = reporting_coverage(activity, Filters(period_from="2019-Q2"), by="platform")
    assert rows(platforms) == [
        ("SearchFind", "2019-Q2", 1, 1, 1, 1, 1, 0),
        ("ShopMarket", "2019-Q2", 1, 1, 1, 1, 0, 0),
        ("ShopResale", "2019-Q2", 1, 1, 1, 1, 0, 0),
        ("SocialNet", "2019-Q2", 1, 1, 1, 1, 0, 0),
    ]


def test_coverage_by_species_knows_who_reported_only(activity):
    frame = reporting_coverage(activity, Filters(period_to="2019-Q1"), by="species_group")
    got = {
        (g, p): (r, late)
        for g, p, r, late in frame[
            ["group", "period", "partners_reporting", "partners_late"]
        ].itertuples(index=False)
    }
    assert got == {
        ("elephants", "2018-Q4"): (1, 0),
        ("elephants", "2019-Q1"): (2, 0),  # shopco r2, socialco r7 and r8 (on time)
        ("pangolins", "2019-Q1"): (1, 0),
        ("birds", "2019-Q1"): (1, 0),
    }
    assert frame["partners_expected"].isna().all()
    assert frame["reporting_share"].isna().all()


def test_species_filter_does_not_count_partners_reporting_other_species_as_missing(activity):
    frame = reporting_coverage(activity, Filters(species_groups=("rhinoceroses",)))
    q2 = frame[frame["period"] == "2019-Q2"].iloc[0]
    assert q2["partners_reporting"] == 1  # searchco, r12
    # who was expected to report rhinoceroses is not known, as for a breakdown by species
    assert pd.isna(q2["partners_expected"]) and pd.isna(q2["partners_missing"])


def test_coverage_counts_pending_rows_only_when_asked(build_db):
    db = build_db(
        [("p", "other", dt.date(2018, 1, 1), ["P"]), ("q", "other", dt.date(2018, 1, 1), ["Q"])],
        [
            dict(
                partner="p",
                uploaded_at=dt.datetime(2019, 4, 10),
                rows=[("P", "2019-Q1", "elephants", None, 1, 1, None, None)],
            ),
            dict(
                partner="q",
                uploaded_at=dt.datetime(2019, 4, 10),
                status="submitted",
                rows=[("Q", "2019-Q1", "elephants", None, 1, 1, None, None)],
            ),
        ],
    )
    with db.read() as cur:
        assert rows(reporting_coverage(cur)) == [("All", "2019-Q1", 2, 1, 2, 1, 0, 1)]
        assert rows(reporting_coverage(cur, Filters(include_submitted=True))) == [
            ("All", "2019-Q1", 2, 2, 2, 2, 0, 0)
        ]


def timeliness_db(build_db, *uploads: tuple[dt.datetime, str]):
    """One partner reporting 2019-Q1 (due 2019-05-15 with 45 days) in the given uploads."""
    return build_db(
        [("p", "other", dt.date(2018, 1, 1), ["P"])],
        [
            dict(
                partner="p",
                uploaded_at=when,
                rows=[("P", "2019-Q1", "elephants", None, 1, 1, None, None)],
                status=status,
            )
            for when, status in uploads
        ],
    )


def late(db, due_days: int | None = None) -> int:
    if due_days is not None:
        with db.write() as cur:
            set_meta(cur, "submission_due_days", str(due_days))
    with db.read() as cur:
        frame = reporting_coverage(cur)
    assert frame["partners_reporting"].tolist() == [1]
    return int(frame["partners_late"].iloc[0])


def test_late_is_more_than_the_due_days_after_the_period(build_db):
    # 2019-05-20 is 50 days after 2019-03-31
    db = timeliness_db(build_db, (dt.datetime(2019, 5, 20, 9), "accepted"))
    assert late(db) == 1  # 50 > 45
    assert late(db, due_days=60) == 0  # the secretariat allows 60 days: 50 <= 60
    assert late(timeliness_db(build_db, (dt.datetime(2019, 5, 14, 9), "accepted"))) == 0  # 44


def test_upload_on_the_due_date_is_not_late(build_db):
    # 2019-05-15 is 45 days after 2019-03-31: on time, not "more than 45 days after"
    assert late(timeliness_db(build_db, (dt.datetime(2019, 5, 15, 12), "accepted"))) == 0


def test_correction_after_the_due_date_does_not_make_an_on_time_report_late(build_db):
    db = timeliness_db(
        build_db,
        (dt.datetime(2019, 4, 10, 9), "accepted"),  # on time
        (dt.datetime(2019, 6, 1, 9), "accepted"),  # a correction after the due date
    )
    assert late(db) == 0
