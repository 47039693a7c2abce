"""The README's Python examples run as written and show what the README says they show.

The ```python blocks run in order in one namespace, in an empty folder (they save
drawings, plots and a model file). A comment after a statement is a claim about what
it shows when it starts the way a number or a repr does (``-8.0``, ``[``, ``(``,
``History(``, ``MLP of``); any other comment is prose (``# the DOT text: ...``):

- when the statement prints, its output contains the claim's pieces in order,
  ``...`` standing for anything: ``print(loss)  # 6.24427 ... 0.11646``;
- else, after an expression with a value, the claim starts with the value's repr:
  ``vg.grad(f)(2.0)  # 12.0: ...``.

A plain block that follows a Python block and a line ending in "prints" or
"prints, among other lines:" lists lines of that block's output.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import tokenize
from pathlib import Path
from typing import Any, NamedTuple

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
CLAIM = re.compile(r"-?\d|[\[({'\"]|[A-Z]\w*[( ]")  # how a number, a repr or a printed model starts


class Block(NamedTuple):
    line: int  # the README line of the block's first code line
    code: str
    prints: list[str]  # the lines of a "prints" block just after it


def readme_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```python"):
            end = lines.index("```", i + 1)
            code = "\n".join(lines[i + 1 : end])
            prints: list[str] = []
            after = end + 1
            while after < len(lines) and not lines[after].strip():
                after += 1
            if after < len(lines) and re.search(r"\bprints(, among other lines)?:?$", lines[after]):
                start = after + 1
                while not lines[start].startswith("```"):
                    start += 1
                stop = lines.index("```", start + 1)
                prints = [ln.strip() for ln in lines[start + 1 : stop] if ln.strip() not in ("", "...")]
            blocks.append(Block(i + 2, code, prints))
            i = end
        i += 1
    return blocks


def comments_by_line(code: str) -> dict[int, str]:
    """Line number (1-based, in ``code``) -> the comment's text, for every comment."""
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    return {tok.start[0]: tok.string.lstrip("#").strip() for tok in tokens if tok.type == tokenize.COMMENT}


def claim_of(stmt: ast.stmt, comments: dict[int, str], code_lines: list[str]) -> str | None:
    """The claim written after ``stmt``: its trailing comment, or a comment line right below it."""
    end = stmt.end_lineno or stmt.lineno
    comment = comments.get(end)
    below = end + 1
    if comment is None and below in comments and code_lines[below - 1].lstrip().startswith("#"):
        comment = comments[below]
    if comment is None or not CLAIM.match(comment):
        return None  # no comment, or prose
    return comment


def check_claim(claim: str, stmt: ast.stmt, value: Any, output: str, where: str) -> None:
    if output:
        pattern = ".*".join(re.escape(piece.strip()) for piece in claim.split("..."))
        shown = output if len(output) < 400 else f"{output[:150]}...{output[-150:]}"
        assert re.search(pattern, output, re.DOTALL), f"{where}: printed {shown!r}, the README says {claim!r}"
    elif isinstance(stmt, ast.Expr) and value is not None:
        assert claim.startswith(repr(value)), f"{where}: the value is {value!r}, the README says {claim!r}"


def run_block(block: Block, namespace: dict[str, Any]) -> str:
    """Run ``block`` statement by statement, checking each claim; return everything it printed."""
    tree = ast.parse(block.code)
    comments = comments_by_line(block.code)
    code_lines = block.code.splitlines()
    printed = []
    for stmt in tree.body:
        where = f"README.md line {block.line + stmt.lineno - 1}"
        out = io.StringIO()
        value = None
        with contextlib.redirect_stdout(out):
            if isinstance(stmt, ast.Expr):
                # The README's own examples, the code this test exists to run.
                value = eval(compile(ast.Expression(stmt.value), where, "eval"), namespace)  # noqa: S307
            else:
                exec(compile(ast.Module([stmt], type_ignores=[]), where, "exec"), namespace)
        printed.append(out.getvalue())
        claim = claim_of(stmt, comments, code_lines)
        if claim is not None:
            check_claim(claim, stmt, value, out.getvalue(), where)
    return "".join(printed)


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_examples_to_check() -> None:
    assert len(BLOCKS) >= 10
    assert any(block.prints for block in BLOCKS)


def test_readme_examples_show_what_the_readme_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "readme"}
    for block in BLOCKS:
        output = run_block(block, namespace)
        lines = {line.strip() for line in output.splitlines()}
        for expected in block.prints:
            assert expected in lines, f"README.md line {block.line}: the block does not print {expected!r}"
    assert {"neuron.svg", "neuron.png", "loss.png", "boundary.png", "moons.json"} <= {
        p.name for p in tmp_path.iterdir()
    }


def test_a_wrong_claim_is_caught() -> None:
    """The checker itself: a claim that does not hold fails, prose is left alone."""
    block = Block(1, "x = 2\nx * 3  # 6\nprint(x, x)  # 2 ... 2\nprint(x)  # the number two", [])
    run_block(block, {})
    for wrong in ("x = 2\nx * 3  # 7", "x = 2\nprint(x + 1)  # 4 ... 2", "x = 2\nx\n# 3, below"):
        with pytest.raises(AssertionError, match="the README says"):
            run_block(Block(1, wrong, []), {})
