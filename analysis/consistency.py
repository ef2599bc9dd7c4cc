"""Which sample sizes are compatible with the published figures, one by one and together.

A share published as p at resolution r came from a whole count k of the study's n; which k depends on
how the author rounded (:mod:`chanaudit.analysis.rounding`: ``half_up``, ``half_even``, ``floor``,
``ties_excluded``, each reported under its own name). For each n:

* a figure is *realisable* when some count k gives a share that prints as p (and, for a published count
  such as "about 30 sites", k is within its tolerance);
* a ``where:`` figure is a share of a subgroup: its denominator m is any count its ``base`` figure allows at
  n (or its own ``n_range``, or any m <= n when neither is given), and it is realisable when some k of some
  such m prints as p;
* a relation between figures (``phone_and_email <= min(email, phone)``, :mod:`chanaudit.analysis.relations`)
  holds when some realisable counts satisfy it. Each relation is checked on its own;
* n is *feasible* when every figure is realisable and every relation without a ``reading`` holds.

A relation with a ``reading`` holds only under one reading of a figure with variants; when it fails on
the whole published ranges it fails for every n, and that reading is impossible (the 2016 "25% lack phone
and email" read as "lack both", beside 96% with email).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import pandas as pd

from chanaudit.analysis.relations import Relation, holds_on_counts, interval_of, possible_for_some_n
from chanaudit.analysis.rounding import CONVENTIONS, compatible_counts, convention_name  # noqa: F401 (re-exported)
from chanaudit.analysis.studies import Figure, Study
from chanaudit.core.errors import ChanauditError

#: Above this many combinations of counts a relation is checked by interval arithmetic alone.
MAX_COMBINATIONS = 20_000


class UnknownFigure(ChanauditError, ValueError):
    """A figure id that is not in the study, or a figure with nothing to check."""


def checkable(fig: Figure) -> bool:
    """A figure whose published value constrains n: a rounded or "about" share, or a published count."""
    if fig.direction is not None or fig.bound:
        return False
    return (fig.published is not None and bool(fig.rounding or fig.about)) or fig.count is not None


def select_figures(study: Study, figure_ids: list[str] | None = None) -> list[Figure]:
    """The figures to check: all checkable ones, or exactly ``figure_ids`` (each must exist and be checkable)."""
    if not figure_ids:
        return [f for f in study.figures if checkable(f)]
    known = {f.id: f for f in study.figures}
    valid = [f.id for f in study.figures if checkable(f)]
    unknown = [fid for fid in figure_ids if fid not in known]
    if unknown:
        raise UnknownFigure(f"{study.id}: no figure {', '.join(unknown)} (figures with a published value to check: "
                            f"{', '.join(valid)})")
    useless = [fid for fid in figure_ids if fid not in valid]
    if useless:
        raise UnknownFigure(f"{study.id}: figure {', '.join(useless)} has no rounded value or count to check "
                            f"(checkable: {', '.join(valid)})")
    return [known[fid] for fid in dict.fromkeys(figure_ids)]


def _subgroup_sizes(study: Study, fig: Figure, n: int, convention: str) -> range | list[int]:
    if fig.n_range is not None:
        return range(fig.n_range[0], min(fig.n_range[1], n) + 1)
    if fig.base is not None:
        return study.figure(fig.base).allowed_counts(n, convention) or []
    return range(1, n + 1)


def feasible_sizes(study: Study, n_min: int = 100, n_max: int = 1000, figure_ids: list[str] | None = None,
                   ties: str | None = None, *, convention: str = "half_up") -> pd.DataFrame:
    """Columns: n, feasible, one column per figure with its compatible counts ("27" or "27,28"; for a ``where:``
    figure the subgroup sizes m that realise it, "m 81-200"), then ``relations_failing`` (ids, ";"-joined).

    ``ties`` is the older name of ``convention`` (``"exclude"`` = ``ties_excluded``)."""
    convention = convention_name(ties or convention)
    figures = select_figures(study, figure_ids)
    chosen = {f.id for f in figures}
    relations = [r for r in study.relations if r.reading is None and r.figures <= chosen]
    cache: dict[tuple[str, int], bool] = {}
    rows = []
    for n in range(n_min, n_max + 1):
        row, ok, counts = {"n": n}, True, {}
        for f in figures:
            if f.where is not None:
                sizes = []
                for m in _subgroup_sizes(study, f, n, convention):
                    key = (f.id, m)
                    if key not in cache:
                        cache[key] = bool(f.allowed_counts(m, convention))
                    if cache[key]:
                        sizes.append(m)
                row[f.id] = f"m {ranges(sizes)}" if sizes else ""
                ok = ok and bool(sizes)
                continue
            ks = f.allowed_counts(n, convention) or []
            counts[f.id] = ks
            row[f.id] = ",".join(map(str, ks))
            ok = ok and bool(ks)
        failing = [r.id for r in relations if all(counts.get(fid) for fid in r.figures)
                   and not relation_holds(r, counts, n)]
        row["relations_failing"] = ";".join(failing)
        row["feasible"] = ok and not failing
        rows.append(row)
    cols = ["n", "feasible", *[f.id for f in figures], "relations_failing"]
    return pd.DataFrame(rows, columns=cols)


def relation_holds(rel: Relation, counts: dict[str, list[int]], n: int) -> bool:
    """Whether some choice of the figures' compatible counts satisfies ``rel`` at n."""
    boxes = [counts[fid] for fid in sorted(rel.figures)]
    if any(not b for b in boxes):
        return False
    total = 1
    for b in boxes:
        total *= len(b)
    if rel.op != "==" and _single_use(rel):
        # monotone in every figure, each used once: the extremes are at the corners (exact on integers)
        env = {fid: (Fraction(min(counts[fid])), Fraction(max(counts[fid]))) for fid in rel.figures}
        scaled = Relation(rel.id, rel.text, rel.op, _scale(rel.lhs, n), _scale(rel.rhs, n), rel.figures)
        return possible_for_some_n(scaled, env, strict=True)
    if total > MAX_COMBINATIONS:
        env = {fid: (Fraction(min(counts[fid])), Fraction(max(counts[fid]))) for fid in rel.figures}
        scaled = Relation(rel.id, rel.text, rel.op, _scale(rel.lhs, n), _scale(rel.rhs, n), rel.figures)
        return possible_for_some_n(scaled, env)  # not ruled out; never a false "fails"
    names = sorted(rel.figures)
    return any(holds_on_counts(rel, dict(zip(names, combo, strict=True)), n) for combo in itertools.product(*boxes))


def _scale(node: tuple, n: int) -> tuple:
    """The expression with every constant times n (so that figures can be counts)."""
    kind = node[0]
    if kind == "const":
        return ("const", node[1] * n)
    if kind == "fig":
        return node
    if kind == "mul":
        return ("mul", node[1], _scale(node[2], n))
    if kind in ("min", "max"):
        return (kind, tuple(_scale(a, n) for a in node[1]))
    return (kind, _scale(node[1], n), _scale(node[2], n))


def _uses(node: tuple) -> list[str]:
    kind = node[0]
    if kind == "fig":
        return [node[1]]
    if kind == "const":
        return []
    if kind == "mul":
        return _uses(node[2])
    if kind in ("min", "max"):
        return [u for a in node[1] for u in _uses(a)]
    return _uses(node[1]) + _uses(node[2])


def _single_use(rel: Relation) -> bool:
    used = _uses(rel.lhs) + _uses(rel.rhs)
    return len(used) == len(set(used))


def share_hull(fig: Figure, convention: str) -> tuple[Fraction, Fraction]:
    """The closed hull of the shares a figure stands for under ``convention``."""
    rng = fig.share_range(convention)
    return rng.low, rng.high


def relation_table(study: Study, n_min: int = 100, n_max: int = 1000, figure_ids: list[str] | None = None,
                   convention: str = "half_up") -> pd.DataFrame:
    """One row per relation among the chosen figures: relation_id, check, reading ("figure.variant" or ""),
    convention, possible (False: fails on the whole published ranges, so for every n), n_checked, n_failing,
    fails_at (ranges of n), holds_at (ranges of n)."""
    convention = convention_name(convention)
    figures = select_figures(study, figure_ids)
    chosen = {f.id: f for f in figures}
    relations = [r for r in study.relations if r.figures <= set(chosen)]
    cols = ["relation_id", "check", "reading", "convention", "possible", "n_checked", "n_failing", "fails_at",
            "holds_at", "note"]
    rows = []
    for rel in relations:
        hull = {fid: share_hull(chosen[fid], convention) for fid in rel.figures}
        fails, holds = [], []
        for n in range(n_min, n_max + 1):
            counts = {fid: chosen[fid].allowed_counts(n, convention) or [] for fid in rel.figures}
            if not all(counts.values()):
                continue  # a figure is not realisable at n: the figure's own column says so
            (holds if relation_holds(rel, counts, n) else fails).append(n)
        rows.append({"relation_id": rel.id, "check": rel.text, "reading": ".".join(rel.reading) if rel.reading else "",
                     "convention": convention, "possible": possible_for_some_n(rel, hull),
                     "n_checked": len(fails) + len(holds), "n_failing": len(fails), "fails_at": ranges(fails),
                     "holds_at": ranges(holds), "note": rel.note})
    return pd.DataFrame(rows, columns=cols)


def impossible_readings(relations: pd.DataFrame) -> list[str]:
    """The readings ("figure.variant") some relation rules out for every n."""
    bad = relations[(relations["reading"] != "") & ~relations["possible"].astype(bool)]
    return list(dict.fromkeys(bad["reading"]))


def bound_range(rel: Relation, hull: dict[str, tuple[Fraction, Fraction]]) -> tuple[Fraction, Fraction, Fraction,
                                                                                      Fraction]:
    """(lhs low, lhs high, rhs low, rhs high) over the published ranges: what a failing relation compares."""
    return (*interval_of(rel.lhs, hull), *interval_of(rel.rhs, hull))


def ranges(values: list[int]) -> str:
    """[306, 307, 308, 317] -> "306-308, 317"."""
    out, start, prev = [], None, None
    for v in values:
        if start is None:
            start = prev = v
        elif v == prev + 1:
            prev = v
        else:
            out.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = v
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ", ".join(out)


def short_ranges(values: list[int], limit: int = 12) -> str:
    """:func:`ranges`, cut after ``limit`` pieces: "297, 306-308, … (22 sizes)"."""
    pieces = ranges(values).split(", ") if values else []
    if len(pieces) <= limit:
        return ", ".join(pieces)
    return ", ".join(pieces[:limit]) + f", … ({len(values)} sizes)"


def _short(text: str, limit: int = 12) -> str:
    pieces = text.split(", ") if text else []
    return text if len(pieces) <= limit else ", ".join(pieces[:limit]) + ", …"


def _pct(x: Fraction) -> str:
    return f"{float(x):.1%}"


def check_summary(study: Study, n_min: int = 100, n_max: int = 1000,
                  figure_ids: list[str] | None = None) -> list[str]:
    """What ``chanaudit check-published`` prints: feasible n under each rounding convention, subgroup
    denominators, every relation (where it fails) and the readings ruled out for every n. Plain text lines."""
    if n_min < 1 or n_max < n_min:
        raise UnknownFigure(f"n range {n_min}..{n_max}: need 1 <= n-min <= n-max")
    figures = select_figures(study, figure_ids)
    lines = [f"{study.id}: figures {', '.join(f.id for f in figures)}; n tried {n_min}..{n_max}"]
    if study.n_range:
        lo, hi = study.n_range
        lines.append(f"published n: {lo if lo == hi else f'{lo}-{hi}'}" + (f" ({study.n_text})" if study.n_text else ""))
    lines.append("feasible n, by rounding convention (every figure realisable and every relation without a "
                 "reading satisfied):")
    tables = {}
    for conv, label in CONVENTIONS.items():
        table = feasible_sizes(study, n_min, n_max, figure_ids, convention=conv)
        tables[conv] = table
        feasible = table[table["feasible"]]["n"].tolist()
        lines.append(f"  {label}: {short_ranges(feasible) or 'none'}" + (f" ({len(feasible)} sizes)"
                                                                         if len(feasible) and "…" not in
                                                                         short_ranges(feasible) else ""))
    half_up = tables["half_up"]
    for f in figures:
        never = half_up[half_up[f.id] == ""]["n"].tolist()
        if f.where is not None:
            base = f"base {f.base}" if f.base else ("own n_range" if f.n_range else "any subgroup size m <= n")
            lines.append(f"  subgroup figure {f.id} (where {f.where}; denominators: {base}): checked against its "
                         "subgroup sizes m, not n")
        if len(never) == len(half_up):
            lines.append(f"  figure {f.id}: not realisable at any n in {n_min}..{n_max} (half-up)")
    chosen = {f.id: f for f in figures}
    rel_tables = [relation_table(study, n_min, n_max, figure_ids, conv) for conv in CONVENTIONS]
    rels = rel_tables[0]
    if len(rels):
        lines.append("relations (half-up; other conventions noted where they differ):")
    for i, r in rels.iterrows():
        rel = next(x for x in study.relations if x.id == r["relation_id"])
        tag = f" [reading {r['reading']}]" if r["reading"] else ""
        if not r["possible"]:
            hull = {fid: share_hull(chosen[fid], "half_up") for fid in rel.figures}
            l_lo, l_hi, r_lo, r_hi = bound_range(rel, hull)
            verdict = (f"IMPOSSIBLE for every n: the left side is {_pct(l_lo)}-{_pct(l_hi)}, the right side "
                       f"{_pct(r_lo)}-{_pct(r_hi)}")
        elif r["n_failing"] == 0:
            verdict = f"holds at every n where its figures are realisable ({r['n_checked']} sizes)"
        else:
            verdict = (f"fails at {r['n_failing']} of {r['n_checked']} sizes: n {_short(r['fails_at'])}; holds at "
                       f"{_short(r['holds_at']) or 'no n'}")
        lines.append(f"  {r['relation_id']}{tag}: {r['check']}: {verdict}")
        for other, conv in zip(rel_tables[1:], list(CONVENTIONS)[1:], strict=True):
            o = other.iloc[i]
            if (o["fails_at"], o["possible"]) != (r["fails_at"], r["possible"]):
                lines.append(f"    {CONVENTIONS[conv]}: fails at {o['n_failing']} of {o['n_checked']} sizes"
                             + (f": n {_short(o['fails_at'])}" if o["n_failing"] else ""))
    for reading in impossible_readings(rels):
        fid, _, vid = reading.partition(".")
        fig = chosen[fid]
        label = next((v[1] for v in fig.variants if v[0] == vid), vid)
        lines.append(f"the reading '{label}' of {fid} ({fig.published_text or fig.published}) is impossible for "
                     f"every n, whatever the sample size: only the other readings remain")
    return lines
