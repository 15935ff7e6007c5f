"""The Submit data page, run by Streamlit's AppTest on the sample database (see sample_db.py).

Files are made in code: the partner's own template (coalition.template) with rows added, or
hand-made bad files. A download button's bytes are read back from the media file manager of the
run; a file is "uploaded" through ``at.file_uploader[0].set_value``.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import app_test

from coalition import store
from coalition.db import Database
from coalition.ingest import IngestResult
from coalition.reader import read_upload
from coalition.template import build_template
from coalition.ui import submit
from coalition.validation import Report

SUBMIT = "views/submit.py"
PLATFORM = "MarketCo Shop"
# a new quarter (the sample ends in 2020-Q4) in a country the sample has no rows for
GOOD_ROWS = [
    ("2021-Q1", PLATFORM, "elephants", "China", 5, 7),
    ("2021-Q1", PLATFORM, "birds", None, 0, 3),  # global; 0 removed
]
# a quarter the sample has: valid, with a warning that the file will supersede its figures
WARNING_ROWS = [("2020-Q4", PLATFORM, "pangolins", "China", 3, 4)]
BAD_ROWS = [
    ("2021-Q1", "Nope", "elephants", "", 5, 7),  # unknown platform
    ("2021-Q1", PLATFORM, "elephants", "USA", "x", 7),  # not a number
]


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[MediaFileManager]]:
    """The media file managers of the runs, newest last: where download buttons keep bytes."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    yield managers


def downloaded(media: list[MediaFileManager], button) -> tuple[str, bytes]:
    """The file name and the bytes a download button hands out (made now if they are made
    on click)."""
    manager = media[-1]
    url = button.proto.url or manager.execute_deferred(button.proto.deferred_file_id)
    file = manager.read_file(url.rsplit("/", 1)[-1].split(".")[0])
    return file.filename, file.content


def template_file(db: Database, rows, lang: str = "en") -> bytes:
    """MarketCo's template with ``rows`` (period, platform, species, country, removed,
    blocked) typed under its example row."""
    with db.read() as cur:
        data = build_template(cur, "marketco", lang, today=dt.date(2021, 4, 15))
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Data"]
    for number, (period, platform, species, country, removed, blocked) in enumerate(rows, 5):
        for column, value in enumerate((period, platform, species, None, country, removed,
                                        blocked), 1):  # fmt: skip
            ws.cell(number, column, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 30_000_000)
    return out.getvalue()


def open_submit(app, db: Database):
    at = app(db).run()
    return at.switch_page(SUBMIT).run()


def upload(at, name: str, content: bytes):
    at.file_uploader[0].set_value((name, content, "application/octet-stream"))
    return at.run()


def submit_button(at):
    return at.button(key="submit_button")


def table(at, column: str):
    """The table with ``column`` (st.dataframe shows no key to AppTest): "Submission" for
    the history, "Platform" for the preview; None if there is none."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) <= 1
    return found[0] if found else None


def problem_tables(at) -> list:
    """The problem tables, errors first, then warnings."""
    return [d.value for d in at.dataframe if "Code" in d.value.columns]


def texts(at, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def counts(db: Database) -> tuple[int, int, int]:
    """Submissions, stored files and the data version: what a write would change."""
    with db.read() as cur:
        subs = cur.execute("SELECT count(*) FROM submissions").fetchone()[0]
        files = cur.execute("SELECT count(*) FROM files").fetchone()[0]
    return subs, files, db.data_version()


def test_the_page_is_in_the_navigation_and_runs(app, sample):
    at = open_submit(app, sample)  # switch_page refuses a page that st.navigation lacks
    assert not at.exception
    assert at.title[0].value == "Submit data"
    assert at.selectbox(key="submit_partner").options == ["MarketCo", "SearchCo", "SocialCo"]
    assert [b.label for b in at.download_button] == ["Download the template"]
    assert at.file_uploader[0].allowed_type == [".xlsx", ".csv", ".xls"]
    assert not at.button  # nothing to submit before a file is uploaded
    # the history lists the partner's (sample) submissions, newest first
    history = table(at, "Submission")
    assert list(history["Submission"])[:2] == [12, 11]
    assert set(history["Status"]) == {"Accepted"}


@pytest.mark.parametrize(("lang", "sheet"), [("en", "Data"), ("zh", "数据")])
def test_the_template_download_is_the_partners_template(app, sample, media, lang, sheet):
    at = open_submit(app, sample)
    at.selectbox(key="submit_partner").set_value("searchco")
    at.radio(key="submit_template_language").set_value(lang).run()
    name, data = downloaded(media, at.download_button[0])
    assert name == f"searchco-template-{lang}.xlsx"
    wb = load_workbook(io.BytesIO(data))
    assert sheet in wb.sheetnames
    read = read_upload(data, "template.xlsx")  # the reader finds its header row
    assert read.name == sheet and read.header_row == 3
    with sample.read() as cur:
        expected = build_template(cur, "searchco", lang, today=dt.date.today())
    # the same workbook but for the time stamps: the same sheets with the same values
    expected_wb = load_workbook(io.BytesIO(expected))
    assert [[c.value for c in row] for row in wb[sheet].iter_rows(min_row=3)] == [
        [c.value for c in row] for row in expected_wb[sheet].iter_rows(min_row=3)
    ]


def test_a_good_file_is_previewed_submitted_and_archived(app, sample):
    content = template_file(sample, GOOD_ROWS)
    at = upload(open_submit(app, sample), "q1.xlsx", content)
    assert not at.exception
    assert {m.label: m.value for m in at.metric} == {
        "Rows read": "2",
        "Errors": "0",
        "Warnings": "0",
        "Rows skipped": "1",
    }
    assert "1 example" in texts(at, "caption")
    assert "No problems found." in texts(at, "success")
    assert not at.checkbox  # no warnings, nothing to acknowledge
    preview = table(at, "Platform")
    assert preview.iloc[0][["Row", "Platform", "Period", "Species group"]].tolist() == [
        5, PLATFORM, "2021-Q1", "Elephants (ivory)",
    ]  # fmt: skip
    assert preview.iloc[0]["Country / territory"] == "China"
    assert preview.iloc[0][["Listings removed", "Listings blocked"]].tolist() == [5, 7]
    assert preview.iloc[1][["Country / territory", "Listings removed"]].tolist() == [
        "Global / unspecified", 0,
    ]  # fmt: skip
    assert "2 rows; listings removed + blocked: 15." in texts(at, "caption")
    assert preview["Accounts actioned"].isna().all()  # blank stays "not reported"
    assert not submit_button(at).disabled

    submit_button(at).click()
    at.run()
    assert not at.exception
    shown = texts(at, "success")
    with sample.read() as cur:
        latest = store.submissions(cur, "marketco").iloc[0]
        archived = cur.execute(
            "SELECT size, content FROM files WHERE sha256 = ?", [latest.file_sha256]
        ).fetchone()
    assert f"Stored as submission {latest.id}, awaiting review" in shown
    assert (latest.status, latest.rows, latest.file_name) == ("submitted", 2, "q1.xlsx")
    assert (latest.uploaded_by, latest.source) == ("secretariat", "upload")  # the account
    assert archived == (len(content), content)  # byte for byte
    assert at.file_uploader[0].value is None  # a fresh uploader for the next file
    history = table(at, "Submission")
    assert history.iloc[0][["Submission", "Status", "Rows", "Periods", "File"]].tolist() == [
        latest.id, "Awaiting review", 2, "2021-Q1", "q1.xlsx",
    ]  # fmt: skip


def test_a_file_with_errors_cannot_be_submitted_and_writes_nothing(app, sample, media):
    before = counts(sample)
    content = template_file(sample, BAD_ROWS)
    at = upload(open_submit(app, sample), "bad.xlsx", content)
    assert not at.exception
    assert "cannot be submitted" in texts(at, "error")
    (errors,) = problem_tables(at)
    assert errors[["Row", "Column", "Code"]].values.tolist() == [
        [5, "platform", "platform_unknown"],
        [6, "listings_removed", "count_not_number"],
    ]
    assert "'Nope' is not one of your registered platforms" in errors["Message"][0]
    assert submit_button(at).disabled
    assert table(at, "Platform") is None
    # the partner's file back with the problem cells marked
    name, data = downloaded(media, at.download_button(key="submit_annotated"))
    assert name == "bad - checked.xlsx"
    ws = load_workbook(io.BytesIO(data))["Data"]
    assert ws["B5"].comment is not None and ws["F6"].comment is not None
    assert counts(sample) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.xlsx", b"", "The file is empty."),
        ("renamed.xlsx", b"period,platform\n2021-Q1,x\n", "is named like an Excel workbook"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048, "Excel 97–2003 (.xls)"),
        ("bomb.xlsx", zip_bomb(), "zip bomb"),
    ],
    ids=["empty", "renamed", "xls", "zip-bomb"],
)
def test_a_file_that_cannot_be_read_gets_a_clear_message(app, sample, name, content, message):
    before = counts(sample)
    at = upload(open_submit(app, sample), name, content)
    assert not at.exception  # a message, never a traceback
    (errors,) = problem_tables(at)
    assert len(errors) == 1 and errors["Row"].isna().all()
    assert message in errors["Message"][0]
    assert submit_button(at).disabled
    assert not [b for b in at.download_button if b.key == "submit_annotated"]
    assert counts(sample) == before


def test_warnings_must_be_acknowledged_before_submitting(app, sample):
    at = upload(open_submit(app, sample), "q4.xlsx", template_file(sample, WARNING_ROWS))
    (warnings,) = problem_tables(at)
    assert warnings[["Row", "Column", "Code"]].values.tolist() == [
        [5, "period", "period_already_submitted"]
    ]
    assert table(at, "Platform").shape[0] == 1  # valid: previewed
    assert submit_button(at).disabled
    assert "Tick “I have checked the warnings” to submit." in texts(at, "caption")
    before = counts(sample)
    at.checkbox[0].check()
    at.run()
    assert not submit_button(at).disabled
    assert counts(sample) == before  # ticking stores nothing
    submit_button(at).click()
    at.run()
    assert "awaiting review" in texts(at, "success")
    assert counts(sample)[0] == before[0] + 1


def test_the_same_file_twice_is_already_loaded(app, sample):
    content = template_file(sample, GOOD_ROWS)
    at = upload(open_submit(app, sample), "q1.xlsx", content)
    submit_button(at).click()
    at.run()
    before = counts(sample)
    with sample.read() as cur:
        first = int(store.submissions(cur, "marketco").iloc[0].id)

    at = upload(at, "q1 again.xlsx", content)
    assert not at.exception
    assert f"already loaded before, as submission {first}" in texts(at, "info")
    assert submit_button(at).disabled
    assert counts(sample) == before


def test_outcome_messages():
    report = Report(file_name="f.xlsx", sha256="0" * 64)
    assert submit.outcome_message(IngestResult(report, True, 7))[0] == "success"
    kind, text = submit.outcome_message(IngestResult(report, False, 3, reason="duplicate"))
    assert (kind, "already loaded before, as submission 3" in text) == ("info", True)
    kind, text = submit.outcome_message(IngestResult(report, False, reason="warnings"))
    assert kind == "warning" and "not acknowledged" in text
    report.error(5, "period", "period_future", "…")
    kind, text = submit.outcome_message(IngestResult(report, False, reason="invalid"))
    assert kind == "error" and "has errors (1)" in text


def test_an_accepted_submission_shows_on_the_overview(app, sample):
    at = app(sample).run()
    cumulative = {m.label: m.value for m in at.metric}["Cumulative actions"]
    assert cumulative == "58,800"  # worked out in test_app_overview.py
    at.switch_page(SUBMIT).run()
    at = upload(at, "q1.xlsx", template_file(sample, GOOD_ROWS))
    submit_button(at).click()
    at.run()
    with sample.write() as cur:
        latest = int(store.submissions(cur, "marketco").iloc[0].id)
        store.review_submission(cur, latest, "accepted", reviewed_by="test")
    at.switch_page("views/overview.py").run()
    assert not at.exception
    # 5 + 0 removed and 7 + 3 blocked more, though the Overview was cached before the upload
    assert {m.label: m.value for m in at.metric}["Cumulative actions"] == "58,815"
