"""Draw the computation graph of a Value: the notebook's ``draw_dot``, with nothing but pip.

>>> from valuegrad.examples import one_neuron
>>> o = one_neuron()
>>> o.backward()
>>> drawing = draw_dot(o)
>>> drawing                                   # shown inline in Jupyter and marimo
GraphDrawing(10 values, 5 operations)
>>> print(drawing.source[:9])                 # the DOT text: needs no Graphviz at all
digraph G
>>> # drawing.save("neuron.svg")              # or .png / .pdf / .dot: the suffix decides

What the picture shows: one box per Value (``label | data 0.7071 | grad 1.0000``)
and one ellipse per operation (``+``, ``*``, ``tanh``, ``**2`` …), arrows from the
operands through the operation to its result, left to right. The boxes are
coloured by role, and a legend under the graph says so:

* light blue: leaves (inputs, parameters and constants: Values no operation made);
* grey: intermediate values;
* orange, bold border: the output (the Value that was drawn).

A Value used twice by one operation (``a + a``, ``a * a``) gets two arrows into
that operation, one per operand. The drawing is a snapshot: call `draw_dot`
again after the next ``backward()`` to see the new gradients. In the DOT text the
Value at position i of `valuegrad.topological_order` is node ``v<i>`` and the
operation that made it is node ``op<i>``, so the text is the same from run to run.

Rendering (SVG, PNG, PDF) goes through a Graphviz engine, chosen by
`render_engine`: a system ``dot`` on PATH (through the ``graphviz`` package), else
the Graphviz that the ``pygraphviz`` wheel bundles. ``pip install "valuegrad[viz]"``
installs both packages, so no system package is ever needed. Nothing is written to
disk unless you call `GraphDrawing.save`.
"""

from __future__ import annotations

import html
import numbers
import os
import shutil
from pathlib import Path
from typing import Any, Literal, Union

from .backward import topological_order
from .value import Value

__all__ = [
    "trace",
    "draw_dot",
    "GraphDrawing",
    "GraphTooLargeError",
    "RenderError",
    "render_engine",
    "DEFAULT_MAX_NODES",
]

DEFAULT_MAX_NODES = 1000
"""Values `draw_dot` draws by default before refusing: laying out 1,200 Values takes
Graphviz about 1.3 s, 4,000 Values about 40 s, and neither picture is readable."""

Engine = Literal["dot", "pygraphviz"]
Format = Literal["svg", "png", "pdf", "dot"]
FORMATS: tuple[str, ...] = ("svg", "png", "pdf", "dot")
_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

LEAF_COLOR = "#cfe8ff"
INTERMEDIATE_COLOR = "#eeeeee"
OUTPUT_COLOR = "#ffc680"
OP_COLOR = "#ffffff"

INSTALL_HINT = (
    'pip install "valuegrad[viz]"  (installs pygraphviz, whose wheel includes Graphviz: '
    "no system package needed), or install Graphviz so that `dot` is on PATH"
)

PathLike = Union[str, "os.PathLike[str]"]


class GraphTooLargeError(ValueError):
    """The graph has more Values than ``max_nodes`` (see `draw_dot`)."""


class RenderError(RuntimeError):
    """No Graphviz engine is available to render the graph (the DOT text still is)."""


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


def render_engine() -> Engine | None:
    """The Graphviz engine that rendering will use: ``"dot"``, ``"pygraphviz"`` or None.

    ``"dot"``: a system Graphviz ``dot`` on PATH, driven through the ``graphviz``
    Python package. ``"pygraphviz"``: the Graphviz library inside the pygraphviz
    wheel, run in-process. None: neither, so only the DOT text is available.
    """
    if shutil.which("dot") is not None:
        try:
            import graphviz  # noqa: F401
        except ImportError:
            pass
        else:
            return "dot"
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
        return None
    return "pygraphviz"


def _render(source: str, fmt: str) -> bytes:
    """``source`` laid out by Graphviz ``dot`` and rendered to ``fmt``, in memory."""
    engine = render_engine()
    if engine == "dot":
        import graphviz

        return bytes(graphviz.pipe("dot", fmt, source.encode("utf-8")))
    if engine == "pygraphviz":
        import pygraphviz

        out = pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot")
        return bytes(out)
    raise RenderError(
        f"Rendering the graph to {fmt.upper()} needs Graphviz, and none was found. Install it with:\n"
        f"    {INSTALL_HINT}.\n"
        "The DOT text needs nothing: use drawing.source, or drawing.save('graph.dot')."
    )


class GraphDrawing:
    """A drawn computation graph: DOT text, rendered on demand, shown inline in notebooks.

    Made by `draw_dot`. ``source`` is the DOT text (always available);
    `pipe` renders it in memory and `save` writes a file. In Jupyter and marimo the
    object shows itself as an SVG picture.
    """

    def __init__(self, source: str, n_values: int, n_ops: int, format: str = "svg") -> None:
        self.source = source
        self.n_values = n_values
        self.n_ops = n_ops
        self.format = _check_format(format)
        self._svg: str | None = None

    def __repr__(self) -> str:
        return f"GraphDrawing({self.n_values} values, {self.n_ops} operations)"

    def pipe(self, format: str | None = None) -> bytes:
        """The rendered picture as bytes (``format``: svg, png, pdf or dot; default: draw_dot's).

        Raises `RenderError`, saying what to install, if no Graphviz engine is available.
        """
        fmt = _check_format(format or self.format)
        if fmt == "dot":
            return self.source.encode("utf-8")
        return _render(self.source, fmt)

    def svg(self) -> str:
        """The picture as SVG text (rendered once, then cached)."""
        if self._svg is None:
            self._svg = self.pipe("svg").decode("utf-8")
        return self._svg

    def save(self, path: PathLike, format: str | None = None) -> Path:
        """Write the picture to ``path`` and return the path.

        The format comes from ``format`` if given, else from the suffix: ``.svg``,
        ``.png``, ``.pdf``, or ``.dot``/``.gv`` for the DOT text (which needs no
        Graphviz). The picture is rendered before the file is opened, so a failure
        leaves no file behind.

        >>> from valuegrad import Value
        >>> drawing = draw_dot(Value(1.0, label="x") * 2)
        >>> # drawing.save("graph.png"); drawing.save("graph.out", format="svg")
        """
        target = Path(path)
        if format is None:
            fmt = _SUFFIXES.get(target.suffix.lower())
            if fmt is None:
                raise ValueError(
                    f"cannot tell the picture format from {os.fspath(path)!r}: "
                    "give it a .svg, .png, .pdf or .dot suffix, or pass format='svg' (or 'png', 'pdf', 'dot')"
                )
        else:
            fmt = _check_format(format)
        data = self.pipe(fmt)
        target.write_bytes(data)
        return target

    # --- notebook display ---------------------------------------------------

    def _repr_svg_(self) -> str | None:
        """Jupyter: the SVG picture, or None (no picture) when no Graphviz is available."""
        try:
            return self.svg()
        except RenderError:
            return None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter: SVG plus a text summary; only the text (saying what to install) without Graphviz."""
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except RenderError as e:
            return {"text/plain": f"{self!r}\n{e}"}

    def _mime_(self) -> tuple[str, str]:
        """marimo: the SVG picture, or a text saying what to install without Graphviz."""
        try:
            return "image/svg+xml", self.svg()
        except RenderError as e:
            return "text/plain", f"{self!r}\n{e}"


def _check_format(fmt: str) -> str:
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt.lower()


# --- DOT text -----------------------------------------------------------------


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
    op = v._operation
    assert op is not None
    if op.number:
        return f"{op.symbol}{_exponent(v._k)}"
    return op.symbol


def _record(v: Value, fill: str, bold: bool) -> str:
    cells = []
    if v.label:
        cells.append(f"<B>{_text(v.label)}</B>" if bold else _text(v.label))
    cells.append(f"data {_text(_number(v.data))}")
    cells.append(f"grad {_text(_number(v.grad))}")
    tds = "".join(f"<TD>{c}</TD>" for c in cells)
    border = "2" if bold else "0"
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" BGCOLOR="{fill}">'
        f"<TR>{tds}</TR></TABLE>>"
    )


_LEGEND = (
    '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="4" CELLPADDING="3"><TR>'
    f'<TD BGCOLOR="{LEAF_COLOR}">leaf (input, parameter, constant)</TD>'
    f'<TD BGCOLOR="{INTERMEDIATE_COLOR}">intermediate</TD>'
    f'<TD BGCOLOR="{OUTPUT_COLOR}" BORDER="2">output</TD>'
    "</TR></TABLE>>"
)


def _graph_attr(name: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'  {name}="{escaped}";'


def draw_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    max_nodes: int | None = DEFAULT_MAX_NODES,
    dpi: float | None = None,
    size: str | tuple[float, float] | None = None,
    format: str = "svg",
    legend: bool = True,
) -> GraphDrawing:
    """Draw the graph that computed ``root``: one box per Value, one ellipse per operation.

    Args:
        root: the Value to draw (usually a loss, after ``backward()`` to show gradients).
        rankdir: Graphviz direction: ``"LR"`` (left to right, default), ``"TB"``, ``"RL"``, ``"BT"``.
        max_nodes: refuse graphs with more Values than this, with a `GraphTooLargeError`
            that says how many there are (None: no limit; Graphviz may then take minutes).
            Draw a sub-expression, or a smaller model, instead.
        dpi: resolution of PNG output (Graphviz's default is 96).
        size: largest size in inches, ``(width, height)`` or Graphviz's ``"7,5"``;
            the picture is scaled down to fit (append ``!`` to the string to scale up too).
        format: the default format of `GraphDrawing.pipe`: svg, png, pdf or dot.
        legend: show the colour legend under the graph.

    Each box shows the label (if any), then ``data`` and ``grad`` to 4 decimals
    (an int, Fraction or NumPy number is shown as a float; after
    ``backward(create_graph=True)`` a gradient is a Value: its data is shown,
    marked ``(Value)``). ``x ** 2`` shows its exponent in the ellipse: ``**2``.

    >>> from valuegrad.examples import first_expression
    >>> drawing = draw_dot(first_expression())
    >>> drawing.n_values, drawing.n_ops
    (7, 3)
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot needs a Value, got {type(root).__name__}: {root!r}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1
    ):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    if dpi is not None and (isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not dpi > 0):
        raise ValueError(f"dpi must be a positive number or None, got {dpi!r}")
    size_attr = _size(size)
    fmt = _check_format(format)

    order = topological_order(root)
    if max_nodes is not None and len(order) > max_nodes:
        raise GraphTooLargeError(
            f"the graph has {len(order):,} Values, more than max_nodes={max_nodes:,}: "
            "Graphviz would take long and the picture would be unreadable. Draw a smaller "
            f"sub-expression, or pass max_nodes={len(order)} (or None) to draw it anyway."
        )

    index = {v: i for i, v in enumerate(order)}
    lines = [
        "digraph G {",
        _graph_attr("rankdir", rankdir),
        '  node [fontname="Helvetica,Arial,sans-serif", fontsize=11];',
        '  edge [color="#4a6fa5", arrowsize=0.7];',
    ]
    if dpi is not None:
        lines.append(_graph_attr("dpi", _format_number(dpi)))
    if size_attr is not None:
        lines.append(_graph_attr("size", size_attr))
    if legend:
        lines.append(f'  fontname="Helvetica,Arial,sans-serif"; fontsize=10; labelloc="b"; label={_LEGEND};')

    n_ops = 0
    for i, v in enumerate(order):
        if v is root:
            fill, bold = OUTPUT_COLOR, True
        elif v.is_leaf:
            fill, bold = LEAF_COLOR, False
        else:
            fill, bold = INTERMEDIATE_COLOR, False
        lines.append(f"  v{i} [shape=plain, label={_record(v, fill, bold)}];")
        if not v.is_leaf:
            n_ops += 1
            lines.append(
                f'  op{i} [shape=ellipse, style=filled, fillcolor="{OP_COLOR}", '
                f'label="{_dot_string(_op_label(v))}"];'
            )
            # One arrow per operand, so `a + a` shows two arrows from a.
            for child in v.children:
                lines.append(f"  v{index[child]} -> op{i};")
            lines.append(f"  op{i} -> v{i};")
    lines.append("}")
    return GraphDrawing("\n".join(lines) + "\n", len(order), n_ops, fmt)


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
