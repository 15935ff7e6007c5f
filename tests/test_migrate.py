"""Upgrades: a database made by the first release (tests/data/release1.duckdb.gz, schema
version 1) opens in this one, is brought up to the latest schema, and keeps every row and
every figure."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import metrics
from coalition import migrate, rollup, store
from coalition.cli import cli
from coalition.db import Database, set_meta
from coalition.ingest import ingest
from coalition.ui import data
from metrics import rollups

RELEASE1 = Path(__file__).resolve().parent / "data" / "release1.duckdb.gz"
# What the first release stored (see tests/data/README.md)
ROWS = {"partners": 2, "platforms": 3, "submissions": 2, "records": 8, "files": 2, "targets": 1}
TABLES_ADDED = {"users", "audit_log"}


@pytest.fixture(scope="module")
def release1_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("release1") / "release1.duckdb"
    path.write_bytes(gzip.decompress(RELEASE1.read_bytes()))
    return path


@pytest.fixture
def old(release1_file: Path, tmp_path: Path) -> Database:
    """A fresh copy of the first release's database (never the committed file itself)."""
    path = tmp_path / "coalition.duckdb"
    shutil.copyfile(release1_file, path)
    return Database(path, retry_seconds=5)


def tables(db: Database) -> set[str]:
    with db.read() as cur:
        return {
            r[0]
            for r in cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT internal"
            ).fetchall()
        }


def rows(db: Database) -> dict[str, int]:
    with db.read() as cur:
        return {t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ROWS}


def test_the_committed_file_is_a_first_release_database(old: Database) -> None:
    with old.read() as cur:
        assert migrate.schema_version(cur) == 1
    assert not tables(old) & TABLES_ADDED
    assert rows(old) == ROWS


def test_first_release_database_is_upgraded_and_keeps_its_rows(old: Database) -> None:
    with old.read() as cur:
        before = {
            t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("partners", "platforms", "submissions", "records", "files", "meta")
        }
    applied = migrate.upgrade(old)
    assert applied == list(range(2, migrate.latest_version() + 1))
    with old.read() as cur:
        assert migrate.schema_version(cur) == migrate.latest_version()
        after = {
            t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("partners", "platforms", "submissions", "records", "files")
        }
        files = cur.execute("SELECT sha256, content FROM files").fetchall()
    assert after == {t: v for t, v in before.items() if t != "meta"}
    assert tables(old) >= TABLES_ADDED
    assert all(hashlib.sha256(bytes(content)).hexdigest() == sha for sha, content in files)
    assert migrate.upgrade(old) == []  # the second opening has nothing to do


def test_indicators_give_the_first_release_figures(old: Database) -> None:
    migrate.upgrade(old)
    with old.read() as cur:
        progress = metrics.progress(cur, metrics.Filters()).iloc[0]
        with_submitted = metrics.progress(cur, metrics.Filters(include_submitted=True)).iloc[0]
        actions = metrics.actions(cur, metrics.Filters(), grain=None)
    assert progress["reduction"] == pytest.approx(5 / 9)
    assert progress["current_period"] == "2019-Q3"
    assert progress["status"] == "on_track"
    assert progress["cumulative_actions"] == 121
    assert with_submitted["cumulative_actions"] == 138
    assert int(actions["actions"].sum()) == 121


def test_the_command_line_opens_it_and_upgrades_it(old: Database) -> None:
    result = CliRunner().invoke(cli, ["progress", "--json", "--db", str(old.path)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["cumulative_actions"] == 121
    with old.read() as cur:
        assert migrate.schema_version(cur) == migrate.latest_version()


def test_new_data_goes_into_an_upgraded_database(old: Database) -> None:
    migrate.upgrade(old)
    data = (
        b"period,platform,species_group,country,listings_removed,listings_blocked\r\n"
        b"2019-Q4,Acme Market,elephants,CHN,4,4\r\n"
    )
    result = ingest(old, "acme", data, "q4.csv", uploaded_by="t", accept=True)
    assert result.stored and result.submission_id == 3  # ids continue after the old ones
    with old.read() as cur:
        assert cur.execute("SELECT max(id) FROM records").fetchone()[0] == 9
        assert store.submissions(cur)["id"].tolist() == [3, 2, 1]


def test_a_database_from_a_newer_release_is_refused(old: Database) -> None:
    migrate.upgrade(old)
    with old.write() as cur:
        set_meta(cur, "schema_version", str(migrate.latest_version() + 1))
    with pytest.raises(migrate.SchemaTooNew, match="newer release"):
        migrate.upgrade(old)
    result = CliRunner().invoke(cli, ["progress", "--db", str(old.path)])
    assert result.exit_code == 1 and "newer release" in result.output


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in migrate.migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert migrate.latest_version() >= 2


RECORD_CONSTRAINTS = """
SELECT constraint_type, constraint_text FROM duckdb_constraints()
WHERE table_name = 'records' AND constraint_type <> 'NOT NULL'
ORDER BY ALL
"""


def _records_shape(cur) -> tuple:
    """records' columns (name, type, default, nullable, in order) and its constraints."""
    columns = cur.execute(
        "SELECT column_name, data_type, column_default, is_nullable FROM duckdb_columns() "
        "WHERE table_name = 'records' ORDER BY column_index"
    ).fetchall()
    return columns, cur.execute(RECORD_CONSTRAINTS).fetchall()


def test_records_lose_their_foreign_keys_and_keep_the_rest(old: Database) -> None:
    with old.read() as cur:
        columns_before, constraints_before = _records_shape(cur)
    assert sum(kind == "FOREIGN KEY" for kind, _ in constraints_before) == 5  # release 1's
    migrate.upgrade(old)
    with old.read() as cur:
        columns_after, constraints_after = _records_shape(cur)
    assert columns_after == columns_before  # names, types, order, nullability, id's default
    assert columns_after[0] == ("id", "BIGINT", "nextval('record_id_seq')", False)
    assert not [c for c in constraints_after if c[0] == "FOREIGN KEY"]
    assert constraints_after == [
        c for c in constraints_before if c[0] not in ("FOREIGN KEY", "PRIMARY KEY")
    ]
    kinds = [kind for kind, _ in constraints_after]
    assert kinds.count("PRIMARY KEY") == 0 and kinds.count("CHECK") == 7  # the key: version 5


def test_records_lose_their_primary_key_and_keep_their_ids(old: Database) -> None:
    """Version 5: no index to update row by row; the ids, their order and the sequence stay."""
    with old.read() as cur:
        ids_before = [r[0] for r in cur.execute("SELECT id FROM records").fetchall()]
    assert len(ids_before) == ROWS["records"]
    migrate.upgrade(old)
    with old.read() as cur:
        assert [r[0] for r in cur.execute("SELECT id FROM records").fetchall()] == ids_before
        assert not cur.execute(
            "SELECT count(*) FROM duckdb_indexes() WHERE table_name = 'records'"
        ).fetchone()[0]
        assert "PRIMARY KEY" not in {kind for kind, _ in cur.execute(RECORD_CONSTRAINTS).fetchall()}
    with old.write() as cur:
        cur.execute(
            "INSERT INTO records (submission_id, platform_id, period, species_group, "
            "listings_removed) VALUES (1, 1, '2019-Q1', 'elephants', 1)"
        )
        new_id = cur.execute("SELECT max(id) FROM records").fetchone()[0]
    assert new_id > max(ids_before)


def test_a_new_database_has_the_records_of_an_upgraded_one(old: Database, tmp_path: Path) -> None:
    migrate.upgrade(old)
    new = Database(tmp_path / "new.duckdb")
    store.init(new)
    with old.read() as cur:
        upgraded = _records_shape(cur)
    with new.read() as cur:
        created = _records_shape(cur)
    assert created == upgraded


def test_the_upgraded_records_still_refuse_what_they_refused(old: Database) -> None:
    migrate.upgrade(old)
    insert = (
        "INSERT INTO records (submission_id, platform_id, period, species_group, "
        "listings_removed) VALUES (1, 1, '2019-Q1', 'elephants', ?)"
    )
    with (
        pytest.raises(duckdb.ConstraintException, match="listings_removed >= 0"),
        old.write() as cur,
    ):
        cur.execute(insert, [-1])
    with (
        pytest.raises(duckdb.ConstraintException, match="(?i)not null"),
        old.write() as cur,
    ):
        cur.execute(
            "INSERT INTO records (id, submission_id, platform_id, period, species_group, "
            "listings_removed) VALUES (NULL, 1, 1, '2019-Q1', 'elephants', 1)"
        )
    assert rows(old)["records"] == ROWS["records"]


@pytest.mark.parametrize("opened_by", ["a command", "the app"])
def test_rollups_of_an_older_release_are_rebuilt_on_opening(
    old: Database, monkeypatch, opened_by: str
) -> None:
    """Pre-aggregated tables stamped by an older release are ignored (every page reads the
    records); opening the database — a command, or the app's first run — rebuilds them,
    without counting as new data."""
    monkeypatch.setenv(rollup.MIN_RECORDS_ENV, "0")
    migrate.upgrade(old)
    version = old.data_version()
    with old.write(changes_figures=False) as cur:
        assert rollups.fresh(cur)
        set_meta(cur, rollups.STAMP_KEY, f"older:{version}")
        assert not rollups.fresh(cur)
    if opened_by == "a command":
        assert migrate.upgrade(old) == []
    else:
        monkeypatch.setenv("COALITION_DB", str(old.path))
        assert data.source().version == version
    with old.read() as cur:
        assert rollups.fresh(cur)
    assert old.data_version() == version


def test_sessions_opening_during_the_rebuild_wait_for_it_instead_of_failing_as_busy(
    old: Database, monkeypatch
) -> None:
    """Sessions that open the app while its first run rebuilds tables of an older release
    wait for that rebuild (however long it takes at millions of records) and then read the
    rebuilt tables; they neither give up as "busy" after the app's wait for a write, nor
    rebuild a second time."""
    monkeypatch.setenv(rollup.MIN_RECORDS_ENV, "0")
    monkeypatch.setenv("COALITION_DB", str(old.path))
    migrate.upgrade(old)
    version = old.data_version()
    with old.write(changes_figures=False) as cur:
        set_meta(cur, rollups.STAMP_KEY, f"older:{version}")
    monkeypatch.setattr(data, "RETRY_SECONDS", 0.2)  # the app's wait for a write, shortened
    rebuilds = []
    started = threading.Event()
    real_update = rollup.update

    def slow_update(cur, *args, **kwargs):  # a rebuild longer than that wait
        rebuilds.append(threading.current_thread().name)
        started.set()
        time.sleep(1.0)
        return real_update(cur, *args, **kwargs)

    monkeypatch.setattr(rollup, "update", slow_update)
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(data.source)
        assert started.wait(10)
        others = [pool.submit(data.source) for _ in range(2)]
        sources = [first.result(timeout=30)] + [f.result(timeout=30) for f in others]
    assert len(rebuilds) == 1
    assert {s.version for s in sources} == {version}
    with old.read() as cur:
        assert rollups.fresh(cur)
