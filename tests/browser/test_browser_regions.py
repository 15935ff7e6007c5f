"""The Regions page in a real browser, offline: the world map must draw from the topojson that
the app serves itself (static/topojson/world_110m.json), not from cdn.plot.ly.

Streamlit serves app.py on the sample database; Debian's Chromium renders it with every request
outside localhost aborted and recorded. The screenshot is kept in the test's tmp directory.
"""

from __future__ import annotations

import importlib.util
import io
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

MAP = ".js-plotly-plot .geo"


def _colours(png: bytes, box: dict) -> dict[tuple[int, int, int], int]:
    """Pixels per colour of a screenshot inside an element's bounding box (Pillow comes with
    Streamlit)."""
    from PIL import Image

    left, top = int(box["x"]), int(box["y"])
    area = (left, top, left + int(box["width"]), top + int(box["height"]))
    image = Image.open(io.BytesIO(png)).convert("RGB").crop(area)
    return {colour: n for n, colour in image.getcolors(maxcolors=1 << 24)}


def test_regions_map_draws_offline_from_the_apps_own_topojson(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    helpers._sample_db().build(tmp_path / "sample.duckdb")
    screenshot = tmp_path / "regions.png"
    blocked, failed, errors, topojson = [], [], [], []

    def only_localhost(route):
        if urlparse(route.request.url).hostname in helpers.LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    def on_response(response):
        if response.status >= 400:
            failed.append(response.url)
        if response.url.endswith("/world_110m.json"):
            topojson.append((response.url, response.status))

    log = tmp_path / "streamlit.log"
    with (
        helpers._streamlit(tmp_path / "sample.duckdb", log) as url,
        playwright_api.sync_playwright() as p,
    ):
        browser = p.chromium.launch(
            executable_path=str(helpers.CHROMIUM), args=helpers.CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.route("**/*", only_localhost)
            page.on(
                "requestfailed",
                lambda r: failed.append(r.url) if r.url not in blocked else None,
            )
            page.on("response", on_response)
            page.on("pageerror", lambda e: errors.append(str(e)))
            # in through the Overview and the menu, as a reader comes
            page.goto(url)
            helpers.sign_in(page)
            page.get_by_text("As of").first.wait_for(timeout=60_000)
            page.get_by_role("link", name="Regions").click()
            page.get_by_text("Not on the map").first.wait_for(timeout=60_000)
            page.wait_for_function(
                "document.querySelectorAll('.choroplethlocation').length > 100",
                timeout=60_000,
            )
            page.wait_for_timeout(1000)  # let the other charts finish their first layout
            painted = page.eval_on_selector_all(
                ".choroplethlocation",
                "paths => paths.filter(p => (p.getAttribute('d') || '').length > 20"
                " && getComputedStyle(p).fill !== 'none').length",
            )
            fills = page.eval_on_selector_all(
                ".choroplethlocation",
                "paths => [...new Set(paths.map(p => getComputedStyle(p).fill))]",
            )
            box = page.locator(MAP).first.bounding_box()
            text = page.inner_text("body")
            png = page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    print(f"screenshot: {screenshot}")
    assert not blocked, f"the page asked for something outside localhost: {blocked}"
    assert not failed, f"failed requests: {failed}"
    assert not errors, f"errors in the page: {errors}"
    # the geometry came from this app, and came whole
    assert topojson, "the map never asked for world_110m.json"
    assert all(urlparse(u).hostname in helpers.LOCAL_HOSTS for u, _ in topojson), topojson
    assert all(u.endswith("/app/static/topojson/world_110m.json") for u, _ in topojson)
    assert {status for _, status in topojson} == {200}
    # 177 countries in the 110m map: the sample's two countries in blue, the rest grey
    assert painted > 150
    assert len(fills) >= 2  # grey, and the colour of Viet Nam and the USA (equal actions)
    assert "Not on the map:" in text and "Global / unspecified" in text
    # countries are visibly painted: the map's pixels are the grey of countries without figures,
    # the white of borders and background, and the blues of the two countries with figures
    pixels = _colours(png, box)
    area = sum(pixels.values())
    grey = pixels.get((0xDD, 0xDD, 0xDD), 0)
    blues = sum(n for (r, g, b), n in pixels.items() if b > r + 40 and b > g)
    assert grey > 0.15 * area, f"grey countries: {grey} of {area} pixels"
    assert blues > 0.01 * area, f"blue countries: {blues} of {area} pixels"
