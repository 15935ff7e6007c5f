"""Accounts, passwords and sign-in.

Accounts live in the ``users`` table (migration 0002). A password is stored only as an argon2
hash; it never reaches the audit log, the account list or an error message. Signing in fails
with the same message whether the name is unknown or the password wrong, and after
``MAX_FAILED_ATTEMPTS`` failures in a row the account is locked for ``LOCKOUT``.

Every change to an account (added, password set, disabled, role changed) is written to the
audit log by :func:`coalition.audit.record` in the same transaction as the change.

:class:`User` is the signed-in account that the app keeps in the session; its :attr:`viewer`
is what every read of counts is made for.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import cache

import duckdb
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from coalition import audit
from coalition.db import Database
from coalition.i18n import t
from metrics.access import ROLES, Role, Viewer

# Sign-in policy, all in one place.
MAX_FAILED_ATTEMPTS = 5  # failed sign-ins in a row that lock an account
LOCKOUT = dt.timedelta(minutes=15)  # how long a locked account stays locked
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # hashing a megabyte-long "password" would only waste time
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")

# argon2id with the library's current recommended parameters. When they change (a newer
# argon2-cffi, or a deliberate change here), a stored hash is replaced at its next sign-in.
HASHER = PasswordHasher()


class AuthError(ValueError):
    """An account could not be created or changed, or a sign-in failed; the message says why
    (and, for a sign-in, never whether the name exists)."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    partner: str | None = None

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.role, self.partner if self.role == "partner" else None)


def utcnow() -> dt.datetime:
    """Now in UTC, without a time zone, as the database stores times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- Passwords ------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches the stored hash (False for a damaged hash too)."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not a password of any account")


def check_password(password: str, name: str | None = None) -> None:
    """Raise :class:`AuthError` unless ``password`` meets the policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(
            t(
                "The password is too short: use at least {n} characters.",
                n=MIN_PASSWORD_LENGTH,
            )
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(
            t("The password is too long: use at most {n} characters.", n=MAX_PASSWORD_LENGTH)
        )
    if not password.strip():
        raise AuthError(t("The password cannot be only spaces."))
    if name is not None and password.strip().casefold() == name.casefold():
        raise AuthError(t("The password cannot be the account name."))


# --- Reading accounts -----------------------------------------------------------------------

USER_COLUMNS = (
    "name, role, partner, disabled, failed_attempts, locked_until, last_sign_in, created_at"
)


def users(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every account (never its password hash): name, role, partner, disabled, failed
    attempts since the last sign-in, locked until (UTC), last sign-in (UTC), created (UTC)."""
    return cur.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY name").df()


def count_users(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT count(*) FROM users").fetchone()[0]


def account(cur: duckdb.DuckDBPyConnection, name: str) -> User | None:
    """The enabled account called ``name`` as a :class:`User`, or None (unknown or disabled)."""
    row = cur.execute(
        "SELECT name, role, partner FROM users WHERE name = ? AND NOT disabled", [name]
    ).fetchone()
    return User(*row) if row else None


def _account_row(cur: duckdb.DuckDBPyConnection, name: str) -> dict:
    row = cur.execute(
        "SELECT name, role, partner, disabled FROM users WHERE name = ?", [name]
    ).fetchone()
    if row is None:
        raise AuthError(t("There is no account named {name}.", name=name))
    return dict(zip(("name", "role", "partner", "disabled"), row, strict=True))


def _check_role(cur: duckdb.DuckDBPyConnection, role: str, partner: str | None) -> None:
    if role not in ROLES:
        raise AuthError(
            t("Unknown role {role}: use one of {roles}.", role=role, roles=", ".join(ROLES))
        )
    if role == "partner":
        if not partner:
            raise AuthError(t("A partner account needs a partner (its slug)."))
        found = cur.execute("SELECT count(*) FROM partners WHERE slug = ?", [partner]).fetchone()
        if not found[0]:
            raise AuthError(
                t(
                    "There is no partner {partner}. Register it first "
                    "(coalition partner add), or check the slug.",
                    partner=partner,
                )
            )
    elif partner:
        raise AuthError(t("Only a partner account belongs to a partner."))


def _active_secretariats(cur: duckdb.DuckDBPyConnection) -> list[str]:
    rows = cur.execute(
        "SELECT name FROM users WHERE role = 'secretariat' AND NOT disabled"
    ).fetchall()
    return [r[0] for r in rows]


def _keep_a_secretariat(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    """Refuse a change that would leave no enabled secretariat account to manage the rest."""
    if _active_secretariats(cur) == [name]:
        raise AuthError(
            t(
                "{name} is the only enabled secretariat account; add another secretariat "
                "account first.",
                name=name,
            )
        )


# --- Changing accounts ----------------------------------------------------------------------


def add_user(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    role: str,
    password: str,
    partner: str | None = None,
    actor: str = "cli",
) -> int:
    """Create an account and return its id. A partner account needs ``partner`` (a registered
    partner's slug); other roles take none. Raises :class:`AuthError` with what to change."""
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise AuthError(
            t(
                "{name!r} cannot be an account name: use up to 100 letters, digits and "
                ". _ @ + -, starting with a letter or digit.",
                name=name,
            )
        )
    partner = partner or None
    _check_role(cur, role, partner)
    check_password(password, name)
    taken = cur.execute("SELECT count(*) FROM users WHERE name = ?", [name]).fetchone()[0]
    if taken:
        raise AuthError(t("An account named {name} already exists.", name=name))
    user_id = cur.execute(
        "INSERT INTO users (name, role, partner, password_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        [name, role, partner, hash_password(password), utcnow()],
    ).fetchone()[0]
    audit.record(
        cur, actor, "add", "user", name, after={"role": role, "partner": partner, "disabled": False}
    )
    return user_id


def set_password(
    cur: duckdb.DuckDBPyConnection, name: str, password: str, actor: str = "cli"
) -> None:
    """Give ``name`` a new password; this also lifts a lock-out."""
    _account_row(cur, name)
    check_password(password, name)
    cur.execute(
        "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL "
        "WHERE name = ?",
        [hash_password(password), name],
    )
    # that it changed, never the password or its hash
    audit.record(cur, actor, "set_password", "user", name)


def set_disabled(
    cur: duckdb.DuckDBPyConnection, name: str, disabled: bool = True, actor: str = "cli"
) -> None:
    """Disable an account (it can no longer sign in, and its open sessions end) or enable it
    again. The last enabled secretariat account cannot be disabled."""
    before = _account_row(cur, name)
    if before["disabled"] == disabled:
        return
    if disabled and before["role"] == "secretariat":
        _keep_a_secretariat(cur, name)
    cur.execute("UPDATE users SET disabled = ? WHERE name = ?", [disabled, name])
    audit.record(
        cur,
        actor,
        "disable" if disabled else "enable",
        "user",
        name,
        before={"disabled": before["disabled"]},
        after={"disabled": disabled},
    )


def set_language(cur: duckdb.DuckDBPyConnection, name: str, lang: str) -> None:
    """Remember ``lang`` (a code of :data:`coalition.i18n.LANGUAGES`, or a tag such as
    ``zh-CN``) as the language of the account ``name``; the app restores it at sign-in. A
    preference, not an administrative change: it is not written to the audit log."""
    from coalition.i18n import LANGUAGES, normalise_language

    code = normalise_language(lang)
    if code not in LANGUAGES:
        raise ValueError(f"Unknown language {lang!r}: use one of {', '.join(LANGUAGES)}.")
    _account_row(cur, name)  # an AuthError for an unknown account
    cur.execute("UPDATE users SET language = ? WHERE name = ?", [code, name])


def get_language(cur: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The language saved for the account ``name`` (see :func:`set_language`), or None if it
    has chosen none (or there is no such account)."""
    row = cur.execute("SELECT language FROM users WHERE name = ?", [name]).fetchone()
    return row[0] if row and row[0] else None


def set_role(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    role: str,
    partner: str | None = None,
    actor: str = "cli",
) -> None:
    """Change an account's role (and partner, for a partner account)."""
    before = _account_row(cur, name)
    partner = partner or None
    _check_role(cur, role, partner)
    if (before["role"], before["partner"]) == (role, partner):
        return
    if before["role"] == "secretariat" and role != "secretariat" and not before["disabled"]:
        _keep_a_secretariat(cur, name)
    cur.execute("UPDATE users SET role = ?, partner = ? WHERE name = ?", [role, partner, name])
    audit.record(
        cur,
        actor,
        "set_role",
        "user",
        name,
        before={"role": before["role"], "partner": before["partner"]},
        after={"role": role, "partner": partner},
    )


# --- Signing in -----------------------------------------------------------------------------

SIGN_IN_QUERY = (
    "SELECT name, role, partner, password_hash, disabled, failed_attempts, locked_until "
    "FROM users WHERE name = ?"
)


def _wrong() -> AuthError:
    return AuthError(t("Wrong account name or password."))


def _locked(until: dt.datetime, now: dt.datetime) -> AuthError:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return AuthError(
        t(
            "Too many failed sign-ins: this account is locked. Try again in {n} minute.",
            plural="Too many failed sign-ins: this account is locked. Try again in {n} minutes.",
            n=minutes,
        )
    )


def _sign_in(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    password: str,
    now: dt.datetime,
    checked: tuple[str, bool] | None = None,
) -> User | AuthError:
    """Check a sign-in and store what it changes; return the user, or the error to raise
    once the change is stored. ``checked``: (hash, whether the password matched it), when
    the slow check was done before the write began; it is redone if the hash changed."""
    row = cur.execute(SIGN_IN_QUERY, [name.strip()]).fetchone()
    if row is None:
        # the same work as for a real account, so that timing does not tell the names apart
        verify_password(_dummy_hash(HASHER), password)
        return _wrong()
    name, role, partner, password_hash, disabled, failed, locked_until = row
    if locked_until is not None and locked_until > now:
        return _locked(locked_until, now)
    if checked is not None and checked[0] == password_hash:
        matches = checked[1]
    else:
        matches = verify_password(password_hash, password)
    if not matches:
        failed += 1
        if failed >= MAX_FAILED_ATTEMPTS:
            until = now + LOCKOUT
            # the count starts again when the lock ends
            cur.execute(
                "UPDATE users SET failed_attempts = 0, locked_until = ? WHERE name = ?",
                [until, name],
            )
            audit.record(
                cur,
                "sign-in",
                "lock",
                "user",
                name,
                after={"locked_until": until, "failed_attempts": failed},
            )
            return _locked(until, now)
        cur.execute(
            "UPDATE users SET failed_attempts = ?, locked_until = NULL WHERE name = ?",
            [failed, name],
        )
        return _wrong()
    if disabled:
        # only someone who knows the password learns that the account exists
        return AuthError(t("This account is disabled. Ask the secretariat to enable it."))
    if HASHER.check_needs_rehash(password_hash):
        cur.execute(
            "UPDATE users SET password_hash = ? WHERE name = ?", [hash_password(password), name]
        )
    cur.execute(
        "UPDATE users SET failed_attempts = 0, locked_until = NULL, last_sign_in = ? "
        "WHERE name = ?",
        [now, name],
    )
    return User(name, role, partner)


def authenticate(
    db: Database | duckdb.DuckDBPyConnection,
    name: str,
    password: str,
    now: dt.datetime | None = None,
) -> User:
    """The account ``name`` if ``password`` is its password, else :class:`AuthError`.

    Give a :class:`Database`: the failed attempt (or the sign-in time) is then stored in its
    own transaction before the error is raised. A cursor is written to as it is (the caller's
    transaction, if any, must commit even when this raises). ``now`` (UTC, no time zone) is
    for tests.
    """
    now = now or utcnow()
    if isinstance(db, Database):
        # The password is checked (deliberately slow: argon2) before the write begins, so
        # that sign-ins at the same moment do not queue behind each other's hashing for the
        # process's one write turn; the write then re-reads the account and stores the outcome.
        with db.read() as cur:
            row = cur.execute(SIGN_IN_QUERY, [name.strip()]).fetchone()
        if row is None:
            verify_password(_dummy_hash(HASHER), password)
            raise _wrong()
        password_hash, locked_until = row[3], row[6]
        if locked_until is not None and locked_until > now:
            raise _locked(locked_until, now)
        checked = (password_hash, verify_password(password_hash, password))
        with db.write(changes_figures=False) as cur:
            outcome = _sign_in(cur, name, password, now, checked)
    else:
        outcome = _sign_in(db, name, password, now)
    if isinstance(outcome, AuthError):
        raise outcome
    return outcome


def change_own_password(
    db: Database,
    name: str,
    current: str,
    new: str,
    now: dt.datetime | None = None,
) -> None:
    """A signed-in user changes their password: the current one is checked as a sign-in is
    (a wrong one counts toward the lock-out)."""
    check_password(new, name)
    authenticate(db, name, current, now=now)
    with db.write() as cur:
        set_password(cur, name, new, actor=name)
