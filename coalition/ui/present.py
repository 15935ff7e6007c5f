"""Drawing helpers of the Presentation page: the cached slides, the slide number in the page
address (``?slide=3``), one slide in projector type, and the export buttons.

The slides come from :mod:`coalition.present`, which always reads in the observer view: what a
projector shows is what the public may see, whoever is signed in. Only the slide on the screen
is built (:func:`slide`), each one once per database version, period and language, then shared
by every run and session: moving to the next slide reads that slide's figures and no other.
Exports are drawn when their button is pressed (Streamlit's deferred downloads), since each one
starts Chromium; the deck and the summary build every slide they need then, not before.
"""

from __future__ import annotations

import html

import streamlit as st

from coalition import charts_regions, present, theme
from coalition.i18n import get_language, t
from coalition.ui import data

SLIDE_PARAM = "slide"
SLIDE_KEYS = present.SLIDE_KEYS
# Built slides kept (every session shares them): a few periods × languages of every slide.
SLIDE_ENTRIES = 20 * len(SLIDE_KEYS)
MIME = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "png": "image/png",
    "svg": "image/svg+xml",
}


def deck_language() -> str:
    """The deck's language for the app's: 'zh' for Chinese, else 'en'."""
    return "zh" if get_language().startswith("zh") else "en"


@st.cache_data(show_spinner=False, max_entries=data.MAX_ENTRIES)
def period_choices(src: data.Source) -> list[str]:
    with src.db.read() as cur:
        return present.period_choices(cur)


@st.cache_data(show_spinner=False, max_entries=data.MAX_ENTRIES)
def context(src: data.Source, period_to: str | None) -> present.Context:
    """What every slide as of the end of ``period_to`` needs (the coalition headline, the
    as-of date, how many partners reported): read once for all the slides of that period."""
    with src.db.read() as cur:
        return present.context(cur, period_to)


@st.cache_resource(show_spinner=t("Preparing the slides…"), max_entries=SLIDE_ENTRIES)
def slide(src: data.Source, period_to: str | None, language: str, key: str) -> present.Slide:
    """The slide ``key`` as of the end of ``period_to``, built on its first showing and then
    shared by every run and session, like the pages' figures (see
    :func:`coalition.ui.components.figure_for`): do not change it. ``language`` keys the
    cache, since the texts are written in the language of the run that builds them."""
    ctx = context(src, period_to)
    with src.db.read() as cur:
        return present.slide(cur, ctx, key)


def current_slide(total: int) -> int:
    """The slide number (1-based) in the address, kept within 1..``total``."""
    try:
        number = int(st.query_params.get(SLIDE_PARAM, "1"))
    except ValueError:
        number = 1
    return min(max(number, 1), max(total, 1))


def go_to(number: int) -> None:
    st.query_params[SLIDE_PARAM] = str(number)


def navigation(number: int, total: int, *, key: str) -> None:
    """Previous and next buttons with the slide counter between them."""
    back, counter, forward = st.columns([1, 2, 1], vertical_alignment="center")
    back.button(
        t("Previous"),
        key=f"previous_{key}",
        icon=":material/arrow_back:",
        disabled=number <= 1,
        on_click=go_to,
        args=(number - 1,),
        width="stretch",
    )
    counter.markdown(
        f'<p style="text-align:center;margin:0">{number} / {total}</p>', unsafe_allow_html=True
    )
    forward.button(
        t("Next"),
        key=f"next_{key}",
        icon=":material/arrow_forward:",
        disabled=number >= total,
        on_click=go_to,
        args=(number + 1,),
        width="stretch",
    )


def message_html(message: str, number: str) -> str:
    """The slide's sentence in large type, its headline number bold in the accent colour."""
    before, found, after = message.partition(number) if number else (message, "", "")
    accent = f'<strong style="color:{theme.BLUE}">{html.escape(found)}</strong>' if found else ""
    return (
        '<p class="slide-message" style="font-size:2.1rem;line-height:1.3;margin:0.2rem 0 1rem">'
        f"{html.escape(before)}{accent}{html.escape(after)}</p>"
    )


def draw_slide(slide: present.Slide) -> None:
    """Title, message, chart and footnote of one slide."""
    st.markdown(
        f'<h1 class="slide-title" style="font-size:2.6rem;padding-top:0">'
        f"{html.escape(slide.title)}</h1>",
        unsafe_allow_html=True,
    )
    st.markdown(message_html(slide.message, slide.number), unsafe_allow_html=True)
    config = {"displaylogo": False, "scrollZoom": False}
    if slide.key == "map":
        config["topojsonURL"] = charts_regions.TOPOJSON_URL  # the app's own outlines
    st.plotly_chart(
        slide.figure, key=f"slide_{slide.key}", theme=None, config=config, alt=slide.alt
    )
    st.markdown(
        f'<p class="slide-footnote" style="font-size:1rem;color:#595959">'
        f"{html.escape(slide.footnote)}</p>",
        unsafe_allow_html=True,
    )


def _deck(db, lang: str, period_to: str | None):
    def build() -> bytes:
        from coalition import deck

        return deck.deck_bytes(db, lang, period_to)

    return build


def _summary(db, lang: str, period_to: str | None):
    def build() -> bytes:
        from coalition import deck

        return deck.summary_pdf(db, lang, period_to)

    return build


def _chart(figure, fmt: str):
    def build() -> bytes:
        from coalition import deck

        return deck.figure_bytes(figure, fmt)

    return build


def downloads(src: data.Source, period_to: str | None, slide: present.Slide) -> None:
    """The deck, the one-page summary and this slide's chart as PNG, SVG and PDF."""
    lang = deck_language()
    name = f"coalition-{period_to or 'latest'}"
    deck_column, summary_column = st.columns(2)
    deck_column.download_button(
        t("Download deck (.pptx)"),
        data=_deck(src.db, lang, period_to),
        file_name=f"{name}-{lang}.pptx",
        mime=MIME["pptx"],
        key="download_deck",
        icon=":material/slideshow:",
        on_click="ignore",
        width="stretch",
    )
    summary_column.download_button(
        t("One-page summary (.pdf)"),
        data=_summary(src.db, lang, period_to),
        file_name=f"{name}-summary-{lang}.pdf",
        mime=MIME["pdf"],
        key="download_summary",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
        width="stretch",
    )
    st.caption(t("This chart:"))
    for column, fmt in zip(st.columns(3), ("png", "svg", "pdf"), strict=True):
        column.download_button(
            t("Chart as {format}", format=fmt.upper()),
            data=_chart(slide.figure, fmt),
            file_name=f"{name}-{slide.key}.{fmt}",
            mime=MIME[fmt],
            key=f"download_chart_{fmt}",
            icon=":material/download:",
            on_click="ignore",
            width="stretch",
        )
