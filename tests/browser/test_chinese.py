"""A page in Chinese in a real browser: sign in, pick 简体中文 in the sidebar's language
switcher, and the Overview is drawn in Chinese (with the CJK fonts of the machine); the choice
is saved with the account.

Streamlit serves app.py on the sample database; Debian's Chromium renders it, with every
request outside localhost aborted. The screenshot is kept in the test's tmp directory and
copied to /tmp/coalition-overview-zh.png to look at.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _overview_test():
    # the Overview browser test's server helper, loaded by path: tests/ is not a package
    path = ROOT / "tests/browser/test_browser_overview.py"
    spec = importlib.util.spec_from_file_location("browser_overview", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


helpers = _overview_test()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not helpers.CHROMIUM.exists(), reason=f"{helpers.CHROMIUM} is missing (make browser)"
    ),
]

KEEP = Path("/tmp/coalition-overview-zh.png")


def test_overview_in_chinese_after_switching_language(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    sample = helpers._sample_db()
    db = sample.build(tmp_path / "sample.duckdb")
    screenshot = tmp_path / "overview-zh.png"
    blocked, errors = [], []

    def only_localhost(route):
        if urlparse(route.request.url).hostname in helpers.LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    log = tmp_path / "streamlit.log"
    with (
        helpers._streamlit(tmp_path / "sample.duckdb", log) as url,
        playwright_api.sync_playwright() as p,
    ):
        browser = p.chromium.launch(
            executable_path=str(helpers.CHROMIUM), args=helpers.CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2000})
            page.route("**/*", only_localhost)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.get_by_label("Account name").fill("secretariat", timeout=60_000)
            page.get_by_label("Password", exact=True).fill(sample.PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            sidebar = page.locator('[data-testid="stSidebar"]')
            sidebar.get_by_text("Signed in as secretariat").wait_for(timeout=60_000)
            english = page.inner_text("body")

            sidebar.get_by_role("combobox", name="Language").click()
            page.get_by_role("option", name="简体中文").click()
            page.get_by_role("heading", name="概览").wait_for(timeout=60_000)
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3",
                timeout=60_000,
            )
            page.wait_for_timeout(1500)  # let the charts finish their first layout
            chinese = page.inner_text("body")
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    shutil.copyfile(screenshot, KEEP)
    print(f"screenshot: {screenshot} (copied to {KEEP})")
    assert "Overview" in english and "概览" not in english
    assert "概览" in chinese  # the page title and the menu
    assert "语言" in chinese  # the switcher's own label
    assert "Reduction vs baseline" not in chinese
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in chinese)
    assert cjk > 100, chinese[:500]
    assert not blocked, f"the page asked for something outside localhost: {blocked}"
    assert not errors, f"errors in the page: {errors}"
    with db.read() as cur:
        saved = cur.execute("SELECT language FROM users WHERE name = 'secretariat'").fetchone()
    assert saved == ("zh_Hans",)  # remembered with the account for the next sign-in
