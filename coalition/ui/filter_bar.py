"""The filters every analysis page shares, drawn in the sidebar.

``filters, target = filter_bar(src)`` at the top of a page. The choices hold for the whole
session, from page to page, and they are written into the page address, so that a view can be
shared by link::

    /platforms?from=2019-Q1&to=2020-Q4&sector=e-commerce&species=elephants&species=pangolins

========  ===========================================  ===============================
name      what                                         example
========  ===========================================  ===============================
from      first quarter of the period range            ``from=2019-Q1``
to        last quarter; every figure is as of its end  ``to=2020-Q4``
sector    sector                                       ``sector=e-commerce``
partner   partner, by slug                             ``partner=marketco``
platform  platform, by name                            ``platform=MarketCo+Shop``
species   species group, by slug                       ``species=pangolins``
region    UN M49 region                                ``region=Asia``
target    target, by name, if not the default one      ``target=50%25+by+end+of+2021``
========  ===========================================  ===============================

Every parameter is optional: a missing one means all quarters, everything, or the default
target. A link without ``to`` follows the data: it shows the latest quarter as new data come.
A list is written as repeated keys (``species=elephants&species=pangolins``); a link may also
separate values by commas (``species=elephants,pangolins``). Values are matched ignoring case,
and quarters may be spelled as the templates accept them (``2019Q1``). What the data do not
offer (an unknown slug, a quarter outside the data, ``from`` after ``to``, garbage) is left out,
with a short notice, never an error. Parameters that are not the filter bar's, such as a page's
own drill-down choice, are left alone, also by "Reset filters". The parsing is
:mod:`coalition.ui.query_state`.

Why it is built this way: Streamlit forgets the value of a widget that a run does not draw, and
with ``st.navigation`` the same widget on another page is a new widget. So the choices live in
``st.session_state[STATE]``, a key that is no widget's, as one
:class:`~coalition.ui.query_state.FilterState`; every run draws the widgets starting from it
(the widget keys are ``KEYS``) and keeps what they return. The address is read once, when the
session starts (opening a link or reloading the page); from then on the session's choices are
the truth and every run writes them back (a page switch drops the query string).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from coalition import store
from coalition.charts import quarter_range
from coalition.i18n import N_, format_percent, region_name, species_name, t
from coalition.ui import data
from coalition.ui.query_state import LISTS, PARAMS, Choices, FilterState, from_query, to_query
from metrics import Filters, Target
from metrics.filters import month_bounds, quarter_of

STATE = "_filter_state"
KEYS = {
    "period": "filter_period",
    "sectors": "filter_sectors",
    "partners": "filter_partners",
    "platforms": "filter_platforms",
    "species": "filter_species",
    "regions": "filter_regions",
    "target": "filter_target",
}

SECTOR_LABELS = {
    "e-commerce": N_("E-commerce"),
    "social-media": N_("Social media"),
    "search": N_("Search"),
    "other": N_("Other"),
}


def _choices(options: data.FilterOptions) -> Choices:
    quarters: list[str] = []
    if options.first_month:
        quarters = quarter_range(
            quarter_of(month_bounds(options.first_month)[0]),
            quarter_of(month_bounds(options.last_month)[0]),
        )
    return Choices(
        quarters=tuple(quarters),
        sectors=tuple(store.SECTORS),
        partners=tuple(options.partners["slug"]),
        platforms=tuple(options.platforms["name"]),
        species=tuple(options.species_groups["slug"]),
        regions=tuple(options.regions),
        targets=tuple(target.name for target in options.targets),
    )


def _kept_state(choices: Choices) -> FilterState:
    """The session's choices; at its start, the ones the address names."""
    kept = st.session_state.get(STATE)
    if isinstance(kept, FilterState):
        return kept.within(choices)
    state, ignored = from_query(
        {name: st.query_params.get_all(name) for name in PARAMS.values()}, choices
    )
    if ignored:
        st.toast(
            t(
                "Left out of the link, as the data offers no such choice: {items}",
                items=", ".join(ignored),
            ),
            icon=":material/link_off:",
        )
    return state


def _write_address(state: FilterState, choices: Choices) -> None:
    """Put the choices into the query string, touching no parameter that is not ours."""
    for name, values in to_query(state, choices).items():
        if st.query_params.get_all(name) == values:
            continue
        if values:
            st.query_params[name] = values if len(values) > 1 else values[0]
        else:
            del st.query_params[name]


def _widget_values(state: FilterState, choices: Choices) -> dict[str, object]:
    """What each drawn widget shows for ``state``, by its name in ``KEYS``."""
    values: dict[str, object] = {name: list(getattr(state, name)) for name in LISTS}
    if len(choices.quarters) > 1:
        values["period"] = (
            state.period_from or choices.quarters[0],
            state.period_to or choices.quarters[-1],
        )
    if len(choices.targets) > 1:
        values["target"] = state.target or choices.targets[0]
    return values


def _widget_options(choices: Choices) -> dict[str, tuple[str, ...]]:
    return {
        **{name: getattr(choices, name) for name in LISTS},
        "period": choices.quarters,
        "target": choices.targets,
    }


def _reset(choices: Choices) -> None:
    st.session_state[STATE] = FilterState()
    # assigned, not deleted: a deleted widget value is forgotten on the server while the
    # browser goes on showing the old choice
    for name, value in _widget_values(FilterState(), choices).items():
        st.session_state[KEYS[name]] = value


def _drop_stale(kept: FilterState, choices: Choices) -> None:
    """Put a widget that shows a choice the data no longer offers (a quarter, a target
    removed) back to the kept choices, which hold only what the data offers."""
    options = _widget_options(choices)
    for name, value in _widget_values(kept, choices).items():
        shown = st.session_state.get(KEYS[name])
        if shown is None:
            continue
        shown = shown if isinstance(shown, list | tuple) else [shown]
        if any(v not in options[name] for v in shown):
            st.session_state[KEYS[name]] = value


def _multiselect(
    label: str, name: str, options: Sequence[str], chosen: tuple, labels: dict | None = None
) -> tuple[str, ...]:
    # `default` is the kept choice: what a new widget (on another page) starts from
    picked = st.multiselect(
        label,
        options,
        default=list(chosen) or None,
        format_func=(lambda v: labels.get(v, v)) if labels else str,
        key=KEYS[name],
        placeholder=t("All"),
    )
    return tuple(sorted(picked))


def _period(quarters: Sequence[str], state: FilterState) -> tuple[str | None, str | None]:
    """The chosen quarters, as (from, to); None at an end of the data means "open"."""
    if not quarters:
        st.caption(t("No data yet."))
        return None, None
    if len(quarters) == 1:
        st.caption(t("Period: {period}", period=quarters[0]))
        return None, None
    start, end = st.select_slider(
        t("Period"),
        options=quarters,
        value=(state.period_from or quarters[0], state.period_to or quarters[-1]),
        key=KEYS["period"],
        help=t("Every figure is as of the end of the last quarter chosen."),
    )
    return start, end


def _target(targets: list[Target], chosen: str | None) -> Target | None:
    if not targets:
        return None
    if len(targets) == 1:
        st.caption(_target_text(targets[0]))
        return targets[0]
    by_name = {target.name: target for target in targets}
    names = list(by_name)
    name = st.selectbox(
        t("Target"),
        names,
        index=names.index(chosen) if chosen in by_name else 0,
        format_func=lambda n: _target_text(by_name[n]),
        key=KEYS["target"],
    )
    return by_name[name]


def _target_text(target: Target) -> str:
    return t(
        "Target: {reduction} reduction by {deadline}",
        reduction=format_percent(target.reduction, 0),
        deadline=target.deadline.isoformat(),
    )


def filter_bar(src: data.Source) -> tuple[Filters, Target | None]:
    """Draw the filters in the sidebar; return what they select and the target to measure by
    (the default target unless another is chosen; None only if no target is configured)."""
    options = data.filter_options(src)
    choices = _choices(options)
    kept = _kept_state(choices)
    _drop_stale(kept, choices)
    species = options.species_groups
    partners = options.partners
    with st.sidebar:
        st.header(t("Filters"))
        period_from, period_to = _period(choices.quarters, kept)
        sectors = _multiselect(
            t("Sector"),
            "sectors",
            choices.sectors,
            kept.sectors,
            {k: t(v) for k, v in SECTOR_LABELS.items()},
        )
        chosen_partners = _multiselect(
            t("Partner"),
            "partners",
            choices.partners,
            kept.partners,
            dict(zip(partners["slug"], partners["name"], strict=True)),
        )
        platforms = _multiselect(t("Platform"), "platforms", choices.platforms, kept.platforms)
        species_groups = _multiselect(
            t("Species group"),
            "species",
            choices.species,
            kept.species,
            {row["slug"]: species_name(row) for row in species.to_dict("records")},
        )
        regions = _multiselect(
            t("Region"),
            "regions",
            choices.regions,
            kept.regions,
            {region: region_name(region) for region in choices.regions},
        )
        target = _target(options.targets, kept.target)
        include_submitted = data.current_viewer().sees_everything and st.toggle(
            t("Include submitted data"),
            key="filter_include_submitted",
            help=t(
                "Count submissions awaiting review as if accepted (in place of the figures "
                "they would replace). Only the secretariat sees this; everyone else sees "
                "accepted data only."
            ),
        )
        st.button(t("Reset filters"), on_click=_reset, args=(choices,), type="tertiary")
    state = FilterState(
        period_from=period_from,
        period_to=period_to,
        sectors=sectors,
        partners=chosen_partners,
        platforms=platforms,
        species=species_groups,
        regions=regions,
        target=target.name if target else None,
    ).within(choices)  # the data's own ends become open ends, as on the command line
    st.session_state[STATE] = state
    _write_address(state, choices)
    filters = Filters(
        period_from=state.period_from,
        period_to=state.period_to,
        partners=state.partners,
        platforms=state.platforms,
        species_groups=state.species,
        regions=state.regions,
        sectors=state.sectors,
        include_submitted=include_submitted,
    )
    return filters, target
