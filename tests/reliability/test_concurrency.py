"""Concurrency: ten partners submit at the same moment, and all ten submissions are stored.

(a) Ten threads of one process going through ``coalition.ingest.ingest`` as the Submit data
    page does (``ingest(Database(path), ..., source="upload")``), with readers computing the
    indicators meanwhile. DuckDB would fail all but one of the simultaneous write transactions
    at commit; ``Database.write`` makes them take turns instead.
(b) Ten ``coalition ingest`` processes. DuckDB lets one process at a time open the file, so
    the others wait and retry, saying so on standard error, and every one of them stores its
    file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import metrics
from coalition.db import Database
from coalition.ingest import ingest

PARTNERS = 10
REPO = Path(__file__).resolve().parents[2]
COALITION = Path(sys.executable).with_name("coalition")


def stored(db: Database) -> dict[str, tuple[int, int, str]]:
    """Per partner: its submissions, its rows, and the status of its submissions."""
    with db.read() as cur:
        rows = cur.execute(
            "SELECT s.partner, count(DISTINCT s.id), count(r.id), string_agg(DISTINCT s.status) "
            "FROM submissions s JOIN records r ON r.submission_id = s.id GROUP BY s.partner"
        ).fetchall()
        files = cur.execute("SELECT count(*) FROM files").fetchone()[0]
    assert files == len(rows)
    return {partner: (subs, n, status) for partner, subs, n, status in rows}


def test_ten_threads_submit_at_once_and_all_are_stored(partners_db: Database, make_csv) -> None:
    rows = 2_000
    uploads = [make_csv(i, rows, note=f"from partner {i}") for i in range(PARTNERS)]
    version = partners_db.data_version()
    start = threading.Barrier(PARTNERS + 2)
    done = threading.Event()

    def submit(i: int):
        start.wait(timeout=60)
        return ingest(
            Database(partners_db.path),
            f"partner-{i}",
            uploads[i],
            f"partner {i}.csv",
            uploaded_by=f"user {i}",
            acknowledge_warnings=True,
            source="upload",
        )

    def read(_: int) -> int:
        start.wait(timeout=60)
        reads = 0
        while not done.is_set() or reads == 0:
            with Database(partners_db.path).read() as cur:
                metrics.actions(cur, metrics.Filters(include_submitted=True), grain=None)
            reads += 1
        return reads

    with ThreadPoolExecutor(PARTNERS + 2) as pool:
        readers = [pool.submit(read, r) for r in range(2)]
        results = list(pool.map(submit, range(PARTNERS)))
        done.set()
        reads = [r.result() for r in readers]

    assert [(r.stored, r.reason) for r in results] == [(True, None)] * PARTNERS
    assert sorted(r.submission_id for r in results) == list(range(1, PARTNERS + 1))
    assert stored(partners_db) == {f"partner-{i}": (1, rows, "submitted") for i in range(PARTNERS)}
    assert partners_db.data_version() == version + PARTNERS  # one write each, none lost
    assert min(reads) >= 1


def test_ten_cli_processes_wait_for_each_other_and_all_store(
    partners_db: Database, make_csv, tmp_path: Path
) -> None:
    rows = 300
    files = []
    for i in range(PARTNERS):
        path = tmp_path / f"partner {i}.csv"
        path.write_bytes(make_csv(i, rows, note=f"process {i}"))
        files.append(path)
    env = {k: v for k, v in os.environ.items() if k != "COALITION_DB_WAIT"}  # the default wait
    processes = []
    # The test holds the database while the ten start, so that every one of them finds it
    # busy: each must say it waits, then, once it is free, they take turns.
    with partners_db.read():
        for i, path in enumerate(files):
            processes.append(
                subprocess.Popen(
                    [
                        str(COALITION),
                        "ingest",
                        str(path),
                        "--partner",
                        f"partner-{i}",
                        "--accept",
                        "--db",
                        str(partners_db.path),
                    ],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        first_lines = [p.stderr.readline() for p in processes]  # blocks until each waits
    outcomes = [(p, *p.communicate(timeout=600)) for p in processes]

    for line in first_lines:
        assert line.startswith("Waiting for the database"), line
        assert "another process" in line
    for i, (process, out, err) in enumerate(outcomes):
        assert process.returncode == 0, f"partner-{i}: {out}{err}"
        assert "Stored as submission" in out and "(accepted)" in out
        assert "Traceback" not in err
    assert stored(partners_db) == {f"partner-{i}": (1, rows, "accepted") for i in range(PARTNERS)}
    print(f"\nconcurrency: {PARTNERS} CLI processes, each waited and then stored {rows} rows")
