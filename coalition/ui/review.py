"""The Review page's parts: the status matrix with its legend, the choice of a submission (a
matrix cell, the list awaiting review, or ``?submission=ID`` in the address), what the chosen
submission holds, and the accept / return form.

The numbers come from :mod:`coalition.review`, cached per database state like
:mod:`coalition.ui.data`; the decision is written through :func:`coalition.review.review`.
"""

from __future__ import annotations

import datetime as dt
import html
from functools import partial
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from coalition import review, theme
from coalition.i18n import N_, format_count, t
from coalition.store import StoreError
from coalition.ui import data
from coalition.validation import Report

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

PARAM = "submission"  # ?submission=ID opens that submission
MATRIX_KEY = "review_matrix"
AWAITING_KEY = "review_awaiting"
FLASH = "review_flash"  # the outcome of the last decision, shown once after the rerun
MAX_ENTRIES = 50

# Symbol, label and colour of each status of the matrix (Okabe–Ito colours; the symbol and the
# label tell the status without the colour too).
STATUS_STYLES: dict[str, tuple[str, str, str]] = {
    review.SUBMITTED: ("●", N_("Awaiting review"), theme.SKY_BLUE),
    review.LATE: ("◆", N_("Late"), theme.ORANGE),
    review.ACCEPTED: ("✔", N_("Accepted"), theme.BLUISH_GREEN),
    review.RETURNED: ("↩", N_("Returned"), theme.REDDISH_PURPLE),
    review.NOT_A_MEMBER: ("·", N_("Not a member"), "#FFFFFF"),
    review.MISSING: ("✖", N_("Missing"), theme.VERMILLION),
    review.NOT_YET_DUE: ("…", N_("Not yet due"), "#E6E6E6"),
}
LEGEND_HELP = {
    review.SUBMITTED: N_("figures await the secretariat's review"),
    review.LATE: N_("accepted; some figures first arrived after the due date"),
    review.ACCEPTED: N_("accepted, on time"),
    review.RETURNED: N_("the figures were returned to the partner"),
    review.NOT_A_MEMBER: N_("the partner joined later"),
    review.MISSING: N_("nothing received by the due date"),
    review.NOT_YET_DUE: N_("nothing received; the due date has not passed"),
}
CHANGE_LABELS = {
    "added": N_("Added"),
    "removed": N_("Removed"),
    "changed": N_("Changed"),
    "unchanged": N_("Unchanged"),
}


def status_text(status: str) -> str:
    symbol, label, _ = STATUS_STYLES[status]
    return f"{symbol} {t(label)}"


# --- cached reads ----------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def cells(src: data.Source, today: dt.date) -> pd.DataFrame:
    with src.db.read() as cur:
        return review.status_cells(cur, today=today)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def due_days(src: data.Source) -> int:
    with src.db.read() as cur:
        return review.due_days(cur)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def awaiting(src: data.Source) -> pd.DataFrame:
    """Submissions awaiting review, oldest first (the first in is the first to review)."""
    with src.db.read() as cur:
        frame = cur.execute(
            "SELECT s.id, pa.name AS partner_name, s.uploaded_at, "
            "min(r.period) AS first_period, max(r.period) AS last_period "
            "FROM submissions AS s JOIN partners AS pa ON pa.slug = s.partner "
            "LEFT JOIN records AS r ON r.submission_id = s.id "
            "WHERE s.status = 'submitted' GROUP BY ALL ORDER BY s.uploaded_at, s.id"
        ).df()
    return frame


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def detail(src: data.Source, submission_id: int) -> review.SubmissionDetail | None:
    with src.db.read() as cur:
        try:
            return review.submission_detail(cur, submission_id)
        except review.ReviewError:
            return None


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def warnings(src: data.Source, submission_id: int) -> Report | None:
    with src.db.read() as cur:
        return review.submission_warnings(cur, submission_id)


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES)
def diff(src: data.Source, submission_id: int) -> pd.DataFrame:
    with src.db.read() as cur:
        return review.submission_diff(cur, submission_id)


# --- who is reviewing ------------------------------------------------------------------------


def actor() -> str:
    """The signed-in account's name, for the review and its audit entry."""
    try:
        from coalition.ui.session import current_user
    except ImportError:  # an app without sign-in
        return "unknown"
    user = current_user()
    return user.name if user is not None else "unknown"


def secretariat_only() -> None:
    """End the run unless this run's viewer is the secretariat. The navigation lists the page
    for the secretariat only; this keeps it closed should it be reached another way."""
    if not data.current_viewer().sees_everything:
        st.error(t("This page is for the secretariat."), icon=":material/lock:")
        st.stop()


# --- the matrix ------------------------------------------------------------------------------


def legend(due_days: int) -> None:
    """Every status as a coloured pill with what it means."""
    pills = []
    for status, (symbol, label, colour) in STATUS_STYLES.items():
        pills.append(
            f'<span title="{html.escape(t(LEGEND_HELP[status]))}" style="background:{colour};'
            "color:#000;border:1px solid #BFBFBF;border-radius:1rem;padding:0.1rem 0.6rem;"
            f'margin-right:0.4rem;white-space:nowrap">{html.escape(symbol)} '
            f"{html.escape(t(label))}</span>"
        )
    st.markdown(" ".join(pills), unsafe_allow_html=True)
    st.caption(
        t(
            "A quarter shows the first that applies: awaiting review, late, accepted, "
            "returned, not a member, missing, not yet due. Figures are due {days} days after "
            "the quarter ends. Click a cell to open its submission.",
            days=format_count(due_days),
        )
    )


def matrix_styler(cells_frame: pd.DataFrame) -> Styler:
    """The matrix with each cell coloured by its status."""
    frame, colours = _matrix(cells_frame)
    return frame.style.apply(lambda _: colours, axis=None)


def _matrix(cells_frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The matrix's texts (partners by name × quarters, each cell the status's symbol and
    label) and, of the same shape, each cell's CSS. Streamlit styles every cell
    on each run (1,692 at 47 partners × 36 quarters), so each status's text and CSS are made
    once and the frames hold plain Python strings: pandas styles those about twice as fast
    as its Arrow-backed ones (73 against 144 ms for the whole matrix at 2M)."""
    partners = list(dict.fromkeys(cells_frame["partner_name"]))
    wide = cells_frame.pivot(index="partner_name", columns="quarter", values="status")
    wide = wide.reindex(partners)
    statuses = wide.to_numpy(dtype=object)
    texts = {status: status_text(status) for status in STATUS_STYLES}
    css = {
        status: f"background-color: {colour}; color: #000"
        for status, (_, _, colour) in STATUS_STYLES.items()
    }
    index = pd.Index(partners, name=t("Partner"))
    columns = list(wide.columns)

    def lookup(table: dict[str, str]) -> pd.DataFrame:
        cells = [[table.get(status, "") for status in row] for row in statuses]
        return pd.DataFrame(cells, index=index, columns=columns, dtype=object)

    return lookup(texts), lookup(css)


def matrix(cells_frame: pd.DataFrame) -> None:
    """The coloured matrix; clicking a cell with a submission opens it."""
    st.dataframe(
        matrix_styler(cells_frame),
        key=MATRIX_KEY,
        on_select=partial(_on_cell, cells_frame),
        selection_mode="single-cell",
    )


def _on_cell(cells_frame: pd.DataFrame) -> None:
    state = st.session_state.get(MATRIX_KEY)
    picked = state.selection.cells if state else []
    if not picked:
        return
    row, quarter = picked[0]
    partners = list(dict.fromkeys(cells_frame["partner_name"]))
    if not 0 <= row < len(partners):
        return
    hit = cells_frame[
        (cells_frame["partner_name"] == partners[row]) & (cells_frame["quarter"] == quarter)
    ]
    if len(hit) and pd.notna(hit["submission_id"].iloc[0]):
        open_submission(int(hit["submission_id"].iloc[0]))
    else:
        st.session_state[FLASH] = ("info", t("Nothing was received for that quarter."))


# --- choosing a submission -------------------------------------------------------------------


def open_submission(submission_id: int | None) -> None:
    if submission_id is None:
        st.query_params.pop(PARAM, None)
    else:
        st.query_params[PARAM] = str(submission_id)


def chosen() -> int | None:
    """The submission named in the address, if it is a number."""
    value = st.query_params.get(PARAM)
    try:
        return int(value) if value is not None else None
    except ValueError:
        st.warning(t("“{value}” is not a submission number.", value=value))
        return None


def awaiting_picker(pending: pd.DataFrame, current: int | None) -> None:
    """The submissions awaiting review, to open one."""
    if pending.empty:
        st.caption(t("No submission awaits review."))
        return
    labels = {
        int(r.id): t(
            "#{id} · {partner} · {periods} · sent {date}",
            id=int(r.id),
            partner=r.partner_name,
            periods=_periods(r.first_period, r.last_period),
            date=pd.Timestamp(r.uploaded_at).strftime("%Y-%m-%d"),
        )
        for r in pending.itertuples()
    }
    options = [None, *labels]
    st.session_state[AWAITING_KEY] = current if current in labels else None
    st.selectbox(
        t("Awaiting review ({n})", n=len(labels)),
        options,
        format_func=lambda v: t("Choose a submission") if v is None else labels[v],
        key=AWAITING_KEY,
        on_change=lambda: open_submission(st.session_state[AWAITING_KEY]),
    )


def _periods(first: object, last: object) -> str:
    if pd.isna(first):
        return "—"
    return str(first) if first == last else f"{first} – {last}"


# --- one submission --------------------------------------------------------------------------


def header(found: review.SubmissionDetail) -> None:
    info = found.info
    st.subheader(t("Submission #{id} — {partner}", id=info["id"], partner=info["partner_name"]))
    status = info["status"]
    label = {
        "submitted": N_("Awaiting review"),
        "accepted": N_("Accepted"),
        "returned": N_("Returned"),
        "superseded": N_("Superseded"),
    }.get(status, status)
    st.markdown(f"**{t('Status')}:** {t(label)}")
    lines = [
        t(
            "Sent by {who} on {when} ({source}); file {file}.",
            who=info["uploaded_by"],
            when=pd.Timestamp(info["uploaded_at"]).strftime("%Y-%m-%d %H:%M"),
            source=info["source"],
            file=info["file_name"] or "—",
        ),
        t(
            "{rows} rows, {current} of them current; periods {periods}.",
            rows=format_count(info["rows"]),
            current=format_count(info["current_rows"]),
            periods=_periods(info["first_period"], info["last_period"]),
        ),
    ]
    if info["reviewed_by"]:
        lines.append(
            t(
                "Reviewed by {who} on {when}.",
                who=info["reviewed_by"],
                when=pd.Timestamp(info["reviewed_at"]).strftime("%Y-%m-%d %H:%M"),
            )
        )
    st.caption("  \n".join(lines))
    if info["review_comment"]:
        st.info(t("Comment to the partner: {comment}", comment=info["review_comment"]))


def rows_table(found: review.SubmissionDetail) -> pd.DataFrame:
    rows = found.rows
    return pd.DataFrame(
        {
            t("Platform"): rows["platform"],
            t("Period"): rows["period"],
            t("Species group"): rows["species"],
            t("Country"): rows["country_name"].fillna(t("Global / unspecified")),
            t("Removed"): rows["listings_removed"],
            t("Blocked"): rows["listings_blocked"],
            t("Accounts"): rows["accounts_actioned"],
            t("Reports"): rows["reports_received"],
            t("Detected"): rows["listings_detected"],
            t("Search effort"): rows["search_effort"],
            t("Notes"): rows["notes"],
        }
    )


def problems_table(report: Report) -> pd.DataFrame:
    frame = report.flatten()
    frame["severity"] = frame["severity"].map({"error": t("Error"), "warning": t("Warning")})
    return frame.rename(
        columns={
            "severity": t("Severity"),
            "row": t("Row"),
            "column": t("Column"),
            "code": t("Code"),
            "message": t("Message"),
        }
    )


def check(report: Report | None) -> None:
    if report is None:
        st.caption(
            t("The file is not archived (a demo or scripted load), so it cannot be checked.")
        )
        return
    st.caption(
        t(
            "The archived file checked again now, against today's platforms, partners and "
            "stored figures."
        )
    )
    if not report.errors and not report.warnings:
        st.success(t("No problems found."), icon=":material/check_circle:")
        return
    st.dataframe(problems_table(report), hide_index=True, key="review_problems")


def diff_table(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            t("Change"): frame["change"].map(lambda c: t(CHANGE_LABELS.get(c, c))),
            t("Platform"): frame["platform"],
            t("Period"): frame["period"],
            t("Species group"): frame["species_group"],
            t("Country"): frame["country"].fillna(t("Global / unspecified")),
        }
    )
    for col, label in (
        ("listings_removed", N_("Removed")),
        ("listings_blocked", N_("Blocked")),
        ("listings_detected", N_("Detected")),
        ("search_effort", N_("Search effort")),
        ("accounts_actioned", N_("Accounts")),
        ("reports_received", N_("Reports")),
    ):
        out[t("{what} before", what=t(label))] = frame[f"{col}_old"]
        out[t("{what} now", what=t(label))] = frame[f"{col}_new"]
    return out


def changes(frame: pd.DataFrame) -> None:
    if frame.empty:
        st.caption(t("Same figures as the previous version."))
        return
    counts = frame["change"].value_counts()
    st.caption(
        t(
            "{added} added, {removed} removed, {changed} changed, against the figures this "
            "submission replaces.",
            added=format_count(counts.get("added", 0)),
            removed=format_count(counts.get("removed", 0)),
            changed=format_count(counts.get("changed", 0)),
        )
    )
    st.dataframe(diff_table(frame), hide_index=True, placeholder="—", key="review_diff")


# --- the decision ----------------------------------------------------------------------------

DECISION_LABELS = {"accept": N_("Accept"), "return": N_("Return to the partner")}


def decision_form(src: data.Source, submission_id: int) -> None:
    with st.form(f"review_form_{submission_id}"):
        decision = st.radio(
            t("Decision"),
            list(DECISION_LABELS),
            format_func=lambda d: t(DECISION_LABELS[d]),
            horizontal=True,
            key="review_decision",
        )
        comment = st.text_area(
            t("Comment to the partner (required to return)"),
            max_chars=2000,
            key="review_comment",
        )
        if st.form_submit_button(t("Record the decision"), type="primary"):
            decide(src, submission_id, decision, comment)


def decide(src: data.Source, submission_id: int, decision: str, comment: str) -> None:
    """Write the decision; on success show it after a fresh run, else say what is wrong."""
    try:
        with src.db.write() as cur:
            review.review(cur, submission_id, decision, comment, actor())
    except StoreError as problem:
        st.error(str(problem), icon=":material/block:")
        return
    done = (
        t("Submission #{id} accepted.", id=submission_id)
        if decision == "accept"
        else t("Submission #{id} returned to the partner.", id=submission_id)
    )
    st.session_state[FLASH] = ("success", done)
    st.rerun()


def flash() -> None:
    """The message of the last decision or click, once."""
    message = st.session_state.pop(FLASH, None)
    if message:
        kind, text = message
        (st.success if kind == "success" else st.info)(text)
