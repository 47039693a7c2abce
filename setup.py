"""Build: compile the engine files with Cython when a C compiler is present.

`src/valuegrad/value.py` and `src/valuegrad/backward.py` are plain Python; their
`.pxd` files give Cython the C types. Without a working C compiler (or without
Cython) the build still succeeds and valuegrad runs the same files as Python
(``valuegrad.NATIVE`` is False). Everything else is in pyproject.toml.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

ENGINE = ["value", "backward"]  # valuegrad._engine_choice.ENGINE_MODULES


class OptionalBuildExt(build_ext):
    """Build the extensions if possible; otherwise say why and install the pure-Python engine."""

    skipped = False

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler, no Python headers, ...
            self._skip(error)

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        if self.skipped:
            return
        try:
            super().build_extension(ext)
        except Exception as error:
            self._skip(error)

    def _skip(self, error: BaseException) -> None:
        self.skipped = True
        print(
            f"valuegrad: the compiled engine was not built ({type(error).__name__}: {error}); "
            "installing the pure-Python engine, which gives the same results more slowly.",
            file=sys.stderr,
        )
        for ext in self.extensions:  # never leave half of the engine compiled
            path = self.get_ext_fullpath(ext.name)
            if os.path.exists(path):
                os.remove(path)


def extensions() -> list:
    if os.environ.get("VALUEGRAD_PURE_PYTHON_BUILD", "").strip() not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("valuegrad: Cython is not installed; installing the pure-Python engine.", file=sys.stderr)
        return []
    from setuptools import Extension

    modules = [Extension(f"valuegrad.{name}", [f"src/valuegrad/{name}.py"]) for name in ENGINE]
    return cythonize(
        modules,
        compiler_directives={"language_level": 3, "embedsignature": True},
        quiet=True,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
