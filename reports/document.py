"""The report: charts and tables in one self-contained HTML page, a PDF, and the review page
(:mod:`chanaudit.reports.review`) that the report links to.

Everything scraped (names, URLs, snippets) is escaped; only http(s) URLs
become links. The PDF is printed by Debian's chromium when present, else
assembled from the charts with matplotlib.
"""

from __future__ import annotations

import base64
import html
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from chanaudit.analysis.labels import label
from chanaudit.analysis.reproduce import VERDICT_LABELS, fmt_diff, sample_caveat, verdict_label
from chanaudit.analysis.studies import StudySpecError, load_study
from chanaudit.core.contract import CHANNELS
from chanaudit.core.folder import AuditFolder
from chanaudit.core.numbers import (  # noqa: F401 (re-exported)
    fmt_ci,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_short,
    is_missing,
)
from chanaudit.core.overrides import audit_id_of
from chanaudit.reports import charts
from chanaudit.reports.review import review_page
from chanaudit.reports.style import entry, group_labels, group_var_label, lang_of, text, texts
from chanaudit.scoring.weights import default_weights

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@dataclass
class ReportPaths:
    html: Path
    pdf: Path
    review_html: Path
    charts: dict[str, list[Path]] = field(default_factory=dict)


def esc(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return html.escape(str(value), quote=True)


def safe_link(url, label=None) -> str:
    """A link only for http(s) URLs; anything else (javascript:, data:) is shown as text."""
    text_ = esc(label if label is not None else url)
    url = str(url or "")
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{esc(url)}" rel="noopener noreferrer nofollow">{text_}</a>'
    return text_


@dataclass
class Grid:
    """A table to show: human headers, cells already escaped (HTML), which columns are numbers."""
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    classes: list[list[str]] = field(default_factory=list)


def grid_html(grid: Grid, max_rows: int = 60, lang: str = "ru", file: str = "") -> str:
    head = "".join(f"<th{' class=num' if num else ''}>{esc(h)}</th>"
                   for h, num in zip(grid.headers, grid.numeric, strict=True))
    body = []
    for i, row in enumerate(grid.rows[:max_rows]):
        extra = grid.classes[i] if i < len(grid.classes) else [""] * len(row)
        cells = []
        for cell, num, cls in zip(row, grid.numeric, extra, strict=True):
            names = " ".join(c for c in ("num" if num else "", cls) if c)
            cells.append(f"<td class='{names}'>{cell}</td>" if names else f"<td>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(grid.rows) > max_rows:
        more = f"<p class='note'>{esc(text('more_rows', lang).format(n=len(grid.rows) - max_rows, file=file))}</p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def table_html(frame: pd.DataFrame, columns: list[str] | None = None, pct_cols=(), max_rows: int = 60,
               lang: str = "ru", file: str = "") -> str:
    """Any table as it is (headers from labels.yaml ``columns`` when known); every cell escaped."""
    cols = [c for c in (columns or list(frame.columns)) if c in frame]
    rows = [[fmt_pct(r[c], lang) if c in pct_cols else esc(r[c]) for c in cols] for _, r in frame.iterrows()]
    grid = Grid([entry("columns", c, lang) for c in cols], rows, [c in pct_cols for c in cols])
    return grid_html(grid, max_rows, lang, file)


# --- one display table per kind of section -------------------------------------------------------------------

def _col(key: str, lang: str) -> str:
    return entry("columns", key, lang)


def _channel_name(row, lang: str) -> str:
    name = row.get(f"label_{lang}")
    return str(name) if not is_missing(name) else label(str(row.get("channel", "")), lang)


def _prevalence_grid(t: pd.DataFrame, lang: str) -> Grid:
    heads = [_col(k, lang) for k in ("channel", "sites_with", "sites_total", "share", "ci")]
    rows = [[esc(_channel_name(r, lang)), fmt_int(r["k"]), fmt_int(r["n"]), fmt_pct(r["estimate"], lang),
             fmt_ci(r["ci_low"], r["ci_high"], lang)] for _, r in t.iterrows()]
    return Grid(heads, rows, [False, True, True, True, True])


def _figure_name(r, lang: str) -> str:
    return charts.figure_name(r, lang)


def _published(r, lang: str) -> str:
    shown = r.get("published_text_ru") if lang == "ru" else None
    if is_missing(shown):
        shown = r.get("published_text")
    return "—" if is_missing(shown) else str(shown)


def _reproduce_grid(t: pd.DataFrame, lang: str) -> Grid:
    heads = [_col(k, lang) for k in ("figure", "published", "reproduced", "ci", "k_of_n", "diff", "verdict")]
    rows, classes = [], []
    of = "из" if lang == "ru" else "of"
    for _, r in t.iterrows():
        code = "" if is_missing(r.get("verdict")) else str(r["verdict"])
        shown = r.get(f"verdict_label_{lang}")
        shown = verdict_label(code, lang) if is_missing(shown) else shown
        if not is_missing(r.get("note")):
            shown = f"{shown} ({r['note']})"
        reproduced, k_of_n = fmt_pct(r["reproduced"], lang), f"{fmt_int(r['k'])} {of} {fmt_int(r['n'])}"
        if r.get("comparison") == "direction" and not is_missing(r.get("n_b")):  # group A vs group B
            reproduced += f" / {fmt_pct(r['reproduced_b'], lang)}"
            k_of_n += f" / {fmt_int(r['k_b'])} {of} {fmt_int(r['n_b'])}"
        rows.append([esc(_figure_name(r, lang)), esc(_published(r, lang)), reproduced,
                     fmt_ci(r["ci_low"], r["ci_high"], lang), k_of_n,
                     fmt_diff(r.get("diff"), r.get("diff_ci_low"), r.get("diff_ci_high"), lang), esc(shown)])
        classes.append([""] * 6 + [f"v-{code}" if code in VERDICT_LABELS else ""])
    return Grid(heads, rows, [False, False, True, True, True, True, False], classes)


def combination_name(combo, lang: str) -> str:
    """email+phone -> «Эл. почта + Телефон»; the empty set -> «нет каналов»."""
    parts = [p for p in ("" if is_missing(combo) else str(combo)).split("+") if p]
    return " + ".join(label(p, lang) for p in parts) if parts else text("none", lang)


def _combinations_grid(t: pd.DataFrame, lang: str) -> Grid:
    heads = [_col(k, lang) for k in ("combination", "size", "sites", "share", "ci")]
    rows = [[esc(combination_name(r["combination"], lang)),
             fmt_int(r["size"]) if "size" in t else fmt_int(len([p for p in str(r["combination"]).split("+") if p])),
             fmt_int(r["k"]), fmt_pct(r["estimate"], lang), fmt_ci(r["ci_low"], r["ci_high"], lang)]
            for _, r in t.iterrows()]
    return Grid(heads, rows, [False, True, True, True, True])


def _channel_counts_grid(t: pd.DataFrame, lang: str) -> Grid:
    heads = [_col(k, lang) for k in ("n_channels", "exactly_sites", "exactly_share", "ci", "at_least_sites",
                                     "at_least_share", "ci")]
    rows = []
    for k in sorted(pd.to_numeric(t["n_channels"], errors="coerce").dropna().astype(int).unique()):
        row = [str(k)]
        for kind in ("exactly", "at_least"):
            part = t[(pd.to_numeric(t["n_channels"], errors="coerce") == k) & (t["kind"] == kind)]
            if len(part):
                r = part.iloc[0]
                row += [fmt_int(r["k"]), fmt_pct(r["estimate"], lang), fmt_ci(r["ci_low"], r["ci_high"], lang)]
            else:
                row += ["", "", ""]
        rows.append(row)
    return Grid(heads, rows, [True] * 7)


def _flow_grid(t: pd.DataFrame, lang: str) -> Grid:
    """The sample flow (``flow.csv``): each step's sites, how many it excluded and why (the last step's note)."""
    heads = [_col(k, lang) for k in ("flow_step", "sites", "excluded", "reason")]
    rows = []
    for _, r in t.iterrows():
        reason = "" if is_missing(r.get(f"reason_{lang}")) else str(r[f"reason_{lang}"])
        note = "" if is_missing(r.get(f"note_{lang}")) else str(r[f"note_{lang}"])
        excluded = pd.to_numeric(r.get("excluded"), errors="coerce")
        rows.append([esc(r[f"label_{lang}"]), fmt_int(r["n"]),
                     fmt_int(excluded) if not is_missing(excluded) and excluded else "—", esc(reason or note)])
    return Grid(heads, rows, [False, True, True, False])


def _top_grid(t: pd.DataFrame, lang: str) -> Grid:
    heads = [_col(k, lang) for k in ("rank", "company", "website", "score", "channels_found")]
    rows = []
    for _, r in t.iterrows():
        found = [label(c, lang) for c in CHANNELS if c in t and pd.to_numeric(r[c], errors="coerce") == 1]
        name = r.get("name")
        name = r.get("domain") if is_missing(name) else name
        url = r.get("final_url") if not is_missing(r.get("final_url")) else r.get("url")
        rows.append([fmt_int(r["rank"]), esc(name), safe_link(url) if not is_missing(url) else "",
                     fmt_num(r["score"], lang, 2), esc(", ".join(found)) if found else fmt_int(r.get("channels"))])
    return Grid(heads, rows, [True, False, False, True, False], [["", "", "url", "", ""]] * len(rows))


def _groups_grid(t: pd.DataFrame, lang: str) -> Grid:
    """One row per group (largest first, "other" last), one column per channel: share (interval)."""
    order = group_labels(t, lang)
    channels = [c for c in CHANNELS if c in set(t["channel"])]
    var = str(t["group_var"].iloc[0]) if len(t) else ""
    heads = [group_var_label(var, lang)] + [label(c, lang) for c in channels]
    keys = t["group"].astype(str)
    rows, classes = [], []
    for g, name in order:
        classes.append(["group"] + [""] * len(channels))
        row = [esc(name)]
        for ch in channels:
            part = t[(keys == g) & (t["channel"] == ch)]
            if len(part):
                r = part.iloc[0]
                low, high = fmt_pct(r["ci_low"], lang).rstrip("%"), fmt_pct(r["ci_high"], lang)
                row.append(f"<b>{fmt_pct(r['estimate'], lang, 0)}</b><br><span class='ci'>{esc(low)}–{esc(high)}</span>")
            else:
                row.append("")
        rows.append(row)
    return Grid(heads, rows, [False] + [True] * len(channels), classes)


def _test_name(kind, lang: str) -> str:
    """A test code (chi2, fisher, fisher_freeman_halton, mcnemar_exact...) in words; unknown codes as they are."""
    kind = "" if is_missing(kind) else str(kind)
    return text(f"test_{kind}", lang) if f"test_{kind}" in texts() else kind


def _group_tests_grid(t: pd.DataFrame, lang: str) -> Grid:
    adjusted = "p_holm" in t
    heads = [_col(k, lang) for k in ("channel", "test", "statistic", "dof", "p_val")] + ["n"]
    heads += [_col("p_holm", lang)] if adjusted else []
    rows = []
    for _, r in t.iterrows():
        rows.append([esc(label(str(r["channel"]), lang)), esc(_test_name(r.get("test"), lang)),
                     fmt_num(r.get("statistic"), lang, 2), fmt_int(r.get("dof")), fmt_p(r.get("p_val"), lang),
                     fmt_int(r.get("n"))] + ([fmt_p(r.get("p_holm"), lang)] if adjusted else []))
    return Grid(heads, rows, [False, False, True, True, True, True] + [True] * adjusted)


def _pp(value, lang: str) -> str:
    return charts.fmt_signed_pp(value, lang)


def _compare_grid(t: pd.DataFrame, lang: str) -> Grid:
    """Two audits of the same sites (``compare.csv``): shares before and after, changes, McNemar."""
    keys = ("channel", "n_pairs", "before", "after", "adopted", "dropped", "change", "ci", "test", "p_val",
            "p_holm")
    rows = [[esc(label(str(r["channel"]), lang)), fmt_int(r["n_pairs"]), fmt_pct(r["before"], lang),
             fmt_pct(r["after"], lang), fmt_int(r["adopted"]), fmt_int(r["dropped"]), esc(_pp(r["diff"], lang)),
             esc(charts.fmt_pp_ci(r["ci_low"], r["ci_high"], lang)), esc(_test_name(r.get("test"), lang)),
             fmt_p(r["p_val"], lang), fmt_p(r.get("p_holm"), lang)] for _, r in t.iterrows()]
    return Grid([_col(k, lang) for k in keys], rows, [False] + [True] * 7 + [False, True, True])


def _cochran_grid(t: pd.DataFrame, lang: str) -> Grid:
    keys = ("channel", "sites_total", "waves", "statistic", "dof", "p_val", "p_holm")
    rows = [[esc(label(str(r["channel"]), lang)), fmt_int(r["n_sites"]), fmt_int(r["n_waves"]),
             fmt_num(r["statistic"], lang, 2), fmt_int(r["dof"]), fmt_p(r["p_val"], lang),
             fmt_p(r.get("p_holm"), lang)] for _, r in t.iterrows()]
    return Grid([_col(k, lang) for k in keys], rows, [False] + [True] * 6)


def _validation_grid(t: pd.DataFrame, lang: str) -> Grid:
    """Agreement with human labels (``validation.csv``)."""
    keys = ("channel", "n", "tp", "fp", "fn", "tn", "precision", "recall", "kappa", "pabak")
    rows = [[esc(label(str(r["channel"]), lang)), fmt_int(r["n"]), fmt_int(r["tp"]), fmt_int(r["fp"]),
             fmt_int(r["fn"]), fmt_int(r["tn"]),
             f"{fmt_pct(r['precision'], lang)}<br><span class='ci'>{fmt_ci(r['precision_ci_low'], r['precision_ci_high'], lang)}</span>",
             f"{fmt_pct(r['recall'], lang)}<br><span class='ci'>{fmt_ci(r['recall_ci_low'], r['recall_ci_high'], lang)}</span>",
             f"{fmt_num(r['kappa'], lang)}<br><span class='ci'>{fmt_num(r['kappa_ci_low'], lang)} – "
             f"{fmt_num(r['kappa_ci_high'], lang)}</span>", fmt_num(r["pabak"], lang)] for _, r in t.iterrows()]
    return Grid([_col(k if k != "n" else "sites", lang) for k in keys], rows, [False] + [True] * 9)


def _corrected_grid(t: pd.DataFrame, lang: str) -> Grid:
    """The audit's shares corrected for detection errors (``prevalence_corrected.csv``)."""
    keys = ("channel", "share", "ci", "sensitivity", "specificity", "corrected", "ci")
    rows = [[esc(label(str(r["channel"]), lang)), fmt_pct(r["raw"], lang), fmt_ci(r["raw_ci_low"], r["raw_ci_high"], lang),
             fmt_pct(r["sensitivity"], lang), fmt_pct(r["specificity"], lang), fmt_pct(r["corrected"], lang),
             fmt_ci(r["ci_low"], r["ci_high"], lang)] for _, r in t.iterrows()]
    return Grid([_col(k, lang) for k in keys], rows, [False] + [True] * 6)


def _survey_grid(t: pd.DataFrame, lang: str) -> Grid:
    heads = [_col(k, lang) for k in ("figure", "published", "estimate_weighted", "ci", "n_answers", "n_eff",
                                     "deff")]
    rows = [[esc(_figure_name(r, lang)), esc(_published(r, lang)), fmt_pct(r["estimate"], lang),
             fmt_ci(r["ci_low"], r["ci_high"], lang), fmt_int(r.get("n")), fmt_int(r.get("n_eff")),
             fmt_num(r.get("deff"), lang, 2)] for _, r in t.iterrows()]
    return Grid(heads, rows, [False, False, True, True, True, True, True])


def _accuracy_grid(t: pd.DataFrame, lang: str) -> Grid:
    keys = [k for k in ("tp", "fp", "fn", "tn") if k in t]
    heads = [_col("channel", lang)] + [_col(k, lang) for k in keys] + [_col(k, lang) for k in ("precision", "recall",
                                                                                               "f1")]
    rows = []
    for _, r in t.iterrows():
        ch = str(r["channel"])
        name = text("all_channels", lang) if ch == "all" else label(ch, lang)
        rows.append([esc(name)] + [fmt_int(r[k]) for k in keys]
                    + [fmt_pct(r.get("precision"), lang), fmt_pct(r.get("recall"), lang),
                       fmt_num(r.get("f1"), lang, 3)])
    return Grid(heads, rows, [False] + [True] * (len(keys) + 3))


GRIDS = {"flow": _flow_grid, "prevalence": _prevalence_grid, "combinations": _combinations_grid, "channel_counts": _channel_counts_grid,
         "top": _top_grid, "survey_figures": _survey_grid, "accuracy": _accuracy_grid, "compare": _compare_grid,
         "cochran": _cochran_grid, "validation": _validation_grid, "prevalence_corrected": _corrected_grid}


def study_title(name: str, lang: str) -> str:
    """The title of the study behind ``reproduce-<study id>``, or the id when it is not a known spec."""
    sid = name[len("reproduce-"):] if name.startswith("reproduce-") else name
    try:
        study = load_study(sid)
    except StudySpecError:
        return sid
    return (study.title_ru if lang == "ru" else study.title_en) or sid


def _caveat(name: str, lang: str) -> str:
    """The study's sample and the standard caveat (intervals assume a random sample, ignore detector error)."""
    try:
        study = load_study(name[len("reproduce-"):])
    except StudySpecError:
        return text("reproduce_caveat", lang)
    return " ".join(sample_caveat(study, lang))


def weights_text(weights: Mapping[str, float] | None, lang: str) -> str:
    """«Эл. почта — 0,1; Телефон — 0,1; …»: the weights the scores used. None stands for the study's
    defaults used because no scoring run was recorded, and the text says so."""
    shown = "; ".join(f"{label(c, lang)} — {fmt_short(w, lang)}" for c, w in (weights or default_weights()).items()
                      if c in CHANNELS)
    return shown if weights is not None else f"{shown}; {text('weights_default', lang)}"


def section_text(name: str, lang: str, weights: Mapping[str, float] | None = None) -> tuple[str, str]:
    """(title, one-line explanation) of a report section in ``lang``; internal table names never shown.
    ``weights`` are those the scores used (None: the defaults, said to be so)."""
    sections = texts()["sections"]
    if name.startswith("reproduce-"):
        spec, fill = sections["reproduce"], {"study": study_title(name, lang), "caveat": _caveat(name, lang)}
    elif name.startswith("groups-") and name.endswith("-tests"):
        spec, fill = sections["groups_tests"], {}
    elif name.startswith("groups-"):
        spec, fill = sections["groups"], {"var": group_var_label(name[len("groups-"):], lang)}
    elif name == "scores":
        spec, fill = sections["scores"], {"weights": weights_text(weights, lang)}
    elif name in sections:
        spec, fill = sections[name], {}
    else:
        spec, fill = sections["other"], {"name": name}
    title = spec["title"][lang].format(**fill)
    note = spec.get("note", {}).get(lang, "").format(**fill)
    return title, note


def _grid_for(name: str, table: pd.DataFrame, lang: str) -> Grid | None:
    if name.startswith("reproduce-"):
        return _reproduce_grid(table, lang)
    if name.startswith("groups-") and name.endswith("-tests"):
        return _group_tests_grid(table, lang)
    if name.startswith("groups-"):
        return _groups_grid(table, lang)
    fn = GRIDS.get(name)
    return fn(table, lang) if fn else None


def _png_inches(png: Path, dpi: int = 300) -> float:
    """The printed width of a chart PNG (saved at ``dpi``): charts keep one type size on the page."""
    data = png.read_bytes()[:24]
    return int.from_bytes(data[16:20], "big") / dpi if data[:8] == b"\x89PNG\r\n\x1a\n" else 7.0


def _draw_all(tables: dict[str, pd.DataFrame], out: Path, lang: str, formats,
              weights: Mapping[str, float]) -> dict[str, list[Path]]:
    made: dict[str, list[Path]] = {}

    def draw(name, fn, *args, **kw):
        ax = fn(*args, lang=lang, **kw)
        made[name] = charts.save_figure(ax.figure, out / AuditFolder.CHARTS / f"{name}-{lang}", formats)

    if AuditFolder.FLOW in tables and len(tables[AuditFolder.FLOW]):  # the report opens with the sample
        draw(AuditFolder.FLOW, charts.plot_flow, tables[AuditFolder.FLOW])
    if "prevalence" in tables:
        draw("prevalence", charts.plot_prevalence, tables["prevalence"])
    for key in sorted(k for k in tables if k.startswith("reproduce-")):
        draw(key, charts.plot_reproduce, tables[key], title=study_title(key, lang))
    if "combinations" in tables:
        draw("combinations", charts.plot_upset, tables["combinations"])
    if "channel_counts" in tables:
        draw("channel_counts", charts.plot_channel_counts, tables["channel_counts"])
    if "scores" in tables:
        draw("scores", charts.plot_score_distribution, tables["scores"])
    if "top" in tables and len(tables["top"]):
        draw("top", charts.plot_top, tables["top"], weights)
    for key in sorted(k for k in tables if k.startswith("groups-") and not k.endswith("-tests")):
        if len(tables[key]):
            draw(key, charts.plot_groups, tables[key])
    if "survey_figures" in tables:
        draw("survey_figures", charts.plot_survey, tables["survey_figures"])
    if "compare" in tables and len(tables["compare"]):
        draw("compare", charts.plot_transitions, tables["compare"])
    return made


#: Sections whose numbers are over the working company websites (status ok): they state the base.
BASED = ("prevalence", "combinations", "channel_counts", "scores", "top", "groups-")


def base_note(name: str, flow: pd.DataFrame | None, lang: str) -> str:
    """«Base: 288 working company websites of 320 input rows…» for a section computed over ok sites; "" for
    the others (the flow itself, a survey, the accuracy against labels) and when there is no flow."""
    if flow is None or not len(flow):
        return ""
    based = name.startswith(BASED) and not name.endswith("-tests")
    if name.startswith("reproduce-"):
        try:
            based = load_study(name[len("reproduce-"):]).data == "audit"
        except StudySpecError:
            based = False
    if not based:
        return ""
    n = pd.to_numeric(flow["n"], errors="coerce")
    return text("base_note", lang).format(n=fmt_int(n.iloc[-1]), total=fmt_int(n.iloc[0]))


def _section(name: str, table: pd.DataFrame | None, paths: list[Path], lang: str, level: int = 2,
             weights: Mapping[str, float] | None = None, flow: pd.DataFrame | None = None) -> str:
    title, note = section_text(name, lang, weights)
    png = next((p for p in paths if p.suffix == ".png"), None)
    img = (f"<figure><img alt='{esc(title)}' style='width:{_png_inches(png):.2f}in' "
           f"src='data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}'></figure>" if png else "")
    grid = _grid_for(name, table, lang) if table is not None and len(table) else None
    body = grid_html(grid, lang=lang, file=AuditFolder.csv_name(name)) if grid is not None else ""
    changed = _overridden(table)
    if changed:
        note = f"{note} {text('overridden_note', lang).format(n=changed)}".strip()
    coder = _coder(table)
    if coder:  # whose labels: a validation table may say (the demo's are synthetic)
        note = f"{note} {text('coder_note', lang).format(coder=coder)}".strip()
    lead = f"<p class='lead'>{esc(note)}</p>" if note else ""
    based = base_note(name, flow, lang)
    lead += f"<p class='base'>{esc(based)}</p>" if based else ""
    # the heading, its explanation and the chart stay on one page
    return (f"<section id='{esc(name)}'><div class='keep'><h{level}>{esc(title)}</h{level}>{lead}{img}</div>"
            f"{body}</section>")


def _coder(table: pd.DataFrame | None) -> str:
    """Who coded the labels behind a validation table (its optional ``coder`` column), "" when unsaid."""
    if table is None or "coder" not in table or not len(table):
        return ""
    said = [str(v).strip() for v in table["coder"].dropna().unique() if str(v).strip()]
    return "; ".join(said)


def _overridden(table: pd.DataFrame | None) -> int:
    """Values changed by review behind a table (its ``overridden`` column: per channel, or one total)."""
    if table is None or "overridden" not in table or not len(table):
        return 0
    values = pd.to_numeric(table["overridden"], errors="coerce").fillna(0)
    if "channel" in table:
        per = dict(zip(table["channel"].astype(str), values, strict=True))
        return int(sum(per.get(c, 0) for c in CHANNELS))
    if "site_id" in table:
        return int(values.sum())
    return int(values.max())


def build_report(tables: dict[str, pd.DataFrame], out_dir: str | Path, lang: str = "ru", meta: dict | None = None,
                 formats=("png", "svg", "pdf"), weights: Mapping[str, float] | None = None,
                 chromium: str | None = CHROMIUM, audit: str | None = None,
                 review_seed: pd.DataFrame | None = None) -> ReportPaths:
    """Charts, ``report.html``, ``report.pdf`` and the review page ``review.html`` in ``out_dir`` from ``tables``
    (by name: ``sites``, ``evidence``, ``prevalence``, ``scores``, ``groups-city``…). ``meta`` is the audit's
    manifest; ``weights`` those the scores used (``scoring.json``): None shows the study's defaults and says
    that no scoring run was recorded. The PDF is the page printed by the ``chromium`` executable when there is
    one, else (or with ``chromium=None``) the charts one per page. ``audit`` keys the review page's decisions
    in the browser (:func:`chanaudit.core.overrides.audit_id`; from ``meta`` when None); ``review_seed`` are
    decisions the page starts with."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = meta or {}
    lang = lang_of(lang)
    made = _draw_all(tables, out, lang, formats, default_weights() if weights is None else dict(weights))
    sections = [f"<h1>{esc(text('report_title', lang))}</h1>", _meta_html(meta, lang)]
    flow = tables.get(AuditFolder.FLOW)
    review_path = out / AuditFolder.REVIEW_HTML
    for name, paths in made.items():
        part = _section(name, tables.get(name), paths, lang, weights=weights, flow=flow)
        tests = tables.get(f"{name}-tests") if name.startswith("groups-") else None
        if tests is not None and len(tests):
            part = part[:-len("</section>")] + _section(f"{name}-tests", tests, [], lang, level=3) + "</section>"
        sections.append(part)
    for name in ("cochran", "accuracy", "validation", "prevalence_corrected"):  # tables without a chart
        if name in tables and len(tables[name]):
            sections.append(_section(name, tables[name], [], lang))
    page = _page(text("report_title", lang), "\n".join(sections), lang)
    html_path = out / AuditFolder.REPORT_HTML
    html_path.write_text(page, encoding="utf-8")
    sites = tables.get(AuditFolder.SITES)
    if sites is not None:
        page = review_page(sites, tables.get(AuditFolder.EVIDENCE), audit=audit or audit_id_of(meta, sites),
                           lang=lang, weights=weights, config=meta.get("config"), manifest=meta, seed=review_seed)
        review_path.write_text(page, encoding="utf-8")
    pdf_path = out / AuditFolder.REPORT_PDF
    if not (chromium and _print_pdf(html_path, pdf_path, chromium)):
        _pdf_from_charts(made, pdf_path)
    return ReportPaths(html_path, pdf_path, review_path, made)


def _status_counts(counts: dict, lang: str) -> str:
    return ", ".join(f"{entry('statuses', k, lang)}: {v}" for k, v in counts.items())


def _meta_html(meta: dict, lang: str) -> str:
    counts = meta.get("counts") or {}
    fetched, rendered = meta.get("pages_fetched", ""), meta.get("pages_rendered", "")
    rows = [("version", meta.get("version")), ("started", meta.get("started")), ("ended", meta.get("ended")),
            ("sha256", (meta.get("input") or {}).get("sha256")), ("counts", _status_counts(counts, lang)),
            ("pages", f"{fetched} / {rendered}" if fetched != "" or rendered != "" else ""),
            ("overrides", overrides_text(meta.get("overrides"), lang))]
    body = "".join(f"<tr><th>{esc(entry('meta', k, lang))}</th><td>{esc(v)}</td></tr>" for k, v in rows
                   if not is_missing(v) and v != "")
    review = (f"<tr><th>{esc(entry('meta', 'review', lang))}</th><td><a href='{AuditFolder.REVIEW_HTML}'>"
              f"{esc(text('review_link', lang))}</a></td></tr>")
    return f"<table class='meta'>{body}{review}</table>"


def overrides_text(summary: Mapping | None, lang: str) -> str:
    """What the review decisions changed, in words (``manifest.json``'s ``overrides``); "" without any."""
    if not summary:
        return ""
    return text("overrides_text", lang).format(changed=summary.get("changed", 0), sites=summary.get("sites_changed", 0),
                                              reviewed=summary.get("reviewed", 0),
                                              file=Path(str(summary.get("file", ""))).name,
                                              sha=str(summary.get("sha256", ""))[:12])


CSS = (
    "@page{size:A4;margin:14mm 12mm}"
    "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#1f2d3d;"
    "line-height:1.35}"
    "h1{font-size:26px;margin:.2em 0 .6em}h2{font-size:20px;margin:1.8em 0 .2em;break-after:avoid}"
    "h3{font-size:16px;margin:1.2em 0 .2em;break-after:avoid}"
    "p.lead{margin:.2em 0 .8em;color:#3d4a57;font-size:13px;max-width:52em}"
    "p.base{margin:-.4em 0 .8em;color:#3d4a57;font-size:12px;font-style:italic}"
    "figure{margin:.6em 0 .8em;break-inside:avoid}img{max-width:100%;height:auto;display:block}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:12px;max-width:100%}"
    "thead{display:table-header-group}tr{break-inside:avoid}"
    "td,th{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}"
    "th{background:#f1f3f5;font-weight:bold}table.meta th{width:16em}"
    "td.num,th.num{text-align:right}td.num{white-space:nowrap}"
    "td.url{overflow-wrap:anywhere;word-break:break-word}span.ci{color:#66707a;font-size:11px}"
    "td.group{white-space:nowrap}.keep{break-inside:avoid}"
    "td.v-consistent{color:#2f7d32}td.v-lower,td.v-higher{color:#b3401a;font-weight:bold}"
    "td.v-agrees{color:#2f7d32}td.v-disagrees{color:#b3401a;font-weight:bold}"
    "td.v-no_published_value,td.v-not_computable,td.v-needs_evidence,td.v-inconclusive{color:#66707a}"
    ".flag{padding:1px 5px;margin-left:3px;border-radius:3px;font-size:11px}"
    ".on{background:#55A868;color:#fff}.off{background:#e3e7eb;color:#777}"
    "code{font-size:11px;overflow-wrap:anywhere;word-break:break-word}.note{color:#666;font-size:11px}"
    "@media print{body{max-width:none;margin:0;padding:0}h2{margin-top:1.2em}}"
)


def _page(title: str, body: str, lang: str) -> str:
    return (f"<!doctype html><html lang='{esc(lang)}'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>{body}</body></html>")


def _print_pdf(html_path: Path, pdf_path: Path, chromium: str = CHROMIUM, timeout: float = 90) -> bool:
    if not Path(chromium).exists():
        return False
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium, *CHROMIUM_ARGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (subprocess.TimeoutExpired, OSError):
            return False
    return pdf_path.exists() and pdf_path.stat().st_size > 1000


def _pdf_from_charts(made: dict[str, list[Path]], pdf_path: Path) -> None:
    import matplotlib.image as mpimg
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    with PdfPages(pdf_path) as pdf:
        for paths in made.values():
            png = next((p for p in paths if p.suffix == ".png"), None)
            if png is None:
                continue
            fig = Figure(figsize=(8.27, 11.69))  # A4, no pyplot: nothing global is touched
            ax = fig.subplots()
            ax.imshow(mpimg.imread(png))
            ax.axis("off")
            pdf.savefig(fig)

