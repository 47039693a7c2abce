"""Everything observable about Values and models: hostile-input tests compare it before and after."""

from __future__ import annotations

from typing import Any

from valuegrad import Value, topological_order


def state(*values: Value) -> list[tuple]:
    """Everything observable about some Values and the graphs below them."""
    out = []
    for root in values:
        for v in topological_order(root):
            out.append((id(v), repr(v.data), repr(v.grad), v.label, v.op, tuple(id(c) for c in v.children)))
    return out


def params(model: Any) -> list[str]:
    """Every parameter's data and grad, exactly."""
    return [repr(p.data) + "/" + repr(p.grad) for p in model.parameters()]
