"""The presentation and its exports: the slides as data (observer view), the PowerPoint deck
read back with python-pptx, chart images that are real and not blank, the one-page summary.

The slides and a deck written from placeholder pictures need no browser; drawing the charts
needs Chromium (kaleido 1.x), so those tests carry the ``browser`` marker.
"""

from __future__ import annotations

import base64
import io
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageStat
from pptx import Presentation as open_pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE

import metrics
from coalition import deck, present
from coalition.cli import cli
from coalition.db import Database
from coalition.demo import load_demo
from coalition.i18n import format_percent

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
no_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is missing")
TITLES = [
    "Progress to the target",
    "Detection rate against the baseline",
    "Progress by sector",
    "Progress by type of platform",
    "Progress by species group",
    "Where listings were removed or blocked",
    "Who reported",
]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The synthetic demo: 47 partners, some consenting to be named, so that the observer
    view has figures to show as well as groups to merge and withhold."""
    db = Database(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    load_demo(db, seed=2018)
    return db


@pytest.fixture(scope="module")
def slides(demo_db: Database) -> present.Presentation:
    return deck.presentation(demo_db, "2020-Q4")


def observer_headline(db: Database, period_to: str) -> dict:
    """What ``coalition progress --viewer observer --json`` prints."""
    result = CliRunner().invoke(
        cli,
        ["progress", "--db", str(db.path), "--viewer", "observer", "--to", period_to, "--json"],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_slides_in_order_with_message_number_and_footnote(slides):
    assert [s.key for s in slides.slides] == list(present.SLIDE_KEYS)
    for slide, title in zip(slides.slides, TITLES, strict=True):
        assert slide.title.startswith(title)
        assert slide.number and slide.number in slide.message
        assert "2020-12-31 (2020-Q4)" in slide.footnote  # the period
        assert "partners reported" in slide.footnote  # from how many partners
        assert "not yet accepted" in slide.footnote  # what it leaves out
        assert "Synthetic demo data" in slide.footnote


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


def test_a_slide_built_alone_is_the_slide_of_the_whole_presentation(demo_db, slides):
    assert tuple(present.SLIDES) == present.SLIDE_KEYS
    with demo_db.read() as cur:
        ctx = present.context(cur, "2020-Q4")
        for expected in slides.slides:
            alone = present.slide(cur, ctx, expected.key)
            assert chart_values(json.loads(alone.figure.to_json())) == chart_values(
                json.loads(expected.figure.to_json())
            ), expected.key
            assert (alone.title, alone.message, alone.number, alone.footnote, alone.alt) == (
                expected.title, expected.message, expected.number, expected.footnote,
                expected.alt,
            )  # fmt: skip
        with pytest.raises(ValueError, match="Unknown slide 'nope'"):
            present.slide(cur, ctx, "nope")


class NoDatabase:
    """A cursor that fails the test when anything reads through it."""

    def __getattr__(self, name: str):
        raise AssertionError(f"the slide read the database ({name})")


def test_the_headline_and_trend_slides_need_nothing_beyond_the_context(demo_db, slides):
    with demo_db.read() as cur:
        ctx = present.context(cur, "2020-Q4")
    headline = present.slide(NoDatabase(), ctx, "headline")
    trend = present.slide(NoDatabase(), ctx, "trend")
    assert headline.message == slides.slides[0].message
    assert chart_values(json.loads(trend.figure.to_json())) == chart_values(
        json.loads(slides.slides[1].figure.to_json())
    )
    with pytest.raises(AssertionError, match="read the database"):
        present.slide(NoDatabase(), ctx, "sectors")


def test_the_headline_number_is_the_observers_progress(demo_db, slides):
    head = observer_headline(demo_db, "2020-Q4")
    assert head["reduction"] is not None
    assert slides.reduction == pytest.approx(head["reduction"])
    headline = slides.slides[0]
    assert headline.number == format_percent(head["reduction"])
    assert head["status"] in {"achieved", "on_track", "acceleration_needed", "missed",
                              "limited_progress", "deterioration"}  # fmt: skip


def test_withheld_groups_are_missing_from_the_chart_and_named_in_the_footnote(demo_db, slides):
    with demo_db.read() as cur:
        filters = present.observer_filters("2020-Q4")
        kinds = present.progress_by_kind(cur, filters, metrics.default_target(cur))
    withheld = kinds[present.withheld_mask(kinds)]
    if withheld.empty:
        pytest.skip("the demo data withhold no platform kind")
    assert withheld["reduction"].isna().all()
    slide = next(
        s for s in deck.presentation(demo_db, "2020-Q4").slides if s.key == "platform_kinds"
    )
    assert "Withheld" in slide.footnote
    labels = [str(v) for trace in slide.figure.data if trace.y is not None for v in trace.y]
    assert any("(withheld)" in label for label in labels)


def placeholder_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 88), "#0072B2").save(buffer, format="PNG")
    return buffer.getvalue()


def read_deck(data: bytes | Path):
    return open_pptx(io.BytesIO(data) if isinstance(data, bytes) else str(data))


def check_deck(pptx, slides: present.Presentation) -> None:
    assert len(pptx.slides) == len(slides.slides) == 7
    for page, slide in zip(pptx.slides, slides.slides, strict=True):
        assert page.shapes.title.text == slide.title
        texts = [s.text_frame.text for s in page.shapes if s.has_text_frame]
        assert slide.message in texts  # the message as real text, not in the picture
        assert slide.footnote in texts
        pictures = [s for s in page.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1
        image = Image.open(io.BytesIO(pictures[0].image.blob))
        image.verify()  # a valid PNG
        assert pictures[0].image.content_type == "image/png"


def test_a_deck_from_placeholder_pictures_has_every_slide_as_text(slides):
    buffer = io.BytesIO()
    deck.write_pptx(slides, [placeholder_png()] * len(slides.slides), buffer)
    check_deck(read_deck(buffer.getvalue()), slides)


@pytest.fixture(scope="module")
def built_deck(demo_db: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deck") / "deck.pptx"
    return deck.build_deck(demo_db, out, period_to="2020-Q4")


@pytest.mark.browser
@no_chromium
def test_the_deck_with_real_charts(built_deck, demo_db, slides):
    pptx = read_deck(built_deck)
    check_deck(pptx, slides)
    head = observer_headline(demo_db, "2020-Q4")
    first = [s.text_frame.text for s in pptx.slides[0].shapes if s.has_text_frame]
    assert any(format_percent(head["reduction"]) in text for text in first)


def not_blank(png: bytes) -> None:
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size == (2 * present.CHART_WIDTH, 2 * present.CHART_HEIGHT)
    assert ImageStat.Stat(image).stddev[0] > 20  # a chart, not an empty canvas
    dark = sum(image.histogram()[:200]) / (image.width * image.height)
    assert dark > 0.02, "almost nothing drawn"


@pytest.mark.browser
@no_chromium
def test_slide_pictures_are_drawn_and_the_map_offline(built_deck, tmp_path):
    pptx = read_deck(built_deck)
    blobs = {
        page.shapes.title.text: next(
            s for s in page.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE
        ).image.blob
        for page in pptx.slides
    }
    for blob in blobs.values():
        not_blank(blob)
    # the world map's countries come from static/topojson (no network: the browser's proxy
    # is a closed port): the map picture holds the blues of its colour scale
    world = Image.open(io.BytesIO(blobs[TITLES[5]])).convert("RGB")
    colours = world.getcolors(maxcolors=1 << 20)
    blue = sum(n for n, (r, g, b) in colours if b > 120 and b - r > 60)
    assert blue / (world.width * world.height) > 0.05
    (tmp_path / "map.png").write_bytes(blobs[TITLES[5]])  # to look at when it fails


@pytest.mark.browser
@no_chromium
def test_chart_exports_and_the_one_page_summary(demo_db, slides):
    figure = slides.slides[1].figure
    with deck.Renderer() as renderer:
        svg = renderer.render(figure, "svg")
        pdf = renderer.render(figure, "pdf")
    assert svg.lstrip().startswith(b"<svg") and b"</svg>" in svg
    assert pdf.startswith(b"%PDF-")
    summary = deck.summary_pdf(demo_db, period_to="2020-Q4")
    assert summary.startswith(b"%PDF-")
    assert b"/Count 1" in summary  # one page


def test_unknown_language_and_format_are_refused(slides):
    with pytest.raises(ValueError, match="language"):
        deck.in_language("xx", lambda: None)
    with pytest.raises(ValueError, match="format"):
        deck.Renderer().render(slides.slides[0].figure, "gif")
