"""Run one measurement in this (fresh) process: ``python -m benchmarks.worker '<json spec>'``.

The spec names the task (see `benchmarks.workloads.TASKS`); the result is printed
as one JSON line starting with ``RESULT `` (anything else on stdout is ignored).
The result also says which valuegrad engine ran (``valuegrad_native``: the value
of ``valuegrad.NATIVE``, or None when the task did not import valuegrad).
"""

from __future__ import annotations

import json
import sys

from .workloads import TASKS

PREFIX = "RESULT "


def engine_record() -> dict[str, object]:
    """Which valuegrad engine this process ran, if it imported valuegrad at all."""
    valuegrad = sys.modules.get("valuegrad")
    if valuegrad is None:
        return {"valuegrad_native": None, "valuegrad_file": None}
    return {"valuegrad_native": bool(valuegrad.NATIVE), "valuegrad_file": valuegrad.__file__}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.worker '<json spec>'", file=sys.stderr)
        return 2
    spec = json.loads(args[0])
    task = TASKS.get(spec.get("task"))
    if task is None:
        print(f"unknown task {spec.get('task')!r}; known: {sorted(TASKS)}", file=sys.stderr)
        return 2
    result = task(spec) | {"task": spec["task"]} | engine_record()
    print(PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
