"""Running compiled code: the `Compiled` object, and errors that name the generated line.

`Compiled` holds a traced `Tape` and the code generated from it (straight-line,
`valuegrad.compiler.straight_line`; level plan, `valuegrad.compiler.level_code`),
runs it on inputs (numbers, or NumPy arrays of batch lanes) and adds the gradients
into the parameters' ``.grad``. Generated code is compiled here, when a graph is
compiled, never when valuegrad is imported; it runs with no builtins, and its text
is kept in `linecache` while the `Compiled` lives, so tracebacks show its lines.

NumPy runs under ``errstate(divide="raise", invalid="raise")``, and every numerical
failure (log of a non-positive number, 0/0, division by zero, ``(-8) ** 0.5``)
becomes a `DomainError` naming the generated line (and the batch lane).
"""

from __future__ import annotations

import builtins
import itertools
import linecache
import weakref
from typing import Any, Callable, Sequence

from ..value import Value
from .level_code import LevelCode
from .level_plan import Group, LevelPlan, plan_levels
from .lowering import SCALAR_FUNCTIONS, numpy_functions, require_numpy
from .straight_line import straight_line_code
from .tape import CONST, GraphChangedError, Tape, trace

__all__ = ["Compiled", "DomainError", "is_array"]


class DomainError(ValueError, ArithmeticError):
    """A compiled forward or backward hit a number outside an op's domain (log(0), 0/0, ...)."""


_FILENAME = "<valuegrad compiled code"
_counter = itertools.count()


def _run_source(source: str, namespace: dict[str, Any], what: str, owner: object) -> dict[str, Any]:
    """Execute generated ``source`` (function definitions) in ``namespace`` with no builtins; its scope.

    The text is registered with `linecache` under a name of its own while ``owner`` lives.
    """
    filename = f"{_FILENAME}: {what} #{next(_counter)}>"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)  # tracebacks show the line
    weakref.finalize(owner, linecache.cache.pop, filename, None)  # ... while the compiled object lives
    scope = {**namespace, "__builtins__": {}}
    exec(builtins.compile(source, filename, "exec"), scope)
    return scope


_NUMERIC_ERRORS = (FloatingPointError, ValueError, ZeroDivisionError, OverflowError)


def _guarded(phase: str, np: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, a generated function; a numerical failure becomes a `DomainError` naming its line.

    With ``np`` (NumPy code), invalid values and division by zero raise instead of
    giving NaN; overflow gives ``inf``, as eagerly.
    """
    try:
        if np is None:
            return fn(*args)
        with np.errstate(divide="raise", invalid="raise", over="ignore", under="ignore"):
            return fn(*args)
    except _NUMERIC_ERRORS as e:
        raise _domain_error(e, phase) from e


def _domain_error(e: BaseException, phase: str) -> DomainError:
    """``e``, raised in generated code, as a DomainError naming the generated line and its group."""
    tb = e.__traceback__
    where = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(_FILENAME):
            lines = linecache.getlines(filename)
            lineno = tb.tb_lineno
            line = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else "?"
            context = next(
                (ln.strip() for ln in reversed(lines[: lineno - 1]) if ln.strip().startswith("# [")), ""
            )
            where = f" at generated line {lineno}: {line}" + (f"   ({context[2:]})" if context else "")
        tb = tb.tb_next
    kind = "invalid value (log of a negative number, 0/0, inf - inf, ...)" if "invalid" in str(e) else str(e)
    if "divide" in str(e) and isinstance(e, FloatingPointError):
        kind = "division by zero (or log of 0)"
    return DomainError(f"compiled {phase} failed{where}: {kind}")


def is_array(x: Any) -> bool:
    """True for an array of batch lanes (anything with ``ndim >= 1``)."""
    return getattr(x, "ndim", 0) >= 1


class Compiled:
    """A compiled graph: ``forward(inputs)``, ``backward()``, ``source``. Made by `compile`.

    Attributes: ``mode`` (the mode in use for numbers; made with mode "auto", arrays
    run the level plan), ``tape`` (the traced `Tape`), ``params``, ``compile_seconds``,
    ``plan`` and ``plan_source`` (the level plan's `Group` list and its generated code,
    once it is in use), ``nbytes`` (memory held by the compiled arrays and buffers).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        tape: Tape,
        labels: list[str],
        params: list[Value],
        mode: str,
        check: bool,
        plan: LevelPlan | None = None,
    ) -> None:
        self.fn = fn
        self.tape = tape
        self.params = params
        self.mode = mode
        self.check = check
        self.auto = False  # made by mode="auto": arrays (batch lanes) then run the level plan
        self.compile_seconds = 0.0
        self._labels = labels
        self._signature = tape.signature() if check else None
        self._source: str | None = None
        self._used_params = [p for p, i in zip(params, tape.param_nodes) if i >= 0]
        self._last: Any = None
        self._last_level = False  # whether the last forward ran the level plan
        self.plan: list[Group] = []
        self.plan_source = ""
        self._levels: dict[bool, tuple[Any, Any, dict[str, Any]]] = {}
        self._buffers: dict[int, tuple[Any, Any]] = {}
        if mode == "level":
            self._init_level(plan)
        else:
            src, consts = straight_line_code(tape)
            self._source = src
            self._consts = consts
            self._python = _run_source(src, {**SCALAR_FUNCTIONS, "_C": consts}, "python", self)
            self._numpy_code: dict[str, Any] | None = None
            if mode == "numpy":
                self._numpy_code = self._straight_numpy()

    def _straight_numpy(self) -> dict[str, Any]:
        """The straight-line code, run over NumPy arrays: its scope (``forward``, ``backward``)."""
        namespace = {**numpy_functions(require_numpy()), "_C": self._consts}
        return _run_source(self.source, namespace, "numpy", self)

    def _init_level(self, plan: LevelPlan | None = None) -> None:
        np = require_numpy()
        tape = self.tape
        self._level_plan = plan if plan is not None else plan_levels(tape)
        self.plan = self._level_plan.groups
        self._slot = self._level_plan.slot
        self._n_slots = self._level_plan.n_slots
        self.plan_source = self._level_code(False)  # the batch version is made on first use
        consts = [i for i in range(len(tape)) if tape.kind[i] == CONST]
        self._const_slots = self._slot[consts]
        self._const_values = np.asarray([float(tape.data[i]) for i in consts], dtype=np.float64)
        self._param_slots = [int(self._slot[i]) for i in tape.param_nodes if i >= 0]
        self._p0 = self._param_slots[0] if self._param_slots else 0
        self._p1 = self._p0 + len(self._param_slots)

    def _level_code(self, batched: bool) -> str:
        code = LevelCode(self.tape, self._level_plan, require_numpy(), batched)
        src = code.generate()
        scope = _run_source(src, code.namespace, "level batch" if batched else "level", self)
        self._levels[batched] = (scope["forward"], scope["backward"], code.namespace)
        return src

    # -- what it shows ----------------------------------------------------

    @property
    def source(self) -> str:
        """The straight-line Python of forward and backward: one line per op, the derivative rule beside it.

        Mode "python" and "numpy" run exactly this code; mode "level" runs the same
        ops grouped (see ``plan_source``).
        """
        if self._source is None:
            self._source, self._consts = straight_line_code(self.tape)
        return self._source

    @property
    def nbytes(self) -> int:
        """Bytes held by the compiled arrays: index and constant arrays, value and gradient buffers."""
        total = 0
        for _, _, namespace in self._levels.values():
            total += sum(getattr(a, "nbytes", 0) for a in namespace.values())
        for v, g in getattr(self, "_buffers", {}).values():
            total += v.nbytes + g.nbytes
        return total

    def __repr__(self) -> str:
        t = self.tape
        extra = f", {len(self.plan)} groups" if self.mode == "level" else ""
        return f"<valuegrad.Compiled mode={self.mode!r}: {len(t)} nodes ({t.n_ops} ops){extra}>"

    # -- running ------------------------------------------------------------

    def __call__(self, inputs: Sequence[Any] = ()) -> Any:
        """Same as `forward`."""
        return self.forward(inputs)

    def forward(self, inputs: Sequence[Any] = ()) -> Any:
        """The output for these inputs (one per example input): a float, or an array of shape (batch,).

        Inputs are numbers, or NumPy arrays of shape ``(batch,)`` (numbers are
        broadcast over the batch). Parameters' current ``.data`` are read now.
        """
        inputs = list(inputs)
        if len(inputs) != len(self.tape.input_nodes):
            raise TypeError(f"expected {len(self.tape.input_nodes)} inputs, got {len(inputs)}")
        batch = self._batch(inputs)
        if self.check:
            self._check(inputs, batch)
        try:
            if self.mode == "level" or (self.auto and batch is not None):
                if not self.plan_source:
                    self._init_level()
                return self._forward_level(inputs, batch)
            return self._forward_straight(inputs, batch)
        except DomainError as e:
            if batch is None:
                raise
            lane = self._failing_lane(inputs, batch)
            raise DomainError(f"{e} (in batch lane {lane})" if lane is not None else str(e)) from e

    def _failing_lane(self, inputs: list[Any], batch: int) -> int | None:
        """The first batch lane whose forward fails on its own (only looked for after a failure)."""
        for lane in range(batch):
            try:
                self.forward([x[lane] if is_array(x) else x for x in inputs])
            except DomainError:
                return lane
        return None

    def backward(self) -> list[Any]:
        """Add d output/d param to every parameter's ``.grad``; return d output/d input for each input.

        Uses the values of the last `forward`. Like eager `Value.backward`, calling
        it twice adds the gradients twice. With batch lanes, parameter gradients are
        summed over the batch and input gradients are arrays of shape (batch,).
        """
        if self._last is None:
            raise RuntimeError("call forward(inputs) before backward()")
        if self._last_level:
            return self._backward_level()
        return self._backward_straight()

    def _batch(self, inputs: list[Any]) -> int | None:
        batch: int | None = None
        for k, x in enumerate(inputs):
            if isinstance(x, Value):
                raise TypeError(f"input {k} is a Value: pass its number (x.data) or an array")
            if is_array(x):
                if x.ndim != 1:
                    raise ValueError(
                        f"input {k}: batch lanes are arrays of shape (batch,), got shape {x.shape}"
                    )
                if len(x) == 0:
                    raise ValueError(f"input {k} is an empty array: batch lanes need at least one lane")
                if batch is not None and len(x) != batch:
                    raise ValueError(f"input {k} has {len(x)} lanes, an earlier input has {batch}")
                batch = len(x)
            elif isinstance(x, bool) or (not isinstance(x, (int, float)) and not hasattr(x, "__float__")):
                raise TypeError(f"input {k} must be a number or an array, got {type(x).__name__}")
        return batch

    def _check(self, inputs: list[Any], batch: int | None) -> None:
        lanes = range(batch) if batch is not None else [None]
        for lane in lanes:
            values = [float(x[lane]) if lane is not None and is_array(x) else float(x) for x in inputs]
            tape = trace(self.fn, values, self._labels, self.params)
            sig = tape.signature()
            if sig != self._signature:
                where = "" if lane is None else f" (batch lane {lane})"
                assert self._signature is not None
                if len(sig) != len(self._signature):
                    what = f"it has {len(sig)} nodes, the compiled graph {len(self._signature)}"
                else:
                    i = next(i for i, (a, b) in enumerate(zip(sig, self._signature)) if a != b)
                    what = f"node {i} is now {tape.describe(i)}, it was {self.tape.describe(i)}"
                raise GraphChangedError(
                    f"the function builds a different graph for these inputs{where}: {what}. "
                    "The compiled tape is only valid while the graph's shape does not depend on the data; "
                    "compile again for these inputs or keep this function eager."
                )

    # straight-line
    def _forward_straight(self, inputs: list[Any], batch: int | None) -> Any:
        if batch is None and self.mode != "numpy":
            values = [float(x) for x in inputs]
            out, saved = _guarded("forward", None, self._python["forward"], values, self.params)
            self._last = (saved, None, False)
            self._last_level = False
            return float(out)
        if self.mode == "python":
            raise TypeError(
                "mode='python' takes numbers; for arrays (batch lanes) compile with mode='numpy' or 'level'"
            )
        np = require_numpy()
        if self._numpy_code is None:
            self._numpy_code = self._straight_numpy()
        values = [np.asarray(x, dtype=np.float64) for x in inputs]
        out, saved = _guarded("forward", np, self._numpy_code["forward"], values, self.params)
        self._last = (saved, batch, True)
        self._last_level = False
        if batch is None:
            return float(out)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), (batch,)).copy()

    def _backward_straight(self) -> list[Any]:
        saved, batch, use_numpy = self._last
        if not use_numpy:
            input_grads, param_grads = _guarded("backward", None, self._python["backward"], saved)
            for p, d in zip(self._used_params, param_grads):
                p.grad += d
            return [float(d) for d in input_grads]
        np = require_numpy()
        assert self._numpy_code is not None
        input_grads, param_grads = _guarded("backward", np, self._numpy_code["backward"], saved)
        if batch is None:
            for p, d in zip(self._used_params, param_grads):
                p.grad += float(d)
            return [float(d) for d in input_grads]
        for p, d in zip(self._used_params, param_grads):
            p.grad += float(np.sum(np.broadcast_to(d, (batch,))))
        return [np.broadcast_to(np.asarray(d, dtype=np.float64), (batch,)).copy() for d in input_grads]

    # level
    def _buffers_for(self, batch: int | None) -> tuple[Any, Any]:
        key = -1 if batch is None else batch
        bufs = self._buffers.get(key)
        if bufs is None:
            np = require_numpy()
            shape = (self._n_slots,) if batch is None else (self._n_slots, batch)
            v = np.zeros(shape)
            if batch is None:
                v[self._const_slots] = self._const_values
            else:
                v[self._const_slots] = self._const_values[:, None]
            bufs = (v, np.zeros(shape))
            self._buffers = {key: bufs}  # keep one batch size
        return bufs

    def _forward_level(self, inputs: list[Any], batch: int | None) -> Any:
        np = require_numpy()
        v, g = self._buffers_for(batch)
        slot, tape = self._slot, self.tape
        for x, i in zip(inputs, tape.input_nodes):
            if i >= 0:
                v[slot[i]] = x
        if self._param_slots:
            data = [p.data for p in self._used_params]
            if batch is None:
                v[self._p0 : self._p1] = data
            else:
                v[self._p0 : self._p1] = np.asarray(data, dtype=np.float64)[:, None]
        if (batch is not None) not in self._levels:
            self._level_code(True)
        forward, _, _ = self._levels[batch is not None]
        saved = _guarded("forward", np, forward, v)
        self._last = (saved, batch, v, g)
        self._last_level = True
        out = v[slot[len(tape) - 1]]
        return float(out) if batch is None else out.copy()

    def _backward_level(self) -> list[Any]:
        np = require_numpy()
        saved, batch, v, g = self._last
        tape, slot = self.tape, self._slot
        out = len(tape) - 1
        g.fill(0.0)
        if tape.needs_grad[out]:
            g[slot[out]] = 1.0
            _, backward, _ = self._levels[batch is not None]
            _guarded("backward", np, backward, v, g, saved)
        if self._param_slots:
            grads = g[self._p0 : self._p1]
            if batch is not None:
                grads = grads.sum(axis=1)
            for p, d in zip(self._used_params, grads.tolist()):
                p.grad += d
        result: list[Any] = []
        for i in tape.input_nodes:
            if batch is None:
                result.append(float(g[slot[i]]) if i >= 0 else 0.0)
            else:
                result.append(g[slot[i]].copy() if i >= 0 else np.zeros(batch))
        return result
