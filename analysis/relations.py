"""Joint constraints between published figures: ``phone_and_email <= min(email, phone)``.

A relation compares two linear expressions of figure shares: figure ids, numbers, ``+ -``, a number times
an expression, ``min(...)``, ``max(...)``, parentheses, and exactly one of ``<= >= == < >``. ``1`` is the
whole sample. Examples (the 2016 spec):

    phone_and_email <= min(email, phone)          # have both <= have each
    phone_and_email >= email + phone - 1          # Frechet lower bound
    no_phone_email <= 1 - max(email, phone)       # "lack both" <= lack the more common one
    no_phone_email == 1 - phone_and_email         # "lack at least one" is the complement of "have both"

Two checks: :func:`holds_on_counts` at one sample size (shares k/n, scaled by n so that whole counts
compare exactly), and :func:`possible_for_some_n`, interval arithmetic over the share ranges the figures
stand for: when the relation fails on every point of those ranges it fails for every n.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from fractions import Fraction

from chanaudit.analysis.rounding import exact
from chanaudit.core.errors import ChanauditError

MAX_LENGTH = 500
MAX_DEPTH = 40

_OPS = {ast.LtE: ("<=", operator.le), ast.GtE: (">=", operator.ge), ast.Eq: ("==", operator.eq),
        ast.Lt: ("<", operator.lt), ast.Gt: (">", operator.gt)}
_COMPARE = dict(_OPS.values())


class RelationError(ChanauditError, ValueError):
    """A relation outside the small relation language."""


@dataclass(frozen=True)
class Relation:
    id: str
    text: str
    op: str
    lhs: tuple
    rhs: tuple
    figures: frozenset[str]
    #: (figure id, variant id) when the relation holds only under one reading of a figure, else None
    reading: tuple[str, str] | None = None
    note: str = ""


def parse_relation(text: str, rel_id: str = "", reading: tuple[str, str] | None = None, note: str = "") -> Relation:
    if not isinstance(text, str) or not text.strip():
        raise RelationError("a relation must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise RelationError(f"longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise RelationError(f"{text!r}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise RelationError(f"{text!r}: nested too deeply or not parseable") from None
    body = tree.body
    if not isinstance(body, ast.Compare) or len(body.ops) != 1:
        raise RelationError(f"{text!r}: must be one comparison (<=, >=, ==, <, >) of two expressions")
    op = _OPS.get(type(body.ops[0]))
    if op is None:
        raise RelationError(f"{text!r}: comparison {type(body.ops[0]).__name__} is not allowed")
    lhs, rhs = _term(body.left, text, 0), _term(body.comparators[0], text, 0)
    figs = frozenset(_names(lhs) | _names(rhs))
    if not figs:
        raise RelationError(f"{text!r}: names no figure")
    return Relation(rel_id or text, text.strip(), op[0], lhs, rhs, figs, reading, note)


def _term(node: ast.AST, text: str, depth: int) -> tuple:
    if depth > MAX_DEPTH:
        raise RelationError(f"{text!r}: nested more than {MAX_DEPTH} levels")
    if isinstance(node, ast.Name):
        return ("fig", node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return ("const", exact(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _term(node.operand, text, depth + 1)
        return ("mul", Fraction(-1), inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        kind = "add" if isinstance(node.op, ast.Add) else "sub"
        return (kind, _term(node.left, text, depth + 1), _term(node.right, text, depth + 1))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = _term(node.left, text, depth + 1), _term(node.right, text, depth + 1)
        if left[0] == "const":
            return ("mul", left[1], right)
        if right[0] == "const":
            return ("mul", right[1], left)
        raise RelationError(f"{text!r}: only a number may multiply a figure (relations are linear)")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("min", "max") \
            and not node.keywords and len(node.args) >= 2:
        return (node.func.id, tuple(_term(a, text, depth + 1) for a in node.args))
    raise RelationError(f"{text!r}: {type(node).__name__} is not allowed (figure ids, numbers, + -, "
                        f"number * expression, min(), max())")


def _names(node: tuple) -> set[str]:
    kind = node[0]
    if kind == "fig":
        return {node[1]}
    if kind == "const":
        return set()
    if kind == "mul":
        return _names(node[2])
    if kind in ("min", "max"):
        return set().union(*(_names(a) for a in node[1]))
    return _names(node[1]) | _names(node[2])


def _value(node: tuple, env: dict, unit):
    kind = node[0]
    if kind == "fig":
        return env[node[1]]
    if kind == "const":
        return node[1] * unit
    if kind == "mul":
        return node[1] * _value(node[2], env, unit)
    if kind == "add":
        return _value(node[1], env, unit) + _value(node[2], env, unit)
    if kind == "sub":
        return _value(node[1], env, unit) - _value(node[2], env, unit)
    values = [_value(a, env, unit) for a in node[1]]
    return min(values) if kind == "min" else max(values)


def holds_on_counts(rel: Relation, counts: dict[str, int], n: int) -> bool:
    """Whether the relation holds for the shares counts[f] / n (compared as counts: every term times n)."""
    return bool(_COMPARE[rel.op](_value(rel.lhs, counts, n), _value(rel.rhs, counts, n)))


def interval_of(node: tuple, env: dict[str, tuple[Fraction, Fraction]]) -> tuple[Fraction, Fraction]:
    kind = node[0]
    if kind == "fig":
        return env[node[1]]
    if kind == "const":
        return node[1], node[1]
    if kind == "mul":
        lo, hi = interval_of(node[2], env)
        c = node[1]
        return (c * lo, c * hi) if c >= 0 else (c * hi, c * lo)
    if kind in ("add", "sub"):
        a, b = interval_of(node[1], env), interval_of(node[2], env)
        return (a[0] + b[0], a[1] + b[1]) if kind == "add" else (a[0] - b[1], a[1] - b[0])
    parts = [interval_of(a, env) for a in node[1]]
    pick = min if kind == "min" else max
    return pick(p[0] for p in parts), pick(p[1] for p in parts)


def possible_for_some_n(rel: Relation, ranges: dict[str, tuple[Fraction, Fraction]], strict: bool = False) -> bool:
    """False only when the relation fails for every share in the (closed) ranges of its figures, and so for
    every sample size. Interval arithmetic over-covers, so True means "not ruled out", never "holds".

    ``strict``: honour ``<`` and ``>`` as strict (for exact ranges, such as whole counts at one n, where each
    figure is used once); by default they are read as ``<=`` and ``>=``, the sound choice on closed hulls."""
    lo_l, hi_l = interval_of(rel.lhs, ranges)
    lo_r, hi_r = interval_of(rel.rhs, ranges)
    low, high = lo_l - hi_r, hi_l - lo_r  # the range of lhs - rhs
    if rel.op == "<" and strict:
        return low < 0
    if rel.op == ">" and strict:
        return high > 0
    if rel.op in ("<=", "<"):
        return low <= 0
    if rel.op in (">=", ">"):
        return high >= 0
    return low <= 0 <= high
