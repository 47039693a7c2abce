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

Watching backward() move: ``draw_dot(root, step=k)`` draws the state after k
chain-rule steps (the node being processed is highlighted, the gradients filled in
so far are shown, the rest are still 0), and `backward_steps` makes every such
frame at once and writes them into one self-contained HTML page with a slider:

>>> steps = backward_steps(one_neuron())
>>> len(steps)                                # the seed, then one frame per operation
6
>>> for sentence in steps.captions[1].split(". "):
...     print(sentence)
Step 1 of 5: the chain rule at o = tanh(n), whose grad is 1.0000
Each operand's grad grows by its local derivative × 1.0000: n.grad += 0.5000 × 1.0000 = 0.5000.
>>> # steps.save("backprop.html")             # works offline, in any browser

Frames are computed by replaying the chain rule (`Value.backward_step`) on the
real graph after setting its gradients to zero; the gradients the graph had are
put back afterwards, so drawing never changes your numbers.

Rendering (SVG, PNG, PDF) goes through a Graphviz engine, chosen by
`render_engine`: a system ``dot`` on PATH (through the ``graphviz`` package), else
the Graphviz that the ``pygraphviz`` wheel bundles. ``pip install "valuegrad[viz]"``
installs both packages, so no system package is ever needed. Nothing is written to
disk unless you call `GraphDrawing.save` or `GraphDrawing.render`.

The bundled Graphviz comes with an older fontconfig library than many systems'.
Reading a newer system's font configuration, it prints ``Fontconfig warning: ...
unknown element "reset-dirs"`` (for a sample file it scans in a folder compiled into
it, whatever ``FONTCONFIG_FILE`` says). Fonts are still found and text is drawn
normally, so renders through the bundled engine drop those warning lines from
standard error (any other message Graphviz prints there is passed on).
"""

from __future__ import annotations

import contextlib
import html
import numbers
import os
import re
import shutil
import sys
import tempfile
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence, Union, overload

from .backward import topological_order
from .value import Value

__all__ = [
    "trace",
    "draw_dot",
    "backward_steps",
    "BackwardSteps",
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
CURRENT_COLOR = "#d62728"
"""Step view: border of the node whose chain-rule step is shown, and the arrows it sends gradient along."""
CURRENT_OP_COLOR = "#ffe066"
"""Step view: fill of the operation ellipse being applied."""
RECEIVED_COLOR = "#ffd6d6"
"""Step view: the grad cell of each operand that just received gradient."""
PENDING_TEXT_COLOR = "#9a9a9a"
"""Step view: a grad no chain-rule step has reached yet (still its starting 0)."""

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


# --- rendering ------------------------------------------------------------------

_STDERR_LOCK = threading.Lock()
_FONTCONFIG_WARNING = re.compile(rb"^Fontconfig warning: ")


@contextlib.contextmanager
def _without_fontconfig_warnings() -> Iterator[None]:
    """Run the block with file descriptor 2 captured; pass on all it wrote but fontconfig's warnings.

    The bundled Graphviz writes from C, below Python's ``sys.stderr``, so only the
    descriptor itself can be captured. Held under a lock: the descriptor is the
    whole process's, and Graphviz is not thread-safe anyway.
    """
    with _STDERR_LOCK:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no standard error at all: nothing to keep quiet
            yield
            return
        with tempfile.TemporaryFile() as captured:
            os.dup2(captured.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                captured.seek(0)
                kept = [
                    line
                    for line in captured.read().splitlines(keepends=True)
                    if not _FONTCONFIG_WARNING.match(line)
                ]
                if kept:
                    text = b"".join(kept).decode("utf-8", "replace")
                    try:
                        sys.stderr.write(text)
                        sys.stderr.flush()
                    except Exception:
                        os.write(2, text.encode("utf-8", "replace"))


def _render(source: str, fmt: str) -> bytes:
    """``source`` laid out by Graphviz ``dot`` and rendered to ``fmt``, in memory."""
    engine = render_engine()
    if engine == "dot":
        import graphviz

        return bytes(graphviz.pipe("dot", fmt, source.encode("utf-8")))
    if engine == "pygraphviz":
        import pygraphviz

        with _without_fontconfig_warnings():
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
    `pipe` renders it in memory, `save` writes a file, and `render` writes files the
    way graphviz's ``Digraph.render`` does (for code written for micrograd's
    ``draw_dot``). In Jupyter and marimo the object shows itself as an SVG picture.
    ``caption`` says, for a frame of the step view (``draw_dot(root, step=k)``),
    which chain-rule step it shows; it is ``""`` for an ordinary drawing.
    """

    def __init__(
        self, source: str, n_values: int, n_ops: int, format: str = "svg", caption: str = ""
    ) -> None:
        self.source = source
        self.n_values = n_values
        self.n_ops = n_ops
        self.format = _check_format(format)
        self.caption = caption
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

    def render(
        self,
        filename: PathLike = "graph.gv",
        directory: PathLike | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        *,
        outfile: PathLike | None = None,
    ) -> str:
        """Write the DOT text to ``filename`` and the picture beside it; return the picture's path.

        The same call as graphviz's ``Digraph.render``, so code written for
        micrograd's ``draw_dot`` (``draw_dot(root).render("graph")``) works unchanged:
        the DOT text goes to ``filename`` (inside ``directory`` if given), the picture
        to ``filename`` plus ``.`` and the format (``graph.svg``), and that path is
        returned as a string. ``format`` defaults to draw_dot's (``"svg"``);
        ``cleanup=True`` removes the DOT file afterwards; ``outfile`` names the
        picture directly (its suffix gives the format unless ``format`` is given);
        ``view=True`` opens the picture with the system's viewer.

        >>> from valuegrad import Value
        >>> drawing = draw_dot(Value(1.0, label="x") * 2, format="png")
        >>> # drawing.render("graph")   -> 'graph.png' (and the DOT text in 'graph')
        """
        source_path = Path(filename) if directory is None else Path(directory) / filename
        if outfile is not None:
            picture = Path(outfile)
            if format is None:
                fmt = _SUFFIXES.get(picture.suffix.lower())
                if fmt is None:
                    raise ValueError(
                        f"cannot tell the picture format from outfile={os.fspath(outfile)!r}: "
                        "give it a .svg, .png, .pdf or .dot suffix, or pass format="
                    )
            else:
                fmt = _check_format(format)
        else:
            fmt = _check_format(format or self.format)
            picture = source_path.with_name(f"{source_path.name}.{fmt}")
        data = self.pipe(fmt)  # before any file is written: a failure leaves none behind
        if picture.resolve() == source_path.resolve():
            raise ValueError(f"the picture would overwrite the DOT text at {os.fspath(source_path)!r}")
        source_path.parent.mkdir(parents=True, exist_ok=True)
        source_path.write_text(self.source, encoding="utf-8")
        picture.parent.mkdir(parents=True, exist_ok=True)
        picture.write_bytes(data)
        if cleanup:
            source_path.unlink()
        if view:
            webbrowser.open(picture.resolve().as_uri())
        return os.fspath(picture)

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


def draw_dot(
    root: Value,
    format: str = "svg",
    rankdir: str = "LR",
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    dpi: float | None = None,
    size: str | tuple[float, float] | None = None,
    legend: bool = True,
    step: int | None = None,
) -> GraphDrawing:
    """Draw the graph that computed ``root``: one box per Value, one ellipse per operation.

    Args:
        root: the Value to draw (usually a loss, after ``backward()`` to show gradients).
        format: the default format of `GraphDrawing.pipe` and `GraphDrawing.render`:
            svg, png, pdf or dot. (``draw_dot(root, format, rankdir)`` is micrograd's call.)
        rankdir: Graphviz direction: ``"LR"`` (left to right, default), ``"TB"``, ``"RL"``, ``"BT"``.
        max_nodes: refuse graphs with more Values than this, with a `GraphTooLargeError`
            that says how many there are (None: no limit; Graphviz may then take minutes).
            Draw a sub-expression, or a smaller model, instead.
        dpi: resolution of PNG output (Graphviz's default is 96).
        size: largest size in inches, ``(width, height)`` or Graphviz's ``"7,5"``;
            the picture is scaled down to fit (append ``!`` to the string to scale up too).
        legend: show the colour legend under the graph.
        step: draw the state of ``root.backward()`` after this many chain-rule steps
            instead of the gradients the graph holds: 0 is the seed (``root.grad = 1``,
            every other grad 0), k the k-th operation, from the output back, having
            passed its gradient to its operands (highlighted); the last step,
            ``drawing.n_ops``, gives backward()'s gradients. The graph's own gradients
            are left as they were. See `backward_steps` for every frame at once.

    Each box shows the label (if any), then ``data`` and ``grad`` to 4 decimals
    (an int, Fraction or NumPy number is shown as a float; after
    ``backward(create_graph=True)`` a gradient is a Value: its data is shown,
    marked ``(Value)``). ``x ** 2`` shows its exponent in the ellipse: ``**2``.

    >>> from valuegrad.examples import first_expression
    >>> drawing = draw_dot(first_expression())
    >>> drawing.n_values, drawing.n_ops
    (7, 3)
    >>> print(draw_dot(first_expression(), step=1).caption.split(": ", 2)[2])
    e.grad += -2.0000 × 1.0000 = -2.0000; f.grad += 4.0000 × 1.0000 = 4.0000.
    """
    options = _options(rankdir, max_nodes, dpi, size, format, legend)
    order = _ordered(root, max_nodes, "draw_dot")
    if step is None:
        source, n_ops = _dot(order, options)
        return GraphDrawing(source, len(order), n_ops, options.format)
    if isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"step must be an int or None, got {type(step).__name__}: {step!r}")
    n_steps = sum(1 for v in order if not v.is_leaf)
    if not 0 <= step <= n_steps:
        raise ValueError(
            f"step must be from 0 (the seed) to {n_steps} (one step per operation of this graph), got {step}"
        )
    return _frames(order, options, only=step)[0]


# --- the step view: backward(), one chain-rule step at a time ---------------------


def _zero_like(x: Any) -> Any:
    try:
        return 0.0 if type(x) is float else type(x)(0)
    except Exception:
        return 0.0


def _one_like(x: Any) -> Any:
    try:
        return 1.0 if type(x) is float else type(x)(1)
    except Exception:
        return 1.0


def _name(v: Value) -> str:
    """How a caption names a Value: its label, else what it is."""
    if v.label:
        return v.label
    if v.is_leaf:
        return f"the constant {_number(v.data)}"
    return f"the {_op_label(v)} node"


_INFIX = {"+", "-", "*", "/", "**"}


def _expression(v: Value) -> str:
    """``n = x + b``, ``o = tanh(n)``, ``y = x**2``: the operation at v, with its operands' names."""

    def operand(c: Value) -> str:
        name = _name(c)
        return f"({name})" if " " in name and v.op != "+" else name

    args = [operand(c) for c in v.children]
    label = _op_label(v)
    if v.op in _INFIX and len(args) == 2:
        formula = f"{args[0]} {label} {args[1]}"
    elif label.startswith("**") and len(args) == 1:
        formula = f"{args[0]}{label}"
    elif v.op == "neg" and len(args) == 1:
        formula = f"-{args[0]}"
    else:
        formula = f"{label}({', '.join(args)})"
    if not v.label:
        return formula

    def plain(s: str) -> str:
        return s.replace(" ", "").replace("×", "*").replace("·", "*")

    # A label that spells its own formula (x₁×w₁ + x₂×w₂) is not repeated.
    return v.label if plain(v.label) == plain(formula) else f"{v.label} = {formula}"


def _step_caption(v: Value, k: int, n_steps: int, grad: Any, received: list[tuple[Value, Any]]) -> str:
    g = _number(grad)
    head = f"Step {k} of {n_steps}: the chain rule at {_expression(v)}, whose grad is {g}."
    if grad == 0:
        names = " and ".join(_name(c) for c, _ in received)
        return f"{head} Nothing flows back: {names} receive 0."
    parts = []
    for child, amount in received:
        try:
            local = _number(amount / grad)
        except (ArithmeticError, TypeError, ValueError):
            local = "?"
        name = _name(child)
        name = f"({name})" if " " in name else name
        parts.append(f"{name}.grad += {local} × {g} = {_number(amount)}")
    return f"{head} Each operand's grad grows by its local derivative × {g}: {'; '.join(parts)}."


def _grad_width(texts: Sequence[str]) -> int:
    """A grad cell wide enough for its widest text in any frame, in points (11-point text)."""
    return int(6.8 * max(len(t) for t in texts) + 12)


def _frames(order: list[Value], options: _Options, only: int | None = None) -> list[GraphDrawing]:
    """Replay backward() on ``order``'s graph; return its frames (or only frame ``only``).

    The chain rule is applied by the graph's own `Value.backward_step`, node by node
    in reverse topological order (backward()'s order), from gradients set to zero
    and the output's seeded with one. Every Value's gradient is put back at the end,
    also when a step fails.
    """
    root = order[-1]
    index = {v: i for i, v in enumerate(order)}
    operations = [i for i in range(len(order) - 1, -1, -1) if not order[i].is_leaf]
    n_steps = len(operations)
    saved = [v.grad for v in order]
    snapshots: list[tuple[list[Any], frozenset[int], int, frozenset[int], str]] = []
    try:
        for v in order:
            v.grad = _zero_like(v.data)
        root.grad = _one_like(root.data)
        reached = frozenset({len(order) - 1})
        snapshots.append(
            (
                [v.grad for v in order],
                reached,
                len(order) - 1,
                frozenset(),
                f"Before the first step: {root.label or 'the output'}.grad = 1 (the output's gradient "
                "with respect to itself); every other grad is still 0.",
            )
        )
        for k, i in enumerate(operations, 1):
            v = order[i]
            operands = list(dict.fromkeys(v.children))  # an operand used twice is listed once
            before = [c.grad for c in operands]
            if only is not None and k > only:
                # Later steps only set the grad cells' widths (the same in every frame): one
                # that fails is for the frame that shows it to report, not draw_dot(step=only).
                try:
                    v.backward_step()
                except Exception:
                    break
            else:
                v.backward_step()
            received = [(c, c.grad - b) for c, b in zip(operands, before)]
            reached = reached | {index[c] for c in operands}
            caption = _step_caption(v, k, n_steps, v.grad, received)
            snapshots.append(
                ([w.grad for w in order], reached, i, frozenset(index[c] for c in operands), caption)
            )
    finally:
        for v, g in zip(order, saved):
            v.grad = g
    widths = [
        _grad_width([f"grad {_number(grads[i])}" for grads, *_ in snapshots]) for i in range(len(order))
    ]
    chosen = snapshots if only is None else [snapshots[only]]
    drawings = []
    for grads, reached_i, current, received_i, caption in chosen:
        state = _StepState(grads, reached_i, current, received_i, widths)
        source, n_ops = _dot(order, options, state)
        drawings.append(GraphDrawing(source, len(order), n_ops, options.format, caption))
    return drawings


class BackwardSteps(Sequence[GraphDrawing]):
    """Every frame of ``backward()`` on one graph: frame 0 is the seed, frame k the k-th chain-rule step.

    Made by `backward_steps`. A sequence of `GraphDrawing` (``steps[k]``, ``len(steps)``);
    ``captions[k]`` says in words what frame k shows. `html` gives one self-contained
    HTML page (every frame inlined as SVG, a slider and previous/next buttons, no
    network, no script or style from elsewhere) and `save` writes it.
    """

    def __init__(self, frames: list[GraphDrawing], title: str) -> None:
        self.frames = frames
        self.title = title

    @property
    def captions(self) -> list[str]:
        """What each frame shows, in words."""
        return [f.caption for f in self.frames]

    def __len__(self) -> int:
        return len(self.frames)

    @overload
    def __getitem__(self, k: int) -> GraphDrawing: ...
    @overload
    def __getitem__(self, k: slice) -> list[GraphDrawing]: ...
    def __getitem__(self, k: int | slice) -> GraphDrawing | list[GraphDrawing]:
        return self.frames[k]

    def __repr__(self) -> str:
        return f"BackwardSteps({len(self.frames) - 1} steps: {self.title!r})"

    def html(self) -> str:
        """The page: every frame as inline SVG, a slider, previous/next buttons and the arrow keys.

        Needs Graphviz to render the frames (raises `RenderError` otherwise). Without
        JavaScript the page shows every frame one after another.
        """
        figures = []
        for k, frame in enumerate(self.frames):
            svg = _inline_svg(frame.svg(), f"f{k}-")
            figures.append(
                f'<figure class="frame" id="frame-{k}" data-step="{k}">\n'
                f'<figcaption>{html.escape(frame.caption)}</figcaption>\n<div class="picture">{svg}</div>\n'
                "</figure>"
            )
        return _PAGE.format(
            title=html.escape(self.title),
            last=len(self.frames) - 1,
            frames="\n".join(figures),
            script=_SCRIPT,
            style=_STYLE,
        )

    def save(self, path: PathLike) -> Path:
        """Write the page (see `html`) to ``path`` and return the path; rendered first, so a
        failure leaves no file behind."""
        target = Path(path)
        page = self.html()
        target.write_text(page, encoding="utf-8")
        return target


def backward_steps(
    root: Value,
    *,
    title: str | None = None,
    rankdir: str = "LR",
    max_nodes: int | None = 200,
    legend: bool = True,
) -> BackwardSteps:
    """Every frame of ``root.backward()``, one chain-rule step at a time (see `draw_dot`'s ``step``).

    Frame 0 is the seed (``root.grad = 1``); frame k shows the k-th operation, from
    the output back, passing its gradient to its operands: the operation and the
    arrows the gradient flows along are highlighted, grads that just received
    something are shaded, and grads not reached yet are grey. Every frame has the
    same layout, so stepping through them moves nothing but the numbers and the
    highlight. The graph's own gradients are left as they were.

    ``max_nodes`` (default 200) bounds the graph: every frame is rendered when the
    page is made.

    >>> from valuegrad.examples import first_expression
    >>> steps = backward_steps(first_expression())
    >>> len(steps), steps[-1].n_ops
    (4, 3)
    >>> # steps.save("backprop.html")
    """
    options = _options(rankdir, max_nodes, None, None, "svg", legend)
    order = _ordered(root, max_nodes, "backward_steps")
    if title is None:
        title = (
            f"Backpropagation, one node at a time: {_expression(root) if not root.is_leaf else _name(root)}"
        )
    return BackwardSteps(_frames(order, options), title)


def _inline_svg(svg: str, prefix: str) -> str:
    """Graphviz's SVG document as an element to put in a page: no XML prolog, ids made unique."""
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    body = re.sub(r'\bid="', f'id="{prefix}', body)
    return body.replace('xlink:href="#', f'xlink:href="#{prefix}')


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 1.5rem;
       color: #222; background: #fff; }
h1 { font-size: 1.35rem; margin: 0 0 0.4rem; }
p.help { margin: 0 0 1rem; color: #444; max-width: 60rem; }
.controls { display: flex; align-items: center; gap: 0.75rem; flex-wrap: wrap; margin-bottom: 0.5rem;
             position: sticky; top: 0; z-index: 1; background: #fff; padding: 0.4rem 0; }
.controls input[type=range] { width: min(32rem, 60vw); }
.controls button { font: inherit; padding: 0.25rem 0.8rem; cursor: pointer; }
.controls output { font-variant-numeric: tabular-nums; min-width: 7rem; }
figure.frame { margin: 0 0 2rem; }
figure.frame figcaption { font-size: 1rem; margin: 0.25rem 0 0.5rem; min-height: 2.6em; max-width: 70rem; }
.picture { overflow-x: auto; }
.picture svg { max-width: none; height: auto; }
body.fit .picture svg { max-width: 100%; }
"""

_SCRIPT = """
(function () {
  var frames = Array.prototype.slice.call(document.querySelectorAll("figure.frame"));
  var slider = document.getElementById("step");
  var counter = document.getElementById("counter");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var fit = document.getElementById("fit");
  document.getElementById("controls").hidden = false;
  function show(k) {
    k = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach(function (f, i) { f.hidden = i !== k; });
    var current = frames[k].querySelector("g.current");
    if (current && !fit.checked) {
      current.scrollIntoView({block: "nearest", inline: "center"});
    }
    slider.value = String(k);
    counter.value = k === 0 ? "seed (step 0 of " + (frames.length - 1) + ")"
                            : "step " + k + " of " + (frames.length - 1);
    prev.disabled = k === 0;
    next.disabled = k === frames.length - 1;
  }
  function fitted() { document.body.classList.toggle("fit", fit.checked); show(Number(slider.value)); }
  fit.addEventListener("change", fitted);
  document.body.classList.toggle("fit", fit.checked);
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  prev.addEventListener("click", function () { show(Number(slider.value) - 1); });
  next.addEventListener("click", function () { show(Number(slider.value) + 1); });
  document.addEventListener("keydown", function (e) {
    if (e.target === slider) { return; }
    if (e.key === "ArrowRight") { show(Number(slider.value) + 1); }
    if (e.key === "ArrowLeft") { show(Number(slider.value) - 1); }
  });
  show(0);
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title}</h1>
<p class="help">backward() seeds the output's gradient with 1, then visits every operation from the
output back to the leaves. At each one it applies the chain rule: every operand's grad grows by
the operation's local derivative times the operation's own grad. Move the slider, use the buttons
or press the arrow keys to step through it.</p>
<div class="controls" id="controls" hidden>
<button type="button" id="prev" aria-label="previous step">&#9664; previous</button>
<input type="range" id="step" min="0" max="{last}" value="0" step="1" aria-label="chain-rule step">
<button type="button" id="next" aria-label="next step">next &#9654;</button>
<output id="counter" for="step"></output>
<label><input type="checkbox" id="fit" checked> fit the graph to the window</label>
</div>
{frames}
<script>{script}</script>
</body>
</html>
"""


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
