"""The tutorial served by `marimo run`, in a real browser: graphs render, sliders move, numbers update.

Needs the Playwright Python package and a Chromium to drive (Debian's ``chromium``
package, or one that ``playwright install chromium`` downloaded); skipped otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "tutorial.py"

pytest.importorskip("marimo", reason='the tutorial needs marimo: pip install "valuegrad[notebook]"')
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser check needs Playwright: pip install playwright"
)

pytestmark = pytest.mark.slow


def _chromium() -> str | None:
    """A Chromium executable: Debian's, else the one Playwright downloaded (if any)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    try:
        with sync_api.sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).exists() else None


CHROMIUM = _chromium()
if CHROMIUM is None:
    pytest.skip(
        "no Chromium to drive: install Debian's `chromium` package (or run `playwright install chromium`)",
        allow_module_level=True,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served_notebook(tmp_path: Path):
    """`marimo run` on a copy of the notebook (marimo's session files stay out of the repository)."""
    copy = tmp_path / NOTEBOOK.name
    shutil.copyfile(NOTEBOOK, copy)
    port = _free_port()
    env = dict(os.environ, MPLBACKEND="Agg", MARIMO_SKIP_UPDATE_CHECK="1")
    command = [sys.executable, "-m", "marimo", "run", str(copy), "--headless", "--port", str(port)]
    command += ["--host", "127.0.0.1"]
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("marimo run did not start:\n" + (tmp_path / "server.log").read_text())
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _output_value(page) -> float:
    text = page.get_by_text(re.compile(r"o = tanh\(n\) = ")).first.inner_text()
    match = re.search(r"o = tanh\(n\) = (-?\d+\.\d+)", text)
    assert match, text
    return float(match.group(1))


def test_tutorial_in_a_browser(served_notebook: str):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 2000})
            page.goto(served_notebook)
            # The last cell's output appears once every cell has run.
            page.wait_for_selector("text=History(100 steps", timeout=120_000)
            assert page.locator("svg g.graph").count() >= 11  # every draw_dot picture rendered
            assert page.get_by_text(re.compile("Traceback|AssertionError")).count() == 0

            sliders = page.get_by_role("slider")
            assert sliders.count() == 5  # x1, x2, w1, w2, b
            assert _output_value(page) == 0.7071

            # Raise the bias: tanh saturates, the output moves towards 1.
            bias = sliders.nth(4)
            bias.focus()
            for _ in range(30):
                bias.press("ArrowRight")
            page.wait_for_function(
                "() => !document.body.innerText.includes('o = tanh(n) = 0.7071')", timeout=30_000
            )
            page.wait_for_timeout(500)
            moved = _output_value(page)
            assert 0.7071 < moved < 1.0
            # The live cell compares backward() with finite differences, and raised no error.
            assert page.get_by_text(re.compile("Traceback|AssertionError")).count() == 0
        finally:
            browser.close()
