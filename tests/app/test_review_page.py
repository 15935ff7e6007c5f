"""The Review page: the status matrix, a submission opened from the address, and the decision.

The page is run inside a small navigation of its own (the Review and Data quality pages), as
the app runs it once signed in as the secretariat.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from coalition import audit, theme
from coalition.db import Database

VIEWS = Path(__file__).resolve().parents[2] / "views"
HARNESS = """
import streamlit as st
import metrics
from coalition.ui import data

data.set_current(data.source())
data.set_viewer(metrics.Viewer.parse({viewer!r}))
st.navigation([st.Page({review!r}, default=True), st.Page({quality!r})]).run()
"""

PARTNERS = [("acme", "e-commerce", dt.date(2019, 1, 1), ["AcmeShop"])]
SUBMISSIONS = [
    dict(  # 1
        partner="acme",
        uploaded_at=dt.datetime(2019, 4, 10),
        rows=[("AcmeShop", "2019-Q1", "elephants", "CHN", 10, 20, 5, 100)],
    ),
    dict(  # 2: awaiting review
        partner="acme",
        uploaded_at=dt.datetime(2019, 7, 10),
        status="submitted",
        rows=[
            ("AcmeShop", "2019-Q2", "elephants", "CHN", 12, 20, 5, 100),
            ("AcmeShop", "2019-Q2", "pangolins", None, 1, 2, None, None),
        ],
    ),
]


def page_app(db: Database, monkeypatch: pytest.MonkeyPatch, viewer: str = "secretariat") -> AppTest:
    """An AppTest of the Review page (and the Data quality page) reading ``db``."""
    monkeypatch.setenv("COALITION_DB", str(db.path))
    st.cache_data.clear()
    script = HARNESS.format(
        review=str(VIEWS / "review.py"), quality=str(VIEWS / "quality.py"), viewer=viewer
    )
    return AppTest.from_string(script, default_timeout=60)


@pytest.fixture
def db(build_db) -> Database:
    return build_db(PARTNERS, SUBMISSIONS)


def _status(db: Database, submission: int) -> tuple:
    with db.read() as cur:
        return cur.execute(
            "SELECT status, review_comment FROM submissions WHERE id = ?", [submission]
        ).fetchone()


def _table(at: AppTest, column: str):
    """The one table on the page with ``column`` (only selectable tables keep their key)."""
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def _cell_css(css: str, row: int, col: int) -> str:
    """The declarations that Streamlit's CSS for a styled table gives one body cell."""
    for rule in css.splitlines():
        selectors, _, block = rule.partition(" { ")
        if any(s.endswith(f"_row{row}_col{col}") for s in selectors.split(", ")):
            return block.removesuffix(" }")
    return ""


def _decide(at: AppTest, decision: str, comment: str) -> AppTest:
    at.radio(key="review_decision").set_value(decision)
    at.text_area(key="review_comment").input(comment)
    button = next(b for b in at.button if b.label == "Record the decision")
    return button.click().run()


def test_matrix_renders_with_legend(db, monkeypatch) -> None:
    at = page_app(db, monkeypatch).run()
    assert not at.exception
    matrix = at.dataframe(key="review_matrix").value
    assert matrix.loc["Acme", "2019-Q1"] == "✔ Accepted"
    assert matrix.loc["Acme", "2019-Q2"] == "● Awaiting review"
    # each cell is coloured by its status, as the legend is
    css = at.dataframe(key="review_matrix").proto.arrow_data.styler.styles
    row = list(matrix.index).index("Acme")
    accepted, awaiting = (list(matrix.columns).index(q) for q in ("2019-Q1", "2019-Q2"))
    assert _cell_css(css, row, accepted) == f"background-color: {theme.BLUISH_GREEN}; color: #000"
    assert _cell_css(css, row, awaiting) == f"background-color: {theme.SKY_BLUE}; color: #000"
    legend = " ".join(m.value for m in at.markdown)
    for label in ("Missing", "Late", "Not yet due", "Not a member", "Returned"):
        assert label in legend
    # nothing is open yet; the submission awaiting review is offered
    assert at.selectbox(key="review_awaiting").options[1].startswith("#2 · Acme · 2019-Q2")
    assert not [s for s in at.subheader if s.value.startswith("Submission #")]


def test_query_parameter_opens_the_submission(db, monkeypatch) -> None:
    at = page_app(db, monkeypatch)
    at.query_params["submission"] = "2"
    at.run()
    assert not at.exception
    assert "Submission #2 — Acme" in [s.value for s in at.subheader]
    rows = _table(at, "Notes")
    assert rows["Species group"].tolist() == ["Elephants (ivory)", "Pangolins"]
    diff = _table(at, "Change")
    assert diff["Change"].tolist() == ["Added", "Added"]
    assert at.selectbox(key="review_awaiting").value == 2


def test_unknown_submission_is_said(db, monkeypatch) -> None:
    at = page_app(db, monkeypatch)
    at.query_params["submission"] = "99"
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["There is no submission #99."]


def test_return_with_comment(db, monkeypatch) -> None:
    at = page_app(db, monkeypatch)
    at.query_params["submission"] = "2"
    at.run()
    at = _decide(at, "return", "Please add the country of the pangolin row")
    assert not at.exception
    assert _status(db, 2) == ("returned", "Please add the country of the pangolin row")
    assert [s.value for s in at.success] == ["Submission #2 returned to the partner."]
    assert at.dataframe(key="review_matrix").value.loc["Acme", "2019-Q2"] == "↩ Returned"
    assert at.info[0].value == "Comment to the partner: Please add the country of the pangolin row"
    with db.read() as cur:
        log = audit.entries(cur)
    assert log[["actor", "action", "entity_key"]].values.tolist() == [["unknown", "return", "2"]]


def test_return_without_comment_is_refused(db, monkeypatch) -> None:
    at = page_app(db, monkeypatch)
    at.query_params["submission"] = "2"
    at.run()
    at = _decide(at, "return", "  ")
    assert not at.exception
    assert "Say why the submission is returned" in at.error[0].value
    assert _status(db, 2) == ("submitted", None)


def test_accept(db, monkeypatch) -> None:
    at = page_app(db, monkeypatch)
    at.query_params["submission"] = "2"
    at.run()
    at = _decide(at, "accept", "")
    assert not at.exception
    assert _status(db, 2) == ("accepted", None)
    assert at.dataframe(key="review_matrix").value.loc["Acme", "2019-Q2"] == "✔ Accepted"
    assert "No submission awaits review." in [c.value for c in at.caption]


@pytest.mark.parametrize("viewer", ["partner:acme", "observer"])
def test_closed_to_other_roles(db, monkeypatch, viewer) -> None:
    at = page_app(db, monkeypatch, viewer)
    at.query_params["submission"] = "2"
    at.run()
    assert [e.value for e in at.error] == ["This page is for the secretariat."]
    assert not at.dataframe
