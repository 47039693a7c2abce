"""The tutorial notebook runs top to bottom, exports to HTML, and its Jupyter copy runs, with no network.

The notebook asserts the lecture's numbers in its own cells (L = -8, the
finite-difference slope -2.000000000000668, the neuron's gradients, 41
parameters, ...), so running it is the test: a wrong number fails here.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "tutorial.py"


# Every section heading of the tutorial, in order: the seed notebook's, then the ones beyond it.
SECTIONS = [
    "## Data structure",
    "## Visualization",
    "## Manual backpropagation and the gradient",
    "### Watch backward() do it, one node at a time",
    "### One neuron, gradients by hand",
    "## Backpropagation programmatically",
    "### Try it: a live neuron",
    "### A Value used twice: why `+=`",
    "## Re-implementing tanh using basic building blocks",
    "### Number types and promotion, the Python way",
    "### tanh in terms of exp",
    "### More operators",
    "## Implementing an MLP",
    "### Neuron",
    "### Layer",
    "### MLP",
    "## Loss",
    "## Learning",
    "## Beyond the lecture",
    "### Compiled: the chain rule, line by line",
    "## Newton's method: derivatives of derivatives",
    "### Two moons: micrograd's demo",
]
# draw_dot pictures in the exported page: 9 drawings (each step view shows its first frame), the two
# biggest (the MLP and its loss) twice: whole, and at full size in a box that scrolls.
GRAPHS = 11
PLOTS = 3  # matplotlib pictures: two loss curves and the decision boundary


def _offline_env() -> dict[str, str]:
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    # Any attempt to reach the network fails fast instead of hanging.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env[var] = "http://127.0.0.1:9"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["MARIMO_SKIP_UPDATE_CHECK"] = "1"
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_offline_env(), capture_output=True, text=True, timeout=240)


def test_notebook_source_lists_every_section():
    lines = [line.strip() for line in NOTEBOOK.read_text(encoding="utf-8").splitlines()]
    headings = [line for line in lines if line.startswith(("## ", "### "))]
    assert headings == SECTIONS


@pytest.fixture
def notebook_copy(tmp_path: Path) -> Path:
    """The notebook in a fresh folder: whatever marimo writes next to it stays out of the repository."""
    copy = tmp_path / NOTEBOOK.name
    shutil.copyfile(NOTEBOOK, copy)
    return copy


def test_notebook_runs_as_a_script(notebook_copy: Path):
    folder = notebook_copy.parent
    result = _run([sys.executable, str(notebook_copy)], cwd=folder)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert result.stdout.strip().endswith("tutorial.py: every cell ran and every check in it passed")
    assert sorted(p.name for p in folder.iterdir()) == [NOTEBOOK.name], "the notebook left files behind"


def _titles_missing(html_text: str) -> list[str]:
    missing = []
    for heading in SECTIONS:
        title = heading.lstrip("# ").split("`")[0].strip()  # the text before any inline code
        variants = {title, html.escape(title), title.replace("'", "\\u0027"), title.replace("'", "&#x27;")}
        if not any(v in html_text for v in variants):
            missing.append(title)
    return missing


def test_notebook_exports_to_html(notebook_copy: Path):
    out = notebook_copy.parent / "tutorial.html"
    command = [sys.executable, "-m", "marimo", "export", "html", str(notebook_copy), "-o", str(out)]
    result = _run(command, cwd=notebook_copy.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    page = out.read_text(encoding="utf-8")
    missing = _titles_missing(page)
    assert not missing, f"section titles missing from the exported HTML: {missing}"
    # The graphs and plots are rendered pictures, not text summaries or error messages.
    # (each drawing is Graphviz's SVG, whose picture is the group id="graph0"; the page escapes the quotes)
    assert len(re.findall(r'id=\\*"graph0\\*"', page)) == GRAPHS
    assert page.count("data:image/png;base64") == PLOTS
    for failure in ("MarimoExceptionRaisedError", "AssertionError", "Traceback", "RenderError"):
        assert failure not in page


# Runs a Jupyter notebook's code cells in order in one namespace, as "Run All" in Jupyter does.
_RUN_IPYNB = """
import json, sys
cells = [c for c in json.load(open(sys.argv[1], encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
namespace = {}
for i, cell in enumerate(cells):
    exec(compile("".join(cell["source"]), f"<cell {i}>", "exec"), namespace)
print(len(cells), "code cells")
"""


def test_jupyter_copy_runs_top_to_bottom(notebook_copy: Path):
    out = notebook_copy.parent / "tutorial.ipynb"
    command = [sys.executable, "-m", "marimo", "export", "ipynb", str(notebook_copy), "-o", str(out)]
    result = _run(command, cwd=notebook_copy.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    run = _run([sys.executable, "-c", _RUN_IPYNB, str(out)], cwd=notebook_copy.parent)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    assert int(run.stdout.split()[0]) >= 25
