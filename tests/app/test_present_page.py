"""The Presentation page (views/present.py) run on its own with AppTest: slide 1 first, next and
previous move through the slides and keep the number in the address, and the exports are there;
only the slide shown is built (once), and it is the same slide as in the exported deck.

The page is run directly, with the database source set as app.py would set it, so that the
test does not depend on where the page sits in the app's navigation.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import plotly.io
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from coalition import deck, present
from coalition.db import Database
from coalition.ui import data
from coalition.ui import present as ui

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
    st.cache_resource.clear()  # the built slides
    yield make
    st.cache_data.clear()
    st.cache_resource.clear()


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


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts the slides built, by key, and the whole decks and exports built."""
    counts: Counter = Counter()

    def counting(name, function):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return function(*args, **kwargs)

        return wrapper

    for key, builder in present.SLIDES.items():
        monkeypatch.setitem(present.SLIDES, key, counting(key, builder))
    monkeypatch.setattr(present, "build", counting("build", present.build))
    monkeypatch.setattr(deck, "deck_bytes", counting("deck_bytes", deck.deck_bytes))
    monkeypatch.setattr(deck, "summary_pdf", counting("summary_pdf", deck.summary_pdf))
    monkeypatch.setattr(deck, "figure_bytes", counting("figure_bytes", deck.figure_bytes))
    return counts


def test_only_the_slide_shown_is_built_and_only_once(page, built):
    at = page(slide="3").run()
    assert not at.exception
    assert "Progress by sector" in titles(at)[0]
    assert built == {"sectors": 1}  # no other slide, no deck, no export
    at.button(key="next_top").click().run()
    assert "Progress by type of platform" in titles(at)[0]
    assert built == {"sectors": 1, "platform_kinds": 1}
    at.button(key="previous_top").click().run()  # back: the slide built before is reused
    at.run()  # a rerun (any click) builds nothing
    assert "Progress by sector" in titles(at)[0]
    assert built == {"sectors": 1, "platform_kinds": 1}
    # another period is another set of slides
    at.selectbox(key="period").select("2019-Q4").run()
    assert not at.exception
    assert built == {"sectors": 2, "platform_kinds": 1}


def test_a_new_session_reuses_the_slides_built(page, built):
    page(slide="6").run()
    again = page(slide="6").run()
    assert not again.exception
    assert "Where listings were removed or blocked" in titles(again)[0]
    assert built == {"map": 1}


def chart_spec(figure) -> dict:
    """A figure as st.plotly_chart sends it to the browser."""
    return json.loads(plotly.io.to_json(figure.to_dict(), validate=False))


def chart_values(value):
    """A figure's JSON with its typed arrays decoded and its numbers to 9 significant digits
    (NaN as None): the database's sums can differ in the last bit from one run to the next."""
    if isinstance(value, dict):
        if "bdata" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            return chart_values(array.tolist())
        return {k: chart_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [chart_values(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.9g}")
    return value


def test_each_slide_shows_what_the_deck_holds(page, sample: Database):
    """Built alone, every slide has the title, message, chart and footnote that it has in the
    whole presentation (which the deck is written from)."""
    with sample.read() as cur:
        whole = present.build(cur)
    at = page()
    for number, expected in enumerate(whole.slides, start=1):
        at.query_params["slide"] = str(number)
        at.run()
        assert not at.exception
        markdown = [m.value for m in at.markdown]
        assert html.escape(expected.title) in titles(at)[0]
        assert ui.message_html(expected.message, expected.number) in markdown
        assert any(html.escape(expected.footnote) in m for m in markdown)
        (chart,) = at.get("plotly_chart")
        shown = chart_values(json.loads(chart.proto.spec))
        assert shown == chart_values(chart_spec(expected.figure)), expected.key
