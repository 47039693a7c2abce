"""The documentation: its examples run, its docstrings' examples run, and the site builds.

- Every ```python block of every page under docs/ runs, page by page, and shows what the
  page says it shows (the same checker as the README's, `tests/test_readme.py`).
- Every docstring example of every public module runs as a doctest.
- Every dotted name ``valuegrad.x.y`` written in code in the README or the docs exists.
- The README stays short, with no issue numbers, targets or commit hashes, and its
  relative links and picture point at files that exist.
- ``mkdocs build --strict`` succeeds (skipped only without the docs extra), and the built
  site is offline: no script, style, font, icon or frame comes from another host; every
  public name has its entry in the API reference; the tutorial page holds the notebook,
  and, in a headless Chromium (when Playwright and a Chromium are installed), shows it
  with every request staying on the site.
"""

from __future__ import annotations

import doctest
import functools
import html.parser
import http.server
import importlib
import os
import pkgutil
import re
import socketserver
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import valuegrad
from _browser import launch, sync_api
from test_readme import readme_blocks, run_block

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(p for p in DOCS.rglob("*.md"))
EXAMPLE_PAGES = [p for p in PAGES if "```python" in p.read_text(encoding="utf-8")]

# Modules with a page of their own in the API reference; each name in their __all__ must
# have an entry under valuegrad.<module>.<name>, unless valuegrad itself exports it.
API_MODULES = [
    "nn", "optim", "losses", "train", "data", "compiler", "viz", "plot", "examples", "micrograd.nn",
]  # fmt: skip


def _page_id(path: Path) -> str:
    return str(path.relative_to(DOCS))


# --- the pages' examples ------------------------------------------------------------


def test_the_docs_have_examples_to_check() -> None:
    blocks = [b for page in EXAMPLE_PAGES for b in readme_blocks(page.read_text(encoding="utf-8"))]
    assert len(EXAMPLE_PAGES) >= 8 and len(blocks) >= 15
    assert any(b.prints for b in blocks)


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=_page_id)
def test_page_examples_show_what_the_page_says(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = page.read_text(encoding="utf-8")
    for extra in ("numpy", "matplotlib", "pygraphviz"):  # the pages use every extra of "all"
        pytest.importorskip(extra)
    if "from micrograd" in text:
        pytest.importorskip("micrograd", reason='this page compares with micrograd: pip install ".[test]"')
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "docs"}
    for block in readme_blocks(text):
        output = run_block(block, namespace)
        lines = {line.strip() for line in output.splitlines()}
        for expected in block.prints:
            where = f"{_page_id(page)} line {block.line}"
            assert expected in lines, f"{where}: the block does not print {expected!r}"


# --- docstring examples -------------------------------------------------------------


def public_modules() -> list[str]:
    """valuegrad and every module under it whose name does not start with an underscore."""
    names = ["valuegrad"]
    for info in pkgutil.walk_packages(valuegrad.__path__, "valuegrad."):
        last = info.name.rsplit(".", 1)[-1]
        if not last.startswith("_"):  # also leaves out __main__, which runs the command line
            names.append(info.name)
    return names


def test_every_public_module_is_found() -> None:
    modules = public_modules()
    assert {"valuegrad", "valuegrad.nn", "valuegrad.optim", "valuegrad.viz"} <= set(modules)
    assert "valuegrad.__main__" not in modules


def test_docstring_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example that saves a file saves it here
    attempted = 0
    failures = []
    for name in public_modules():
        module = importlib.import_module(name)
        # A module compiled by Cython keeps the names it uses at C level out of its namespace:
        # its examples also see the package's names (Value, ...), as a reader of them would.
        compiled = not str(getattr(module, "__file__", "")).endswith(".py")
        extra = {k: v for k, v in vars(valuegrad).items() if not k.startswith("_")} if compiled else None
        result = doctest.testmod(module, extraglobs=extra, optionflags=doctest.ELLIPSIS, report=False)
        attempted += result.attempted
        if result.failed:
            failures.append(f"{name}: {result.failed} of {result.attempted} examples failed")
    assert not failures, "\n".join(failures) + "\n(run python -m doctest -v on the module to see them)"
    assert attempted >= 50, f"only {attempted} docstring examples found: did the finder lose modules?"


def test_the_reference_hooks_examples_run() -> None:
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        reference = importlib.import_module("reference")
    finally:
        sys.path.remove(str(DOCS / "hooks"))
    result = doctest.testmod(reference, report=False)
    assert result.attempted >= 1 and result.failed == 0
    fenced = reference.fence_doctests("Text.\n>>> 1 + 1\n2\n>>> x = 3\n\nMore text.\n\n    >>> y\n    4")
    assert fenced == (
        "Text.\n\n```pycon\n>>> 1 + 1\n2\n>>> x = 3\n```\n\n"
        "More text.\n\n    ```pycon\n    >>> y\n    4\n    ```"
    )


# --- names and links written in the docs ----------------------------------------------

FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)  # code blocks: their code runs
CODE_SPAN = re.compile(r"`([^`\n]+)`")
DOTTED = re.compile(r"\b(valuegrad(?:\.[A-Za-z_]\w*)+)")


def dotted_names(text: str) -> list[str]:
    """The ``valuegrad.x.y`` names written in inline code (`...`) in Markdown ``text``."""
    spans = CODE_SPAN.findall(FENCED.sub("", text))
    return [name for span in spans for name in DOTTED.findall(span)]


def _resolve(dotted: str) -> object:
    """The object ``dotted`` names: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def test_every_valuegrad_name_in_the_docs_exists() -> None:
    missing = []
    checked = set()
    for path in [README, *PAGES]:
        for name in dotted_names(path.read_text(encoding="utf-8")):
            if name in checked:
                continue
            checked.add(name)
            try:
                _resolve(name)
            except (ImportError, AttributeError):
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert len(checked) >= 15
    assert not missing, "names that do not exist:\n" + "\n".join(missing)


def test_readme_is_short_and_plain() -> None:
    data = README.read_bytes()
    assert len(data) <= 14 * 1024, f"README.md is {len(data)} bytes: at most 14 KB, the rest belongs in docs/"
    for path in [README, *PAGES]:
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        assert not re.search(r"\bissues? #?\d+|\| *Issue *\||\| *Met *\|", text, re.IGNORECASE), where
        words = re.findall(r"\b[0-9a-f]{7,40}\b", text)
        hashes = [h for h in words if re.search(r"[a-f]", h) and re.search(r"\d", h)]
        assert not hashes, f"{where} mentions commit hashes: {hashes}"


def test_readme_links_and_picture_exist() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t)]
    assert "docs/assets/neuron.svg" in local
    assert any(t.startswith("docs/guide/") for t in local) and "docs/benchmarks.md" in local
    assert [t for t in local if not (ROOT / t).is_file()] == []


def test_the_picture_is_what_valuegrad_graph_draws(tmp_path: Path) -> None:
    """docs/assets/neuron.svg is `valuegrad graph -o docs/assets/neuron.svg`: same boxes, same numbers."""
    pytest.importorskip("pygraphviz")
    from valuegrad.cli import main

    fresh = tmp_path / "neuron.svg"
    assert main(["graph", "-o", str(fresh)]) == 0

    def texts(svg: str) -> list[str]:
        return re.findall(r"<text[^>]*>([^<]*)</text>", svg)

    committed = texts((DOCS / "assets" / "neuron.svg").read_text(encoding="utf-8"))
    assert "data 0.7071" in committed
    assert committed == texts(fresh.read_text(encoding="utf-8")), (
        "docs/assets/neuron.svg is out of date: run valuegrad graph -o docs/assets/neuron.svg"
    )


def test_changelog_has_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    released = [v for v in versions if v.lower() != "unreleased"]
    assert released and released[0] == valuegrad.__version__, (versions, valuegrad.__version__)
    assert f"[{released[0]}]: " in text  # Keep a Changelog's link for each version


# --- the built site -----------------------------------------------------------------

REMOTE = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
FETCHED_LINKS = {"stylesheet", "preload", "modulepreload", "prefetch", "preconnect"}
FETCHED_LINKS |= {"icon", "apple-touch-icon", "manifest"}


class _Fetches(html.parser.HTMLParser):
    """What a browser fetches by itself when it shows a page: scripts, styles, fonts, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and set(a.get("rel", "").lower().split()) & FETCHED_LINKS:
            self.urls.append(a.get("href", ""))
        self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", a.get("style", ""))


def _parse(path: Path) -> _Fetches:
    parser = _Fetches()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason='the docs build needs the docs extra: pip install ".[docs]"')
    pytest.importorskip("marimo", reason='the Tutorial page runs the notebook: pip install ".[docs]"')
    out = tmp_path_factory.mktemp("docs") / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def nav_pages() -> list[str]:
    """The Markdown files mkdocs.yml's nav lists."""
    import yaml  # MkDocs' own dependency

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages: list[str] = []
    todo: list[Any] = [config["nav"]]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            pages.append(item)
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
    return pages


def built_page(site: Path, page: str) -> Path:
    """Where MkDocs writes a page: guide/values.md -> guide/values/index.html."""
    stem = page.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return site / f"{stem}.html"
    return site / stem / "index.html"


@pytest.mark.slow
@pytest.mark.engine_independent  # the site is the same whichever engine builds it
def test_every_page_is_built(site: Path) -> None:
    pages = nav_pages()
    assert len(pages) >= 25
    assert {p.relative_to(DOCS).as_posix() for p in PAGES} == set(pages), "the nav lists every page, once"
    for page in pages:
        assert built_page(site, page).is_file(), f"{page} was not built"


@pytest.mark.slow
@pytest.mark.engine_independent  # the site is the same whichever engine builds it
def test_the_site_loads_nothing_from_elsewhere(site: Path) -> None:
    remote = []
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 25
    for page in pages:
        remote += [f"{page.relative_to(site)}: {u}" for u in _parse(page).urls if REMOTE.match(u)]
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(r"@import\s+['\"]([^'\"]+)", text)
        remote += [f"{css.relative_to(site)}: {u}" for u in urls if REMOTE.match(u)]
    assert not remote, "fetched from another host:\n" + "\n".join(remote[:20])


@pytest.mark.slow
@pytest.mark.engine_independent  # the site is the same whichever engine builds it
def test_every_public_name_is_in_the_api_reference(site: Path) -> None:
    ids: set[str] = set()
    for page in (site / "api").rglob("*.html"):
        ids |= _parse(page).ids

    def documented(path: str) -> bool:
        return path in ids

    top = set(valuegrad.__all__)
    missing = [f"valuegrad.{n}" for n in sorted(top) if not documented(f"valuegrad.{n}")]
    for name in API_MODULES:
        module = importlib.import_module(f"valuegrad.{name}")
        for member in module.__all__:
            if member in top and getattr(valuegrad, member) is getattr(module, member):
                continue  # documented under valuegrad.<member>
            if not documented(f"valuegrad.{name}.{member}"):
                missing.append(f"valuegrad.{name}.{member}")
    assert not missing, "public names missing from the API reference:\n" + "\n".join(missing)
    assert "valuegrad.Value.tanh" in ids  # the methods made from the op table are there too


@pytest.mark.slow
@pytest.mark.engine_independent  # the site is the same whichever engine builds it
def test_docstring_examples_are_shown_as_code(site: Path) -> None:
    page = (site / "api" / "valuegrad" / "index.html").read_text(encoding="utf-8")
    assert '<span class="gp">&gt;&gt;&gt; </span>' in page  # a highlighted console prompt
    assert not re.search(r"<blockquote>\s*<blockquote>", page)  # not Markdown's quotes of ">>>"


@pytest.mark.slow
@pytest.mark.engine_independent  # the site is the same whichever engine builds it
def test_the_tutorial_page_holds_the_notebook(site: Path) -> None:
    tutorial = site / "tutorial"
    notebook = tutorial / "notebook.html"
    text = notebook.read_text(encoding="utf-8")
    assert "Backpropagation, spelled out, with valuegrad" in text  # the notebook's first cell, exported
    assert 'src="notebook.html"' in (tutorial / "index.html").read_text(encoding="utf-8")
    local = [u for u in _parse(notebook).urls if not REMOTE.match(u) and not u.startswith("data:")]
    assert any(u.startswith("marimo/assets/") and u.endswith(".js") for u in local)
    assert [u for u in local if not (tutorial / u).is_file()] == []
    assert not list((ROOT / "docs").rglob("*.html")), "the exported notebook is built, never committed"


# --- the built site in a real browser (skipped without Playwright and a Chromium) -----

@pytest.mark.slow
@pytest.mark.engine_independent  # the site is the same whichever engine builds it
def test_the_site_in_a_browser_fetches_nothing_from_elsewhere(site: Path) -> None:
    """Home, an API page and the tutorial, served locally: every request stays local, the notebook shows."""
    api = sync_api()
    handler = functools.partial(_QuietHandler, directory=str(site))
    with socketserver.TCPServer(("127.0.0.1", 0), handler) as httpd:
        base = f"http://127.0.0.1:{httpd.server_address[1]}/"
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        elsewhere: list[str] = []
        try:
            with api.sync_playwright() as p:
                browser = launch(p)
                page = browser.new_page()

                def route(r: Any) -> None:
                    if r.request.url.startswith((base, "data:", "blob:")):
                        r.continue_()
                    else:
                        elsewhere.append(r.request.url)
                        r.abort()

                page.route("**/*", route)
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(base, wait_until="networkidle")
                assert "Backpropagation you can see, check and trust" in page.inner_text("article")
                page.goto(base + "api/valuegrad/", wait_until="networkidle")
                assert page.locator('[id="valuegrad.Value.backward"]').count() == 1
                page.goto(base + "tutorial/", wait_until="networkidle")
                page.locator("iframe.tutorial-notebook").scroll_into_view_if_needed()
                notebook = page.frame_locator("iframe.tutorial-notebook")
                heading = notebook.locator("#root h1").first
                heading.wait_for(timeout=120_000)  # marimo renders the static notebook in the browser
                assert "Backpropagation, spelled out" in heading.inner_text()
                browser.close()
        finally:
            httpd.shutdown()
    assert elsewhere == [], f"requests to other hosts: {elsewhere[:10]}"
    assert errors == []


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
