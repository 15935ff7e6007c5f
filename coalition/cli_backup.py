"""``coalition`` commands: backup and restore (registered by ``coalition.cli``)."""

from __future__ import annotations

import click

from coalition import backup as backups
from coalition import migrate
from coalition.cli_common import db_option, lang_option
from coalition.db import Database, DatabaseBusy, resolve_path
from coalition.i18n import t


@click.command("backup")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="A new (or empty) folder for the backup.",
)
@lang_option
@db_option
def backup_command(db: Database, out: str) -> None:
    """Back up the whole database (records, submissions, archived files, accounts, audit log)
    into a folder of Parquet files with a manifest of row counts and SHA-256 hashes."""
    try:
        summary = backups.backup(db, out)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        t(
            "Backed up {db} to {folder}: {what}.",
            db=db.path,
            folder=summary.folder,
            what=summary.describe(),
        )
    )


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Database file to create (default: $COALITION_DB, else data/coalition.duckdb).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing database file (it is kept as NAME.before-restore-TIMESTAMP).",
)
@click.option("--by", "actor", default="cli", show_default=True, help="Who restores (audit log).")
@lang_option
def restore_command(folder: str, db_path: str | None, force: bool, actor: str) -> None:
    """Restore the backup in FOLDER into a new database file, after checking every file's
    hash; a backup made by an older release is upgraded to this release's schema."""
    target = resolve_path(db_path)
    try:
        summary = backups.restore(folder, target, force=force, actor=actor)
    except (backups.BackupError, migrate.SchemaTooNew, DatabaseBusy) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        t(
            "Restored {folder} into {db}: {what}.",
            folder=summary.folder,
            db=target,
            what=summary.describe(),
        )
    )


# Every click command or group in this list is added to the ``coalition`` command.
COMMANDS: list[click.Command] = [backup_command, restore_command]
