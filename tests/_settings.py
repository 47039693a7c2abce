"""Hypothesis settings shared by the property tests: the same examples on every run, scalable.

The examples are derandomized (the same on every run, so CI is stable); set
``VALUEGRAD_HYPOTHESIS_SEED=<int>`` (or ``random``) to explore new examples and
``VALUEGRAD_HYPOTHESIS_SCALE=20`` for twenty times as many.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from hypothesis import HealthCheck, seed, settings


def examples(max_examples: int) -> settings:
    """Settings for a property test that tries ``max_examples`` examples (times the scale)."""
    chosen = os.environ.get("VALUEGRAD_HYPOTHESIS_SEED")
    scale = float(os.environ.get("VALUEGRAD_HYPOTHESIS_SCALE", "1"))
    return settings(
        max_examples=max(1, int(max_examples * scale)),
        deadline=None,
        derandomize=chosen is None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def maybe_seed(test: Callable[..., Any]) -> Callable[..., Any]:
    """The chosen seed (``VALUEGRAD_HYPOTHESIS_SEED``), printed so a failure can be replayed."""
    chosen = os.environ.get("VALUEGRAD_HYPOTHESIS_SEED")
    if chosen is None:
        return test
    value = int.from_bytes(os.urandom(4), "big") if chosen == "random" else int(chosen)
    print(f"hypothesis seed for {test.__name__}: {value}")
    return seed(value)(test)
