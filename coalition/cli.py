"""The ``coalition`` command: everything the pages do with data, in batch.

Each command is a thin adapter: parse options, call the storage or metrics layer, print.
The database is ``--db PATH``, else ``$COALITION_DB``, else ``data/coalition.duckdb``.
Every command that prints words or makes files takes ``--lang`` (en, zh, fr, es; default
``$COALITION_LANG``, else en). Machine-readable output (``--json``, exported files' columns,
status codes) stays the same in every language.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import math
import re
import sys
from pathlib import Path

import click
import pandas as pd

import metrics
from coalition import export as exporting
from coalition import store, theme
from coalition.cli_common import db_option, lang_option
from coalition.db import Database
from coalition.i18n import format_count, format_date, format_percent, t
from coalition.reference import GLOBAL

BY_CHOICES = {
    "platform": "platform",
    "species": "species_group",
    "region": "region",
    "subregion": "subregion",
    "country": "country",
    "partner": "partner",
    "sector": "sector",
}


class LanguageGroup(click.Group):
    """A command group whose run keeps its ``--lang`` to itself: each run of ``coalition``
    (also in tests, several in one process) starts in the default language."""

    def main(self, *args, **kwargs):
        return contextvars.copy_context().run(super().main, *args, **kwargs)


@click.group(cls=LanguageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coalition-tracker")
def cli() -> None:
    """Coalition Progress Tracker: submissions, indicators and progress toward the
    coalition's target to cut wildlife trafficking online."""


@cli.command()
@lang_option
@db_option
def init(db: Database) -> None:
    """Create the database with its reference data (species groups, countries, periods)."""
    store.init(db)
    click.echo(t("Initialised {path}.", path=db.path))


@cli.command()
@click.option("--seed", default=2018, show_default=True, help="Random seed of the demo data.")
@click.option("--force", is_flag=True, help="Replace an existing database file.")
@lang_option
@db_option
def demo(db: Database, seed: int, force: bool) -> None:
    """Load the synthetic demo dataset (fictional partners, seeded and reproducible)."""
    from coalition.demo import load_demo

    if db.exists and store.is_initialised(db):
        with db.read() as cur:
            has_partners = cur.execute("SELECT count(*) FROM partners").fetchone()[0] > 0
        if has_partners and not force:
            raise click.ClickException(
                t(
                    "{path} already holds data. Use --force to replace it with the demo, "
                    "or --db to choose another file.",
                    path=db.path,
                )
            )
        if force:
            db.path.unlink()
            db.path.with_name(db.path.name + ".wal").unlink(missing_ok=True)
    summary = load_demo(db, seed=seed)
    click.echo(
        t(
            "Loaded synthetic demo data into {path}: {partners} partners, {platforms} "
            "platforms, {records} records.",
            path=db.path,
            partners=summary.get("partners"),
            platforms=summary.get("platforms"),
            records=summary.get("records"),
        )
    )


@cli.group()
def partner() -> None:
    """Manage partner companies."""


def _month(value: str | None) -> dt.date | None:
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}", value):
        raise click.BadParameter(
            t("“{value}” is not a month: use YYYY-MM, e.g. 2019-08.", value=value)
        )
    try:
        return dt.date(int(value[:4]), int(value[5:]), 1)
    except ValueError as exc:
        raise click.BadParameter(t("“{value}” is not a month: use YYYY-MM.", value=value)) from exc


@partner.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="The company's name.")
@click.option("--sector", required=True, type=click.Choice(store.SECTORS), help="Its sector.")
@click.option("--joined", default=None, help="Month it joined, YYYY-MM (default: this month).")
@click.option("--platform", "platforms", multiple=True, help="A platform it runs (repeatable).")
@click.option("--consent", is_flag=True, help="It consents to be named in public figures.")
@lang_option
@db_option
def partner_add(
    db: Database,
    slug: str,
    name: str,
    sector: str,
    joined: str | None,
    platforms: tuple[str, ...],
    consent: bool,
) -> None:
    """Register a partner company SLUG and its platforms."""
    joined_on = _month(joined) or dt.date.today().replace(day=1)
    if not store.is_initialised(db):
        store.init(db)
    with db.write() as cur:
        store.add_partner(
            cur,
            slug,
            name,
            sector,
            joined_on,
            consent_to_name=consent,
            platforms=tuple((p, "other") for p in platforms),
        )
    click.echo(
        t(
            "Added partner {slug} with {n} platform.",
            plural="Added partner {slug} with {n} platforms.",
            n=len(platforms),
            slug=slug,
        )
    )


class ViewerType(click.ParamType):
    """``secretariat``, ``observer`` or ``partner:SLUG``: whose eyes the figures are for."""

    name = "viewer"

    def convert(self, value, param, ctx):
        if isinstance(value, metrics.Viewer):
            return value
        try:
            return metrics.Viewer.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def viewer_option(command):
    """The ``--viewer`` option: what a secretariat, a partner or an observer may see."""
    return click.option(
        "--viewer",
        type=ViewerType(),
        default="secretariat",
        show_default=True,
        help="Whose view: secretariat (everything), partner:SLUG (its own rows and "
        "aggregates), observer (aggregates of at least 3 partners unless they consented).",
    )(command)


def check_viewer(cur, viewer: metrics.Viewer) -> None:
    """Refuse a partner viewer whose partner is not registered."""
    if viewer.partner is not None:
        known = set(store.partners(cur)["slug"])
        if viewer.partner not in known:
            raise click.BadParameter(
                t(
                    "No partner “{partner}”; known: {known}.",
                    partner=viewer.partner,
                    known=", ".join(sorted(known)) or t("none"),
                ),
                param_hint="--viewer",
            )


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(exporting.FORMATS),
    default="csv",
    show_default=True,
    help="File format.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output file (default: standard output).",
)
@viewer_option
@lang_option
@db_option
def export_command(db: Database, fmt: str, out: str | None, viewer: metrics.Viewer) -> None:
    """Write the current (not superseded) records with the canonical columns; for
    ``--viewer partner:SLUG`` that partner's own records only, for ``--viewer observer`` only
    aggregates by quarter, species group and region, none resting on fewer than 3 partners
    who have not consented to be named."""
    with db.read() as cur:
        check_viewer(cur, viewer)
        frame = exporting.for_viewer(cur, viewer)
    if out:
        with open(out, "wb") as fh:
            exporting.write(frame, fmt, fh)
        if viewer.role == "observer":
            message = t(
                "Wrote {n} aggregate row to {out}.",
                plural="Wrote {n} aggregate rows to {out}.",
                n=len(frame),
                out=out,
            )
        else:
            message = t(
                "Wrote {n} record to {out}.",
                plural="Wrote {n} records to {out}.",
                n=len(frame),
                out=out,
            )
        click.echo(message, err=True)
    else:
        exporting.write(frame, fmt, sys.stdout.buffer)


def _read_file(path: str) -> bytes:
    from coalition.reader import MAX_FILE_BYTES

    size = Path(path).stat().st_size
    if size > MAX_FILE_BYTES:
        # refused before it is read, as the app refuses an upload over its limit
        raise click.ClickException(
            t(
                "{path} is {size} MB; the limit is {limit} MB. Split it into several files (for "
                "example one per year).",
                path=path,
                size=f"{size / 1_048_576:.1f}",
                limit=MAX_FILE_BYTES // 1_048_576,
            )
        )
    return Path(path).read_bytes()


def _print_report(payload: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for severity in ("errors", "warnings"):
        for p in payload[severity]:
            where = ", ".join(
                part
                for part in (
                    t("row {row}", row=p["row"]) if p["row"] is not None else "",
                    p["column"] or "",
                )
                if part
            )
            label = t("error") if severity == "errors" else t("warning")
            click.echo(f"{label}: {where + ': ' if where else ''}{p['message']} [{p['code']}]")
    click.echo(
        t(
            "{rows}; {errors}, {warnings}: {verdict}.",
            rows=t("{n} row", plural="{n} rows", n=payload["rows"]),
            errors=t("{n} error", plural="{n} errors", n=len(payload["errors"])),
            warnings=t("{n} warning", plural="{n} warnings", n=len(payload["warnings"])),
            verdict=t("valid") if payload["valid"] else t("invalid"),
        )
    )


@cli.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--partner", required=True, help="Slug of the partner the file comes from.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@lang_option
@db_option
def validate_command(db: Database, file: str, partner: str, as_json: bool) -> None:
    """Check FILE (.xlsx or .csv) and report every problem; writes nothing.

    Exits 0 when the file is valid (warnings allowed), 1 when it has errors."""
    from coalition.validation import validate

    data = _read_file(file)
    with db.read() as cur:
        report = validate(cur, partner, data, Path(file).name).report
    _print_report(report.as_dict(), as_json)
    sys.exit(0 if report.valid else 1)


@cli.command("ingest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--partner", required=True, help="Slug of the partner the file comes from.")
@click.option("--yes", "acknowledge", is_flag=True, help="Acknowledge the warnings and load.")
@click.option(
    "--accept", is_flag=True, help="Secretariat batch load: accepted at once (implies --yes)."
)
@click.option("--by", "uploaded_by", default="cli", show_default=True, help="Who loads it.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@lang_option
@db_option
def ingest_command(
    db: Database,
    file: str,
    partner: str,
    acknowledge: bool,
    accept: bool,
    uploaded_by: str,
    as_json: bool,
) -> None:
    """Validate FILE, then load all of it or nothing; warnings need --yes.

    Exits 0 when the file was stored (or had been stored before), 1 otherwise."""
    from coalition.ingest import ingest

    data = _read_file(file)
    result = ingest(
        db,
        partner,
        data,
        Path(file).name,
        uploaded_by=uploaded_by,
        acknowledge_warnings=acknowledge,
        accept=accept,
    )
    _print_report(result.as_dict(), as_json)
    if not as_json:
        if result.stored and accept:
            click.echo(t("Stored as submission {id} (accepted).", id=result.submission_id))
        elif result.stored:
            click.echo(
                t("Stored as submission {id} (submitted for review).", id=result.submission_id)
            )
        elif result.reason == "duplicate":
            click.echo(
                t("This file was loaded before, as submission {id}.", id=result.submission_id)
            )
        elif result.reason == "warnings":
            click.echo(t("Nothing stored: check the warnings, then run again with --yes."))
        else:
            click.echo(t("Nothing stored: fix the errors and run again."))
    sys.exit(0 if result.stored or result.reason == "duplicate" else 1)


@cli.command("template")
@click.option("--partner", required=True, help="Slug of the partner the template is for.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .xlsx to write.")
@lang_option
@db_option
def template_command(db: Database, partner: str, out: str, lang: str) -> None:
    """Write the submission template for a partner, pre-filled with its platforms (in
    English or Chinese; --lang fr or es gives the English template)."""
    from coalition.template import build_template

    with db.read() as cur:
        data = build_template(cur, partner, lang)
    Path(out).write_bytes(data)
    click.echo(
        t("Wrote the {lang} template for {partner} to {out}.", lang=lang, partner=partner, out=out)
    )


def _filters(
    period_from, period_to, partners, sectors, species, regions, include_submitted, viewer
):
    try:
        filters = metrics.Filters(
            period_from=period_from,
            period_to=period_to,
            partners=tuple(partners),
            sectors=tuple(sectors),
            species_groups=tuple(species),
            regions=tuple(regions),
            include_submitted=include_submitted,
            viewer=viewer,
        )
        filters.params()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    return filters


def _plain(value):
    """A value as JSON wants it: None for missing, ISO text for dates, floats and ints."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT or (not isinstance(value, str | bool) and pd.isna(value)):
        return None
    if isinstance(value, dt.date | pd.Timestamp):
        return value.isoformat()[:10]
    if hasattr(value, "item"):
        return value.item()
    return value


PROGRESS_KEYS = {
    "group": "group",
    "as_of": "as_of",
    "current_period": "current_period",
    "reduction": "reduction",
    "target_reduction": "target",
    "target_name": "target_name",
    "deadline": "deadline",
    "progress": "progress",
    "status": "status",
    "pace_ratio": "pace_ratio",
    "projected_reduction_at_deadline": "projected_reduction_at_deadline",
    "projected_reduction_low": "projected_reduction_low",
    "projected_reduction_high": "projected_reduction_high",
    "projected_target_date": "projected_target_date",
    "cumulative_actions": "cumulative_actions",
    "coverage_share": "coverage",
    "units_in_panel": "units_in_panel",
    "units_with_baseline": "units_with_baseline",
    "platforms_in_panel": "platforms_in_panel",
    "withheld": "withheld",
}


def progress_records(frame: pd.DataFrame) -> list[dict]:
    """Rows of :func:`metrics.progress` with the keys of ``coalition progress --json``."""
    return [
        {key: _plain(row[col]) for col, key in PROGRESS_KEYS.items()}
        for row in frame.to_dict("records")
    ]


def _percent(value) -> str:
    return format_percent(value)


@cli.command("progress")
@click.option(
    "--by",
    type=click.Choice(sorted(BY_CHOICES)),
    default=None,
    help="One figure per group instead of one for the coalition.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--from",
    "period_from",
    default=None,
    help="First period listed (YYYY-MM or YYYY-Qn).",
)
@click.option(
    "--to",
    "period_to",
    default=None,
    help="Figures as of the end of this period (default: the latest data).",
)
@click.option("--target", "target_name", default=None, help="Name of a configured target.")
@click.option("--partner", "partners", multiple=True, help="Only this partner (repeatable).")
@click.option("--sector", "sectors", multiple=True, type=click.Choice(store.SECTORS))
@click.option("--species", multiple=True, help="Only this species group slug (repeatable).")
@click.option("--region", "regions", multiple=True, help="Only this UN M49 region or subregion.")
@click.option("--include-submitted", is_flag=True, help="Count submissions not yet accepted.")
@viewer_option
@lang_option
@db_option
def progress_command(
    db: Database,
    by,
    as_json,
    period_from,
    period_to,
    target_name,
    partners,
    sectors,
    species,
    regions,
    include_submitted,
    viewer,
) -> None:
    """Progress toward the reduction target, as of the end of the period range."""
    filters = _filters(
        period_from, period_to, partners, sectors, species, regions, include_submitted, viewer
    )
    with db.read() as cur:
        check_viewer(cur, viewer)
        target = None
        if target_name:
            found = [t for t in metrics.targets(cur) if t.name == target_name]
            if not found:
                names = ", ".join(t.name for t in metrics.targets(cur))
                raise click.BadParameter(
                    t("No target named “{name}”; known: {known}.", name=target_name, known=names)
                )
            target = found[0]
        frame = metrics.progress(cur, filters, by=BY_CHOICES.get(by), target=target)
        synthetic = store.is_synthetic(cur)
    rows = progress_records(frame)
    if as_json:
        payload = rows if by else (rows[0] if rows else {})
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if synthetic:
        click.echo(t("Synthetic demo data — not real coalition figures") + "\n")
    for row in rows:
        label = _group_label(by, row["group"]) if by else t("Coalition")
        if row["withheld"]:
            click.echo(
                t(
                    "{label}: withheld — built from fewer than 3 partners who have not "
                    "consented to be named.",
                    label=label,
                )
            )
            continue
        click.echo(
            t(
                "{label}: reduction {reduction} vs baseline as of {as_of} ({period}); target "
                "{target} by {deadline}; progress {progress}; status {status}; projected at "
                "deadline {projected}; coverage {coverage} of baseline volume ({units} units); "
                "cumulative actions {actions}.",
                label=label,
                reduction=_percent(row["reduction"]),
                as_of=_date(row["as_of"]),
                period=row["current_period"] or "—",
                target=_percent(row["target"]),
                deadline=_date(row["deadline"]),
                progress=_percent(row["progress"]),
                status=t(theme.status_style(row["status"]).label),
                projected=_percent(row["projected_reduction_at_deadline"]),
                coverage=_percent(row["coverage"]),
                units=row["units_in_panel"],
                actions=format_count(row["cumulative_actions"] or 0),
            )
        )


def _date(iso: str | None) -> str:
    return format_date(dt.date.fromisoformat(iso) if iso else None)


def _group_label(by: str, group) -> str:
    """A group of ``progress --by`` as a reader names it: species groups, countries and regions
    in the chosen language; platforms, partners and sectors as registered."""
    from coalition.i18n import country_name, region_name, species_name

    if not isinstance(group, str):
        return str(group)
    if by == "species":
        return species_name(group)
    if by == "country" and group != GLOBAL:
        return f"{country_name(group)} ({group})"
    if by in ("region", "subregion", "country"):
        return region_name(group)
    return group


def _register() -> None:
    """Add the commands defined in the other command modules."""
    from coalition import cli_backup, cli_deck, cli_users

    for module in (cli_users, cli_backup, cli_deck):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="coalition")


if __name__ == "__main__":
    main()
