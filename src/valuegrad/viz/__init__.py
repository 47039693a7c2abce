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

The package, one module per job:

- `valuegrad.viz.dot_text`: the DOT text of a graph (records, numbers, labels, the
  legend, the checks on draw_dot's options) and `trace`; needs no Graphviz;
- `valuegrad.viz.rendering`: rendering through Graphviz (`render_engine`, the
  fontconfig filter) and `GraphDrawing`;
- `valuegrad.viz.step_view`: the step view's frames and captions, `BackwardSteps`,
  `backward_steps` and its HTML page;
- here: `draw_dot`, the entry point.
"""

from __future__ import annotations

from ..value import Value

# The colours, FORMATS, INSTALL_HINT and the type aliases are importable from here too, as when
# valuegrad.viz was one module, though not in __all__ (hence the noqa).
from .dot_text import (  # noqa: F401
    CURRENT_COLOR,
    CURRENT_OP_COLOR,
    FORMATS,
    INTERMEDIATE_COLOR,
    LEAF_COLOR,
    OP_COLOR,
    OUTPUT_COLOR,
    PENDING_TEXT_COLOR,
    RECEIVED_COLOR,
    Format,
    GraphTooLargeError,
    _dot,
    _options,
    _ordered,
    trace,
)
from .rendering import INSTALL_HINT, Engine, GraphDrawing, PathLike, RenderError, render_engine  # noqa: F401
from .step_view import BackwardSteps, _frames, backward_steps

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
