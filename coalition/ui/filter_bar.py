"""The filters every analysis page shares, drawn in the sidebar.

Each widget keeps its value in ``st.session_state`` under a stable key (``KEYS``), kept for the
whole session, so a choice made on one page holds on the next. Empty choices mean "all".
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from coalition import store
from coalition.charts import quarter_range
from coalition.i18n import N_, format_percent, get_language, t
from coalition.ui import data
from metrics import Filters, Target
from metrics.filters import month_bounds, quarter_of

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


def _reset() -> None:
    for key in KEYS.values():
        st.session_state.pop(key, None)


def _drop_stale(key: str, options: Sequence[object]) -> None:
    """Forget a kept choice that the data no longer offers (a quarter, a partner removed)."""
    value = st.session_state.get(key)
    if value is None:
        return
    chosen = value if isinstance(value, list | tuple) else [value]
    if any(v not in options for v in chosen):
        del st.session_state[key]


def _multiselect(label: str, name: str, options: list, labels: dict | None = None) -> tuple:
    key = KEYS[name]
    _drop_stale(key, options)
    chosen = st.multiselect(
        label,
        options,
        format_func=(lambda v: labels.get(v, v)) if labels else str,
        key=key,
        placeholder=t("All"),
        persist_state="session",
    )
    return tuple(sorted(chosen))


def _period(first_month: str | None, last_month: str | None) -> tuple[str | None, str | None]:
    """The chosen quarters, as (from, to); None at an end of the data means "open"."""
    if not first_month:
        st.caption(t("No data yet."))
        return None, None
    quarters = quarter_range(
        quarter_of(month_bounds(first_month)[0]), quarter_of(month_bounds(last_month)[0])
    )
    if len(quarters) == 1:
        st.caption(t("Period: {period}", period=quarters[0]))
        return None, None
    _drop_stale(KEYS["period"], quarters)
    start, end = st.select_slider(
        t("Period"),
        options=quarters,
        value=(quarters[0], quarters[-1]),
        key=KEYS["period"],
        persist_state="session",
        help=t("Every figure is as of the end of the last quarter chosen."),
    )
    # the whole range is no restriction at all, as on the command line without --from/--to
    return (None if start == quarters[0] else start), (None if end == quarters[-1] else end)


def _target(targets: list[Target]) -> Target | None:
    if not targets:
        return None
    if len(targets) == 1:
        st.caption(_target_text(targets[0]))
        return targets[0]
    by_name = {target.name: target for target in targets}
    _drop_stale(KEYS["target"], list(by_name))
    name = st.selectbox(
        t("Target"),
        list(by_name),
        format_func=lambda n: _target_text(by_name[n]),
        key=KEYS["target"],
        persist_state="session",
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
    name_column = "name_zh" if get_language().startswith("zh") else "name_en"
    species = options.species_groups
    partners = options.partners
    with st.sidebar:
        st.header(t("Filters"))
        period_from, period_to = _period(options.first_month, options.last_month)
        sectors = _multiselect(
            t("Sector"), "sectors", list(store.SECTORS), {k: t(v) for k, v in SECTOR_LABELS.items()}
        )
        chosen_partners = _multiselect(
            t("Partner"),
            "partners",
            list(partners["slug"]),
            dict(zip(partners["slug"], partners["name"], strict=True)),
        )
        platforms = _multiselect(t("Platform"), "platforms", list(options.platforms["name"]))
        species_groups = _multiselect(
            t("Species group"),
            "species",
            list(species["slug"]),
            dict(zip(species["slug"], species[name_column], strict=True)),
        )
        regions = _multiselect(t("Region"), "regions", options.regions)
        target = _target(options.targets)
        st.button(t("Reset filters"), on_click=_reset, type="tertiary")
    filters = Filters(
        period_from=period_from,
        period_to=period_to,
        partners=chosen_partners,
        platforms=platforms,
        species_groups=species_groups,
        regions=regions,
        sectors=sectors,
    )
    return filters, target
