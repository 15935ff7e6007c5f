"""Backups: ``coalition backup`` and ``coalition restore`` keep every row of every table —
records, submissions, archived files byte for byte, audit entries, accounts, partners,
baselines, targets — and new ids continue after the highest restored one."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from coalition import audit, backup, migrate, store
from coalition.cli import cli
from coalition.db import Database
from coalition.ingest import ingest
from metrics import rollups


def _tests_conftest():
    # tests/conftest.py by path: with other conftest.py files collected in the same run, the
    # name "conftest" may stand for one of those instead
    path = Path(__file__).resolve().parent / "conftest.py"
    spec = importlib.util.spec_from_file_location("_backup_fixture_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fixtures = _tests_conftest()
ACTIVITY_PARTNERS, ACTIVITY_SUBMISSIONS = (
    _fixtures.ACTIVITY_PARTNERS,
    _fixtures.ACTIVITY_SUBMISSIONS,
)
TODAY = dt.date(2020, 6, 15)
RELEASE1 = Path(__file__).resolve().parent / "data" / "release1.duckdb.gz"
# Every byte value, a NUL, a CR LF, invalid UTF-8: an archived upload must come back as it went.
ODD_BYTES = bytes(range(256)) * 3 + b"\x00\r\n\xff\xfe"


def csv_upload(period: str, note: str) -> bytes:
    return (
        "period,platform,species_group,country,listings_removed,listings_blocked,notes\r\n"
        f'{period},ShopMarket,elephants,CHN,7,9,"{note}"\r\n'
        f"{period},ShopResale,birds,USA,1,2,\r\n"
    ).encode()


def fill(db: Database) -> None:
    """Beyond the activity data: two uploads through ingest (files archived), one file of odd
    bytes, audit entries with awkward JSON, an account, a baseline and a second target."""
    for period, note in (("2020-Q1", 'said "no"; then yes'), ("2020-Q2", "'; DROP TABLE x; --")):
        result = ingest(
            db,
            "shopco",
            csv_upload(period, note),
            f"shopco {period}.csv",
            uploaded_by="ana",
            accept=True,
            today=TODAY,
        )
        assert result.stored, result.report.as_dict()
    with db.write() as cur:
        cur.execute(
            "INSERT INTO files VALUES (?, ?, ?)",
            [hashlib.sha256(ODD_BYTES).hexdigest(), len(ODD_BYTES), ODD_BYTES],
        )
        audit.record(cur, "ana", "create", "partner", "shopco", None, {"name": "ShopCo"})
        audit.record(
            cur,
            "李华",
            "update",
            "target",
            "80%",
            {"reduction": 0.8, "note": 'quote " and \\ backslash'},
            {"reduction": 0.75, "html": "<script>alert(1)</script>"},
        )
        cur.execute(
            "INSERT INTO users (name, role, partner, password_hash, created_at) "
            "VALUES ('ana', 'secretariat', NULL, 'scrypt$x$y', TIMESTAMP '2020-01-02 03:04:05'), "
            "('sho', 'partner', 'shopco', 'scrypt$a$b', TIMESTAMP '2020-02-03 04:05:06')"
        )
        cur.execute(
            "INSERT INTO baselines SELECT id, '2018-Q4', '2019-Q1' FROM platforms "
            "WHERE name = 'ShopMarket'"
        )
        cur.execute(
            "INSERT INTO targets (name, reduction, deadline) VALUES ('Half by 2030', 0.5, "
            "DATE '2030-12-31')"
        )


@pytest.fixture(scope="module")
def source(build_db) -> Database:
    db = build_db(ACTIVITY_PARTNERS, ACTIVITY_SUBMISSIONS)
    fill(db)
    return db


def differences(left: Path, right: Path, ignore_meta: tuple[str, ...] = ()) -> dict[str, int]:
    """Rows of each table that one database has and the other does not (both directions),
    compared column by column and byte for byte."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{left}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{right}' AS b (READ_ONLY)")
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'a' ORDER BY 1"
        ).fetchall()
    ]
    out = {}
    for table in tables:
        where = ""
        if table == "meta" and ignore_meta:
            where = "WHERE key NOT IN (" + ", ".join(f"'{k}'" for k in ignore_meta) + ")"
        n = con.execute(
            f"SELECT (SELECT count(*) FROM (SELECT * FROM a.{table} {where} "
            f"EXCEPT ALL SELECT * FROM b.{table} {where})) + "
            f"(SELECT count(*) FROM (SELECT * FROM b.{table} {where} "
            f"EXCEPT ALL SELECT * FROM a.{table} {where}))"
        ).fetchone()[0]
        if n:
            out[table] = n
    con.close()
    return out


def counts(db: Database) -> dict[str, int]:
    with db.read() as cur:
        return {
            t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("records", "submissions", "files", "audit_log", "users", "partners")
        }


def test_round_trip_keeps_every_row_and_ids_continue(source: Database, tmp_path: Path) -> None:
    before = counts(source)
    assert before["files"] == 3 and before["audit_log"] == 2 and before["users"] == 2
    summary = backup.backup(source, tmp_path / "backup")
    assert summary.rows["records"] == before["records"]
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["schema_version"] == migrate.latest_version()
    assert manifest["tables"]["files"] == 3
    assert str(tmp_path) not in (tmp_path / "backup" / "load.sql").read_text()

    restored = backup.restore(tmp_path / "backup", tmp_path / "restored.duckdb", actor="ana")
    assert restored.rows["records"] == before["records"]
    target = tmp_path / "restored.duckdb"
    assert not list(tmp_path.glob(".restored*"))  # no temporary file left behind
    # every table identical, except the audit entry of the restore and the data version
    diff = differences(source.path, target, ignore_meta=("data_version",))
    assert diff == {"audit_log": 1}
    db = Database(target)
    with db.read() as cur:
        log = audit.entries(cur)
        files = dict(cur.execute("SELECT sha256, content FROM files").fetchall())
    assert log.iloc[0][["actor", "action", "entity"]].tolist() == ["ana", "restore", "database"]
    assert files[hashlib.sha256(ODD_BYTES).hexdigest()] == ODD_BYTES
    assert (
        audit.entries(duckdb.connect(str(source.path), read_only=True))
        .reset_index(drop=True)
        .equals(log.iloc[1:].reset_index(drop=True))
    )

    # new rows get ids after the highest restored one, in every table with a sequence
    with db.read() as cur:
        highest = {
            table: cur.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
            for table in ("records", "submissions", "platforms", "targets", "audit_log", "users")
        }
    result = ingest(
        db, "shopco", csv_upload("2019-Q4", "after"), "new.csv", uploaded_by="t", today=TODAY
    )
    assert result.stored and result.submission_id == highest["submissions"] + 1
    with db.write() as cur:
        platform = store.add_platform(cur, "shopco", "ShopNew")
        target_id = cur.execute(
            "INSERT INTO targets (name, reduction, deadline) VALUES ('t', 0.3, DATE '2031-01-01') "
            "RETURNING id"
        ).fetchone()[0]
        user = cur.execute(
            "INSERT INTO users (name, role, password_hash, created_at) "
            "VALUES ('obs', 'observer', 'h', now()::TIMESTAMP) RETURNING id"
        ).fetchone()[0]
        audit.record(cur, "t", "create", "platform", "ShopNew")
        new_records = cur.execute(
            "SELECT min(id) FROM records WHERE submission_id = ?", [result.submission_id]
        ).fetchone()[0]
        new_audit = cur.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    assert platform == highest["platforms"] + 1
    assert target_id == highest["targets"] + 1
    assert user == highest["users"] + 1
    assert new_records == highest["records"] + 1
    assert new_audit == highest["audit_log"] + 1


def test_sequences_continue_even_when_the_backup_restarts_them(
    source: Database, tmp_path: Path
) -> None:
    """An export whose sequences start again at 1 (as older DuckDB versions wrote them) still
    gives ids after the highest restored one."""
    folder = tmp_path / "backup"
    backup.backup(source, folder)
    schema = folder / "schema.sql"
    text = schema.read_text()
    restarted = "\n".join(
        line.split(" START ")[0] + " START 1 NO CYCLE;"
        if line.startswith("CREATE SEQUENCE")
        else line
        for line in text.splitlines()
    )
    assert restarted != text
    schema.write_text(restarted)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["sequences"]
    manifest["files"]["schema.sql"] = {
        "bytes": schema.stat().st_size,
        "sha256": hashlib.sha256(schema.read_bytes()).hexdigest(),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    db = Database(tmp_path / "restored.duckdb")
    backup.restore(folder, db.path)
    with db.read() as cur:
        highest = cur.execute("SELECT max(id) FROM submissions").fetchone()[0]
    result = ingest(db, "shopco", csv_upload("2019-Q4", "x"), "n.csv", uploaded_by="t", today=TODAY)
    assert result.submission_id == highest + 1


def test_restore_refuses_an_existing_file_unless_forced_and_keeps_the_old_one(
    source: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    backup.backup(source, folder)
    target = tmp_path / "live.duckdb"
    shutil.copyfile(source.path, target)
    with Database(target).write() as cur:  # a change made after the backup
        cur.execute("DELETE FROM targets WHERE name = 'Half by 2030'")
    before = target.read_bytes()
    with pytest.raises(backup.BackupError, match="exists already"):
        backup.restore(folder, target)
    assert target.read_bytes() == before

    backup.restore(folder, target, force=True)
    kept = list(tmp_path.glob("live.duckdb.before-restore-*"))
    assert len(kept) == 1
    with Database(kept[0]).read() as cur:
        assert cur.execute("SELECT count(*) FROM targets").fetchone()[0] == 1
    with Database(target).read() as cur:
        assert cur.execute("SELECT count(*) FROM targets").fetchone()[0] == 2
        version = int(cur.execute("SELECT value FROM meta WHERE key='data_version'").fetchone()[0])
    with Database(kept[0]).read() as cur:
        old = int(cur.execute("SELECT value FROM meta WHERE key='data_version'").fetchone()[0])
    assert version > old  # figures cached for the replaced file are not taken for these
    assert not Path(f"{target}.wal").exists()


@pytest.mark.parametrize(
    "damage",
    ["change a byte", "remove a file", "add a row to the manifest count", "not a backup"],
)
def test_a_damaged_backup_is_refused_and_nothing_is_written(
    source: Database, tmp_path: Path, damage: str
) -> None:
    folder = tmp_path / "backup"
    backup.backup(source, folder)
    files = folder / "files.parquet"
    if damage == "change a byte":
        data = bytearray(files.read_bytes())
        data[len(data) // 2] ^= 0xFF
        files.write_bytes(bytes(data))
    elif damage == "remove a file":
        files.unlink()
    elif damage == "add a row to the manifest count":
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["tables"]["records"] += 1
        (folder / "manifest.json").write_text(json.dumps(manifest))
    else:
        (folder / "manifest.json").unlink()
    target = tmp_path / "restored.duckdb"
    with pytest.raises(backup.BackupError):
        backup.restore(folder, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup"]


def test_backup_refuses_a_folder_that_holds_something(source: Database, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(backup.BackupError, match="not an empty folder"):
        backup.backup(source, tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    backup.backup(source, tmp_path / "empty")  # a new folder is fine
    assert (tmp_path / "empty" / "manifest.json").exists()


def release1(tmp_path: Path) -> Path:
    path = tmp_path / "release1.duckdb"
    path.write_bytes(gzip.decompress(RELEASE1.read_bytes()))
    return path


def test_a_backup_made_at_an_older_schema_is_upgraded_on_restore(tmp_path: Path) -> None:
    old = Database(release1(tmp_path))
    with old.read() as cur:
        assert migrate.schema_version(cur) == 1
        records = cur.execute("SELECT count(*) FROM records").fetchone()[0]
    summary = backup.backup(old, tmp_path / "backup")
    assert summary.schema_version == 1
    db = Database(tmp_path / "restored.duckdb")
    backup.restore(tmp_path / "backup", db.path)
    with db.read() as cur:
        assert migrate.schema_version(cur) == migrate.latest_version()
        assert cur.execute("SELECT count(*) FROM records").fetchone()[0] == records
        assert cur.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1  # the restore


def test_cli_backup_and_restore(source: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "nightly"
    made = runner.invoke(cli, ["backup", "--db", str(source.path), "--out", str(folder)])
    assert made.exit_code == 0, made.output
    assert "Backed up" in made.output and "3 archived files" in made.output
    target = tmp_path / "restored.duckdb"
    args = ["restore", str(folder), "--db", str(target), "--by", "ana"]
    done = runner.invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert f"into {target}" in done.output
    again = runner.invoke(cli, args)
    assert again.exit_code == 1 and "--force" in again.output
    forced = runner.invoke(cli, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert differences(source.path, target, ignore_meta=("data_version",)) == {"audit_log": 1}


def test_round_trip_of_the_demo_database(tmp_path: Path) -> None:
    """The synthetic demo (~150,000 records, 1,000 submissions) comes back identical."""
    from coalition.demo import load_demo

    db = Database(tmp_path / "demo.duckdb")
    load_demo(db)
    backup.backup(db, tmp_path / "backup")
    backup.restore(tmp_path / "backup", tmp_path / "restored.duckdb")
    # a database this size keeps rollups; their stamp names the data version, which the
    # restore's own write moves on (the rollup tables themselves are compared like the rest)
    ignored = ("data_version", rollups.STAMP_KEY)
    diff = differences(db.path, tmp_path / "restored.duckdb", ignore_meta=ignored)
    assert diff == {"audit_log": 1}
