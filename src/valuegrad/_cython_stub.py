"""Stand-ins for the `cython` names the engine files use, when Cython is not installed.

Cython is a build requirement only: the engine files (`value.py`, `backward.py`)
are plain Python, and Cython's decorators on them are no-ops when they run as such.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")

compiled = False  # True inside a module Cython compiled


def cclass(cls: T) -> T:
    """Cython: compile this class as an extension type (a C struct per instance)."""
    return cls


def no_gc(cls: T) -> T:
    """Cython: instances hold no reference cycles, so the cyclic garbage collector need not track them."""
    return cls


Py_ssize_t = int
