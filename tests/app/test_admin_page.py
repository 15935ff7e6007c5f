"""The Admin page, run by Streamlit's AppTest on the sample database (see sample_db.py), signed
in as the sample's secretariat account: every tab draws, and a change made in a form is
stored with its audit entry (the signed-in user as the actor), or refused with its message.
"""

from __future__ import annotations

import io
import json
import sys

import pandas as pd
import pytest

from coalition import admin
from coalition.db import Database
from coalition.ui import admin as admin_ui
from coalition.ui.components import csv_bytes

ADMIN = "views/admin.py"
ACTOR = "secretariat"  # the sample account the app fixture signs in with


def open_admin(app, db: Database, user: str = ACTOR):
    at = app(db, user=user).run()
    at = at.switch_page(ADMIN).run()
    assert not at.exception, at.exception
    return at


def show_tab(at, label: str):
    """Switch to the tab ``label`` (as a click on it does: the page runs again)."""
    at.session_state[admin_ui.TAB_KEY] = label
    return at.run()


def texts(at, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def submit(at, label: str):
    """Click the (form submit) button labelled ``label`` and run the page again."""
    (button,) = [b for b in at.button if b.label == label]
    button.click()
    return at.run()


def my_entries(db: Database) -> pd.DataFrame:
    """The audit entries made on this page (the sample's own accounts were logged too)."""
    with db.read() as cur:
        entries = admin.audit_entries(cur)
    return entries[entries["entity"] != "user"]


TABS = ["Partners", "Platforms", "Baselines", "Targets", "Accounts", "Audit log"]


def test_every_tab_draws_when_shown_and_only_then(app, sample):
    at = open_admin(app, sample)
    assert at.title[0].value == "Admin"
    assert [tab.label for tab in at.tabs] == TABS
    drawn = {}
    for label in TABS:
        at = show_tab(at, label) if label != "Partners" else at  # the first is shown at first
        assert not at.exception, at.exception
        # the tab shown has its content; the others have none (they did not run)
        for tab in at.tabs:
            assert bool(tab.children) == (tab.label == label), (label, tab.label)
        drawn[label] = at.tabs[TABS.index(label)]
    partners = drawn["Partners"].dataframe[0].value
    assert partners["Partner"].tolist() == ["MarketCo", "SearchCo", "SocialCo"]
    assert partners["Consents to be named"].tolist() == [True, False, False]
    assert drawn["Platforms"].dataframe[0].value["Platform"].tolist() == [
        "MarketCo Resale", "MarketCo Shop", "SearchCo Web", "SocialCo Feed",
    ]  # fmt: skip
    assert set(drawn["Baselines"].dataframe[0].value["Base period"]) == {"Default rule"}
    shown = drawn["Targets"].dataframe[0].value
    assert shown["Target"].tolist() == ["80% by end of 2020"]
    assert shown["Shown first"].tolist() == [True]
    # the accounts section is coalition.ui.accounts' own (tested with it); it draws here
    assert [h.value for h in drawn["Accounts"].subheader] == ["Accounts"]
    # the sample's accounts were logged when they were made
    assert set(drawn["Audit log"].dataframe[0].value["What"]) == {"Account"}
    assert [b.label for b in at.download_button] == ["Download the audit log (CSV)"]


def test_consent_edited_in_the_form_is_stored_and_logged(app, sample):
    at = open_admin(app, sample)
    at.selectbox(key="admin_partner_pick").set_value("socialco").run()
    assert at.checkbox(key="admin_partner_consent_socialco").value is False
    at.checkbox(key="admin_partner_consent_socialco").check()
    at = submit(at, "Save the partner")
    assert not at.exception
    assert "Saved the partner SocialCo." in texts(at, "success")
    with sample.read() as cur:
        assert admin.partner(cur, "socialco")["consent_to_name"] is True
    (entry,) = my_entries(sample).itertuples()
    assert (entry.actor, entry.action, entry.entity, entry.entity_key) == (
        ACTOR, "update", "partner", "socialco",
    )  # fmt: skip
    assert json.loads(entry.before) == {"consent_to_name": False}
    assert json.loads(entry.after) == {"consent_to_name": True}
    # the page read the tables again: the table and the audit log show the change
    partners = at.tabs[0].dataframe[0].value
    assert partners["Consents to be named"].tolist() == [True, False, True]
    at = show_tab(at, "Audit log")
    log = at.tabs[5].dataframe[0].value
    assert log.iloc[0][["Who", "What", "Key", "Change"]].tolist() == [
        ACTOR, "Partner", "socialco", "consent_to_name: no → yes",
    ]  # fmt: skip


def test_saving_unchanged_values_says_so_and_logs_nothing(app, sample):
    at = submit(open_admin(app, sample), "Save the partner")
    assert "Nothing changed." in texts(at, "info")
    assert my_entries(sample).empty


def test_a_refused_change_shows_its_message_and_stores_nothing(app, sample):
    at = open_admin(app, sample)
    version = sample.data_version()
    at.text_input(key="admin_partner_add_slug").input("New Co")
    at.text_input(key="admin_partner_add_name").input("NewCo")
    at = submit(at, "Add the partner")
    assert "The slug 'New Co' is not valid" in texts(at, "error")
    assert sample.data_version() == version
    # the form keeps what was typed, to correct it
    assert at.text_input(key="admin_partner_add_name").value == "NewCo"
    at.text_input(key="admin_partner_add_slug").input("newco")
    at = submit(at, "Add the partner")
    assert "Added the partner NewCo." in texts(at, "success")
    assert my_entries(sample)["entity_key"].tolist() == ["newco"]


def test_a_partner_with_data_keeps_its_name(app, sample):
    at = open_admin(app, sample)
    assert at.text_input(key="admin_partner_name_marketco").disabled


def test_platform_kind_and_new_platform(app, sample):
    at = show_tab(open_admin(app, sample), "Platforms")
    with sample.read() as cur:
        feed = cur.execute("SELECT id FROM platforms WHERE name = 'SocialCo Feed'").fetchone()[0]
    at.selectbox(key="admin_platform_pick").set_value(feed).run()
    at.selectbox(key=f"admin_platform_kind_{feed}").set_value("messaging")
    at = submit(at, "Save the platform")
    assert "Saved the platform SocialCo Feed." in texts(at, "success")
    at.selectbox(key="admin_platform_add_partner").set_value("searchco")
    at.text_input(key="admin_platform_add_name").input("SearchCo Images")
    at = submit(at, "Add the platform")
    assert "Added the platform SearchCo Images." in texts(at, "success")
    with sample.read() as cur:
        assert admin.platform(cur, feed)["kind"] == "messaging"
    entries = my_entries(sample)
    assert entries[["action", "entity"]].values.tolist() == [
        ["add", "platform"], ["update", "platform"],
    ]  # fmt: skip


def test_fix_a_base_period_and_return_to_the_default_rule(app, sample):
    at = show_tab(open_admin(app, sample), "Baselines")
    with sample.read() as cur:
        shop = cur.execute("SELECT id FROM platforms WHERE name = 'MarketCo Shop'").fetchone()[0]
    at.selectbox(key="admin_baseline_pick").set_value(shop).run()
    # the form offers the platform's first four reported quarters
    assert at.selectbox(key=f"admin_baseline_first_{shop}").value == "2018-Q1"
    assert at.selectbox(key=f"admin_baseline_last_{shop}").value == "2018-Q4"
    at.selectbox(key=f"admin_baseline_first_{shop}").set_value("2019-Q1")
    at.selectbox(key=f"admin_baseline_last_{shop}").set_value("2019-Q2")
    at = submit(at, "Fix the base period")
    assert "MarketCo Shop: base period 2019-Q1 to 2019-Q2." in texts(at, "success")
    with sample.read() as cur:
        assert admin.baseline(cur, shop) == ("2019-Q1", "2019-Q2")
    assert "2019-Q1 to 2019-Q2 (fixed)" in at.tabs[2].dataframe[0].value["Base period"].tolist()
    at = submit(at, "Use the default rule")
    assert "MarketCo Shop: back to the default rule." in texts(at, "success")
    with sample.read() as cur:
        assert admin.baseline(cur, shop) is None
    assert my_entries(sample)["action"].tolist() == ["clear", "set"]


def test_add_a_later_target_and_show_it_first(app, sample):
    at = show_tab(open_admin(app, sample), "Targets")
    at.text_input(key="admin_target_add_name").input("90% by 2025")
    at.number_input(key="admin_target_add_reduction").set_value(90.0)
    at.date_input(key="admin_target_add_deadline").set_value("2025-12-31")
    at.checkbox(key="admin_target_add_default").check()
    at = submit(at, "Add the target")
    assert "Added the target 90% by 2025." in texts(at, "success")
    shown = at.tabs[3].dataframe[0].value
    assert shown["Target"].tolist() == ["90% by 2025", "80% by end of 2020"]
    assert shown["Shown first"].tolist() == [True, False]
    with sample.read() as cur:
        assert admin.targets(cur).iloc[0][["name", "reduction"]].tolist() == ["90% by 2025", 0.9]
    assert my_entries(sample)["action"].tolist() == ["set_default", "add"]


def test_the_audit_log_filters_by_what_and_who(app, sample):
    at = open_admin(app, sample)
    at.checkbox(key="admin_partner_consent_marketco").uncheck()
    at = show_tab(submit(at, "Save the partner"), "Audit log")
    assert at.selectbox(key="admin_audit_entity").options == ["Everything", "Partner", "Account"]
    assert at.selectbox(key="admin_audit_actor").options == ["Everyone", "sample", ACTOR]
    at.selectbox(key="admin_audit_entity").set_value("user").run()
    assert len(at.tabs[5].dataframe[0].value) == 4  # the sample's four accounts
    at.selectbox(key="admin_audit_actor").set_value(ACTOR).run()
    assert not at.tabs[5].dataframe
    assert "No logged change matches these filters." in texts(at.tabs[5], "info")
    at.selectbox(key="admin_audit_entity").set_value("partner").run()
    (row,) = at.tabs[5].dataframe[0].value.itertuples(index=False)
    assert json.loads(row.Before) == {"consent_to_name": True}
    assert json.loads(row.After) == {"consent_to_name": False}


def test_the_audit_csv_holds_the_table_shown(sample):
    with sample.write() as cur:
        admin.update_partner(cur, "ana", "socialco", consent_to_name=True)
    with sample.read() as cur:
        table = admin_ui.audit_table(admin.audit_entries(cur, entity="partner"))
    csv = pd.read_csv(io.BytesIO(csv_bytes(table)), encoding="utf-8-sig")
    assert csv.columns.tolist() == [
        "When (UTC)", "Who", "Action", "What", "Key", "Change", "Before", "After",
    ]  # fmt: skip
    assert csv.iloc[0][["Who", "What", "Key", "Change"]].tolist() == [
        "ana", "Partner", "socialco", "consent_to_name: no → yes",
    ]  # fmt: skip


def test_without_the_accounts_module_the_tab_says_so(app, sample, monkeypatch):
    monkeypatch.setitem(sys.modules, "coalition.ui.accounts", None)  # as if it were missing
    at = show_tab(open_admin(app, sample), "Accounts")
    assert "Managing accounts is not available in this build." in texts(at.tabs[4], "info")
    assert show_tab(at, "Partners").tabs[0].dataframe  # the rest of the page is there


def test_only_the_secretariat_reaches_the_page(app, sample):
    at = app(sample, user="observer").run()
    with pytest.raises(Exception):  # noqa: B017 — AppTest refuses a page not in the navigation
        at.switch_page(ADMIN).run()
