"""Headless Chromium for the report tests: started with the network off, its logs kept."""

from __future__ import annotations

import base64
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Everything that is not this machine is refused: every request goes to a
# proxy that does not exist (loopback included, ``<-loopback>``), and no
# host name resolves. Chromium's own background traffic is switched off.
NETWORK_OFF = (
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-first-run",
    "--no-default-browser-check",
)
HEADLESS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1280,1000", "--hide-scrollbars", "--force-device-scale-factor=1")

# Schemes that never leave the machine.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def missing() -> str | None:
    """Why headless Chromium cannot run here (None when it can)."""
    absent = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        absent.append("the Python package selenium (pip install -e '.[test]')")
    if absent:
        return (f"{' and '.join(absent)} not found; install the Debian packages chromium "
                "and chromium-driver")
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by the system's chromedriver, network off.

    The driver is given by path, so Selenium Manager never runs (it would
    download a driver). The browser's console and performance (network) logs
    are kept: read them with :func:`console` and :func:`requests`.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="bereikbaarheid-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for flag in (*HEADLESS, *NETWORK_OFF, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        service = Service(executable_path=shutil.which("chromedriver"))
        driver = webdriver.Chrome(service=service, options=options)
        try:
            driver.set_script_timeout(30)
            # Leave the start page (Debian's opens a new-tab page, whose
            # attempts to go online the proxy refuses) and forget its logs.
            driver.get("about:blank")
            console(driver), requests(driver)
            yield driver
        finally:
            driver.quit()


def open_page(driver: Any, page: Path, timeout_s: float = 60) -> None:
    """Load ``page`` from ``file://`` and wait until it says it is ready
    (``document.body.dataset.ready == "1"``); the logs then hold this page's
    entries only."""
    from selenium.webdriver.support.ui import WebDriverWait

    console(driver), requests(driver)  # drop what earlier pages logged
    driver.get(Path(page).resolve().as_uri())
    WebDriverWait(driver, timeout_s).until(lambda d: d.execute_script(
        "return document.body !== null && document.body.dataset.ready === '1'"))


def console(driver: Any) -> list[dict[str, Any]]:
    """The console entries logged since the last call (level, message)."""
    return driver.get_log("browser")


def requests(driver: Any) -> list[str]:
    """The URLs the page requested since the last call (``Network.requestWillBeSent``)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def full_page_png(driver: Any) -> bytes:
    """A screenshot of the whole page, beyond the window."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                 "scale": 1}})
    return base64.b64decode(shot["data"])


def colours(png: bytes) -> tuple[int, float]:
    """The number of distinct colours of a PNG and the share of its pixels
    that have the most common one."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = image.width * image.height
    # getcolors returns None beyond maxcolors: at most every pixel distinct.
    counts = image.getcolors(maxcolors=pixels)
    return len(counts), max(n for n, _ in counts) / pixels
