"""Loading: all of a file or nothing, once, kept byte for byte; resubmissions supersede the rows
they cover once accepted; warnings against the stored figures need an acknowledgement."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import pandas as pd
import pytest

from coalition import store
from coalition.ingest import archived_file, ingest
from coalition.validation import validate

PARTNER = "acme"
TODAY = dt.date(2020, 6, 15)
M, R = "Acme Market", "Acme Resale"
Q3 = [("2019-Q3", M, "ivory", "VNM", 100, 20), ("2019-Q3", R, "pangolins", "", 5, 1)]


def _records(db) -> list[tuple]:
    with db.read() as cur:
        return cur.execute(
            "SELECT submission_id, pl.name, period, species_group, listings_removed, "
            "superseded_by, replaced_by_pending FROM records r JOIN platforms pl "
            "ON pl.id = r.platform_id ORDER BY r.id"
        ).fetchall()


def _status(db, submission: int) -> str:
    with db.read() as cur:
        return cur.execute("SELECT status FROM submissions WHERE id = ?", [submission]).fetchone()[
            0
        ]


def _exported(run) -> list[dict]:
    result = run("export")
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_the_same_file_twice_is_loaded_once(files, run, counts):
    data = files.xlsx(Q3)
    first = run.ingest("q3.xlsx", data, "--accept")
    assert first.exit_code == 0, first.output
    after_first = counts(run.db)
    again = run.ingest("q3-copy.xlsx", data, "--accept")  # another name, the same bytes
    assert again.exit_code == 0
    assert "loaded before, as submission 1" in again.output
    assert counts(run.db) == after_first == {"files": 1, "submissions": 1, "records": 2}


def test_the_archived_file_is_the_upload_byte_for_byte(files, run):
    data = files.filled_template(
        [dict(period="2019年第3季度", platform=M, species_group="象牙", listings_removed=3)], "zh"
    )
    assert run.ingest("模板.xlsx", data, "--accept").exit_code == 0
    digest = hashlib.sha256(data).hexdigest()
    with run.db.read() as cur:
        size, name, sha = cur.execute(
            "SELECT f.size, s.file_name, s.file_sha256 FROM files f "
            "JOIN submissions s ON s.file_sha256 = f.sha256"
        ).fetchone()
    assert (size, name, sha) == (len(data), "模板.xlsx", digest)
    assert archived_file(run.db, digest) == data


def test_warnings_need_yes_and_accept_loads_as_accepted(files, run, counts):
    jumpy = files.xlsx(
        [("2019-07", M, "ivory", "VNM", 30, 1), ("2019-08", M, "ivory", "VNM", 900, 1)]
    )
    refused = run.ingest("jumpy.xlsx", jumpy)
    assert refused.exit_code == 1
    assert "[jump]" in refused.output and "run again with --yes" in refused.output
    assert counts(run.db) == {"files": 0, "submissions": 0, "records": 0}

    loaded = run.ingest("jumpy.xlsx", jumpy, "--yes")
    assert loaded.exit_code == 0
    assert "(submitted for review)" in loaded.output
    assert _status(run.db, 1) == "submitted"

    q1 = [("2019-Q1", *row[1:]) for row in Q3]  # other periods: nothing superseded
    accepted = run.ingest("other.csv", files.csv(q1), "--accept")
    assert accepted.exit_code == 0
    assert "(accepted)" in accepted.output
    assert _status(run.db, 2) == "accepted"
    assert {r["status"] for r in _exported(run)} == {"submitted", "accepted"}


def test_warnings_against_the_stored_figures(files, run, db):
    stored = [("2019-Q2", M, "ivory", "VNM", 100, 20), ("2019-Q2", R, "bears", "CHN", 500, 0)]
    assert run.ingest("q2.xlsx", files.xlsx(stored), "--accept").exit_code == 0
    data = files.xlsx(
        [
            ("2019-Q3", M, "ivory", "VNM", 1500, 20),  # 15 times the file's own Q2
            ("2019-Q2", M, "ivory", "VNM", 90, 20),  # Q2 again: supersedes it once accepted
            ("2019-Q3", R, "bears", "CHN", 40, 0),  # under a tenth of the stored 500
        ]
    )
    with db.read() as cur:
        report = validate(cur, PARTNER, data, "next.xlsx", today=TODAY).report
    assert report.valid
    warnings = {(p.row, p.column, p.code): p.message for p in report.warnings}
    assert set(warnings) == {
        (3, "period", "period_already_submitted"),
        (2, "listings_removed", "jump"),
        (4, "listings_removed", "jump"),
    }
    assert "2019-Q2" in warnings[(3, "period", "period_already_submitted")]
    # the file's own Q2 (90) is the previous figure for its Q3, not the stored 100
    assert "the 90 of 2019-Q2" in warnings[(2, "listings_removed", "jump")]
    assert "less than a tenth of the 500 of 2019-Q2" in warnings[(4, "listings_removed", "jump")]


def test_a_resubmission_supersedes_once_accepted(files, run):
    assert run.ingest("q3.xlsx", files.xlsx(Q3), "--accept").exit_code == 0  # submission 1
    correction = files.xlsx(
        [("2019-Q3", M, "ivory", "VNM", 110, 20), ("2019-Q3", R, "pangolins", "", 6, 1)]
    )
    pending = run.ingest("q3-v2.xlsx", correction, "--json", "--yes")  # submission 2
    assert pending.exit_code == 0
    assert {p["code"] for p in json.loads(pending.stdout)["warnings"]} == {
        "period_already_submitted"
    }
    # awaiting review: the accepted rows stay, marked as about to be replaced
    assert _records(run.db) == [
        (1, M, "2019-Q3", "elephants", 100, None, 2),
        (1, R, "2019-Q3", "pangolins", 5, None, 2),
        (2, M, "2019-Q3", "elephants", 110, None, None),
        (2, R, "2019-Q3", "pangolins", 6, None, None),
    ]
    assert _status(run.db, 1) == "accepted"
    with run.db.write() as cur:
        store.review_submission(cur, 2, "accepted", reviewed_by="secretariat@example.org")
    assert _records(run.db) == [
        (1, M, "2019-Q3", "elephants", 100, 2, None),
        (1, R, "2019-Q3", "pangolins", 5, 2, None),
        (2, M, "2019-Q3", "elephants", 110, None, None),
        (2, R, "2019-Q3", "pangolins", 6, None, None),
    ]
    assert _status(run.db, 1) == "superseded"  # every row replaced
    assert [(r["platform"], r["listings_removed"]) for r in _exported(run)] == [
        (M, "110"),
        (R, "6"),
    ]


def test_a_partial_resubmission_leaves_the_rest_current(files, run):
    assert run.ingest("q3.xlsx", files.xlsx(Q3), "--accept").exit_code == 0
    # a month of the same quarter, for one platform only: it overlaps the quarter's row
    month = files.xlsx([("2019-07", M, "ivory", "VNM", 40, 7)])
    assert run.ingest("july.xlsx", month, "--accept").exit_code == 0
    rows = _records(run.db)
    assert rows[0][5] == 2 and rows[1][5] is None  # Market's quarter superseded, Resale's not
    assert _status(run.db, 1) == "accepted"
    exported = [(r["platform"], r["period"], r["status"]) for r in _exported(run)]
    assert exported == [(M, "2019-07", "accepted"), (R, "2019-Q3", "accepted")]


def test_a_returned_submission_leaves_the_accepted_figures(files, run):
    assert run.ingest("q3.xlsx", files.xlsx(Q3), "--accept").exit_code == 0
    wrong = files.xlsx([("2019-Q3", M, "ivory", "VNM", 1000, 20)])
    assert run.ingest("wrong.xlsx", wrong, "--yes").exit_code == 0  # submission 2, pending
    assert [r[6] for r in _records(run.db) if r[0] == 1] == [2, None]
    with run.db.write() as cur:
        store.review_submission(cur, 2, "returned", reviewed_by="s", comment="check Q3")
    assert [r[5:] for r in _records(run.db) if r[0] == 1] == [(None, None), (None, None)]
    assert (_status(run.db, 1), _status(run.db, 2)) == ("accepted", "returned")


def test_a_crash_inside_the_transaction_leaves_nothing(files, db, counts, monkeypatch):
    real = store.add_submission

    def crash_after_inserting(cur, **kwargs):
        real(cur, **kwargs)
        stored = cur.execute("SELECT count(*) FROM records").fetchone()[0]
        assert stored == 2  # the rows were in, inside the transaction
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "add_submission", crash_after_inserting)
    before = counts(db)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(db, PARTNER, files.xlsx(Q3), "q3.xlsx", uploaded_by="t", accept=True, today=TODAY)
    assert counts(db) == before == {"files": 0, "submissions": 0, "records": 0}
    monkeypatch.undo()
    # and the database still works: the same file loads afterwards
    result = ingest(
        db, PARTNER, files.xlsx(Q3), "q3.xlsx", uploaded_by="t", accept=True, today=TODAY
    )
    assert result.stored and counts(db) == {"files": 1, "submissions": 1, "records": 2}


def test_an_unknown_partner_is_refused_without_reading(files, run, counts):
    result = run("ingest", str(run.file("q3.xlsx", files.xlsx(Q3))), "--partner", "nobody")
    assert result.exit_code == 1
    assert "There is no partner 'nobody'" in result.output
    assert "acme" in result.output
    assert counts(run.db) == {"files": 0, "submissions": 0, "records": 0}


def test_validation_leaves_the_garbage_collector_as_it_found_it(files, db):
    """validate() pauses the cyclic collector while it works (see _collector_paused)."""
    import gc

    with db.read() as cur:
        validate(cur, PARTNER, files.xlsx(Q3), "q3.xlsx", today=TODAY)
        assert gc.isenabled()
        validate(cur, PARTNER, b"not a workbook", "x.xlsx", today=TODAY)  # refused early
        assert gc.isenabled()
        gc.disable()
        try:
            validate(cur, PARTNER, files.xlsx(Q3), "q3.xlsx", today=TODAY)
            assert not gc.isenabled()  # a caller's choice is kept
        finally:
            gc.enable()


# --- references: records has no foreign keys, the loader checks them set-wise ----------------


def _frame(**changes) -> pd.DataFrame:
    """Two normalised rows as validation hands them to the store, with ``changes`` made to the
    second one."""
    rows = [
        {"platform": M, "period": "2019-Q3", "species_group": "elephants", "country": "VNM"},
        {"platform": R, "period": "2019-Q3", "species_group": "pangolins", "country": ""},
    ]
    rows[1].update(changes)
    frame = pd.DataFrame(rows)
    frame["listings_removed"] = [4, 5]
    return frame


@pytest.mark.parametrize(
    "change, message",
    [
        ({"period": "2041-01"}, "a period that the database does not have (period '2041-01'"),
        ({"species_group": "dodos"}, "(species_group 'dodos': not in the species_groups table)"),
        ({"country": "XXX"}, "a country that the database does not have (country 'XXX': not in"),
        ({"platform": "Other Shop"}, "platform that is not registered for 'acme': 'Other Shop'"),
    ],
    ids=["period", "species group", "country", "platform"],
)
def test_a_row_naming_what_the_database_lacks_is_refused_and_nothing_stored(
    db, counts, change: dict, message: str
):
    before = counts(db)
    with pytest.raises(store.StoreError) as raised, db.write() as cur:
        store.add_submission(cur, partner=PARTNER, records=_frame(**change), uploaded_by="t")
    assert message in str(raised.value)
    assert "Nothing was stored" in str(raised.value)
    assert counts(db) == before
    # the same rows without the bad value are stored
    with db.write() as cur:
        store.add_submission(cur, partner=PARTNER, records=_frame(), uploaded_by="t")
    assert counts(db)["records"] == before["records"] + 2


def test_a_platform_of_another_partner_is_refused(db, counts):
    before = counts(db)
    with pytest.raises(store.StoreError, match="not registered for 'acme'"), db.write() as cur:
        other = cur.execute("SELECT name FROM platforms WHERE partner <> 'acme'").fetchall()[0][0]
        store.add_submission(cur, partner=PARTNER, records=_frame(platform=other), uploaded_by="t")
    assert counts(db) == before


def test_the_set_wise_check_names_each_reference_of_records(db):
    """check_record_references on rows as another loader would insert them (ids included):
    every one of the five references is looked up, with the value and the table named."""
    with db.write() as cur:
        store.add_submission(cur, partner=PARTNER, records=_frame(), uploaded_by="t")
    with db.read() as cur:
        good = cur.execute(
            "SELECT submission_id, platform_id, period, species_group, country FROM records"
        ).df()
        cur.register("good", good)
        store.check_record_references(cur, "good")  # nothing missing: no error
        cur.unregister("good")
        for column, table, _key in store.RECORD_REFERENCES:
            bad = good.copy()
            bad[column] = bad[column].astype(object)
            bad.loc[len(bad) - 1, column] = 999 if column.endswith("_id") else "nope"
            cur.register("bad", bad)
            try:
                with pytest.raises(store.StoreError) as raised:
                    store.check_record_references(cur, "bad")
            finally:
                cur.unregister("bad")
            assert f"not in the {table} table" in str(raised.value), column
            assert ("999" if column.endswith("_id") else "'nope'") in str(raised.value)
