"""Coalition Progress Tracker — the Streamlit entry point: ``streamlit run app.py``.

Sets the page up, checks the database, finds who is signed in, shows the synthetic-data
banner, and runs the chosen page. The pages, and the roles that may open each, are listed once,
in ``coalition/ui/navigation.py``: ``st.navigation`` gets only the pages of the signed-in
role, so a page a role may not see cannot be reached by its URL either.
"""

from __future__ import annotations

import streamlit as st

from coalition.db import DatabaseBusy, DatabaseNotInitialised, resolve_path
from coalition.i18n import set_language, t
from coalition.migrate import SchemaTooNew
from coalition.ui import data, heap, language, navigation, session
from metrics import OBSERVER
from metrics.access import OTHER

PROBLEMS = (DatabaseNotInitialised, DatabaseBusy, data.DatabaseUnreadable, SchemaTooNew)


def explain(problem: Exception) -> None:
    """Tell the user what is wrong with the database and what to do, instead of a traceback."""
    if isinstance(problem, data.DatabaseUnreadable):
        st.error(
            t(
                "The file `{path}` is not a tracker database that this version can read "
                "({error}). Point `COALITION_DB` at the right file, or create a new one with "
                "`coalition init`.",
                path=resolve_path(),
                error=problem,
            ),
            icon=":material/database:",
        )
        return
    if isinstance(problem, SchemaTooNew):
        st.error(str(problem), icon=":material/database:")
        return
    if isinstance(problem, DatabaseBusy):
        st.warning(
            t(
                "The database is busy: another process (probably a command-line load) is "
                "writing to it. Wait for it to finish, then reload this page."
            ),
            icon=":material/hourglass_top:",
        )
        return
    st.error(
        t("There is no tracker database at `{path}` yet.", path=resolve_path()),
        icon=":material/database:",
    )
    st.markdown(
        t(
            "Create it with `coalition init` (an empty database for real data) or "
            "`coalition demo` (synthetic demo data), then reload this page. The database is "
            "the file named by the `COALITION_DB` environment variable, else "
            "`data/coalition.duckdb` in the folder the app was started from."
        )
    )


heap.freeze_long_lived()  # once per process: see coalition/ui/heap.py
set_language(st.session_state.get("language", "en"))
# An emoji icon: the browser draws it; a Material icon would be fetched from Google's servers.
st.set_page_config(page_title=t("Coalition Progress Tracker"), page_icon="📉", layout="wide")
try:
    source = data.source()
except PROBLEMS as problem:
    explain(problem)
    st.stop()
data.set_current(source)
user = session.current_user()
language.language_switcher(user)  # sets this run's language (a change holds at once)
# every figure of this run is computed for this viewer (coalition.ui.data applies it)
data.set_viewer(user.viewer if user else OBSERVER)
page = st.navigation(navigation.pages(user), position="sidebar" if user else "hidden")
if user is not None:
    st.sidebar.caption(
        t("Signed in as {name} ({role})", name=user.name, role=session.role_label(user.role))
    )
if data.is_synthetic(source):
    st.warning(t("Synthetic demo data — not real coalition figures"), icon=":material/science:")
notice = st.empty()  # above the page: filled once the page has asked for its figures
data.start_run()
try:
    page.run()
except PROBLEMS as problem:  # e.g. a command-line load that started during this run
    explain(problem)
if data.withheld_in_this_run():
    notice.info(
        t(
            "Some figures are withheld: they would rest on one or two partners who have not "
            "consented to be named. Such groups are combined into “{other}”, and a figure "
            "that still rests on so few partners is left blank.",
            other=OTHER,
        ),
        icon=":material/visibility_off:",
    )
