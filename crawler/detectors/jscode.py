"""Inline JavaScript as the detectors read it: without its comments."""

from __future__ import annotations

import re

_TOKENS = re.compile(
    r"""('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`)"""  # string literals: kept
    r"|//[^\n]*|/\*.*?(?:\*/|$)|<!--[^\n]*|-->[^\n]*",  # comments
    re.S,
)


def strip_js_comments(code: str) -> str:
    """``code`` with its comments replaced by a space: ``//`` and ``/* */``, and the ``<!--``
    and ``-->`` lines old pages wrap their inline scripts in. String literals stay intact, so
    a vendor URL in a string still counts and a commented-out loader does not."""
    if "/" not in code and "<!--" not in code and "-->" not in code:
        return code
    return _TOKENS.sub(lambda m: m.group(1) or " ", code)
