"""The Overview in a real browser: Streamlit serves app.py, Debian's Chromium renders it.

Everything but localhost is blocked, so the page must work offline (no fonts, scripts or
telemetry from the internet). The screenshot is kept in the test's tmp directory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

import metrics
from coalition import theme
from coalition.charts import INDEX_TABLE_COLUMNS
from coalition.i18n import format_count, format_percent

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (make browser)"),
]


def _sample_db():
    # the app tests' fixture database, loaded by path: tests/ is not a package
    spec = importlib.util.spec_from_file_location("sample_db", ROOT / "tests/app/sample_db.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _streamlit(db_path: Path, log_path: Path):
    port = _free_port()
    env = {**os.environ, "COALITION_DB": str(db_path)}
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start:\n{log_path.read_text()}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sign_in(page, name: str = "secretariat") -> None:
    """Fill in the sign-in form with one of the sample database's accounts."""
    page.get_by_label("Account name").fill(name, timeout=60_000)
    page.get_by_label("Password", exact=True).fill(_sample_db().PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_overview_renders_headline_and_charts(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    db = _sample_db().build(tmp_path / "sample.duckdb")
    with db.read() as cur:
        head = metrics.progress(cur).iloc[0]
    screenshot = tmp_path / "overview.png"
    blocked, failed, errors = [], [], []

    def only_localhost(route):
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    log = tmp_path / "streamlit.log"
    with _streamlit(tmp_path / "sample.duckdb", log) as url, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2400})
            page.route("**/*", only_localhost)
            page.on(
                "requestfailed",
                lambda r: failed.append(r.url) if r.url not in blocked else None,
            )
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            sign_in(page)
            page.get_by_text("As of 2020-12-31").wait_for(timeout=60_000)
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3",
                timeout=60_000,
            )
            page.wait_for_timeout(1000)  # let the charts finish their first layout
            text = page.inner_text("body")
            page.screenshot(path=str(screenshot), full_page=True)
            plots = page.locator(".js-plotly-plot").count()
            # the chart's table as CSV: made by the server when the button is clicked
            with page.expect_download(timeout=60_000) as download:
                page.get_by_role("button", name="Download the table (CSV)").first.click()
            csv_name = download.value.suggested_filename
            csv_path = tmp_path / csv_name
            download.value.save_as(csv_path)
        finally:
            browser.close()

    print(f"screenshot: {screenshot}")
    assert "Reduction vs baseline" in text
    assert format_percent(head.reduction) in text
    assert format_percent(head.progress) in text
    assert format_count(head.cumulative_actions) in text
    assert theme.status_label(head.status) in text
    assert "Matched panel: 3 platforms, 73% of baseline volume" in text
    assert plots >= 3
    assert not failed, f"failed requests: {failed}"
    assert not blocked, f"the page asked for something outside localhost: {blocked}"
    assert not errors, f"errors in the page: {errors}"
    assert screenshot.stat().st_size > 10_000
    assert csv_name == "detection_rate_index.csv"
    content = csv_path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for Chinese
    header, *rows = content.decode("utf-8-sig").splitlines()
    assert header.split(",")[:2] == list(INDEX_TABLE_COLUMNS[:2])
    assert len(rows) >= 4  # a quarter per row
