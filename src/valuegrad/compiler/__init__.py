"""The compiler: trace a scalar graph once, then run it as generated code (``valuegrad.compile``).

A training step builds the same graph again and again; only the numbers change.
`compile` calls your function once on Values, records the graph as a flat tape
(nodes in topological order: op, operand indices, constants), and turns the tape
into code generated from the op table's own formulas (`valuegrad.ops`):

- ``mode="python"``: one straight-line Python function for forward and one for
  backward, a line per op (read it in `Compiled.source`: the chain rule, spelled out);
- ``mode="numpy"``: the same lines run over NumPy arrays of shape ``(batch,)``:
  one pass evaluates a whole batch ("batch lanes");
- ``mode="level"``: the nodes of one op at the same depth of the graph are
  independent, so each such group runs as one NumPy call over gathered operands
  (a 16x16 layer is one multiply of 256 lanes), forward and backward. A chain of
  additions (``sum(...)``) runs as one add per link over all such chains, in the
  same order as eagerly; an operand that repeats (a weight read by every sample)
  is read once and broadcast, and its gradient is summed with ``einsum``. Gradient
  scatters are slices, ``g[idx] +=`` for distinct targets, or ``np.bincount``
  (never ``np.add.at``). Also over batch lanes.
- ``mode="auto"`` (default): ``"level"`` when NumPy is installed and the graph has
  1,000 ops or more in groups of 100 or more on average (a training step over a
  batch: micrograd's demo is 65,077 ops in 16 groups), else straight-line code
  for numbers; ``compiled.mode`` says which. Array inputs always run the level plan.

>>> from valuegrad import Value
>>> w = Value(-3.0, label="w")
>>> f = compile(lambda x: (x * w).tanh(), [2.0], params=[w], mode="python")
>>> round(f([0.5]), 6)
-0.905148
>>> [round(d, 6) for d in f.backward()]   # d f/dx per input; w.grad receives d f/dw
[-0.54212]
>>> round(w.grad, 6)
0.090353

Rules and limits:

- The tape is valid while the graph's shape does not depend on the data. A Python
  ``if x.data > 0`` inside ``fn`` is frozen at the traced branch; ``check=True``
  re-traces at every call and raises `GraphChangedError` if the graph changed.
- ``params`` are leaf Values read at every forward (their current ``.data``) whose
  ``.grad`` receives ``+=`` d output/d param at backward, as eager `Value.backward`
  does (summed over batch lanes), so optimizers work unchanged. Any other leaf that
  ``fn`` uses and that is not an input is a constant, baked in at its traced value.
- Compiled code computes in float64 (mode "python" keeps the engine's own number
  functions, so it reproduces eager valuegrad bit for bit).
- Domain errors are never silent NaN: NumPy runs under
  ``errstate(divide="raise", invalid="raise")`` (overflow gives ``inf``, as eagerly),
  and any numerical failure (log of a non-positive number, 0/0, division by zero,
  ``(-8) ** 0.5``) raises `DomainError` (a ValueError) naming the generated line.
- Straight-line code is one Python line per op: CPython compiles it at roughly a
  second per 20,000 ops, so large graphs belong to mode "level" ("auto" picks it).
- Generated code comes only from the op table's formulas, with ``x``, ``y``, ``k``
  and ``out`` replaced by variable names or numbers. Labels never reach code: a name is a label
  reduced to ``[A-Za-z_][A-Za-z0-9_]*`` (else ``v17``), and a label shown in a
  comment is escaped with ``repr`` (no line breaks).

The package, one module per job:

- `valuegrad.compiler.tape`: tracing a function into a `Tape` (nodes in
  topological order, what kind each is, operands, constants);
- `valuegrad.compiler.naming`: identifiers and comments from labels, number literals;
- `valuegrad.compiler.lowering`: a row of the op table as code (its formulas with
  operand expressions in place), and the functions that code calls;
- `valuegrad.compiler.straight_line`: the code of modes "python" and "numpy";
- `valuegrad.compiler.level_plan`: grouping nodes by depth and op (mode "level");
- `valuegrad.compiler.level_code`: the code of mode "level";
- `valuegrad.compiler.runtime`: `Compiled`, which runs the code, and `DomainError`;
- here: `compile`, the entry point.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any, Callable, Sequence

from ..value import Value
from .level_plan import Group, plan_levels
from .runtime import Compiled, DomainError, is_array
from .tape import GraphChangedError, NodeKind, Tape, trace

__all__ = ["compile", "Compiled", "Tape", "NodeKind", "Group", "GraphChangedError", "DomainError", "MODES"]

MODES = ("auto", "python", "numpy", "level")
"""The values of ``compile(..., mode=...)``."""

# "auto" picks the level plan from this many ops on, when its groups are this wide on
# average (measured: below that, one Python line per op is faster than NumPy calls).
_AUTO_LEVEL_OPS = 1000
_AUTO_LEVEL_WIDTH = 100


def compile(
    fn: Callable[..., Value],
    example_inputs: Sequence[Any] = (),
    params: Sequence[Value] | None = None,
    *,
    mode: str = "auto",
    check: bool = False,
) -> Compiled:
    """Trace ``fn`` once on ``example_inputs`` and compile its graph.

    ``fn`` takes one Value per example input (numbers or Values; a Value's label
    names the input in the generated code) and returns a Value. ``params`` are leaf
    Values ``fn`` uses (for instance ``model.parameters()``): their current
    ``.data`` is read at every forward and their ``.grad`` receives the gradient at
    backward. Every other leaf is a constant. ``mode`` is one of `MODES` (see the
    module docstring); ``check=True`` re-traces at every forward and raises
    `GraphChangedError` if the graph differs (for functions that branch on data).

    >>> from valuegrad import Value
    >>> a = Value(2.0, label="a")
    >>> f = compile(lambda b: a * b + b, [-3.0], params=[a], mode="python")
    >>> f([-3.0]), f([4.0])
    (-9.0, 12.0)
    >>> f.backward(), a.grad     # d/db = a + 1;  d/da = b (from the last forward)
    ([3.0], 4.0)
    """
    started = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    example = list(example_inputs)
    data: list[Any] = []
    labels: list[str] = []
    for k, x in enumerate(example):
        if isinstance(x, Value):
            data.append(x.data)
            labels.append(x.label)
        elif (
            isinstance(x, bool)
            or is_array(x)
            or (not isinstance(x, (int, float)) and not hasattr(x, "__float__"))
        ):
            raise TypeError(
                f"example input {k} must be a number or a Value (arrays go to forward), "
                f"got {type(x).__name__}"
            )
        else:
            data.append(x)
            labels.append("")
    plist = list(params) if params is not None else []
    seen: set[int] = set()
    for j, p in enumerate(plist):
        if not isinstance(p, Value):
            raise TypeError(f"params[{j}] must be a Value, got {type(p).__name__}")
        if not p.is_leaf:
            raise ValueError(f"params[{j}] is the result of {p.op!r}; parameters must be leaf Values")
        if id(p) in seen:
            raise ValueError(f"params[{j}] appears twice in params")
        seen.add(id(p))
    tape = trace(fn, data, labels, plist)
    auto = mode == "auto"
    plan = None
    if auto:
        mode = "python"
        if tape.n_ops >= _AUTO_LEVEL_OPS and importlib.util.find_spec("numpy") is not None:
            plan = plan_levels(tape)
            if tape.n_ops >= _AUTO_LEVEL_WIDTH * len(plan.groups):
                mode = "level"
    compiled = Compiled(fn, tape, labels, plist, mode, check, plan if mode == "level" else None)
    compiled.auto = auto
    compiled.compile_seconds = time.perf_counter() - started
    return compiled
