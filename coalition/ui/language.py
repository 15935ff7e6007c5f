"""The language switcher in the sidebar, and names of things in the chosen language.

The chosen language is ``st.session_state["language"]`` (:data:`KEY`), a code of
:data:`coalition.i18n.LANGUAGES`; ``app.py`` hands it to :func:`coalition.i18n.set_language` at
the start of every run. A signed-in user's choice is also saved with the account
(``users.language``) and put back into the session at the next sign-in
(:func:`coalition.ui.session.sign_in_form`), so it follows the user to another browser.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coalition import auth, charts_regions, i18n
from coalition.db import DatabaseBusy
from coalition.i18n import species_name, t
from coalition.ui import data

KEY = "language"  # the chosen language (kept when signing out: see session.KEPT_ON_SIGN_OUT)
WIDGET_KEY = "language_switcher"


def chosen_language() -> str:
    """The language of this session: its choice if it is one of the offered languages, else
    English."""
    code = i18n.normalise_language(st.session_state.get(KEY))
    return code if code in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def language_label(code: str) -> str:
    """A language named in itself; French and Spanish marked as partial (in the reader's
    language), since what they do not translate yet shows in English."""
    name = i18n.LANGUAGES.get(code, code)
    if code in i18n.PARTIAL_LANGUAGES:
        return t("{language} (partial)", language=name)
    return name


def _save(user_name: str | None) -> None:
    """The switcher's on_change: the new choice holds from this run on (callbacks run before
    the script), and is saved with a signed-in user's account."""
    code = st.session_state[WIDGET_KEY]
    st.session_state[KEY] = code
    i18n.set_language(code)
    if user_name is None:
        return
    try:
        db = data.current().db
        with db.write(changes_figures=False) as cur:
            auth.set_language(cur, user_name, code)
    except (KeyError, DatabaseBusy, auth.AuthError):
        # a preference: if it cannot be saved now, it still holds for this session
        pass


def language_switcher(user: auth.User | None = None) -> str:
    """A language selectbox in the sidebar; returns the language of this run (and sets it).

    ``user`` is the signed-in account (None before signing in): its choice is saved with it.
    """
    code = chosen_language()
    st.session_state[KEY] = code
    if st.session_state.get(WIDGET_KEY) != code:
        # e.g. the account's language, restored at sign-in: the widget follows it
        st.session_state[WIDGET_KEY] = code
    i18n.set_language(code)
    st.sidebar.selectbox(
        t("Language"),
        list(i18n.LANGUAGES),
        format_func=language_label,
        key=WIDGET_KEY,
        on_change=_save,
        args=(user.name if user else None,),
    )
    return code


# --- Names in the chosen language -------------------------------------------------------------


def with_species_names(species: pd.DataFrame) -> pd.DataFrame:
    """``species`` (``store.species_groups``: ``slug``, ``name_en``, ``name_zh``, …) with a
    ``name`` column in the current language."""
    return species.assign(name=[species_name(row) for row in species.to_dict("records")])


def with_country_names(countries: pd.DataFrame) -> pd.DataFrame:
    """``countries`` (``store.countries``: ``iso3``, ``name_en``, …) with a ``name`` column in
    the current language (the English name where the tracker has none)."""
    return countries.assign(name=countries["iso3"].map(charts_regions.country_names(countries)))
