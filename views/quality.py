"""Data quality (secretariat): flags across all figures — implausible jumps, silent platforms,
detections without search effort, search effort that changed too much to compare, jumps in a
platform's share of actions, late submissions — each linked to its submission on the Review
page. The rules are described in :mod:`coalition.quality`."""

import datetime as dt

import streamlit as st

from coalition import quality
from coalition.i18n import format_count, t
from coalition.ui import data
from coalition.ui import quality as ui
from coalition.ui.review import secretariat_only

src = data.current()
st.title(t("Data quality"))
secretariat_only()
st.caption(
    t(
        "Checks across all current figures, accepted and awaiting review. A flag is a reason "
        "to look, not proof of an error; open the submission to review it."
    )
)

flags = ui.flags(src, dt.date.today())
if flags.empty:
    st.success(t("No flags: nothing unusual in the figures."), icon=":material/check_circle:")
    st.stop()

names = ui.partner_names(src)
ui.counts(flags)

kind_col, partner_col, severity_col = st.columns([2, 2, 1], vertical_alignment="bottom")
kinds = kind_col.multiselect(
    t("Kind"),
    [k for k in quality.KINDS if k in set(flags["kind"])],
    format_func=ui.kind_label,
    key="quality_kinds",
    placeholder=t("All kinds"),
)
partners = partner_col.multiselect(
    t("Partner"),
    sorted(set(flags["partner"]), key=lambda p: names.get(p, p)),
    format_func=lambda p: names.get(p, p),
    key="quality_partners",
    placeholder=t("All partners"),
)
warnings_only = severity_col.toggle(t("Warnings only"), key="quality_warnings_only")

shown = ui.filtered(flags, kinds, partners, warnings_only)
st.caption(
    t(
        "{shown} of {total} flags shown.",
        shown=format_count(len(shown)),
        total=format_count(len(flags)),
    )
)
ui.show(shown, names)
