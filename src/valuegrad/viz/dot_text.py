"""The DOT text of a graph: what `valuegrad.viz.draw_dot` hands Graphviz to lay out.

One record per Value (label, then ``data`` and ``grad`` to 4 decimals, coloured by
role), one ellipse per operation showing the op table's symbol, one arrow per operand,
the colour legend; the checks on draw_dot's options (``rankdir``, ``max_nodes``,
``dpi``, ``size``, ``format``); and `trace`. Nothing here needs Graphviz. A frame of
the step view (`valuegrad.viz.step_view`) is the same text with one chain-rule step
highlighted.
"""

from __future__ import annotations

import html
import numbers
from dataclasses import dataclass
from typing import Any, Literal

from ..backward import topological_order
from ..value import Value

Format = Literal["svg", "png", "pdf", "dot"]
FORMATS: tuple[str, ...] = ("svg", "png", "pdf", "dot")

LEAF_COLOR = "#cfe8ff"
INTERMEDIATE_COLOR = "#eeeeee"
OUTPUT_COLOR = "#ffc680"
OP_COLOR = "#ffffff"
CURRENT_COLOR = "#d62728"
"""Step view: border of the node whose chain-rule step is shown, and the arrows it sends gradient along."""
CURRENT_OP_COLOR = "#ffe066"
"""Step view: fill of the operation ellipse being applied."""
RECEIVED_COLOR = "#ffd6d6"
"""Step view: the grad cell of each operand that just received gradient."""
PENDING_TEXT_COLOR = "#9a9a9a"
"""Step view: a grad no chain-rule step has reached yet (still its starting 0)."""


class GraphTooLargeError(ValueError):
    """The graph has more Values than ``max_nodes`` (see `draw_dot`)."""


def trace(root: Value) -> tuple[set[Value], set[tuple[Value, Value]]]:
    """Every Value ``root`` depends on, and every (operand, result) edge between them.

    Iterative (built on `valuegrad.topological_order`): a graph of millions of
    nodes traces as well as a small one. ``edges`` is a set, so an operand used
    twice by one operation (``a + a``) gives a single edge ``(a, a + a)``; the
    drawing itself shows both uses (see `draw_dot`).

    >>> from valuegrad import Value
    >>> a = Value(2.0, label="a"); b = a * a + 1
    >>> nodes, edges = trace(b)
    >>> len(nodes), len(edges)
    (4, 3)
    """
    if not isinstance(root, Value):
        raise TypeError(f"trace needs a Value, got {type(root).__name__}: {root!r}")
    nodes = set(topological_order(root))
    edges = {(child, v) for v in nodes for child in v.children}
    return nodes, edges


def _check_format(fmt: str) -> str:
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt.lower()


def _text(s: str) -> str:
    """Text for an HTML-like Graphviz label: XML-escaped, one line per source line.

    HTML-like labels (``label=<...>``) only need XML escaping; record labels would
    need ``| { } < >``, spaces and backslashes escaped by hand. Control characters
    (invalid in XML) are shown escaped, as Python would print them.
    """
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    lines = s.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = []
    for line in lines:
        line = "".join(
            c if c >= " " and c != "\x7f" else c.encode("unicode_escape").decode("ascii") for c in line
        )
        out.append(html.escape(line, quote=True))
    return "<BR/>".join(out)


def _number(x: Any) -> str:
    """A number to 4 decimals (int, float, Fraction, NumPy scalar; a Value shows its data)."""
    if isinstance(x, Value):
        return f"{_number(x.data)} (Value)"
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            f = float(x)
        except (OverflowError, ValueError):
            return str(x)
        if f != f or f in (float("inf"), float("-inf")):
            return str(f)
        if f != 0 and not 1e-4 <= abs(f) < 1e12:
            return f"{f:.4e}"
        return f"{f:.4f}"
    return str(x)


def _exponent(y: Any) -> str:
    """The number exponent of ``x ** y`` as the op label shows it: ``2``, ``0.5``, ``(1/3)``."""
    if isinstance(y, float):
        return format(y, "g")
    if isinstance(y, numbers.Integral):
        return str(int(y))
    if isinstance(y, numbers.Rational):
        return f"({y})"
    try:
        return format(float(y), "g")
    except (TypeError, ValueError, OverflowError):
        return f"({y})"


def _op_label(v: Value) -> str:
    """What the op's ellipse shows: the op table's symbol (``+``, ``tanh``), ``**2`` for a number exponent."""
    op = v._operation
    assert op is not None
    if op.number:
        return f"{op.symbol}{_exponent(v._k)}"
    return op.symbol


@dataclass
class _StepState:
    """What one frame of the step view shows, by position in the topological order."""

    grads: list[Any]  # every Value's grad in this frame
    reached: frozenset[int]  # Values whose grad a step (or the seed) has set
    current: int  # the Value whose chain-rule step this frame shows (the output for the seed)
    received: frozenset[int]  # its operands, which just received gradient (none for the seed)
    grad_widths: list[int]  # a fixed width per grad cell, the same in every frame: nothing moves


def _record(v: Value, fill: str, bold: bool, grad: Any, state: _StepState | None = None, i: int = 0) -> str:
    label = ""
    if v.label:
        label = f"<B>{_text(v.label)}</B>" if bold else _text(v.label)
    data_text = f"data {_text(_number(v.data))}"
    grad_text = f"grad {_text(_number(grad))}"
    if state is None:
        cells = [f"<TD>{c}</TD>" for c in ([label] if label else []) + [data_text, grad_text]]
        return (
            f'<<TABLE BORDER="{"2" if bold else "0"}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
            f'BGCOLOR="{fill}"><TR>{"".join(cells)}</TR></TABLE>>'
        )
    # The step view: every box has the same 2-point border in every frame, invisible but for
    # the output (black) and the node being processed (red), so that nothing moves from frame
    # to frame; the grad cell has a fixed width for the same reason.
    cell = f'<TD BGCOLOR="{fill}" COLOR="black"'
    cells = [f"{cell}>{c}</TD>" for c in ([label] if label else []) + [data_text]]
    if i not in state.reached:
        grad_text = f'<FONT COLOR="{PENDING_TEXT_COLOR}">{grad_text}</FONT>'
    grad_fill = RECEIVED_COLOR if i in state.received else fill
    cells.append(f'<TD BGCOLOR="{grad_fill}" COLOR="black" WIDTH="{state.grad_widths[i]}">{grad_text}</TD>')
    border_color = CURRENT_COLOR if i == state.current else "black" if bold else "transparent"
    return (
        f'<<TABLE BORDER="2" COLOR="{border_color}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
        f"<TR>{''.join(cells)}</TR></TABLE>>"
    )


_LEGEND_CELLS = (
    f'<TD BGCOLOR="{LEAF_COLOR}">leaf (input, parameter, constant)</TD>'
    f'<TD BGCOLOR="{INTERMEDIATE_COLOR}">intermediate</TD>'
    f'<TD BGCOLOR="{OUTPUT_COLOR}" BORDER="2">output</TD>'
)
_LEGEND = (
    f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="4" CELLPADDING="3"><TR>{_LEGEND_CELLS}</TR></TABLE>>'
)
_STEP_LEGEND = (
    '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="4" CELLPADDING="3"><TR>'
    f"{_LEGEND_CELLS}"
    f'<TD BGCOLOR="{CURRENT_OP_COLOR}" COLOR="{CURRENT_COLOR}" BORDER="2">chain rule applied here</TD>'
    f'<TD BGCOLOR="{RECEIVED_COLOR}">grad just received</TD>'
    f'<TD><FONT COLOR="{PENDING_TEXT_COLOR}">grad not reached yet</FONT></TD>'
    "</TR></TABLE>>"
)


def _graph_attr(name: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'  {name}="{escaped}";'


@dataclass(frozen=True)
class _Options:
    rankdir: str
    dpi: float | None
    size: str | None
    format: str
    legend: bool


def _options(
    rankdir: str,
    max_nodes: int | None,
    dpi: float | None,
    size: str | tuple[float, float] | None,
    format: str,
    legend: bool,
) -> _Options:
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1
    ):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    if dpi is not None and (isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not dpi > 0):
        raise ValueError(f"dpi must be a positive number or None, got {dpi!r}")
    return _Options(rankdir, dpi, _size(size), _check_format(format), bool(legend))


def _ordered(root: Value, max_nodes: int | None, caller: str) -> list[Value]:
    if not isinstance(root, Value):
        raise TypeError(f"{caller} needs a Value, got {type(root).__name__}: {root!r}")
    order = topological_order(root)
    if max_nodes is not None and len(order) > max_nodes:
        raise GraphTooLargeError(
            f"the graph has {len(order):,} Values, more than max_nodes={max_nodes:,}: "
            "Graphviz would take long and the picture would be unreadable. Draw a smaller "
            f"sub-expression, or pass max_nodes={len(order)} (or None) to draw it anyway."
        )
    return order


def _dot(order: list[Value], options: _Options, state: _StepState | None = None) -> tuple[str, int]:
    """The DOT text of the graph whose topological order is ``order``, and its number of operations."""
    root = order[-1]
    index = {v: i for i, v in enumerate(order)}
    lines = [
        "digraph G {",
        _graph_attr("rankdir", options.rankdir),
        '  node [fontname="Helvetica,Arial,sans-serif", fontsize=11];',
        '  edge [color="#4a6fa5", arrowsize=0.7];',
    ]
    if options.dpi is not None:
        lines.append(_graph_attr("dpi", _format_number(options.dpi)))
    if options.size is not None:
        lines.append(_graph_attr("size", options.size))
    if options.legend:
        legend = _LEGEND if state is None else _STEP_LEGEND
        lines.append(f'  fontname="Helvetica,Arial,sans-serif"; fontsize=10; labelloc="b"; label={legend};')

    n_ops = 0
    for i, v in enumerate(order):
        if v is root:
            fill, bold = OUTPUT_COLOR, True
        elif v.is_leaf:
            fill, bold = LEAF_COLOR, False
        else:
            fill, bold = INTERMEDIATE_COLOR, False
        grad = v.grad if state is None else state.grads[i]
        current = state is not None and i == state.current
        extra = ', class="current"' if current else ""
        lines.append(f"  v{i} [shape=plain, label={_record(v, fill, bold, grad, state, i)}{extra}];")
        if not v.is_leaf:
            n_ops += 1
            op_fill, op_extra = OP_COLOR, ""
            if current and state is not None and state.received:
                op_fill = CURRENT_OP_COLOR
                op_extra = f', color="{CURRENT_COLOR}", penwidth=2, class="current-op"'
            lines.append(
                f'  op{i} [shape=ellipse, style=filled, fillcolor="{op_fill}"{op_extra}, '
                f'label="{_dot_string(_op_label(v))}"];'
            )
            # One arrow per operand, so `a + a` shows two arrows from a. In the step view the
            # arrows the gradient just flowed back along are drawn in the highlight colour.
            arrow = f' [color="{CURRENT_COLOR}", penwidth=2]' if op_extra else ""
            for child in v.children:
                lines.append(f"  v{index[child]} -> op{i}{arrow};")
            lines.append(f"  op{i} -> v{i}{arrow};")
    lines.append("}")
    return "\n".join(lines) + "\n", n_ops


def _dot_string(s: str) -> str:
    """Contents of a quoted DOT string that Graphviz shows verbatim."""
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_number(x: float) -> str:
    return format(float(x), "g")


def _size(size: str | tuple[float, float] | None) -> str | None:
    if size is None:
        return None
    if isinstance(size, str):
        body = size[:-1] if size.endswith("!") else size
        parts = body.split(",")
        try:
            ok = 1 <= len(parts) <= 2 and all(float(p) > 0 for p in parts)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"size must look like '7,5' or '7,5!' (inches), got {size!r}")
        return size
    try:
        w, h = size
        ok = all(not isinstance(t, bool) and isinstance(t, (int, float)) and t > 0 for t in (w, h))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"size must be (width, height) in inches, positive numbers, got {size!r}")
    return f"{_format_number(w)},{_format_number(h)}"
