"""The report: charts and tables in one self-contained HTML page, a PDF, and an evidence review page.

Everything scraped (names, URLs, snippets) is escaped; only http(s) URLs
become links. The PDF is printed by Debian's chromium when present, else
assembled from the charts with matplotlib.
"""

from __future__ import annotations

import base64
import html
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reports import charts
from reports.style import text
from scoring.weights import default_weights

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@dataclass
class ReportPaths:
    html: Path
    pdf: Path
    evidence_html: Path
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


def table_html(frame: pd.DataFrame, columns: list[str] | None = None, pct_cols=(), max_rows: int = 60) -> str:
    cols = [c for c in (columns or list(frame.columns)) if c in frame]
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = []
    for _, r in frame.head(max_rows).iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if c in pct_cols and pd.notna(v) and v != "":
                cells.append(f"<td class='num'>{float(v):.1%}</td>")
            else:
                cells.append(f"<td>{esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>… {len(frame) - max_rows} more rows in the CSV</p>" if len(frame) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _draw_all(tables: dict[str, pd.DataFrame], out: Path, lang: str, formats) -> dict[str, list[Path]]:
    made: dict[str, list[Path]] = {}

    def draw(name, fn, *args):
        ax = fn(*args, lang=lang)
        made[name] = charts.save_figure(ax.figure, out / "charts" / f"{name}-{lang}", formats)

    if "prevalence" in tables:
        draw("prevalence", charts.plot_prevalence, tables["prevalence"])
    for key in sorted(k for k in tables if k.startswith("reproduce-")):
        draw(key, charts.plot_reproduce, tables[key])
    if "combinations" in tables:
        draw("combinations", charts.plot_upset, tables["combinations"])
    if "channel_counts" in tables:
        draw("channel_counts", charts.plot_channel_counts, tables["channel_counts"])
    if "scores" in tables:
        draw("scores", charts.plot_score_distribution, tables["scores"])
    if "top" in tables and len(tables["top"]):
        ax = charts.plot_top(tables["top"], default_weights(), lang=lang)
        made["top"] = charts.save_figure(ax.figure, out / "charts" / f"top-{lang}", formats)
    for key in sorted(k for k in tables if k.startswith("groups-") and not k.endswith("-tests")):
        draw(key, charts.plot_groups, tables[key])
    if "survey_figures" in tables:
        draw("survey_figures", charts.plot_survey, tables["survey_figures"])
    return made


def build_report(tables: dict[str, pd.DataFrame], out_dir: str | Path, lang: str = "ru", meta: dict | None = None,
                 formats=("png", "svg", "pdf")) -> ReportPaths:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = meta or {}
    made = _draw_all(tables, out, lang, formats)
    sections = [f"<h1>{esc(text('report_title', lang))}</h1>", _meta_html(meta, lang)]
    captions = {"prevalence": ["channel", "k", "n", "estimate", "ci_low", "ci_high"],
                "channel_counts": ["n_channels", "kind", "k", "n", "estimate", "ci_low", "ci_high"],
                "combinations": ["combination", "k", "n", "estimate", "ci_low", "ci_high"],
                "top": ["rank", "name", "url", "score", "channels"]}
    for name, paths in made.items():
        png = next((p for p in paths if p.suffix == ".png"), None)
        img = (f"<img alt='{esc(name)}' src='data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}'>"
               if png else "")
        table = tables.get(name)
        cols = captions.get(name) or (["figure_id", f"label_{lang}", "variant", "published_text", "k", "n",
                                       "reproduced", "ci_low", "ci_high", "verdict"] if name.startswith("reproduce")
                                      else None)
        body = table_html(table, cols, pct_cols=("estimate", "ci_low", "ci_high", "reproduced")) \
            if table is not None and name != "scores" else ""
        sections.append(f"<section><h2>{esc(name)}</h2>{img}{body}</section>")
    if "accuracy" in tables:
        sections.append("<section><h2>detection accuracy vs ground truth</h2>"
                        + table_html(tables["accuracy"], pct_cols=()) + "</section>")
    page = _page(text("report_title", lang), "\n".join(sections), lang)
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    evidence_path = out / "evidence.html"
    evidence_path.write_text(evidence_page(tables.get("sites"), tables.get("evidence"), lang), encoding="utf-8")
    pdf_path = out / "report.pdf"
    if not _print_pdf(html_path, pdf_path):
        _pdf_from_charts(made, pdf_path)
    return ReportPaths(html_path, pdf_path, evidence_path, made)


def _meta_html(meta: dict, lang: str) -> str:
    counts = meta.get("counts") or {}
    rows = [("version", meta.get("version")), ("started", meta.get("started")), ("ended", meta.get("ended")),
            ("input sha256", (meta.get("input") or {}).get("sha256")),
            ("sites by status", ", ".join(f"{k}: {v}" for k, v in counts.items())),
            ("pages fetched / rendered", f"{meta.get('pages_fetched', '')} / {meta.get('pages_rendered', '')}")]
    return "<table class='meta'>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows) + "</table>"


def evidence_page(sites: pd.DataFrame | None, evidence: pd.DataFrame | None, lang: str = "ru") -> str:
    """Each site with its status, channel flags and every finding: channel, value, page link, rule, snippet."""
    parts = [f"<h1>{esc(text('evidence_title', lang))}</h1>"]
    if sites is None:
        return _page(text("evidence_title", lang), "<p>no sites.csv</p>", lang)
    by_site = evidence.groupby("site_id") if evidence is not None and len(evidence) else None
    for _, s in sites.iterrows():
        name = s.get("name") or s.get("input") or ""
        flags = " ".join(f"<span class='flag {'on' if s.get(c) == 1 else 'off'}'>{esc(c)}</span>"
                         for c in ("email", "phone", "chat", "form", "portal"))
        parts.append(f"<section class='site'><h3>{esc(s['site_id'])}. {esc(name)} — "
                     f"{safe_link(s.get('final_url') or s.get('url'))}</h3>"
                     f"<p>status: <b>{esc(s.get('status'))}</b> {esc(s.get('status_detail'))} {flags}</p>")
        if by_site is not None and s["site_id"] in by_site.groups:
            rows = by_site.get_group(s["site_id"])
            body = "".join(
                f"<tr><td>{esc(r['channel'])}</td><td>{esc(r['value'])}</td>"
                f"<td>{safe_link(r['page_url'], r.get('page_role') or r['page_url'])}</td><td>{esc(r['rule'])}</td>"
                f"<td><code>{esc(r['snippet'])}</code></td></tr>" for _, r in rows.iterrows())
            parts.append("<table><thead><tr><th>channel</th><th>value</th><th>page</th><th>rule</th>"
                         f"<th>snippet</th></tr></thead><tbody>{body}</tbody></table>")
        parts.append("</section>")
    return _page(text("evidence_title", lang), "\n".join(parts), lang)


def _page(title: str, body: str, lang: str) -> str:
    css = ("body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:980px;margin:2em auto;color:#1f2d3d}"
           "img{max-width:100%}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:12px}"
           "td,th{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}"
           "td.num{text-align:right}.flag{padding:1px 5px;margin-left:3px;border-radius:3px;font-size:11px}"
           ".on{background:#55A868;color:#fff}.off{background:#e3e7eb;color:#777}code{font-size:11px}"
           "section{page-break-inside:avoid}.note{color:#666;font-size:11px}")
    return (f"<!doctype html><html lang='{esc(lang)}'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
            f"<title>{esc(title)}</title><style>{css}</style></head><body>{body}</body></html>")


def _print_pdf(html_path: Path, pdf_path: Path, timeout: float = 90) -> bool:
    if not Path(CHROMIUM).exists():
        return False
    with tempfile.TemporaryDirectory() as profile:
        cmd = [CHROMIUM, *CHROMIUM_ARGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (subprocess.TimeoutExpired, OSError):
            return False
    return pdf_path.exists() and pdf_path.stat().st_size > 1000


def _pdf_from_charts(made: dict[str, list[Path]], pdf_path: Path) -> None:
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(pdf_path) as pdf:
        for paths in made.values():
            png = next((p for p in paths if p.suffix == ".png"), None)
            if png is None:
                continue
            fig, ax = plt.subplots(figsize=(8.27, 11.69))
            ax.imshow(mpimg.imread(png))
            ax.axis("off")
            pdf.savefig(fig)
            plt.close(fig)

