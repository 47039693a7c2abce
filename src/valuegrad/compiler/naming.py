"""Names and literals in generated code: labels become identifiers, never code.

A label is reduced to a plain identifier ``[A-Za-z_][A-Za-z0-9_]*`` (``x₁`` gives
``x1``), or left out when nothing readable remains (the code then says ``v17``);
names are made unique (``a``, ``a_2``); the original label is shown in a comment,
escaped with ``repr`` (which has no line breaks).

>>> safe_name("x₁"), safe_name("exp"), safe_name("\\nimport os"), safe_name("α")
('x1', 'exp_', 'import_os', '')
>>> names = Names(); names.take("a"), names.take("a")
('a', 'a_2')
>>> literal(-2), literal(0.5), literal(float("inf"))
('(-2)', '0.5', None)
"""

from __future__ import annotations

import itertools
import keyword
import math
import re
import unicodedata
from typing import Any

from .. import ops

__all__ = ["IDENTIFIER", "RESERVED", "safe_name", "Names", "comment", "literal"]

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
"""A whole string that is one plain identifier."""

RESERVED = frozenset(
    set(keyword.kwlist) | set(getattr(keyword, "softkwlist", ())) | set(ops.FUNCTIONS) | {"v", "g"}
)
"""Names a label never becomes: keywords, the formulas' functions, the level code's buffers."""


def safe_name(label: str) -> str:
    """A label reduced to a plain identifier, or "" when nothing readable is left."""
    text = unicodedata.normalize("NFKC", label)  # x₁ -> x1
    text = re.sub(r"[^A-Za-z0-9_]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("_")
    if not text or text[0].isdigit() or len(text) > 32:
        return ""
    if text in RESERVED:
        text += "_"
    assert IDENTIFIER.match(text)
    return text


class Names:
    """Unique identifiers: a base name, then base_2, base_3, ..."""

    def __init__(self) -> None:
        self.used = set(RESERVED)

    def take(self, base: str) -> str:
        """``base``, or the first of ``base_2``, ``base_3``, ... not taken yet; now taken."""
        name = base
        for n in itertools.count(2):
            if name not in self.used:
                break
            name = f"{base}_{n}"
        self.used.add(name)
        return name


def comment(label: str, name: str) -> str:
    """The original label beside a line, escaped (repr has no line breaks), when it differs from ``name``."""
    return f"  # {label!r}" if label and label != name else ""


def literal(c: Any) -> str | None:
    """Source text for a plain int or finite float, parenthesised if negative; else None."""
    if type(c) is int or (type(c) is float and math.isfinite(c)):
        text = repr(c)
        return f"({text})" if text.startswith("-") else text
    return None
