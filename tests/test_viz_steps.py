"""The step view of backward(): draw_dot(root, step=k), backward_steps and its HTML page (no browser here;
tests/test_backprop_page_browser.py drives the page in Chromium)."""

from __future__ import annotations

import html.parser
import math
import re
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from valuegrad import Value, topological_order
from valuegrad.examples import first_expression, one_neuron
from valuegrad.viz import BackwardSteps, GraphDrawing, backward_steps, draw_dot, render_engine

RECORD = re.compile(r"^  v(\d+) \[shape=plain, label=<(.*)>(, class=\"current\")?\];$", re.M)


def grads_shown(drawing: GraphDrawing, order: list[Value]) -> dict[str, str]:
    """Each labelled Value's grad text in a drawing's DOT text."""
    shown = {}
    for i, body, _ in RECORD.findall(drawing.source):
        match = re.search(r"grad (-?[\d.]+(?:e[-+]\d+)?)", body)
        assert match, body
        shown[order[int(i)].label] = match.group(1)
    return shown


def current_node(drawing: GraphDrawing, order: list[Value]) -> Value:
    (i,) = [int(i) for i, _, current in RECORD.findall(drawing.source) if current]
    return order[i]


def needs_graphviz() -> None:
    assert render_engine() is not None, 'no Graphviz engine: pip install "valuegrad[viz]"'


# --- the frames -------------------------------------------------------------------------


def test_frames_follow_backward_one_operation_at_a_time():
    L = first_expression()
    order = topological_order(L)
    steps = backward_steps(L)
    assert isinstance(steps, BackwardSteps) and len(steps) == 4  # the seed + 3 operations
    expected = [
        # seed: only L's grad is set
        {
            "a": "0.0000",
            "b": "0.0000",
            "c": "0.0000",
            "d": "0.0000",
            "e": "0.0000",
            "f": "0.0000",
            "L": "1.0000",
        },
        # L = e * f: e gets f = -2, f gets e = 4
        {
            "a": "0.0000",
            "b": "0.0000",
            "c": "0.0000",
            "d": "0.0000",
            "e": "-2.0000",
            "f": "4.0000",
            "L": "1.0000",
        },
        # e = d + c passes -2 to both
        {
            "a": "0.0000",
            "b": "0.0000",
            "c": "-2.0000",
            "d": "-2.0000",
            "e": "-2.0000",
            "f": "4.0000",
            "L": "1.0000",
        },
        # d = a * b: a gets b * -2 = 6, b gets a * -2 = -4 (the lecture's numbers)
        {
            "a": "6.0000",
            "b": "-4.0000",
            "c": "-2.0000",
            "d": "-2.0000",
            "e": "-2.0000",
            "f": "4.0000",
            "L": "1.0000",
        },
    ]
    assert [grads_shown(frame, order) for frame in steps] == expected
    assert [current_node(frame, order).label for frame in steps] == ["L", "L", "e", "d"]
    assert steps.captions[0].startswith("Before the first step: L.grad = 1")
    assert steps.captions[3] == (
        "Step 3 of 3: the chain rule at d = a * b, whose grad is -2.0000. Each operand's grad grows by "
        "its local derivative × -2.0000: a.grad += -3.0000 × -2.0000 = 6.0000; "
        "b.grad += 2.0000 × -2.0000 = -4.0000."
    )
    # The last frame is what backward() gives.
    L.backward()
    assert grads_shown(steps[-1], order) == {v.label: f"{v.grad:.4f}" for v in order}


def test_draw_dot_step_is_the_same_frame_and_checks_its_range():
    o = one_neuron()
    steps = backward_steps(o)
    assert len(steps) == 6
    for k in range(6):
        assert draw_dot(o, step=k).source == steps[k].source
        assert draw_dot(o, step=k).caption == steps.captions[k]
    assert draw_dot(o).caption == ""
    with pytest.raises(ValueError, match=r"step must be from 0 \(the seed\) to 5"):
        draw_dot(o, step=6)
    with pytest.raises(ValueError, match="step must be from 0"):
        draw_dot(o, step=-1)
    with pytest.raises(TypeError, match="step must be an int"):
        draw_dot(o, step=1.0)  # type: ignore[arg-type]
    leaf = Value(3.0, label="x")
    assert len(backward_steps(leaf)) == 1 and "x.grad = 1" in draw_dot(leaf, step=0).caption


def test_the_graph_keeps_its_own_gradients():
    # Fresh (all 0), after backward(), after two backward() calls (accumulated), and as Values.
    for prepare in (lambda r: None, lambda r: r.backward(), lambda r: (r.backward(), r.backward())):
        o = one_neuron()
        prepare(o)
        order = topological_order(o)
        before = [v.grad for v in order]
        backward_steps(o)
        draw_dot(o, step=3)
        assert [v.grad for v in order] == before
    o = one_neuron()
    o.backward(create_graph=True)
    order = topological_order(o)
    before = [v.grad for v in order]
    assert any(isinstance(g, Value) for g in before)
    backward_steps(o)
    assert all(a is b for a, b in zip((v.grad for v in order), before))


def test_a_step_that_fails_still_puts_the_gradients_back():
    x = Value(0.0, label="x")
    y = x**0.5  # its derivative at 0 is 1 / (2 * sqrt(0)): the chain rule cannot be applied
    y.label = "y"
    x.grad, y.grad = 7.0, 8.0
    with pytest.raises((ArithmeticError, ValueError)):
        backward_steps(y)
    assert (x.grad, y.grad) == (7.0, 8.0)
    assert "y.grad = 1" in draw_dot(y, step=0).caption  # the seed needs no chain rule


def test_a_value_used_twice_receives_both_contributions_in_one_step():
    a = Value(-2.0, label="a")
    b = a + a
    b.label = "b"
    steps = backward_steps(b)
    order = topological_order(b)
    assert len(steps) == 2
    assert grads_shown(steps[1], order) == {"a": "2.0000", "b": "1.0000"}
    assert "a.grad += 2.0000 × 1.0000 = 2.0000" in steps.captions[1]


def test_exact_numbers_and_a_zero_gradient():
    a, b = Value(Fraction(1, 3), label="a"), Value(Fraction(3), label="b")
    c = a * b
    c.label = "c"
    z = c.relu() * 0
    z.label = "z"
    steps = backward_steps(z)
    assert len(steps) == 4
    assert "Nothing flows back" in steps.captions[2]  # relu's grad is 0 (z = relu(c) * 0)
    assert a.grad == 0 and isinstance(a.grad, Fraction)  # untouched, of its own type


def test_highlight_colours_and_pending_grads_in_the_dot_text():
    o = one_neuron()
    order = topological_order(o)
    src = draw_dot(o, step=2).source  # the chain rule at n = (x₁w₁ + x₂w₂) + b
    n = order.index(next(v for v in order if v.label == "n"))
    assert f"v{n} [shape=plain" in src and 'class="current"' in src
    assert re.search(rf'op{n} \[shape=ellipse, style=filled, fillcolor="#ffe066", color="#d62728"', src)
    assert len(re.findall(rf'-> op{n} \[color="#d62728", penwidth=2\]', src)) == 2
    x1 = order.index(next(v for v in order if v.label == "x₁"))
    x1_record = re.search(rf"^  v{x1} \[.*$", src, re.M).group(0)
    assert '<FONT COLOR="#9a9a9a">grad 0.0000</FONT>' in x1_record  # not reached yet
    assert "chain rule applied here" in src and "grad not reached yet" in src


# --- rendering: a layout that does not move ----------------------------------------------


def _boxes(svg: str) -> dict[str, str]:
    """Each node's title -> the points of its first polygon: where Graphviz put it."""
    ns = {"svg": "http://www.w3.org/2000/svg"}
    out = {}
    for g in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        if (g.get("class") or "").startswith("node"):
            title = g.find("svg:title", ns).text
            shape = g.find("svg:polygon", ns)
            if shape is None:
                shape = g.find("svg:ellipse", ns)
                out[title] = f"{shape.get('cx')},{shape.get('cy')}"
            else:
                out[title] = shape.get("points")
    return out


def test_every_frame_has_the_same_layout():
    needs_graphviz()
    for root in (one_neuron(), one_neuron(tanh_via_exp=True), first_expression()):
        frames = backward_steps(root)
        layouts = [_boxes(frame.svg()) for frame in frames]
        assert all(layout == layouts[0] for layout in layouts), "a node moved between frames"
        sizes = {re.search(r'<svg width="(\w+)" height="(\w+)"', f.svg()).groups() for f in frames}
        assert len(sizes) == 1


def test_frames_render_to_png_with_the_highlight(tmp_path):
    needs_graphviz()
    png = draw_dot(one_neuron(), step=1).pipe("png")
    assert png.startswith(b"\x89PNG")
    svg = draw_dot(one_neuron(), step=1).svg()
    assert 'class="node current"' in svg and "#d62728" in svg


# --- the page -----------------------------------------------------------------------------


class _Resources(html.parser.HTMLParser):
    """Every tag, and every attribute that would make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.fetches: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "data", "action") and value:
                self.fetches.append((tag, name, value))


def test_page_is_one_self_contained_file(tmp_path):
    needs_graphviz()
    steps = backward_steps(one_neuron(), title="The neuron <o>")
    path = steps.save(tmp_path / "backprop.html")
    assert path == tmp_path / "backprop.html" and list(tmp_path.iterdir()) == [path]
    page = path.read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(page)
    # Nothing is fetched: no script src, no stylesheet link, no image, no font, no import.
    assert parser.fetches == [] and "link" not in parser.tags and "img" not in parser.tags
    assert parser.tags.count("script") == 1 and parser.tags.count("style") == 1
    assert "@import" not in page and "url(" not in page and "<?xml" not in page
    # The only addresses are SVG's namespace names, which a browser never fetches.
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    # One figure per frame, each with its caption and inline picture; ids unique across frames.
    assert page.count('<figure class="frame"') == 6 and page.count("<svg") == 6
    assert 'max="5"' in page and "The neuron &lt;o&gt;" in page
    for caption in steps.captions:
        assert caption.replace("'", "&#x27;") in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_page_without_graphviz_is_a_clear_error_and_no_file(tmp_path, monkeypatch):
    import sys

    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    from valuegrad.viz import RenderError

    with pytest.raises(RenderError, match="valuegrad\\[viz\\]"):
        backward_steps(first_expression()).save(tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()


def test_backward_steps_bounds_the_graph():
    x = Value(1.0)
    for _ in range(150):
        x = x * 1.01  # 301 Values
    from valuegrad.viz import GraphTooLargeError

    with pytest.raises(GraphTooLargeError, match="max_nodes=200"):
        backward_steps(x)
    assert len(backward_steps(x, max_nodes=None)) == 151
    assert math.isclose(x.data, 1.01**150)
