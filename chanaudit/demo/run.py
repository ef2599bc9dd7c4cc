"""The embedded demo: a synthetic market audited end to end (``chanaudit demo`` / ``make demo``).

Every stage is the real one: the generator writes a market of labelled
synthetic websites, the local server publishes each on its own 127.0.0.1 port,
the crawler audits them, and scoring, analysis, survey and reports run on the
results. Only the websites and the survey answers are synthetic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from chanaudit.core.tables import read_csv, write_csv
from chanaudit.datasets import ROOT as DATASETS

Say = Callable[[str], None]

STUDY_2016 = "okdesk-2016-it-outsourcing"
STUDY_2026 = "okdesk-2026-survey"
MIN_GROUP_N = 10


@dataclass
class DemoResult:
    out: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def serve_market(market) -> list:
    """Sites for :class:`chanaudit.demo.server.SiteServer` from a generated market."""
    from chanaudit.demo.server import Site

    sites = []
    for entry in market.sites:
        slug = entry["slug"]
        fault = entry.get("fault")
        root = market.root / "sites" / slug
        sites.append(Site(slug, root=root if root.exists() else None, fault=fault))
    return sites


def run_demo(out: Path, n_sites: int = 320, seed: int = 2016, lang: str = "ru", render: str = "auto",
             survey_n: int = 400, say: Say = print, progress=None) -> DemoResult:
    from chanaudit.analysis.accuracy import detection_accuracy
    from chanaudit.crawler.config import AuditConfig
    from chanaudit.crawler.runner import run_audit
    from chanaudit.demo.market import generate_market
    from chanaudit.demo.server import SiteServer

    out = Path(out)
    result = DemoResult(out)
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        result.seconds[name] = round(now - clock, 1)
        clock = now

    say(f"1/6 generating a synthetic market of {n_sites} sites (seed {seed})")
    market = generate_market(out / "market", n_sites=n_sites, seed=seed)
    companies = pd.read_csv(market.root / "companies.csv", encoding="utf-8", dtype=str, keep_default_na=False)
    lap("generate")

    say("2/6 serving it on 127.0.0.1 and auditing it with the crawler")
    audit_dir = out / "audit"
    with SiteServer(serve_market(market), hang_seconds=20) as server:
        urls = {s.name: s.url for s in server.sites.values()}
        frame = companies.copy()
        frame.insert(0, "url", frame["slug"].map(urls))
        input_csv = write_csv(frame, out / "input" / "sites.csv")
        config = AuditConfig(render=render, allow_private=True, delay=0, timeout=5, retries=0, concurrency=32,
                             render_wait_ms=800)
        audit = run_audit(input_csv, audit_dir, config, overwrite=True, progress=progress)
    lap("audit")
    sites = read_csv(audit_dir / "sites.csv")
    counts = ", ".join(f"{k} {v}" for k, v in audit.counts.items())
    say(f"    {len(sites)} rows: {counts}; pages rendered {audit.manifest['pages_rendered']} "
        f"({audit.manifest['rendered_share']:.0%} of fetched)")

    truth = pd.read_csv(market.root / "truth.csv", encoding="utf-8", keep_default_na=False, na_values=[""])
    accuracy = detection_accuracy(sites, truth, key="slug")
    write_csv(accuracy, audit_dir / "accuracy.csv")
    result.tables["accuracy"] = accuracy

    say("3/6 scoring and ranking")
    result.tables.update(_scoring(sites, audit_dir))
    lap("score")

    say("4/6 statistics and the 2016 study reproduced")
    result.tables.update(_analysis(sites, audit_dir))
    lap("analysis")

    say("5/6 a synthetic survey joined to the audit, 2026 figures reproduced")
    result.tables.update(_survey(sites, audit_dir, survey_n, seed))
    lap("survey")

    say("6/6 charts and report")
    result.paths.update(_report(result.tables, audit_dir, lang, audit.manifest))
    lap("report")
    (out / "demo.json").write_text(json.dumps({"seconds": result.seconds, "sites": n_sites, "seed": seed},
                                              indent=2), encoding="utf-8")
    return result


def _scoring(sites: pd.DataFrame, audit_dir: Path) -> dict[str, pd.DataFrame]:
    from chanaudit.scoring.rank import score_sites, top_n
    from chanaudit.scoring.sensitivity import rank_sensitivity
    from chanaudit.scoring.weights import default_weights

    weights = default_weights()
    scored = score_sites(sites, weights)
    top = top_n(scored, 10)
    sensitivity, _stats = rank_sensitivity(sites, weights, n_draws=500, top=10, seed=0)
    write_csv(scored, audit_dir / "scores.csv")
    write_csv(top, audit_dir / "top.csv")
    write_csv(sensitivity, audit_dir / "sensitivity.csv")
    return {"scores": scored, "top": top, "sensitivity": sensitivity}


def _analysis(sites: pd.DataFrame, audit_dir: Path) -> dict[str, pd.DataFrame]:
    from chanaudit.analysis.combinations import channel_counts, combinations
    from chanaudit.analysis.compare import grouped_comparison
    from chanaudit.analysis.prevalence import prevalence
    from chanaudit.analysis.reproduce import reproduce
    from chanaudit.analysis.studies import load_study

    tables = {
        "prevalence": prevalence(sites),
        "channel_counts": channel_counts(sites),
        "combinations": combinations(sites),
    }
    # cities with fewer than MIN_GROUP_N audited sites are folded into one "other" group: with 2-9 sites a
    # city's interval spans most of the axis and says nothing
    groups, tests = grouped_comparison(sites, "city", min_n=MIN_GROUP_N)
    tables["groups-city"], tables["groups-city-tests"] = groups, tests
    tables[f"reproduce-{STUDY_2016}"] = reproduce(sites, load_study(STUDY_2016))
    for name, table in tables.items():
        write_csv(table, audit_dir / f"{name}.csv")
    return tables


def _survey(sites: pd.DataFrame, audit_dir: Path, n: int, seed: int) -> dict[str, pd.DataFrame]:
    from chanaudit.analysis.reproduce import reproduce
    from chanaudit.analysis.studies import load_study
    from chanaudit.demo.survey import generate_survey
    from chanaudit.survey.codebook import load_codebook
    from chanaudit.survey.importer import import_survey
    from chanaudit.survey.join import join_audit

    survey_dir = audit_dir.parent / "survey"
    survey_dir.mkdir(parents=True, exist_ok=True)
    websites = [d for d in sites.get("domain", pd.Series(dtype=str)).tolist() if d]
    raw = generate_survey(n=n, seed=seed, websites=websites)
    export = survey_dir / "survey-export.csv"
    raw.to_csv(export, index=False, encoding="utf-8")
    imported = import_survey(export, load_codebook(), salt="chanaudit-demo")
    write_csv(imported.frame, survey_dir / "survey.csv")
    joined = join_audit(imported.frame, sites, audit_key="domain")
    write_csv(joined.frame, survey_dir / "joined.csv")
    figures = reproduce(imported.frame, load_study(STUDY_2026))
    write_csv(figures, audit_dir / f"reproduce-{STUDY_2026}.csv")
    from chanaudit.survey.analyses import headline_figures, sla_regression, tool_vs_sla
    from chanaudit.survey.weighting import rake

    margins = yaml.safe_load((DATASETS / "survey" / "population-margins.yaml").read_text(encoding="utf-8"))
    weights = rake(imported.frame, margins)
    headline = headline_figures(imported.frame, weights)
    write_csv(headline, audit_dir / "survey_figures.csv")
    shares, test = tool_vs_sla(imported.frame)
    write_csv(shares, survey_dir / "tool_vs_sla.csv")
    regression = sla_regression(joined.frame)
    write_csv(regression, survey_dir / "sla_regression.csv")
    write_csv(joined.unmatched_survey, survey_dir / "unmatched_survey.csv")
    write_csv(joined.unmatched_sites, survey_dir / "unmatched_sites.csv")
    (survey_dir / "tool_vs_sla.json").write_text(json.dumps({k: float(v) for k, v in test.items()}, indent=2),
                                                 encoding="utf-8")
    return {f"reproduce-{STUDY_2026}": figures, "survey_figures": headline, "survey_joined": joined.frame,
            "sla_regression": regression, "join_rate": pd.DataFrame([{"match_rate": joined.match_rate}])}


def _report(tables: dict[str, pd.DataFrame], audit_dir: Path, lang: str, manifest: dict) -> dict[str, Path]:
    from chanaudit.reports.document import build_report

    sites = read_csv(audit_dir / "sites.csv")
    evidence = read_csv(audit_dir / "evidence.csv")
    keep = {k: v for k, v in tables.items() if k not in ("survey_joined", "join_rate")}
    paths = build_report({**keep, "sites": sites, "evidence": evidence}, audit_dir / "report", lang, manifest)
    return {"html": paths.html, "pdf": paths.pdf, "evidence": paths.evidence_html}
