"""Coalition Progress Tracker — the Streamlit entry point: ``streamlit run app.py``.

Sets the page up, checks the database, shows the synthetic-data banner, and runs the chosen
page. The pages are listed once, in ``pages()``.
"""

from __future__ import annotations

import streamlit as st

from coalition.db import DatabaseBusy, DatabaseNotInitialised, resolve_path
from coalition.i18n import set_language, t
from coalition.migrate import SchemaTooNew
from coalition.ui import data


def pages() -> list[st.Page]:
    """Every page of the app, in menu order."""
    return [
        st.Page(
            "views/overview.py", title=t("Overview"), icon=":material/monitoring:", default=True
        ),
        st.Page("views/platforms.py", title=t("Platforms"), icon=":material/storefront:"),
        st.Page("views/species.py", title=t("Species"), icon=":material/pets:"),
        st.Page("views/regions.py", title=t("Regions"), icon=":material/public:"),
        st.Page("views/submit.py", title=t("Submit data"), icon=":material/upload_file:"),
    ]


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


set_language(st.session_state.get("language", "en"))
# An emoji icon: the browser draws it; a Material icon would be fetched from Google's servers.
st.set_page_config(page_title=t("Coalition Progress Tracker"), page_icon="📉", layout="wide")
page = st.navigation(pages())
try:
    source = data.source()
except PROBLEMS as problem:
    explain(problem)
    st.stop()
data.set_current(source)
if data.is_synthetic(source):
    st.warning(t("Synthetic demo data — not real coalition figures"), icon=":material/science:")
try:
    page.run()
except PROBLEMS as problem:  # e.g. a command-line load that started during this run
    explain(problem)
