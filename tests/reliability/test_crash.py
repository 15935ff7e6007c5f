"""Crash safety: ``coalition ingest`` killed with SIGKILL at random moments, 20 times.

Each run loads a medium file (20,000 rows, accepted at once, so it also supersedes the rows of
the run before) into the same database, and is killed after a seeded random delay within the
time a whole ingest takes: even runs anywhere in it; odd runs once the write-ahead log appears
(the commit), within the time from there to the end that the measuring run took (committing,
closing, checkpointing) — so that both "killed before the commit" and "killed during or after
it" are tried.
After every kill the database must open and hold each submission whole or not at all: every
submission has all its rows, its archived file is stored with it (and no file is stored without
a submission), and exactly one submission's rows are current.

Python's start-up is kept out of the timing: each process imports the command line, says
"ready", and starts the ingest when it reads "go"; the next run's process imports while the
database is checked after a kill.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from coalition.db import Database

RUNS = 20
ROWS = 20_000
SEED = 9
PARTNER = 0
REPO = Path(__file__).resolve().parents[2]
# The command line as `coalition` runs it, started by "go" once its modules are imported; what
# it prints goes to the file named first (a pipe nobody reads while it runs would fill up)
LAUNCH = (
    "import sys; from coalition.cli import cli; print('ready', flush=True); "
    "sys.stdin.readline(); sys.stdout = sys.stderr = open(sys.argv[1], 'w'); "
    "cli.main(args=sys.argv[2:], prog_name='coalition')"
)


def start(db: Path, upload: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LAUNCH,
            f"{upload}.log",
            "ingest",
            str(upload),
            "--partner",
            f"partner-{PARTNER}",
            "--accept",
            "--db",
            str(db),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "COALITION_DB_WAIT": "60"},
    )
    return process


def go(process: subprocess.Popen) -> float:
    """Start the ingest of a process that has imported everything; returns the start time."""
    assert process.stdout.readline().strip() == "ready"
    process.stdin.write("go\n")
    process.stdin.flush()
    return time.monotonic()


def measure(db: Path, upload: Path) -> tuple[float, float]:
    """(seconds to the write-ahead log's first appearance, seconds to the end) of one ingest."""
    wal = Path(f"{db}.wal")
    process = start(db, upload)
    began = go(process)
    wal_at = None
    while process.poll() is None:
        if wal_at is None and wal.exists():
            wal_at = time.monotonic() - began
        time.sleep(0.005)
    total = time.monotonic() - began
    process.communicate()
    assert process.returncode == 0, Path(f"{upload}.log").read_text()
    return (wal_at if wal_at is not None else 0.8 * total), total


def state(db: Database) -> dict:
    """What the database holds, after opening it the way the app and the CLI do."""
    with db.read() as cur:
        per_submission = dict(
            cur.execute(
                "SELECT s.id, count(r.id) FROM submissions AS s "
                "LEFT JOIN records AS r ON r.submission_id = s.id GROUP BY s.id"
            ).fetchall()
        )
        files = dict(cur.execute("SELECT sha256, content FROM files").fetchall())
        submission_files = dict(cur.execute("SELECT id, file_sha256 FROM submissions").fetchall())
        orphan_rows = cur.execute(
            "SELECT count(*) FROM records WHERE submission_id NOT IN (SELECT id FROM submissions) "
            "OR superseded_by NOT IN (SELECT id FROM submissions)"
        ).fetchone()[0]
        current = cur.execute(
            "SELECT count(*), count(DISTINCT submission_id) FROM records "
            "WHERE superseded_by IS NULL"
        ).fetchone()
        for table in ("meta", "partners", "platforms", "files", "submissions", "records"):
            cur.execute(f"SELECT * FROM {table}").fetchall()  # every table is readable
    return {
        "per_submission": per_submission,
        "files": files,
        "submission_files": submission_files,
        "orphan_rows": orphan_rows,
        "current": current,
    }


def check_whole_or_nothing(found: dict) -> None:
    # every submission holds its whole file's rows; none is empty or partial
    assert all(n == ROWS for n in found["per_submission"].values()), found["per_submission"]
    # the archived file is stored with its submission, and only then
    assert set(found["files"]) == set(found["submission_files"].values())
    for sha, content in found["files"].items():
        assert hashlib.sha256(bytes(content)).hexdigest() == sha
    assert found["orphan_rows"] == 0
    # superseding went with the submission that did it: one submission's rows are current
    if found["per_submission"]:
        assert tuple(found["current"]) == (ROWS, 1)
    else:
        assert tuple(found["current"]) == (0, 0)


def test_ingest_killed_at_random_moments_stores_all_or_nothing(
    partners_db: Database, make_csv, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    uploads = tmp_path / "uploads"
    uploads.mkdir()

    def upload(run: int) -> Path:
        path = uploads / f"run-{run:02d}.csv"
        path.write_bytes(make_csv(PARTNER, ROWS, note=f"run {run}"))
        return path

    # measure one whole ingest on a throw-away copy
    probe = tmp_path / "probe.duckdb"
    probe.write_bytes(partners_db.path.read_bytes())
    commit_at, measured = measure(probe, upload(99))

    kills = stored_when_killed = finished_first = 0
    stored_runs = 0
    wal = Path(f"{partners_db.path}.wal")
    assert not wal.exists()
    process = start(partners_db.path, upload(0))
    for run in range(RUNS):
        late = run % 2 == 1
        began = go(process)
        if late:  # wait for the commit to start, then a random part of what follows it
            while process.poll() is None and not wal.exists():
                time.sleep(0.002)
            time.sleep(rng.uniform(0, max(0.05, measured - commit_at)))
        else:
            time.sleep(max(0.0, rng.uniform(0, measured) - (time.monotonic() - began)))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        # the next one imports while this database is checked (not while an ingest is timed)
        following = start(partners_db.path, upload(run + 1)) if run + 1 < RUNS else None
        process.communicate(timeout=120)
        # the ingest may end between poll() and the signal: its exit status says which came first
        finished = process.returncode != -signal.SIGKILL
        if finished:
            assert process.returncode == 0, (uploads / f"run-{run:02d}.csv.log").read_text()
            finished_first += 1
        else:
            kills += 1

        found = state(partners_db)
        check_whole_or_nothing(found)
        assert len(found["per_submission"]) >= stored_runs  # nothing stored before is lost
        if finished:
            assert len(found["per_submission"]) == stored_runs + 1
        elif len(found["per_submission"]) > stored_runs:
            stored_when_killed += 1  # killed after the commit (closing, checkpointing)
        stored_runs = len(found["per_submission"])
        process = following

    print(
        f"\ncrash test: {RUNS} runs of a {ROWS:,}-row ingest (whole ingest {measured:.1f} s, "
        f"write-ahead log from {commit_at:.1f} s), "
        f"{kills} killed with SIGKILL ({stored_when_killed} after the commit, "
        f"{kills - stored_when_killed} before it), {finished_first} finished before the kill; "
        f"{stored_runs} submissions stored whole, none partial, nothing lost"
    )
    assert kills >= RUNS // 2  # the delays are drawn within the ingest time: most runs are killed
