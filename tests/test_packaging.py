"""A release you could publish: the sdist and the wheel build, pass twine, install and run.

``python -m build`` makes both (the wheel from the sdist, so the sdist must hold
everything the build needs); ``twine check --strict`` checks their metadata and the
README as PyPI would render it; the wheel goes into a fresh virtual environment, with
nothing else, and runs ``valuegrad demo``. The sdist also carries what the tests, the
docs and the benchmarks need. Whatever the build backend produces (a pure-Python or a
platform wheel), the checks are the same.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import valuegrad

if sys.version_info >= (3, 11):
    import tomllib
else:  # the test extra installs tomli on Python 3.10
    import tomli as tomllib
ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

pytestmark = [pytest.mark.slow, pytest.mark.engine_independent]


def run(*args: str | Path, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # Without PYTHONPATH: a fresh venv must import its installed copy, never a checkout's src/.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _tracked_files() -> list[str] | None:
    """The repository's files, as git knows them; None outside a git checkout."""
    if shutil.which("git") is None:
        return None
    result = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.split() if result.returncode == 0 else None


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build", reason='the packaging check needs build: pip install ".[test]"')
    out = tmp_path_factory.mktemp("dist")
    tree = ROOT
    tracked = _tracked_files()
    if tracked is not None:
        # Build from a copy of the repository's files: setuptools also packs whatever an earlier
        # build listed in src/*.egg-info, which would hide a gap in MANIFEST.in.
        tree = tmp_path_factory.mktemp("tree")
        for name in tracked:
            if (ROOT / name).is_file():
                (tree / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, tree / name)
    # With no --sdist/--wheel, build makes the sdist, then the wheel from the sdist: the wheel
    # build fails if the sdist lacks anything the build needs.
    run(sys.executable, "-m", "build", "--outdir", out, tree)
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("*.whl")
    return wheel


def _sdist(dist: Path) -> Path:
    (sdist,) = dist.glob("*.tar.gz")
    return sdist


def test_the_version_lives_in_one_place() -> None:
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "valuegrad.__version__"}
    assert importlib.metadata.version("valuegrad") == valuegrad.__version__


def test_twine_check_strict(dist: Path) -> None:
    pytest.importorskip("twine", reason='the packaging check needs twine: pip install ".[test]"')
    result = run(sys.executable, "-m", "twine", "check", "--strict", _sdist(dist), _wheel(dist))
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_wheel_metadata(dist: Path) -> None:
    with zipfile.ZipFile(_wheel(dist)) as whl:
        names = whl.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(whl.read(metadata_name).decode())
        entry_points = whl.read(metadata_name.replace("METADATA", "entry_points.txt")).decode()
    assert metadata["Name"] == "valuegrad" and metadata["Version"] == valuegrad.__version__
    assert metadata["License-Expression"] == "MIT"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "Backpropagation you can see, check and trust" in metadata.get_payload()
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert urls == PYPROJECT["project"]["urls"]
    assert {"all", "viz", "test", "docs"} <= set(metadata.get_all("Provides-Extra"))
    assert "valuegrad = valuegrad.cli:main" in entry_points
    assert "valuegrad/py.typed" in names and "valuegrad/__init__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/", "notebooks/"))]


def test_the_sdist_holds_what_the_tests_and_docs_need(dist: Path) -> None:
    with tarfile.open(_sdist(dist)) as tar:
        top = tar.getnames()[0].split("/")[0]
        names = {n.removeprefix(f"{top}/") for n in tar.getnames()}
    needed = {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "CONTRIBUTING.md", "mkdocs.yml"}
    needed |= {"notebooks/tutorial.py", "docs/index.md", "docs/hooks/tutorial.py", "docs/assets/neuron.svg"}
    needed |= {"tests/conftest.py", "tests/test_docs.py", "benchmarks/runner.py", "src/valuegrad/__init__.py"}
    assert needed <= names, sorted(needed - names)
    tracked = _tracked_files()
    if tracked is not None:  # every file of the repository but git's own
        missing = [f for f in tracked if f not in names and not f.startswith(".git")]
        assert missing == [], f"files of the repository missing from the sdist: {missing}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("site/")]


def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_demo(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = bindir / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", _wheel(dist))
    versions = "import importlib.metadata as m, valuegrad as v; print(v.__version__, m.version('valuegrad'))"
    shown = run(python, "-c", versions)
    assert shown.stdout.split() == [valuegrad.__version__] * 2
    where = run(python, "-c", "import valuegrad; print(valuegrad.__file__)").stdout.strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where  # the installed copy, not src/
    work = tmp_path / "work"
    work.mkdir()
    demo = run(bindir / "valuegrad", "demo", cwd=work)
    assert "iteration  1 - loss: 6.24427" in demo.stdout
    assert "iteration 32 - loss: 0.11646" in demo.stdout
    assert "dL/da = 6" in demo.stdout
