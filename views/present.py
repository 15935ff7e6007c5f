"""Presentation: the coalition's progress one message at a time, in large type for a projector.

Always the observer view (aggregates only, partners named only with their consent), whoever is
signed in: this page is for meetings and the press. The slide number is in the page address
(``?slide=3``), so a link opens the same slide; the period chooser sets the "as of" date of
every figure. Only the slide shown is computed; the deck, the one-page summary and each
chart are drawn on request.
"""

import streamlit as st

from coalition.i18n import get_language, t
from coalition.ui import components, data
from coalition.ui import present as ui

src = data.current()
choices = ui.period_choices(src)
if not choices:
    components.stop_when_nothing_matches()

with st.sidebar:
    period = st.selectbox(
        t("Figures as of the end of"),
        choices,
        index=len(choices) - 1,
        key="period",
        bind="query-params",
        help=t("Every figure on the slides is as of the end of this quarter."),
    )
period_to = None if period == choices[-1] else period  # the latest data: a clean address
total = len(ui.SLIDE_KEYS)
number = ui.current_slide(total)
# only the slide on the screen is built; the exports build theirs when asked
slide = ui.slide(src, period_to, get_language(), ui.SLIDE_KEYS[number - 1])

ui.navigation(number, total, key="top")
ui.draw_slide(slide)
ui.navigation(number, total, key="bottom")

with st.sidebar:
    st.subheader(t("Exports"))
    st.caption(
        t(
            "Aggregates only, as on the slides. Drawing takes a few seconds after a click.",
        )
    )
    ui.downloads(src, period_to, slide)
