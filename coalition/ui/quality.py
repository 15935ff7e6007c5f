"""The Data quality page's parts: the flags (cached per database state), their filters, and the
table with a link per flag to the Review page for its submission."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from coalition import quality, store
from coalition.i18n import N_, t
from coalition.ui import data

MAX_ENTRIES = 50
REVIEW_URL = "review"  # the url path of views/review.py
KIND_LABELS = {
    "jump": N_("Implausible jump"),
    "silent": N_("Platform silent"),
    "detection_without_effort": N_("Detections without search effort"),
    "effort_change": N_("Search effort changed"),
    "share_jump": N_("Share of actions jumped"),
    "late": N_("Late submission"),
}
SEVERITY_LABELS = {"warning": N_("Warning"), "info": N_("Note")}


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def flags(src: data.Source, today: dt.date) -> pd.DataFrame:
    with src.db.read() as cur:
        return quality.flags(cur, today=today)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def partner_names(src: data.Source) -> dict[str, str]:
    """Every partner's name by slug (the page is the secretariat's: all are named)."""
    with src.db.read() as cur:
        frame = store.partners(cur)
    return dict(zip(frame["slug"], frame["name"], strict=True))


def kind_label(kind: str) -> str:
    return t(KIND_LABELS.get(kind, kind))


def review_link(submission_id: object) -> str | None:
    """The address of the Review page opened on a submission, relative to this page."""
    return None if pd.isna(submission_id) else f"{REVIEW_URL}?submission={int(submission_id)}"


def filtered(
    frame: pd.DataFrame, kinds: list[str], partners: list[str], warnings_only: bool
) -> pd.DataFrame:
    """The flags of the chosen kinds and partners (all, when none is chosen)."""
    keep = pd.Series(True, index=frame.index)
    if kinds:
        keep &= frame["kind"].isin(kinds)
    if partners:
        keep &= frame["partner"].isin(partners)
    if warnings_only:
        keep &= frame["severity"] == "warning"
    return frame[keep]


def flag_table(frame: pd.DataFrame, partner_names: dict[str, str]) -> pd.DataFrame:
    """The flags as the page lists them, with the link to each one's submission."""
    return pd.DataFrame(
        {
            t("Severity"): frame["severity"].map(lambda s: t(SEVERITY_LABELS.get(s, s))),
            t("Flag"): frame["kind"].map(kind_label),
            t("Partner"): frame["partner"].map(lambda p: partner_names.get(p, p)),
            t("Platform"): frame["platform"],
            t("Period"): frame["period"],
            t("Detail"): frame["detail"],
            t("Submission"): frame["submission_id"].map(review_link),
        }
    )


def counts(frame: pd.DataFrame) -> None:
    """How many flags of each kind, as small metrics."""
    columns = st.columns(len(quality.KINDS), border=True)
    by_kind = frame["kind"].value_counts()
    for column, kind in zip(columns, quality.KINDS, strict=True):
        column.metric(kind_label(kind), int(by_kind.get(kind, 0)))


def show(frame: pd.DataFrame, partner_names: dict[str, str]) -> None:
    st.dataframe(
        flag_table(frame, partner_names),
        hide_index=True,
        placeholder="—",
        key="quality_flags",
        column_config={
            t("Submission"): st.column_config.LinkColumn(
                t("Submission"),
                display_text=r"submission=(\d+)",
                help=t("Open the submission on the Review page"),
            )
        },
    )
