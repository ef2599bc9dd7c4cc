"""What a published share can stand for: the shares x = k/n that an author would have printed as p.

A share printed as p at resolution r (0.01 for "51%", 0.001 for "8.8%") came from some x = k/n. Which x
depends on how the author rounded; the conventions are separate and named:

``half_up``        round half up (x.x5 goes up): ``p - r/2 <= x < p + r/2``
``half_even``      round half to even (banker's rounding): the tie x = p +- r/2 goes to p only when the last
                   printed digit of p is even, so the interval is closed at both ends when p/r is even
                   and open at both ends when it is odd
``floor``          truncation (the digits are cut off): ``p <= x < p + r``
``ties_excluded``  only the shares that print as p under every round-to-nearest rule (half up, half down,
                   half even): ``p - r/2 < x < p + r/2``

An "about" figure ("about 46%") stands for ``p - t <= x <= p + t`` with its tolerance t, whatever the
convention; a bound (">" a third) for the half-line beyond it. Arithmetic is exact (fractions of the
decimal text of p and r), so a tie such as 28/320 = 0.0875 is a tie, not a float accident.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from chanaudit.core.errors import ChanauditError

CONVENTIONS: dict[str, str] = {
    "half_up": "half-up rounding (x.x5 rounds up)",
    "half_even": "half-even rounding (a tie goes to the even digit)",
    "floor": "truncation (digits cut off)",
    "ties_excluded": "ties excluded (rounds to p under every round-to-nearest rule)",
}
#: Older and informal names accepted for a convention.
ALIASES = {"exclude": "ties_excluded", "truncation": "floor", "truncate": "floor", "half-up": "half_up",
           "half-even": "half_even", "bankers": "half_even"}


class UnknownConvention(ChanauditError, ValueError):
    """Not a rounding convention this module knows."""


def convention_name(name: str) -> str:
    key = ALIASES.get(name, name)
    if key not in CONVENTIONS:
        raise UnknownConvention(f"unknown rounding convention {name!r}; use one of {', '.join(CONVENTIONS)}")
    return key


def exact(value: float | int | str | Fraction) -> Fraction:
    """The decimal a spec wrote, as an exact fraction: 0.088 -> 88/1000 (not the binary float's expansion)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int | str):
        return Fraction(value)
    return Fraction(str(float(value)))


@dataclass(frozen=True)
class ShareRange:
    """The shares x a published figure stands for: from ``low`` to ``high``, each end closed or open."""
    low: Fraction
    high: Fraction
    low_closed: bool = True
    high_closed: bool = True

    def contains(self, x: Fraction) -> bool:
        above = x >= self.low if self.low_closed else x > self.low
        below = x <= self.high if self.high_closed else x < self.high
        return above and below

    def counts(self, n: int) -> range:
        """Every whole k in 0..n with k/n in the range, as a range (empty when none)."""
        if n <= 0:
            return range(0)
        lo, hi = self.low * n, self.high * n
        k_lo = math.ceil(lo) if self.low_closed else math.floor(lo) + 1
        k_hi = math.floor(hi) if self.high_closed else math.ceil(hi) - 1
        return range(max(0, k_lo), min(n, k_hi) + 1)


def share_range(published: float, rounding: float | None = None, convention: str = "half_up", *,
                tolerance: float | None = None, bound: str = "") -> ShareRange:
    """The shares that print as ``published``: see the module docstring for each convention."""
    p = exact(published)
    if bound in (">", ">="):
        return ShareRange(p, Fraction(1), bound == ">=", True)
    if bound in ("<", "<="):
        return ShareRange(Fraction(0), p, True, bound == "<=")
    if tolerance is not None:
        t = exact(tolerance)
        return ShareRange(max(Fraction(0), p - t), min(Fraction(1), p + t))
    if not rounding:
        return ShareRange(p, p)
    r = exact(rounding)
    convention = convention_name(convention)
    if convention == "floor":
        return ShareRange(p, p + r, True, False)
    if convention == "half_up":
        return ShareRange(p - r / 2, p + r / 2, True, False)
    if convention == "ties_excluded":
        return ShareRange(p - r / 2, p + r / 2, False, False)
    steps = p / r  # half_even: a tie goes to p only when p's last digit is even
    even = steps.denominator == 1 and steps.numerator % 2 == 0
    return ShareRange(p - r / 2, p + r / 2, even, even)


def compatible_counts(p: float, r: float | None, n: int, convention: str = "half_up", *,
                      tolerance: float | None = None, bound: str = "") -> list[int]:
    """Every whole count k in 0..n whose share k/n is published as ``p`` under ``convention``."""
    return list(share_range(p, r, convention, tolerance=tolerance, bound=bound).counts(n))
