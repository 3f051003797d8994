"""The report in a real browser: headless Chromium, network off, opens the
demo's report (Dutch and English) and a scenario's from ``file://``, and
finds no console error, no request beyond the machine, maps that draw cells
and facilities and change with the mode, and a page that is not blank.

Full-page screenshots are kept in ``test-artifacts/`` (or
``$BEREIKBAARHEID_ARTIFACTS``) for a person to look at.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from pathlib import Path

import browser as headless
import pytest

from bereikbaarheid import cli

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "scenarios"
ARTIFACTS = Path(os.environ.get("BEREIKBAARHEID_ARTIFACTS") or ROOT / "test-artifacts")
PAGES = ("nl", "en", "scenario")

# What a reader sees first, in each language: the title and the first section.
HEADINGS = {"nl": ("Bereikbaarheid van voorzieningen", "Kerncijfers"),
            "en": ("Access to facilities", "Key figures")}


def _cli(*args: str) -> list[str]:
    """Run the command in-process; its stdout lines (it must succeed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(list(args))
    assert code == 0, out.getvalue()
    return out.getvalue().splitlines()


@pytest.fixture(scope="module")
def reports(demo_region, tmp_path_factory) -> dict[str, Path]:
    """The demo's report in Dutch and in English, and the report of the
    close-village-gp scenario, all written by the command line as a user
    would: ``scenario`` writes the baseline's (the demo) and the scenario's
    reports and prints their paths last; ``report --lang en`` writes the
    English one of a copy of the demo profile."""
    work = tmp_path_factory.mktemp("reports")
    out = work / "profiles"
    lines = _cli("scenario", str(demo_region.config), str(EXAMPLES / "close-village-gp.toml"),
                 "--output", str(out), "--cache", str(work / "cache"), "-q")
    baseline, scenario = out / "demo", out / "demo@close-village-gp"
    assert lines[-2:] == [str(baseline / "report" / "index.html"),
                          str(scenario / "report" / "index.html")]
    english = work / "en" / "demo"
    shutil.copytree(baseline, english, ignore=shutil.ignore_patterns("report"))
    lines = _cli("report", str(english), "--lang", "en", "-q")
    assert lines == [str(english / "report" / "index.html")]
    return {"nl": baseline / "report" / "index.html", "en": Path(lines[0]),
            "scenario": scenario / "report" / "index.html"}


def _js(driver, script: str, *args):
    return driver.execute_script(script, *args)


def _decoded_size(driver, href: str) -> list[int] | None:
    """The natural size of an image URL once the browser decoded it (None
    when it cannot)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; const img = new Image();"
        "img.onload = () => done([img.naturalWidth, img.naturalHeight]);"
        "img.onerror = () => done(null); img.src = arguments[0];", href)


def _element_png(driver, element) -> bytes:
    _js(driver, "arguments[0].scrollIntoView({block: 'center'});", element)
    return element.screenshot_as_png


# -- renders, in both languages ------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_the_report_renders_in_its_language(browser, reports, page):
    headless.open_page(browser, reports[page])
    lang = "nl" if page == "scenario" else page
    assert _js(browser, "return document.documentElement.lang") == lang
    assert _js(browser, "return document.body.dataset.ready") == "1"
    title, first = HEADINGS[lang]
    h1 = _js(browser, "return document.querySelector('h1').innerText")
    assert h1.startswith(title) and "demo" in h1
    headings = _js(browser, "return [...document.querySelectorAll('h2')].map(h => h.innerText)")
    assert first in headings
    other = HEADINGS["en" if lang == "nl" else "nl"][1]
    assert other not in headings
    # It shows maps and charts: choropleths with areas, and static figures
    # the browser decoded.
    areas = _js(browser, "return [...document.querySelectorAll('section.choropleth')]"
                         ".map(s => s.querySelectorAll('path.area').length)")
    assert areas and min(areas) >= 1
    figures = _js(browser, "return [...document.querySelectorAll('img.figure')]"
                           ".map(i => [i.complete, i.naturalWidth, i.src.slice(0, 22)])")
    assert figures
    assert all(done and width > 0 and src == "data:image/png;base64," for done, width, src
               in figures), figures


@pytest.mark.parametrize("page", PAGES)
def test_no_console_error(browser, reports, page):
    headless.open_page(browser, reports[page])
    # The maps switched to every mode once, so their handlers ran too.
    _js(browser, "document.querySelectorAll('button.mode-button').forEach(b => b.click());")
    severe = [entry for entry in headless.console(browser) if entry["level"] == "SEVERE"]
    assert severe == []


# References that would leave the machine, in the page as written.
_REMOTE = re.compile(r"""(?:\b(?:src|href|xlink:href|action|poster|srcset|data)\s*=\s*["']?"""
                     r"""|url\(\s*["']?|@import\s+["']?)\s*((?:https?:|wss?:|ftp:)?//[^"')\s>]*)""",
                     re.IGNORECASE)


@pytest.mark.parametrize("page", PAGES)
def test_no_request_beyond_the_machine(browser, reports, page):
    html = reports[page].read_text(encoding="utf-8")
    assert _REMOTE.findall(html) == []
    headless.open_page(browser, reports[page])
    _js(browser, "document.querySelectorAll('button.mode-button').forEach(b => b.click());")
    # Every element's link, as the browser resolves it, stays local too
    # (the DOM after the scripts ran).
    schemes = _js(browser, """
        const out = new Set();
        for (const el of document.querySelectorAll('[src], [href]')) {
            for (const name of ['src', 'href']) {
                const value = el.getAttribute(name);
                if (value !== null) out.add(new URL(value, document.baseURI).protocol);
            }
        }
        return [...out];""")
    assert set(schemes) <= {"file:", "data:", "blob:"}, schemes
    urls = headless.requests(browser)
    assert urls[0] == reports[page].resolve().as_uri()
    assert [url for url in urls if not url.startswith(headless.LOCAL_SCHEMES)] == []


# -- the maps ---------------------------------------------------------------

_MAPS = """
return [...document.querySelectorAll('section.map')].map(s => {
    const svg = s.querySelector('svg.map-svg');
    const cells = svg ? svg.querySelectorAll('image.cells') : [];
    const box = cells.length ? cells[0].getBoundingClientRect() : {width: 0, height: 0};
    return {type: s.dataset.type, mode: s.dataset.mode,
            difference: s.classList.contains('difference'),
            cells: cells.length,
            href: cells.length ? cells[0].getAttribute('href') : '',
            width: box.width, height: box.height,
            facilities: svg ? svg.querySelectorAll('circle.facility').length : 0,
            borders: svg ? svg.querySelectorAll('path.border').length : 0,
            legend: s.querySelectorAll('div.legend').length,
            modes: [...s.querySelectorAll('button.mode-button')].map(b => b.dataset.mode)};
});"""


@pytest.mark.parametrize("page", PAGES)
def test_the_maps_draw_cells_borders_and_facilities(browser, reports, page):
    headless.open_page(browser, reports[page])
    maps = _js(browser, _MAPS)
    # A map per facility type of the demo (GP, school, supermarket).
    assert {m["type"] for m in maps if not m["difference"]} == {"gp", "school", "supermarket"}
    if page == "scenario":  # and minutes gained or lost, per cell
        assert any(m["difference"] for m in maps)
    else:
        assert not any(m["difference"] for m in maps)
    elements = browser.find_elements("css selector", "section.map")
    for found, element in zip(maps, elements):
        where = f"{found['type']} map{' (difference)' if found['difference'] else ''}"
        assert found["cells"] == 1, where
        assert found["href"].startswith("data:image/"), where
        size = _decoded_size(browser, found["href"])
        assert size is not None and min(size) > 0, where
        assert found["width"] > 50 and found["height"] > 50, where
        assert found["facilities"] >= 1 and found["borders"] >= 1, where
        assert found["legend"] == 1, where
        # Drawn on the screen: many colours (the minute classes, borders,
        # facilities), not one.
        distinct, dominant = headless.colours(_element_png(browser, element))
        assert distinct > 8 and dominant < 0.9, (where, distinct, dominant)


@pytest.mark.parametrize("page", ["nl", "scenario"])
def test_switching_the_mode_changes_the_map(browser, reports, page):
    headless.open_page(browser, reports[page])
    maps = _js(browser, _MAPS)
    switched = 0
    for index, found in enumerate(maps):
        others = [mode for mode in found["modes"] if mode != found["mode"]]
        # Closing a GP changes no time to a school or supermarket: their
        # difference maps are "no change" in every mode, rightly the same.
        if not others or (found["difference"] and found["type"] != "gp"):
            continue
        section = browser.find_elements("css selector", "section.map")[index]
        before = _element_png(browser, section)
        button = section.find_element("css selector",
                                      f"button.mode-button[data-mode='{others[0]}']")
        _js(browser, "arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        after = _js(browser, _MAPS)[index]
        assert after["mode"] == others[0] != found["mode"]
        assert button.get_attribute("aria-pressed") == "true"
        assert after["href"] != found["href"]
        assert _decoded_size(browser, after["href"]) is not None
        shot = _element_png(browser, section)
        assert shot != before and _pixels(shot) != _pixels(before)
        switched += 1
    # Every map of a facility type has a switch (the demo has every mode),
    # and so has the scenario's difference map of the GPs.
    assert switched == (4 if page == "scenario" else 3)


def _pixels(png: bytes) -> bytes:
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB").tobytes()


# -- a screenshot to keep ------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_a_screenshot_of_the_whole_page_is_kept_and_not_blank(browser, reports, page):
    headless.open_page(browser, reports[page])
    png = headless.full_page_png(browser)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    kept = ARTIFACTS / f"report-{page}.png"
    kept.write_bytes(png)
    distinct, dominant = headless.colours(kept.read_bytes())
    assert distinct > 16, f"{kept}: {distinct} colours"
    # Mostly the white page, but far from all of it: maps, charts, tables.
    assert dominant < 0.95, f"{kept}: {dominant:.1%} of the pixels one colour"
