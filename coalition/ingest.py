"""Loading a validated upload: all of it or nothing, with the original file kept.

The whole path — validation, the archived file, the submission and its rows, superseding —
runs in one transaction, so a failure or a crash leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from coalition import store
from coalition.db import Database
from coalition.validation import Report, validate


@dataclass
class IngestResult:
    """What happened to an upload. ``stored`` is True only when its rows were loaded."""

    report: Report
    stored: bool
    submission_id: int | None = None
    reason: str | None = None  # why nothing was stored: invalid | warnings | duplicate

    def as_dict(self) -> dict:
        out = self.report.as_dict()
        out.update(stored=self.stored, submission=self.submission_id, reason=self.reason)
        return out


class NothingStored(Exception):
    """Raised inside the transaction to roll it back; carries the result to report."""

    def __init__(self, result: IngestResult) -> None:
        super().__init__(result.reason)
        self.result = result


def ingest(
    db: Database,
    partner: str,
    data: bytes,
    file_name: str,
    *,
    uploaded_by: str,
    acknowledge_warnings: bool = False,
    accept: bool = False,
    source: str = "cli",
    today: dt.date | None = None,
) -> IngestResult:
    """Validate ``data`` and, if it has no errors (and its warnings are acknowledged), store
    the file, a submission and all its rows in one transaction.

    ``accept`` marks the submission accepted at once (a secretariat batch load) and implies
    acknowledging the warnings. The same file sent again by the same partner is recognised by
    its hash and not loaded twice.
    """
    acknowledge_warnings = acknowledge_warnings or accept
    try:
        with db.write() as cur:
            validation = validate(cur, partner, data, file_name, today=today)
            report = validation.report
            if not report.valid:
                raise NothingStored(IngestResult(report, False, reason="invalid"))
            previous = cur.execute(
                "SELECT id FROM submissions WHERE partner = ? AND file_sha256 = ? "
                "AND status <> 'returned' ORDER BY id LIMIT 1",
                [partner, report.sha256],
            ).fetchone()
            if previous:
                raise NothingStored(IngestResult(report, False, previous[0], reason="duplicate"))
            if report.warnings and not acknowledge_warnings:
                raise NothingStored(IngestResult(report, False, reason="warnings"))
            # the same bytes may be stored already (a returned submission sent again). Looked
            # up first: with ON CONFLICT, DuckDB took ten times longer to store a large file.
            if not cur.execute("SELECT 1 FROM files WHERE sha256 = ?", [report.sha256]).fetchone():
                cur.execute(
                    "INSERT INTO files (sha256, size, content) VALUES (?, ?, ?)",
                    [report.sha256, len(data), data],
                )
            submission = store.add_submission(
                cur,
                partner=partner,
                records=validation.records,
                uploaded_by=uploaded_by,
                source=source,
                status="accepted" if accept else "submitted",
                file_name=file_name,
                file_sha256=report.sha256,
            )
            return IngestResult(report, True, submission)
    except NothingStored as stop:
        return stop.result


def archived_file(db: Database, sha256: str) -> bytes | None:
    """The bytes of an uploaded file, exactly as they were received."""
    with db.read() as cur:
        row = cur.execute("SELECT content FROM files WHERE sha256 = ?", [sha256]).fetchone()
    return bytes(row[0]) if row else None
