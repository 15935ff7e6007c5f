"""The accounts section of the Admin page (``coalition.ui.accounts.accounts_admin``), run by
Streamlit's AppTest on the sample database with two accounts, as the secretariat user ana."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import streamlit as st
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from coalition import audit, auth
from coalition.db import Database

PASSWORD = "correct horse battery"


def run_admin(actor: str) -> None:
    """The AppTest script: check the database as app.py does, then draw the section."""
    from coalition.ui import accounts, data

    data.set_current(data.source())
    accounts.accounts_admin(data.current().db, actor)


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def db(sample: Database) -> Database:
    with sample.write() as cur:
        auth.add_user(cur, "ana", "secretariat", PASSWORD)
        auth.add_user(cur, "mo", "partner", PASSWORD, partner="marketco")
    return sample


@pytest.fixture
def at(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("COALITION_DB", str(db.path))
    st.cache_data.clear()
    yield AppTest.from_function(run_admin, args=("ana",), default_timeout=60).run()
    st.cache_data.clear()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def last_entry(db: Database) -> dict:
    with db.read() as cur:
        return audit.entries(cur, limit=1).iloc[0].to_dict()


def test_the_accounts_are_listed_without_secrets(at):
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["Account", "Role", "Partner", "State", "Last sign-in (UTC)"]
    rows = {r[0]: r for r in table.values.tolist()}
    assert rows["ana"] == ["ana", "Secretariat", "", "enabled", "never"]
    assert rows["mo"] == ["mo", "Partner", "MarketCo", "enabled", "never"]
    assert not table.astype(str).apply(lambda c: c.str.contains("argon2")).any().any()


def test_adding_an_account(at, db):
    at.text_input(key="accounts_add_name").input("pia")
    at.selectbox(key="accounts_add_role").select("partner")
    at.selectbox(key="accounts_add_partner").select("searchco")
    at.text_input(key="accounts_add_password").input("pia's password")
    at.text_input(key="accounts_add_again").input("pia's password")
    button(at, "Add the account").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value == "Added the account pia."
    assert "pia" in at.dataframe[0].value["Account"].tolist()
    assert auth.authenticate(db, "pia", "pia's password").partner == "searchco"
    entry = last_entry(db)
    assert (entry["actor"], entry["action"], entry["entity_key"]) == ("ana", "add", "pia")
    assert json.loads(entry["after"])["partner"] == "searchco"


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("a long password", "another password", "The two passwords differ."),
        ("short", "short", "at least 10 characters"),
    ],
)
def test_a_refused_account_says_why(at, db, password, again, message):
    at.text_input(key="accounts_add_name").input("olga")
    at.selectbox(key="accounts_add_role").select("observer")
    at.text_input(key="accounts_add_password").input(password)
    at.text_input(key="accounts_add_again").input(again)
    button(at, "Add the account").click().run()
    assert message in at.error[0].value
    with db.read() as cur:
        assert auth.account(cur, "olga") is None


def state(at: AppTest, name: str) -> str:
    table = at.dataframe[0].value
    return table.loc[table["Account"] == name, "State"].iloc[0]


def test_disabling_and_enabling_an_account(at, db):
    at.selectbox(key="accounts_disable_name").select("mo").run()
    at.button(key="accounts_disable").click().run()
    assert at.success[0].value == "Disabled mo: it can no longer sign in."
    assert state(at, "mo") == "disabled"
    assert last_entry(db)["action"] == "disable"
    at.button(key="accounts_enable").click().run()
    assert state(at, "mo") == "enabled"
    assert last_entry(db)["action"] == "enable"


def test_one_cannot_disable_ones_own_account(at):
    at.selectbox(key="accounts_disable_name").select("ana").run()
    assert not any(b.key == "accounts_disable" for b in at.button)
    assert "You cannot disable your own account." in [c.value for c in at.caption]


def test_setting_a_new_password_lifts_a_lock(at, db):
    for _ in range(auth.MAX_FAILED_ATTEMPTS):
        with pytest.raises(auth.AuthError):
            auth.authenticate(db, "mo", "not the password")
    at.run()
    assert state(at, "mo").startswith("locked until")
    at.selectbox(key="accounts_password_name").select("mo")
    at.text_input(key="accounts_password_password").input("mo's new password")
    at.text_input(key="accounts_password_again").input("mo's new password")
    button(at, "Set the password").click().run()
    assert at.success[0].value == "Set a new password for mo."
    assert state(at, "mo") == "enabled"
    assert auth.authenticate(db, "mo", "mo's new password").name == "mo"
    entry = last_entry(db)
    assert (entry["actor"], entry["action"], entry["after"]) == ("ana", "set_password", None)


def test_changing_a_role(at, db):
    at.selectbox(key="accounts_role_name").select("mo")
    at.selectbox(key="accounts_role_role").select("observer")
    at.selectbox(key="accounts_role_partner").select("")
    button(at, "Change the role").click().run()
    assert at.success[0].value == "mo is now: Observer."
    table = at.dataframe[0].value
    assert table.loc[table["Account"] == "mo", "Role"].iloc[0] == "Observer"
    assert last_entry(db)["action"] == "set_role"
    # a partner account needs its partner
    at.selectbox(key="accounts_role_name").select("mo")
    at.selectbox(key="accounts_role_role").select("partner")
    at.selectbox(key="accounts_role_partner").select("")
    button(at, "Change the role").click().run()
    assert "needs a partner" in at.error[0].value
