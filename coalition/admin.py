"""Administration: partners, platforms, baselines and targets, every change written to the
audit log.

Each function that writes takes a cursor from ``Database.write()`` and the name of who makes
the change (``actor``). It checks its input first and raises :class:`AdminError` (a
:class:`coalition.store.StoreError`) with a message that says what to change; then it makes
the change and logs it with :func:`coalition.audit.record` on the same cursor, so the change
and its log entry are stored together or not at all. An update that changes nothing writes
nothing and returns False.

The log holds whole rows for additions and removals, and only the fields that changed for
updates (``before={"consent_to_name": False}``, ``after={"consent_to_name": True}``).

One limit comes from DuckDB: it changes a value that has a unique index (a partner's or a
platform's name) by deleting the row and inserting it again, and it refuses to delete a row
that other rows point to, even for a moment inside one transaction. So a partner's name can be
changed only while it has no platforms, submissions or accounts, and a platform's name only
while it has no records or baseline; :class:`AdminError` says so rather than DuckDB's error.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

import duckdb
import pandas as pd

from coalition import audit, store
from coalition.store import PLATFORM_KINDS, SECTORS, StoreError
from metrics import rollups

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
QUARTER = re.compile(r"\d{4}-Q[1-4]")
MAX_NAME_LENGTH = 120


class AdminError(StoreError):
    """An administrative change that cannot be made; the message says why and what to do."""


# --- Shared checks ----------------------------------------------------------------------------


def _actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise AdminError("Who makes the change must be known: the actor's name is empty.")
    return actor.strip()


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AdminError(f"The {what} name is empty; give a name.")
    name = " ".join(value.split())
    if len(name) > MAX_NAME_LENGTH:
        raise AdminError(f"The {what} name is longer than {MAX_NAME_LENGTH} characters.")
    return name


def _date(value: object, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise AdminError(f"The {what} must be a date (YYYY-MM-DD), not {value!r}.")


def _one(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, Any] | None:
    row = cur.execute(sql, params).fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def _name_taken(
    cur: duckdb.DuckDBPyConnection, table: str, name: str, key: str, own: object
) -> bool:
    """Whether another row of ``table`` has ``name`` (ignoring case, so that "Acme" and
    "ACME" do not become two partners)."""
    return bool(
        cur.execute(
            f"SELECT 1 FROM {table} WHERE lower(name) = lower(?) AND {key} IS DISTINCT FROM ?",
            [name, own],
        ).fetchone()
    )


# the tables whose foreign keys point at a column of a table, from DuckDB's own catalogue, so
# that tables added by later migrations are counted too
REFERENCING_COLUMNS = """
SELECT table_name, constraint_column_names[1]
FROM duckdb_constraints()
WHERE constraint_type = 'FOREIGN KEY' AND referenced_table = ?
  AND referenced_column_names = [?]
ORDER BY table_name
"""


def _referenced_by(
    cur: duckdb.DuckDBPyConnection, table: str, column: str, value: object
) -> list[str]:
    """The tables that hold rows pointing at ``table.column = value``."""
    found = []
    for child, child_column in cur.execute(REFERENCING_COLUMNS, [table, column]).fetchall():
        if cur.execute(
            f'SELECT 1 FROM "{child}" WHERE "{child_column}" = ? LIMIT 1', [value]
        ).fetchone():
            found.append(child)
    return found


def partner_references(cur: duckdb.DuckDBPyConnection, slug: str) -> list[str]:
    """The tables holding rows of this partner (platforms, submissions, users…); while there
    are any, its name cannot be changed (see the module's notes)."""
    return _referenced_by(cur, "partners", "slug", slug)


def platform_references(cur: duckdb.DuckDBPyConnection, platform_id: int) -> list[str]:
    """The tables holding rows of this platform by a foreign key (baselines); while there are
    any, its name cannot be changed. Records point at it by id without one (migration 4), so
    they do not stop a rename: the figures follow the new name."""
    return _referenced_by(cur, "platforms", "id", platform_id)


def _changes(before: dict[str, Any], wanted: dict[str, Any]) -> tuple[dict, dict]:
    """The fields of ``wanted`` that differ from ``before``: (old values, new values)."""
    after = {k: v for k, v in wanted.items() if v is not None and v != before[k]}
    return {k: before[k] for k in after}, after


def _update(cur: duckdb.DuckDBPyConnection, table: str, key: str, value: object, new: dict) -> None:
    # column names come from this module's own field lists, never from the caller
    assignments = ", ".join(f"{column} = ?" for column in new)
    try:
        cur.execute(f"UPDATE {table} SET {assignments} WHERE {key} = ?", [*new.values(), value])
    except duckdb.ConstraintException as exc:
        raise AdminError(f"The change was refused by the database: {exc}") from exc


# --- Partners ---------------------------------------------------------------------------------

PARTNER_ROW = "SELECT slug, name, sector, joined, consent_to_name FROM partners WHERE slug = ?"


def partner(cur: duckdb.DuckDBPyConnection, slug: str) -> dict[str, Any] | None:
    """One partner as a dict (slug, name, sector, joined, consent_to_name), or None."""
    return _one(cur, PARTNER_ROW, [slug])


def _partner(cur: duckdb.DuckDBPyConnection, slug: str) -> dict[str, Any]:
    found = partner(cur, slug)
    if found is None:
        raise AdminError(f"There is no partner {slug!r}.")
    return found


def _sector(sector: object) -> str:
    if sector not in SECTORS:
        raise AdminError(f"Unknown sector {sector!r}: use one of {', '.join(SECTORS)}.")
    return str(sector)


def add_partner(
    cur: duckdb.DuckDBPyConnection,
    actor: str,
    slug: str,
    name: str,
    sector: str,
    joined: dt.date,
    *,
    consent_to_name: bool = False,
) -> None:
    """Register a partner; its slug (lower-case letters, digits, hyphens) never changes."""
    actor = _actor(actor)
    slug = (slug or "").strip()
    if not SLUG.fullmatch(slug):
        raise AdminError(
            f"The slug {slug!r} is not valid: use lower-case letters, digits and hyphens, "
            "starting with a letter or digit (e.g. 'acme-market')."
        )
    if partner(cur, slug) is not None:
        raise AdminError(f"A partner with the slug {slug!r} exists already.")
    name = _name(name, "partner")
    if _name_taken(cur, "partners", name, "slug", None):
        raise AdminError(f"A partner named {name!r} exists already; partner names are unique.")
    store.add_partner(
        cur, slug, name, _sector(sector), _date(joined, "joined date"),
        consent_to_name=bool(consent_to_name),
    )  # fmt: skip
    audit.record(cur, actor, "add", "partner", slug, None, _plain(partner(cur, slug)))


def update_partner(
    cur: duckdb.DuckDBPyConnection,
    actor: str,
    slug: str,
    *,
    name: str | None = None,
    sector: str | None = None,
    joined: dt.date | None = None,
    consent_to_name: bool | None = None,
) -> bool:
    """Change a partner's name, sector, joined date or consent to be named (None leaves a
    field as it is). Returns whether anything changed."""
    actor = _actor(actor)
    current = _partner(cur, slug)
    wanted = {
        "name": None if name is None else _name(name, "partner"),
        "sector": None if sector is None else _sector(sector),
        "joined": None if joined is None else _date(joined, "joined date"),
        "consent_to_name": None if consent_to_name is None else bool(consent_to_name),
    }
    before, after = _changes(current, wanted)
    if not after:
        return False
    if "name" in after:
        if _name_taken(cur, "partners", after["name"], "slug", slug):
            raise AdminError(
                f"A partner named {after['name']!r} exists already; partner names are unique."
            )
        held = partner_references(cur, slug)
        if held:
            raise AdminError(
                f"The name of partner {slug!r} cannot be changed: it already has "
                f"{', '.join(held)}, and the database cannot change a unique name that other "
                "rows point to. Its other fields can be changed; the slug and name stay."
            )
    _update(cur, "partners", "slug", slug, after)
    audit.record(cur, actor, "update", "partner", slug, _plain(before), _plain(after))
    return True


# --- Platforms --------------------------------------------------------------------------------

PLATFORM_ROW = "SELECT id, name, partner, kind FROM platforms WHERE id = ?"


def platform(cur: duckdb.DuckDBPyConnection, platform_id: int) -> dict[str, Any] | None:
    """One platform as a dict (id, name, partner, kind), or None."""
    return _one(cur, PLATFORM_ROW, [platform_id])


def _platform(cur: duckdb.DuckDBPyConnection, platform_id: int) -> dict[str, Any]:
    found = platform(cur, platform_id)
    if found is None:
        raise AdminError(f"There is no platform with id {platform_id}.")
    return found


def _kind(kind: object) -> str:
    if kind not in PLATFORM_KINDS:
        raise AdminError(f"Unknown platform kind {kind!r}: use one of {', '.join(PLATFORM_KINDS)}.")
    return str(kind)


def add_platform(
    cur: duckdb.DuckDBPyConnection, actor: str, partner_slug: str, name: str, kind: str = "other"
) -> int:
    """Register a platform of a partner; returns its id. A platform stays with its partner."""
    actor = _actor(actor)
    _partner(cur, partner_slug)
    name = _name(name, "platform")
    if _name_taken(cur, "platforms", name, "id", None):
        raise AdminError(f"A platform named {name!r} exists already; platform names are unique.")
    platform_id = store.add_platform(cur, partner_slug, name, _kind(kind))
    audit.record(
        cur, actor, "add", "platform", str(platform_id), None, _plain(platform(cur, platform_id))
    )
    return platform_id


def update_platform(
    cur: duckdb.DuckDBPyConnection,
    actor: str,
    platform_id: int,
    *,
    name: str | None = None,
    kind: str | None = None,
) -> bool:
    """Rename a platform or change its kind (None leaves a field as it is). Returns whether
    anything changed."""
    actor = _actor(actor)
    current = _platform(cur, platform_id)
    wanted = {
        "name": None if name is None else _name(name, "platform"),
        "kind": None if kind is None else _kind(kind),
    }
    before, after = _changes(current, wanted)
    if not after:
        return False
    if "name" in after:
        if _name_taken(cur, "platforms", after["name"], "id", platform_id):
            raise AdminError(
                f"A platform named {after['name']!r} exists already; platform names are unique."
            )
        held = platform_references(cur, platform_id)
        if held:
            raise AdminError(
                f"Platform {current['name']!r} cannot be renamed: it already has "
                f"{', '.join(held)}, and the database cannot change a unique name that other "
                "rows point to. Its kind can be changed; the name stays."
            )
    _update(cur, "platforms", "id", platform_id, after)
    # the name in both, so that an entry about a platform reads without looking up its id
    before = {"platform": current["name"], **before}
    after = {"platform": current["name"], **after}
    audit.record(cur, actor, "update", "platform", str(platform_id), _plain(before), _plain(after))
    return True


# --- Baselines --------------------------------------------------------------------------------


def baseline(cur: duckdb.DuckDBPyConnection, platform_id: int) -> tuple[str, str] | None:
    """A platform's fixed base period (first quarter, last quarter), or None when it follows
    the default rule (its first four reported quarters)."""
    row = cur.execute(
        "SELECT first_quarter, last_quarter FROM baselines WHERE platform_id = ?", [platform_id]
    ).fetchone()
    return (row[0], row[1]) if row else None


def _quarter(cur: duckdb.DuckDBPyConnection, value: object, what: str) -> str:
    text = value.strip().upper() if isinstance(value, str) else ""
    if not QUARTER.fullmatch(text):
        raise AdminError(f"The {what} {value!r} is not a quarter: write it as 2018-Q1.")
    if not cur.execute(
        "SELECT 1 FROM periods WHERE period = ? AND kind = 'quarter'", [text]
    ).fetchone():
        raise AdminError(f"The {what} {text} is outside the calendar the tracker knows.")
    return text


def set_baseline(
    cur: duckdb.DuckDBPyConnection,
    actor: str,
    platform_id: int,
    first_quarter: str,
    last_quarter: str,
) -> bool:
    """Fix a platform's base period to ``first_quarter``..``last_quarter`` (e.g. 2018-Q1 to
    2018-Q4) instead of the default rule. Returns whether anything changed."""
    actor = _actor(actor)
    name = _platform(cur, platform_id)["name"]
    first = _quarter(cur, first_quarter, "first quarter")
    last = _quarter(cur, last_quarter, "last quarter")
    if first > last:
        raise AdminError(f"The base period runs backwards: {first} comes after {last}.")
    current = baseline(cur, platform_id)
    if current == (first, last):
        return False
    if current is None:
        cur.execute("INSERT INTO baselines VALUES (?, ?, ?)", [platform_id, first, last])
    else:
        _update(
            cur, "baselines", "platform_id", platform_id,
            {"first_quarter": first, "last_quarter": last},
        )  # fmt: skip
    audit.record(
        cur, actor, "set", "baseline", str(platform_id),
        _baseline_value(name, current), _baseline_value(name, (first, last)),
    )  # fmt: skip
    return True


def clear_baseline(cur: duckdb.DuckDBPyConnection, actor: str, platform_id: int) -> bool:
    """Return a platform to the default rule (its first four reported quarters). Returns
    whether it had a fixed base period."""
    actor = _actor(actor)
    name = _platform(cur, platform_id)["name"]
    current = baseline(cur, platform_id)
    if current is None:
        return False
    cur.execute("DELETE FROM baselines WHERE platform_id = ?", [platform_id])
    audit.record(
        cur, actor, "clear", "baseline", str(platform_id),
        _baseline_value(name, current), _baseline_value(name, None),
    )  # fmt: skip
    return True


def _baseline_value(name: str, period: tuple[str, str] | None) -> dict[str, Any]:
    if period is None:
        return {"platform": name, "rule": "default"}
    return {"platform": name, "first_quarter": period[0], "last_quarter": period[1]}


# --- Targets ----------------------------------------------------------------------------------

TARGET_ROW = "SELECT id, name, reduction, deadline, is_default FROM targets WHERE id = ?"


def target(cur: duckdb.DuckDBPyConnection, target_id: int) -> dict[str, Any] | None:
    """One target as a dict (id, name, reduction, deadline, is_default), or None."""
    return _one(cur, TARGET_ROW, [target_id])


def _target(cur: duckdb.DuckDBPyConnection, target_id: int) -> dict[str, Any]:
    found = target(cur, target_id)
    if found is None:
        raise AdminError(f"There is no target with id {target_id}.")
    return found


def _reduction(value: object) -> float:
    try:
        share = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        share = math.nan
    if isinstance(value, bool) or not 0 < share <= 1:
        raise AdminError(
            f"The reduction {value!r} is not a share between 0 and 1: write 0.8 for 80%."
        )
    return share


def add_target(
    cur: duckdb.DuckDBPyConnection,
    actor: str,
    name: str,
    reduction: float,
    deadline: dt.date,
    *,
    default: bool = False,
) -> int:
    """Add a target: cut the detection rate by ``reduction`` (a share, 0.8 = 80%) from the
    baseline by ``deadline``. With ``default``, it becomes the target the pages show first.
    Returns its id."""
    actor = _actor(actor)
    name = _name(name, "target")
    share = _reduction(reduction)
    deadline = _date(deadline, "deadline")
    if _name_taken(cur, "targets", name, "id", None):
        raise AdminError(f"A target named {name!r} exists already; target names are unique.")
    target_id = cur.execute(
        "INSERT INTO targets (name, reduction, deadline) VALUES (?, ?, ?) RETURNING id",
        [name, share, deadline],
    ).fetchone()[0]
    audit.record(cur, actor, "add", "target", str(target_id), None, _plain(target(cur, target_id)))
    if default:
        set_default_target(cur, actor, target_id)
    return target_id


def update_target(
    cur: duckdb.DuckDBPyConnection,
    actor: str,
    target_id: int,
    *,
    name: str | None = None,
    reduction: float | None = None,
    deadline: dt.date | None = None,
) -> bool:
    """Change a target's name, reduction or deadline (None leaves a field as it is). Returns
    whether anything changed."""
    actor = _actor(actor)
    current = _target(cur, target_id)
    wanted = {
        "name": None if name is None else _name(name, "target"),
        "reduction": None if reduction is None else _reduction(reduction),
        "deadline": None if deadline is None else _date(deadline, "deadline"),
    }
    before, after = _changes(current, wanted)
    if not after:
        return False
    if "name" in after and _name_taken(cur, "targets", after["name"], "id", target_id):
        raise AdminError(
            f"A target named {after['name']!r} exists already; target names are unique."
        )
    _update(cur, "targets", "id", target_id, after)
    audit.record(cur, actor, "update", "target", str(target_id), _plain(before), _plain(after))
    return True


def default_target_id(cur: duckdb.DuckDBPyConnection) -> int | None:
    """The target the pages show first, as ``metrics.progress`` picks it: the one marked
    default, else the earliest deadline; None when there is no target."""
    row = cur.execute(
        "SELECT id FROM targets ORDER BY is_default DESC, deadline LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def set_default_target(cur: duckdb.DuckDBPyConnection, actor: str, target_id: int) -> bool:
    """Make a target the default (the one the pages show first); the others stay, as
    alternatives to choose. Returns whether the default changed."""
    actor = _actor(actor)
    chosen = _target(cur, target_id)
    if chosen["is_default"]:
        return False
    previous = cur.execute("SELECT name FROM targets WHERE is_default").fetchall()
    cur.execute("UPDATE targets SET is_default = FALSE WHERE is_default AND id <> ?", [target_id])
    cur.execute("UPDATE targets SET is_default = TRUE WHERE id = ?", [target_id])
    audit.record(
        cur, actor, "set_default", "target", str(target_id),
        {"default": previous[0][0] if previous else None}, {"default": chosen["name"]},
    )  # fmt: skip
    return True


def remove_target(cur: duckdb.DuckDBPyConnection, actor: str, target_id: int) -> None:
    """Remove a target (added by mistake, say). If it was the default, the one with the
    earliest deadline is shown first until another is made the default."""
    actor = _actor(actor)
    current = _target(cur, target_id)
    cur.execute("DELETE FROM targets WHERE id = ?", [target_id])
    audit.record(cur, actor, "remove", "target", str(target_id), _plain(current), None)


# --- Reading ----------------------------------------------------------------------------------


def partners(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Partners with their number of platforms and submissions, by name."""
    return cur.execute(
        """
        SELECT p.slug, p.name, p.sector, p.joined, p.consent_to_name,
               (SELECT count(*) FROM platforms AS pl WHERE pl.partner = p.slug) AS platforms,
               (SELECT count(*) FROM submissions AS s WHERE s.partner = p.slug) AS submissions
        FROM partners AS p ORDER BY p.name
        """
    ).df()


def platforms(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Platforms with their partner's name, their fixed base period if any (else NULL: the
    default rule), and the first and last quarter they reported."""
    # the current records' quarters: from the pre-aggregated table when it is up to date
    reported = (
        "rollup_platform"
        if rollups.fresh(cur)
        else "(SELECT r.platform_id, p.quarter FROM records AS r "
        "JOIN periods AS p ON p.period = r.period WHERE r.superseded_by IS NULL)"
    )
    return cur.execute(
        f"""
        SELECT pl.id, pl.name, pl.partner, pa.name AS partner_name, pl.kind,
               b.first_quarter AS baseline_first, b.last_quarter AS baseline_last,
               q.first_reported, q.last_reported
        FROM platforms AS pl
        JOIN partners AS pa ON pa.slug = pl.partner
        LEFT JOIN baselines AS b ON b.platform_id = pl.id
        LEFT JOIN (SELECT platform_id, min(quarter) AS first_reported,
                          max(quarter) AS last_reported
                   FROM {reported} GROUP BY platform_id) AS q ON q.platform_id = pl.id
        ORDER BY pl.name
        """
    ).df()


def targets(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Targets, the default first (as ``metrics.progress`` orders them)."""
    return store.targets(cur)


def quarters(cur: duckdb.DuckDBPyConnection, first_year: int, last_year: int) -> list[str]:
    """The quarters of the tracker's calendar from ``first_year`` to ``last_year``."""
    rows = cur.execute(
        "SELECT period FROM periods WHERE kind = 'quarter' AND year BETWEEN ? AND ? "
        "ORDER BY period",
        [first_year, last_year],
    ).fetchall()
    return [r[0] for r in rows]


def audit_entries(
    cur: duckdb.DuckDBPyConnection,
    *,
    entity: str | None = None,
    actor: str | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """The audit log, latest first, optionally of one entity kind (``"partner"``,
    ``"target"``, …) and one actor; ``before`` and ``after`` as JSON text."""
    return cur.execute(
        """
        SELECT id, changed_at, actor, action, entity, entity_key,
               CAST(before AS TEXT) AS before, CAST(after AS TEXT) AS after
        FROM audit_log
        WHERE ($entity IS NULL OR entity = $entity) AND ($actor IS NULL OR actor = $actor)
        ORDER BY id DESC
        LIMIT $limit
        """,
        {"entity": entity, "actor": actor, "limit": limit},
    ).df()


def audit_choices(cur: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """The entity kinds and the actors that appear in the audit log, each sorted."""
    entities = [
        r[0] for r in cur.execute("SELECT DISTINCT entity FROM audit_log ORDER BY 1").fetchall()
    ]
    actors = [
        r[0] for r in cur.execute("SELECT DISTINCT actor FROM audit_log ORDER BY 1").fetchall()
    ]
    return entities, actors


def describe_change(before: str | None, after: str | None) -> str:
    """An audit entry's values in one line: ``consent_to_name: false → true``; for an
    addition or removal, the fields of the row."""
    old = json.loads(before) if before else None
    new = json.loads(after) if after else None
    if old is None and new is None:
        return ""
    if not isinstance(old, dict | None) or not isinstance(new, dict | None):
        return f"{_show(old)} → {_show(new)}"
    if old is None or new is None:
        row = new if old is None else old
        return ", ".join(f"{k}: {_show(v)}" for k, v in row.items())
    keys = list(dict.fromkeys([*old, *new]))
    parts = []
    for k in keys:
        if old.get(k) == new.get(k):
            parts.append(f"{k}: {_show(new.get(k))}")
        else:
            parts.append(f"{k}: {_show(old.get(k))} → {_show(new.get(k))}")
    return "; ".join(parts)


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _plain(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row with JSON-friendly values: dates as ISO text, numbers and flags as they are."""
    if row is None:
        return None
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}
