"""The Data quality page: the flags, their filters, and the link of each to its submission."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from coalition.db import Database

VIEWS = Path(__file__).resolve().parents[2] / "views"
HARNESS = """
import streamlit as st
import metrics
from coalition.ui import data

data.set_current(data.source())
data.set_viewer(metrics.Viewer.parse({viewer!r}))
st.navigation([st.Page({quality!r}, default=True), st.Page({review!r})]).run()
"""

PARTNERS = [
    ("acme", "e-commerce", dt.date(2019, 1, 1), ["AcmeShop"]),
    ("bolt", "social-media", dt.date(2019, 1, 1), ["BoltChat"]),
]
SUBMISSIONS = [
    dict(  # 1
        partner="acme",
        uploaded_at=dt.datetime(2019, 4, 10),
        rows=[("AcmeShop", "2019-Q1", "elephants", "CHN", 10, 20, 5, 100)],
    ),
    dict(  # 2: removed 10 → 200 (jump), and a share of actions from 20% to 70% (share_jump)
        partner="acme",
        uploaded_at=dt.datetime(2019, 7, 10),
        rows=[("AcmeShop", "2019-Q2", "elephants", "CHN", 200, 20, 5, 100)],
    ),
    dict(  # 3: late, and detections without search effort
        partner="bolt",
        uploaded_at=dt.datetime(2019, 6, 1),
        rows=[
            ("BoltChat", "2019-Q1", "elephants", "CHN", 60, 60, 3, None),
            ("BoltChat", "2019-Q2", "elephants", "CHN", 60, 30, None, None),
        ],
    ),
]


def page_app(db: Database, monkeypatch: pytest.MonkeyPatch, viewer: str = "secretariat") -> AppTest:
    monkeypatch.setenv("COALITION_DB", str(db.path))
    st.cache_data.clear()
    script = HARNESS.format(
        review=str(VIEWS / "review.py"), quality=str(VIEWS / "quality.py"), viewer=viewer
    )
    return AppTest.from_string(script, default_timeout=60)


@pytest.fixture
def db(build_db) -> Database:
    return build_db(PARTNERS, SUBMISSIONS)


def test_flags_with_links_to_their_submissions(db, monkeypatch) -> None:
    at = page_app(db, monkeypatch).run()
    assert not at.exception
    (table,) = [d.value for d in at.dataframe]
    assert table[["Flag", "Partner", "Period", "Submission"]].values.tolist() == [
        ["Implausible jump", "Acme", "2019-Q2", "review?submission=2"],
        ["Share of actions jumped", "Acme", "2019-Q2", "review?submission=2"],
        ["Detections without search effort", "Bolt", "2019-Q1", "review?submission=3"],
        ["Late submission", "Bolt", "2019-Q1", "review?submission=3"],
        ["Share of actions jumped", "Bolt", "2019-Q2", "review?submission=3"],
    ]
    assert [m.value for m in at.metric][:2] == ["1", "0"]  # jumps, silent platforms


def test_filters_by_kind_partner_and_severity(db, monkeypatch) -> None:
    at = page_app(db, monkeypatch).run()
    at.multiselect(key="quality_partners").set_value(["bolt"]).run()
    (table,) = [d.value for d in at.dataframe]
    assert table["Flag"].tolist() == [
        "Detections without search effort",
        "Late submission",
        "Share of actions jumped",
    ]
    at.multiselect(key="quality_kinds").set_value(["late"]).run()
    (table,) = [d.value for d in at.dataframe]
    assert table["Detail"].tolist() == [
        "Figures for 2019-Q1 first arrived on 2019-06-01, 17 day(s) after the due date 2019-05-15"
    ]
    at.multiselect(key="quality_kinds").set_value([]).run()
    at.toggle(key="quality_warnings_only").set_value(True).run()
    (table,) = [d.value for d in at.dataframe]
    assert table["Flag"].tolist() == ["Detections without search effort"]
    assert "1 of 5 flags shown." in [c.value for c in at.caption]


def test_no_flags(build_db, monkeypatch) -> None:
    at = page_app(build_db(PARTNERS[:1], SUBMISSIONS[:1]), monkeypatch).run()
    assert not at.exception
    assert [s.value for s in at.success] == ["No flags: nothing unusual in the figures."]


def test_closed_to_a_partner(db, monkeypatch) -> None:
    at = page_app(db, monkeypatch, "partner:acme").run()
    assert [e.value for e in at.error] == ["This page is for the secretariat."]
    assert not at.dataframe
