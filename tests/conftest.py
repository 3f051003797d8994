"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data fixtures in ``../shared/data`` (skip when absent).

    With ``BEREIKBAARHEID_REQUIRE_SHARED=1`` a missing folder fails the test
    instead of skipping it.
    """
    if not _SHARED_DATA.is_dir():
        reason = f"shared test data not found at {_SHARED_DATA}"
        if os.environ.get("BEREIKBAARHEID_REQUIRE_SHARED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return _SHARED_DATA


@pytest.fixture(scope="session")
def demo_region(tmp_path_factory):
    """The demo region at scale 1 (seed 2024), generated once per session."""
    from bereikbaarheid.demo import generate

    return generate.generate_demo(tmp_path_factory.mktemp("demo") / "region", seed=2024)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium with the network off (see ``browser.py``), one per
    test module; skip when chromium or chromedriver is absent.

    With ``BEREIKBAARHEID_REQUIRE_BROWSER=1`` (as in ``.ci/run``) a missing
    browser fails the test instead of skipping it.
    """
    import browser as headless

    reason = headless.missing()
    if reason is not None:
        if os.environ.get("BEREIKBAARHEID_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (BEREIKBAARHEID_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    with headless.chromium() as driver:
        yield driver
