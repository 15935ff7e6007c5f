"""Small drawing helpers shared by the pages: a status badge, a chart with its download."""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from coalition import theme
from coalition.i18n import format_count, t


def stop_when_nothing_matches() -> None:
    """Say that the filters leave no records, and end the page's run there."""
    st.info(
        t("No records match these filters. Widen the period range or clear a filter."),
        icon=":material/filter_alt_off:",
    )
    st.stop()


def status_badge_html(status: str) -> str:
    """A status as a pill: symbol and label in black on the status colour (all seven colours
    keep a contrast of at least 4.5:1 with black), so it reads without the colour too."""
    style = theme.status_style(status)
    return (
        f'<span class="status-badge status-{html.escape(status)}" style="background:'
        f"{style.colour};color:#000;border-radius:1rem;padding:0.15rem 0.7rem;"
        f'font-weight:600;white-space:nowrap">{html.escape(theme.status_label(status))}</span>'
    )


def status_badge(status: str) -> None:
    st.markdown(status_badge_html(status), unsafe_allow_html=True)


def withheld_headline() -> None:
    """Say why the headline figures are blank for this viewer."""
    st.warning(
        t(
            "These figures are withheld from your view: with these filters they rest on one or "
            "two partners who have not consented to be named. Widen the filters (more partners, "
            "a longer period) to see them."
        ),
        icon=":material/visibility_off:",
    )


def reporting_metric(coverage: pd.DataFrame) -> None:
    """Partners reporting in the latest period of ``metrics.reporting_coverage``, of those
    expected — which is known only without a species, region or country filter."""
    if coverage.empty:
        st.metric(t("Partners reporting"), "—")
        return
    latest = coverage.iloc[-1]
    if latest.get("withheld", False):
        st.metric(t("Partners reporting"), t("withheld"))
        st.caption(t("In {period}", period=latest.period))
        return
    expected = latest.partners_expected
    st.metric(
        t("Partners reporting"),
        format_count(latest.partners_reporting)
        if pd.isna(expected)
        else t(
            "{reporting} of {expected}",
            reporting=format_count(latest.partners_reporting),
            expected=format_count(expected),
        ),
        help=t("Partners that sent figures for the period, of the members expected to report."),
    )
    st.caption(
        t(
            "In {period}; {n} reported late",
            plural="In {period}; {n} reported late",
            n=int(latest.partners_late),
            period=latest.period,
        )
    )
    if pd.isna(expected):
        st.caption(t("Who was expected to report a species group or a region is not known."))


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV with a byte-order mark, so that Excel opens Chinese text right."""
    return table.to_csv(index=False).encode("utf-8-sig")


def chart(
    table: pd.DataFrame,
    figure: Callable[[pd.DataFrame], go.Figure],
    *,
    key: str,
    empty: str,
    alt: str,
) -> bool:
    """Draw ``figure(table)`` with a button to download ``table`` as CSV, or the ``empty``
    message instead when the table has no rows. Returns whether a chart was drawn."""
    if table.empty:
        st.info(empty, icon=":material/filter_alt_off:")
        return False
    st.plotly_chart(
        figure(table),
        key=f"chart_{key}",
        theme=None,  # our own template (coalition.theme), not Streamlit's
        config={"displaylogo": False},
        alt=alt,
    )
    st.download_button(
        t("Download the table (CSV)"),
        data=csv_bytes(table),
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"download_{key}",
        icon=":material/download:",
        on_click="ignore",
    )
    return True
