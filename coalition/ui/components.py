"""Small drawing helpers shared by the pages: a status badge, a chart with its download."""

from __future__ import annotations

import functools
import hashlib
import html
import pickle
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from coalition import theme
from coalition.i18n import format_count, get_language, t

# How many built figures the process keeps (every session shares them).
FIGURE_CACHE_ENTRIES = 256
# How many tables put together from the figures (components.derived) it keeps.
TABLE_CACHE_ENTRIES = 512


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


def _digest(value: Any) -> str | None:
    """A fingerprint of an input, or None when it cannot be taken. Its pickle: equal bytes
    make an equal object, and for a frame of a few hundred rows the pickle is four to ten
    times quicker than hashing its values (``pd.util.hash_pandas_object``). Two equal frames
    whose pickles differ (blocks laid out otherwise) only miss the cache."""
    try:
        return hashlib.sha256(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
    except Exception:  # noqa: BLE001 - an input we cannot fingerprint is simply not cached
        return None


def _call_key(
    func: Callable[..., Any], args: tuple = (), keywords: dict | None = None
) -> str | None:
    """What ``func(*args, **keywords)`` depends on: the function, its arguments and the
    language (labels are translated while it runs). ``None`` for a lambda or a closure,
    whose inputs cannot be seen, or an argument that cannot be fingerprinted."""
    keywords = dict(keywords or {})
    if isinstance(func, functools.partial):
        args, keywords = (*func.args, *args), {**func.keywords, **keywords}
        func = func.func
    name = getattr(func, "__qualname__", "")
    if "<lambda>" in name or "<locals>" in name or getattr(func, "__closure__", None):
        return None
    parts = [_digest(a) for a in args]
    parts += [_digest((k, v)) for k, v in sorted(keywords.items())]
    if any(p is None for p in parts):
        return None
    return ":".join([func.__module__, name, get_language(), *parts])  # type: ignore[list-item]


@st.cache_resource(max_entries=FIGURE_CACHE_ENTRIES, show_spinner=False)
def _built_figure(key: str, _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def figure_for(table: pd.DataFrame, figure: Callable[[pd.DataFrame], go.Figure]) -> go.Figure:
    """``figure(table)``, built once per input and language and then shared by every run
    and session (a rerun after a click redraws the same charts without rebuilding them).

    Pass a module-level function or a :func:`functools.partial` of one, so that every input
    is visible; a lambda is built on every run. The figure returned is shared: do not change
    it."""
    theme.make_default()  # again: Streamlit sets its own when it first draws a chart
    key = _call_key(figure, (table,))  # a partial's own arguments come first, as in the call
    if key is None:
        return figure(table)
    return _built_figure(key, lambda: figure(table))


@st.cache_data(max_entries=TABLE_CACHE_ENTRIES, show_spinner=False)
def _derived(key: str, _build: Callable[[], Any]) -> Any:
    return _build()


def derived(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)``, worked out once per input and language and then read from
    the cache (a copy each time, so the caller may change it): for the tables that a page
    puts together from its figures, which a rerun after a click would otherwise put together
    again. ``func`` must depend on its arguments and the language only; pass a module-level
    function, as to :func:`figure_for`."""
    key = _call_key(func, args, kwargs)
    if key is None:
        return func(*args, **kwargs)
    return _derived(key, lambda: func(*args, **kwargs))


def chart(
    table: pd.DataFrame,
    figure: Callable[[pd.DataFrame], go.Figure],
    *,
    key: str,
    empty: str,
    alt: str,
) -> bool:
    """Draw ``figure(table)`` with a button to download ``table`` as CSV, or the ``empty``
    message instead when the table has no rows. Returns whether a chart was drawn.
    ``figure``: a chart function, or a :func:`functools.partial` of one with its other
    arguments (so that the figure can be reused, see :func:`figure_for`)."""
    if table.empty:
        st.info(empty, icon=":material/filter_alt_off:")
        return False
    st.plotly_chart(
        figure_for(table, figure),
        key=f"chart_{key}",
        theme=None,  # our own template (coalition.theme), not Streamlit's
        config={"displaylogo": False},
        alt=alt,
    )
    st.download_button(
        t("Download the table (CSV)"),
        data=functools.partial(csv_bytes, table),  # made when clicked, not on every run
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"download_{key}",
        icon=":material/download:",
        on_click="ignore",
    )
    return True
