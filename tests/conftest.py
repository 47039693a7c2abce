"""Shared test set-up: no display for plots, a session that fails when a test dependency is missing,
and the two engines.

The tests need what ``pip install ".[all,test]"`` installs (the README's test command):
the ``test`` extra (PyTorch, sympy, hypothesis, micrograd...) and the ``all`` extra
(Graphviz, matplotlib, marimo, NumPy...). Rather than letting the tests that need a
missing one skip, and a run "pass" with whole files unrun, the session stops before
collecting anything and names what to install. The requirements are read from the
installed valuegrad's own metadata (`importlib.metadata`), so they never drift from
pyproject.toml.

The README's test command runs the whole suite twice at once, one pytest-xdist worker
per engine (``--dist each``): ``VALUEGRAD_PURE_PYTHON=0`` (the compiled engine, when
it was built) and ``VALUEGRAD_PURE_PYTHON=1`` (the same files as plain Python). A
failure says which engine it happened on. Tests marked ``engine_independent`` (static
checks, packaging, the docs build) cannot depend on the engine, so the pure-Python
worker skips them, saying why.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any, Callable, Iterator

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import valuegrad
from valuegrad import _engine_choice

# Plots in tests must never need a display.
os.environ.setdefault("MPLBACKEND", "Agg")

TEST_EXTRAS = ("test", "all")
"""The extras of valuegrad the test suite needs (README: pip install ".[all,test]")."""


def missing_requirements(
    requires: list[str],
    extras: tuple[str, ...] = TEST_EXTRAS,
    version: Callable[[str], str] = metadata.version,
) -> list[str]:
    """The requirements of valuegrad's ``extras`` (and of the extras they name) not met, with why.

    ``requires`` are the distribution's requirement strings (``metadata.requires``);
    ``version(name)`` gives an installed distribution's version, or raises
    `metadata.PackageNotFoundError`.
    """
    parsed = [Requirement(r) for r in requires]
    wanted, seen, missing = list(extras), set(), []
    while wanted:
        extra = wanted.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        for req in parsed:
            if req.marker is None or not req.marker.evaluate({"extra": extra}):
                continue
            if canonicalize_name(req.name) == "valuegrad":  # "all" = valuegrad[viz,plot,...]
                wanted.extend(sorted(req.extras))
                continue
            try:
                installed = version(req.name)
            except metadata.PackageNotFoundError:
                problem = f"{req.name}{req.specifier} (not installed)"
            else:
                if not req.specifier or req.specifier.contains(installed, prereleases=True):
                    continue
                problem = f"{req.name}{req.specifier} (installed: {installed})"
            if problem not in missing:
                missing.append(problem)
    return missing


def pytest_configure(config: pytest.Config) -> None:
    try:
        requires = metadata.requires("valuegrad") or []
    except metadata.PackageNotFoundError:
        raise pytest.UsageError(
            'valuegrad is not installed: the tests need pip install -e ".[all,test]"'
        ) from None
    missing = missing_requirements(requires)
    if missing:
        raise pytest.UsageError(
            "the tests need valuegrad's test and all extras, and these are missing: "
            + "; ".join(missing)
            + '. Install them with: pip install -e ".[all,test]"'
        )


def engine_name() -> str:
    """Which engine this test process runs, in words."""
    if valuegrad.NATIVE:
        return "compiled (valuegrad.NATIVE is True)"
    why = "VALUEGRAD_PURE_PYTHON=1" if _engine_choice.PURE_REQUESTED else "no compiled engine was built"
    return f"pure Python ({why})"


def pytest_report_header(config: pytest.Config) -> str:
    return f"valuegrad {valuegrad.__version__}, engine: {engine_name()}"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, in the controller: tell each worker whether every worker runs every test."""
    node.workerinput["valuegrad_dist_each"] = node.config.getoption("dist", "no") == "each"


def runs_the_second_engine(config: pytest.Config) -> bool:
    """True in the pure-Python worker of a run that has one worker per engine (``--dist each``)."""
    workerinput = getattr(config, "workerinput", {})
    return bool(workerinput.get("valuegrad_dist_each")) and _engine_choice.PURE_REQUESTED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not runs_the_second_engine(config):
        return
    # Skipped, not deselected: every --dist each worker must collect the same tests.
    skip = pytest.mark.skip(reason="engine-independent: run once, by the compiled engine's worker")
    for item in items:
        if item.get_closest_marker("engine_independent"):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    report: pytest.TestReport = outcome.get_result()
    if report.failed:
        report.sections.append(("valuegrad engine", engine_name()))
