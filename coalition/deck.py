"""Exports of the presentation: a PowerPoint deck, each chart as PNG, SVG or PDF, and a one-page
PDF summary.

Charts are drawn by kaleido 1.x, which drives a headless Chromium: Debian's ``chromium`` (or
the browser named by ``$BROWSER_PATH``, which choreographer also reads). Nothing is fetched
at run time: plotly.js is the copy that ships inside the plotly package, MathJax is off, the
world map's outlines are read from ``static/topojson`` as a file, and the browser is given a
proxy that does not exist, so a request for anything on the network fails instead of leaving
the machine. Starting Chromium takes seconds, so one :class:`Renderer` draws every chart of a
deck.

The one-page summary is one composed Plotly figure — the headline as text, the trend and the
map as vector images — that kaleido prints to PDF. That keeps one drawing engine for every
export (the same fonts, colours and Chinese text as the charts) instead of adding a PDF
library that would need its own CJK fonts.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import io
import os
import shutil
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

import plotly
import plotly.graph_objects as go
from pptx import Presentation as PptxPresentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from coalition import charts_regions, present, theme
from coalition.db import Database
from coalition.i18n import format_date, format_percent, normalise_language, set_language, t

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
# The deck's languages (as ``--lang`` names them) and their catalogues; French and Spanish are
# partial: what is not translated yet is in English.
LANGUAGES = {"en": "en", "zh": "zh_Hans", "fr": "fr", "es": "es"}
PNG_SCALE = 2  # PNG pixels per CSS pixel: sharp on a projector and when printed
RENDER_TIMEOUT = 120  # seconds for one chart on a busy machine

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
TOPOJSON_DIR = charts_regions.TOPOJSON.parent.as_uri() + "/"
# Where Chromium's http(s) requests go: a closed local port, so nothing is fetched.
NO_NETWORK = "http://127.0.0.1:9"

T = TypeVar("T")


class RenderError(RuntimeError):
    """A chart could not be drawn (no browser, or the browser failed)."""


def browser_path() -> str:
    """The Chromium that draws the charts: ``$BROWSER_PATH``, else ``chromium`` (Debian) or
    another Chromium-based browser on the PATH."""
    for candidate in (
        os.environ.get("BROWSER_PATH"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    raise RenderError(
        t(
            "No Chromium to draw the charts with: install Debian's chromium package "
            "(apt-get install chromium) or set BROWSER_PATH to a Chromium-based browser."
        )
    )


class Renderer:
    """One headless Chromium that draws Plotly figures as PNG, SVG or PDF bytes.

    Use it as a context manager; the browser runs on an event loop of its own thread, so the
    synchronous :meth:`render` works from a script, the command line or a Streamlit thread::

        with Renderer() as renderer:
            png = renderer.render(fig, "png", width=1200, height=440)
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido = None

    def __enter__(self) -> Renderer:
        import kaleido  # a second to import: only when something is drawn

        path = browser_path()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

        async def open_browser():
            k = kaleido.Kaleido(
                n=1,
                timeout=RENDER_TIMEOUT,
                plotlyjs=str(PLOTLY_JS),
                mathjax=False,
                path=path,
                proxy_server=NO_NETWORK,
            )
            await k.open()
            return k

        try:
            self._kaleido = self._run(open_browser())
        except Exception as exc:
            self._stop_loop()
            raise RenderError(
                t("Chromium ({path}) did not start: {error}", path=path, error=exc)
            ) from exc
        return self

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop.close()
            self._loop = None

    def __exit__(self, *exc_info) -> None:
        try:
            if self._kaleido is not None:
                self._run(self._kaleido.close())
        finally:
            self._kaleido = None
            self._stop_loop()

    def render(
        self,
        fig: go.Figure,
        fmt: str = "png",
        *,
        width: int = present.CHART_WIDTH,
        height: int = present.CHART_HEIGHT,
        scale: float | None = None,
    ) -> bytes:
        """``fig`` drawn as ``fmt`` (png, svg or pdf) at ``width`` × ``height`` CSS pixels;
        a PNG has ``PNG_SCALE`` pixels per CSS pixel unless ``scale`` says otherwise."""
        if fmt not in FORMATS:
            raise ValueError(f"Unknown image format {fmt!r}: use one of {', '.join(FORMATS)}.")
        if self._kaleido is None:
            raise RuntimeError("Use the Renderer in a with block.")
        opts = {
            "format": fmt,
            "width": width,
            "height": height,
            "scale": scale or (PNG_SCALE if fmt == "png" else 1),
        }
        try:
            return self._run(self._kaleido.calc_fig(fig, opts=opts, topojson=TOPOJSON_DIR))
        except Exception as exc:
            raise RenderError(t("The chart could not be drawn: {error}", error=exc)) from exc


def figure_bytes(
    fig: go.Figure,
    fmt: str = "png",
    *,
    width: int = present.CHART_WIDTH,
    height: int = present.CHART_HEIGHT,
) -> bytes:
    """One figure as PNG, SVG or PDF bytes (starts a browser for it: for many figures use a
    :class:`Renderer`)."""
    with Renderer() as renderer:
        return renderer.render(fig, fmt, width=width, height=height)


def deck_language(lang: str) -> str:
    """The catalogue of a deck language: ``"zh"`` (or ``"zh_CN"``, ``"zh-Hans"``) →
    ``"zh_Hans"``; ``"fr"`` → ``"fr"``. Raises ValueError for a language the deck is not
    written in."""
    short = lang.replace("-", "_").split("_", 1)[0].lower() if lang else ""
    if short not in LANGUAGES:
        raise ValueError(f"Unknown language {lang!r}: use one of {', '.join(LANGUAGES)}.")
    return normalise_language(LANGUAGES[short])


def in_language(lang: str, fn: Callable[..., T], *args, **kwargs) -> T:
    """``fn(*args, **kwargs)`` with the texts in ``lang`` ('en', 'zh', 'fr' or 'es'), leaving
    the caller's language as it was."""
    language = deck_language(lang)

    def run() -> T:
        set_language(language)
        return fn(*args, **kwargs)

    return contextvars.copy_context().run(run)


def presentation(db: Database, period_to: str | None = None) -> present.Presentation:
    """The slides (observer view) as of the end of ``period_to``, in the current language."""
    with db.read() as cur:
        return present.build(cur, period_to)


# --- The PowerPoint deck ---------------------------------------------------------------------

SLIDE_WIDTH = Inches(13.333)  # 16:9
SLIDE_HEIGHT = Inches(7.5)
MARGIN = Inches(0.5)
TITLE_LAYOUT = 5  # "Title Only" of python-pptx's default template: a real title placeholder
FONT = "Arial"  # on every meeting-room computer
TEXT_COLOUR = RGBColor.from_string(theme.TEXT.lstrip("#"))
NUMBER_COLOUR = RGBColor.from_string(theme.BLUE.lstrip("#"))
NOTE_COLOUR = RGBColor.from_string("595959")


def _style(run, size: int, *, bold: bool = False, colour: RGBColor = TEXT_COLOUR) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run.font.color.rgb = colour


def _text_box(slide, top: Emu, height: Emu, text: str, size: int, colour: RGBColor):
    box = slide.shapes.add_textbox(MARGIN, top, SLIDE_WIDTH - 2 * MARGIN, height)
    frame = box.text_frame
    frame.word_wrap = True
    _style(frame.paragraphs[0].add_run(), size, colour=colour)
    frame.paragraphs[0].runs[0].text = text
    return box


def _message(slide, top: Emu, height: Emu, message: str, number: str) -> None:
    """The sentence in large type, its headline number bold and in the accent colour."""
    box = slide.shapes.add_textbox(MARGIN, top, SLIDE_WIDTH - 2 * MARGIN, height)
    box.text_frame.word_wrap = True
    paragraph = box.text_frame.paragraphs[0]
    before, found, after = message.partition(number) if number else (message, "", "")
    for text, bold in ((before, False), (found, True), (after, False)):
        if text:
            run = paragraph.add_run()
            run.text = text
            _style(run, 26, bold=bold, colour=NUMBER_COLOUR if bold else TEXT_COLOUR)


def write_pptx(deck: present.Presentation, images: list[bytes], out: BinaryIO) -> None:
    """Write ``deck`` as a 16:9 PowerPoint file: per slide the title, the message and the
    footnote as text, and the chart as the PNG of ``images`` (one per slide, in order)."""
    pptx = PptxPresentation()
    pptx.slide_width, pptx.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    pptx.core_properties.title = t("Coalition progress toward the target")
    pptx.core_properties.subject = t("As of {date}", date=format_date(deck.as_of))
    picture_top, picture_height = Inches(2.05), Inches(4.45)
    picture_width = int(picture_height * present.CHART_WIDTH / present.CHART_HEIGHT)
    for number, (slide, png) in enumerate(zip(deck.slides, images, strict=True), start=1):
        page = pptx.slides.add_slide(pptx.slide_layouts[TITLE_LAYOUT])
        title = page.shapes.title
        title.left, title.top = MARGIN, Inches(0.3)
        title.width, title.height = SLIDE_WIDTH - 2 * MARGIN, Inches(0.7)
        title.text_frame.text = slide.title
        title.text_frame.paragraphs[0].alignment = 1  # left
        _style(title.text_frame.paragraphs[0].runs[0], 30, bold=True)
        _message(page, Inches(1.0), Inches(1.0), slide.message, slide.number)
        picture = page.shapes.add_picture(
            io.BytesIO(png),
            int((SLIDE_WIDTH - picture_width) / 2),
            picture_top,
            width=picture_width,
            height=picture_height,
        )
        picture._element.nvPicPr.cNvPr.set("descr", slide.alt)  # alt text for screen readers
        _text_box(page, Inches(6.55), Inches(0.8), slide.footnote, 10, NOTE_COLOUR)
        counter = page.shapes.add_textbox(
            SLIDE_WIDTH - MARGIN - Inches(1), Inches(0.1), Inches(1), Inches(0.3)
        )
        counter.text_frame.text = f"{number} / {len(deck.slides)}"
        counter.text_frame.paragraphs[0].alignment = 3  # right
        _style(counter.text_frame.paragraphs[0].runs[0], 10, colour=NOTE_COLOUR)
    pptx.save(out)


def slide_images(deck: present.Presentation, renderer: Renderer) -> list[bytes]:
    """The chart of every slide as a PNG of the slide's picture size."""
    return [renderer.render(slide.figure, "png") for slide in deck.slides]


def deck_bytes(db: Database, lang: str = "en", period_to: str | None = None) -> bytes:
    """The PowerPoint deck of the presentation as bytes (see :func:`build_deck`)."""

    def build() -> bytes:
        deck = presentation(db, period_to)
        with Renderer() as renderer:
            images = slide_images(deck, renderer)
        buffer = io.BytesIO()
        write_pptx(deck, images, buffer)
        return buffer.getvalue()

    return in_language(lang, build)


def build_deck(
    db: Database, out: str | Path, lang: str = "en", period_to: str | None = None
) -> Path:
    """Write the presentation's slides (observer view, as of the end of ``period_to``, in
    ``lang``: 'en', 'zh', 'fr' or 'es') to the PowerPoint file ``out``; returns its path."""
    path = Path(out)
    path.write_bytes(deck_bytes(db, lang, period_to))
    return path


# --- The one-page PDF summary ----------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = 1123, 794  # A4 landscape at 96 CSS pixels per inch
SUMMARY_CHART = (540, 430)  # each of the two charts, CSS pixels
SUMMARY_FONT_SIZE = 12


def _svg_source(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _small(fig: go.Figure) -> go.Figure:
    """A slide figure in the type size of a printed page."""
    fig = go.Figure(fig)
    fig.update_layout(font={"size": SUMMARY_FONT_SIZE}, legend={"font": {"size": 11}})
    return fig


def _key_figures(deck: present.Presentation) -> list[tuple[str, str]]:
    slides = {s.key: s for s in deck.slides}
    return [
        (format_percent(deck.reduction), t("reduction of the detection rate vs baseline")),
        (theme.status_label(deck.status), t("status against the pace needed")),
        (slides["trend"].number, t("projected at the deadline ({date})",
                                   date=format_date(deck.target.deadline))),
        (slides["map"].number, t("countries and territories with actions")),
        (slides["coverage"].number, t("partners reporting, latest quarter")),
    ]  # fmt: skip


def summary_figure(deck: present.Presentation, trend_svg: bytes, map_svg: bytes) -> go.Figure:
    """The one-page summary as one figure: title, headline sentence, key figures, the trend
    and the map (as images drawn beforehand), and the footnote."""
    slides = {s.key: s for s in deck.slides}
    fig = go.Figure()
    notes = []

    def text(x, y, value, size, *, bold=False, colour=theme.TEXT, anchor="left"):
        notes.append(
            dict(
                x=x, y=y, xref="paper", yref="paper", xanchor=anchor, yanchor="top",
                text=f"<b>{value}</b>" if bold else value, showarrow=False, align=anchor,
                font={"size": size, "color": colour},
            )
        )  # fmt: skip

    text(0, 1, t("Coalition progress toward the {target} target", target=format_percent(
        deck.target.reduction, 0)), 26, bold=True)  # fmt: skip
    text(0, 0.94, t("As of {date} · aggregates only", date=format_date(deck.as_of)), 14,
         colour="#595959")  # fmt: skip
    text(0, 0.89, "<br>".join(textwrap.wrap(slides["headline"].message, 110)), 17)
    figures = _key_figures(deck)
    for i, (value, label) in enumerate(figures):
        x = i / len(figures)
        text(x, 0.79, value, 22, bold=True, colour=theme.BLUE)
        text(x, 0.735, "<br>".join(textwrap.wrap(label, 28)), 12, colour="#595959")
    top, bottom = 0.64, 0.10
    for x, slide, svg in ((0, slides["trend"], trend_svg), (0.52, slides["map"], map_svg)):
        text(x, top + 0.03, slide.title, 15, bold=True)
        fig.add_layout_image(
            source=_svg_source(svg), xref="paper", yref="paper", x=x, y=top,
            sizex=0.48, sizey=top - bottom, xanchor="left", yanchor="top", layer="above",
            sizing="contain",
        )  # fmt: skip
    footnote = slides["headline"].footnote
    text(0, 0.085, "<br>".join(textwrap.wrap(footnote, 190)), 10, colour="#595959")
    fig.update_layout(
        annotations=notes,
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 36, "r": 36, "t": 30, "b": 20},
        width=PAGE_WIDTH,
        height=PAGE_HEIGHT,
        showlegend=False,
    )
    return theme.apply(fig)


def summary_pdf(db: Database, lang: str = "en", period_to: str | None = None) -> bytes:
    """A one-page PDF (A4 landscape): the headline, key figures, the detection-rate trend and
    the world map, with the footnote; observer view, as of the end of ``period_to``."""

    def build() -> bytes:
        deck = presentation(db, period_to)
        slides = {s.key: s for s in deck.slides}
        width, height = SUMMARY_CHART
        with Renderer() as renderer:
            trend, world = (
                renderer.render(_small(slides[key].figure), "svg", width=width, height=height)
                for key in ("trend", "map")
            )
            return renderer.render(
                summary_figure(deck, trend, world), "pdf", width=PAGE_WIDTH, height=PAGE_HEIGHT
            )

    return in_language(lang, build)


def build_summary(
    db: Database, out: str | Path, lang: str = "en", period_to: str | None = None
) -> Path:
    """Write the one-page summary (see :func:`summary_pdf`) to ``out``; returns its path."""
    path = Path(out)
    path.write_bytes(summary_pdf(db, lang, period_to))
    return path
