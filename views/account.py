"""My account: who is signed in, with which role (and partner), signing out, and changing
one's own password."""

import streamlit as st

from coalition import auth
from coalition.i18n import t
from coalition.ui import data, session

src = data.current()
st.title(t("My account"))

user = session.current_user()
if user is None:
    st.info(t("You are not signed in."), icon=":material/person_off:")
    st.stop()

st.markdown(t("Signed in as **{name}**.", name=user.name))
st.markdown(t("Role: {role}", role=session.role_label(user.role)))
if user.partner:
    st.markdown(t("Partner: {partner}", partner=session.partner_name(src, user.partner)))
if st.button(t("Sign out"), key="sign_out", icon=":material/logout:"):
    session.sign_out()

st.subheader(t("Change my password"))
with st.form("change_password", clear_on_submit=True):
    current = st.text_input(t("Current password"), type="password", autocomplete="current-password")
    new = st.text_input(t("New password"), type="password", autocomplete="new-password")
    again = st.text_input(t("New password again"), type="password", autocomplete="new-password")
    submitted = st.form_submit_button(t("Change my password"))
if submitted:
    if new != again:
        st.error(t("The two new passwords differ."), icon=":material/error:")
    else:
        try:
            auth.change_own_password(src.db, user.name, current, new)
        except auth.AuthError as problem:
            st.error(str(problem), icon=":material/error:")
        else:
            st.success(t("Your password was changed."), icon=":material/check_circle:")
