"""Charts: each takes an already computed tidy table, draws on ``ax`` and returns it.

No statistics here: estimates and intervals come from :mod:`analysis`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from chanaudit.analysis.labels import label
from chanaudit.core.contract import CHANNELS
from chanaudit.core.numbers import fmt_short
from chanaudit.reports.style import (
    PALETTE,
    decimals,
    group_labels,
    group_var_label,
    new_axes,
    new_figure,
    pct,
    styled,
    text,
)


def err(estimate, low, high) -> list[np.ndarray]:
    """Whisker lengths from an interval (clipped at 0: rounding can put an end a hair past the estimate)."""
    est = np.asarray(estimate, float)
    return [np.clip(est - np.asarray(low, float), 0, None), np.clip(np.asarray(high, float) - est, 0, None)]


@styled
def plot_prevalence(table: pd.DataFrame, ax=None, lang: str = "ru"):
    """Horizontal bars of the share of sites per channel with interval whiskers."""
    fig, ax = new_axes(ax, 3.6)
    t = table.sort_values("estimate")
    y = np.arange(len(t))
    colors = [PALETTE.get(c, PALETTE["accent"]) for c in t["channel"]]
    ax.barh(y, t["estimate"], color=colors, height=0.6)
    ax.errorbar(t["estimate"], y, xerr=err(t["estimate"], t["ci_low"], t["ci_high"]),
                fmt="none", ecolor=PALETTE["accent"], capsize=3, lw=1)
    ax.set_yticks(y, t[f"label_{lang}"])
    for yi, (est, high) in enumerate(zip(t["estimate"], t["ci_high"], strict=True)):
        ax.text(high + 0.015, yi, f"{est:.0%}", va="center", fontsize=9)
    ax.set_xlim(0, 1.1)
    pct(ax)
    n = int(t["n"].max()) if len(t) else 0
    ax.set_title(f"{text('prevalence_title', lang)} (n = {n} {text('n_sites', lang)})")
    ax.set_xlabel(f"{text('share_of_sites', lang)}. {text('ci_note', lang)}")
    ax.grid(axis="y", visible=False)
    return ax


def _wrap(value, width: int) -> str:
    return textwrap.fill(str(value), width, break_long_words=False, break_on_hyphens=False)


def _present(value) -> bool:
    """False for None, NaN and empty strings (a CSV read back gives NaN where the table had "")."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return False
    return str(value).strip() not in ("", "nan")


def figure_name(row, lang: str) -> str:
    """«Label — variant label» of a reproduce row; the variant part only for figures that have variants."""
    name = str(row.get(f"label_{lang}") or row.get("figure_id") or "")
    if _present(row.get("variant")):
        variant = row.get(f"variant_label_{lang}")
        name += f" — {variant if _present(variant) else row['variant']}"
    return name


@styled
def plot_reproduce(table: pd.DataFrame, ax=None, lang: str = "ru", title: str | None = None):
    """Dumbbell: published value (or bound) against the reproduced share and its interval.

    The published figure as the study wrote it is printed in a column on the right."""
    t = table.reset_index(drop=True)
    names = [_wrap(figure_name(r, lang), 32) for _, r in t.iterrows()]
    lines = [n.count("\n") + 1 for n in names]
    fig, ax = new_axes(ax, max(3.0, 0.3 * sum(lines) + 0.15 * len(t) + 1.4))
    y = np.arange(len(t))[::-1]
    for yi, (_, r) in zip(y, t.iterrows(), strict=True):
        if pd.notna(r["reproduced"]):
            ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color=PALETTE["accent"], lw=2, solid_capstyle="round")
            ax.plot(r["reproduced"], yi, "o", color=PALETTE["accent"], ms=6, zorder=3, clip_on=False)
        if r.get("comparison") == "direction" and pd.notna(r.get("reproduced_b")):  # the group it is compared with
            ax.plot([r["ci_low_b"], r["ci_high_b"]], [yi - 0.22, yi - 0.22], color=PALETTE["muted"], lw=2,
                    solid_capstyle="round")
            ax.plot(r["reproduced_b"], yi - 0.22, "s", color=PALETTE["muted"], ms=5, zorder=3, clip_on=False)
        if pd.notna(r.get("published")):
            pub = float(r["published"])
            if r.get("bound") in (">", ">="):
                ax.annotate("", xy=(min(pub + 0.08, 1.0), yi + 0.22), xytext=(pub, yi + 0.22),
                            arrowprops={"arrowstyle": "->", "color": PALETTE["published"], "lw": 1.5})
                ax.plot(pub, yi + 0.22, "|", color=PALETTE["published"], ms=10, mew=2)
            elif r.get("bound") in ("<", "<="):
                ax.annotate("", xy=(max(pub - 0.08, 0.0), yi + 0.22), xytext=(pub, yi + 0.22),
                            arrowprops={"arrowstyle": "->", "color": PALETTE["published"], "lw": 1.5})
                ax.plot(pub, yi + 0.22, "|", color=PALETTE["published"], ms=10, mew=2)
            else:
                ax.plot(pub, yi, "D", color=PALETTE["published"], ms=6, zorder=4, clip_on=False)
        shown = r.get("published_text_ru") if lang == "ru" else None
        shown = shown if _present(shown) else r.get("published_text")
        shown = shown if _present(shown) else "—"
        ax.text(1.03, yi, _wrap(shown, 18), va="center", fontsize=8, color=PALETTE["published"],
                transform=ax.get_yaxis_transform())
    ax.text(1.03, 1.0, text("published_column", lang), fontsize=8, fontweight="bold", color=PALETTE["published"],
            va="bottom", transform=ax.transAxes)
    ax.set_yticks(y, names)
    ax.set_ylim(-0.6, len(t) - 0.4)
    ax.set_xlim(0, 1)
    pct(ax)
    ax.plot([], [], "D", color=PALETTE["published"], label=text("published", lang))
    ax.plot([], [], "o-", color=PALETTE["accent"], label=text("reproduced", lang))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, fontsize=8, frameon=False)
    ax.set_title(_wrap(title or text("reproduce_title", lang), 48), pad=16)
    ax.grid(axis="y", visible=False)
    return ax


@styled
def plot_upset(table: pd.DataFrame, ax=None, lang: str = "ru", top: int = 12):
    """UpSet: bars of the number of sites per exact channel set, and the dot matrix of the sets."""
    t = table.head(top).reset_index(drop=True)
    if ax is None:
        ax, mat = new_figure(7.0, 4.8).subplots(2, 1, gridspec_kw={"height_ratios": [2.2, 1.3]}, sharex=True)
    else:
        mat = ax.inset_axes([0, -0.75, 1, 0.6])
    x = np.arange(len(t))
    ax.bar(x, t["k"], color=PALETTE["accent"], width=0.6)
    for xi, (k, est) in enumerate(zip(t["k"], t["estimate"], strict=True)):
        ax.text(xi, k, f"{k}\n{est:.0%}", ha="center", va="bottom", fontsize=7.5)
    ax.set_ylabel(text("sites", lang))
    ax.set_title(text("upset_title", lang) + f" (n = {int(t['n'].max()) if len(t) else 0})")
    ax.set_ylim(0, (t["k"].max() if len(t) else 1) * 1.3)
    ax.grid(axis="x", visible=False)
    for yi, ch in enumerate(CHANNELS):
        present = [ch in str(c).split("+") for c in t["combination"]]
        mat.scatter(x, [yi] * len(x), s=40, color=[PALETTE[ch] if p else "#e3e7eb" for p in present], zorder=3)
    for xi, combo in enumerate(t["combination"]):
        rows = [CHANNELS.index(c) for c in str(combo).split("+") if c in CHANNELS]
        if len(rows) > 1:
            mat.plot([xi, xi], [min(rows), max(rows)], color=PALETTE["accent"], lw=1.5, zorder=2)
    mat.set_yticks(range(len(CHANNELS)), [label(c, lang) for c in CHANNELS])
    mat.set_xticks(x, ["" for _ in x])
    mat.grid(False)
    mat.set_ylim(-0.6, len(CHANNELS) - 0.4)
    for side in ("top", "right", "bottom", "left"):
        mat.spines[side].set_visible(False)
    mat.tick_params(axis="x", length=0)
    return ax


@styled
def plot_channel_counts(table: pd.DataFrame, ax=None, lang: str = "ru"):
    fig, ax = new_axes(ax, 3.4)
    width = 0.38
    for i, kind in enumerate(("exactly", "at_least")):
        t = table[table["kind"] == kind].sort_values("n_channels")
        x = t["n_channels"].to_numpy() + (i - 0.5) * width
        ax.bar(x, t["estimate"], width, label=text(kind, lang),
               color=PALETTE["accent"] if kind == "exactly" else PALETTE["muted"],
               yerr=err(t["estimate"], t["ci_low"], t["ci_high"]), capsize=2,
               error_kw={"lw": 0.8})
    ax.set_xticks(range(6))
    ax.set_xlabel(text("n_channels", lang))
    pct(ax, "y")
    ax.set_ylabel(text("share_of_sites", lang))
    ax.set_title(text("counts_title", lang))
    ax.legend(frameon=False)
    ax.grid(axis="x", visible=False)
    return ax


@styled
def plot_score_distribution(scores: pd.DataFrame, ax=None, lang: str = "ru"):
    fig, ax = new_axes(ax, 3.2)
    s = pd.to_numeric(scores["score"], errors="coerce").dropna()
    bins = np.arange(-0.05, 1.1, 0.1)
    ax.hist(s, bins=bins, color=PALETTE["accent"], rwidth=0.85)
    ax.set_xticks(np.round(np.arange(0, 1.01, 0.1), 1))
    decimals(ax, "x", lang)
    ax.set_xlabel(text("score", lang))
    ax.set_ylabel(text("sites", lang))
    ax.set_title(f"{text('score_title', lang)} (n = {len(s)})")
    ax.grid(axis="x", visible=False)
    return ax


@styled
def plot_top(top: pd.DataFrame, weights: dict[str, float], ax=None, lang: str = "ru"):
    """Winners as horizontal bars stacked by the weight each channel adds; ranks on the left; the legend
    gives each channel's weight."""
    t = top.reset_index(drop=True)
    fig, ax = new_axes(ax, max(3.0, 0.32 * len(t) + 1.2))
    y = np.arange(len(t))[::-1]
    left = np.zeros(len(t))
    for ch in CHANNELS:
        vals = pd.to_numeric(t[ch], errors="coerce").fillna(0).to_numpy() * weights[ch]
        ax.barh(y, vals, left=left, color=PALETTE[ch], label=f"{label(ch, lang)} ({fmt_short(weights[ch], lang)})",
                height=0.65)
        left += vals
    names = [f"{r['rank']}. " + next((str(r.get(c)) for c in ("name", "domain", "url", "site_id") if _present(r.get(c))), "")
             for _, r in t.iterrows()]
    ax.set_yticks(y, [n if len(n) < 38 else n[:36] + "…" for n in names])
    ax.set_xlim(0, 1.0)
    decimals(ax, "x", lang)
    ax.set_xlabel(text("score", lang))
    ax.set_title(text("top_title", lang), pad=22)
    ax.legend(ncol=5, fontsize=7.5, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              handletextpad=0.3, columnspacing=1.0)
    ax.grid(axis="y", visible=False)
    return ax


@styled
def plot_groups(table: pd.DataFrame, ax=None, lang: str = "ru", channel: str | None = None):
    """Dot and interval per group, for one channel or all channels side by side.

    Groups are labelled with their n, largest first, the folded "other" group (``members`` > 1) last; the
    grouping variable is named in words (city -> Город / City)."""
    t = table if channel is None else table[table["channel"] == channel]
    order = group_labels(t, lang)
    groups = [g for g, _ in order]
    channels = [c for c in CHANNELS if c in set(t["channel"])]
    per_group = 0.09 * len(channels) + 0.17
    fig, ax = new_axes(ax, max(3.0, per_group * len(groups) + 1.6))
    # top to bottom: the first group on top, and within a group the channels in legend order
    offsets = np.linspace(0.3, -0.3, len(channels)) if len(channels) > 1 else [0.0]
    base = -np.arange(len(groups), dtype=float)
    for i in range(len(groups)):
        if i % 2 == 0:
            ax.axhspan(base[i] - 0.5, base[i] + 0.5, color="#f1f3f5", zorder=0, lw=0)
    keys = t["group"].astype(str)
    for off, ch in zip(offsets, channels, strict=True):
        part = t[t["channel"] == ch].set_index(keys[t["channel"] == ch]).reindex(groups)
        ax.errorbar(part["estimate"], base + off, xerr=err(part["estimate"], part["ci_low"], part["ci_high"]),
                    fmt="o", ms=4, color=PALETTE[ch], label=label(ch, lang), capsize=2, lw=1, clip_on=False)
    ax.set_yticks(base, [name for _, name in order])
    ax.set_ylim(base[-1] - 0.5 if len(base) else -0.5, 0.5)
    ax.set_xlim(0, 1)
    pct(ax)
    ax.grid(axis="y", visible=False)
    var = str(t["group_var"].iloc[0]) if len(t) else ""
    ax.set_title(f"{text('groups_title', lang)}: {group_var_label(var, lang)}")
    xlabel = text("groups_axis", lang)
    if "members" in t and len(t) and (pd.to_numeric(t["members"], errors="coerce") > 1).any():
        min_n = int(pd.to_numeric(t["min_n"], errors="coerce").max()) if "min_n" in t else None
        if min_n:
            xlabel += "\n" + text("groups_folded", lang).format(min_n=min_n)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.legend(fontsize=7.5, frameon=False, ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              handletextpad=0.2, columnspacing=1.0)
    ax.set_title(ax.get_title(), pad=22)
    return ax


@styled
def plot_survey(table: pd.DataFrame, ax=None, lang: str = "ru"):
    """Survey figures: bars with intervals and the published marker (value, or bound arrow)."""
    t = table.rename(columns={"estimate": "reproduced"}).assign(variant="", variant_label_en="", variant_label_ru="")
    ax = plot_reproduce(t, ax, lang, title=text("survey_title", lang))
    return ax


@styled
def save_figure(fig, stem: str | Path, formats=("png", "svg", "pdf"), dpi: int = 300) -> list[Path]:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")  # appended: a stem may hold dots (benchmark-firm.ru-en)
        fig.savefig(path, dpi=dpi, format=fmt)
        paths.append(path)
    return paths


def plot_transitions(table: pd.DataFrame, ax=None, lang: str = "ru"):
    """Two audits of the same sites (``analysis.paired`` compare table): per channel, the sites that dropped
    the channel (left of zero) and that adopted it (right), with the net change and its interval in words."""
    t = table.reset_index(drop=True)
    fig, ax = new_axes(ax, max(2.6, 0.5 * len(t) + 1.4))
    y = np.arange(len(t))[::-1]
    adopted = pd.to_numeric(t["adopted"], errors="coerce").fillna(0).to_numpy()
    dropped = pd.to_numeric(t["dropped"], errors="coerce").fillna(0).to_numpy()
    colors = [PALETTE.get(str(c), PALETTE["accent"]) for c in t["channel"]]
    ax.barh(y, adopted, color=colors, height=0.6)
    ax.barh(y, -dropped, color=colors, height=0.6, alpha=0.45, hatch="//", edgecolor="white")
    ax.axvline(0, color=PALETTE["accent"], lw=0.8)
    reach = max(1.0, float(max(adopted.max(initial=0), dropped.max(initial=0))))
    ax.set_xlim(-reach * 1.25, reach * 1.25)
    for yi, (_, r) in zip(y, t.iterrows(), strict=True):
        ax.text(reach * 1.28, yi, f"{fmt_signed_pp(r['diff'], lang)} ({fmt_pp_ci(r['ci_low'], r['ci_high'], lang)})",
                va="center", fontsize=8)
    ax.set_yticks(y, [label(str(c), lang) for c in t["channel"]])
    ax.xaxis.set_major_formatter(lambda value, _pos: f"{abs(value):g}")
    n = int(pd.to_numeric(t["n_pairs"], errors="coerce").max()) if len(t) else 0
    ax.set_title(f"{text('transitions_title', lang)} (n = {n} {text('pairs_word', lang)})", pad=22)
    ax.set_xlabel(text("transitions_axis", lang), fontsize=9)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=PALETTE["muted"], label=text("adopted", lang)),
               Patch(facecolor=PALETTE["muted"], alpha=0.45, hatch="//", edgecolor="white",
                     label=text("dropped", lang))]
    ax.legend(handles=handles, ncol=2, fontsize=8, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    ax.grid(axis="y", visible=False)
    return ax


def fmt_signed_pp(value, lang: str = "ru", unit: bool = True) -> str:
    """A change of a share in percentage points with its sign: +4,2 п. п. / +4.2 pp."""
    if value is None or pd.isna(value):
        return ""
    shown = f"{100 * float(value):+.1f}".replace("-", "−")
    shown = shown.replace(".", ",") if lang == "ru" else shown
    return shown + ((" п. п." if lang == "ru" else " pp") if unit else "")


def fmt_pp_ci(low, high, lang: str = "ru") -> str:
    """An interval of a change in percentage points: −1,2 … +5,3 п. п."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    return f"{fmt_signed_pp(low, lang, False)} … {fmt_signed_pp(high, lang)}"


@styled
def plot_flow(table: pd.DataFrame, ax=None, lang: str = "ru"):
    """The flow of the sample (``analysis.flow`` table), CONSORT/PRISMA style: one box per step with its n, top
    to bottom, and beside each arrow a box with the sites excluded there and why. Draws the table only."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    t = table.reset_index(drop=True)
    excluded = pd.to_numeric(t["excluded"], errors="coerce").fillna(0).astype(int).tolist()
    reasons = []
    for i, r in t.iterrows():
        reason = str(r.get(f"reason_{lang}")) if _present(r.get(f"reason_{lang}")) and excluded[i] else ""
        group, _, items = reason.partition(": ")  # "not reachable: DNS error 2, timeout 1": one line per status
        lines = [f"{text('flow_excluded', lang)}: {fmt_int_plain(excluded[i])}" + (f" — {group}" if group else "")]
        lines += [_wrap(f"• {item}", 46) for item in items.split(", ") if item]
        reasons.append("\n".join(lines))
    line_h, pad = 0.14, 0.12
    heights = [line_h * (s.count("\n") + 1) + pad for s in reasons]
    main_h = 0.52
    gaps = [max(0.55, heights[i] + 0.2) if i < len(t) - 1 and excluded[i] else 0.55 for i in range(len(t))]
    tops, y = [], 0.0
    for i in range(len(t)):
        tops.append(y)
        y -= main_h + gaps[i]
    bottom = tops[-1] - main_h if tops else -1
    fig, ax = new_axes(ax, max(2.5, 0.95 * (-bottom) + 0.6))
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom - 0.1, 0.15)
    ax.axis("off")
    left, width = 0.02, 0.44
    for i, r in t.iterrows():
        top = tops[i]
        box = FancyBboxPatch((left, top - main_h), width, main_h, boxstyle="round,pad=0.01,rounding_size=0.03",
                             fc="#eef2f6", ec=PALETTE["accent"], lw=1.2)
        ax.add_patch(box)
        name = _wrap(r.get(f"label_{lang}") or r["step"], 34)
        ax.text(left + width / 2, top - main_h / 2, f"{name}\nn = {fmt_int_plain(r['n'])}", ha="center",
                va="center", fontsize=9, fontweight="bold" if i == len(t) - 1 else "normal")
        note = r.get(f"note_{lang}")
        if i == len(t) - 1 and _present(note):
            ax.text(left + width + 0.03, top - main_h / 2, _wrap(note, 46), ha="left", va="center", fontsize=7.5,
                    color=PALETTE["muted"], style="italic")
        if i == len(t) - 1:
            continue
        x = left + width / 2
        ax.add_patch(FancyArrowPatch((x, top - main_h), (x, tops[i + 1]), arrowstyle="-|>", mutation_scale=12,
                                     color=PALETTE["accent"], lw=1.2))
        if not excluded[i]:
            continue
        mid = top - main_h - gaps[i] / 2
        h = heights[i]
        ex_left = 0.56
        ax.add_patch(FancyBboxPatch((ex_left, mid - h / 2), 0.42, h, boxstyle="round,pad=0.01,rounding_size=0.03",
                                    fc="#fbf3ee", ec=PALETTE["published"], lw=1.0))
        ax.text(ex_left + 0.015, mid, reasons[i], ha="left", va="center", fontsize=7.5)
        ax.add_patch(FancyArrowPatch((x, mid), (ex_left, mid), arrowstyle="-|>", mutation_scale=10,
                                     color=PALETTE["published"], lw=1.0))
    ax.set_title(text("flow_title", lang))
    return ax


def fmt_int_plain(value) -> str:
    """A count with the thousands separator of neither language (charts keep 1234 short)."""
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return ""


#: Fewer local peers than this are named on the benchmark chart but not drawn.
MIN_LOCAL_PEERS = 5


def _bench_words(lang: str) -> dict:
    from chanaudit.reports.style import lang_of, texts

    return {k: v[lang_of(lang)] for k, v in texts()["benchmark"].items()}


def local_label(summary: dict, lang: str) -> str:
    """«Казань (n = 12)» or «phone region: Moscow (n = 40)»; "" without local peers."""
    words = _bench_words(lang)
    if not summary.get("local"):
        return ""
    key = "local_phone" if summary.get("local_by") == "phone_region" else "local"
    return words[key].format(place=summary["local"], n=summary.get("local_peers", 0))


@styled
def plot_benchmark(table: pd.DataFrame, summary: dict, ax=None, lang: str = "ru"):
    """One company against the market (``analysis.benchmark`` table): per channel the peers' share with its
    interval (bars), the local peers' share (diamonds) and, on the right, whether the company has it."""
    words = _bench_words(lang)
    t = table[table["metric"].isin(CHANNELS)].reset_index(drop=True)
    fig, ax = new_axes(ax, 3.8)
    y = np.arange(len(t))[::-1]
    colors = [PALETTE.get(str(c), PALETTE["accent"]) for c in t["metric"]]
    market = pd.to_numeric(t["market"], errors="coerce").fillna(0)
    ax.barh(y, market, color=colors, height=0.55)
    handles = [Patch(color=PALETTE["muted"], label=words["market"].format(n=summary.get("peers", 0)))]
    ax.errorbar(market, y, xerr=err(market, t["market_ci_low"], t["market_ci_high"]), fmt="none",
                ecolor=PALETTE["accent"], capsize=3, lw=1)
    local = pd.to_numeric(t["local"], errors="coerce")
    if summary.get("local") and summary.get("local_peers", 0) >= MIN_LOCAL_PEERS:
        handles += ax.plot(local, y, "D", color=PALETTE["published"], ms=7, zorder=4, clip_on=False,
                           label=local_label(summary, lang))
    elif summary.get("local"):  # one or two local peers: a share of 0% or 100% that says nothing
        handles.append(Patch(color="none", label=f"{local_label(summary, lang)}: {words['too_few']}"))
    for yi, (_, r) in zip(y, t.iterrows(), strict=True):
        has = pd.to_numeric(pd.Series([r["company"]]), errors="coerce").iloc[0] == 1
        ax.text(1.04, yi, ("✔ " + words["has"]) if has else ("✘ " + words["lacks"]), va="center", fontsize=10,
                fontweight="bold", color=PALETTE["phone"] if has else PALETTE["chat"],
                transform=ax.get_yaxis_transform())
    ax.text(1.04, 1.0, words["company_col"], fontsize=9, fontweight="bold", va="bottom", transform=ax.transAxes)
    ax.set_yticks(y, [label(str(c), lang) for c in t["metric"]])
    ax.set_xlim(0, 1)
    pct(ax)
    ax.set_xlabel(words["share_axis"])
    ax.grid(axis="y", visible=False)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False, fontsize=9)
    return ax


@styled
def plot_benchmark_scores(scores: pd.Series, summary: dict, ax=None, lang: str = "ru"):
    """The peers' scores (histogram) and the company's score (a line), with its rank and percentile."""
    words = _bench_words(lang)
    fig, ax = new_axes(ax, 3.0)
    s = pd.to_numeric(pd.Series(scores), errors="coerce").dropna()
    bins = np.arange(-0.05, 1.1, 0.1)
    ax.hist(s, bins=bins, color=PALETTE["muted"], rwidth=0.85)
    score = float(summary["score"])
    ax.axvline(score, color=PALETTE["published"], lw=2.5,
               label=words["company_line"].format(score=fmt_short(score, lang, 2)))
    ax.set_xticks(np.round(np.arange(0, 1.01, 0.1), 1))
    decimals(ax, "x", lang)
    ax.set_xlabel(text("score", lang))
    ax.set_ylabel(text("sites", lang))
    ax.set_title(words["scores_title"])
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    ax.grid(axis="x", visible=False)
    return ax


@styled
def benchmark_page(table: pd.DataFrame, summary: dict, scores: pd.Series, lang: str = "ru"):
    """The one-page chart of ``chanaudit benchmark``: a title with the company's score, rank and percentile, the
    channels against the market (top) and the market's scores (bottom), on an A4 landscape page."""
    words = _bench_words(lang)
    fig = new_figure(11.0, 7.6)
    top, bottom = fig.subplots(2, 1, height_ratios=[1.35, 1])
    plot_benchmark(table, summary, ax=top, lang=lang)
    plot_benchmark_scores(scores, summary, ax=bottom, lang=lang)
    pct_value = summary.get("percentile")
    pct_text = "—" if pct_value is None or pct_value != pct_value else fmt_short(round(pct_value), lang, 0)
    share = "—" if pct_text == "—" else f"{pct_text}%"
    name = summary.get("name") or summary.get("domain")
    fig.suptitle(words["title"].format(name=name) + "\n"
                 + words["subtitle"].format(score=fmt_short(summary["score"], lang, 2), rank=summary["rank"],
                                            n=summary["n"], pct=pct_text, pct_word=share),
                 fontsize=13, fontweight="bold")
    return fig
