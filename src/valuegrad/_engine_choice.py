"""Which engine runs: the engine files compiled by Cython, or the same files as plain Python.

`valuegrad.value` and `valuegrad.backward` are plain Python. When valuegrad was
installed with a C compiler present, each also exists compiled (a ``.so`` or
``.pyd`` beside the ``.py``), and Python imports the compiled one. Setting the
environment variable ``VALUEGRAD_PURE_PYTHON=1`` before importing valuegrad loads
the ``.py`` files instead. The two are never mixed: if one compiled file is
missing, both run as Python.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

ENGINE_MODULES = ("value", "backward")
"""The modules Cython compiles, in import order."""

HERE = os.path.dirname(os.path.realpath(__file__))  # (os.path: pathlib would add 9 ms to the import)
PURE_REQUESTED = os.environ.get("VALUEGRAD_PURE_PYTHON", "").strip() not in ("", "0")


def compiled_file(name: str) -> str | None:
    """The path of the compiled extension of engine module ``name``, if one was built."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(HERE, f"{name}{suffix}")
        if os.path.exists(path):
            return path
    return None


def _load_source(name: str) -> None:
    full = f"{__package__}.{name}"
    if full in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(full, os.path.join(HERE, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[full]
        raise
    setattr(sys.modules[__package__], name, module)


def load_engine() -> bool:
    """Load the engine modules; True when the compiled ones run."""
    native = not PURE_REQUESTED and all(compiled_file(name) for name in ENGINE_MODULES)
    if not native:
        for name in ENGINE_MODULES:
            _load_source(name)
    return native


NATIVE: bool = load_engine()
"""True when the compiled (Cython) engine runs, False for the plain-Python engine."""
