"""Review (secretariat): who has sent what for which quarter, and the decision on each
submission — its rows, its check, its changes against the figures it replaces, then accept or
return with a comment the partner reads.

``?submission=ID`` in the address opens that submission (the Data quality page links here).
"""

import datetime as dt

import streamlit as st

from coalition.i18n import t
from coalition.ui import data
from coalition.ui import review as ui

src = data.current()
st.title(t("Review submissions"))
ui.secretariat_only()
ui.flash()

cells = ui.cells(src, dt.date.today())
if cells.empty:
    st.info(
        t("No partner is registered yet. The secretariat registers partners and their platforms."),
        icon=":material/group_off:",
    )
    st.stop()

st.subheader(t("Submissions by partner and quarter"))
ui.legend(ui.due_days(src))
ui.matrix(cells)

chosen = ui.chosen()
ui.awaiting_picker(ui.awaiting(src), chosen)
if chosen is None:
    st.stop()

found = ui.detail(src, chosen)
if found is None:
    st.warning(t("There is no submission #{id}.", id=chosen), icon=":material/search_off:")
    st.stop()

ui.header(found)
rows_tab, check_tab, changes_tab = st.tabs([t("Rows"), t("Check"), t("Changes")])
with rows_tab:
    st.dataframe(ui.rows_table(found), hide_index=True, placeholder="—", key="review_rows")
with check_tab:
    ui.check(ui.warnings(src, chosen))
with changes_tab:
    ui.changes(ui.diff(src, chosen))

if found.info["status"] == "submitted":
    ui.decision_form(src, chosen)
else:
    st.caption(t("Only a submission awaiting review can be accepted or returned."))
