"""MkDocs hook: the Tutorial page's notebook, exported from ``notebooks/tutorial.py`` at build time.

``marimo export html`` runs the notebook and writes a static page whose scripts, styles
and fonts come from a CDN. The hook points them at a copy of the same files from the
installed marimo package instead (``tutorial/marimo/`` in the site), so the page works
with no network. The exported page is never committed: every build makes it afresh,
and a notebook that fails to run fails the build.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

NOTEBOOK = Path("notebooks") / "tutorial.py"
PAGE = "tutorial/notebook.html"  # beside the Tutorial page (tutorial/index.html), which frames it
ASSETS = "marimo"  # relative to the page: tutorial/marimo/
CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/@marimo-team/frontend@[^/\"']+/dist")
# What a browser would fetch from elsewhere: a script, a stylesheet, a font, an icon or a frame.
REMOTE = re.compile(r"<(?:script|link|iframe|img)\b[^>]*\b(?:src|href)=[\"']?(?:https?:)?//", re.IGNORECASE)


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def _static_dir() -> Path:
    try:
        import marimo
    except ImportError as e:  # pragma: no cover - the docs extra brings marimo
        raise PluginError('the Tutorial page needs marimo: pip install ".[docs]"') from e
    static = Path(marimo.__file__).parent / "_static"
    if not (static / "assets").is_dir():
        raise PluginError(f"marimo's frontend files are missing from {static}")
    return static


def export_tutorial(notebook: Path) -> str:
    """The notebook as one static HTML page that loads marimo's frontend from ``marimo/``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tutorial.html"
        result = subprocess.run(
            [sys.executable, "-m", "marimo", "export", "html", str(notebook), "-o", str(out), "--force"],
            capture_output=True,
            text=True,
            cwd=tmp,  # anything the notebook writes stays out of the repository
        )
        if result.returncode != 0 or not out.exists():
            raise PluginError(
                f"marimo export html {notebook} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        html = out.read_text(encoding="utf-8")
    if not CDN.search(html):
        raise PluginError("marimo's export no longer loads its frontend from the CDN this hook expects")
    html = CDN.sub(ASSETS, html)
    remote = REMOTE.search(html)
    if remote:
        raise PluginError(f"the exported tutorial still loads something remote: {remote.group(0)!r}")
    return html


def on_files(files: Files, config: Any) -> Files:
    html = export_tutorial(_root(config) / NOTEBOOK)
    files.append(File.generated(config, PAGE, content=html))
    return files


def on_post_build(config: Any) -> None:
    static = _static_dir()
    target = Path(config.site_dir) / Path(PAGE).parent / ASSETS
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(static, target, ignore=shutil.ignore_patterns("index.html", "*.md"))
