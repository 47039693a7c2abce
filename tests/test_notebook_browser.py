"""The tutorial served by `marimo run --include-code`, in a real browser: every cell finishes with no
error, the code is shown, the step-through slider moves a gradient, the live neuron's sliders too.

Needs Playwright and Debian's ``chromium`` (both installed by .ci/run; see tests/_browser.py):
skipped without them on a developer's machine, failed without them in CI.
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

from _browser import launch, sync_api

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "tutorial.py"

playwright = sync_api()

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served_notebook(tmp_path_factory: pytest.TempPathFactory):
    """`marimo run --include-code` on a copy of the notebook (marimo's files stay out of the repository)."""
    folder = tmp_path_factory.mktemp("served")
    copy = folder / NOTEBOOK.name
    shutil.copyfile(NOTEBOOK, copy)
    port = _free_port()
    env = dict(os.environ, MPLBACKEND="Agg", MARIMO_SKIP_UPDATE_CHECK="1")
    command = [sys.executable, "-m", "marimo", "run", str(copy), "--include-code", "--headless"]
    command += ["--port", str(port), "--host", "127.0.0.1"]
    log_path = folder / "server.log"
    log = log_path.open("w")
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
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
                    pytest.fail("marimo run did not start:\n" + log_path.read_text())
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


@pytest.fixture(scope="module")
def page(served_notebook: str):
    """The app with its code shown (marimo's ?show-code=true), once every cell has run."""
    with playwright.sync_playwright() as p:
        browser = launch(p)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 1200})
            tab.goto(served_notebook + "/?show-code=true")
            # The last cell's output appears once every cell has run.
            tab.wait_for_selector("text=History(100 steps", timeout=180_000)
            yield tab
        finally:
            browser.close()


def _no_error(page) -> None:
    # In the app view marimo shows a failing cell as an alert, "An internal error occurred", with no
    # traceback; a render failure would show as text.
    outputs = page.locator(".output-area")
    assert outputs.locator("[role=alert], .text-error").count() == 0
    assert outputs.get_by_text(re.compile("internal error|Traceback|AssertionError|RenderError")).count() == 0


def _cell_with(page, text: str):
    return page.locator(".marimo-cell", has=page.get_by_text(text, exact=False)).last


def test_every_cell_ran_with_no_error_and_the_code_is_shown(page):
    _no_error(page)
    assert page.locator("svg g.graph").count() >= 10  # the draw_dot pictures rendered
    # The code cells are shown (the tutorial is about the code); the prose cells show only their text.
    editors = page.locator(".cm-content")
    assert editors.count() >= 30
    for code in ("o_steps = one_neuron()", "vg.viz.backward_steps(one_neuron()", 'L.label = "L"'):
        assert page.locator(".cm-content", has_text=code).count() == 1, code
    assert page.locator(".cm-content", has_text="Backpropagation, spelled out").count() == 0
    # Outputs say what they are.
    outputs = page.locator(".output-area")
    assert outputs.get_by_text("d was made from a and b").count() == 1
    assert outputs.get_by_text("finite-difference slope").count() == 1


def _svg_texts(cell) -> list[str]:
    return cell.locator("svg text").all_text_contents()


def test_the_step_slider_moves_backward_one_node_at_a_time(page):
    cell = _cell_with(page, "chain-rule step of o.backward()")
    slider = cell.get_by_role("slider")
    assert slider.get_attribute("aria-valuemax") == "5"
    assert cell.get_by_text("Before the first step: o.grad = 1").count() == 1
    texts = _svg_texts(cell)
    assert "grad 1.0000" in texts and "grad -1.5000" not in texts  # only the seed so far
    slider.focus()
    slider.press("ArrowRight")
    page.wait_for_function(
        "() => document.body.innerText.includes('Step 1 of 5: the chain rule at o = tanh(n)')", timeout=30_000
    )
    cell = _cell_with(page, "chain-rule step of o.backward()")
    assert "grad 0.5000" in _svg_texts(cell)  # n received 1 - o² = 0.5
    assert cell.locator("svg g.node.current").count() == 1
    cell.get_by_role("slider").press("End")  # the last step
    page.wait_for_function("() => document.body.innerText.includes('Step 5 of 5')", timeout=30_000)
    cell = _cell_with(page, "chain-rule step of o.backward()")
    texts = _svg_texts(cell)
    assert "grad -1.5000" in texts and "grad 1.0000" in texts  # x₁ and w₁: the lecture's numbers
    assert "x₁×w₁" in cell.locator("svg g.node.current").text_content()
    _no_error(page)


def _output_value(page) -> float:
    text = page.locator(".output-area").get_by_text(re.compile(r"o = tanh\(n\) = ")).first.inner_text()
    match = re.search(r"o = tanh\(n\) = (-?\d+\.\d+)", text)
    assert match, text
    return float(match.group(1))


def test_the_live_neuron_follows_its_sliders(page):
    cell = page.locator(".marimo-cell", has=page.locator(".cm-content", has_text="o_live = one_neuron("))
    code = page.locator(".cm-content", has_text="neuron_sliders = mo.ui.dictionary(")
    sliders = page.locator(".marimo-cell", has=code).get_by_role("slider")
    assert sliders.count() == 5  # x1, x2, w1, w2, b
    assert _output_value(page) == 0.7071
    # Raise the bias: tanh saturates, the output moves towards 1.
    bias = sliders.nth(4)
    bias.focus()
    for _ in range(5):
        bias.press("ArrowRight")  # b + 0.05
    page.wait_for_function("() => !document.body.innerText.includes('o = tanh(n) = 0.7071')", timeout=30_000)
    page.wait_for_timeout(300)
    assert 0.7071 < _output_value(page) < 1.0
    assert cell.locator("svg g.graph").count() == 1
    # The live cell compares backward() with finite differences, and raised no error.
    _no_error(page)
