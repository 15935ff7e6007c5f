"""The Presentation page (views/present.py) run on its own with AppTest: slide 1 first, next and
previous move through the slides and keep the number in the address, and the exports are there.

The page is run directly, with the database source set as app.py would set it, so that the
test does not depend on where the page sits in the app's navigation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from coalition import present
from coalition.db import Database
from coalition.ui import data

PAGE = Path(__file__).resolve().parents[2] / "views" / "present.py"


@pytest.fixture
def page(sample: Database, monkeypatch: pytest.MonkeyPatch):
    def make(**query: str) -> AppTest:
        monkeypatch.setenv("COALITION_DB", str(sample.path))
        at = AppTest.from_file(str(PAGE), default_timeout=120)
        at.session_state["_coalition_source"] = data.source()
        for key, value in query.items():
            at.query_params[key] = value
        return at

    st.cache_data.clear()
    yield make
    st.cache_data.clear()


def titles(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if 'class="slide-title"' in m.value]


def test_slide_one_then_next_and_previous(page):
    at = page().run()
    assert not at.exception
    assert len(titles(at)) == 1 and "Progress to the target" in titles(at)[0]
    assert at.button(key="previous_top").disabled
    at.button(key="next_top").click().run()
    assert not at.exception
    assert at.query_params["slide"] in ("2", ["2"])
    assert "Detection rate against the baseline" in titles(at)[0]
    at.button(key="previous_bottom").click().run()
    assert "Progress to the target" in titles(at)[0]


def test_a_link_opens_its_slide_and_the_last_has_no_next(page):
    at = page(slide=str(len(present.SLIDE_KEYS))).run()
    assert not at.exception
    assert "Who reported" in titles(at)[0]
    assert at.button(key="next_top").disabled
    assert page(slide="99").run().button(key="next_top").disabled  # kept within the slides


def test_every_slide_has_a_footnote_and_the_downloads_are_offered(page):
    at = page(slide="6").run()  # the world map
    assert not at.exception
    footnotes = [m.value for m in at.markdown if 'class="slide-footnote"' in m.value]
    assert len(footnotes) == 1 and "not yet accepted" in footnotes[0]
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download deck (.pptx)" in labels
    assert "One-page summary (.pdf)" in labels
    assert {"Chart as PNG", "Chart as SVG", "Chart as PDF"} <= set(labels)
    assert len(at.get("plotly_chart")) == 1


def test_the_period_chooser_sets_the_as_of_date(page):
    at = page().run()
    at.selectbox(key="period").select("2019-Q4").run()
    assert not at.exception
    footnote = next(m.value for m in at.markdown if 'class="slide-footnote"' in m.value)
    assert "2019-12-31 (2019-Q4)" in footnote
