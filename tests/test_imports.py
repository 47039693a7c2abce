"""``import valuegrad`` runs no exec or eval: the compiler execs the code it writes at compile time only.

Each check runs in a fresh interpreter that replaces ``builtins.exec`` and
``builtins.eval`` with spies before importing valuegrad. Python's import system
itself runs each module's code with ``exec`` (skipped: that is what importing is),
and standard-library modules that valuegrad imports may use them for their own
definitions (``functools`` and ``inspect`` build namedtuples with ``eval``): those
are attributed to the module whose top-level code is running, and only valuegrad's
own modules count.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import valuegrad

PACKAGE = str(Path(valuegrad.__file__).resolve().parent)

SPY = textwrap.dedent(
    """
    import builtins, json, sys

    calls = []
    real = {"exec": builtins.exec, "eval": builtins.eval}

    def spy(name):
        def call(*args, **kwargs):
            frame = sys._getframe(1)
            if not frame.f_code.co_filename.startswith("<frozen importlib"):
                # the module whose top-level code is running (innermost import)
                outer = frame
                while outer is not None and outer.f_code.co_name != "<module>":
                    outer = outer.f_back
                module = outer.f_globals.get("__name__", "?") if outer is not None else "?"
                calls.append([name, module, frame.f_code.co_filename, frame.f_lineno])
            return real[name](*args, **kwargs)
        return call

    builtins.exec, builtins.eval = spy("exec"), spy("eval")
    {imports}
    builtins.exec, builtins.eval = real["exec"], real["eval"]
    print(json.dumps(calls))
    """
)


def calls_during(imports: str) -> list[list]:
    code = SPY.replace("{imports}", imports)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_spy_sees_exec_and_eval():
    # the check itself works: a module that execs and evals at import is caught, and named
    calls = calls_during("import runpy; exec('x = 1'); eval('1 + 1')")
    assert [c[0] for c in calls if c[1] == "__main__"] == ["exec", "eval"]


def test_import_valuegrad_runs_no_exec_or_eval():
    calls = calls_during("import valuegrad, valuegrad.compiler, valuegrad.engine")
    # Called from valuegrad's own files: never.
    assert not [c for c in calls if str(Path(c[2]).resolve()).startswith(PACKAGE)], calls
    ours = [c for c in calls if c[1] == "valuegrad" or c[1].startswith("valuegrad.")]
    # Nor by a library on valuegrad's behalf while one of its modules loads (a dataclass would:
    # the standard library writes its methods with exec).
    assert not ours, ours
