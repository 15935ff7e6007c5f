"""What every ``coalition`` command shares: the ``--db`` option and clear database errors.

Command modules (``cli.py``, ``cli_users.py``, ``cli_backup.py``, ``cli_deck.py``) import from
here, so that none of them has to import another.
"""

from __future__ import annotations

from functools import wraps

import click

from coalition import migrate, store
from coalition.db import Database, DatabaseBusy, DatabaseNotInitialised


def db_option(command):
    """Give a command the ``--db`` option and turn database errors into clear messages."""

    @click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Database file (default: $COALITION_DB, else data/coalition.duckdb).",
    )
    @wraps(command)
    def wrapper(*args, db_path=None, **kwargs):
        try:
            db = Database(db_path)
            if db.exists and store.is_initialised(db):
                migrate.upgrade(db)  # a database from an older release is brought up to date
            return command(*args, db=db, **kwargs)
        except (
            DatabaseBusy,
            DatabaseNotInitialised,
            migrate.SchemaTooNew,
            store.StoreError,
        ) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper
