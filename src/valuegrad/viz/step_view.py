"""The step view: backward(), one chain-rule step at a time.

`backward_steps` replays the chain rule (`Value.backward_step`) on the real graph,
from gradients set to zero, and makes one frame per step with a caption in words;
`BackwardSteps` holds the frames and writes them into one self-contained HTML page
with a slider. ``draw_dot(root, step=k)`` draws one such frame.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Sequence, overload

from ..value import Value
from .dot_text import _dot, _number, _op_label, _Options, _options, _ordered, _StepState
from .rendering import GraphDrawing, PathLike


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
