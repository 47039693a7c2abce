"""`valuegrad graph --steps -o backprop.html` in a real browser, from a file, with no network: the
slider and the buttons change the highlighted node and the numbers, and nothing is fetched.

Needs Playwright and Debian's ``chromium`` (both installed by .ci/run; see tests/_browser.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from _browser import launch, sync_api

playwright = sync_api()


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("page")
    result = subprocess.run(
        [sys.executable, "-m", "valuegrad", "graph", "--steps", "-o", "backprop.html"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return folder / "backprop.html"


def _visible_frame(page):
    frames = page.locator("figure.frame:visible")
    assert frames.count() == 1
    return frames.first


def _current(page) -> str:
    """The label text of the highlighted Value in the frame on show."""
    return " ".join(_visible_frame(page).locator("g.node.current text").all_text_contents())


def _grads(page) -> list[str]:
    texts = _visible_frame(page).locator("svg text").all_text_contents()
    return [t for t in texts if re.fullmatch(r"grad -?\d+\.\d{4}", t)]  # the boxes' grads, not the legend


def test_the_page_steps_through_backward_offline(page_file: Path):
    requests: list[str] = []
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(page_file.as_uri())
            slider = page.locator("#step")
            assert slider.get_attribute("max") == "5" and slider.input_value() == "0"
            assert page.locator("#counter").text_content() == "seed (step 0 of 5)"
            assert page.locator("#prev").is_disabled() and not page.locator("#next").is_disabled()
            # The seed: o is highlighted, its grad is 1, every other grad still 0.
            assert _current(page).startswith("o")
            assert sorted(_grads(page)) == ["grad 0.0000"] * 9 + ["grad 1.0000"]
            assert (
                "Before the first step: o.grad = 1"
                in _visible_frame(page).locator("figcaption").text_content()
            )

            # The next button: step 1 is tanh, giving n its 0.5.
            page.click("#next")
            assert slider.input_value() == "1" and page.locator("#counter").text_content() == "step 1 of 5"
            assert _current(page).startswith("o") and "grad 0.5000" in _grads(page)
            assert _visible_frame(page).locator("g.current-op text").all_text_contents() == ["tanh"]

            # The slider: each position shows its own frame, with another node highlighted.
            seen = []
            for k in range(6):
                slider.fill(str(k))  # sets the value and fires the input event
                assert f"step {k} of 5" in page.locator("#counter").text_content()
                seen.append(_current(page))
            assert len(set(seen[1:])) == 5, seen  # five operations, five different nodes
            assert seen[2].startswith("n") and seen[5].startswith("x₁×w₁")
            # At the last step every gradient is backward()'s: x₁ -1.5, w₁ 1, x₂ 0.5, w₂ 0.
            grads = _grads(page)
            assert "grad -1.5000" in grads and grads.count("grad 0.5000") >= 4
            assert page.locator("#next").is_disabled()

            # The keyboard: the left arrow steps back.
            page.locator("body").press("ArrowLeft")
            assert slider.input_value() == "4" and _current(page) == seen[4]
        finally:
            browser.close()
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests  # nothing from the network
