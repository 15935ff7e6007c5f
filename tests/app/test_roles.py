"""Every page for every role: what each role can open, and what it is shown.

The sample database has three partners: MarketCo (consents to be named; platforms "MarketCo
Shop", "MarketCo Resale"), SocialCo ("SocialCo Feed") and SearchCo ("SearchCo Web"), neither
of which consents. So an observer may see MarketCo's platforms by name but never SocialCo's or
SearchCo's, and a coalition figure resting on SocialCo and SearchCo alone is withheld from it;
the SocialCo account sees its own platform but not SearchCo's.
"""

from __future__ import annotations

import json

import pytest

import metrics
from coalition.i18n import format_percent
from coalition.ui import admin as admin_ui
from coalition.ui import navigation

ROLES_PAGES = {
    None: ["sign_in.py"],
    "observer": [
        "overview.py", "platforms.py", "species.py", "regions.py", "present.py", "account.py",
    ],
    "marketco-user": [
        "overview.py", "platforms.py", "species.py", "regions.py", "present.py", "submit.py",
        "account.py",
    ],
    "secretariat": [
        "overview.py", "platforms.py", "species.py", "regions.py", "present.py", "submit.py",
        "review.py", "quality.py", "admin.py", "account.py",
    ],
}  # fmt: skip
ROLE_OF = {
    None: None,
    "observer": "observer",
    "marketco-user": "partner",
    "socialco-user": "partner",
    "secretariat": "secretariat",
}
ALL_PAGES = ROLES_PAGES["secretariat"]
PROTECTED_PLATFORMS = ("SocialCo Feed", "SearchCo Web")


def everything(at) -> str:
    """All the text a page shows: markdown, notices, metrics, tables, chart data, options."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success"):  # fmt: skip
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [e.value.to_csv() for e in at.dataframe]
    parts += [e.value.to_csv() for e in at.table]
    parts += [json.dumps(list(map(str, s.options))) for s in at.selectbox]
    parts += [json.dumps(list(map(str, s.options))) for s in at.multiselect]
    parts += [c.proto.spec for c in at.get("plotly_chart")]
    return "\n".join(parts)


def open_as(app, db, user, page):
    at = app(db, user=user).run()
    if page != "overview.py":
        at.switch_page(f"views/{page}").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("user", list(ROLES_PAGES))
def test_each_role_is_offered_exactly_its_pages(user):
    assert navigation.allowed(ROLE_OF[user]) == [f"views/{p}" for p in ROLES_PAGES[user]]


@pytest.mark.parametrize(
    ("user", "page"),
    [(u, p) for u in ("observer", "marketco-user") for p in ALL_PAGES if p not in ROLES_PAGES[u]]
    + [(None, p) for p in ALL_PAGES],
)
def test_a_page_outside_the_role_cannot_be_reached(app, sample, user, page):
    at = app(sample, user=user).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"views/{page}")


def test_without_an_account_only_sign_in_is_shown(app, sample):
    at = app(sample, user=None).run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert not at.metric and not at.get("plotly_chart")


@pytest.mark.parametrize(
    ("user", "page"), [(u, p) for u in ROLES_PAGES if u for p in ROLES_PAGES[u]]
)
def test_every_page_runs_for_every_role_and_hides_protected_platforms(app, sample, user, page):
    at = open_as(app, sample, user, page)
    if page == "admin.py":  # its platforms are on a tab of their own, drawn when shown
        at.session_state[admin_ui.TAB_KEY] = "Platforms"
        at.run()
    shown = everything(at)
    assert at.title or at.markdown, "every page draws something"
    if user == "secretariat" and page in ("platforms.py", "admin.py"):
        assert all(name in shown for name in PROTECTED_PLATFORMS)
    if user != "secretariat":
        for name in PROTECTED_PLATFORMS:
            assert name not in shown, (user, page, name)


@pytest.mark.parametrize("page", ["platforms.py", "overview.py"])
def test_a_partner_sees_its_own_platform_but_not_the_others(app, sample, page):
    at = open_as(app, sample, "socialco-user", page)
    shown = everything(at)
    assert "SearchCo Web" not in shown
    if page == "platforms.py":
        assert "SocialCo Feed" in shown
        assert "MarketCo Shop" in shown  # consented


def test_observer_headline_resting_on_two_protected_partners_is_withheld(app, sample):
    # the coalition figure rests on MarketCo (named) and two protected partners
    at = open_as(app, sample, "observer", "overview.py")
    assert any("withheld from your view" in w.value for w in at.warning)
    assert any("Some figures are withheld" in i.value for i in at.info)
    assert [m.value for m in at.metric][:3] == ["—", "—", "—"]


def test_observer_headline_equals_the_observer_progress(app, sample):
    with sample.write() as cur:  # everyone consents: nothing to withhold
        cur.execute("UPDATE partners SET consent_to_name = TRUE")
    at = open_as(app, sample, "observer", "overview.py")
    with sample.read() as cur:
        head = metrics.progress(cur, metrics.Filters(viewer=metrics.OBSERVER)).iloc[0]
    assert at.metric[0].value == format_percent(head.reduction)
    assert not any("withheld" in i.value for i in at.info)


def test_a_partner_submits_for_its_own_company_only(app, sample):
    at = open_as(app, sample, "socialco-user", "submit.py")
    assert not [s for s in at.selectbox if s.label == "Partner"]
    assert any("Submitting for **SocialCo**" in m.value for m in at.markdown)


def test_the_secretariat_chooses_the_partner_to_submit_for(app, sample):
    at = open_as(app, sample, "secretariat", "submit.py")
    (partner,) = [s for s in at.selectbox if s.label == "Partner"]
    assert set(partner.options) == {"MarketCo", "SocialCo", "SearchCo"}


def test_a_disabled_account_is_signed_out_at_the_next_click(app, sample):
    at = app(sample, user="observer").run()
    with sample.write() as cur:
        cur.execute("UPDATE users SET disabled = TRUE WHERE name = 'observer'")
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]


def test_three_protected_partners_are_enough_for_the_observer(app, sample):
    with sample.write() as cur:
        cur.execute("UPDATE partners SET consent_to_name = FALSE")
    at = open_as(app, sample, "observer", "overview.py")
    assert not any("withheld" in w.value for w in at.warning)
    assert at.metric[0].value != "—"


@pytest.mark.parametrize(("user", "offered"), [("secretariat", True), ("observer", False),
                                               ("marketco-user", False)])  # fmt: skip
def test_only_the_secretariat_may_include_submitted_data(app, sample, user, offered):
    at = open_as(app, sample, user, "overview.py")
    assert bool([x for x in at.toggle if x.key == "filter_include_submitted"]) is offered
