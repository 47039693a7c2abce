"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by the Playwright package.

``playwright install`` (Playwright's own browser download) is not needed: ``.ci/run`` installs
Debian's ``chromium`` with apt-get and the ``test`` extra installs ``playwright``. Outside CI a
missing browser skips the tests that need it; in CI (``CI`` set) it fails them, so that a
browser test never passes by not running.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI must run the browser tests: .ci/run installs both)", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def sync_api() -> Any:
    """Playwright's sync API, or a skip (a failure in CI) saying what to install."""
    try:
        from playwright import sync_api as api
    except ImportError:
        _missing("the browser tests need Playwright: pip install playwright (in the test extra)")
    return api


def chromium() -> str:
    """The Chromium executable to drive: Debian's, else one on PATH."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    _missing("no Chromium to drive: apt-get install chromium (Debian's package)")
    raise AssertionError("unreachable")


def launch(playwright: Any) -> Any:
    """A headless Chromium browser (Debian's), the way these tests run it."""
    return playwright.chromium.launch(executable_path=chromium(), args=LAUNCH_ARGS)
