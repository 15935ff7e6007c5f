"""Overview: the coalition's progress to the reduction target at a glance.

Every number here is as of the end of the chosen period range. The headline comes from one call
to ``metrics.progress`` (by=None), the same call ``coalition progress`` makes, so the two agree.
"""

from functools import partial

import pandas as pd
import streamlit as st

from coalition import charts
from coalition.i18n import format_count, format_date, format_percent, t
from coalition.ui import components, data
from coalition.ui.filter_bar import filter_bar
from metrics import Target
from metrics.filters import month_bounds

src = data.current()
filters, target = filter_bar(src)
st.title(t("Overview"))

if data.actions(src, filters, grain=None).empty:
    components.stop_when_nothing_matches()

head = data.progress(src, filters, target=target).iloc[0]
target = Target(head.target_name, head.target_reduction, head.deadline)
per_quarter = data.actions(src, filters)
coverage = data.reporting_coverage(src, filters)
as_of = head.as_of if pd.notna(head.as_of) else month_bounds(per_quarter["period"].max())[1]

st.markdown(charts.headline_text(as_of, target))

if head.withheld:
    components.withheld_headline()
# two rows, so that long labels and exact counts are never cut off
reduction, progress, projected = st.columns(3, border=True)
actions, reporting = st.columns(2, border=True)
with reduction:
    st.metric(
        t("Reduction vs baseline"),
        format_percent(head.reduction),
        help=t(
            "1 − detection rate in {period} ÷ detection rate at baseline, over the platforms "
            "with data in both (the matched panel), weighted by their baseline volume.",
            period=head.current_period or "—",
        ),
    )
    st.caption(charts.panel_text(head.platforms_in_panel, head.coverage_share))
with progress:
    st.metric(
        t("Progress to target"),
        format_percent(head.progress),
        help=t("The reduction as a share of the target reduction: 100% means the target is met."),
    )
    components.status_badge(head.status)
with projected:
    st.metric(
        t("Projected reduction"),
        format_percent(head.projected_reduction_at_deadline),
        help=t(
            "The reduction that the trend of the detection-rate index (a straight line through "
            "its logarithm: a constant percentage fall per year) gives at the deadline, with "
            "its 95% band."
        ),
    )
    if pd.notna(head.projected_reduction_at_deadline):
        st.caption(
            t(
                "At {deadline}; 95% band {low} to {high}",
                deadline=format_date(target.deadline),
                low=format_percent(head.projected_reduction_low),
                high=format_percent(head.projected_reduction_high),
            )
        )
        st.caption(
            t("Target reached (projected): {date}", date=format_date(head.projected_target_date))
            if pd.notna(head.projected_target_date)
            else t("The trend does not reach the target.")
        )
    else:
        st.caption(t("Too few quarters with a matched panel for a trend."))
with actions:
    st.metric(t("Cumulative actions"), format_count(head.cumulative_actions))
    st.caption(
        t("Listings removed + blocked, from the first record to {date}", date=format_date(as_of))
    )
with reporting:
    components.reporting_metric(coverage)

st.subheader(t("Detection rate against the baseline"))
st.caption(
    t(
        "Index of the detection rate (listings found per monitoring search), baseline = 100, "
        "over the matched panel. Open circles: quarters whose panel covers less than half of the "
        "baseline volume; they are not used for the trend."
    )
)
index_table = components.derived(  # put together once per input (a rerun reads it)
    charts.index_table,
    data.reduction_series(src, filters),
    data.projection(src, filters, target=target),
    target,
)
components.chart(
    index_table,
    partial(charts.detection_index_figure, target=target),
    key="detection_rate_index",
    empty=t("No detection figures for these filters, so no reduction can be measured."),
    alt=t("Detection-rate index by quarter with the fitted trend, projection and target line"),
)

st.subheader(t("Actions per quarter"))
components.chart(
    per_quarter,
    charts.actions_figure,
    key="actions_per_quarter",
    empty=t("No listings removed or blocked for these filters."),
    alt=t("Listings removed and blocked per quarter, with the cumulative total"),
)

st.subheader(t("Reporting coverage"))
components.chart(
    coverage,
    charts.coverage_figure,
    key="reporting_coverage",
    empty=t("No reporting in this period range."),
    alt=t("Partners reporting on time, late and missing per quarter"),
)
