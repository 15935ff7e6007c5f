"""Drawing helpers of the Presentation page: the cached slides, the slide number in the page
address (``?slide=3``), one slide in projector type, and the export buttons.

The slides come from :func:`coalition.present.build`, which always reads in the observer view:
what a projector shows is what the public may see, whoever is signed in. Exports are drawn
when their button is pressed (Streamlit's deferred downloads), since each one starts Chromium.
"""

from __future__ import annotations

import html

import streamlit as st

from coalition import charts_regions, present, theme
from coalition.i18n import get_language, t
from coalition.ui import data

SLIDE_PARAM = "slide"
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


@st.cache_data(show_spinner=t("Preparing the slides…"), max_entries=20)
def presentation(src: data.Source, period_to: str | None, language: str) -> present.Presentation:
    """The slides as of the end of ``period_to``; ``language`` keys the cache, since the texts
    are written in the language of the run that builds them."""
    with src.db.read() as cur:
        return present.build(cur, period_to)


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
