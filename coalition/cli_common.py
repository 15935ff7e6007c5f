"""What every ``coalition`` command shares: the ``--db`` and ``--lang`` options and clear
database errors.

Command modules (``cli.py``, ``cli_users.py``, ``cli_backup.py``, ``cli_deck.py``) import from
here, so that none of them has to import another.
"""

from __future__ import annotations

import inspect
import os
from functools import wraps

import click

from coalition import i18n, migrate, store
from coalition.db import Database, DatabaseBusy, DatabaseNotInitialised
from coalition.i18n import t

# The languages of ``--lang``, by their short codes, and the catalogue each one uses.
LANG_CODES: dict[str, str] = {"en": "en", "zh": "zh_Hans", "fr": "fr", "es": "es"}
LANG_ENV = "COALITION_LANG"


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


def short_language(code: str | None) -> str | None:
    """The ``--lang`` code (en, zh, fr, es) of a language tag (``zh_CN``, ``zh-Hans``,
    ``fr_CA``, ``EN`` …), or None for a language the tracker does not offer."""
    language = i18n.normalise_language((code or "").strip())
    for short, catalogue in LANG_CODES.items():
        if catalogue == language:
            return short
    return None


class LanguageType(click.ParamType):
    """A language for ``--lang``: en, zh, fr or es (other spellings such as ``zh_CN`` or
    ``zh-Hans`` are taken too); converts to the short code."""

    name = "lang"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(LANG_CODES) + "]"

    def convert(self, value, param, ctx):
        short = short_language(value)
        if short is None:
            self.fail(
                t(
                    "“{value}” is not a language of the tracker: use one of {choices}.",
                    value=value,
                    choices=", ".join(LANG_CODES),
                ),
                param,
                ctx,
            )
        return short


def _use_language(ctx: click.Context, param: click.Parameter, value: str) -> str:
    # eager: runs before the other options are read, so their errors are in this language too
    before = i18n.get_language()
    i18n.set_language(LANG_CODES[value])
    ctx.call_on_close(lambda: i18n.set_language(before))
    return value


def lang_option(command):
    """Give a command the ``--lang`` option (en, zh, fr, es; default ``$COALITION_LANG``, else
    en): its words, and the files it makes, are in that language. French and Spanish are
    partial (what is not translated yet is in English). A command whose function takes a
    ``lang`` parameter receives the short code too."""
    takes_lang = "lang" in inspect.signature(command).parameters
    return click.option(
        "--lang",
        type=LanguageType(),
        default=lambda: os.environ.get(LANG_ENV) or "en",
        show_default="$COALITION_LANG, else en",
        is_eager=True,
        expose_value=takes_lang,
        callback=_use_language,
        help="Language of the output: en, zh (Simplified Chinese); fr, es (partial).",
    )(command)
