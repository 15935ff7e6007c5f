"""Submit data: download the template, upload the filled file, read the report, submit.

The report comes from ``coalition.validation.validate`` (the same check as ``coalition
validate``), the submission from ``coalition.ingest.ingest`` (as ``coalition ingest``): all of
the file or nothing, kept byte for byte, awaiting the secretariat's review. A partner account
submits for its own company; the secretariat chooses the partner (e.g. to load a file sent by
e-mail). The signed-in account is kept as the uploader.
"""

import datetime as dt

import streamlit as st

from coalition.i18n import t
from coalition.reader import MAX_FILE_BYTES
from coalition.store import StoreError
from coalition.ui import data, session, submit

LANGUAGES = {"en": "English", "zh": "中文"}  # each in its own language

src = data.current()
today = dt.date.today()
st.title(t("Submit data"))

options = data.filter_options(src)
partners = dict(zip(options.partners["slug"], options.partners["name"], strict=True))
if not partners:
    st.info(
        t("No partner is registered yet. The secretariat registers partners and their platforms."),
        icon=":material/group_off:",
    )
    st.stop()
user = session.current_user()  # app.py lets only secretariat and partner accounts here
if user.partner is not None:
    partner = user.partner
    st.markdown(t("Submitting for **{partner}**.", partner=partners.get(partner, partner)))
else:
    partner = st.selectbox(
        t("Partner"), list(partners), format_func=partners.get, key="submit_partner"
    )

st.subheader(t("1. Download the template"))
st.caption(
    t(
        "An Excel workbook with your platforms and drop-down lists: one row per platform, "
        "period, species group and country. Blank means not reported; 0 means none."
    )
)
lang = st.radio(
    t("Language of the template"),
    list(LANGUAGES),
    format_func=LANGUAGES.get,
    index=list(LANGUAGES).index(submit.language()),
    horizontal=True,
    key="submit_template_language",
)
try:
    template = data.template(src, partner, lang, today)
except StoreError as problem:
    st.warning(str(problem), icon=":material/warning:")
else:
    st.download_button(
        t("Download the template"),
        data=template,
        file_name=f"{partner}-template-{lang}.xlsx",
        mime=submit.XLSX,
        key="submit_template",
        icon=":material/download:",
        on_click="ignore",
    )

st.subheader(t("2. Upload the filled file"))
upload = st.file_uploader(
    t("The filled template (.xlsx), or the same columns as CSV UTF-8 (.csv)"),
    # .xls is let through so that the check can say how to save it as .xlsx
    type=["xlsx", "csv", "xls"],
    max_upload_size=MAX_FILE_BYTES // 1_048_576,
    key=submit.uploader_key(),
)
submit.show_outcome()

content = upload.getvalue() if upload is not None else b""
check = submit.check(src, partner, upload.name, content, today) if upload is not None else None
if check is not None:
    report, records = check.validation.report, check.validation.records
    submit.summary(report)
    submit.problems(report)
    submit.annotated_download(content, upload.name, report)

    st.subheader(t("3. Check and submit"))
    if check.loaded_as is not None:
        st.info(
            t(
                "This file was already loaded before, as submission {id}: there is nothing new "
                "to submit.",
                id=check.loaded_as,
            ),
            icon=":material/content_copy:",
        )
    elif report.valid:
        st.markdown(t("What will be stored:"))
        st.dataframe(
            submit.preview_table(
                records, options.species_groups, data.countries(src), submit.language()
            ),
            hide_index=True,
            placeholder="—",  # not reported
            key="submit_preview",
        )
        st.caption(submit.totals_caption(records))
    ack_key = f"submit_acknowledge_{report.sha256[:16]}"
    acknowledged = True
    if report.valid and report.warnings and check.loaded_as is None:
        acknowledged = st.checkbox(
            t("I have checked the warnings"),
            key=ack_key,
            help=t("Warnings do not stop a submission, but each needs a look first."),
        )
    st.session_state["submit_uploaded_by"] = user.name  # kept with the submission
    st.button(
        t("Submit"),
        type="primary",
        disabled=not (report.valid and acknowledged and check.loaded_as is None),
        on_click=submit.submit,
        kwargs={
            "path": src.path,
            "partner": partner,
            "file_name": upload.name,
            "content": content,
            "name_key": "submit_uploaded_by",
            "ack_key": ack_key,
        },
        key="submit_button",
        icon=":material/send:",
    )
    if report.valid and not acknowledged:
        st.caption(t("Tick “I have checked the warnings” to submit."))

st.subheader(t("Your submissions"))
history = data.submissions(src, partner)
if history.empty:
    st.caption(t("No submissions yet."))
else:
    st.dataframe(
        submit.history_table(history), hide_index=True, placeholder="—", key="submit_history"
    )
