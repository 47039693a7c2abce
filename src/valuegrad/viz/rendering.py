"""Rendering DOT text through Graphviz, and `GraphDrawing`, the drawing `draw_dot` returns.

`render_engine` says which Graphviz renders: a system ``dot`` on PATH (through the
``graphviz`` package), else the Graphviz inside the ``pygraphviz`` wheel, run
in-process with its fontconfig warnings dropped from standard error (see
`valuegrad.viz`). `GraphDrawing` holds the DOT text and renders it on demand
(``pipe``, ``save``, and ``render`` as graphviz's ``Digraph.render``), and shows
itself inline in Jupyter and marimo.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import threading
import webbrowser
from pathlib import Path
from typing import Any, Iterator, Literal, Union

from .dot_text import _check_format

Engine = Literal["dot", "pygraphviz"]
_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

INSTALL_HINT = (
    'pip install "valuegrad[viz]"  (installs pygraphviz, whose wheel includes Graphviz: '
    "no system package needed), or install Graphviz so that `dot` is on PATH"
)

PathLike = Union[str, "os.PathLike[str]"]


class RenderError(RuntimeError):
    """No Graphviz engine is available to render the graph (the DOT text still is)."""


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


def _format_of(path: Path, format: str | None, shown: str) -> str:
    """``format`` checked, or else the picture format that ``path``'s suffix names."""
    if format is not None:
        return _check_format(format)
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot tell the picture format from {shown}: "
            "give it a .svg, .png, .pdf or .dot suffix, or pass format='svg' (or 'png', 'pdf', 'dot')"
        )
    return fmt


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

        >>> from valuegrad import Value, draw_dot
        >>> drawing = draw_dot(Value(1.0, label="x") * 2)
        >>> # drawing.save("graph.png"); drawing.save("graph.out", format="svg")
        """
        target = Path(path)
        fmt = _format_of(target, format, repr(os.fspath(path)))
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

        >>> from valuegrad import Value, draw_dot
        >>> drawing = draw_dot(Value(1.0, label="x") * 2, format="png")
        >>> # drawing.render("graph")   -> 'graph.png' (and the DOT text in 'graph')
        """
        source_path = Path(filename) if directory is None else Path(directory) / filename
        if outfile is not None:
            picture = Path(outfile)
            fmt = _format_of(picture, format, f"outfile={os.fspath(outfile)!r}")
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
