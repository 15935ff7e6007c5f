"""Admin (secretariat only): partners, platforms, baselines, targets and accounts, and the audit
log of every change made here. The sections live in ``coalition.ui.admin``; every change is
made by ``coalition.admin`` and logged with the signed-in user's name."""

import streamlit as st

from coalition.i18n import t
from coalition.ui import admin, data

src = data.current()
st.title(t("Admin"))
actor = admin.require_secretariat()
db = src.db

partners, platforms, baselines, targets, accounts, audit_log = st.tabs(
    [
        t("Partners"),
        t("Platforms"),
        t("Baselines"),
        t("Targets"),
        t("Accounts"),
        t("Audit log"),
    ]
)
with partners:
    admin.partners_section(db, actor)
with platforms:
    admin.platforms_section(db, actor)
with baselines:
    admin.baselines_section(db, actor)
with targets:
    admin.targets_section(db, actor)
with accounts:
    admin.accounts_section(db, actor)
with audit_log:
    admin.audit_section(db)
