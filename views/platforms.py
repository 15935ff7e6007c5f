"""Platforms: which platforms are on track to the reduction target and which are not.

Each platform is measured against its own baseline, as of the end of the chosen period range.
The figures come from one call to ``metrics.progress(by="platform")`` — what
``coalition progress --by platform`` prints — and the drill-down from the same calls as the
Overview, restricted to one platform.
"""

from functools import partial

import pandas as pd
import streamlit as st

from coalition import charts_platforms
from coalition.i18n import t
from coalition.ui import components, data
from coalition.ui import platforms as platform_ui
from coalition.ui.filter_bar import SECTOR_LABELS, filter_bar
from metrics import Target
from metrics.filters import month_bounds

src = data.current()
filters, target = filter_bar(src)
st.title(t("Platforms"))

# the totals that progress(by="platform") reads too: one query for both
if data.actions(src, filters, by="platform", grain=None).empty:
    components.stop_when_nothing_matches()

options = data.filter_options(src)
colors = charts_platforms.platform_colors(options.platforms["name"])
data.ask_ahead(data.proactive_share, src, filters, by="platform", grain=None)
data.ask_ahead(data.proactive_share, src, filters, grain=None)
progress = data.progress(src, filters, by="platform", target=target)
first = progress.iloc[0]
target = Target(first.target_name, first.target_reduction, first.deadline)
table = components.derived(  # the page's tables: put together once per input and language
    charts_platforms.platform_table,
    progress,
    data.proactive_share(src, filters, by="platform", grain=None),
    options.platforms,
    partner_names=dict(zip(options.partners["slug"], options.partners["name"], strict=True)),
    sector_labels={k: t(v) for k, v in SECTOR_LABELS.items()},
)
statuses = dict(zip(table["platform"], table["status"], strict=True))

# no detection figure at all leaves no as-of quarter: the end of the data it is, as on Overview
as_of = (
    first.as_of
    if pd.notna(first.as_of)
    else month_bounds(data.actions(src, filters)["period"].max())[1]
)
st.markdown(charts_platforms.headline_text(len(table), as_of, target))
st.markdown(
    " ".join(
        f"{components.status_badge_html(status)}&nbsp;**{n}**"
        for status, n in charts_platforms.status_counts(table)
    ),
    unsafe_allow_html=True,
)

st.subheader(t("Reduction and status by platform"))
st.caption(charts_platforms.reduction_caption(first.current_period))
with_figure = table.dropna(subset=["reduction"])
components.chart(
    with_figure,
    partial(charts_platforms.reduction_figure, target=target),
    key="platform_reduction",
    empty=t("No platform has a reduction figure for these filters."),
    alt=t("Reduction vs baseline per platform, coloured and marked by status, with the target"),
)
without = sorted(set(table["platform"]) - set(with_figure["platform"]))
if without:
    st.caption(charts_platforms.without_figure_text(without, first.current_period))

st.subheader(t("Detection rate by platform against the target path"))
series = data.reduction_series(src, filters, by="platform")
shown = charts_platforms.largest_platforms(series, charts_platforms.MAX_PANELS)
hidden = series["group"].nunique() - len(shown)
names = sorted(table["platform"])
if st.session_state.get("platform_detail") not in names:
    st.session_state.pop("platform_detail", None)  # a platform the filters no longer offer
default = filters.platforms[0] if len(filters.platforms) == 1 else (shown or names)[0]
default = default if default in names else names[0]
# the platform shown at the foot of the page, worked out while the charts above it are drawn
platform_ui.ask_ahead(src, filters, target, st.session_state.get("platform_detail", default))
st.caption(charts_platforms.trends_caption(len(shown), hidden))
components.chart(
    components.derived(charts_platforms.trend_table, series, statuses, target, shown),
    partial(charts_platforms.trend_figure, target=target, colors=colors),
    key="platform_index_trends",
    empty=t("No detection figures for these filters, so no reduction can be measured."),
    alt=t("Detection-rate index per platform against the target path, one panel per platform"),
)

st.subheader(t("Proactive share by platform"))
st.caption(
    t(
        "Listings blocked before going live, as a share of all listings blocked or removed, over "
        "the chosen period range; only records that report both counts."
    )
)
overall = data.proactive_share(src, filters, grain=None)
components.chart(
    data.proactive_share(src, filters, by="platform", grain=None),
    partial(
        charts_platforms.proactive_figure,
        overall=overall["proactive_share"].iloc[0] if len(overall) else None,
    ),
    key="platform_proactive_share",
    empty=t("No platform reported both listings blocked and removed for these filters."),
    alt=t("Proactive share per platform, with the share over all platforms"),
)

st.subheader(t("All figures"))
platform_ui.figures_table(table)

st.subheader(t("One platform"))
name = st.selectbox(
    t("Platform"),
    names,
    index=names.index(default),
    key="platform_detail",
    bind="query-params",  # the URL holds the option as shown: plain names keep links stable
)
platform_ui.one_platform(src, filters, target, name)
