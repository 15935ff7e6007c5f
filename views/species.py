"""Species: which species groups are still traded, and where.

The reduction per group is ``metrics.progress(by="species_group")`` over the matched panel, as
of the end of the chosen range; actions and detection rates per quarter are
``metrics.actions`` and ``metrics.detection_rate`` by species group. The drill-down repeats the
platform and country breakdowns for one group (the same filters plus that group).
"""

from dataclasses import replace
from functools import partial

import pandas as pd
import streamlit as st

from coalition import charts, theme
from coalition import charts_species as cs
from coalition.i18n import t
from coalition.ui import components, data, language
from coalition.ui.filter_bar import filter_bar
from metrics import Target
from metrics.filters import month_bounds

DETAIL_KEY = "species_detail"


src = data.current()
filters, chosen = filter_bar(src)  # the target chosen in the sidebar
st.title(t("Species groups"))

totals = data.actions(src, filters, by="species_group", grain=None)
if totals.empty:
    components.stop_when_nothing_matches()

options = data.filter_options(src)
# the page's tables are put together once per input and language (components.derived)
derived = components.derived
reference = derived(
    cs.species_reference, derived(language.with_species_names, options.species_groups), "name"
)
colours = dict(zip(reference["group"], reference["colour"], strict=True))
labels = dict(zip(reference["group"], reference["label"], strict=True))
groups = [g for g in reference["group"] if g in set(totals["group"])]
if st.session_state.get(DETAIL_KEY) not in groups:
    st.session_state.pop(DETAIL_KEY, None)  # a group that the filters no longer show
# what the page asks for below, and the drill-down for the group it will show, worked out
# while the first charts are drawn
ahead = [
    (data.progress, filters, {"by": "species_group", "target": chosen}),
    (data.actions, filters, {"by": "species_group"}),
    (data.detection_rate, filters, {"by": "species_group"}),
]
if groups:
    only = replace(filters, species_groups=(st.session_state.get(DETAIL_KEY, groups[0]),))
    ahead += [
        (data.progress, only, {"by": "platform", "target": chosen}),
        (data.actions, only, {"by": "country", "grain": None}),
    ]
for indicator, scope, kwargs in ahead:
    data.ask_ahead(indicator, src, scope, **kwargs)
progress = data.progress(src, filters, by="species_group", target=chosen)
head = progress.iloc[0]
target = Target(head.target_name, head.target_reduction, head.deadline)  # as measured
per_quarter = data.actions(src, filters, by="species_group")
as_of = head.as_of if pd.notna(head.as_of) else month_bounds(per_quarter["period"].max())[1]

st.markdown(charts.headline_text(as_of, target))

st.subheader(t("Reduction by species group"))
st.caption(cs.reduction_caption(head.current_period))
summary = derived(cs.species_reduction_table, progress, reference, totals)
components.chart(
    summary,
    partial(cs.reduction_figure, target=target, category_title=t("Species group")),
    key="species_reduction",
    empty=t("No species group has data for these filters."),
    alt=t("Reduction of the detection rate per species group, with status and target line"),
)
st.dataframe(
    derived(cs.species_summary_display, summary),
    hide_index=True,
    width="stretch",
    height=cs.table_height(summary),
)

st.subheader(t("Actions per quarter by species group"))
components.chart(
    derived(cs.actions_by_group_table, per_quarter, reference),
    partial(cs.actions_area_figure, colours=colours),
    key="species_actions",
    empty=t("No listings removed or blocked for these filters."),
    alt=t("Listings removed and blocked per quarter, stacked by species group"),
)

st.subheader(t("Detection rate by species group"))
st.caption(cs.detection_caption())
components.chart(
    derived(cs.detection_table, data.detection_rate(src, filters, by="species_group"), reference),
    cs.detection_heatmap_figure,
    key="species_detection",
    empty=t("No monitoring figures for these filters."),
    alt=t("Heatmap of listings detected per 1,000 searches, species group by quarter"),
)

st.subheader(t("One species group in detail"))
group = st.selectbox(t("Species group"), groups, format_func=labels.get, key=DETAIL_KEY)
if group is None:  # every group merged or withheld for this viewer
    st.caption(t("No species group to show in detail for these filters."))
    st.stop()
only = replace(filters, species_groups=(group,))

st.markdown(f"**{t('Reduction by platform')}** · {labels[group]}")
components.chart(
    derived(cs.reduction_table, data.progress(src, only, by="platform", target=chosen), {}),
    partial(cs.reduction_figure, target=target, category_title=t("Platform")),
    key="species_detail_reduction",
    empty=t("No platform reports this species group for these filters."),
    alt=t("Reduction of the detection rate per platform for the chosen species group"),
)

platforms, countries = st.columns(2)
with platforms:
    st.markdown(f"**{t('Actions by platform')}**")
    platform_colours = theme.category_colors(list(options.platforms["name"]))  # all, sorted
    components.chart(
        derived(cs.platform_actions_table, data.actions(src, only, by="platform", grain=None)),
        partial(
            cs.ranked_actions_figure,
            key="platform",
            colours=platform_colours,
            category_title=t("Platform"),
        ),
        key="species_detail_platforms",
        empty=t("No listings removed or blocked for this species group."),
        alt=t("Listings removed and blocked per platform for the chosen species group"),
    )
with countries:
    st.markdown(f"**{t('Actions by country')}**")
    countries = derived(language.with_country_names, data.countries(src))
    by_country = derived(
        cs.country_actions_table,
        data.actions(src, only, by="country", grain=None),
        countries,
        "name",
    )
    drawn = components.chart(
        by_country,
        partial(
            cs.ranked_actions_figure,
            key="iso3",
            colour=colours[group],
            category_title=t("Country / territory"),
        ),
        key="species_detail_countries",
        empty=t("No listings removed or blocked for this species group."),
        alt=t("Listings removed and blocked per country for the chosen species group"),
    )
    if drawn:
        st.dataframe(
            derived(
                cs.ranked_display,
                by_country,
                key="iso3",
                key_title=t("ISO3"),
                name_title=t("Country / territory"),
            ),
            hide_index=True,
            width="stretch",
            height=cs.table_height(by_country),
        )
