"""The level plan (mode "level"): which nodes run together as one NumPy call, and where each value lives.

Nodes of one op at the same depth of the graph are independent of each other, so
each such group runs as one NumPy call over gathered operands (a 16x16 layer is
one multiply of 256 lanes). A chain of an accumulating op (``sum(...)``: each
``+`` taking the previous one's result) is grouped with the chains of the same
length at the same depth, and runs as one add per link over all of them, in the
same order as eagerly.

`plan_levels` returns the groups in execution order and gives every node a slot in
one value buffer (``v``; the gradients use a buffer ``g`` of the same shape). Each
group's nodes get consecutive slots, ordered the way the last group that reads
them reads them, so that reads and gradient writes become slices (or broadcasts)
where the graph allows. `valuegrad.compiler.level_code` writes the code.
"""

from __future__ import annotations

from typing import Any

from .. import ops
from ..ops import Op
from .lowering import require_numpy
from .tape import CONST, OP, Tape

__all__ = ["Group", "LevelPlan", "plan_levels", "chains_through"]


def chains_through(op: Op | None) -> bool:
    """Whether a chain of ``op`` nodes, each reading the previous one, may run as one accumulate.

    The row says so: ``op.accumulates`` names the NumPy ufunc whose ``accumulate``
    computes the chain in the same order ((((a0 + a1) + a2) + a3) is exactly
    ``np.add.accumulate([a0, a1, a2, a3])[-1]``; + is commutative in IEEE arithmetic,
    so the chain may run through either operand). Its backward is a reverse
    cumulative sum of the gradients, which is right only because both local
    derivatives are the constant 1: that is checked here, on the row's formulas.
    """
    return (
        op is not None
        and bool(op.accumulates)
        and op.binary
        and all(partial.constant == 1 for partial in op.partials)
    )


class Group:
    """One step of the level plan: ``lanes`` nodes of one op at one depth, computed by one NumPy call.

    ``op`` is the op table's row and ``symbol`` how it is drawn (``"*"``). ``kind`` is
    ``"op"`` (elementwise over gathered operands) or ``"chain"`` (``chains`` chains of
    ``links`` links each, one accumulate). ``nodes`` are the group's node numbers
    (chains: link-major); ``operands`` holds, per operand role, the operand node of
    each lane (chains: the first operand of each chain, then the other operand of
    every link, link-major); ``start`` is the first value slot of the group (chains:
    after one scratch row of ``chains`` slots).
    """

    __slots__ = ("level", "op", "kind", "lanes", "chains", "links", "nodes", "operands", "start")

    def __init__(self, level: int, op: Op, kind: str, links: int = 0) -> None:
        self.level = level
        self.op = op
        self.kind = kind
        self.lanes = 0
        self.chains = 0
        self.links = links
        self.nodes: Any = []
        self.operands: list[Any] = []
        self.start = 0

    def __repr__(self) -> str:
        return f"<Group {self.describe()}, slots {self.start}..{self.start + self.lanes - 1}>"

    @property
    def symbol(self) -> str:
        """The op as drawings show it: ``"*"``, ``"relu"``."""
        return self.op.symbol

    def describe(self) -> str:
        """One line for the generated code's comments: ``level 2: * on 256 nodes``."""
        if self.kind == "chain":
            return f"level {self.level}: {self.symbol} chain, {self.chains} sums x {self.links} links"
        return f"level {self.level}: {self.symbol} on {self.lanes} node{'s' if self.lanes != 1 else ''}"


class LevelPlan:
    """``groups`` in execution order; ``slot[i]``, the value slot of node ``i``; ``n_slots`` in all."""

    __slots__ = ("groups", "slot", "n_slots")

    def __init__(self, groups: list[Group], slot: Any, n_slots: int) -> None:
        self.groups = groups
        self.slot = slot
        self.n_slots = n_slots


def plan_levels(tape: Tape) -> LevelPlan:
    """Group the tape's nodes by depth and op, and give every node a value slot (needs NumPy)."""
    n = len(tape)
    kind, tape_ops, tx, ty = tape.kind, tape.ops, tape.x, tape.y
    chaining = {op for op in ops.OPS if chains_through(op)}
    level = [0] * n
    chain_of = [-1] * n
    chains: list[list[int]] = []
    firsts: list[int] = []  # the first operand of each chain
    sides: list[list[int]] = []  # the other operand of each link
    for i in range(n):
        if kind[i] != OP:
            continue
        x, y = tx[i], ty[i]
        top = level[x]
        if y >= 0 and level[y] > top:
            top = level[y]
        if tape_ops[i] in chaining:
            c = chain_of[x]
            # continue a chain at its tail, if the other operand is ready before the chain starts
            if c >= 0 and chains[c][-1] == x and level[y] < level[x]:
                prev, side = x, y
            else:
                c = chain_of[y]
                if c >= 0 and chains[c][-1] == y and level[x] < level[y]:
                    prev, side = y, x
                else:
                    c = -1
            if c >= 0:
                chains[c].append(i)
                sides[c].append(side)
                chain_of[i] = c
                level[i] = level[prev]
                continue
            chain_of[i] = len(chains)
            chains.append([i])
            firsts.append(x)
            sides.append([y])
        level[i] = top + 1

    # One group per (level, op), and per k for x ** k: a formula may branch on k.
    keyed: dict[tuple[int, int, int, Any], Group] = {}
    op_index = {op: position for position, op in enumerate(ops.OPS)}
    for i in range(n):
        if kind[i] != OP:
            continue
        c = chain_of[i]
        op = tape_ops[i]
        assert op is not None
        if c >= 0 and len(chains[c]) > 1:
            if chains[c][0] != i:
                continue
            key: tuple[int, int, int, Any] = (level[i], 1, len(chains[c]), op_index[op])
            grp = keyed.get(key)
            if grp is None:
                grp = keyed[key] = Group(level[i], op, "chain", links=len(chains[c]))
            grp.nodes.append(c)  # chain ids for now
            continue
        key = (level[i], 0, op_index[op], repr(tape.k[i]) if op.number else "")
        grp = keyed.get(key)
        if grp is None:
            grp = keyed[key] = Group(level[i], op, "op")
        grp.nodes.append(i)
    groups = [keyed[key] for key in sorted(keyed)]

    # Order each group's nodes the way the last group that reads them reads them, so
    # that reads and gradient writes become contiguous slices (or broadcasts) where the graph allows.
    np = require_numpy()
    x_of, y_of = np.asarray(tx, dtype=np.intp), np.asarray(ty, dtype=np.intp)
    big = 4 * n + 4
    unclaimed = big * (len(groups) + 1)
    claim = np.full(n, unclaimed, dtype=np.int64)
    for rank in range(len(groups) - 1, -1, -1):
        grp = groups[rank]
        if grp.kind == "chain":
            tails = np.asarray([chains[c][-1] for c in grp.nodes], dtype=np.intp)
            members = [grp.nodes[o] for o in np.argsort(claim[tails], kind="stable")]
            links = np.asarray([chains[c] for c in members], dtype=np.intp)  # (chains, links)
            grp.operands = [
                np.asarray([firsts[c] for c in members], dtype=np.intp),
                np.asarray([sides[c] for c in members], dtype=np.intp).T.ravel(),  # link-major
            ]
            grp.chains = len(members)
            grp.lanes = grp.chains * grp.links
            grp.nodes = links.T.ravel()
        else:
            nodes = np.asarray(grp.nodes, dtype=np.intp)
            grp.nodes = nodes[np.argsort(claim[nodes], kind="stable")]
            grp.lanes = len(grp.nodes)
            grp.operands = [x_of[grp.nodes]] + ([y_of[grp.nodes]] if grp.op.binary else [])
        flat = np.concatenate(grp.operands)
        position = rank * big + np.arange(len(flat))
        free = claim[flat] == unclaimed
        first_reads, where = np.unique(flat[free], return_index=True)
        claim[first_reads] = position[free][where]

    slot = np.full(n, -1, dtype=np.intp)
    leaves = [i for i in tape.input_nodes if i >= 0] + [i for i in tape.param_nodes if i >= 0]
    leaves += [i for i in range(n) if kind[i] == CONST]
    slot[leaves] = np.arange(len(leaves))
    cursor = len(leaves)
    for grp in groups:
        if grp.kind == "chain":
            cursor += grp.chains  # scratch row: the chains' first operands, accumulated in place
        grp.start = cursor
        slot[grp.nodes] = np.arange(cursor, cursor + grp.lanes)
        cursor += grp.lanes
    return LevelPlan(groups, slot, cursor)
