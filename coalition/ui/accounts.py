"""The accounts section of the Admin page: list the accounts, add one, disable or enable one,
set a new password, change a role. Every change goes through :mod:`coalition.auth`, which
writes it to the audit log in the same transaction, with the signed-in secretariat user as
the actor."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd
import streamlit as st

from coalition import auth, store
from coalition.db import Database
from coalition.i18n import t
from coalition.ui.session import role_label
from metrics.access import ROLES

FLASH_KEY = "accounts_flash"  # the outcome of the last change, shown after the rerun
NO_PARTNER = ""


def _table(frame: pd.DataFrame, partner_names: dict[str, str]) -> pd.DataFrame:
    now = auth.utcnow()

    def state(row) -> str:
        if row.disabled:
            return t("disabled")
        if pd.notna(row.locked_until) and row.locked_until > now:
            return t("locked until {time} UTC", time=f"{row.locked_until:%Y-%m-%d %H:%M}")
        return t("enabled")

    def when(value) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if pd.notna(value) else t("never")

    return pd.DataFrame(
        {
            t("Account"): frame["name"],
            t("Role"): frame["role"].map(role_label),
            t("Partner"): frame["partner"].map(
                lambda p: partner_names.get(p, p) if isinstance(p, str) else ""
            ),
            t("State"): [state(r) for r in frame.itertuples()],
            t("Last sign-in (UTC)"): frame["last_sign_in"].map(when),
        }
    )


def _apply(db: Database, change: Callable[[duckdb.DuckDBPyConnection], object], done: str) -> None:
    """Store ``change`` in one transaction; say what went wrong, or rerun to show the result."""
    try:
        with db.write() as cur:
            change(cur)
    except auth.AuthError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    st.session_state[FLASH_KEY] = done
    st.rerun()


def _passwords(prefix: str) -> tuple[str, str]:
    password = st.text_input(
        t("Password"), type="password", key=f"{prefix}_password", autocomplete="new-password"
    )
    again = st.text_input(
        t("Password again"), type="password", key=f"{prefix}_again", autocomplete="new-password"
    )
    return password, again


def accounts_admin(db: Database, actor: str) -> None:
    """Draw the accounts section for the secretariat user ``actor``."""
    with db.read() as cur:
        frame = auth.users(cur)
        partners = store.partners(cur)
    partner_names = dict(zip(partners["slug"], partners["name"], strict=True))
    partner_options = [NO_PARTNER, *sorted(partner_names, key=partner_names.get)]

    def partner_label(slug: str) -> str:
        return partner_names.get(slug, slug) if slug else t("— none (not a partner account)")

    st.subheader(t("Accounts"))
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    if frame.empty:
        st.info(t("No accounts yet."))
    else:
        st.dataframe(_table(frame, partner_names), hide_index=True, key="accounts_table")
    names = list(frame["name"])

    with st.expander(t("Add an account"), icon=":material/person_add:"):
        with st.form("accounts_add", clear_on_submit=True):
            name = st.text_input(t("Account name"), key="accounts_add_name")
            role = st.selectbox(t("Role"), ROLES, format_func=role_label, key="accounts_add_role")
            partner = st.selectbox(
                t("Partner (partner accounts only)"),
                partner_options,
                format_func=partner_label,
                key="accounts_add_partner",
            )
            password, again = _passwords("accounts_add")
            submitted = st.form_submit_button(t("Add the account"))
        if submitted:
            if password != again:
                st.error(t("The two passwords differ."), icon=":material/error:")
            else:
                _apply(
                    db,
                    lambda cur: auth.add_user(cur, name, role, password, partner, actor=actor),
                    t("Added the account {name}.", name=name.strip()),
                )

    if not names:
        return

    with st.expander(t("Disable or enable an account"), icon=":material/person_off:"):
        who = st.selectbox(t("Account"), names, key="accounts_disable_name")
        disabled = bool(frame.loc[frame["name"] == who, "disabled"].iloc[0])
        if disabled:
            if st.button(t("Enable {name}", name=who), key="accounts_enable"):
                _apply(
                    db,
                    lambda cur: auth.set_disabled(cur, who, False, actor=actor),
                    t("Enabled {name}.", name=who),
                )
        elif who == actor:
            st.caption(t("You cannot disable your own account."))
        elif st.button(t("Disable {name}", name=who), key="accounts_disable"):
            _apply(
                db,
                lambda cur: auth.set_disabled(cur, who, True, actor=actor),
                t("Disabled {name}: it can no longer sign in.", name=who),
            )

    with st.expander(t("Set a new password"), icon=":material/password:"):
        st.caption(t("This also lifts a lock-out. Tell the person the new password in person."))
        with st.form("accounts_password", clear_on_submit=True):
            who = st.selectbox(t("Account"), names, key="accounts_password_name")
            password, again = _passwords("accounts_password")
            submitted = st.form_submit_button(t("Set the password"))
        if submitted:
            if password != again:
                st.error(t("The two passwords differ."), icon=":material/error:")
            else:
                _apply(
                    db,
                    lambda cur: auth.set_password(cur, who, password, actor=actor),
                    t("Set a new password for {name}.", name=who),
                )

    with st.expander(t("Change a role"), icon=":material/manage_accounts:"):
        with st.form("accounts_role"):
            who = st.selectbox(t("Account"), names, key="accounts_role_name")
            role = st.selectbox(t("Role"), ROLES, format_func=role_label, key="accounts_role_role")
            partner = st.selectbox(
                t("Partner (partner accounts only)"),
                partner_options,
                format_func=partner_label,
                key="accounts_role_partner",
            )
            submitted = st.form_submit_button(t("Change the role"))
        if submitted:
            _apply(
                db,
                lambda cur: auth.set_role(cur, who, role, partner, actor=actor),
                t("{name} is now: {role}.", name=who, role=role_label(role)),
            )
