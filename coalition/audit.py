"""The audit log: who changed what, when, with the values before and after.

Every administrative change (partners, platforms, baselines, targets, accounts, reviews) calls
:func:`record` with the cursor of the same transaction, so a change and its log entry are
stored together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pandas as pd


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, default=str, ensure_ascii=False)


def record(
    cur: duckdb.DuckDBPyConnection,
    actor: str,
    action: str,
    entity: str,
    key: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Log one change, e.g. ``record(cur, "ana", "update", "partner", "acme", {...}, {...})``."""
    cur.execute(
        "INSERT INTO audit_log (changed_at, actor, action, entity, entity_key, before, after) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            actor,
            action,
            entity,
            key,
            _json(before),
            _json(after),
        ],
    )


def entries(cur: duckdb.DuckDBPyConnection, limit: int = 1000) -> pd.DataFrame:
    """The latest entries first: when (UTC), who, what, and the values before and after."""
    return cur.execute(
        "SELECT changed_at, actor, action, entity, entity_key, before, after "
        "FROM audit_log ORDER BY id DESC LIMIT ?",
        [limit],
    ).df()
