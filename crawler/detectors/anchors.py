"""Literal anchors of signature regexes: a cheap substring test before the full patterns run."""

from __future__ import annotations

import re

_SYNTAX = re.compile(r"\[[^\]]*\]|\(\?[^)]*\)|[*+?{}()|^$]|\\[dswbDSWB]")
_NOT_LITERAL = re.compile(r"[^a-z0-9_./:=-]+")


def anchors(patterns: list[str]) -> tuple[str, ...] | None:
    """The longest plain literal (4+ characters, lower-case) of each pattern
    ('code\\.jivo\\.ru/widget/' -> 'code.jivo.ru/widget/'), without repeats; None when a
    pattern has no such literal (then nothing can be pre-filtered: run the patterns)."""
    out = []
    for pat in patterns:
        plain = re.sub(r"\\(.)", r"\1", _SYNTAX.sub(" ", pat))
        runs = [r for r in _NOT_LITERAL.split(plain.lower()) if len(r) >= 4]
        if not runs:
            return None
        out.append(max(runs, key=len))
    return tuple(dict.fromkeys(out))
