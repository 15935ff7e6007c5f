"""Backups of the whole tracker database, and restoring one into a new database file.

A backup is a folder written by DuckDB's ``EXPORT DATABASE`` (one Parquet file per table, the
schema as ``schema.sql`` and the load order as ``load.sql``) plus ``manifest.json``: when it
was made, the schema version, the rows of every table, the next value of every sequence and
the SHA-256 of every file. The export, the row counts and the sequences are read in one
transaction, so a backup taken while the app is in use is one consistent state.

Restoring checks every file against the manifest first, then builds the database in a
temporary file next to the target: the backup's schema, every table, the sequences moved on
past the highest id (so new submissions do not reuse numbers), the row counts and the archived
files' hashes checked, and the migrations of this release applied (so a backup made by an
older release opens). Only then is the temporary file renamed over the target, in one step; a
database that was there is kept next to it as ``NAME.before-restore-TIMESTAMP``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import duckdb

from coalition import audit, migrate
from coalition.db import Database, get_meta, set_meta

MANIFEST = "manifest.json"
FORMAT = "coalition-backup"
FORMAT_VERSION = 1
_COPY = re.compile(
    r"""^COPY ("?)([A-Za-z_][A-Za-z0-9_]*)\1 FROM '(?:[^']|'')*?([A-Za-z0-9_.-]+\.parquet)' """
    r"""\(FORMAT 'parquet'\);$"""
)
_SEQUENCE_DEFAULT = re.compile(r"^nextval\('([A-Za-z_][A-Za-z0-9_]*)'\)$")


class BackupError(RuntimeError):
    """A backup cannot be written or restored; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    """What a backup holds (or a restore loaded): its folder, when it was made, the schema
    version, the rows of each table."""

    folder: Path
    created_at: str
    schema_version: int
    rows: dict[str, int]
    bytes: int

    def describe(self) -> str:
        """One line for people: the rows that matter most and the size."""
        parts = [
            f"{self.rows.get(table, 0):,} {label}"
            for table, label in (
                ("records", "records"),
                ("submissions", "submissions"),
                ("files", "archived files"),
                ("partners", "partners"),
                ("audit_log", "audit entries"),
                ("users", "users"),
            )
            if table in self.rows
        ]
        return (
            f"{', '.join(parts)}; schema version {self.schema_version}, made "
            f"{self.created_at}, {self.bytes / 1_048_576:.1f} MB"
        )


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    """Make a file's (or a folder's entries') content durable before it is relied on."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tables(cur: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in cur.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND NOT temporary "
            "AND database_name = current_database() ORDER BY table_name"
        ).fetchall()
    ]


def _count(cur: duckdb.DuckDBPyConnection, table: str) -> int:
    return cur.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def sequence_columns(cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(sequence, table, column) for every column whose default is the sequence's next value."""
    found = []
    for table, column, default in cur.execute(
        "SELECT table_name, column_name, column_default FROM duckdb_columns() "
        "WHERE NOT internal AND database_name = current_database() "
        "AND column_default IS NOT NULL ORDER BY table_name, column_name"
    ).fetchall():
        match = _SEQUENCE_DEFAULT.match(str(default))
        if match:
            found.append((match[1], table, column))
    return found


def next_values(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The value each sequence gives next (without taking it)."""
    return {
        name: (start if last is None else last + step)
        for name, start, last, step in cur.execute(
            "SELECT sequence_name, start_value, last_value, increment_by FROM duckdb_sequences() "
            "WHERE database_name = current_database() ORDER BY sequence_name"
        ).fetchall()
    }


def continue_sequences(cur: duckdb.DuckDBPyConnection, at_least: dict[str, int]) -> None:
    """Move every sequence on so that its next value is past the highest id it gave and at
    least ``at_least[name]``: ids are never reused after a restore."""
    wanted = dict(at_least)
    for sequence, table, column in sequence_columns(cur):
        highest = cur.execute(f'SELECT max("{column}") FROM "{table}"').fetchone()[0]
        if highest is not None:
            wanted[sequence] = max(wanted.get(sequence, 0), int(highest) + 1)
    current = next_values(cur)
    for sequence, value in sorted(wanted.items()):
        if sequence not in current:
            continue
        steps = value - current[sequence]
        if steps > 0:
            cur.execute(f"SELECT max(nextval({_sql_text(sequence)})) FROM range(?)", [steps])


# --- backup --------------------------------------------------------------------------------


def backup(db: Database, out: str | os.PathLike[str]) -> Summary:
    """Write a backup of ``db`` into the folder ``out`` (new, or empty) and return its summary.

    The folder appears complete or not at all: the export goes to a temporary folder next to
    it, which is renamed once every file and the manifest are written and synced.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} exists and is not an empty folder; choose a new folder.")
    if not db.exists:
        raise BackupError(f"There is no database at {db.path} to back up.")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with db.read() as cur:
            cur.begin()  # one snapshot for the export, the counts and the sequences
            try:
                version = migrate.schema_version(cur)
                if version == 0:
                    raise BackupError(f"{db.path} has no tracker schema; nothing to back up.")
                cur.execute(f"EXPORT DATABASE {_sql_text(str(staging))} (FORMAT parquet)")
                rows = {table: _count(cur, table) for table in _tables(cur)}
                sequences = next_values(cur)
            finally:
                cur.rollback()  # read only: nothing to keep
        created_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        _relative_load_sql(staging)
        files = {}
        for path in sorted(staging.iterdir()):
            files[path.name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
            _fsync(path)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created_at,
            "schema_version": version,
            "tracker_version": _tracker_version(),
            "duckdb_version": duckdb.__version__,
            "database": db.path.name,
            "tables": rows,
            "sequences": sequences,
            "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _fsync(staging / MANIFEST)
        _fsync(staging)
        if out.exists():
            out.rmdir()  # empty, checked above
        staging.rename(out)
        _fsync(out.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Summary(out, created_at, version, rows, sum(f["bytes"] for f in files.values()))


def _relative_load_sql(folder: Path) -> None:
    """Name the Parquet files in load.sql by their file names only (DuckDB writes the export
    folder's full path, which is neither where the backup will live nor anyone's business)."""
    path = folder / "load.sql"
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _COPY.match(line.strip())
        if match:
            line = f"COPY {match[2]} FROM {_sql_text(match[3])} (FORMAT 'parquet');"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _tracker_version() -> str:
    try:
        return metadata.version("coalition-tracker")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- reading and checking a backup ----------------------------------------------------------


def read_manifest(folder: str | os.PathLike[str]) -> dict:
    """The manifest of the backup in ``folder``, after checking every file it lists against
    its size and SHA-256. Raises :class:`BackupError` when anything is missing or differs."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} is not a tracker backup: it has no {MANIFEST}.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} cannot be read as a manifest: {exc}.") from exc
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{path} is not the manifest of a tracker backup.")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise BackupError(
            f"The backup in {folder} was written by a newer release of the tracker (backup "
            f"format {manifest['format_version']}); upgrade the tracker to restore it."
        )
    problems = []
    for name, expected in sorted(manifest["files"].items()):
        file = folder / name
        if Path(name).name != name or not file.is_file():
            problems.append(f"{name} is missing")
        elif file.stat().st_size != expected["bytes"]:
            problems.append(f"{name} has {file.stat().st_size} bytes, not {expected['bytes']}")
        elif _sha256(file) != expected["sha256"]:
            problems.append(f"{name} has changed since the backup was made (SHA-256 differs)")
    if problems:
        raise BackupError(
            f"The backup in {folder} is damaged: {'; '.join(problems)}. Nothing was restored; "
            "use another backup."
        )
    return manifest


def _load_order(folder: Path) -> list[tuple[str, str]]:
    """(table, Parquet file name) in the order load.sql loads them (referenced tables first)."""
    order = []
    for line in (folder / "load.sql").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        match = _COPY.match(line.strip())
        if not match:
            raise BackupError(f"load.sql in {folder} has a line this release cannot read: {line}")
        order.append((match[2], match[3]))
    return order


# --- restore -------------------------------------------------------------------------------


def restore(
    folder: str | os.PathLike[str],
    target: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    actor: str = "cli",
) -> Summary:
    """Restore the backup in ``folder`` into the database file ``target`` (default: the
    tracker's database path) and return what was loaded.

    ``target`` must not exist unless ``force``; then the database there is kept beside the
    restored one as ``NAME.before-restore-TIMESTAMP`` (stop the app first: a write it makes
    during the restore would go to the old file). The restore is logged in the audit log.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if int(manifest["schema_version"]) > migrate.latest_version():
        raise migrate.SchemaTooNew(
            f"The backup has schema version {manifest['schema_version']}, made by a newer "
            f"release of the tracker; this release knows versions up to "
            f"{migrate.latest_version()}. Upgrade the tracker to restore it."
        )
    target = Database(target).path
    if target.exists() and not force:
        raise BackupError(
            f"{target} exists already. Restore into a new file with --db, or use --force to "
            "replace it (the current file is kept beside it)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.restore-{os.getpid()}")
    _remove_database(temp)
    try:
        _build(folder, manifest, temp)
        with Database(temp).write() as cur:
            migrate.migrate(cur)  # an older backup is brought up to this release's schema
            rows = {table: _count(cur, table) for table in _tables(cur)}
            if target.exists():
                set_meta(cur, "data_version", str(_data_version_after(target, cur)))
            audit.record(
                cur,
                actor,
                "restore",
                "database",
                manifest["created_at"],
                after={
                    "backup": folder.name,
                    "schema_version": manifest["schema_version"],
                    "rows": manifest["tables"],
                },
            )
        _fsync(temp)
        if target.exists():
            _set_aside(target)
        os.replace(temp, target)
        _fsync(target.parent)
    except BaseException:
        _remove_database(temp)
        raise
    size = sum(f["bytes"] for f in manifest["files"].values())
    return Summary(folder, manifest["created_at"], int(manifest["schema_version"]), rows, size)


def _build(folder: Path, manifest: dict, path: Path) -> None:
    """The backup's schema and rows in a new database file at ``path``, checked."""
    con = duckdb.connect(str(path))
    try:
        con.execute((folder / "schema.sql").read_text(encoding="utf-8"))
        con.begin()
        for table, file_name in _load_order(folder):
            con.execute(
                f'COPY "{table}" FROM {_sql_text(str(folder / file_name))} (FORMAT parquet)'
            )
        continue_sequences(con, {k: int(v) for k, v in manifest.get("sequences", {}).items()})
        _check(con, manifest)
        con.commit()
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _check(con: duckdb.DuckDBPyConnection, manifest: dict) -> None:
    """Every table has the rows the manifest lists, and every archived file its hash."""
    expected = {k: int(v) for k, v in manifest["tables"].items()}
    found = {table: _count(con, table) for table in _tables(con)}
    if found != expected:
        differ = sorted(
            f"{t}: {found.get(t, 'missing')} rows, expected {expected.get(t, 'none')}"
            for t in set(found) | set(expected)
            if found.get(t) != expected.get(t)
        )
        raise BackupError(f"The restored tables do not match the backup: {'; '.join(differ)}.")
    if "files" in found:
        bad = con.execute(
            "SELECT count(*) FROM files WHERE sha256(content) <> sha256 "
            "OR octet_length(content) <> size"
        ).fetchone()[0]
        if bad:
            raise BackupError(f"{bad} archived file(s) do not match their SHA-256 after restoring.")


def _data_version_after(target: Path, cur: duckdb.DuckDBPyConnection) -> int:
    """A data version above both the restored one and the replaced database's, so that no
    figure cached for the old file is taken for the restored data."""
    restored = int(get_meta(cur, "data_version", "0") or 0)
    try:
        with contextlib.closing(duckdb.connect(str(target), read_only=True)) as old:
            row = old.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        replaced = int(row[0]) if row else 0
    except (duckdb.Error, ValueError):
        replaced = 0
    return max(restored, replaced) + 1


def _set_aside(target: Path) -> Path:
    """Keep the database being replaced as NAME.before-restore-TIMESTAMP (a hard link when the
    file system allows, so that the rename that follows stays a single step)."""
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    aside = target.with_name(f"{target.name}.before-restore-{stamp}")
    with contextlib.suppress(duckdb.Error):  # a file DuckDB cannot open is kept as it is
        Database(target).checkpoint()  # waits for the app to let go; leaves no WAL behind
    try:
        os.link(target, aside)
    except OSError:
        shutil.copy2(target, aside)
    Path(f"{target}.wal").unlink(missing_ok=True)
    return aside


def _remove_database(path: Path) -> None:
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)
