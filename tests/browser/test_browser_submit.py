"""Submitting a file in a real browser: Streamlit serves app.py, Debian's Chromium renders it.

The file goes through the page's real file input; the secretariat's acceptance is done from
the test process (there is no Review page yet); the Overview must then show the new figures.
Everything but localhost is blocked. The screenshot of the report is kept in the test's tmp
directory.
"""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from openpyxl import Workbook

import metrics
from coalition import store
from coalition.db import Database
from coalition.i18n import format_count

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    # by path: tests/ is not a package
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# the Overview browser test's server and browser settings, shared rather than copied
overview = _load("browser_overview_helpers", Path(__file__).with_name("test_browser_overview.py"))
CHROMIUM, CHROMIUM_ARGS = overview.CHROMIUM, overview.CHROMIUM_ARGS
LOCAL_HOSTS = overview.LOCAL_HOSTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (make browser)"),
]

# SocialCo's figures for 2020-Q4, the quarter it has not sent (see sample_db.py): there are no
# earlier rows to supersede, so once accepted they add exactly this much
REMOVED, BLOCKED = 500, 700


def upload_file() -> bytes:
    """A partner's own workbook (not the template): a title row, the header with one column
    the tracker does not know (a warning to acknowledge), one row of figures."""
    wb = Workbook()
    ws = wb.active
    ws.append(["SocialCo — figures for 2020-Q4"])
    ws.append(["Period", "Platform", "Species group", "Country / territory", "Listings removed",
               "Listings blocked", "Checked by"])  # fmt: skip
    ws.append(["2020-Q4", "SocialCo Feed", "ivory", "China", REMOVED, BLOCKED, "Ana"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def wait_until_drawn(page) -> None:
    """Wait for the Overview's three charts and the end of the script run: until then the
    page is still moving, and a click may wait for it to settle."""
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=60_000
    )
    page.locator("[data-testid=stStatusWidget]").wait_for(state="detached", timeout=60_000)
    page.wait_for_timeout(500)


class Browser:
    """One page in Chromium that may only talk to localhost, recording what went wrong."""

    def __init__(self, playwright) -> None:
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        self.page = self.browser.new_page(viewport={"width": 1400, "height": 2000})
        self.page.route("**/*", self._only_localhost)
        self.page.on(
            "requestfailed",
            lambda r: self.failed.append(r.url) if r.url not in self.blocked else None,
        )
        self.page.on("response", lambda r: self.failed.append(r.url) if r.status >= 400 else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _only_localhost(self, route) -> None:
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def check_clean(self) -> None:
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.blocked, f"the page asked for something outside localhost: {self.blocked}"
        assert not self.errors, f"errors in the page: {self.errors}"


def test_submit_a_file_and_see_it_on_the_overview_once_accepted(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    db_path = tmp_path / "sample.duckdb"
    db = overview._sample_db().build(db_path)
    with db.read() as cur:
        before = metrics.progress(cur).iloc[0].cumulative_actions
    upload = tmp_path / "socialco-2020q4.xlsx"
    upload.write_bytes(upload_file())
    screenshot = tmp_path / "submit.png"

    with (
        overview._streamlit(db_path, tmp_path / "streamlit.log") as url,
        playwright_api.sync_playwright() as p,
    ):
        browser = Browser(p)
        page = browser.page
        try:
            page.goto(url)
            overview.sign_in(page)
            page.get_by_text("As of 2020-12-31").wait_for(timeout=60_000)
            page.get_by_test_id("stMetricValue").get_by_text(
                format_count(before), exact=True
            ).wait_for(timeout=30_000)
            wait_until_drawn(page)

            page.get_by_role("link", name="Submit data").click(timeout=60_000)
            page.get_by_role("heading", name="Submit data").wait_for(timeout=30_000)
            # the partner to submit for (the sidebar has the language switcher)
            page.get_by_test_id("stMain").get_by_test_id("stSelectbox").click()
            page.get_by_role("option", name="SocialCo").click()
            page.locator("input[type=file]").set_input_files(upload)
            acknowledge = page.get_by_text("I have checked the warnings", exact=True)
            acknowledge.wait_for(timeout=30_000)
            page.get_by_text("What will be stored").wait_for()
            page.wait_for_timeout(500)  # let the tables draw
            page.screenshot(path=str(screenshot), full_page=True)
            report = page.inner_text("body")
            submit = page.get_by_role("button", name="Submit", exact=True)
            assert submit.is_disabled()  # the warning is not acknowledged yet

            acknowledge.click()
            page.wait_for_function(
                "[...document.querySelectorAll('button')].some("
                "b => b.innerText.trim().endsWith('Submit') && !b.disabled)",
                timeout=30_000,
            )
            submit.click()
            stored = page.get_by_text(re.compile(r"Stored as submission \d+"))
            stored.wait_for(timeout=30_000)
            submission = int(re.search(r"submission (\d+)", stored.inner_text()).group(1))
            page.get_by_text("Awaiting review").first.wait_for()

            # awaiting review, so not in the default figures yet: the secretariat accepts it
            with Database(db_path).write() as cur:
                assert store.submissions(cur, "socialco").iloc[0].status == "submitted"
                store.review_submission(cur, submission, "accepted", reviewed_by="test")
            with Database(db_path).read() as cur:
                after = metrics.progress(cur).iloc[0].cumulative_actions

            # the same session: the Overview's cached figures must give way to the new ones
            page.get_by_role("link", name="Overview").click(timeout=60_000)
            page.get_by_text("As of 2020-12-31").wait_for(timeout=60_000)
            page.get_by_test_id("stMetricValue").get_by_text(
                format_count(after), exact=True
            ).wait_for(timeout=30_000)
            text = page.inner_text("body")
        finally:
            browser.browser.close()

    print(f"screenshot: {screenshot}")
    # (the tables are drawn on a canvas: their cells are not page text; see the screenshot)
    assert "Rows read\n\n1" in report and "Warnings\n\n1" in report
    assert "1 row; listings removed + blocked: 1,200." in report
    assert after == before + REMOVED + BLOCKED
    assert format_count(after) in text and "3 of 3" in text  # SocialCo reports 2020-Q4 now
    browser.check_clean()
    assert screenshot.stat().st_size > 10_000


def test_a_fresh_server_opens_the_submit_page_by_its_address(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    db_path = tmp_path / "sample.duckdb"
    overview._sample_db().build(db_path)
    with (
        overview._streamlit(db_path, tmp_path / "streamlit.log") as url,
        playwright_api.sync_playwright() as p,
    ):
        browser = Browser(p)
        try:
            # a shared link opened first on a fresh server: the sign-in form, not a crash,
            # and once signed in, the page the link named
            browser.page.goto(f"{url}/submit")
            overview.sign_in(browser.page)
            browser.page.get_by_text("Signed in as secretariat").wait_for(timeout=30_000)
            browser.page.get_by_role("heading", name="Submit data").wait_for(timeout=30_000)
            browser.page.get_by_text("1. Download the template").wait_for(timeout=30_000)
        finally:
            browser.browser.close()
