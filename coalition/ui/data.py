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
from dataclasses import dataclass

import duckdb
import pandas as pd
import streamlit as st

import metrics
from coalition import migrate, store
from coalition.db import Database, DatabaseNotInitialised, resolve_path
from coalition.template import build_template
from coalition.validation import Validation, validate

# Long enough to wait out a short command-line load, short enough to tell the user soon.
RETRY_SECONDS = 10.0
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
        return Database(self.path, retry_seconds=RETRY_SECONDS)


def source() -> Source:
    """The database this run reads, with its current data version.

    Raises :class:`DatabaseNotInitialised` when there is no database or it has no schema,
    :class:`DatabaseUnreadable` when the file is not one DuckDB can read, and
    :class:`coalition.db.DatabaseBusy` when another process holds it too long.
    """
    db = Database(resolve_path(), retry_seconds=RETRY_SECONDS)
    if not db.exists:
        raise DatabaseNotInitialised(str(db.path))
    try:
        with db.read():  # one opening of the file for both questions
            if not store.is_initialised(db):
                raise DatabaseNotInitialised(str(db.path))
            migrate.upgrade(db)  # a database from an older release is brought up to date
            return Source(str(db.path.resolve()), db.data_version())
    except duckdb.Error as exc:
        raise DatabaseUnreadable(str(exc)) from exc


_CURRENT = "_coalition_source"


def set_current(src: Source) -> None:
    """Remember the source that the entry point checked, for the page of this run."""
    st.session_state[_CURRENT] = src


def current() -> Source:
    """The source checked by the entry point at the start of this run (see ``app.py``)."""
    return st.session_state[_CURRENT]


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


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def filter_options(src: Source) -> FilterOptions:
    with src.db.read() as cur:
        months = store.data_months(cur)
        return FilterOptions(
            first_month=months[0] if months else None,
            last_month=months[1] if months else None,
            partners=store.partners(cur),
            platforms=store.platforms(cur),
            species_groups=store.species_groups(cur),
            regions=store.regions(cur),
            targets=metrics.targets(cur),
        )


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def is_synthetic(src: Source) -> bool:
    with src.db.read() as cur:
        return store.is_synthetic(cur)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def progress(
    src: Source,
    filters: metrics.Filters,
    *,
    by: str | None = None,
    target: metrics.Target | None = None,
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.progress(cur, filters, by=by, target=target)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def projection(
    src: Source,
    filters: metrics.Filters,
    *,
    by: str | None = None,
    target: metrics.Target | None = None,
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.projection(cur, filters, by=by, target=target)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def reduction_series(
    src: Source, filters: metrics.Filters, *, by: str | None = None
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.reduction_series(cur, filters, by=by)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def actions(
    src: Source, filters: metrics.Filters, *, by: str | None = None, grain: str | None = "quarter"
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.actions(cur, filters, by=by, grain=grain)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def reporting_coverage(
    src: Source, filters: metrics.Filters, *, by: str | None = None, grain: str = "quarter"
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.reporting_coverage(cur, filters, by=by, grain=grain)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def proactive_share(
    src: Source, filters: metrics.Filters, *, by: str | None = None, grain: str | None = "quarter"
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.proactive_share(cur, filters, by=by, grain=grain)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def detection_rate(
    src: Source, filters: metrics.Filters, *, by: str | None = None, grain: str | None = "quarter"
) -> pd.DataFrame:
    with src.db.read() as cur:
        return metrics.detection_rate(cur, filters, by=by, grain=grain)


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
    src: Source, partner: str, file_name: str, content: bytes, today: dt.date
) -> UploadCheck:
    """Validate an upload for ``partner``; writes nothing. Keyed on the data version too: a
    write (this upload's own submission among them) can change the warnings."""
    with src.db.read() as cur:
        result = validate(cur, partner, content, file_name, today=today)
        return UploadCheck(result, store.submission_of_file(cur, partner, result.report.sha256))


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def submissions(src: Source, partner: str) -> pd.DataFrame:
    with src.db.read() as cur:
        return store.submissions(cur, partner)
