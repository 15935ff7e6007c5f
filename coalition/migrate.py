"""Schema versions and migrations: a database made by an older release opens in a newer one.

``schema.sql`` is the schema of the first release (version 1). Each later change is a file
``migrations/NNNN_what.sql`` whose number is the version it brings the database to. Opening a
database applies the migrations it has not had yet, in order, in one transaction, and records
the new version in ``meta.schema_version``. A database from a newer release than this one is
refused with a message, rather than read wrongly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from coalition.db import Database, get_meta, set_meta
from metrics import rollups

HERE = Path(__file__).resolve().parent
BASE_SCHEMA = HERE / "schema.sql"
MIGRATIONS_DIR = HERE / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class SchemaTooNew(RuntimeError):
    """The database was made by a newer release of the tracker than this one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@cache
def migrations() -> tuple[Migration, ...]:
    """Every migration shipped with this release, in version order (version 1 is schema.sql)."""
    found = [Migration(1, "schema", BASE_SCHEMA.read_text(encoding="utf-8"))]
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise RuntimeError(f"Migration file {path.name} is not named NNNN_what.sql.")
        found.append(Migration(int(match[1]), path.stem, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"Migration versions must run 1, 2, 3… without gaps; got {versions}.")
    return tuple(found)


def latest_version() -> int:
    return migrations()[-1].version


def schema_version(cur: duckdb.DuckDBPyConnection) -> int:
    """The version of the schema in this database, 0 when it has none."""
    exists = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    ).fetchone()[0]
    if not exists:
        return 0
    value = get_meta(cur, "schema_version")
    return int(value) if value else 0


def migrate(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations this database has not had, inside the caller's transaction.

    Returns the versions applied (empty when the schema was current).
    """
    current = schema_version(cur)
    if current > latest_version():
        raise SchemaTooNew(
            f"This database has schema version {current}, made by a newer release of the "
            f"tracker; this release knows versions up to {latest_version()}. Upgrade the "
            "tracker (pip install -U coalition-tracker) to open it."
        )
    applied = []
    for migration in migrations():
        if migration.version > current:
            cur.execute(migration.sql)
            applied.append(migration.version)
    if applied:
        set_meta(cur, "schema_version", str(latest_version()))
    return applied


def upgrade(db: Database) -> list[int]:
    """Bring an existing database's schema up to this release's, if it is behind, and its
    pre-aggregated tables if they were built by an older release (:mod:`coalition.rollup`:
    until rebuilt, every page would read the records, slowly).

    Reads first, so a current database is not opened for writing. Raises :class:`SchemaTooNew`
    for a database from a newer release. Returns the migrations applied.
    """
    with db.read() as cur:
        current = schema_version(cur)
        stamp = get_meta(cur, rollups.STAMP_KEY)
    if current > latest_version():
        with db.read() as cur:
            return migrate(cur)  # raises SchemaTooNew
    if current < latest_version():
        with db.write() as cur:  # the write brings the rollups up to date after it
            return migrate(cur)
    if stamp is not None and not stamp.startswith(rollups.FORMAT + ":"):
        from coalition import rollup  # it imports the modules that import this one

        with db.write(changes_figures=False) as cur:
            rollup.update(cur)
    return []
