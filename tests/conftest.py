"""Shared test set-up: no display for plots, and a session that fails when a test dependency is missing.

The tests need what ``pip install ".[all,test]"`` installs (the README's test command):
the ``test`` extra (PyTorch, sympy, hypothesis, micrograd...) and the ``all`` extra
(Graphviz, matplotlib, marimo, NumPy...). Rather than letting the tests that need a
missing one skip, and a run "pass" with whole files unrun, the session stops before
collecting anything and names what to install. The requirements are read from the
installed valuegrad's own metadata (`importlib.metadata`), so they never drift from
pyproject.toml.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Callable

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
