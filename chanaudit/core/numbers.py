"""Numbers as analysts read them: percentages and decimals with a comma in Russian
(«96,1%»), a dot in English; empty for a missing value. Shared by the CLI tables and
the report."""

from __future__ import annotations

import pandas as pd


def is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, str):
        return value.strip() == "" or value.strip().lower() == "nan"
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_pct(value, lang: str = "ru", digits: int = 1) -> str:
    """0.961 -> «96,1%» (ru) / "96.1%" (en); empty for a missing value."""
    if is_missing(value):
        return ""
    shown = f"{float(value):.{digits}%}"
    return shown.replace(".", ",") if lang == "ru" else shown


def fmt_ci(low, high, lang: str = "ru") -> str:
    if is_missing(low) or is_missing(high):
        return ""
    return f"{fmt_pct(low, lang)} – {fmt_pct(high, lang)}"


def fmt_num(value, lang: str = "ru", digits: int = 2) -> str:
    if is_missing(value):
        return ""
    shown = f"{float(value):.{digits}f}"
    return shown.replace(".", ",") if lang == "ru" else shown


def fmt_short(value, lang: str = "ru", digits: int = 3) -> str:
    """A decimal rounded to ``digits`` places without trailing zeros: 0.1 -> «0,1», 1/3 -> «0,333», 0 -> «0»."""
    if is_missing(value):
        return ""
    shown = f"{round(float(value), digits):g}"
    return shown.replace(".", ",") if lang == "ru" else shown


def fmt_int(value) -> str:
    if is_missing(value):
        return ""
    try:
        return str(int(round(float(value))))
    except (TypeError, ValueError):
        return str(value)


def fmt_p(value, lang: str = "ru") -> str:
    if is_missing(value):
        return ""
    p = float(value)
    shown = "< 0.001" if p < 0.001 else f"{p:.3f}"
    return shown.replace(".", ",") if lang == "ru" else shown
