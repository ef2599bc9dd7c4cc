"""JSON-LD blocks (``<script type="application/ld+json">``): parsed safely, read iteratively.

A hostile block (nested 100,000 deep) makes ``json.loads`` raise RecursionError,
which is not a ValueError: it is caught here, and the walk over the parsed data
keeps its own stack, so no depth reaches Python's recursion limit.
"""

from __future__ import annotations

import json
from typing import Any


def loads(text: str) -> Any | None:
    """The parsed block, or None when it is not JSON (or too deep to parse)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def string_fields(data: Any, keys: frozenset[str]) -> list[str]:
    """String values of the fields named one of ``keys`` (case-insensitive) at any depth, in
    document order (a matching field's value is taken, other values are searched)."""
    out: list[str] = []
    stack = [iter([(None, data)])]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        key, node = entry
        if isinstance(key, str) and isinstance(node, str) and key.lower() in keys:
            out.append(node)
        elif isinstance(node, dict):
            stack.append(iter(node.items()))
        elif isinstance(node, list):
            stack.append((None, item) for item in node)
    return out
