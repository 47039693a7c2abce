"""griffe extensions for the API reference (loaded by mkdocstrings, see mkdocs.yml).

- `DoctestFences`: valuegrad's docstrings hold doctest examples (``>>> ...`` lines and
  their output) in running prose, which Markdown would read as nested block quotes.
  Each example, up to the blank line that ends it for doctest too, goes into a
  ``pycon`` fence, so the reference shows it as a console session. The docstrings
  stay plain doctests: ``tests/test_docs.py`` runs them.
- `RuntimeMembers`: some methods are made when the module is imported (Value's
  arithmetic methods are generated from the op table), so reading the source does
  not find them. Each class gets the public methods its imported class has.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe

FENCE = "```"


def fence_doctests(text: str) -> str:
    """``text`` with every doctest example inside a ``pycon`` code fence.

    >>> fence_doctests("Adds.\\n>>> 1 + 1\\n2\\n\\nDone.").split("\\n")
    ['Adds.', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'Done.']
    """
    lines = text.split("\n")
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(FENCE):
            in_fence = not in_fence
        if in_fence or not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        if out and out[-1].strip():
            out.append("")  # a fence right after a paragraph's last line needs a blank line
        out.append(f"{indent}{FENCE}pycon")
        while i < len(lines) and lines[i].strip():  # as for doctest, an example ends at a blank line
            out.append(lines[i])
            i += 1
        out.append(f"{indent}{FENCE}")
        if i < len(lines):
            out.append("")
            i += 1
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence the doctest examples of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)


class RuntimeMembers(griffe.Extension):
    """Give each valuegrad class the public methods and docstrings it has once imported."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "valuegrad":
            return
        modules = [pkg]
        while modules:  # the package and its subpackages' modules, no recursion
            module = modules.pop()
            if module.name == "__main__" or module.is_alias:  # __main__ runs the command line
                continue
            modules.extend(m for m in module.modules.values() if not m.is_alias)
            classes = [c for c in module.classes.values() if not c.is_alias]
            if classes:
                self._complete(module, classes)

    @staticmethod
    def _complete(module: griffe.Module, classes: list[griffe.Class]) -> None:
        imported = importlib.import_module(module.path)
        inspected: griffe.Module | None = None
        for cls in classes:
            runtime = getattr(imported, cls.name, None)
            if not inspect.isclass(runtime):
                continue
            for name, attr in vars(runtime).items():
                if name.startswith("_") or not callable(attr):
                    continue
                member = cls.members.get(name)
                if member is None:  # made at import time: read it from the imported class
                    inspected = inspected or griffe.inspect(module.path)
                    member = inspected[f"{cls.name}.{name}"]
                    cls.set_member(name, member)
                doc = inspect.getdoc(attr)
                if member.docstring is None and doc:  # e.g. a typing stub standing for a generated method
                    member.docstring = griffe.Docstring(fence_doctests(doc), parent=member)
