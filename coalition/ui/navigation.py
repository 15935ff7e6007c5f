"""Which pages each role may open: the one list that ``app.py`` hands to ``st.navigation``.

A page missing from a role's list does not exist for that role: its URL leads to the default
page, and ``st.switch_page`` to it fails.
"""

from __future__ import annotations

import streamlit as st

from coalition.auth import User
from coalition.i18n import N_, t

ANALYSIS = ("secretariat", "partner", "observer")
DATA = ("secretariat", "partner")
SECRETARIAT = ("secretariat",)


def view(path: str, title: str, icon: str, **kwargs) -> st.Page:
    return st.Page(f"views/{path}", title=title, icon=icon, **kwargs)


PAGES = (
    # section, file, title, icon, roles
    (N_("Progress"), "overview.py", N_("Overview"), ":material/monitoring:", ANALYSIS),
    (N_("Progress"), "platforms.py", N_("Platforms"), ":material/storefront:", ANALYSIS),
    (N_("Progress"), "species.py", N_("Species"), ":material/pets:", ANALYSIS),
    (N_("Progress"), "regions.py", N_("Regions"), ":material/public:", ANALYSIS),
    (N_("Progress"), "present.py", N_("Presentation"), ":material/slideshow:", ANALYSIS),
    (
        N_("Data"),
        "submit.py",
        N_("Submit data"),
        ":material/upload_file:",
        DATA,
    ),
    (N_("Data"), "review.py", N_("Review"), ":material/fact_check:", SECRETARIAT),
    (N_("Data"), "quality.py", N_("Data quality"), ":material/rule:", SECRETARIAT),
    (N_("Data"), "admin.py", N_("Admin"), ":material/admin_panel_settings:", SECRETARIAT),
    (N_("Account"), "account.py", N_("My account"), ":material/account_circle:", ANALYSIS),
)


def pages(user: User | None) -> dict[str, list[st.Page]]:
    """The pages this user may open, by section, in menu order; only sign-in without a user."""
    if user is None:
        # the sign-in form at every page's address (a shared link, a reload): after signing in,
        # the same address opens the page that was asked for, if the role may see it
        sign_in = [view("sign_in.py", t("Sign in"), ":material/login:", default=True)]
        for _, path, _, _, _ in PAGES:
            sign_in.append(view("sign_in.py", t("Sign in"), ":material/login:", url_path=path[:-3]))
        return {"": sign_in}
    sections: dict[str, list[st.Page]] = {}
    for section, path, title, icon, roles in PAGES:
        if user.role in roles:
            first = not sections
            sections.setdefault(t(section), []).append(view(path, t(title), icon, default=first))
    return sections


def allowed(role: str | None) -> list[str]:
    """The page files (``views/…``) a role may open, in menu order; sign-in only for None."""
    if role is None:
        return ["views/sign_in.py"]
    return [f"views/{path}" for _, path, _, _, roles in PAGES if role in roles]
