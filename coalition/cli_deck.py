"""``coalition`` commands: deck and summary (registered by ``coalition.cli``).

Both draw the presentation of the Presentation page in the observer view (aggregates only),
with the charts drawn by kaleido through Chromium (see :mod:`coalition.deck`).
"""

from __future__ import annotations

import click

from coalition.cli_common import db_option, lang_option
from coalition.db import Database
from coalition.i18n import t
from metrics.filters import month_bounds


def _period(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        month_bounds(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    return value


PERIOD_OPTION = click.option(
    "--period",
    default=None,
    callback=lambda ctx, param, value: _period(value),
    help="Figures as of the end of this period, YYYY-MM or YYYY-Qn (default: the latest data).",
)


@click.command("deck")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .pptx to write.")
@PERIOD_OPTION
@lang_option
@db_option
def deck_command(db: Database, out: str, lang: str, period: str | None) -> None:
    """Write the presentation as a PowerPoint deck: one slide per message, the numbers as
    text, the charts as images; aggregates only (observer view)."""
    from coalition import deck

    try:
        path = deck.build_deck(db, out, lang=lang, period_to=period)
    except deck.RenderError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(t("Wrote the deck to {path}.", path=path))


@click.command("summary")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .pdf to write.")
@PERIOD_OPTION
@lang_option
@db_option
def summary_command(db: Database, out: str, lang: str, period: str | None) -> None:
    """Write a one-page PDF summary: the headline, the trend and the world map; aggregates
    only (observer view)."""
    from coalition import deck

    try:
        path = deck.build_summary(db, out, lang=lang, period_to=period)
    except deck.RenderError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(t("Wrote the summary to {path}.", path=path))


# Every click command or group in this list is added to the ``coalition`` command.
COMMANDS: list[click.Command] = [deck_command, summary_command]
