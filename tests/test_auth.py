"""Accounts and sign-in: password hashes, the password policy, lock-out (with a clock given by
the test), session expiry, the audit entries of account changes, and ``coalition user``."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from coalition import audit, auth, store
from coalition.cli import cli
from coalition.db import Database
from coalition.ui import session
from metrics.access import Viewer

T0 = dt.datetime(2024, 5, 1, 9, 0)
PASSWORD = "correct horse battery"
# cheap parameters: the tests hash dozens of passwords
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
DEFAULT = auth.HASHER


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "HASHER", FAST)


@pytest.fixture
def db(build_db) -> Database:
    """One partner (acme) and two accounts: ana (secretariat) and pat (acme's partner account)."""
    db = build_db([("acme", "e-commerce", dt.date(2018, 1, 1), ["AcmeShop"])])
    with db.write() as cur:
        auth.add_user(cur, "ana", "secretariat", PASSWORD, actor="setup")
        auth.add_user(cur, "pat", "partner", PASSWORD, partner="acme", actor="setup")
    return db


def row(db: Database, name: str) -> dict:
    with db.read() as cur:
        frame = cur.execute("SELECT * FROM users WHERE name = ?", [name]).df()
    return frame.iloc[0].to_dict()


def log(db: Database) -> list[dict]:
    """The audit entries, oldest first."""
    with db.read() as cur:
        return audit.entries(cur).iloc[::-1].to_dict("records")


# --- Hashes and the password policy ------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes_with_the_default_parameters(build_db, monkeypatch):
    monkeypatch.setattr(auth, "HASHER", DEFAULT)
    db = build_db([])
    with db.write() as cur:
        auth.add_user(cur, "ana", "secretariat", PASSWORD)
    monkey_free = PasswordHasher()
    stored = row(db, "ana")["password_hash"]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert not monkey_free.check_needs_rehash(stored)  # argon2-cffi's recommended parameters
    assert monkey_free.verify(stored, PASSWORD)
    assert auth.verify_password(stored, PASSWORD)
    assert not auth.verify_password(stored, PASSWORD + "!")
    assert not auth.verify_password("not a hash", PASSWORD)


def test_the_account_list_never_shows_the_hash(db):
    with db.read() as cur:
        frame = auth.users(cur)
    assert list(frame["name"]) == ["ana", "pat"]
    assert "password_hash" not in frame.columns
    assert not frame.astype(str).apply(lambda c: c.str.contains("argon2")).any().any()
    assert frame.set_index("name").loc["pat", "partner"] == "acme"


@pytest.mark.parametrize(
    ("name", "role", "password", "partner", "message"),
    [
        ("bo", "secretariat", "short", None, "at least 10 characters"),
        ("bo", "secretariat", " " * 12, None, "only spaces"),
        ("bo", "secretariat", "x" * 2000, None, "too long"),
        ("bo-the-great", "observer", "bo-the-great", None, "cannot be the account name"),
        ("bo", "admin", PASSWORD, None, "Unknown role admin"),
        ("bo", "partner", PASSWORD, None, "needs a partner"),
        ("bo", "partner", PASSWORD, "nope", "no partner nope"),
        ("bo", "observer", PASSWORD, "acme", "Only a partner account"),
        ("ana", "observer", PASSWORD, None, "already exists"),
        ("", "observer", PASSWORD, None, "cannot be an account name"),
        ("bo bo", "observer", PASSWORD, None, "cannot be an account name"),
    ],
)
def test_add_user_refuses_with_a_clear_message(db, name, role, password, partner, message):
    before = log(db)
    with pytest.raises(auth.AuthError, match=message), db.write() as cur:
        auth.add_user(cur, name, role, password, partner)
    with db.read() as cur:
        assert auth.count_users(cur) == 2
    assert log(db) == before  # nothing logged for a change that was not made


def test_add_user_returns_the_id_and_the_user_signs_in_with_its_viewer(db):
    with db.write() as cur:
        new_id = auth.add_user(cur, "  olga ", "observer", PASSWORD)
    assert row(db, "olga")["id"] == new_id
    user = auth.authenticate(db, "olga", PASSWORD, now=T0)
    assert user == auth.User("olga", "observer", None)
    assert user.viewer == Viewer("observer")
    assert auth.authenticate(db, "pat", PASSWORD, now=T0).viewer == Viewer("partner", "acme")


# --- Signing in and the lock-out -----------------------------------------------------------


def test_an_unknown_name_and_a_wrong_password_get_the_same_message(db):
    with pytest.raises(auth.AuthError) as unknown:
        auth.authenticate(db, "nobody", PASSWORD, now=T0)
    with pytest.raises(auth.AuthError) as wrong:
        auth.authenticate(db, "ana", "wrong password!", now=T0)
    assert str(unknown.value) == str(wrong.value) == "Wrong account name or password."
    assert row(db, "ana")["failed_attempts"] == 1


def test_a_sign_in_records_its_time_and_clears_failed_attempts(db):
    for _ in range(3):
        with pytest.raises(auth.AuthError):
            auth.authenticate(db, "ana", "wrong password!", now=T0)
    assert row(db, "ana")["failed_attempts"] == 3
    assert auth.authenticate(db, "ana", PASSWORD, now=T0 + dt.timedelta(seconds=5)).name == "ana"
    after = row(db, "ana")
    assert after["failed_attempts"] == 0
    assert after["last_sign_in"] == T0 + dt.timedelta(seconds=5)


def test_five_failures_lock_the_account_for_fifteen_minutes(db):
    assert auth.MAX_FAILED_ATTEMPTS == 5 and dt.timedelta(minutes=15) == auth.LOCKOUT
    for attempt in range(1, 5):
        with pytest.raises(auth.AuthError, match="Wrong account name or password"):
            auth.authenticate(db, "ana", "wrong password!", now=T0 + dt.timedelta(seconds=attempt))
    with pytest.raises(auth.AuthError, match="locked. Try again in 15 minutes"):
        auth.authenticate(db, "ana", "wrong password!", now=T0 + dt.timedelta(seconds=5))
    assert row(db, "ana")["locked_until"] == T0 + dt.timedelta(seconds=5) + auth.LOCKOUT
    # while locked, even the right password is refused, and says how long is left
    with pytest.raises(auth.AuthError, match="Try again in 5 minutes"):
        auth.authenticate(db, "ana", PASSWORD, now=T0 + dt.timedelta(minutes=10, seconds=6))
    with pytest.raises(auth.AuthError, match="Try again in 1 minute\\."):
        auth.authenticate(db, "ana", PASSWORD, now=T0 + dt.timedelta(minutes=15))
    # other accounts are not affected
    assert auth.authenticate(db, "pat", PASSWORD, now=T0 + dt.timedelta(minutes=1))
    # once the lock has run out, the right password works
    user = auth.authenticate(db, "ana", PASSWORD, now=T0 + dt.timedelta(minutes=15, seconds=6))
    assert user.name == "ana"
    assert row(db, "ana")["locked_until"] is None or str(row(db, "ana")["locked_until"]) == "NaT"
    lock = [e for e in log(db) if e["action"] == "lock"]
    assert len(lock) == 1 and lock[0]["entity_key"] == "ana" and lock[0]["actor"] == "sign-in"


def test_after_a_lock_runs_out_the_count_starts_again(db):
    for second in range(5):
        with pytest.raises(auth.AuthError):
            auth.authenticate(db, "ana", "wrong password!", now=T0 + dt.timedelta(seconds=second))
    later = T0 + dt.timedelta(minutes=20)
    with pytest.raises(auth.AuthError, match="Wrong account name or password"):
        auth.authenticate(db, "ana", "wrong password!", now=later)
    assert row(db, "ana")["failed_attempts"] == 1


def test_unknown_names_are_never_locked_and_leave_no_trace(db):
    for _ in range(7):
        with pytest.raises(auth.AuthError, match="Wrong account name or password"):
            auth.authenticate(db, "nobody", PASSWORD, now=T0)
    with db.read() as cur:
        assert auth.count_users(cur) == 2


def test_a_disabled_account_cannot_sign_in(db):
    with db.write() as cur:
        auth.set_disabled(cur, "pat", True, actor="ana")
        assert auth.account(cur, "pat") is None
    with pytest.raises(auth.AuthError, match="Wrong account name or password"):
        auth.authenticate(db, "pat", "wrong password!", now=T0)
    with pytest.raises(auth.AuthError, match="disabled"):
        auth.authenticate(db, "pat", PASSWORD, now=T0)
    with db.write() as cur:
        auth.set_disabled(cur, "pat", False, actor="ana")
    assert auth.authenticate(db, "pat", PASSWORD, now=T0).name == "pat"


def test_a_hash_with_old_parameters_is_replaced_at_sign_in(db, monkeypatch):
    old = row(db, "ana")["password_hash"]
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(auth, "HASHER", stronger)
    assert stronger.check_needs_rehash(old)
    auth.authenticate(db, "ana", PASSWORD, now=T0)
    new = row(db, "ana")["password_hash"]
    assert new != old and not stronger.check_needs_rehash(new)
    assert auth.authenticate(db, "ana", PASSWORD, now=T0).name == "ana"
    assert row(db, "ana")["password_hash"] == new  # not rehashed again


def test_authenticate_takes_a_cursor_too(db):
    with db.write() as cur:
        assert auth.authenticate(cur, "ana", PASSWORD, now=T0).role == "secretariat"


def test_changing_ones_own_password_checks_the_current_one(db):
    with pytest.raises(auth.AuthError, match="Wrong account name or password"):
        auth.change_own_password(db, "pat", "wrong password!", "a new password 1", now=T0)
    assert row(db, "pat")["failed_attempts"] == 1
    with pytest.raises(auth.AuthError, match="at least 10"):
        auth.change_own_password(db, "pat", PASSWORD, "short", now=T0)
    auth.change_own_password(db, "pat", PASSWORD, "a new password 1", now=T0)
    assert auth.authenticate(db, "pat", "a new password 1", now=T0).name == "pat"
    assert log(db)[-1]["actor"] == "pat" and log(db)[-1]["action"] == "set_password"


# --- Changing accounts, and the audit log --------------------------------------------------


def test_setting_a_password_lifts_a_lock(db):
    for second in range(5):
        with pytest.raises(auth.AuthError):
            auth.authenticate(db, "pat", "wrong password!", now=T0 + dt.timedelta(seconds=second))
    with db.write() as cur:
        auth.set_password(cur, "pat", "a fresh password", actor="ana")
    assert auth.authenticate(db, "pat", "a fresh password", now=T0 + dt.timedelta(minutes=1))


def test_the_last_enabled_secretariat_account_stays(db):
    with pytest.raises(auth.AuthError, match="only enabled secretariat"), db.write() as cur:
        auth.set_disabled(cur, "ana", True)
    with pytest.raises(auth.AuthError, match="only enabled secretariat"), db.write() as cur:
        auth.set_role(cur, "ana", "observer")
    with db.write() as cur:
        auth.add_user(cur, "sam", "secretariat", PASSWORD)
        auth.set_disabled(cur, "ana", True)
    assert row(db, "ana")["disabled"]


def test_set_role_checks_the_partner(db):
    with pytest.raises(auth.AuthError, match="needs a partner"), db.write() as cur:
        auth.set_role(cur, "pat", "partner", None)
    with db.write() as cur:
        auth.set_role(cur, "pat", "observer", actor="ana")
        assert auth.account(cur, "pat") == auth.User("pat", "observer", None)


def test_unknown_accounts_are_named_in_the_error(db):
    with pytest.raises(auth.AuthError, match="no account named zed"), db.write() as cur:
        auth.set_password(cur, "zed", PASSWORD)


def test_every_account_change_is_audited_without_the_password(db):
    with db.write() as cur:
        auth.add_user(cur, "olga", "observer", "olga's password", actor="ana")
        auth.set_password(cur, "olga", "another password", actor="ana")
        auth.set_disabled(cur, "olga", True, actor="ana")
        auth.set_disabled(cur, "olga", True, actor="ana")  # no change, nothing logged
        auth.set_disabled(cur, "olga", False, actor="ana")
        auth.set_role(cur, "olga", "partner", "acme", actor="ana")
    entries = [e for e in log(db) if e["entity_key"] == "olga"]
    assert [(e["actor"], e["action"], e["entity"]) for e in entries] == [
        ("ana", "add", "user"),
        ("ana", "set_password", "user"),
        ("ana", "disable", "user"),
        ("ana", "enable", "user"),
        ("ana", "set_role", "user"),
    ]
    assert json.loads(entries[0]["after"]) == {
        "role": "observer",
        "partner": None,
        "disabled": False,
    }
    assert json.loads(entries[2]["before"]) == {"disabled": False}
    assert json.loads(entries[4]["before"]) == {"role": "observer", "partner": None}
    assert json.loads(entries[4]["after"]) == {"role": "partner", "partner": "acme"}
    with db.read() as cur:
        everything = cur.execute("SELECT * FROM audit_log").df().to_string()
        hashes = [r[0] for r in cur.execute("SELECT password_hash FROM users").fetchall()]
    for secret in ("olga's password", "another password", PASSWORD, "argon2", *hashes):
        assert secret not in everything


# --- Sessions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_in", "last_activity", "expired"),
    [
        (0, 0, False),
        (0, -session.IDLE_TIMEOUT, False),  # exactly 30 minutes idle: still on
        (0, -session.IDLE_TIMEOUT - 1, True),  # idle too long
        (-session.MAX_AGE + 60, -60, False),  # active, just under 12 hours old
        (-session.MAX_AGE - 1, -1, True),  # active, but open for more than 12 hours
    ],
)
def test_sessions_end_when_idle_or_too_old(signed_in, last_activity, expired):
    assert session.IDLE_TIMEOUT == 30 * 60 and session.MAX_AGE == 12 * 60 * 60
    now = 1_700_000_000.0
    assert session.is_expired(now + signed_in, now + last_activity, now) is expired


def test_sign_in_as_fills_the_documented_session_keys():
    state: dict = {}
    session.sign_in_as(state, auth.User("pat", "partner", "acme"), now=100.0)
    assert state == {
        "coalition_user": {
            "name": "pat",
            "role": "partner",
            "partner": "acme",
            "signed_in_at": 100.0,
            "last_activity": 100.0,
        }
    }


# --- coalition user ----------------------------------------------------------------------


def run(db: Database, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, [*args, "--db", str(db.path)], input=input)


def test_cli_adds_an_account_with_the_password_from_stdin(db):
    result = run(
        db, "user", "add", "parker", "--role", "partner", "--partner", "acme",
        "--password-stdin", input="a stdin password\nignored second line\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Added the partner account parker of acme." in result.output
    assert auth.authenticate(db, "parker", "a stdin password", now=T0).partner == "acme"
    assert log(db)[-1]["actor"] == "cli"


def test_cli_asks_for_the_password_twice_without_echo(db):
    result = run(db, "user", "add", "olga", "--role", "observer", input="a typed password\n" * 2)
    assert result.exit_code == 0, result.output
    assert "a typed password" not in result.output
    assert auth.authenticate(db, "olga", "a typed password", now=T0).role == "observer"
    mismatch = run(
        db, "user", "add", "oleg", "--role", "observer", input="first password\nsecond one!!\n" * 3
    )
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output


def test_cli_explains_a_refused_account(db):
    short = run(db, "user", "add", "bo", "--role", "observer", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    no_partner = run(
        db, "user", "add", "bo", "--role", "partner", "--password-stdin", input=PASSWORD + "\n"
    )
    assert no_partner.exit_code == 1 and "needs a partner" in no_partner.output
    assert run(db, "user", "add", "bo", "--role", "boss").exit_code == 2


def test_cli_lists_disables_and_resets(db):
    listed = run(db, "user", "list")
    assert listed.exit_code == 0
    assert listed.output.splitlines() == [
        "ana\tsecretariat\t-\tenabled\tlast sign-in never",
        "pat\tpartner\tacme\tenabled\tlast sign-in never",
    ]
    assert "argon2" not in listed.output
    disabled = run(db, "user", "disable", "pat", "--by", "ana")
    assert disabled.exit_code == 0 and "Disabled pat." in disabled.output
    assert "pat\tpartner\tacme\tdisabled" in run(db, "user", "list").output
    assert run(db, "user", "enable", "pat").exit_code == 0
    refused = run(db, "user", "disable", "ana")
    assert refused.exit_code == 1 and "only enabled secretariat" in refused.output
    reset = run(db, "user", "password", "pat", "--password-stdin", input="the new password\n")
    assert reset.exit_code == 0 and "Set a new password for pat." in reset.output
    assert auth.authenticate(db, "pat", "the new password", now=T0)
    unknown = run(db, "user", "password", "zed", "--password-stdin", input=PASSWORD + "\n")
    assert unknown.exit_code == 1 and "no account named zed" in unknown.output
    assert [e["action"] for e in log(db)[-3:]] == ["disable", "enable", "set_password"]


def test_cli_on_a_database_without_accounts_says_how_to_start(build_db):
    result = run(build_db(), "user", "list")
    assert result.exit_code == 0
    assert "coalition user add NAME --role secretariat" in result.output


def test_signing_in_does_not_empty_the_caches_of_figures(tmp_path):
    db = Database(tmp_path / "s.duckdb")
    store.init(db)
    with db.write() as cur:
        auth.add_user(cur, "ana", "observer", "a-long-password-1")
    version = db.data_version()
    auth.authenticate(db, "ana", "a-long-password-1")
    with pytest.raises(auth.AuthError):
        auth.authenticate(db, "ana", "wrong-password-0")
    assert db.data_version() == version


def test_sign_ins_at_the_same_moment_do_not_queue_behind_each_others_hashing(db, monkeypatch):
    """The slow password check runs outside the process's one write turn: ten people signing in
    at once (each check taking 1 s here) all get in, though a write waits at most 3 s (taking
    turns through the checks would need 10 s)."""
    import threading
    import time

    real_verify = auth.verify_password

    def slow_verify(password_hash: str, password: str) -> bool:
        time.sleep(1.0)
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", slow_verify)
    impatient = Database(db.path, retry_seconds=3)
    outcomes: list[object] = []

    def sign_in(name: str) -> None:
        try:
            outcomes.append(auth.authenticate(impatient, name, PASSWORD, now=T0))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            outcomes.append(exc)

    threads = [threading.Thread(target=sign_in, args=(("ana", "pat")[i % 2],)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [type(o).__name__ for o in outcomes] == ["User"] * 10
    assert row(db, "ana")["last_sign_in"] == T0
