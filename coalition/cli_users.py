"""``coalition user …``: accounts that sign in to the app (registered by ``coalition.cli``).

Each command is a thin adapter over :mod:`coalition.auth`. A password is never an option on
the command line (it would stay in the shell history and be visible to other users of the
machine): it is asked for twice without echo, or read as one line from standard input with
``--password-stdin``.
"""

from __future__ import annotations

import sys

import click
import pandas as pd

from coalition import auth, store
from coalition.cli_common import db_option, lang_option
from coalition.db import Database
from coalition.i18n import N_, t
from metrics.access import ROLES

BY_OPTION = click.option(
    "--by", "actor", default="cli", show_default=True, help="Who makes the change (audit log)."
)
# The role as a sentence names it ("Added the partner account …"), in the chosen language.
ROLE_NAMES = {
    "secretariat": N_("secretariat"),
    "partner": N_("partner"),
    "observer": N_("observer"),
}
CREATE_FIRST_ACCOUNT = "coalition user add NAME --role secretariat"
PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password as one line from standard input."
)


def _password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise click.ClickException(t("No password on standard input."))
        return password
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _change(db: Database, change) -> None:
    """Run ``change(cur)`` in one write transaction; an AuthError becomes a clear message."""
    try:
        with db.write() as cur:
            change(cur)
    except auth.AuthError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("user")
def user() -> None:
    """Manage the accounts that sign in to the app."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account sees.")
@click.option("--partner", default=None, help="For a partner account: the partner's slug.")
@PASSWORD_STDIN
@BY_OPTION
@lang_option
@db_option
def user_add(
    db: Database,
    name: str,
    role: str,
    partner: str | None,
    password_stdin: bool,
    actor: str,
) -> None:
    """Create the account NAME; asks for its password (at least 10 characters)."""
    if not store.is_initialised(db):
        store.init(db)
    password = _password(password_stdin, t("Password"))
    _change(db, lambda cur: auth.add_user(cur, name, role, password, partner, actor=actor))
    role_name = t(ROLE_NAMES.get(role, role))
    if partner:
        click.echo(
            t(
                "Added the {role} account {name} of {partner}.",
                role=role_name,
                name=name.strip(),
                partner=partner,
            )
        )
    else:
        click.echo(t("Added the {role} account {name}.", role=role_name, name=name.strip()))


@user.command("list")
@lang_option
@db_option
def user_list(db: Database) -> None:
    """List the accounts: name, role, partner, state and last sign-in (UTC)."""
    with db.read() as cur:
        frame = auth.users(cur)
    if frame.empty:
        click.echo(t("No accounts yet. Create one with: {command}", command=CREATE_FIRST_ACCOUNT))
        return
    now = auth.utcnow()
    for row in frame.itertuples():
        state = t("disabled") if row.disabled else t("enabled")
        if pd.notna(row.locked_until) and row.locked_until > now:
            state = t(
                "{state}, locked until {time}",
                state=state,
                time=f"{row.locked_until:%Y-%m-%d %H:%M}",
            )
        last = f"{row.last_sign_in:%Y-%m-%d %H:%M}" if pd.notna(row.last_sign_in) else t("never")
        partner = row.partner if isinstance(row.partner, str) else "-"
        # the role stays a code (as --role takes it), so that a script can read the columns
        last_text = t("last sign-in {time}", time=last)
        click.echo(f"{row.name}\t{row.role}\t{partner}\t{state}\t{last_text}")


@user.command("disable")
@click.argument("name")
@BY_OPTION
@lang_option
@db_option
def user_disable(db: Database, name: str, actor: str) -> None:
    """Stop NAME from signing in (its open sessions end at their next click)."""
    _change(db, lambda cur: auth.set_disabled(cur, name, True, actor=actor))
    click.echo(t("Disabled {name}.", name=name))


@user.command("enable")
@click.argument("name")
@BY_OPTION
@lang_option
@db_option
def user_enable(db: Database, name: str, actor: str) -> None:
    """Let a disabled account NAME sign in again."""
    _change(db, lambda cur: auth.set_disabled(cur, name, False, actor=actor))
    click.echo(t("Enabled {name}.", name=name))


@user.command("password")
@click.argument("name")
@PASSWORD_STDIN
@BY_OPTION
@lang_option
@db_option
def user_password(db: Database, name: str, password_stdin: bool, actor: str) -> None:
    """Set a new password for NAME (this also lifts a lock-out)."""
    with db.read() as cur:
        known = cur.execute("SELECT count(*) FROM users WHERE name = ?", [name]).fetchone()[0]
    if not known:
        raise click.ClickException(t("There is no account named {name}.", name=name))
    password = _password(password_stdin, t("New password"))
    _change(db, lambda cur: auth.set_password(cur, name, password, actor=actor))
    click.echo(t("Set a new password for {name}.", name=name))


# Every click command or group in this list is added to the ``coalition`` command.
COMMANDS: list[click.Command] = [user]
