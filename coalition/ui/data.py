"""Where the pages get their numbers: the ``metrics`` functions, cached by Streamlit.

Every cached function is keyed on the database (its path and its data version, which every
write bumps, so a new upload or a command-line load shows at the next rerun) and on its
arguments: a :class:`metrics.Filters`, the breakdown ``by``, the ``grain`` and the
:class:`metrics.Target` — frozen dataclasses, so equal filters hit the same cache entry. The
database is read through :class:`coalition.db.Database`, which shares one open instance among
the threads of the app and releases the file when idle.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import wraps

import duckdb
import pandas as pd
import streamlit as st

import metrics
from coalition import charts_regions, migrate, store
from coalition.db import Database, DatabaseNotInitialised, resolve_path
from coalition.i18n import get_language, t
from coalition.template import build_template
from coalition.validation import Validation, validate
from metrics import rollups
from metrics.reduction import in_range

logger = logging.getLogger(__name__)

# Long enough to wait out a short command-line load, short enough to tell the user soon.
RETRY_SECONDS = 10.0
# The file stays open this long after a query, so that the queries of one page run share one
# opening (each costs 0.2-0.3 s and empties DuckDB's cache); a command-line load waits at most
# this much longer.
LINGER_SECONDS = 2.0
# Results kept per cached function: every filter combination is an entry, and a new data
# version makes new ones, so the oldest are let go.
MAX_ENTRIES = 200


class DatabaseUnreadable(RuntimeError):
    """The file exists but DuckDB cannot read it (not a database, or a newer format)."""


@dataclass(frozen=True)
class Source:
    """One state of one database: its path and the data version read at the start of a run."""

    path: str
    version: int

    @property
    def db(self) -> Database:
        return Database(self.path, retry_seconds=RETRY_SECONDS, linger_seconds=LINGER_SECONDS)


def source() -> Source:
    """The database this run reads, with its current data version.

    Raises :class:`DatabaseNotInitialised` when there is no database or it has no schema,
    :class:`DatabaseUnreadable` when the file is not one DuckDB can read, and
    :class:`coalition.db.DatabaseBusy` when another process holds it too long.
    """
    # lingering like the page's queries: the signed-in user's lookup and the page's first
    # query then use this opening of the file instead of opening it again
    db = Database(resolve_path(), retry_seconds=RETRY_SECONDS, linger_seconds=LINGER_SECONDS)
    if not db.exists:
        raise DatabaseNotInitialised(str(db.path))
    try:
        with db.read() as cur:  # one opening of the file for every question
            try:  # the schema's version and the data's, in one query (this runs every run)
                values = dict(cur.execute(_VERSIONS, {"stamp": rollups.STAMP_KEY}).fetchall())
            except duckdb.CatalogException:  # no meta table: no schema
                raise DatabaseNotInitialised(str(db.path)) from None
            schema = values.get("schema_version")
            if schema is None:
                raise DatabaseNotInitialised(str(db.path))
            version = int(values["data_version"]) if "data_version" in values else 0
            stamp = values.get(rollups.STAMP_KEY)
            if (int(schema) if schema else 0) != migrate.latest_version() or (
                stamp is not None and not stamp.startswith(rollups.FORMAT + ":")
            ):
                # a database from an older release is brought up to date: its schema, and
                # its pre-aggregated tables, without which every page reads the records
                _upgrade(db)
                version = db.data_version()
            return Source(str(db.path.resolve()), version)
    except duckdb.Error as exc:
        raise DatabaseUnreadable(str(exc)) from exc


_VERSIONS = "SELECT key, value FROM meta WHERE key IN ('schema_version', 'data_version', $stamp)"

# One upgrade at a time in this process. The sessions that open the app while one of them
# brings an older database up to date wait here for it; queueing for the write instead, they
# would give up as "busy" after RETRY_SECONDS, and a rebuild takes a minute or more at
# millions of records.
_UPGRADING = threading.Lock()


def _upgrade(db: Database) -> None:
    waiting = t(
        "The tracker has been updated: bringing the database up to date. At millions of "
        "records this takes a minute or more; the page opens when it is done."
    )
    with st.spinner(waiting, show_time=True), _UPGRADING:
        migrate.upgrade(db)  # nothing to do when another session has just done it


_CURRENT = "_coalition_source"
_VIEWER = "_coalition_viewer"
_WITHHELD = "_coalition_withheld"


def set_current(src: Source) -> None:
    """Remember the source that the entry point checked, for the page of this run."""
    st.session_state[_CURRENT] = src


def current() -> Source:
    """The source checked by the entry point at the start of this run (see ``app.py``)."""
    return st.session_state[_CURRENT]


def set_viewer(viewer: metrics.Viewer) -> None:
    """Remember whose eyes this run's figures are for: the signed-in account's viewer, set by
    the entry point (``app.py``) at the start of every run."""
    st.session_state[_VIEWER] = viewer


def current_viewer() -> metrics.Viewer:
    """The viewer of this run; an observer (aggregates only) when none was set."""
    return st.session_state.get(_VIEWER, metrics.OBSERVER)


def as_viewer(filters: metrics.Filters) -> metrics.Filters:
    """``filters`` for this run's viewer, whatever viewer the page put in them: a page cannot
    widen what its user may see. Only the observer view, the narrowest, may be asked for by
    any page (the presentation mode does)."""
    if filters.viewer == metrics.OBSERVER:
        return filters
    return replace(filters, viewer=current_viewer())


def viewed(cached: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """Wrap a cached indicator so that its filters always carry this run's viewer."""

    @wraps(cached)
    def wrapper(src: Source, filters: metrics.Filters, **kwargs) -> pd.DataFrame:
        frame = cached(src, as_viewer(filters), **kwargs)
        if "withheld" in frame.columns and frame["withheld"].any():
            st.session_state[_WITHHELD] = True
        return frame

    wrapper.cached = cached  # type: ignore[attr-defined]  # for ask_ahead
    return wrapper


def start_run() -> None:
    """Forget what the previous run withheld (called by the entry point before a page runs)."""
    st.session_state[_WITHHELD] = False


def withheld_in_this_run() -> bool:
    """True when a figure that this run's page asked for was withheld from its viewer."""
    return bool(st.session_state.get(_WITHHELD, False))


@dataclass(frozen=True)
class FilterOptions:
    """What the filter bar offers: the reference lists and the quarters that have data."""

    first_month: str | None
    last_month: str | None
    partners: pd.DataFrame
    platforms: pd.DataFrame
    species_groups: pd.DataFrame
    regions: list[str]
    targets: list[metrics.Target]


def filter_options(src: Source) -> FilterOptions:
    """What the filter bar offers this run's viewer: a partner or an observer can pick only
    partners (and their platforms) that consented to be named, and a partner its own too."""
    return _filter_options(src, current_viewer())


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def _filter_options(src: Source, viewer: metrics.Viewer) -> FilterOptions:
    with src.db.read() as cur:
        months = store.data_months(cur)
        partners = store.partners(cur)
        if not viewer.sees_everything:
            partners = partners[partners["consent_to_name"] | (partners["slug"] == viewer.partner)]
        platforms = store.platforms(cur)
        return FilterOptions(
            first_month=months[0] if months else None,
            last_month=months[1] if months else None,
            partners=partners.reset_index(drop=True),
            platforms=platforms[platforms["partner"].isin(partners["slug"])].reset_index(drop=True),
            species_groups=store.species_groups(cur),
            regions=store.regions(cur),
            targets=metrics.targets(cur),
        )


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def is_synthetic(src: Source) -> bool:
    with src.db.read() as cur:
        return store.is_synthetic(cur)


@viewed
@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def progress(
    src: Source,
    filters: metrics.Filters,
    *,
    by: str | None = None,
    target: metrics.Target | None = None,
) -> pd.DataFrame:
    series = _reduction_history(src, filters, by)
    totals = actions.__wrapped__(src, filters, by=by, grain=None)
    with src.db.read() as cur:
        return metrics.progress(cur, filters, by=by, target=target, series=series, totals=totals)


@viewed
@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def projection(
    src: Source,
    filters: metrics.Filters,
    *,
    by: str | None = None,
    target: metrics.Target | None = None,
) -> pd.DataFrame:
    series = _reduction_history(src, filters, by)
    with src.db.read() as cur:
        return metrics.projection(cur, filters, by=by, target=target, series=series)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def _reduction_history(src: Source, filters: metrics.Filters, by: str | None) -> pd.DataFrame:
    """The whole-history reduction series: the costliest query, shared by the reduction
    chart, progress and projection of the same filters (called with the viewer applied)."""
    with src.db.read() as cur:
        return metrics.reduction_series(cur, filters, by=by, whole_history=True)


@viewed
def reduction_series(
    src: Source, filters: metrics.Filters, *, by: str | None = None
) -> pd.DataFrame:
    return in_range(_reduction_history(src, filters, by), filters)


@viewed
@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def actions(
    src: Source, filters: metrics.Filters, *, by: str | None = None, grain: str | None = "quarter"
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.actions(cur, filters, by=by, grain=grain)


@viewed
@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def reporting_coverage(
    src: Source, filters: metrics.Filters, *, by: str | None = None, grain: str = "quarter"
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.reporting_coverage(cur, filters, by=by, grain=grain)


@viewed
@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def proactive_share(
    src: Source, filters: metrics.Filters, *, by: str | None = None, grain: str | None = "quarter"
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.proactive_share(cur, filters, by=by, grain=grain)


@viewed
@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def detection_rate(
    src: Source, filters: metrics.Filters, *, by: str | None = None, grain: str | None = "quarter"
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.detection_rate(cur, filters, by=by, grain=grain)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def _area_breakdown(
    src: Source,
    filters: metrics.Filters,
    level: str,
    target: metrics.Target | None,
    with_progress: bool,
    language: str,
) -> tuple[pd.DataFrame, bool]:
    # ``language``: the table names the global row and the countries in it
    frames = [
        actions.cached(src, filters, by=level, grain=None),
        detection_rate.cached(src, filters, by=level, grain=None),
        progress.cached(src, filters, by=level, target=target) if with_progress else None,
    ]
    withheld = any(
        f is not None and "withheld" in f.columns and bool(f["withheld"].any()) for f in frames
    )
    table = charts_regions.breakdown_table(level, *frames, countries=countries(src))
    return table, withheld


def area_breakdown(
    src: Source,
    filters: metrics.Filters,
    level: str,
    *,
    target: metrics.Target | None = None,
    with_progress: bool = True,
) -> pd.DataFrame:
    """The Regions page's table for ``level`` (:func:`coalition.charts_regions.breakdown_table`
    of actions, detection and, ``with_progress``, progress to ``target``), for this run's
    viewer and language: put together once per data version and kept, so that a rerun reads
    one table instead of three and merging them again."""
    table, withheld = _area_breakdown(
        src,
        as_viewer(filters),
        level,
        target if with_progress else None,
        with_progress,
        get_language(),
    )
    if withheld:
        st.session_state[_WITHHELD] = True
    return table


# --- Asking ahead ----------------------------------------------------------------------------

# A page asks for its figures one at a time and draws each before it asks for the next. A
# query spends its time inside DuckDB, which lets go of Python's lock, so while the page draws
# (Python) the next figures can be worked out on the other core. These threads do that.
AHEAD_WORKERS = 2
# What was asked for already (an indicator with its arguments, for one data version), most
# recent last: asking again would only read the cache a second time, a third of a warm rerun.
MAX_ASKED = 2_000
_ahead = ThreadPoolExecutor(max_workers=AHEAD_WORKERS, thread_name_prefix="coalition-ahead")
_running: set[Future[None]] = set()
_asked: OrderedDict[tuple, None] = OrderedDict()
_lock = threading.Lock()


def ask_ahead(
    indicator: Callable[..., pd.DataFrame], src: Source, filters: metrics.Filters, **kwargs
) -> None:
    """Start working out ``indicator(src, filters, **kwargs)`` in the background, for this
    run's viewer; ``indicator`` is one of this module's (``actions``, ``progress``, …).

    When the page then calls it with the same arguments, Streamlit's cache hands over the
    result, or makes the call wait for the thread to finish it rather than start it again.
    What was asked for once (and so is in the cache, unless it has been pushed out since) is
    not asked for again. A failure here is only logged: the page's own call meets it again
    and shows it."""
    cached = indicator.cached  # type: ignore[attr-defined]
    filters = as_viewer(filters)
    key = (cached, src, filters, tuple(sorted(kwargs.items())))
    with _lock:
        if key in _asked:
            _asked.move_to_end(key)
            return
        _asked[key] = None
        if len(_asked) > MAX_ASKED:
            _asked.popitem(last=False)
        future = _ahead.submit(_work_out, key, cached, src, filters, kwargs)
        _running.add(future)
    future.add_done_callback(_done)


def _work_out(key: tuple, cached: Callable[..., pd.DataFrame], src: Source, filters, kwargs):
    try:
        cached(src, filters, **kwargs)
    except Exception:  # noqa: BLE001 - reported by the page's own call
        logger.debug("Working out a figure ahead failed", exc_info=True)
        with _lock:
            _asked.pop(key, None)  # not in the cache: may be asked for again


def _done(future: Future[None]) -> None:
    with _lock:
        _running.discard(future)


def settle(timeout: float | None = None) -> None:
    """Wait for the figures asked for ahead to be worked out."""
    with _lock:
        futures = list(_running)
    wait(futures, timeout)


def clear_caches() -> None:
    """Empty the figure caches, as new data would (tests, benchmarks): once what was asked for
    ahead has landed in them, so that nothing lands after; and forget what was asked for."""
    settle()
    with _lock:
        _asked.clear()
    st.cache_data.clear()


# --- Submitting data -------------------------------------------------------------------------

# An upload's check holds its rows: keep few.
MAX_UPLOADS = 8


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def countries(src: Source) -> pd.DataFrame:
    with src.db.read() as cur:
        return store.countries(cur)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def template(src: Source, partner: str, lang: str, today: dt.date) -> bytes:
    """The partner's template (see :func:`coalition.template.build_template`), dated ``today``.

    Raises :class:`coalition.store.StoreError` for a partner without platforms."""
    with src.db.read() as cur:
        return build_template(cur, partner, lang, today=today)


@dataclass(frozen=True)
class UploadCheck:
    """What an upload would do: its validation, and the submission that already loaded these
    very bytes (None if none did)."""

    validation: Validation
    loaded_as: int | None


@st.cache_data(show_spinner=False, max_entries=MAX_UPLOADS)
def check_upload(
    src: Source, partner: str, file_name: str, content: bytes, today: dt.date, lang: str = "en"
) -> UploadCheck:
    """Validate an upload for ``partner``; writes nothing. Keyed on the data version too: a
    write (this upload's own submission among them) can change the warnings; and on the
    language the messages are written in (the one set for this run)."""
    with src.db.read() as cur:
        result = validate(cur, partner, content, file_name, today=today)
        return UploadCheck(result, store.submission_of_file(cur, partner, result.report.sha256))


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def submissions(src: Source, partner: str) -> pd.DataFrame:
    with src.db.read() as cur:
        return store.submissions(cur, partner)
