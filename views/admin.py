"""Admin (secretariat only): partners, platforms, baselines, targets and accounts, and the audit
log of every change made here. The sections live in ``coalition.ui.admin``; every change is
made by ``coalition.admin`` and logged with the signed-in user's name."""

from functools import partial

import streamlit as st

from coalition.i18n import N_, t
from coalition.ui import admin, data

src = data.current()
st.title(t("Admin"))
actor = admin.require_secretariat()
db = src.db

# Only the tab shown runs: a switch reruns the page (six tables with their forms, drawn on
# every run, took most of a rerun's 0.2-0.3 s at 2,000,000 records).
SECTIONS = [
    (N_("Partners"), partial(admin.partners_section, db, actor)),
    (N_("Platforms"), partial(admin.platforms_section, db, actor)),
    (N_("Baselines"), partial(admin.baselines_section, db, actor)),
    (N_("Targets"), partial(admin.targets_section, db, actor)),
    (N_("Accounts"), partial(admin.accounts_section, db, actor)),
    (N_("Audit log"), partial(admin.audit_section, db)),
]
tabs = st.tabs([t(label) for label, _ in SECTIONS], key=admin.TAB_KEY, on_change="rerun")
for tab, (_, draw) in zip(tabs, SECTIONS, strict=True):
    if tab.open:
        with tab:
            draw()
