"""The sections of the Admin page: partners, platforms, baselines, targets, accounts and the
audit log.

Every change goes through :mod:`coalition.admin` in one ``Database.write()`` transaction, which
writes it to the audit log with the signed-in user as the actor. A change that is refused shows
its message where it was made, with the form as it was filled; a change that is stored reruns
the page, which then reads the tables afresh and says what was done. These tables are small, so
they are read directly on every run rather than cached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import duckdb
import pandas as pd
import streamlit as st

from coalition import admin
from coalition.db import Database
from coalition.i18n import N_, format_date, t
from coalition.store import PLATFORM_KINDS, SECTORS, StoreError
from coalition.ui.components import csv_bytes
from coalition.ui.filter_bar import SECTOR_LABELS

UNKNOWN_ACTOR = "unknown"
FLASH_KEY = "admin_flash"  # (section, kind, message) of the last change, shown after the rerun
ALL = ""  # the "all" choice of the audit log's filters

KIND_LABELS = {
    "marketplace": N_("Marketplace"),
    "second-hand": N_("Second-hand"),
    "social": N_("Social network"),
    "messaging": N_("Messaging"),
    "search": N_("Search engine"),
    "other": N_("Other"),
}
ENTITY_LABELS = {
    "partner": N_("Partner"),
    "platform": N_("Platform"),
    "baseline": N_("Baseline"),
    "target": N_("Target"),
    "user": N_("Account"),
    "submission": N_("Submission"),
}


def _label(labels: dict[str, str], value: str) -> str:
    return t(labels[value]) if value in labels else value


# --- Who is making the changes -------------------------------------------------------------


# The Admin page's tabs: the label of the one shown (see views/admin.py).
TAB_KEY = "admin_tab"


def require_secretariat() -> str:
    """The signed-in user's name, the actor of every change on this page. Stops the page for
    anyone but the secretariat (the navigation already hides it from them). Without a sign-in
    module in this build, the actor is "unknown"."""
    try:
        from coalition.ui import session
    except ImportError as exc:
        if exc.name != "coalition.ui.session":
            raise
        return UNKNOWN_ACTOR
    user = session.current_user()
    if user is None or user.role != "secretariat":
        st.error(t("Only the secretariat can open the Admin page."), icon=":material/lock:")
        st.stop()
    return user.name or UNKNOWN_ACTOR


# --- Storing a change ----------------------------------------------------------------------


def _apply(
    db: Database,
    section: str,
    change: Callable[[duckdb.DuckDBPyConnection], object],
    done: str,
) -> None:
    """Store ``change`` in one transaction; say what went wrong, or rerun to show the result
    (``done``, or "nothing changed" when the change returned False)."""
    try:
        with db.write() as cur:
            result = change(cur)
    except StoreError as problem:
        st.error(str(problem), icon=":material/error:")
        return
    except duckdb.Error as problem:
        st.error(t("The change was not saved: {error}", error=problem), icon=":material/error:")
        return
    if result is False:
        st.session_state[FLASH_KEY] = (section, "info", t("Nothing changed."))
    else:
        st.session_state[FLASH_KEY] = (section, "success", done)
    st.rerun()


def _flash(section: str) -> None:
    """The outcome of the last change, in the section where it was made."""
    stored = st.session_state.get(FLASH_KEY)
    if not stored or stored[0] != section:
        return
    del st.session_state[FLASH_KEY]
    _, kind, message = stored
    if kind == "success":
        st.success(message, icon=":material/check_circle:")
    else:
        st.info(message, icon=":material/info:")


def _date_input(label: str, value: dt.date, key: str) -> dt.date:
    return st.date_input(
        label, value=value, min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31), key=key
    )


# --- Partners ------------------------------------------------------------------------------


def partners_section(db: Database, actor: str) -> None:
    """The partners: their sector, joined date and consent to be named; add and edit."""
    with db.read() as cur:
        frame = admin.partners(cur)
    _flash("partners")
    if frame.empty:
        st.info(t("No partner is registered yet."), icon=":material/group_off:")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    t("Partner"): frame["name"],
                    t("Slug"): frame["slug"],
                    t("Sector"): frame["sector"].map(lambda s: _label(SECTOR_LABELS, s)),
                    t("Joined"): frame["joined"].map(format_date),
                    t("Consents to be named"): frame["consent_to_name"],
                    t("Platforms"): frame["platforms"],
                    t("Submissions"): frame["submissions"],
                }
            ),
            hide_index=True,
        )
        st.caption(
            t(
                "Figures shown to observers name a partner only if it consents; the others are "
                "merged so that no figure rests on fewer than 3 of them."
            )
        )
        _edit_partner(db, actor, frame)
    _add_partner(db, actor)


def _edit_partner(db: Database, actor: str, frame: pd.DataFrame) -> None:
    names = dict(zip(frame["slug"], frame["name"], strict=True))
    slug = st.selectbox(
        t("Partner to edit"), list(names), format_func=names.get, key="admin_partner_pick"
    )
    with db.read() as cur:
        current = admin.partner(cur, slug)
        held = admin.partner_references(cur, slug)
    with st.form(f"admin_partner_edit_{slug}"):
        name = st.text_input(
            t("Name"),
            value=current["name"],
            key=f"admin_partner_name_{slug}",
            disabled=bool(held),
            help=t("Fixed once the partner has platforms, submissions or accounts.")
            if held
            else None,
        )
        sector = st.selectbox(
            t("Sector"),
            SECTORS,
            index=SECTORS.index(current["sector"]),
            format_func=lambda s: _label(SECTOR_LABELS, s),
            key=f"admin_partner_sector_{slug}",
        )
        joined = _date_input(t("Joined"), current["joined"], f"admin_partner_joined_{slug}")
        consent = st.checkbox(
            t("Consents to be named in public figures"),
            value=current["consent_to_name"],
            key=f"admin_partner_consent_{slug}",
        )
        saved = st.form_submit_button(t("Save the partner"), type="primary")
    if saved:
        _apply(
            db,
            "partners",
            lambda cur: admin.update_partner(
                cur, actor, slug, name=name, sector=sector, joined=joined, consent_to_name=consent
            ),
            t("Saved the partner {name}.", name=names[slug]),
        )


def _add_partner(db: Database, actor: str) -> None:
    with st.expander(t("Add a partner"), icon=":material/group_add:"), st.form("admin_partner_add"):
        slug = st.text_input(
            t("Slug"),
            key="admin_partner_add_slug",
            help=t("A short, fixed identifier: lower-case letters, digits and hyphens."),
        )
        name = st.text_input(t("Name"), key="admin_partner_add_name")
        sector = st.selectbox(
            t("Sector"),
            SECTORS,
            format_func=lambda s: _label(SECTOR_LABELS, s),
            key="admin_partner_add_sector",
        )
        joined = _date_input(t("Joined"), dt.date.today(), "admin_partner_add_joined")
        consent = st.checkbox(
            t("Consents to be named in public figures"), key="admin_partner_add_consent"
        )
        added = st.form_submit_button(t("Add the partner"))
    if added:
        _apply(
            db,
            "partners",
            lambda cur: admin.add_partner(
                cur, actor, slug, name, sector, joined, consent_to_name=consent
            ),
            t("Added the partner {name}.", name=name.strip()),
        )


# --- Platforms -----------------------------------------------------------------------------


def platforms_section(db: Database, actor: str) -> None:
    """The platforms of each partner: add one, rename it or change its kind."""
    with db.read() as cur:
        frame = admin.platforms(cur)
        partners = admin.partners(cur)
    _flash("platforms")
    if frame.empty:
        st.info(t("No platform is registered yet."), icon=":material/storefront:")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    t("Platform"): frame["name"],
                    t("Partner"): frame["partner_name"],
                    t("Kind"): frame["kind"].map(lambda k: _label(KIND_LABELS, k)),
                    t("First quarter reported"): frame["first_reported"],
                    t("Last quarter reported"): frame["last_reported"],
                }
            ),
            hide_index=True,
        )
        _edit_platform(db, actor, frame)
    if not partners.empty:
        _add_platform(db, actor, dict(zip(partners["slug"], partners["name"], strict=True)))


def _edit_platform(db: Database, actor: str, frame: pd.DataFrame) -> None:
    names = dict(zip(frame["id"].tolist(), frame["name"], strict=True))
    platform_id = st.selectbox(
        t("Platform to edit"), list(names), format_func=names.get, key="admin_platform_pick"
    )
    with db.read() as cur:
        current = admin.platform(cur, platform_id)
        held = admin.platform_references(cur, platform_id)
    with st.form(f"admin_platform_edit_{platform_id}"):
        name = st.text_input(
            t("Name"),
            value=current["name"],
            key=f"admin_platform_name_{platform_id}",
            disabled=bool(held),
            help=t("Fixed once the platform has records or a base period.") if held else None,
        )
        kind = st.selectbox(
            t("Kind"),
            PLATFORM_KINDS,
            index=PLATFORM_KINDS.index(current["kind"]),
            format_func=lambda k: _label(KIND_LABELS, k),
            key=f"admin_platform_kind_{platform_id}",
        )
        saved = st.form_submit_button(t("Save the platform"), type="primary")
    if saved:
        _apply(
            db,
            "platforms",
            lambda cur: admin.update_platform(cur, actor, platform_id, name=name, kind=kind),
            t("Saved the platform {name}.", name=name.strip()),
        )


def _add_platform(db: Database, actor: str, partners: dict[str, str]) -> None:
    with (
        st.expander(t("Add a platform"), icon=":material/add_business:"),
        st.form("admin_platform_add"),
    ):
        partner = st.selectbox(
            t("Partner"),
            list(partners),
            format_func=partners.get,
            key="admin_platform_add_partner",
        )
        name = st.text_input(t("Name"), key="admin_platform_add_name")
        kind = st.selectbox(
            t("Kind"),
            PLATFORM_KINDS,
            format_func=lambda k: _label(KIND_LABELS, k),
            key="admin_platform_add_kind",
        )
        added = st.form_submit_button(t("Add the platform"))
    if added:
        _apply(
            db,
            "platforms",
            lambda cur: admin.add_platform(cur, actor, partner, name, kind),
            t("Added the platform {name}.", name=name.strip()),
        )


# --- Baselines -----------------------------------------------------------------------------


def _base_period(row) -> str:
    if isinstance(row.baseline_first, str):
        return t("{first} to {last} (fixed)", first=row.baseline_first, last=row.baseline_last)
    return t("Default rule")


def baselines_section(db: Database, actor: str) -> None:
    """Each platform's base period: the default rule (its first four quarters with detection
    figures) or a fixed range of quarters."""
    with db.read() as cur:
        frame = admin.platforms(cur)
        reported = [q for q in frame["first_reported"].tolist() + frame["last_reported"].tolist()
                    if isinstance(q, str)]  # fmt: skip
        years = [int(q[:4]) for q in reported]
        quarters = admin.quarters(cur, min([2015, *years]), max([dt.date.today().year, *years]))
    _flash("baselines")
    st.markdown(
        t(
            "By default a platform's baseline is its first four quarters with detection "
            "figures. A fixed base period replaces that rule for one platform."
        )
    )
    if frame.empty:
        st.info(t("No platform is registered yet."), icon=":material/storefront:")
        return
    st.dataframe(
        pd.DataFrame(
            {
                t("Platform"): frame["name"],
                t("Partner"): frame["partner_name"],
                t("Base period"): [_base_period(r) for r in frame.itertuples()],
                t("First quarter reported"): frame["first_reported"],
                t("Last quarter reported"): frame["last_reported"],
            }
        ),
        hide_index=True,
    )
    names = dict(zip(frame["id"].tolist(), frame["name"], strict=True))
    platform_id = st.selectbox(
        t("Platform"), list(names), format_func=names.get, key="admin_baseline_pick"
    )
    row = frame.loc[frame["id"] == platform_id].iloc[0]
    fixed = isinstance(row.baseline_first, str)
    start = row.baseline_first if fixed else row.first_reported
    first_default = quarters.index(start) if isinstance(start, str) and start in quarters else 0
    last_default = (
        quarters.index(row.baseline_last) if fixed else min(first_default + 3, len(quarters) - 1)
    )
    with st.form(f"admin_baseline_{platform_id}"):
        first = st.selectbox(
            t("First quarter"),
            quarters,
            index=first_default,
            key=f"admin_baseline_first_{platform_id}",
        )
        last = st.selectbox(
            t("Last quarter"),
            quarters,
            index=last_default,
            key=f"admin_baseline_last_{platform_id}",
        )
        set_it = st.form_submit_button(t("Fix the base period"), type="primary")
        clear_it = st.form_submit_button(t("Use the default rule"), disabled=not fixed)
    if set_it:
        _apply(
            db,
            "baselines",
            lambda cur: admin.set_baseline(cur, actor, platform_id, first, last),
            t("{platform}: base period {first} to {last}.", platform=names[platform_id],
              first=first, last=last),
        )  # fmt: skip
    elif clear_it:
        _apply(
            db,
            "baselines",
            lambda cur: admin.clear_baseline(cur, actor, platform_id),
            t("{platform}: back to the default rule.", platform=names[platform_id]),
        )


# --- Targets -------------------------------------------------------------------------------


def targets_section(db: Database, actor: str) -> None:
    """The targets: reduction and deadline; more than one may be kept, one is the default."""
    with db.read() as cur:
        frame = admin.targets(cur)
        default_id = admin.default_target_id(cur)
    _flash("targets")
    if frame.empty:
        st.info(
            t("No target is set; the pages use 80% by the end of 2020."), icon=":material/flag:"
        )
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    t("Target"): frame["name"],
                    t("Reduction"): (frame["reduction"] * 100).round(1),
                    t("Deadline"): frame["deadline"].map(format_date),
                    t("Shown first"): frame["id"] == default_id,
                }
            ),
            hide_index=True,
            column_config={t("Reduction"): st.column_config.NumberColumn(format="%.1f%%")},
        )
        _edit_target(db, actor, frame, default_id)
    _add_target(db, actor)


def _edit_target(db: Database, actor: str, frame: pd.DataFrame, default_id: int | None) -> None:
    names = dict(zip(frame["id"].tolist(), frame["name"], strict=True))
    target_id = st.selectbox(
        t("Target to edit"), list(names), format_func=names.get, key="admin_target_pick"
    )
    row = frame.loc[frame["id"] == target_id].iloc[0]
    with st.form(f"admin_target_edit_{target_id}"):
        name = st.text_input(t("Name"), value=row["name"], key=f"admin_target_name_{target_id}")
        percent = st.number_input(
            t("Reduction (%)"),
            min_value=0.1,
            max_value=100.0,
            value=float(row["reduction"]) * 100,
            step=5.0,
            key=f"admin_target_reduction_{target_id}",
        )
        deadline = _date_input(
            t("Deadline"),
            pd.Timestamp(row["deadline"]).date(),
            f"admin_target_deadline_{target_id}",
        )
        saved = st.form_submit_button(t("Save the target"), type="primary")
    if saved:
        _apply(
            db,
            "targets",
            lambda cur: admin.update_target(
                cur,
                actor,
                target_id,
                name=name,
                reduction=round(percent / 100, 6),
                deadline=deadline,
            ),
            t("Saved the target {name}.", name=name.strip()),
        )
    left, right = st.columns(2)
    if left.button(
        t("Show this target first"),
        key=f"admin_target_default_{target_id}",
        disabled=target_id == default_id,
        icon=":material/flag:",
    ):
        _apply(
            db,
            "targets",
            lambda cur: admin.set_default_target(cur, actor, target_id),
            t("The pages now show {name} first.", name=names[target_id]),
        )
    with right.popover(t("Remove this target"), icon=":material/delete:"):
        st.write(
            t("Remove the target {name}? The audit log keeps its values.", name=names[target_id])
        )
        if st.button(t("Remove"), key=f"admin_target_remove_{target_id}", type="primary"):
            _apply(
                db,
                "targets",
                lambda cur: admin.remove_target(cur, actor, target_id),
                t("Removed the target {name}.", name=names[target_id]),
            )


def _add_target(db: Database, actor: str) -> None:
    with st.expander(t("Add a target"), icon=":material/add_task:"), st.form("admin_target_add"):
        name = st.text_input(t("Name"), key="admin_target_add_name")
        percent = st.number_input(
            t("Reduction (%)"),
            min_value=0.1,
            max_value=100.0,
            value=80.0,
            step=5.0,
            key="admin_target_add_reduction",
        )
        deadline = _date_input(
            t("Deadline"), dt.date(dt.date.today().year, 12, 31), "admin_target_add_deadline"
        )
        default = st.checkbox(t("Show this target first"), key="admin_target_add_default")
        added = st.form_submit_button(t("Add the target"))
    if added:
        _apply(
            db,
            "targets",
            lambda cur: admin.add_target(
                cur, actor, name, round(percent / 100, 6), deadline, default=default
            ),
            t("Added the target {name}.", name=name.strip()),
        )


# --- Accounts ------------------------------------------------------------------------------


def accounts_section(db: Database, actor: str) -> None:
    """The accounts, drawn by :func:`coalition.ui.accounts.accounts_admin` (imported here, so
    that the rest of the page works in a build without it)."""
    try:
        from coalition.ui.accounts import accounts_admin
    except ImportError as exc:
        if exc.name != "coalition.ui.accounts":
            raise
        st.info(t("Managing accounts is not available in this build."), icon=":material/group:")
        return
    accounts_admin(db, actor)


# --- Audit log -----------------------------------------------------------------------------

AUDIT_LIMIT = 5000


def audit_table(entries: pd.DataFrame) -> pd.DataFrame:
    """The audit entries as the page and its CSV show them: when (UTC), who, what, and the
    change in words beside the values before and after (JSON)."""
    return pd.DataFrame(
        {
            t("When (UTC)"): entries["changed_at"].map(lambda v: f"{v:%Y-%m-%d %H:%M:%S}"),
            t("Who"): entries["actor"],
            t("Action"): entries["action"],
            t("What"): entries["entity"].map(lambda e: _label(ENTITY_LABELS, e)),
            t("Key"): entries["entity_key"],
            t("Change"): [
                admin.describe_change(_text(b), _text(a))
                for b, a in zip(entries["before"], entries["after"], strict=True)
            ],
            t("Before"): entries["before"].map(_text),
            t("After"): entries["after"].map(_text),
        }
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def audit_section(db: Database) -> None:
    """Who changed what and when, latest first, filtered by kind of record and by person,
    with the shown entries as CSV."""
    with db.read() as cur:
        entities, actors = admin.audit_choices(cur)
    left, right = st.columns(2)
    entity = left.selectbox(
        t("What"),
        [ALL, *entities],
        format_func=lambda e: _label(ENTITY_LABELS, e) if e else t("Everything"),
        key="admin_audit_entity",
    )
    actor = right.selectbox(
        t("Who"),
        [ALL, *actors],
        format_func=lambda a: a or t("Everyone"),
        key="admin_audit_actor",
    )
    with db.read() as cur:
        entries = admin.audit_entries(
            cur, entity=entity or None, actor=actor or None, limit=AUDIT_LIMIT
        )
    if entries.empty:
        if entities:
            st.info(t("No logged change matches these filters."), icon=":material/filter_alt_off:")
        else:
            st.info(t("No change has been logged yet."), icon=":material/history:")
        return
    table = audit_table(entries)
    if len(table) == AUDIT_LIMIT:
        st.caption(t("The latest {limit} changes; filter to see older ones.", limit=AUDIT_LIMIT))
    else:
        st.caption(t("{n} change, latest first", plural="{n} changes, latest first", n=len(table)))
    st.dataframe(table, hide_index=True, key="admin_audit_table")
    st.download_button(
        t("Download the audit log (CSV)"),
        data=partial(csv_bytes, table),  # made when clicked, not on every run
        file_name="audit-log.csv",
        mime="text/csv",
        key="admin_audit_download",
        icon=":material/download:",
    )
