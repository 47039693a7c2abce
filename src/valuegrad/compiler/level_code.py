"""The level plan's code: one NumPy call per group, forward and backward (mode "level").

`LevelCode` writes ``forward(v)`` and ``backward(v, g, _saved)`` over a value
buffer ``v`` and a gradient buffer ``g`` (one slot per node, see
`valuegrad.compiler.level_plan`), 1-D for numbers or 2-D (slot x lane) for batch
lanes. For each group, forward reads the operands (a slice, a gather, a constant,
or, for an operand that repeats, its distinct values once, broadcast) and writes
the op's ``out`` formula into the group's slots; backward adds each
``local derivative * gradient`` into the operands' gradients. Gradient scatters are
slices, ``g[idx] +=`` for distinct targets, or ``np.bincount`` / ``add.reduceat``
for repeated ones (never ``np.add.at``). The index and constant arrays the code
reads live in its namespace (``I3``, ``K0``, ...), not in its text.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from .. import ops
from .level_plan import Group, LevelPlan
from .lowering import code_of, numpy_functions, operand_names, times_gradient
from .naming import literal
from .tape import CONST, Tape

__all__ = ["LevelCode", "broadcast_axis", "common_shape", "HELPERS"]

HELPERS = ("add", "bincount", "einsum", "list", "zip")
"""The names level code calls besides the formulas' functions (and each accumulating op's ufunc)."""

_clash = (set(HELPERS) | {op.accumulates for op in ops.OPS if op.accumulates}) & set(ops.FUNCTIONS)
if _clash:
    raise ImportError(
        f"the level code's names {sorted(_clash)} are also functions the op table's formulas call: "
        "rename one of them"
    )

ROW_LOOP_CHAINS = 8
"""From this many chains in a group on, a chain runs as one add per link over all chains."""


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def broadcast_axis(np: Any, slots: Any) -> tuple[int, int] | None:
    """``(c, b)`` when ``slots.reshape(-1, b, c)`` repeats along its middle axis (largest ``b``), else None.

    Such an operand is read once per distinct value and broadcast: a layer's
    weight used by every sample, an activation used by every neuron of the next layer.
    """
    total = len(slots)
    if total < 4:
        return None
    best: tuple[int, int] | None = None
    budget = 64  # full-length checks: a number with many divisors must not make planning slow
    for c in _divisors(total):
        if 2 * c > total or budget <= 0 or (best is not None and total // c <= best[1]):
            break
        if not np.array_equal(slots[c : 2 * c], slots[:c]):
            continue
        eq = slots[c:] == slots[:-c]
        breaks = np.flatnonzero(~eq[: total - c])
        # the first change of value ends the first repeat: b <= first_change // c + 1
        most = total // c if len(breaks) == 0 else int(breaks[0]) // c + 1
        padded = np.concatenate([eq, np.ones(c, dtype=bool)])
        for b in reversed(_divisors(total // c)):
            if b > most:
                continue
            if b < 2 or (best is not None and b <= best[1]) or budget <= 0:
                break
            budget -= 1
            if padded.reshape(total // (b * c), b, c)[:, :-1, :].all():
                best = (c, b)
                break
    return best


def common_shape(
    total: int, factors: dict[int, tuple[int, int]]
) -> tuple[tuple[int, ...], dict[int, tuple[int, ...]]]:
    """A shape for ``total`` lanes in which each role's repeats are whole axes; the axes of each role."""
    bounds = {1, total}
    chosen: dict[int, tuple[int, int]] = {}
    for role, (c, b) in sorted(factors.items(), key=lambda item: -item[1][1]):
        trial = sorted(bounds | {c, c * b})
        if all(hi % lo == 0 for lo, hi in itertools.pairwise(trial)):
            bounds = set(trial)
            chosen[role] = (c, b)
    d = sorted(bounds)
    t = len(d) - 1
    shape = tuple(d[i + 1] // d[i] for i in range(t - 1, -1, -1))
    axes = {
        role: tuple(t - 1 - i for i in range(t) if d[i] >= c and d[i + 1] <= c * b)
        for role, (c, b) in chosen.items()
    }
    return shape, axes


class LevelCode:
    """Generates the level plan's forward and backward, for 1-D (one lane) or 2-D (batch) buffers.

    ``generate()`` returns the source; ``namespace`` then holds what it reads (the
    formulas' NumPy functions, the helpers, and the index and constant arrays).
    """

    def __init__(self, tape: Tape, plan: LevelPlan, np: Any, batched: bool) -> None:
        self.tape, self.groups, self.slot, self.np, self.batched = tape, plan.groups, plan.slot, np, batched
        self.namespace: dict[str, Any] = numpy_functions(np)
        self.namespace.update(add=np.add, bincount=np.bincount, einsum=np.einsum, list=list, zip=zip)
        self.needs = np.asarray(tape.needs_grad, dtype=bool)
        self.is_const = np.asarray(tape.kind) == CONST
        self.slot_needs = np.zeros(plan.n_slots, dtype=bool)
        self.slot_needs[plan.slot[self.needs]] = True
        self.tail = ", -1" if batched else ""
        self.fwd: list[str] = []
        self.bwd: list[str] = []
        self.blocks: list[list[str]] = []
        self.saved: list[str] = []
        self.counter = itertools.count()

    def array(self, prefix: str, values: Any) -> str:
        """A new name in the namespace, holding ``values`` (an index or constant array)."""
        name = f"{prefix}{next(self.counter)}"
        self.namespace[name] = values
        return name

    def shape_text(self, shape: tuple[int, ...]) -> str:
        return ", ".join(map(str, shape)) + self.tail

    def classify(self, nodes: list[int]) -> tuple[str, Any]:
        """How to read these operands: ("scalar", text), ("const", values), ("slice", (s, e)) or
        ("gather", slots)."""
        np, tape = self.np, self.tape
        if self.is_const[nodes].all():
            values = [tape.data[i] for i in nodes]
            first = values[0]
            if all(type(v) is type(first) and v == first for v in values):
                text = literal(first)
                return "scalar", text if text is not None else self.array("K", float(first))
            return "const", values
        slots = self.slot[nodes]
        s = int(slots[0])
        if np.array_equal(slots, np.arange(s, s + len(slots))):
            return "slice", (s, s + len(slots))
        return "gather", slots

    def emit_read(
        self, how: tuple[str, Any], var: str, shape: tuple[int, ...], need: bool, axes: tuple[int, ...] = ()
    ) -> str:
        """Forward lines reading operands classified as ``how``, shaped ``shape``; the expression to use."""
        np = self.np
        kind, what = how
        if kind == "scalar":
            return str(what)
        if kind == "const":
            arr = np.asarray(what, dtype=np.float64).reshape(shape + ((1,) if self.batched else ()))
            return self.array("K", arr)
        if kind == "slice":
            s, e = what
            return f"v[{s}:{e}]" + (f".reshape({self.shape_text(shape)})" if len(shape) > 1 else "")
        slots = what.reshape(shape)
        if axes:  # read each distinct operand once: drop the axes along which it repeats
            slots = np.ascontiguousarray(
                slots[tuple(0 if ax in axes else slice(None) for ax in range(len(shape)))]
            )
        self.fwd.append(f"    {var} = v[{self.array('I', slots)}]")
        if need:
            self.saved.append(var)
        return var

    def scatter(self, slots: Any, contribution: str, tag: str, note: str = "") -> None:
        """``g[slots] += contribution`` for the slots needing a gradient (repeated slots summed)."""
        np = self.np
        keep = self.slot_needs[slots]
        if not keep.any():
            return
        c = f"C{tag}"
        self.bwd.append(f"    {c} = {contribution}{note}")
        targets = slots
        if not keep.all():
            self.bwd.append(f"    {c} = {c}[{self.array('P', np.flatnonzero(keep).astype(np.intp))}]")
            targets = slots[keep]
        uniq, inverse = np.unique(targets, return_inverse=True)
        if len(uniq) == len(targets):
            s = int(targets[0])
            if np.array_equal(targets, np.arange(s, s + len(targets))):
                self.bwd.append(f"    g[{s}:{s + len(targets)}] += {c}")
            else:
                self.bwd.append(f"    g[{self.array('I', targets.astype(np.intp))}] += {c}")
            return
        s = int(uniq[0])
        dest = (
            f"g[{s}:{s + len(uniq)}]"
            if np.array_equal(uniq, np.arange(s, s + len(uniq)))
            else f"g[{self.array('U', uniq.astype(np.intp))}]"
        )
        if not self.batched:
            inv = self.array("J", inverse.astype(np.intp))
            self.bwd.append(f"    {dest} += bincount({inv}, {c}, minlength={len(uniq)})")
        else:
            order = np.argsort(inverse, kind="stable")
            runs = np.flatnonzero(np.r_[True, np.diff(inverse[order]) != 0])
            o, r = self.array("O", order.astype(np.intp)), self.array("R", runs.astype(np.intp))
            self.bwd.append(f"    {dest} += add.reduceat({c}[{o}], {r}, axis=0)")

    def generate(self) -> str:
        """The source of ``forward(v)`` and ``backward(v, g, _saved)``."""
        for number, grp in enumerate(self.groups):
            self.bwd = []
            if grp.kind == "chain":
                self.chain(number, grp)
            else:
                self.elementwise(number, grp)
            self.blocks.append(self.bwd)
        body = [line for block in reversed(self.blocks) for line in block]  # backward: groups in reverse
        saved = ", ".join(self.saved) + ("," if len(self.saved) == 1 else "")
        fwd = ["def forward(v):", *self.fwd, f"    return ({saved})"]
        head = ["def backward(v, g, _saved):"] + ([f"    {saved} = _saved"] if self.saved else [])
        return "\n".join(fwd) + "\n\n\n" + "\n".join(head + body + ["    return None"]) + "\n"

    def elementwise(self, number: int, grp: Group) -> None:
        """Group ``number``: the op's formulas over all its lanes at once."""
        np, op = self.np, grp.op
        n = grp.lanes
        reads: set[str] = set()  # the variables the local derivatives read
        for partial in op.partials:
            reads |= partial.variables
        needs_grad = bool(self.needs[grp.nodes].any())
        hows = [self.classify(role) for role in grp.operands]
        factors = {}
        for role, how in enumerate(hows):
            if how[0] == "gather":
                found = broadcast_axis(np, how[1])
                if found is not None:
                    factors[role] = found
        shape, axes = common_shape(n, factors) if factors else ((n,), {})
        multi = len(shape) > 1
        letters = "abcdefghijklmnopqrstuvw"[: len(shape)]
        sub = [
            "".join(c for ax, c in enumerate(letters) if ax not in axes.get(role, ()))
            for role in range(len(hows))
        ]
        self.fwd.append(f"    # [{number}] {grp.describe()}: out = {op.out}")
        packed = [  # the expression of each operand; a repeated one is read once per distinct value
            self.emit_read(
                how,
                f"{'XY'[role]}{number}",
                shape,
                needs_grad and "xy"[role] in reads,
                axes.get(role, ()),
            )
            for role, how in enumerate(hows)
        ]
        full = list(packed)  # the same, broadcastable to `shape`
        for role, ax in axes.items():
            small = tuple(1 if k in ax else d for k, d in enumerate(shape))
            full[role] = f"{packed[role]}.reshape({self.shape_text(small)})"
        if op.binary:
            second = full[1]
        elif op.number:
            second = self.read_k(grp)
        else:
            second = ""
        out = f"v[{grp.start}:{grp.start + n}]" + (f".reshape({self.shape_text(shape)})" if multi else "")
        arrays = all(how[0] != "scalar" for how in hows)
        if multi and op.product and arrays and set(sub[0]) | set(sub[1]) == set(letters):
            # x * y over repeated operands: an outer product, each lane one multiplication
            spec = f"'{sub[0]}...,{sub[1]}...->{letters}...'"
            self.fwd.append(f"    einsum({spec}, {packed[0]}, {packed[1]}, out={out})")
        else:
            code = code_of(op.out, operand_names(op, full[0], second))
            self.fwd.append(f"    {out}{'[...]' if multi else ''} = {code}")
        if not needs_grad:
            return
        variables = operand_names(op, full[0], second, out)
        gvar = f"G{number}"
        self.bwd.append(f"    # [{number}] {grp.describe()}: out = {op.out}")
        self.bwd.append(
            f"    {gvar} = g[{grp.start}:{grp.start + n}]"
            + (f".reshape({self.shape_text(shape)})" if multi else "")
        )
        for role, (partial, wrt) in enumerate(zip(op.partials, "xy")):
            how = hows[role]
            note = f"  # d out/d{wrt} = {partial}"
            if role in axes:
                kept = tuple(slice(0, 1) if k in axes[role] else slice(None) for k in range(len(shape)))
                targets = how[1].reshape(shape)[kept].ravel()
                note += " (summed over repeats)"
            else:
                targets = self.slot[grp.operands[role]]
            size = len(targets)
            other = 1 - role if op.product else -1  # out = x * y: d out/dx = y, d out/dy = x
            if multi and other >= 0 and hows[other][0] != "scalar":
                # (d out/d operand = the other operand) * G, summed over this operand's repeats
                spec = f"'{letters}...,{sub[other]}...->{sub[role]}...'"
                term = f"einsum({spec}, {gvar}, {packed[other]}).reshape({size}{self.tail})"
            else:
                term = times_gradient(partial, variables, gvar)
                if role in axes:
                    term = f"add.reduce({term}, axis={axes[role]})"
                if multi:
                    term = f"({term}).reshape({size}{self.tail})"
            self.scatter(targets, term, f"{number}{wrt}", note)

    def read_k(self, grp: Group) -> str:
        """The ``k`` of a group of ``x ** k`` nodes (one value per group: a formula may branch on it)."""
        k = self.tape.k[int(grp.nodes[0])]
        text = literal(k)
        return text if text is not None else self.array("K", float(k))

    def chain(self, number: int, grp: Group) -> None:
        """Group ``number``: chains of an accumulating op as one accumulate; backward, a reverse cumsum."""
        ufunc = grp.op.accumulates
        self.namespace[ufunc] = getattr(self.np, ufunc)
        m, k = grp.chains, grp.links
        a = f"A{number}"
        self.fwd.append(f"    # [{number}] {grp.describe()}: link j = link j-1 {grp.symbol} operand j")
        self.fwd.append(f"    {a} = v[{grp.start - m}:{grp.start + m * k}].reshape({k + 1}, {m}{self.tail})")
        first = self.emit_read(self.classify(grp.operands[0]), f"F{number}", (m,), False)
        self.fwd.append(f"    {a}[0] = {first}")
        rest = grp.operands[1]
        rows = self.emit_read(self.classify(rest), f"S{number}", (k, m), False)
        self.fwd.append(f"    {a}[1:] = {rows}")
        row_loop = m >= ROW_LOOP_CHAINS
        if row_loop:  # one call per link, over all chains at once: row j = row j-1 op row j
            self.fwd.append(f"    rows = list({a})")
            self.fwd.append("    for before, row in zip(rows, rows[1:]):")
            self.fwd.append(f"        {ufunc}(before, row, out=row)")
        else:
            self.fwd.append(f"    {ufunc}.accumulate({a}, axis=0, out={a})")
        if not self.needs[grp.nodes].any():
            return
        # Every link's local derivatives are 1 (see level_plan.chains_through): operand j's
        # gradient is the sum of the gradients of links j, j+1, ..., a reverse cumulative sum.
        t = f"T{number}"
        self.bwd.append(f"    # [{number}] {grp.describe()}: operand j gets the total gradient of links >= j")
        self.bwd.append(f"    {t} = g[{grp.start}:{grp.start + m * k}].reshape({k}, {m}{self.tail})")
        if row_loop:  # from the last link back: row j += row j+1
            self.bwd.append(f"    rows = list({t})")
            self.bwd.append("    for after, row in zip(rows[::-1], rows[-2::-1]):")
            self.bwd.append("        add(after, row, out=row)")
        else:
            self.bwd.append(f"    add.accumulate({t}[::-1], axis=0, out={t}[::-1])")
        first_slots = self.slot[grp.operands[0]]
        self.scatter(first_slots, f"{t}[0]", f"{number}f")
        rest_slots = self.slot[rest]
        self.scatter(rest_slots, f"{t}.reshape({m * k}{self.tail})", f"{number}s")
