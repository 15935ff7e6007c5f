"""Streamlit pieces of the Platforms page: the table of all figures and one platform's detail."""

from dataclasses import replace
from functools import partial

import pandas as pd
import streamlit as st

from coalition import charts, charts_platforms
from coalition.i18n import format_count, format_date, format_percent, t
from coalition.ui import components, data
from metrics import Filters, Target


def share_column(label: str, help: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(label, format="%.1f%%", help=help)


def figures_table(table: pd.DataFrame) -> None:
    """The sortable table of every platform's figures, with its CSV download."""
    percent = {c: 100 * table[c] for c in charts_platforms.PERCENT_COLUMNS}  # shown as 45.3%
    st.dataframe(
        table.assign(**percent),
        hide_index=True,
        key="platform_table",
        column_order=[c for c in charts_platforms.TABLE_COLUMNS if c != "status"],
        column_config={
            "platform": st.column_config.TextColumn(t("Platform"), pinned=True),
            "partner": t("Partner"),
            "sector": t("Sector"),
            "status_label": t("Status"),
            "current_period": t("Quarter"),
            "reduction": share_column(t("Reduction vs baseline")),
            "progress": share_column(t("Progress to target")),
            "pace_ratio": share_column(
                t("Pace"), t("Pace of decline since the baseline, as a share of the pace needed.")
            ),
            "coverage_share": share_column(t("Coverage"), t("Share of baseline volume covered.")),
            "units_in_panel": st.column_config.NumberColumn(t("Units in panel"), format="%,d"),
            "projected_reduction_at_deadline": share_column(t("Projected reduction at deadline")),
            "projected_target_date": st.column_config.DateColumn(t("Target reached (projected)")),
            "proactive_share": share_column(t("Proactive share")),
            "cumulative_actions": st.column_config.NumberColumn(
                t("Cumulative actions"), format="%,d"
            ),
        },
    )
    st.download_button(
        t("Download the table (CSV)"),
        data=partial(components.csv_bytes, table),  # made when clicked, not on every run
        file_name="platforms.csv",
        mime="text/csv",
        key="download_platform_table",
        icon=":material/download:",
        on_click="ignore",
    )


def ask_ahead(src: data.Source, filters: Filters, target: Target, name: str) -> None:
    """Start working out what :func:`one_platform` will ask for (see ``data.ask_ahead``)."""
    one = replace(filters, platforms=(name,))
    data.ask_ahead(data.progress, src, one, target=target)
    data.ask_ahead(data.projection, src, one, target=target)
    data.ask_ahead(data.actions, src, one)


def one_platform(src: data.Source, filters: Filters, target: Target, name: str) -> None:
    """One platform's own headline, detection-rate index and actions, as on the Overview."""
    one = replace(filters, platforms=(name,))
    head = data.progress(src, one, target=target).iloc[0]
    reduction, progress_to_target, projected, actions = st.columns(4, border=True)
    with reduction:
        st.metric(t("Reduction vs baseline"), format_percent(head.reduction))
        st.caption(charts.panel_text(head.platforms_in_panel, head.coverage_share))
    with progress_to_target:
        st.metric(t("Progress to target"), format_percent(head.progress))
        components.status_badge(head.status)
    with projected:
        st.metric(t("Projected reduction"), format_percent(head.projected_reduction_at_deadline))
        if pd.notna(head.projected_reduction_at_deadline):
            st.caption(
                t(
                    "At {deadline}; 95% band {low} to {high}",
                    deadline=format_date(target.deadline),
                    low=format_percent(head.projected_reduction_low),
                    high=format_percent(head.projected_reduction_high),
                )
            )
    with actions:
        st.metric(t("Cumulative actions"), format_count(head.cumulative_actions))
    st.markdown(f"**{t('Detection rate against the baseline')}**")
    components.chart(
        components.derived(
            charts.index_table,
            data.reduction_series(src, one),
            data.projection(src, one, target=target),
            target,
        ),
        partial(charts.detection_index_figure, target=target),
        key="platform_detail_index",
        empty=t("No detection figures for this platform, so no reduction can be measured."),
        alt=t("Detection-rate index of the platform with its trend, projection and target"),
    )
    st.markdown(f"**{t('Actions per quarter')}**")
    components.chart(
        data.actions(src, one),
        charts.actions_figure,
        key="platform_detail_actions",
        empty=t("No listings removed or blocked by this platform for these filters."),
        alt=t("Listings removed and blocked per quarter by the platform, with the total"),
    )
