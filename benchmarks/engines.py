"""The engines the suite compares, how each one's worker process is started, and the check that
every valuegrad row measured the engine it is labelled with.

valuegrad runs in three rows:

- ``native``: the engine files compiled by Cython (``valuegrad.NATIVE`` is True);
- ``pure``: the same files as plain Python, in a worker started with ``VALUEGRAD_PURE_PYTHON=1``;
- ``compiled``: ``valuegrad.compile`` (the demo only), traced by the engine the environment gives.

Every worker that imports valuegrad reports ``valuegrad.NATIVE``; the runner refuses
a run whose ``native`` row did not run natively (a plain-Python install, or
``VALUEGRAD_PURE_PYTHON=1`` set in the caller's environment) rather than mislabel it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

PURE_VARIABLE = "VALUEGRAD_PURE_PYTHON"
VALUEGRAD_ENGINES = ("native", "pure", "compiled")
ENGINES = (*VALUEGRAD_ENGINES, "micrograd", "torch")
ALIASES = {"valuegrad": VALUEGRAD_ENGINES}
LABELS = {
    "native": "valuegrad native",
    "pure": "valuegrad pure",
    "compiled": "valuegrad compiled",
    "micrograd": "micrograd",
    "torch": "PyTorch",
}
SCALAR_ENGINES = ("native", "pure", "micrograd")
"""The engines that build a graph of scalar Values (the same code builds it for each)."""

EXPECTED_NATIVE: dict[str, bool] = {"native": True, "pure": False}
"""What ``valuegrad.NATIVE`` must be in a worker of each row (the compiled row records it)."""


class EngineMismatchError(RuntimeError):
    """A valuegrad row would measure, or measured, another engine than its label says."""


def module_of(engine: str) -> str:
    """The module whose installation an engine needs."""
    return "valuegrad" if engine in VALUEGRAD_ENGINES else engine


def expand(names: list[str]) -> list[str]:
    """Engine names from the command line, ``valuegrad`` standing for its three rows, in `ENGINES` order."""
    wanted = {e for name in names for e in ALIASES.get(name, (name,))}
    return [e for e in ENGINES if e in wanted]


def valuegrad_source() -> Path | None:
    """The ``src`` folder of this checkout, if valuegrad is not importable without it.

    Workers import the valuegrad this Python has installed (an editable install is
    this checkout; a ``pip install .`` copy has its compiled engine beside it). Only
    when none is installed do they import this checkout's ``src/valuegrad``.
    """
    src = ROOT / "src"
    if importlib.util.find_spec("valuegrad") is not None or not (src / "valuegrad").is_dir():
        return None
    return src


def worker_env(engine: str | None = None) -> dict[str, str]:
    """The environment of a worker process for ``engine``.

    ``pure`` gets ``VALUEGRAD_PURE_PYTHON=1``; every other engine inherits the
    caller's environment as it is (so a ``VALUEGRAD_PURE_PYTHON=1`` set by the
    caller is seen, and refused, by the native row's check). This checkout's
    ``benchmarks`` package is importable, and its ``src`` when valuegrad is not installed.
    """
    env = dict(os.environ)
    paths = [str(ROOT)]
    src = valuegrad_source()
    if src is not None:
        paths.append(str(src))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    if engine == "pure":
        env[PURE_VARIABLE] = "1"
    return env


PROBE = (
    "import json, valuegrad; "
    "print(json.dumps({'native': valuegrad.NATIVE, 'file': valuegrad.__file__, "
    "'version': getattr(valuegrad, '__version__', 'unknown')}))"
)


def probe(engine: str) -> dict[str, Any]:
    """``valuegrad.NATIVE``, file and version in a fresh worker environment of ``engine``."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=worker_env(engine), cwd=ROOT
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise EngineMismatchError(f"{LABELS[engine]}: `import valuegrad` failed in a worker:\n{tail}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _refusal(engine: str, found: dict[str, Any] | None, what: str) -> str:
    where = f"; valuegrad from {Path(found['file']).parent}" if found and found.get("file") else ""
    if engine == "native":
        cause = (
            f"{PURE_VARIABLE}={os.environ[PURE_VARIABLE]} is set in this environment and forces the "
            f"plain-Python engine: unset it (the runner sets it itself for the pure row)"
            if os.environ.get(PURE_VARIABLE, "").strip() not in ("", "0")
            else "valuegrad's compiled engine is not built here: install valuegrad with a C compiler "
            "present (`pip install .`), or run `python setup.py build_ext --inplace` in an editable checkout"
        )
        return (
            f"refusing to run: {what} the plain-Python engine (valuegrad.NATIVE is False{where}), "
            f"so the '{LABELS['native']}' row would be mislabelled. {cause}; or leave the row out: "
            f"--engines pure compiled micrograd torch."
        )
    return (
        f"refusing to run: {what} the compiled engine although {PURE_VARIABLE}=1 was set "
        f"(valuegrad.NATIVE is True{where}), so the '{LABELS['pure']}' row would be mislabelled. "
        f"This valuegrad does not honour {PURE_VARIABLE}; leave the row out: "
        "--engines native compiled micrograd torch."
    )


def check_engines(engines: list[str]) -> dict[str, dict[str, Any]]:
    """Probe each selected valuegrad row's environment before measuring anything.

    Returns what each probe found. Raises `EngineMismatchError` with what to do
    when the native row would run the plain-Python engine, or the pure row the
    compiled one.
    """
    found = {}
    for engine in engines:
        if engine not in VALUEGRAD_ENGINES:
            continue
        same_env = "native" if engine == "compiled" and "native" in found else engine  # the same environment
        found[engine] = found[same_env] if same_env != engine else probe(engine)
        want = EXPECTED_NATIVE.get(engine)
        if want is not None and found[engine]["native"] is not want:
            raise EngineMismatchError(_refusal(engine, found[engine], "`import valuegrad` here loads"))
    return found


def check_result(engine: str, result: dict[str, Any]) -> None:
    """Raise `EngineMismatchError` if a worker of ``engine`` ran another engine than its label."""
    want = EXPECTED_NATIVE.get(engine)
    if want is None:
        return
    got = result.get("valuegrad_native")
    if got is None:
        raise EngineMismatchError(
            f"refusing the run: a {result.get('task', '')} worker of the '{LABELS[engine]}' row did not "
            "report which engine ran (valuegrad.NATIVE)"
        )
    if got is not want:
        found = {"file": result.get("valuegrad_file")}
        task = result.get("task", "a")
        raise EngineMismatchError(_refusal(engine, found, f"the {task} worker of this row ran"))
