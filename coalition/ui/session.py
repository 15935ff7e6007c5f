"""Who is signed in to this browser session, and for how long.

The session keeps the signed-in account in ``st.session_state``:

* ``"coalition_user"`` (:data:`USER_KEY`): a dict ``{"name", "role", "partner",
  "signed_in_at", "last_activity"}``; the two times are seconds since the epoch
  (``time.time()``). :func:`sign_in_as` puts one there (tests use it on an ``AppTest``'s
  ``session_state`` instead of filling in the form).
* ``"coalition_session_expired"`` (:data:`EXPIRED_KEY`): set when a session ran out, so that
  the sign-in form can say so.

A session ends after ``IDLE_TIMEOUT`` without a run (every click or page change is one), or
``MAX_AGE`` after signing in, whichever is first. Each run also re-reads the account, so a
disabled account or a changed role takes effect at once.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from coalition import auth
from coalition.db import Database
from coalition.i18n import N_, t
from coalition.ui import data

# Session policy, all in one place (seconds).
IDLE_TIMEOUT = 30 * 60
MAX_AGE = 12 * 60 * 60

USER_KEY = "coalition_user"
EXPIRED_KEY = "coalition_session_expired"
# Kept when signing out: the language chosen (the rest, e.g. the database and the viewer of
# the run, app.py sets again at the start of the next run).
LANGUAGE_KEY = "language"  # the chosen language (coalition.ui.language)
KEPT_ON_SIGN_OUT = (LANGUAGE_KEY,)

CREATE_FIRST_ACCOUNT = "coalition user add NAME --role secretariat"

ROLE_LABELS = {
    "secretariat": N_("Secretariat"),
    "partner": N_("Partner"),
    "observer": N_("Observer"),
}


def role_label(role: str) -> str:
    return t(ROLE_LABELS.get(role, role))


def is_expired(signed_in_at: float, last_activity: float, now: float) -> bool:
    """True when a session signed in at ``signed_in_at`` and last used at ``last_activity``
    has run out at ``now`` (idle too long, or open too long)."""
    return now - last_activity > IDLE_TIMEOUT or now - signed_in_at > MAX_AGE


def sign_in_as(
    session_state: MutableMapping[str, Any], user: auth.User, now: float | None = None
) -> None:
    """Put ``user`` into ``session_state`` as signed in at ``now``; works on
    ``st.session_state`` and on an ``AppTest``'s ``session_state`` alike."""
    now = time.time() if now is None else now
    session_state[USER_KEY] = {
        "name": user.name,
        "role": user.role,
        "partner": user.partner,
        "signed_in_at": now,
        "last_activity": now,
    }


def _database() -> Database | None:
    try:
        return data.current().db
    except KeyError:  # no database checked for this run (a page run on its own in a test)
        return None


def current_user(now: float | None = None) -> auth.User | None:
    """The signed-in user of this session, or None (not signed in, or the session expired).

    Counts this run as activity. The account is read again from the database of this run:
    if it was disabled or removed, the session ends; if its role changed, the new role holds.
    """
    state = st.session_state
    stored = state.get(USER_KEY)
    if not stored:
        return None
    now = time.time() if now is None else now
    if is_expired(stored["signed_in_at"], stored["last_activity"], now):
        del state[USER_KEY]
        state[EXPIRED_KEY] = True
        return None
    user = auth.User(stored["name"], stored["role"], stored["partner"])
    db = _database()
    if db is not None:
        with db.read() as cur:
            user = auth.account(cur, user.name)
        if user is None:
            del state[USER_KEY]
            return None
    state[USER_KEY] = {
        **stored,
        "role": user.role,
        "partner": user.partner,
        "last_activity": now,
    }
    return user


def partner_name(src: data.Source, slug: str) -> str:
    """A partner's name as the pages show it (its slug if it is not registered)."""
    partners = data.filter_options(src).partners
    names = dict(zip(partners["slug"], partners["name"], strict=True))
    return names.get(slug, slug)


def has_accounts(db: Database) -> bool:
    with db.read() as cur:
        return auth.count_users(cur) > 0


def sign_in_form(db: Database | None = None) -> None:
    """The sign-in form; on success the user is stored in the session and the app reruns."""
    db = db or data.current().db
    if st.session_state.get(EXPIRED_KEY):
        st.info(t("Your session expired; sign in again."), icon=":material/timer_off:")
    with st.form("sign_in", enter_to_submit=True):
        name = st.text_input(t("Account name"), key="sign_in_name", autocomplete="username")
        password = st.text_input(
            t("Password"), type="password", key="sign_in_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button(t("Sign in"), type="primary")
    if not submitted:
        return
    if not name.strip() or not password:
        st.error(t("Enter your account name and password."), icon=":material/error:")
        return
    try:
        user = auth.authenticate(db, name, password)
    except auth.AuthError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    st.session_state.pop(EXPIRED_KEY, None)
    sign_in_as(st.session_state, user)
    restore_language(db, user.name)
    st.rerun()


def restore_language(db: Database, name: str) -> None:
    """Put the language saved with the account ``name`` into the session (the switcher then
    shows it); an account that has chosen none keeps the session's current language."""
    with db.read() as cur:
        saved = auth.get_language(cur, name)
    if saved:
        st.session_state[LANGUAGE_KEY] = saved


def sign_out() -> None:
    """Forget the user and everything else this session chose (filters, forms), then rerun."""
    for key in list(st.session_state.keys()):
        if key not in KEPT_ON_SIGN_OUT:
            del st.session_state[key]
    st.rerun()


def first_run_help() -> None:
    """What to do when the database has no account yet: create the first secretariat
    account on the command line."""
    st.info(
        t("No account has been created yet, so nobody can sign in."),
        icon=":material/person_add:",
    )
    st.markdown(
        t(
            "Create the first secretariat account on the server, in the folder the app runs "
            "from (the command asks for the password twice):"
        )
    )
    st.code(CREATE_FIRST_ACCOUNT, language="bash")
    st.markdown(
        t(
            "Then reload this page and sign in. That account can add the other accounts "
            "(partners, observers) under Admin, or with `coalition user add`. The demo "
            "database (`coalition demo`) comes with one demo account per role."
        )
    )
