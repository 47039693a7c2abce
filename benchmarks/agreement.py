"""Checks that the engines computed the same thing: a fast wrong engine must fail the benchmark."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

LOSS_TOLERANCE = 1e-6


class DisagreementError(AssertionError):
    """Two engines that should compute the same numbers did not."""


def check_loss_histories(
    histories: Mapping[str, Sequence[float]], tolerance: float = LOSS_TOLERANCE, reference: str | None = None
) -> dict[str, Any]:
    """Check every loss history against ``reference`` (default: the longest) to ``tolerance``.

    Histories of different lengths are compared over their common first steps
    (a run of 30 steps against one of 100). Raises `DisagreementError` naming the
    first step where one differs, or any empty or non-finite history. Returns a
    summary: reference, tolerance, largest absolute difference, steps compared.

    >>> check_loss_histories({"a": [1.0, 0.5], "b": [1.0, 0.5 + 1e-9]})["ok"]
    True
    """
    if len(histories) < 2:
        raise DisagreementError(f"need at least two loss histories to compare, got {sorted(histories)}")
    for name, h in histories.items():
        if len(h) == 0:
            raise DisagreementError(f"{name}: empty loss history")
        bad = [k for k, v in enumerate(h) if not math.isfinite(v)]
        if bad:
            raise DisagreementError(f"{name}: non-finite loss {h[bad[0]]!r} at step {bad[0]}")
    if reference is None:
        reference = max(histories, key=lambda name: len(histories[name]))
    if reference not in histories:
        raise DisagreementError(f"reference {reference!r} is not one of {sorted(histories)}")
    ref = histories[reference]
    worst = 0.0
    compared = {}
    for name, h in histories.items():
        n = min(len(h), len(ref))
        for k in range(n):
            diff = abs(h[k] - ref[k])
            if not diff <= tolerance:
                raise DisagreementError(
                    f"loss histories disagree at step {k}: {name} has {h[k]!r}, {reference} has {ref[k]!r} "
                    f"(difference {diff:.3g} > tolerance {tolerance:g})"
                )
            worst = max(worst, diff)
        compared[name] = n
    return {
        "ok": True,
        "reference": reference,
        "tolerance": tolerance,
        "max_abs_diff": worst,
        "steps_compared": compared,
    }


def check_same_results(
    results: Mapping[str, Mapping[str, Any]], keys: Sequence[str], rel: float = 1e-9
) -> None:
    """Check that the engines' results agree on ``keys`` (numbers or lists of numbers) to ``rel``.

    >>> check_same_results({"a": {"v": 1.0}, "b": {"v": 1.0 + 1e-12}}, ["v"])
    """
    names = list(results)
    first = names[0]
    for key in keys:
        want = results[first][key]
        for name in names[1:]:
            got = results[name][key]
            pairs = zip(want, got) if isinstance(want, list) else [(want, got)]
            if isinstance(want, list) and len(want) != len(got):
                raise DisagreementError(f"{key}: {first} has {len(want)} numbers, {name} has {len(got)}")
            for a, b in pairs:
                if not math.isclose(a, b, rel_tol=rel, abs_tol=rel):
                    raise DisagreementError(f"{key}: {first} computed {a!r}, {name} computed {b!r}")


def _bits(value: Any) -> Any:
    """``value`` with every float replaced by its exact hex form (so -0.0 differs from 0.0)."""
    if isinstance(value, float):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [_bits(v) for v in value]
    return value


def check_identical(results: Mapping[str, Any], what: str) -> int:
    """Check that every result in ``results`` is the same bit for bit; return how many were compared.

    Sequences of different lengths are compared over their common first items (a
    run of 30 steps against one of 100). Raises `DisagreementError` naming the
    first two that differ.

    >>> check_identical({"native": [0.5, 0.25], "pure": [0.5, 0.25, 0.125]}, "losses")
    2
    >>> try:
    ...     check_identical({"native": 0.1 + 0.2, "pure": 0.3}, "value")
    ... except DisagreementError as error:
    ...     print(error)
    value: native gave 0.30000000000000004, pure gave 0.3
    """
    names = list(results)
    if not names:
        return 0
    first = results[names[0]]
    for name in names[1:]:
        got = results[name]
        a, b = first, got
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            n = min(len(a), len(b))
            a, b = list(a[:n]), list(b[:n])
        if _bits(a) != _bits(b):
            if isinstance(a, list) and isinstance(b, list):
                k = next(i for i, (x, y) in enumerate(zip(a, b)) if _bits(x) != _bits(y))
                raise DisagreementError(f"{what}: {names[0]} gave {a[k]!r} at item {k}, {name} gave {b[k]!r}")
            raise DisagreementError(f"{what}: {names[0]} gave {a!r}, {name} gave {b!r}")
    return len(names)
