"""A small, safe expression language over table columns (never ``eval``).

Allowed: column names, integers, floats, strings, ``& | ~`` and ``and or not``,
``== != >= <= > <``, ``+ -``, parentheses. ``email & phone``,
``~phone & ~email``, ``channels >= 4``, ``(email+phone+chat+form) == 4``,
``sla_control != "yes"``. Binary columns are read as booleans under ``& | ~``.

Hostile input is an :class:`ExpressionError`, never a crash: an expression is at most
:data:`MAX_LENGTH` characters and :data:`MAX_DEPTH` levels deep (the evaluator recurses).
"""

from __future__ import annotations

import ast
import operator

import pandas as pd

from chanaudit.core.errors import ChanauditError


class ExpressionError(ChanauditError, ValueError):
    """An expression outside the language, or naming a missing column."""


MAX_LENGTH = 2000
MAX_DEPTH = 60

_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.GtE: operator.ge, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.Lt: operator.lt}


def names(expression: str) -> set[str]:
    return {n.id for n in ast.walk(_parse(expression)) if isinstance(n, ast.Name)}


def _depth(node: ast.AST) -> int:
    """The depth of the tree, without recursion (a hostile tree must not exhaust the stack here either)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return deepest


def _parse(expression: str) -> ast.Expression:
    if not isinstance(expression, str):
        raise ExpressionError(f"{expression!r}: an expression must be text")
    shown = expression if len(expression) <= 80 else expression[:77] + "..."
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"{shown!r}: longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{shown!r}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"{shown!r}: nested too deeply or not parseable") from None
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError(f"{shown!r}: nested more than {MAX_DEPTH} levels")
    allowed = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Invert, ast.BinOp,
               ast.BitAnd, ast.BitOr, ast.Add, ast.Sub, ast.Compare, ast.Name, ast.Load, ast.Constant,
               *tuple(_CMP))
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ExpressionError(f"{expression!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str):
            raise ExpressionError(f"{expression!r}: constant {node.value!r} is not allowed")
    return tree


def evaluate(expression: str, frame: pd.DataFrame) -> pd.Series:
    """Evaluate over ``frame``; the result has NaN where a referenced value is missing."""
    tree = _parse(expression)
    missing = names(expression) - set(frame.columns)
    if missing:
        raise ExpressionError(f"{expression!r}: no column {', '.join(sorted(missing))}")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Name):
            col = frame[node.id]
            num = pd.to_numeric(col, errors="coerce")
            return num if num.notna().sum() >= col.replace("", pd.NA).notna().sum() else col
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp):
            return ~_bool(ev(node.operand))
        if isinstance(node, ast.BoolOp):
            values = [_bool(ev(v)) for v in node.values]
            out = values[0]
            for v in values[1:]:
                out = (out & v) if isinstance(node.op, ast.And) else (out | v)
            return out
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.BitAnd):
                return _bool(left) & _bool(right)
            if isinstance(node.op, ast.BitOr):
                return _bool(left) | _bool(right)
            return left + right if isinstance(node.op, ast.Add) else left - right
        if isinstance(node, ast.Compare):
            left = ev(node.left)
            out = None
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = ev(comp)
                res = _CMP[type(op)](left, right)
                out = res if out is None else (out & res)
                left = right
            return out
        raise ExpressionError(f"{expression!r}: cannot evaluate {type(node).__name__}")

    result = ev(tree)
    if not isinstance(result, pd.Series):
        result = pd.Series(result, index=frame.index)
    defined = frame[list(names(expression))].apply(
        lambda c: c.notna() & (c.astype(str).str.strip() != "")).all(axis=1) if names(expression) else True
    return result.astype("boolean").where(defined)


def _bool(value):
    if isinstance(value, pd.Series):
        if value.dtype == bool or str(value.dtype) == "boolean":
            return value.astype("boolean")
        return pd.to_numeric(value, errors="coerce").astype("Float64").ne(0).astype("boolean")
    return bool(value)
