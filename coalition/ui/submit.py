"""The Submit data page's parts: the report of an upload, the preview of what will be stored,
the submission history, and the submit action itself (a button callback around
:func:`coalition.ingest.ingest`)."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

import pandas as pd
import streamlit as st

from coalition import annotate
from coalition.columns import COUNT_KEYS, by_key
from coalition.db import Database, DatabaseBusy, DatabaseNotInitialised
from coalition.i18n import N_, format_count, get_language, t
from coalition.ingest import IngestResult, ingest
from coalition.store import StoreError
from coalition.ui import data
from coalition.validation import Problem, Report

logger = logging.getLogger(__name__)

OUTCOME = "submit_outcome"  # the message of the last submit, shown once
ROUND = "submit_round"  # bumped after a stored upload, which gives a fresh, empty uploader
DEFAULT_UPLOADER = "web upload"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

STATUS_LABELS = {
    "submitted": N_("Awaiting review"),
    "accepted": N_("Accepted"),
    "returned": N_("Returned"),
    "superseded": N_("Superseded"),
}
SKIPPED_LABELS = {
    "blank": N_("{n} blank"),
    "example": N_("{n} example"),
    "totals": N_("{n} totals"),
}


def language() -> str:
    """The interface language as the template and the column labels know it."""
    return "zh" if get_language().startswith("zh") else "en"


def uploader_key() -> str:
    return f"submit_upload_{st.session_state.get(ROUND, 0)}"


def readable(report: Report) -> bool:
    """Whether the file could be read at all (else its one error says why, and there is no
    sheet to mark up)."""
    return report.sheet is not None


def check(
    src: data.Source, partner: str, file_name: str, content: bytes, today: dt.date
) -> data.UploadCheck | None:
    """The check of an upload, or None (with a message) if the check itself failed: whatever
    the file holds, the partner gets a message, never a traceback."""
    try:
        return data.check_upload(src, partner, file_name, content, today, get_language())
    except (DatabaseBusy, DatabaseNotInitialised):
        raise  # the app explains these
    except Exception:
        logger.exception("checking %r for %s failed", file_name, partner)
        st.error(
            t(
                "The file could not be checked because of a fault in the tracker, not "
                "necessarily in your file. Please send the file to the secretariat."
            ),
            icon=":material/bug_report:",
        )
        return None


# --- the report ------------------------------------------------------------------------------


def problem_table(problems: list[Problem]) -> pd.DataFrame:
    """Problems as the page lists them: spreadsheet row, column key, code, message."""
    frame = pd.DataFrame(
        [(p.row, p.column or "", p.code, p.message) for p in problems],
        columns=[t("Row"), t("Column"), t("Code"), t("Message")],
    )
    frame[t("Row")] = frame[t("Row")].astype("Int64")
    return frame


def summary(report: Report) -> None:
    rows, errors, warnings, skipped = st.columns(4, border=True)
    rows.metric(t("Rows read"), format_count(report.rows))
    errors.metric(t("Errors"), format_count(len(report.errors) + report.truncated))
    warnings.metric(t("Warnings"), format_count(len(report.warnings)))
    skipped.metric(
        t("Rows skipped"),
        format_count(sum(report.skipped.values())),
        help=t("Blank rows, the template's example row and a totals row are not stored."),
    )
    if report.skipped:
        parts = []
        for kind, n in sorted(report.skipped.items()):
            label = SKIPPED_LABELS.get(kind, kind)
            parts.append(t(label, n=n))
        skipped.caption(", ".join(parts))
    if report.sheet:
        st.caption(
            t(
                "Read from the sheet “{sheet}”; header in row {row}.",
                sheet=report.sheet,
                row=report.header_row,
            )
        )


def problems(report: Report) -> None:
    """Errors and warnings in two tables; errors block the submission, warnings need a tick."""
    if report.errors:
        st.error(
            t(
                "This file cannot be submitted: fix the errors below and upload it again.",
            ),
            icon=":material/block:",
        )
        st.markdown(f"**{t('Errors')}**")
        st.dataframe(problem_table(report.errors), hide_index=True, key="submit_errors")
    if report.truncated:
        st.caption(
            t(
                "{n} more problems were found and are not listed: fix these first.",
                n=format_count(report.truncated),
            )
        )
    if report.warnings:
        st.markdown(f"**{t('Warnings')}**")
        st.dataframe(problem_table(report.warnings), hide_index=True, key="submit_warnings")
    if report.valid and not report.warnings:
        st.success(t("No problems found."), icon=":material/check_circle:")


def annotated_download(content: bytes, file_name: str, report: Report) -> None:
    """The partner's own file back with the problems marked, when it has any and could be
    read. Made when clicked: marking up a large workbook takes a moment."""
    if not readable(report) or not (report.errors or report.warnings):
        return
    st.download_button(
        t("Download your file with the problems marked"),
        data=partial(annotate.annotated_workbook, content, file_name, report),
        file_name=annotate.annotated_file_name(file_name),
        mime=XLSX,
        key="submit_annotated",
        icon=":material/download:",
        help=t(
            "Your own file with the problem cells filled (errors red, warnings amber), each "
            "with a comment, and a column “Problems / 问题” with each row's messages. Fix it in "
            "Excel and upload it again."
        ),
    )


# --- what will be stored ---------------------------------------------------------------------


def preview_table(
    records: pd.DataFrame, species: pd.DataFrame, countries: pd.DataFrame, lang: str
) -> pd.DataFrame:
    """The normalised rows as they will be stored: names for species groups and countries
    (blank country: global), the counts (blank: not reported), the spreadsheet row."""
    name = "name_zh" if lang == "zh" else "name_en"
    species_names = dict(zip(species["slug"], species[name], strict=True))
    country_names = dict(zip(countries["iso3"], countries[name], strict=True))
    labels = by_key()
    table = pd.DataFrame(
        {
            t("Row"): records["row"].astype("Int64"),
            t("Platform"): records["platform"],
            t("Period"): records["period"],
            t("Species group"): records["species_group"].map(species_names),
            t("Country / territory"): records["country"].map(
                lambda iso3: (
                    t("Global / unspecified")
                    if pd.isna(iso3) or not iso3
                    else country_names.get(iso3, iso3)
                )
            ),
        }
    )
    for key in COUNT_KEYS:
        table[labels[key].label(lang)] = records[key].astype("Int64")
    return table


def totals_caption(records: pd.DataFrame) -> str:
    removed = records["listings_removed"].sum()
    blocked = records["listings_blocked"].sum()
    return t(
        "{rows} row; listings removed + blocked: {actions}.",
        plural="{rows} rows; listings removed + blocked: {actions}.",
        n=len(records),
        rows=format_count(len(records)),
        actions=format_count(int(removed) + int(blocked)),
    )


# --- submitting ------------------------------------------------------------------------------


def outcome_message(result: IngestResult) -> tuple[str, str]:
    """(kind, text) for what ``ingest`` did; kind is success, info, warning or error."""
    if result.stored:
        return "success", t(
            "Stored as submission {id}, awaiting review by the secretariat. Its figures count "
            "once it is accepted.",
            id=result.submission_id,
        )
    if result.reason == "duplicate":
        return "info", t(
            "This file was already loaded before, as submission {id}: nothing was stored again.",
            id=result.submission_id,
        )
    if result.reason == "warnings":
        return "warning", t(
            "Nothing was stored because the warnings were not acknowledged. Check them, tick "
            "the box and submit again."
        )
    return "error", t(
        "Nothing was stored because the file has errors ({n}). Fix them and upload the file again.",
        n=len(result.report.errors),
    )


def submit(
    path: str, partner: str, file_name: str, content: bytes, name_key: str, ack_key: str
) -> None:
    """The Submit button's callback: load the file (all of it or nothing) and keep the outcome
    for the run that follows; a stored file clears the uploader.

    The uploader's name and the acknowledgement are read from the widgets' state now, not
    when the button was drawn: a box ticked just before the click counts."""
    uploaded_by = str(st.session_state.get(name_key) or "").strip() or DEFAULT_UPLOADER
    try:
        result = ingest(
            Database(path),
            partner,
            content,
            file_name,
            uploaded_by=uploaded_by,
            acknowledge_warnings=bool(st.session_state.get(ack_key, False)),
            source="upload",
        )
    except (DatabaseBusy, StoreError) as exc:
        st.session_state[OUTCOME] = ("error", t("Nothing was stored: {error}", error=exc))
        return
    except Exception:  # the transaction was rolled back; say so rather than show a traceback
        logger.exception("submitting %r for %s failed", file_name, partner)
        st.session_state[OUTCOME] = (
            "error",
            t(
                "Nothing was stored because of a fault in the tracker. Please send the file "
                "to the secretariat."
            ),
        )
        return
    st.session_state[OUTCOME] = outcome_message(result)
    if result.stored:
        st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1


def show_outcome() -> None:
    """The outcome of the last submit, once."""
    if (outcome := st.session_state.pop(OUTCOME, None)) is None:
        return
    kind, text = outcome
    icons = {
        "success": ":material/task_alt:",
        "info": ":material/info:",
        "warning": ":material/warning:",
        "error": ":material/error:",
    }
    getattr(st, kind)(text, icon=icons[kind])


# --- the history -----------------------------------------------------------------------------


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status, status)
    return t(label)


def history_table(submissions: pd.DataFrame) -> pd.DataFrame:
    """A partner's submissions, newest first, as the page lists them."""
    periods = submissions["first_period"].fillna("") + " – " + submissions["last_period"].fillna("")
    same = submissions["first_period"] == submissions["last_period"]
    return pd.DataFrame(
        {
            t("Submission"): submissions["id"],
            t("Uploaded"): submissions["uploaded_at"].dt.strftime("%Y-%m-%d %H:%M"),
            t("File"): submissions["file_name"],
            t("Uploaded by"): submissions["uploaded_by"],
            t("Status"): submissions["status"].map(status_label),
            t("Rows"): submissions["rows"],
            t("Periods"): periods.where(~same, submissions["first_period"]),
            t("Review comment"): submissions["review_comment"],
        }
    )
