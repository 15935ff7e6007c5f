"""Sign in: the form, or — while the database has no account at all — how to create the first
secretariat account. What signing in does is in ``coalition.ui.session``."""

import streamlit as st

from coalition import auth
from coalition.i18n import t
from coalition.ui import data, session

src = data.current()
st.title(t("Sign in"))

if not session.has_accounts(src.db):
    session.first_run_help()
    st.stop()

user = session.current_user()
if user is not None:
    st.success(
        t(
            "You are signed in as {name} ({role}).",
            name=user.name,
            role=session.role_label(user.role),
        ),
        icon=":material/check_circle:",
    )
    st.stop()

session.sign_in_form(src.db)
st.caption(
    t(
        "Forgotten your password? The secretariat can set a new one. After {n} wrong passwords "
        "in a row the account is locked for {minutes} minutes.",
        n=auth.MAX_FAILED_ATTEMPTS,
        minutes=int(auth.LOCKOUT.total_seconds() // 60),
    )
)
