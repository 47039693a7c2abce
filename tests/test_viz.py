"""valuegrad.viz: trace, draw_dot, real rendering through Graphviz (no mocks of the engine)."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np
import pytest

from op_cases import CASES
from valuegrad import Value, topological_order
from valuegrad.examples import one_neuron
from valuegrad.viz import (
    DEFAULT_MAX_NODES,
    GraphDrawing,
    GraphTooLargeError,
    RenderError,
    draw_dot,
    render_engine,
    trace,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RECORD = re.compile(r"^  v(\d+) \[shape=plain, label=<(.*)>\];$", re.M)
OP_NODE = re.compile(r'^  op(\d+) \[shape=ellipse.*label="(.*)"\];$', re.M)
INTO_OP = re.compile(r"^  v(\d+) -> op(\d+);$", re.M)
OUT_OF_OP = re.compile(r"^  op(\d+) -> v(\d+);$", re.M)


def backward_neuron(**kw) -> Value:
    o = one_neuron(**kw)
    o.backward()
    return o


def svg_texts(svg: str | bytes) -> list[str]:
    root = ET.fromstring(svg)
    return [el.text for el in root.iter() if el.tag.endswith("}text") and el.text]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


@pytest.fixture
def no_system_dot(monkeypatch, tmp_path):
    """PATH with no `dot` on it: the bundled pygraphviz engine must be used."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def no_engine(monkeypatch, no_system_dot):
    """Neither a system `dot` nor pygraphviz (an import of it fails as if not installed)."""
    monkeypatch.setitem(sys.modules, "pygraphviz", None)


@pytest.fixture
def empty_cwd(monkeypatch, tmp_path):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


# --- trace ----------------------------------------------------------------------


def test_trace_one_neuron_nodes_and_edges():
    o = one_neuron()
    nodes, edges = trace(o)
    assert len(nodes) == 10
    # 5 operations: 2 * and 2 + with two operands, tanh with one.
    assert len(edges) == 9
    for child, parent in edges:
        assert child in parent.children
    labels = {"x₁", "x₂", "w₁", "w₂", "b", "x₁×w₁", "x₂×w₂", "x₁×w₁ + x₂×w₂", "n", "o"}
    assert {v.label for v in nodes} == labels


def test_trace_double_use_is_one_edge():
    a = Value(3.0, label="a")
    out = a + a
    nodes, edges = trace(out)
    assert nodes == {a, out}
    assert edges == {(a, out)}


def test_trace_100k_nodes_iteratively():
    x = Value(1.0)
    for _ in range(50_000):
        x = x * 1.0000001  # a constant leaf and a product: two Values per step
    nodes, edges = trace(x)
    assert len(nodes) == 100_001
    assert len(edges) == 100_000


def test_trace_rejects_non_value():
    with pytest.raises(TypeError, match="Value"):
        trace(3.0)  # type: ignore[arg-type]


# --- the DOT text -----------------------------------------------------------------


def test_one_neuron_dot_has_one_record_per_value_and_one_node_per_op():
    o = backward_neuron()
    d = draw_dot(o)
    src = d.source
    assert len(RECORD.findall(src)) == 10
    ops = OP_NODE.findall(src)
    assert sorted(label for _, label in ops) == ["*", "*", "+", "+", "tanh"]
    assert (d.n_values, d.n_ops) == (10, 5)
    assert repr(d) == "GraphDrawing(10 values, 5 operations)"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_op_is_drawn_with_its_symbol(case):
    xs = [Value(p, label=f"x{i}") for i, p in enumerate(case.sample())]
    out = case.perform(*xs)
    out.backward()
    src = draw_dot(out).source
    want = f"{case.op.symbol}{out._k}" if case.op.number else case.op.symbol  # x ** 2 shows **2
    assert [label for _, label in OP_NODE.findall(src)] == [want]
    assert len(RECORD.findall(src)) == len(topological_order(out))


def test_a_graph_of_every_op_renders_each_symbol():
    terms = [c.perform(*(Value(p) for p in c.sample())) for c in CASES]
    out = sum(terms[1:], terms[0])
    svg = draw_dot(out, legend=False).pipe("svg")
    texts = svg_texts(svg)
    for case, term in zip(CASES, terms):
        want = f"{case.op.symbol}{term._k}" if case.op.number else case.op.symbol
        assert want in texts, (case, want)


def test_dot_edges_match_trace_with_one_arrow_per_operand():
    o = backward_neuron()
    order = topological_order(o)
    src = draw_dot(o).source
    into = [(order[int(c)], order[int(p)]) for c, p in INTO_OP.findall(src)]
    out = OUT_OF_OP.findall(src)
    assert set(into) == trace(o)[1]
    assert len(into) == 9
    # every operation node feeds exactly the Value it made
    assert all(a == b for a, b in out) and len(out) == 5


def test_double_use_gets_two_arrows():
    a = Value(3.0, label="a")
    out = a * a
    src = draw_dot(out).source
    assert INTO_OP.findall(src) == [("0", "1"), ("0", "1")]


def test_tanh_via_exp_form_counts():
    # o = (e - 1) / (e + 1), e = exp(2 * n): three constant leaves (2, 1, 1) and
    # the operations 2*n, exp, e-1, e+1, / on top of the 4 that make n.
    d = draw_dot(backward_neuron(tanh_via_exp=True))
    assert (d.n_values, d.n_ops) == (17, 9)
    assert len(RECORD.findall(d.source)) == 17
    assert sorted(label for _, label in OP_NODE.findall(d.source)) == sorted(
        ["*", "*", "+", "+", "*", "exp", "-", "+", "/"]
    )


def test_records_show_label_data_and_grad_to_4_decimals():
    records = dict(RECORD.findall(draw_dot(backward_neuron()).source))
    by_label = {}
    for body in records.values():
        cells = re.findall(r"<TD>(.*?)</TD>", body)
        by_label[re.sub(r"</?B>", "", cells[0])] = cells[1:]
    # The notebook's (and micrograd lecture's) gradients of the one-neuron example.
    assert by_label["x₁"] == ["data 2.0000", "grad -1.5000"]
    assert by_label["w₁"] == ["data -3.0000", "grad 1.0000"]
    assert by_label["x₂"] == ["data 0.0000", "grad 0.5000"]
    assert by_label["w₂"] == ["data 1.0000", "grad 0.0000"]
    assert by_label["b"] == ["data 6.8814", "grad 0.5000"]
    assert by_label["n"] == ["data 0.8814", "grad 0.5000"]
    assert by_label["o"] == ["data 0.7071", "grad 1.0000"]


def test_colours_by_role():
    o = backward_neuron()
    records = dict(RECORD.findall(draw_dot(o).source))
    order = topological_order(o)
    fills = {order[int(i)].label: re.findall(r'BGCOLOR="(#\w+)"', body)[0] for i, body in records.items()}
    leaves = {fills[k] for k in ("x₁", "x₂", "w₁", "w₂", "b")}
    middle = {fills[k] for k in ("x₁×w₁", "x₂×w₂", "x₁×w₁ + x₂×w₂", "n")}
    assert len(leaves) == 1 and len(middle) == 1
    assert len(leaves | middle | {fills["o"]}) == 3
    # constants made from numbers (the 2 and 1s of the exp form) are leaves too
    o2 = one_neuron(tanh_via_exp=True)
    order2 = topological_order(o2)
    for i, body in RECORD.findall(draw_dot(o2).source):
        if order2[int(i)].is_leaf:
            assert f'BGCOLOR="{next(iter(leaves))}"' in body
    assert "leaf (input, parameter, constant)" in draw_dot(o).source
    assert "leaf (input" not in draw_dot(o, legend=False).source


def test_number_types_and_graph_gradients():
    i = Value(3, label="int")
    q = Value(Fraction(1, 3), label="frac")
    f32 = Value(np.float32(0.5), label="f32")
    out = i * q + f32**2 + Value(1e20, label="big")
    out.backward(create_graph=True)  # grads become Values
    assert isinstance(i.grad, Value)
    src = draw_dot(out).source
    assert "data 3.0000" in src and "data 0.3333" in src and "data 0.5000" in src
    assert "data 1.0000e+20" in src
    assert "data 2.5000e-07" in draw_dot(Value(2.5e-7)).source
    assert "grad 0.3333 (Value)" in src  # d out / d i = q
    assert 'label="**2"' in src


def test_no_optional_dependency_needed_for_source():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["graphviz"] = None
        sys.modules["pygraphviz"] = None
        from valuegrad import draw_dot
        from valuegrad.examples import one_neuron
        d = draw_dot(one_neuron())
        assert d.source.startswith("digraph G {"), d.source[:20]
        print(d)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "GraphDrawing(10 values, 5 operations)"


def test_import_valuegrad_loads_the_drawing_package_only_when_used():
    """valuegrad.viz is a package (viz/__init__.py and one module per job), loaded on first use."""
    code = textwrap.dedent(
        """
        import sys
        import valuegrad
        assert not [m for m in sys.modules if m.startswith("valuegrad.viz")], "imported too early"
        draw_dot = valuegrad.draw_dot
        import valuegrad.viz
        assert draw_dot is valuegrad.viz.draw_dot and valuegrad.trace is valuegrad.viz.trace
        print(sorted(m for m in sys.modules if m.startswith("valuegrad.viz")))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "['valuegrad.viz', 'valuegrad.viz.dot_text', 'valuegrad.viz.rendering', 'valuegrad.viz.step_view']"
    )


def test_options_and_bad_arguments():
    v = Value(1.0, label="x") * 2
    src = draw_dot(v, rankdir="TB", size=(4, 3), dpi=150).source
    assert 'rankdir="TB";' in src and 'size="4,3";' in src and 'dpi="150";' in src
    assert 'size="7,5!";' in draw_dot(v, size="7,5!").source
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(v, rankdir="sideways")
    with pytest.raises(ValueError, match="size"):
        draw_dot(v, size=(4, -1))
    with pytest.raises(ValueError, match="dpi"):
        draw_dot(v, dpi=0)
    with pytest.raises(ValueError, match="format"):
        draw_dot(v, format="gif")
    with pytest.raises(TypeError, match="Value"):
        draw_dot(2.0)  # type: ignore[arg-type]


# --- max_nodes --------------------------------------------------------------------


def test_max_nodes_fails_with_the_node_count():
    x = Value(1.0)
    for _ in range(5):
        x = x + 1  # 11 Values
    assert draw_dot(x, max_nodes=11).n_values == 11
    with pytest.raises(GraphTooLargeError, match=r"has 11 Values, more than max_nodes=10"):
        draw_dot(x, max_nodes=10)


def test_default_max_nodes_and_none():
    x = Value(1.0)
    for _ in range(DEFAULT_MAX_NODES // 2):
        x = x + 1
    n = 2 * (DEFAULT_MAX_NODES // 2) + 1
    assert n > DEFAULT_MAX_NODES
    with pytest.raises(GraphTooLargeError, match=f"{n:,} Values"):
        draw_dot(x)
    assert draw_dot(x, max_nodes=None).n_values == n  # DOT text only; not rendered here


# --- real rendering -----------------------------------------------------------------


@pytest.mark.usefixtures("no_system_dot")
def test_svg_and_png_through_bundled_engine(tmp_path, empty_cwd):
    assert render_engine() == "pygraphviz"
    o = backward_neuron()
    d = draw_dot(o)
    out = tmp_path / "out"
    out.mkdir()

    svg_path = d.save(out / "neuron.svg")
    assert svg_path == out / "neuron.svg"
    texts = svg_texts(svg_path.read_bytes())
    for v in topological_order(o):
        assert v.label in texts
    for shown in ("data 0.7071", "grad -1.5000", "tanh", "*", "+"):
        assert shown in texts

    png = d.save(out / "neuron.PNG").read_bytes()
    width, height = png_size(png)
    assert 500 < width < 10_000 and 50 < height < 2_000
    assert width > height  # left to right
    # dpi scales the bitmap
    width2, _ = png_size(draw_dot(o, dpi=192).pipe("png"))
    assert 1.8 < width2 / width < 2.2

    pdf = d.save(out / "neuron.bin", format="pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert d.save(out / "neuron.dot").read_text(encoding="utf-8") == d.source
    assert sorted(p.name for p in out.iterdir()) == ["neuron.PNG", "neuron.bin", "neuron.dot", "neuron.svg"]
    assert list(empty_cwd.iterdir()) == []


@pytest.mark.usefixtures("no_system_dot")
def test_hostile_labels_escape_and_render():
    labels = ["'\"); import os #'", "a|b", "{x}", "<y>", "x₁", "w₁ & <b>", "back\\slash \\n", "&amp;"]
    vs = [Value(float(i), label=s) for i, s in enumerate(labels)]
    out = vs[0]
    for v in vs[1:]:
        out = out + v
    out.label = 'two\nlines "}'
    texts = svg_texts(draw_dot(out).svg())
    for s in labels:
        assert s in texts
    assert "two" in texts and 'lines "}' in texts


def test_system_dot_route_through_graphviz_package(monkeypatch, tmp_path):
    """A `dot` on PATH is driven through the graphviz package's pipe.

    The machine has no system Graphviz, so the `dot` put on PATH here is a small
    executable that lays out stdin with the bundled Graphviz (pygraphviz) and
    records that it was called: the graphviz package, the subprocess and the
    rendering are all real.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    dot = bin_dir / "dot"
    dot.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""
            import sys, pygraphviz
            fmt = next(a[2:] for a in sys.argv[1:] if a.startswith("-T"))
            open({str(calls)!r}, "a").write(" ".join(sys.argv[1:]) + "\\n")
            sys.stdout.buffer.write(
                pygraphviz.AGraph(string=sys.stdin.buffer.read().decode()).draw(format=fmt, prog="dot")
            )
            """
        )
    )
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + os.environ.get("PATH", ""))
    assert render_engine() == "dot"
    d = draw_dot(backward_neuron())
    assert "x₁" in svg_texts(d.svg())
    assert png_size(d.pipe("png"))[0] > 500
    assert "-Tsvg" in calls.read_text() and "-Tpng" in calls.read_text()


@pytest.mark.usefixtures("no_engine", "empty_cwd")
def test_no_engine_gives_helpful_error_and_source_still_works(tmp_path):
    assert render_engine() is None
    d = draw_dot(backward_neuron())
    assert d.source.startswith("digraph G {")
    target = tmp_path / "neuron.svg"
    with pytest.raises(RenderError, match=re.escape('pip install "valuegrad[viz]"')):
        d.save(target)
    assert not target.exists()
    with pytest.raises(RenderError, match="PNG"):
        d.pipe("png")
    # the DOT text never needs an engine
    assert d.save(tmp_path / "neuron.gv").read_text(encoding="utf-8") == d.source
    # notebooks get a text that says what to install instead of a traceback
    assert d._repr_svg_() is None
    bundle = d._repr_mimebundle_()
    assert set(bundle) == {"text/plain"} and "valuegrad[viz]" in bundle["text/plain"]
    mime, text = d._mime_()
    assert mime == "text/plain" and "valuegrad[viz]" in text


def test_save_needs_a_known_format(tmp_path):
    d = draw_dot(Value(1.0, label="x") * 2)
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf or \.dot"):
        d.save(tmp_path / "graph")
    with pytest.raises(ValueError, match="format"):
        d.save(tmp_path / "graph.svg", format="gif")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("no_system_dot")
def test_notebook_display_writes_no_files(empty_cwd):
    d = draw_dot(backward_neuron())
    assert isinstance(d, GraphDrawing)
    svg = d._repr_svg_()
    assert svg is not None and "x₁" in svg_texts(svg)
    bundle = d._repr_mimebundle_(include=None, exclude=None)
    assert bundle["image/svg+xml"] == svg and bundle["text/plain"] == repr(d)
    assert d._mime_() == ("image/svg+xml", svg)
    d.pipe("png")
    d.pipe("pdf")
    assert list(empty_cwd.iterdir()) == []


@pytest.mark.usefixtures("no_system_dot")
def test_marimo_shows_it_inline():
    from marimo._output import formatting

    out = formatting.try_format(draw_dot(backward_neuron()))
    assert out.mimetype == "image/svg+xml"
    assert "x₁" in svg_texts(out.data)


# --- micrograd's draw_dot(root, format, rankdir) and graphviz's Digraph.render ----------------


def test_micrograds_call_positional_format_and_rankdir():
    o = backward_neuron()
    d = draw_dot(o, "png", "TB")  # micrograd's trace_graph: draw_dot(root, format='svg', rankdir='LR')
    assert d.format == "png" and 'rankdir="TB";' in d.source
    d2 = draw_dot(o, format="svg", rankdir="LR")
    assert d2.format == "svg" and 'rankdir="LR";' in d2.source
    with pytest.raises(ValueError, match="format"):
        draw_dot(o, "jpg")


@pytest.mark.usefixtures("no_system_dot")
def test_render_writes_the_dot_text_and_the_picture_like_graphviz(tmp_path, empty_cwd):
    d = draw_dot(backward_neuron(), format="png")
    # Digraph.render("graph"): the DOT text in `graph`, the picture in `graph.png`, whose path is returned.
    written = d.render("graph")
    assert written == "graph.png" and isinstance(written, str)
    assert (empty_cwd / "graph").read_text(encoding="utf-8") == d.source
    assert png_size((empty_cwd / "graph.png").read_bytes())[0] > 500
    # directory=, format= overriding draw_dot's, cleanup= removing the DOT text
    out = tmp_path / "out"
    path = d.render("neuron.gv", directory=out, format="svg", cleanup=True)
    assert path == str(out / "neuron.gv.svg") and sorted(p.name for p in out.iterdir()) == ["neuron.gv.svg"]
    assert "x₁" in svg_texts((out / "neuron.gv.svg").read_bytes())
    # outfile= names the picture; its suffix gives the format
    path = d.render(tmp_path / "src.gv", outfile=tmp_path / "pic.pdf")
    assert path == str(tmp_path / "pic.pdf") and (tmp_path / "pic.pdf").read_bytes().startswith(b"%PDF-")
    with pytest.raises(ValueError, match="overwrite the DOT text"):
        d.render(tmp_path / "same.svg", outfile=tmp_path / "same.svg")


@pytest.mark.usefixtures("no_engine")
def test_render_without_graphviz_writes_nothing(tmp_path):
    d = draw_dot(backward_neuron())
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RenderError, match="valuegrad\\[viz\\]"):
        d.render(out / "graph")
    assert list(out.iterdir()) == []


# --- quiet renders, text in a real font -------------------------------------------------------


_FRESH_RENDER = textwrap.dedent(
    """
    import os, sys
    os.environ["PATH"] = ""  # the bundled Graphviz, as on a machine with no system package
    from valuegrad.viz import draw_dot, render_engine
    from valuegrad.viz.rendering import _without_fontconfig_warnings
    from valuegrad.examples import one_neuron
    assert render_engine() == "pygraphviz"
    sys.stdout.buffer.write(draw_dot(one_neuron()).pipe("png")[:8])
    with _without_fontconfig_warnings():  # other messages on fd 2 are passed on
        os.write(2, b"Fontconfig warning: dropped\\nGraphviz says this\\n")
    """
)


def test_a_fresh_process_renders_without_fontconfig_warnings():
    """The pygraphviz wheel's older fontconfig warns about this system's configuration once per process."""
    result = subprocess.run([sys.executable, "-c", _FRESH_RENDER], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == PNG_SIGNATURE
    assert result.stderr == b"Graphviz says this\n"


def _dark_pixels(png: bytes) -> int:
    import io

    import matplotlib.image

    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    return int((image[..., :3].mean(axis=2) < 0.5).sum())


@pytest.mark.usefixtures("no_system_dot")
def test_text_is_drawn_in_a_real_font():
    """Text is inked glyphs, as much as the text is long, and of a proportional font (i narrower than W)."""

    def ink(label: str) -> int:
        # No border, no legend: every dark pixel is part of a glyph.
        source = (
            'digraph G { node [shape=plaintext, fontname="Helvetica,Arial,sans-serif", fontsize=11]; '
            f'n [label="{label}"]; }}'
        )
        return _dark_pixels(GraphDrawing(source, 1, 0).pipe("png"))

    assert ink("") == 0
    one, eight = ink("W"), ink("WWWWWWWW")
    assert one > 20 and 6 * one < eight < 10 * one
    assert ink("iiiiiiii") < 0.5 * eight


# --- bad arguments: a clear error ----------------------------------------------------------


@pytest.mark.parametrize("bad", [3.0, None, "x"])
def test_draw_dot_and_trace_reject_what_is_not_a_value(bad):
    with pytest.raises(TypeError):
        draw_dot(bad)
    with pytest.raises(TypeError):
        trace(bad)
