"""The Sign in and My account pages, run on their own by Streamlit's AppTest.

Each page runs inside a small script that does what ``app.py`` does first — check the database
named by ``COALITION_DB`` and ``data.set_current`` it — so the pages are tested without the
navigation (which decides who reaches them). A user is put into the session either through the
form or with ``session.sign_in_as`` on the AppTest's ``session_state``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from coalition import auth, store
from coalition.db import Database
from coalition.ui import session

VIEWS = Path(__file__).resolve().parents[2] / "views"
PASSWORD = "correct horse battery"


def run_view(path: str) -> None:
    """The AppTest script: what app.py does before it runs a page, then the page."""
    import runpy

    from coalition.ui import data

    data.set_current(data.source())
    runpy.run_path(path, run_name="__page__")


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    # cheap parameters (the pages run in this process): the tests hash many passwords
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Database, str], AppTest]]:
    """``page(db, "sign_in.py")``: a not yet run AppTest of that view reading ``db``."""

    def make(db: Database, view: str) -> AppTest:
        monkeypatch.setenv("COALITION_DB", str(db.path))
        return AppTest.from_function(run_view, args=(str(VIEWS / view),), default_timeout=60)

    st.cache_data.clear()
    yield make
    st.cache_data.clear()


@pytest.fixture
def accounts(sample: Database) -> Database:
    """The sample database with two more accounts, made with the fast hasher: ana
    (secretariat) and mo (MarketCo)."""
    with sample.write() as cur:
        auth.add_user(cur, "ana", "secretariat", PASSWORD)
        auth.add_user(cur, "mo", "partner", PASSWORD, partner="marketco")
    return sample


@pytest.fixture
def no_accounts(tmp_path: Path) -> Database:
    """An initialised database with no account at all: a new deployment."""
    db = Database(tmp_path / "new.duckdb")
    store.init(db)
    return db


def texts(at: AppTest, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    return at.button[0].click().run()


def test_first_run_explains_how_to_create_the_first_account(page, no_accounts):
    at = page(no_accounts, "sign_in.py").run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert "No account has been created yet" in texts(at, "info")
    assert [c.value for c in at.code] == ["coalition user add NAME --role secretariat"]
    assert not at.text_input  # no form to fill in


def test_a_wrong_password_or_name_is_refused_with_one_message(page, accounts):
    at = page(accounts, "sign_in.py").run()
    assert not at.exception and not at.code
    assert [w.label for w in at.text_input] == ["Account name", "Password"]
    sign_in(at, "ana", "not the password")
    assert texts(at, "error") == "Wrong account name or password."
    assert "coalition_user" not in at.session_state
    sign_in(at, "nobody", PASSWORD)
    assert texts(at, "error") == "Wrong account name or password."


def test_five_wrong_passwords_lock_the_account(page, accounts):
    at = page(accounts, "sign_in.py").run()
    for _ in range(auth.MAX_FAILED_ATTEMPTS):
        sign_in(at, "ana", "not the password")
    assert "Too many failed sign-ins: this account is locked" in texts(at, "error")
    assert "Try again in 15 minutes" in texts(at, "error")
    sign_in(at, "ana", PASSWORD)  # the right password does not help while locked
    assert "locked" in texts(at, "error")
    assert "coalition_user" not in at.session_state


def test_signing_in_stores_the_user_in_the_session(page, accounts):
    at = page(accounts, "sign_in.py").run()
    before = time.time()
    sign_in(at, " mo ", PASSWORD)
    assert not at.exception and not at.error
    stored = at.session_state["coalition_user"]
    assert {k: stored[k] for k in ("name", "role", "partner")} == {
        "name": "mo",
        "role": "partner",
        "partner": "marketco",
    }
    assert before <= stored["signed_in_at"] <= stored["last_activity"] <= time.time()
    assert texts(at, "success") == "You are signed in as mo (Partner)."
    assert not at.text_input  # the form is gone


def test_an_expired_session_asks_to_sign_in_again(page, accounts):
    at = page(accounts, "sign_in.py")
    idle = time.time() - session.IDLE_TIMEOUT - 5
    session.sign_in_as(at.session_state, auth.User("ana", "secretariat"), now=idle)
    at.run()
    assert not at.exception
    assert "Your session expired; sign in again." in texts(at, "info")
    assert "coalition_user" not in at.session_state
    sign_in(at, "ana", PASSWORD)
    assert "expired" not in texts(at, "info")
    assert at.session_state["coalition_user"]["name"] == "ana"


def test_a_session_that_is_used_stays_open(page, accounts):
    at = page(accounts, "sign_in.py")
    session.sign_in_as(at.session_state, auth.User("ana", "secretariat"), now=time.time() - 600)
    at.run()
    assert texts(at, "success") == "You are signed in as ana (Secretariat)."
    assert at.session_state["coalition_user"]["last_activity"] > time.time() - 60


def test_disabling_an_account_ends_its_session(page, accounts):
    at = page(accounts, "sign_in.py")
    session.sign_in_as(at.session_state, auth.User("mo", "partner", "marketco"))
    at.run()
    assert "signed in as mo" in texts(at, "success")
    with accounts.write() as cur:
        auth.set_disabled(cur, "mo", True, actor="ana")
    at.run()
    assert not at.success and "coalition_user" not in at.session_state
    assert [w.label for w in at.text_input] == ["Account name", "Password"]


# --- My account ---------------------------------------------------------------------------


def test_my_account_needs_a_signed_in_user(page, accounts):
    at = page(accounts, "account.py").run()
    assert not at.exception
    assert texts(at, "info") == "You are not signed in."


def test_my_account_shows_who_and_changes_the_password(page, accounts):
    at = page(accounts, "account.py")
    session.sign_in_as(at.session_state, auth.User("mo", "partner", "marketco"))
    at.run()
    assert not at.exception
    shown = texts(at, "markdown")
    assert "Signed in as **mo**." in shown
    assert "Role: Partner" in shown and "Partner: MarketCo" in shown

    def change(current: str, new: str, again: str) -> None:
        fields = at.text_input
        fields[0].input(current)
        fields[1].input(new)
        fields[2].input(again)
        next(b for b in at.button if b.label == "Change my password").click().run()

    change(PASSWORD, "a new password", "another one!!")
    assert texts(at, "error") == "The two new passwords differ."
    change("not the password", "a new password", "a new password")
    assert texts(at, "error") == "Wrong account name or password."
    change(PASSWORD, "short", "short")
    assert "at least 10 characters" in texts(at, "error")
    change(PASSWORD, "a new password", "a new password")
    assert not at.error and texts(at, "success") == "Your password was changed."
    assert auth.authenticate(accounts, "mo", "a new password").name == "mo"


def test_signing_out_forgets_the_user_and_the_sessions_choices(page, accounts):
    at = page(accounts, "account.py")
    session.sign_in_as(at.session_state, auth.User("ana", "secretariat"))
    at.session_state["language"] = "en"
    at.session_state["submit_partner"] = "marketco"  # e.g. a choice made on another page
    at.run()
    at.button(key="sign_out").click().run()
    assert not at.exception
    assert "coalition_user" not in at.session_state
    assert "submit_partner" not in at.session_state
    assert at.session_state["language"] == "en"
    assert texts(at, "info") == "You are not signed in."
