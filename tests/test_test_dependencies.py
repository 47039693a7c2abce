"""The suite fails, not skips, when a test dependency is missing (tests/conftest.py), and no test file
hides behind a module-level skip of valuegrad's own modules or of an installed dependency."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from conftest import missing_requirements

TESTS = Path(__file__).resolve().parent

REQUIRES = [
    'torch==2.13.0; extra == "test"',
    'sympy>=1.12; extra == "test"',
    'micrograd==0.1.0; extra == "bench"',
    'graphviz>=0.20; extra == "viz"',
    'valuegrad[viz]; extra == "all"',
]


def versions(**installed: str):
    def version(name: str) -> str:
        try:
            return installed[name]
        except KeyError:
            raise metadata.PackageNotFoundError(name) from None

    return version


def test_missing_requirements_of_the_test_and_all_extras_are_named():
    everything = versions(torch="2.13.0+cpu", sympy="1.13", graphviz="0.21")
    assert missing_requirements(REQUIRES, version=everything) == []  # (micrograd: only in "bench")
    assert missing_requirements(REQUIRES, version=versions(torch="2.13.0", graphviz="0.21")) == [
        "sympy>=1.12 (not installed)"
    ]
    old = versions(torch="2.1.0", sympy="1.13")
    assert missing_requirements(REQUIRES, version=old) == [
        "torch==2.13.0 (installed: 2.1.0)",
        "graphviz>=0.20 (not installed)",  # through "all" = valuegrad[viz]
    ]


def test_the_installed_valuegrad_names_the_test_extra():
    requires = metadata.requires("valuegrad") or []
    assert missing_requirements(requires) == []
    assert missing_requirements(requires, version=versions()) != []  # nothing installed: all named
    assert any("torch" in r and 'extra == "test"' in r for r in requires)


def test_a_run_with_a_test_dependency_missing_fails_naming_it(tmp_path):
    # A fake distribution first on the path: importlib.metadata finds torch 1.0 instead of 2.13.0.
    fake = tmp_path / "site" / "torch-1.0.dist-info"
    fake.mkdir(parents=True)
    (fake / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 1.0\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TESTS / "test_data.py")],
        env={**_environment(), "PYTHONPATH": str(tmp_path / "site")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "torch==2.13.0 (installed: 1.0)" in result.stderr
    assert "passed" not in result.stdout and "skipped" not in result.stdout


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _pytest_calls(node: ast.AST, names: tuple[str, ...]) -> list[ast.Call]:
    return [
        call
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr in names
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "pytest"
    ]


def test_no_test_file_skips_itself_at_import():
    """One bad import must fail the run, not turn a file of tests into one skip."""
    module_level, own_modules = {}, {}
    for path in sorted(TESTS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        at_import = [
            ast.unparse(call)
            for node in tree.body
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            for call in _pytest_calls(node, ("importorskip", "skip"))
        ]
        if at_import:
            module_level[path.name] = at_import
        own = [
            ast.unparse(call)
            for call in _pytest_calls(tree, ("importorskip",))
            if call.args
            and isinstance(call.args[0], ast.Constant)
            and str(call.args[0].value).split(".")[0] == "valuegrad"
        ]
        if own:
            own_modules[path.name] = own
    assert module_level == {}
    assert own_modules == {}  # valuegrad's own modules are imported, never skipped for
