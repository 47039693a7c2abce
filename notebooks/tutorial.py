import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="valuegrad: the spelled-out intro to backpropagation",
)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # Backpropagation, spelled out, with valuegrad

    A walk from a single number that remembers where it came from to a trained
    neural network, after Andrej Karpathy's lecture
    [*The spelled-out intro to neural networks and backpropagation: building micrograd*](https://www.youtube.com/watch?v=VMj-3S1tku0)
    and its Julia/Pluto retelling. Every cell runs on the `valuegrad` library, and
    the numbers the lecture shows are checked with `assert` as the notebook runs.

    Open it with `marimo edit notebooks/tutorial.py`: change a number and every cell
    that depends on it runs again. To read it as an app instead, run
    `marimo run --include-code notebooks/tutorial.py` and open the address it prints
    with `?show-code=true` at the end (or choose *Show code* in the ⋯ menu): the
    tutorial is about the code, and marimo's app view hides it otherwise.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    # Shown only in marimo's app view (marimo run), where code is hidden unless asked for.
    mo.callout(
        mo.md(
            "You are reading the app view. The code cells are part of the lesson: if you do not see them, "
            "choose **Show code** in the ⋯ menu at the top right (start the app with "
            "`marimo run --include-code notebooks/tutorial.py` to have that choice)."
        ),
        kind="info",
    ) if mo.app_meta().mode == "run" else None
    return


@app.cell
def _():
    import io
    import math
    import tempfile
    from fractions import Fraction
    from pathlib import Path

    import marimo as mo

    import valuegrad as vg
    from valuegrad import Value, draw_dot, numerical_grad, topological_order
    from valuegrad.examples import ONE_NEURON_BIAS, first_expression, one_neuron

    return (
        Fraction,
        ONE_NEURON_BIAS,
        Path,
        Value,
        draw_dot,
        first_expression,
        io,
        math,
        mo,
        numerical_grad,
        one_neuron,
        tempfile,
        topological_order,
        vg,
    )


@app.cell
def _(Path, io, mo, tempfile, topological_order):
    def by_label(root):
        """Every node of root's graph, by label (for reaching a node by its name)."""
        return {v.label: v for v in topological_order(root) if v.label}

    def grad_table(root, *labels):
        """A small table of data and grad for the labelled nodes of root's graph."""
        nodes = by_label(root)
        rows = "\n".join(f"| {name} | {nodes[name].data:.4f} | {nodes[name].grad:.4f} |" for name in labels)
        return mo.md("| node | data | grad |\n|---|---:|---:|\n" + rows)

    def png(plot, *args, width=None, **kwargs):
        """Show a valuegrad.plot picture (they write PNG files) without leaving a file behind."""
        with tempfile.TemporaryDirectory() as _tmp:
            _path = Path(_tmp) / "plot.png"
            plot(*args, _path, **kwargs)
            return mo.image(io.BytesIO(_path.read_bytes()), width=width)

    def show(drawing, caption=None):
        """A draw_dot picture, readable. One that fits the page with its text still legible is shown
        whole; a bigger one is shown twice: whole, as an overview of its shape, and at full size in
        a box that scrolls, starting at the output (open "Full size")."""
        _svg = drawing.svg()
        _svg = _svg[_svg.index("<svg") :]
        _width = float(_svg.split('width="', 1)[1].split("pt", 1)[0]) * 4 / 3  # points -> pixels
        _fitted = mo.Html(_svg.replace("<svg ", '<svg style="max-width: 100%; height: auto;" ', 1))
        _parts = [mo.md(caption)] if caption else []
        if _width <= 1500:  # at most 30% smaller on a medium-width page: text still legible
            return mo.vstack([*_parts, _fitted])
        _full = mo.Html(
            # right to left: the box opens scrolled to the right end, where the output is
            '<div style="overflow: auto; max-height: 42rem; direction: rtl; border: 1px solid #ddd">'
            + _svg.replace("<svg ", '<svg style="max-width: none; direction: ltr;" ', 1)
            + "</div>"
        )
        return mo.vstack(
            [*_parts, _fitted, mo.accordion({"Full size: every box readable (scroll to move)": _full})]
        )

    return by_label, grad_table, png, show


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Data structure

    A `Value` wraps one number, `data`. What makes it more than a float is what it
    remembers: an operation on Values returns a new Value that points back at its
    operands (`children`) and at the operation that produced it (`op`). A formula
    built from Values is therefore also a graph of how it was computed, and that
    graph is all backpropagation needs. `grad` will hold $\partial L / \partial$ this
    value; it starts at zero.

    The lecture's first expression: $L = (a \cdot b + c) \cdot f$.
    """)
    return


@app.cell
def _(Value, mo):
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    d = a * b
    d.label = "d"
    e = d + c
    e.label = "e"
    f = Value(-2.0, label="f")
    L = e * f
    L.label = "L"

    assert L.data == -8.0
    assert d.children == (a, b) and d.op == "*"
    mo.md(
        "| expression | value | what it says |\n|---|---|---|\n"
        f"| `d.children` | `{d.children!r}` | d was made from a and b |\n"
        f"| `d.op` | `{d.op!r}` | ... by multiplying them: d = a * b |\n"
        f"| `L` | `{L!r}` | the output, L = (a*b + c) * f = -8 |"
    )
    return (L,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Visualization

    `draw_dot` walks the graph from the output back to the leaves and draws it with
    Graphviz: a box per Value (label, data, grad) and an oval per operation. Leaves
    are on the left, the output on the right; every grad is still 0. (A drawing
    displays itself in marimo and Jupyter; `show` only scales a wide one down to
    the page, and `drawing.save("graph.svg")` writes it to a file.)
    """)
    return


@app.cell
def _(L, draw_dot, show):
    show(draw_dot(L, rankdir="LR"))
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Manual backpropagation and the gradient

    The derivative $\partial L/\partial d$ says how much $L$ moves when $d$ is
    nudged. The lecture first measures it: nudge $d$ by $h = 0.001$, recompute $L$,
    and divide the change by $h$. Here $L = (d + c) f$, so the slope is
    exactly $f = -2$; the finite difference is off by floating-point rounding only.
    """)
    return


@app.cell
def _(first_expression, mo, numerical_grad):
    def nudged_L(h):
        """L again, with d nudged by h (the lecture's try_grad)."""
        _L = first_expression()
        _d, _c = _L.children[0].children  # L = e * f, e = d + c
        _f = _L.children[1]
        return ((_d.data + h) + _c.data) * _f.data

    h = 0.001
    slope = (nudged_L(h) - nudged_L(0.0)) / h
    assert slope == -2.000000000000668, slope
    # valuegrad.numerical_grad does the same for every input of a function:
    _dL = numerical_grad(lambda d, c, f: (d + c) * f, [-6.0, 10.0, -2.0], h=h, method="forward")
    assert _dL[0] == slope
    mo.md(
        f"finite-difference slope $(L(d + h) - L(d)) / h$ = `{slope!r}` (exactly $f = -2$ but for rounding)"
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    Measuring each derivative this way costs one extra evaluation per input. The
    chain rule gets all of them in one sweep from the output back. Start with
    $\partial L/\partial L = 1$. For a product $L = e f$ the local derivatives
    are the *other* factor: $\partial L/\partial e = f$, $\partial L/\partial f = e$.
    A sum passes its gradient through unchanged ($d$ and $c$ get $e$'s gradient),
    and the product $d = ab$ again swaps factors, times the gradient arriving at $d$.
    Filled in by hand:
    """)
    return


@app.cell
def _(by_label, first_expression, grad_table):
    L_hand = first_expression()
    _n = by_label(L_hand)
    _n["L"].grad = 1.0
    _n["e"].grad = _n["f"].data * _n["L"].grad
    _n["f"].grad = _n["e"].data * _n["L"].grad
    _n["d"].grad = _n["e"].grad
    _n["c"].grad = _n["e"].grad
    _n["a"].grad = _n["b"].data * _n["d"].grad
    _n["b"].grad = _n["a"].data * _n["d"].grad

    assert [_n[k].grad for k in "abcdef"] == [6.0, -4.0, -2.0, -2.0, -2.0, 4.0]
    _L_auto = first_expression()
    _L_auto.backward()
    assert {k: v.grad for k, v in by_label(_L_auto).items()} == {k: v.grad for k, v in _n.items()}
    grad_table(L_hand, *"abcdefL")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### Watch backward() do it, one node at a time

    `backward_steps(L)` replays what `L.backward()` does and draws the graph after
    every step of it: first the seed, $\partial L/\partial L = 1$, then one operation
    at a time from the output back, each passing its gradient to its operands.
    Move the slider (or focus it and press the arrow keys). The operation being
    applied is yellow with a red border, the grads it just filled in are shaded, and
    grads that nothing has reached yet are grey. (The graph's own gradients are left
    as they were. `valuegrad graph --steps --example expression` writes the same
    frames into one page that any browser opens, offline.)
    """)
    return


@app.cell
def _(first_expression, mo, vg):
    L_steps = vg.viz.backward_steps(first_expression(), rankdir="TB")
    L_step = mo.ui.slider(
        0, len(L_steps) - 1, value=0, label="chain-rule step of L.backward()", show_value=True
    )
    return L_step, L_steps


@app.cell
def _(L_step, L_steps, mo, show):
    mo.vstack([L_step, show(L_steps[L_step.value], caption=f"**{L_steps.captions[L_step.value]}**")])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### One neuron, gradients by hand

    A neuron computes $o = \tanh(x_1 w_1 + x_2 w_2 + b)$. The lecture picks
    $b = 6.8813735870195432$ so that $n = 0.8814$ and $o = 1/\sqrt 2 \approx 0.7071$.
    Going back from $o$: $\partial o/\partial n = 1 - \tanh(n)^2 = 1 - o^2 = 0.5$; the
    two sums pass 0.5 on; each product sends it to one factor times the other.
    """)
    return


@app.cell
def _(by_label, grad_table, math, one_neuron):
    o_hand = one_neuron()
    _n = by_label(o_hand)
    _n["o"].grad = 1.0
    _n["n"].grad = (1 - o_hand.data**2) * _n["o"].grad
    _n["x₁×w₁ + x₂×w₂"].grad = _n["b"].grad = _n["n"].grad
    _n["x₁×w₁"].grad = _n["x₂×w₂"].grad = _n["x₁×w₁ + x₂×w₂"].grad
    _n["x₂"].grad, _n["w₂"].grad = _n["w₂"].data * _n["x₂×w₂"].grad, _n["x₂"].data * _n["x₂×w₂"].grad
    _n["x₁"].grad, _n["w₁"].grad = _n["w₁"].data * _n["x₁×w₁"].grad, _n["x₁"].data * _n["x₁×w₁"].grad

    assert math.isclose(o_hand.data, 1 / math.sqrt(2)) and round(o_hand.data, 4) == 0.7071
    assert math.isclose(_n["n"].grad, 0.5)
    assert math.isclose(_n["x₂"].grad, 0.5) and _n["w₂"].grad == 0.0
    assert math.isclose(_n["x₁"].grad, -1.5) and math.isclose(_n["w₁"].grad, 1.0)
    grad_table(o_hand, "x₁", "w₁", "x₂", "w₂", "b", "n", "o")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Backpropagation programmatically

    Each hand-written line above is one node applying the chain rule to its own
    operands: *operand.grad += local derivative × node.grad*. valuegrad keeps the
    local derivative of every operation in one table (`valuegrad.ops`), and
    `Value.backward_step()` (micrograd's `_backward`) applies it at one node. Called
    from the output backwards, node by node, it reproduces the hand computation:
    """)
    return


@app.cell
def _(by_label, grad_table, math, one_neuron):
    o_steps = one_neuron()
    _n = by_label(o_steps)
    o_steps.grad = 1.0
    for _label in ["o", "n", "x₁×w₁ + x₂×w₂", "x₁×w₁", "x₂×w₂"]:
        _n[_label].backward_step()  # a leaf (b, x₁, ...) has no step to take
    assert math.isclose(_n["x₁"].grad, -1.5) and math.isclose(_n["w₁"].grad, 1.0)
    assert math.isclose(_n["x₂"].grad, 0.5) and _n["w₂"].grad == 0.0
    grad_table(o_steps, "x₁", "w₁", "x₂", "w₂", "b", "n", "o")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    The same five steps, drawn: each frame is the neuron after one more call of
    `backward_step()`, in the order above. Step 1 is $\tanh$: $n$ receives
    $1 - o^2 = 0.5$; step 2 is the sum with $b$, which passes 0.5 to both operands;
    steps 4 and 5 are the products, where each factor receives the *other* factor
    times 0.5 (so $w_2$ receives $x_2 \cdot 0.5 = 0$).
    """)
    return


@app.cell
def _(mo, one_neuron, vg):
    neuron_steps = vg.viz.backward_steps(one_neuron(), rankdir="TB")
    neuron_step = mo.ui.slider(
        0, len(neuron_steps) - 1, value=0, label="chain-rule step of o.backward()", show_value=True
    )
    return neuron_step, neuron_steps


@app.cell
def _(mo, neuron_step, neuron_steps, show):
    mo.vstack(
        [
            neuron_step,
            show(neuron_steps[neuron_step.value], caption=f"**{neuron_steps.captions[neuron_step.value]}**"),
        ]
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    The order matters: a node may only pass its gradient on once it has received
    all of it, that is, after every node that uses it. A *topological order* lists
    each node after its operands; walked in reverse, every node comes after all
    its users. valuegrad's is micrograd's `build_topo`: depth first from the
    output, a node goes on the list once all of its operands are on it.
    `topological_order` builds it with a loop instead of a recursion, so a graph a
    million nodes deep is fine. (The next cell also prints each node's *height*,
    `v.height`: the longest path from it down to a leaf, 0 for a leaf.)
    """)
    return


@app.cell
def _(math, mo, one_neuron, topological_order):
    o_auto = one_neuron()
    order = topological_order(o_auto)
    _position = {_v: _i for _i, _v in enumerate(order)}
    assert order[-1] is o_auto and len(order) == 10
    assert all(_position[_c] < _position[_v] for _v in order for _c in _v.children)  # operands first
    o_auto.grad = 1.0
    for _v in reversed(order):
        _v.backward_step()
    _x1 = next(_v for _v in order if _v.label == "x₁")
    assert math.isclose(_x1.grad, -1.5)
    mo.md(
        "topological order, each node with its height, operands first: "
        + ", ".join(f"{v.label} ({v.height})" for v in order)
        + f"; after the loop, x₁.grad = {_x1.grad}"
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    That loop is `Value.backward()`: it seeds the output's gradient with 1 and
    walks the reverse topological order.
    """)
    return


@app.cell
def _(by_label, grad_table, math, one_neuron):
    o_backward = one_neuron()
    o_backward.backward()
    _n = by_label(o_backward)
    assert math.isclose(_n["x₁"].grad, -1.5) and math.isclose(_n["w₁"].grad, 1.0)
    assert math.isclose(_n["x₂"].grad, 0.5) and _n["w₂"].grad == 0.0 and math.isclose(_n["b"].grad, 0.5)
    grad_table(o_backward, "x₁", "w₁", "x₂", "w₂", "b", "n", "o")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### Try it: a live neuron

    Move a slider: the neuron is built again, `backward()` runs, and the graph and
    its gradients are redrawn. Things to try: push $b$ up until $\tanh$ saturates
    and watch every gradient fade towards zero; note that $w_2$ gets no gradient
    while $x_2 = 0$ (its product is 0 whatever $w_2$ is), then move $x_2$. Under
    the graph, each input's gradient is compared with a central finite difference.
    """)
    return


@app.cell
def _(ONE_NEURON_BIAS, mo):
    neuron_sliders = mo.ui.dictionary(
        {
            "x1": mo.ui.slider(-3.0, 3.0, step=0.1, value=2.0, label="x₁", show_value=True),
            "x2": mo.ui.slider(-3.0, 3.0, step=0.1, value=0.0, label="x₂", show_value=True),
            "w1": mo.ui.slider(-3.0, 3.0, step=0.1, value=-3.0, label="w₁", show_value=True),
            "w2": mo.ui.slider(-3.0, 3.0, step=0.1, value=1.0, label="w₂", show_value=True),
            "b": mo.ui.slider(-10.0, 10.0, step=0.01, value=ONE_NEURON_BIAS, label="b", show_value=True),
        }
    )
    neuron_sliders.hstack(justify="start", gap=1.5, wrap=True)
    return (neuron_sliders,)


@app.cell
def _(
    by_label,
    draw_dot,
    math,
    mo,
    neuron_sliders,
    numerical_grad,
    one_neuron,
    show,
):
    _inputs = neuron_sliders.value
    o_live = one_neuron(**_inputs)
    o_live.backward()
    _n = by_label(o_live)
    _names = {"x1": "x₁", "x2": "x₂", "w1": "w₁", "w2": "w₂", "b": "b"}
    _estimate = numerical_grad(
        lambda x1, x2, w1, w2, b: one_neuron(x1.data, x2.data, w1.data, w2.data, b.data),
        list(_inputs.values()),
    )
    _rows = []
    for (_key, _label), _fd in zip(_names.items(), _estimate):
        _g = _n[_label].grad
        assert math.isclose(_g, _fd, rel_tol=1e-5, abs_tol=1e-6), (_label, _g, _fd)
        _rows.append(f"| {_label} | {_inputs[_key]:.2f} | {_g:.4f} | {_fd:.4f} |")
    mo.vstack(
        [
            mo.md(f"**o = tanh(n) = {o_live.data:.4f}**, n = {_n['n'].data:.4f}"),
            show(draw_dot(o_live, rankdir="TB")),
            mo.md(
                "| input | value | grad (backward) | finite difference |\n|---|---:|---:|---:|\n"
                + "\n".join(_rows)
            ),
        ]
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### A Value used twice: why `+=`

    In `b = a + a` the node `a` is both operands, and $\partial b/\partial a = 2$. A
    backward step that *sets* each operand's gradient (`=`) writes 1 into `a`
    twice; one that *adds* (`+=`) receives both contributions. The same holds for
    any Value used in two places of a formula: the gradients of all its uses sum
    (the multivariable chain rule). This is also why gradients must be reset to
    zero between training steps.
    """)
    return


@app.cell
def _(Value, draw_dot, show):
    _a = Value(-2.0, label="a")
    _b = _a + _a
    _b.grad = 1.0
    for _operand in _b.children:  # the bug: the chain rule with "=" instead of "+="
        _operand.grad = 1.0 * _b.grad
    assert _a.grad == 1.0

    aa = Value(-2.0, label="a")
    bb = aa + aa
    bb.label = "b"
    bb.backward()
    assert aa.grad == 2.0
    show(draw_dot(bb, rankdir="LR"))
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Re-implementing tanh using basic building blocks

    ### Number types and promotion, the Python way

    To write `a + 1` or `2 * a`, a Value must accept plain numbers on either side.
    The Julia notebook does this with conversion and promotion rules. Python
    dispatches on the left operand instead: `a + 1` calls `a.__add__(1)`, which wraps
    1 as a constant Value. For `1 + a`, Python first asks `int.__add__(1, a)`; `int`
    does not know Values and returns the special value `NotImplemented`, so Python
    then tries the reflected method `a.__radd__(1)`. A Value, in turn, returns
    `NotImplemented` for anything that is not a real number, and Python raises its
    usual `TypeError`.
    """)
    return


@app.cell
def _(Value):
    _a = Value(2.0, label="a")
    assert (1).__add__(_a) is NotImplemented  # int gives up ...
    assert (1 + _a).data == 3.0  # ... so Python calls a.__radd__(1)
    assert _a.__add__("one") is NotImplemented
    try:
        _a + "one"
    except TypeError as _error:
        _type_error = str(_error)
    assert "unsupported operand" in _type_error
    {"(1).__add__(a)": repr((1).__add__(_a)), "1 + a": repr(1 + _a), 'a + "one"': _type_error}
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    A Value keeps whatever number type it is given, and arithmetic follows
    Python's own promotion: an `int` stays an `int` (the notebook's `Value{Int64}`),
    an `int` with a `float` gives a `float`, a `Fraction` stays exact unless a float
    joins in, and NumPy scalars keep their NumPy type (`Value` sets
    `__array_ufunc__ = None`, so `numpy.float64(2) * Value(3.0)` is handed to
    `Value.__rmul__` instead of becoming a NumPy array). Gradients have the type of
    the data.
    """)
    return


@app.cell
def _(Fraction, Value, mo):
    import numpy as np

    _cases = [
        ("Value(2) + 4", lambda: Value(2) + 4),
        ("Value(2.0) + 4", lambda: Value(2.0) + 4),
        ("4 + Value(2)", lambda: 4 + Value(2)),
        ("Value(2) + Value(2.0)", lambda: Value(2) + Value(2.0)),
        ("Value(Fraction(1, 3)) + 1", lambda: Value(Fraction(1, 3)) + 1),
        ("Value(Fraction(1, 3)) + 0.5", lambda: Value(Fraction(1, 3)) + 0.5),
        ("Value(np.float32(2)) + 1", lambda: Value(np.float32(2)) + 1),
        ("np.float64(2) * Value(3.0)", lambda: np.float64(2) * Value(3.0)),
    ]
    promotion = {_name: _make() for _name, _make in _cases}
    _types = {_name: type(_v.data).__name__ for _name, _v in promotion.items()}
    assert list(_types.values()) == [
        "int",
        "float",
        "int",
        "float",
        "Fraction",
        "float",
        "float32",
        "float64",
    ]
    assert all(isinstance(_v, Value) for _v in promotion.values())
    mo.md(
        "| expression | data | type of data |\n|---|---|---|\n"
        + "\n".join(f"| `{_name}` | {_v.data} | `{_types[_name]}` |" for _name, _v in promotion.items())
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    Because nothing forces a float, a polynomial over fractions has an *exact*
    gradient. For $y = x^3 - \tfrac{2}{5}x$ at $x = \tfrac13$:
    $\;dy/dx = 3x^2 - \tfrac25 = \tfrac13 - \tfrac25 = -\tfrac1{15}$, with no rounding at all.
    """)
    return


@app.cell
def _(Fraction, Value, mo):
    x_exact = Value(Fraction(1, 3), label="x")
    y_exact = x_exact**3 - Fraction(2, 5) * x_exact
    y_exact.backward()
    assert y_exact.data == Fraction(1, 27) - Fraction(2, 15)
    assert x_exact.grad == Fraction(-1, 15) and type(x_exact.grad) is Fraction
    mo.md(f"y = `{y_exact.data!r}`, dy/dx = `{x_exact.grad!r}`: exact, no rounding")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### tanh in terms of exp

    $\tanh(n) = \dfrac{e^{2n} - 1}{e^{2n} + 1}$, written as the lecture does: $e = \exp(2n)$,
    then $o = (e - 1)/(e + 1)$. Built from `*`, `exp`, `-`, `+` and `/`, the neuron's graph
    grows, but every node only needs its own local derivative ($\frac{d}{dx}e^x = e^x$),
    and the chain rule through the bigger graph gives exactly the gradients of the
    single `tanh` node. Here $e = e^{2 \cdot 0.8814} = 5.8284$. (Only for $n$ above about
    350, where $e^{2n}$ would overflow, does `one_neuron(tanh_via_exp=True)` switch to
    the same function written as $(1 - e^{-2n})/(1 + e^{-2n})$: see below.)
    """)
    return


@app.cell
def _(by_label, draw_dot, math, one_neuron, show):
    o_exp = one_neuron(tanh_via_exp=True)
    o_exp.backward()
    _n = by_label(o_exp)
    assert math.isclose(o_exp.data, 1 / math.sqrt(2))
    assert math.isclose(_n["x₁"].grad, -1.5) and math.isclose(_n["w₁"].grad, 1.0)
    assert math.isclose(_n["x₂"].grad, 0.5) and _n["w₂"].grad == 0.0
    assert round(_n["e"].data, 4) == 5.8284  # the lecture's e = exp(2n)
    show(draw_dot(o_exp, rankdir="TB"), caption="The neuron with tanh spelled out, after backward():")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    Same value, same gradients. So why does valuegrad keep `tanh` as an operation
    of its own? Because the spelled-out formula breaks for large inputs:
    $e^{2 \cdot 400}$ overflows to infinity and $\infty/\infty$ is NaN, while
    `math.tanh(400)` is exactly 1. (The Julia notebook's `tanh` is written this
    way, and turns into NaN above $n \approx 355$.)
    """)
    return


@app.cell
def _(Value, math):
    _e = (2 * Value(400.0)).exp()
    tanh_by_exp = ((_e - 1) / (_e + 1)).data
    tanh_op = Value(400.0).tanh().data
    assert math.isnan(tanh_by_exp) and tanh_op == 1.0
    {"via exp": tanh_by_exp, "tanh op": tanh_op}
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### More operators

    Every operation valuegrad knows is one row of `valuegrad.ops`: the formula of
    its value and of its local derivative with respect to each operand (in terms
    of the operands `x`, `y` and the result `out`). The engine, higher-order
    gradients, forward mode and the compiler all read these same formulas.
    """)
    return


@app.cell
def _(mo, vg):
    mo.md(
        "| op | value | ∂out/∂x | ∂out/∂y | note |\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| `{_op.symbol}` | `{_op.out}` | `{_op.d_dx}` | "
            + (f"`{_op.d_dy}`" if _op.d_dy else "")
            + f" | {_op.doc} |"
            for _op in vg.ops.OPS
        )
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    The Julia notebook writes $a/b$ as $a \cdot b^{-1}$ and $a - b$ as $a + (-1)\,b$.
    valuegrad gives division and subtraction rows of their own (fewer nodes); the
    gradients agree with the spelled-out forms.
    """)
    return


@app.cell
def _(Value, math):
    z2 = Value(2.0)
    assert ((z2 / Value(4.0)).data, (z2 - Value(5.0)).data, (Value(5.0) - 2).data, (2 * z2).data) == (
        0.5,
        -3.0,
        3.0,
        4.0,
    )
    _p, _q = Value(3.0), Value(4.0)
    (_p / _q).backward()
    _p2, _q2 = Value(3.0), Value(4.0)
    (_p2 * _q2**-1).backward()
    assert math.isclose(_p.grad, _p2.grad) and math.isclose(_q.grad, _q2.grad)
    {"z2 / 4": z2 / Value(4.0), "z2 - 5": z2 - Value(5.0), "5 - 2": Value(5.0) - 2, "d(p/q)/dq": _q.grad}
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Implementing an MLP

    ### Neuron

    A neuron holds one weight per input and a bias, all Values (they are what
    training will change), and computes $\tanh(b + \sum_i w_i x_i)$. Inputs may be
    plain numbers: they become constant leaves of the graph. Weights start
    uniformly random in $[-1, 1]$; `seed=` makes them reproducible.
    """)
    return


@app.cell
def _(math, mo, vg):
    neuron = vg.nn.Neuron(4, seed=42)
    neuron_out = neuron([1.0, 2.0, 3.0, 4.0])
    _by_hand = math.tanh(neuron.b.data + sum(_w.data * _x for _w, _x in zip(neuron.w, [1.0, 2.0, 3.0, 4.0])))
    assert math.isclose(neuron_out.data, _by_hand) and -1 < neuron_out.data < 1
    assert len(neuron.parameters()) == 5
    mo.md(f"`neuron` = `{neuron!r}`; `neuron([1.0, 2.0, 3.0, 4.0])` = `{neuron_out!r}`")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### Layer

    A layer is a list of neurons that all read the same inputs, each with its own
    weights. (The Julia package the notebook comes from re-seeded its random
    generator for every neuron, so all neurons of a layer started identical, and
    since they also receive identical gradients, stayed identical: a layer of
    three neurons was worth one.)
    """)
    return


@app.cell
def _(mo, vg):
    layer = vg.nn.Layer(2, 3, seed=0)  # 2 inputs, 3 neurons
    layer_out = layer([1.1, 2.0])
    assert len(layer_out) == 3 and len({_o.data for _o in layer_out}) == 3  # three different neurons
    assert len(layer.parameters()) == 3 * (2 + 1)
    mo.md("`layer([1.1, 2.0])`, one output per neuron:\n\n" + "\n".join(f"- `{_o!r}`" for _o in layer_out))
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### MLP

    A multi-layer perceptron chains layers: the outputs of one are the inputs of
    the next. The notebook's network reads 3 inputs, has two hidden layers of 4
    neurons and one output: $4 \cdot (3 + 1) + 4 \cdot (4 + 1) + 1 \cdot (4 + 1) = 41$
    parameters. Its output is one Value whose graph reaches every parameter.
    """)
    return


@app.cell
def _(draw_dot, show, vg):
    mlp = vg.nn.MLP(3, [4, 4, 1], seed=1)  # 3 inputs, two hidden layers of 4, one output
    mlp_out = mlp([2.0, 3.4, -1.0])
    assert len(mlp.parameters()) == 41
    assert -1 < mlp_out.data < 1
    mlp_out.backward()
    show(
        draw_dot(mlp_out, rankdir="LR"),
        caption=f"`mlp([2.0, 3.4, -1.0])` = {mlp_out.data:.4f}, after backward(): every parameter has its grad. "
        "The inputs are on the left, the output on the right.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Loss

    Four inputs and the output we want for each. The *loss* is one number that
    measures how far the predictions are from the targets; here the sum of squared
    errors $\sum_i (\hat y_i - y_i)^2$, zero only when every prediction is exact.
    After `loss.backward()`, each parameter's `grad` says how the loss changes when
    that parameter is nudged, so a small step against the gradient,
    $p \leftarrow p - \alpha\,\partial L/\partial p$, lowers the loss. The network is
    built again from the same seed, so this cell does not depend on what other
    cells did to it.
    """)
    return


@app.cell
def _(draw_dot, mo, show, vg):
    xs, ys = vg.data.notebook_samples()
    alpha = 0.02  # the step size

    _model = vg.nn.MLP(3, [4, 4, 1], seed=1)
    _preds = [_model(_x) for _x in xs]
    loss = vg.losses.mse(_preds, ys)
    assert len(_model.parameters()) == 41 and loss.data > 1
    loss.backward()
    _w = _model.layers[0].neurons[0].w[0]
    _w_before = _w.data
    for _p in _model.parameters():
        _p.data += -alpha * _p.grad
    assert _w.data == _w_before - alpha * _w.grad
    loss_after_step = vg.losses.mse([_model(_x) for _x in xs], ys)
    assert loss_after_step.data < loss.data  # one step downhill
    mo.vstack(
        [
            mo.md(
                "| inputs xs | target ys | prediction |\n|---|---:|---:|\n"
                + "\n".join(f"| {_x} | {_y:+.0f} | {_p.data:+.4f} |" for _x, _y, _p in zip(xs, ys, _preds))
            ),
            mo.md(
                f"loss = **{loss.data:.5f}**; first weight {_w_before:.5f}, its grad {_w.grad:.5f}, "
                f"after one step {_w.data:.5f}; new loss = **{loss_after_step.data:.5f}**"
            ),
            show(
                draw_dot(loss, rankdir="LR"),
                caption="The loss graph: four forward passes through the same 41 parameters, and their squared errors summed",
            ),
        ]
    )
    return alpha, loss, loss_after_step, xs, ys


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Learning

    Training repeats that step: forward pass, loss, reset the gradients, backward
    pass, update. Resetting matters: `backward()` *adds* into `.grad` (the `a + a`
    lesson), so without `zero_grad()` every step would follow the sum of all past
    gradients. `valuegrad.train.fit(model, xs, ys, loss="mse", lr=0.02, steps=32)`
    is this same loop, with the update done by `valuegrad.optim.SGD`; the cell
    checks that it gives the same losses to the last bit.
    """)
    return


@app.cell
def _(alpha, loss, loss_after_step, mo, vg, xs, ys):
    model = vg.nn.MLP(3, [4, 4, 1], seed=1)  # the same initial network as above
    losses = []
    for _step in range(32):
        _preds = [model(_x) for _x in xs]
        _loss = vg.losses.mse(_preds, ys)
        model.zero_grad()
        _loss.backward()
        for _p in model.parameters():
            _p.data += -alpha * _p.grad
        losses.append(_loss.data)

    assert losses[0] == loss.data and losses[1] == loss_after_step.data  # the steps above, exactly
    assert losses[-1] < 0.2 < 1 < losses[0]
    predictions = [model(_x).data for _x in xs]
    assert all((_p > 0) == (_y > 0) for _p, _y in zip(predictions, ys))
    # valuegrad.train.fit runs this very loop (with valuegrad.optim.SGD): the same losses, bit for bit.
    _history = vg.train.fit(vg.nn.MLP(3, [4, 4, 1], seed=1), xs, ys, loss="mse", lr=alpha, steps=32)
    assert _history.loss == losses
    mo.md(
        "```\n"
        + "\n".join(f"iteration {_i:2d} - loss: {_l:.5f}" for _i, _l in enumerate(losses, 1))
        + "\n```\n\npredictions: "
        + ", ".join(f"{_p:+.3f}" for _p in predictions)
        + " for targets "
        + ", ".join(f"{_y:+.0f}" for _y in ys)
    )
    return (losses,)


@app.cell
def _(losses, png, vg):
    png(vg.plot.loss_curve, losses, title="The notebook's MLP: sum of squared errors")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Beyond the lecture

    ### Compiled: the chain rule, line by line

    Every training step above built the same graph again (only the numbers
    changed) and walked it node by node, which is what makes a scalar engine slow.
    `valuegrad.compile` runs the function once on Values, records the graph, and
    writes it out as straight-line Python: one line per node for the forward
    pass, then one line per local derivative for the backward pass, each with the
    rule it applies. Here is the one neuron, with $x_1, x_2$ as inputs and
    $w_1, w_2, b$ as parameters:
    """)
    return


@app.cell
def _(ONE_NEURON_BIAS, Value, math, mo, one_neuron, topological_order, vg):
    _w1, _w2, _b = Value(-3.0, label="w1"), Value(1.0, label="w2"), Value(ONE_NEURON_BIAS, label="b")

    def neuron_fn(x1, x2):
        _n = x1 * _w1 + x2 * _w2 + _b
        _n.label = "n"
        _o = _n.tanh()
        _o.label = "o"
        return _o

    compiled_neuron = vg.compile(
        neuron_fn, [Value(2.0, label="x1"), Value(0.0, label="x2")], params=[_w1, _w2, _b], mode="python"
    )
    _o = compiled_neuron([2.0, 0.0])
    _dx1, _dx2 = compiled_neuron.backward()
    assert math.isclose(_o, 1 / math.sqrt(2))
    assert math.isclose(_dx1, -1.5) and math.isclose(_dx2, 0.5)
    assert math.isclose(_w1.grad, 1.0) and _w2.grad == 0.0 and math.isclose(_b.grad, 0.5)

    # The same code at other inputs matches the eager engine.
    for _w in (_w1, _w2, _b):
        _w.grad = 0.0
    _o2 = compiled_neuron([-1.0, 0.5])
    _dx = compiled_neuron.backward()
    _eager = one_neuron(-1.0, 0.5)
    _eager.backward()
    _leaves = {_v.label: _v for _v in topological_order(_eager)}
    assert math.isclose(_o2, _eager.data)
    assert math.isclose(_dx[0], _leaves["x₁"].grad) and math.isclose(_w1.grad, _leaves["w₁"].grad)
    mo.md(f"```python\n{compiled_neuron.source}\n```")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Newton's method: derivatives of derivatives

    Gradient descent only knows the slope. Newton's method also uses the
    curvature: to minimise $f$, jump to where the local parabola
    $f(x) + f'(x)\,\delta + \tfrac12 f''(x)\,\delta^2$ bottoms out,
    $\;x \leftarrow x - f'(x)/f''(x)$. Near the minimum the error is squared at
    every step.

    The second derivative comes from differentiating the backward pass itself.
    With `backward(create_graph=True)` the chain rule is carried out on Values,
    so each `.grad` is a Value with a graph of its own, which can be drawn and
    differentiated again. `valuegrad.grad(f)` packages this as a function, and
    `grad(grad(f))` is $f''$.

    Here $f(x) = e^x - 2x$, whose minimum is at $x = \ln 2$:
    $f'(x) = e^x - 2$ and $f''(x) = e^x$.
    """)
    return


@app.cell
def _(Value, draw_dot, math, mo, show):
    def newton_f(x):
        return x.exp() - 2 * x

    x_graph = Value(1.0, label="x")
    _y = newton_f(x_graph)
    _y.label = "f"
    _y.backward(create_graph=True)
    df_value = x_graph.grad  # f'(x) as a Value: the backward pass, recorded
    df_value.label = "df/dx"
    assert isinstance(df_value, Value) and math.isclose(df_value.data, math.e - 2)
    show(
        draw_dot(df_value, rankdir="LR"),
        caption="The graph of $f'(x)$ at $x = 1$, made by the backward pass:",
    )
    return (newton_f,)


@app.cell
def _(math, mo, newton_f, vg):
    df = vg.grad(newton_f)
    d2f = vg.grad(df)
    assert math.isclose(df(1.0), math.e - 2) and math.isclose(d2f(1.0), math.e)

    _x = 0.0
    newton_steps = [_x]
    for _ in range(6):
        _x = _x - df(_x) / d2f(_x)
        newton_steps.append(_x)
    _errors = [abs(_s - math.log(2)) for _s in newton_steps]
    assert _errors[-1] < 1e-15
    assert _errors[4] < _errors[3] ** 2  # quadratic convergence: the error is squared
    mo.md(
        "| step | x | x − ln 2 |\n|---:|---:|---:|\n"
        + "\n".join(
            f"| {_i} | {_s:.15f} | {_e:.1e} |" for _i, (_s, _e) in enumerate(zip(newton_steps, _errors))
        )
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### Two moons: micrograd's demo

    micrograd closes with a classifier: 100 points on two interleaved half
    circles, labels $\pm 1$, and an MLP with two hidden layers of 16 ReLU neurons
    and a linear output (337 parameters). The loss is the max-margin (hinge) loss
    $\text{mean}_i\, \text{relu}(1 - y_i s_i)$, which is zero once every score $s_i$
    has the right sign with a margin of 1, plus a small L2 penalty
    $10^{-4} \sum p^2$ on the parameters; the learning rate decays linearly from 1.0
    to 0.1 over 100 steps.

    A step's graph has about 70,000 nodes, so `fit(..., compile=True)` traces it
    once and replays the compiled code at every step (eagerly the same loop is
    tens of times slower); the first loss is checked against the eager engine.
    """)
    return


@app.cell
def _(math, mo, png, vg):
    moons_X, moons_y = vg.data.make_moons(100, noise=0.1, seed=0)
    moons_model = vg.nn.MLP(2, [16, 16, 1], activation="relu", last_activation="linear", seed=1337)
    assert len(moons_model.parameters()) == 337

    _eager_loss, _ = vg.train.compute_loss(moons_model, moons_X, moons_y, vg.losses.hinge, 1e-4)
    moons_history = vg.train.fit(
        moons_model,
        moons_X,
        moons_y,
        loss="hinge",
        l2=1e-4,
        optimizer="sgd",
        lr=vg.optim.LinearDecay(1.0, 0.1, 100),
        steps=100,
        compile=True,
    )
    assert math.isclose(moons_history.loss[0], _eager_loss.data, rel_tol=1e-12)
    assert moons_history.accuracy[0] < 0.8 and moons_history.accuracy[-1] >= 0.97
    assert moons_history.loss[-1] < 0.1 * moons_history.loss[0]
    mo.vstack(
        [
            mo.md(f"`{moons_history!r}`"),
            mo.hstack(
                [
                    png(vg.plot.loss_curve, moons_history, title="Two moons: hinge + L2", width=480),
                    png(vg.plot.decision_boundary, moons_model, moons_X, moons_y, width=440),
                ],
                justify="start",
            ),
        ]
    )
    return


if __name__ == "__main__":
    app.run()  # a failing check raises here, with the cell's traceback
    print("tutorial.py: every cell ran and every check in it passed")
