"""Options checked once for every command: what a number or a code must be, whatever the command.

:func:`check_all` wraps the callback of every registered command (``chanaudit.cli`` calls it once),
so that before a command does anything, each option given is checked against :data:`RULES` by its
flag, and every float option (``--timeout``, ``--conf``, ``--concentration``…) must be a finite
number: ``--timeout nan`` or ``--delay inf`` is ``error: timeout must be a finite number, not nan``,
exit 2, never a traceback or a run that silently misbehaves. Rules a stage checks itself stay with
the stage (the Python API checks them too); this table holds the checks of the command line.
"""

from __future__ import annotations

import functools
import inspect
import math
import typing
from collections.abc import Callable

import typer

from chanaudit.core.errors import InvalidOption
from chanaudit.errors import friendly_errors


def _region(value: str) -> bool:
    import phonenumbers

    return value.upper() in phonenumbers.SUPPORTED_REGIONS


#: flag -> (test, what the value must be). Counts of things are at least 1, shares strictly inside (0, 1).
RULES: dict[str, tuple[Callable[[typing.Any], bool], str]] = {
    **{flag: (lambda v: v >= 1, "at least 1") for flag in (
        "--top", "--draws", "--n", "--sites", "--max-pages", "--concurrency", "--per-site", "--n-min", "--n-max",
        "--min-group-n")},
    **{flag: (lambda v: v >= 0, "at least 0") for flag in ("--workers", "--min-per-stratum")},
    **{flag: (lambda v: 0 < v < 1, "between 0 and 1 (0.95 for 95%)") for flag in ("--conf",)},
    **{flag: (lambda v: v > 0, "positive") for flag in ("--timeout", "--concentration", "--ratio")},
    "--region": (_region, "a phone region code (ISO 3166 alpha-2, as RU, KZ, US)"),
    "--lang": (lambda v: v in ("ru", "en"), "ru or en"),
    "--lease": (lambda v: v >= 1, "at least 1 (seconds)"),
    "--format": (lambda v: v in ("csv", "parquet"), "csv or parquet"),
}


def check(flag: str, value, kind: type | None = None) -> None:
    """:class:`InvalidOption` unless ``value`` of option ``flag`` is finite (floats) and passes its rule."""
    if value is None or isinstance(value, bool):
        return
    name = flag.lstrip("-").replace("-", "_")
    if kind is float and not math.isfinite(value):
        raise InvalidOption(f"{name} must be a finite number, not {value}")
    rule = RULES.get(flag)
    if rule and not rule[0](value):
        shown = repr(value) if isinstance(value, str) else value
        raise InvalidOption(f"{name} must be {rule[1]}, not {shown}")


def _flags(callback: Callable) -> dict[str, tuple[str, type | None]]:
    """Parameter name -> (its option flag, its scalar type), for the options of a command callback."""
    hints = typing.get_type_hints(callback)
    out = {}
    for name, param in inspect.signature(callback).parameters.items():
        info = param.default
        if not isinstance(info, typer.models.OptionInfo):
            continue
        decls = [d for d in (info.param_decls or ()) if d.startswith("--")]
        kind = hints.get(name)
        out[name] = (decls[0] if decls else "--" + name.replace("_", "-"), kind if kind in (int, float, str) else None)
    return out


def checked(callback: Callable) -> Callable:
    """``callback`` with its options checked first (see the module docstring)."""
    flags = _flags(callback)

    @functools.wraps(callback)
    def run(*args, **kwargs):
        with friendly_errors():
            for name, (flag, kind) in flags.items():
                if kind is not None and name in kwargs:
                    check(flag, kwargs[name], kind)
        return callback(*args, **kwargs)

    return run


def check_all(app: typer.Typer) -> None:
    """Wrap every command of ``app`` and of its sub-apps (``survey``, ``plan``) with :func:`checked`."""
    for command in app.registered_commands:
        if not getattr(command.callback, "__wrapped__", None):
            command.callback = checked(command.callback)
    for group in app.registered_groups:
        check_all(group.typer_instance)
