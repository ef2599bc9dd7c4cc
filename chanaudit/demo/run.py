"""The embedded demo: a synthetic market audited end to end (``chanaudit demo`` / ``make demo``).

Every stage is the real one: the generator writes a market of labelled
synthetic websites ("2016") and the same companies ten years on with known
change ("2026"), the local server publishes each site on its own 127.0.0.1
port, the crawler audits both waves, and scoring, analysis, a validation
sample, the survey, the comparison of the two audits and the reports run on
the results. Only the websites, the survey answers and the validation
sample's coder are synthetic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from chanaudit.core.contract import OK
from chanaudit.core.errors import InvalidOption
from chanaudit.core.folder import AuditFolder
from chanaudit.datasets import ROOT as DATASETS

Say = Callable[[str], None]

STUDY_2016 = "okdesk-2016-it-outsourcing"
STUDY_2026 = "okdesk-2026-survey"
MIN_GROUP_N = 10
#: The demo's folder: the generated market, the crawler's input list, the audit (where every table the
#: report shows is written), the survey folder, and the seconds each step took; the second wave's market,
#: input and audit (``compare`` writes into it, its report shows the change), the validation sample with
#: its synthetic labels, and the re-audit's detected-vs-true table.
MARKET, INPUT, AUDIT, SURVEY = "market", "input", "audit", "survey"
MARKET_2026, INPUT_2026, AUDIT_2026, VALIDATION = "market-2026", "input-2026", "audit-2026", "validation"
LABELS, CODER_ERRORS, REAUDIT = "labels-synthetic.csv", "coder-errors.csv", "reaudit-vs-truth.csv"
TIMINGS = "demo.json"
#: The validation sample and its synthetic coder (datasets/market/validation.yaml).
VALIDATION_SPEC = DATASETS / "market" / "validation.yaml"
CODER_TEXT = {"ru": "СИНТЕТИЧЕСКИЙ разметчик (эталон демо-рынка, {k} из {cells} ячеек, {share}, намеренно изменены "
                    "как ошибки человека) — это не настоящая проверка",
              "en": "a SYNTHETIC coder (the demo market's ground truth, {k} of {cells} cells, {share}, flipped on "
                    "purpose as a person's errors) — not a real validation"}
MARGINS = DATASETS / "survey" / "population-margins.yaml"


@dataclass
class DemoResult:
    out: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: what the demo could not compute at this size, said instead of stopping (``{step: reason}``)
    notes: dict[str, str] = field(default_factory=dict)
    #: the validation sample's synthetic coding: cells coded and flipped
    coder: dict[str, int] = field(default_factory=dict)


def serve_market(market) -> list:
    """Sites for :class:`chanaudit.demo.server.SiteServer` from a generated market (a second wave's new
    sites of the companies that moved included)."""
    from chanaudit.demo.market import state_serving
    from chanaudit.demo.server import Site

    sites = []
    for entry in [*market.sites, *market.extra_sites]:
        root = market.site_dir(entry["slug"])
        root = root if root.exists() else None
        sites.append(Site(entry["slug"], root=root, fault=entry.get("fault"), **state_serving(entry, root)))
    return sites


def benchmark_domain(scores: pd.DataFrame) -> str:
    """The company the demo benchmarks: in the city with the most audited sites, the one whose score sits
    nearest the middle of the market (mid-rank percentile nearest 50; the lowest site_id on a tie): a
    typical company, with peers above and below it and local peers to compare."""
    from chanaudit.analysis.benchmark import percentile

    ok = scores.dropna(subset=["score"])
    if "domain" not in ok or not len(ok):
        return ""
    market = ok["score"]
    if "city" in ok and ok["city"].notna().any():
        ok = ok[ok["city"] == ok["city"].value_counts().index[0]]
    middle = ok["score"].map(lambda score: abs(percentile(score, market) - 50))
    pick = ok.assign(_d=middle).sort_values(["_d", "site_id"], kind="mergesort")
    return str(pick.iloc[0]["domain"])


def audit_market(market, out: Path, input_name: str, audit_name: str, config, progress=None):
    """Serve ``market`` on 127.0.0.1 and audit its companies (``companies.csv`` with each site's URL) into
    ``out / audit_name`` with the real crawler; returns (folder, run_audit's result)."""
    from chanaudit import scoring
    from chanaudit.crawler.runner import run_audit
    from chanaudit.demo.server import SiteServer

    companies = pd.read_csv(market.companies_csv, encoding="utf-8", dtype=str, keep_default_na=False)
    audit = AuditFolder(out / audit_name)
    with SiteServer(serve_market(market), hang_seconds=20) as server:
        urls = {s.name: s.url for s in server.sites.values()}
        frame = companies.copy()
        frame.insert(0, "url", frame["slug"].map(urls))
        input_csv = AuditFolder(out / input_name).write(AuditFolder.SITES, frame)
        crawl = run_audit(input_csv, audit.path, config, overwrite=True, progress=progress,
                          scorer=scoring.site_scorer())
    return audit, crawl


def crawl_line(sites: pd.DataFrame, crawl) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in crawl.counts.items())
    return (f"    {len(sites)} rows: {counts}; pages rendered {crawl.manifest['pages_rendered']} "
            f"({crawl.manifest['rendered_share']:.0%} of fetched)")


def seen_by_domain(market) -> pd.DataFrame:
    """The market's channels as an auditor sees them (redirects followed), indexed by the company's domain."""
    from chanaudit.demo.waves import seen_truth

    domains = dict(zip(market.truth["slug"], [e["domain"] for e in market.sites], strict=True))
    seen = seen_truth(market)
    seen.index = seen.index.map(domains)
    return seen


def reaudit_vs_truth(compare: pd.DataFrame, transitions: pd.DataFrame) -> pd.DataFrame:
    """``compare.csv`` of the two audits beside the generator's true transitions (``transitions.csv``): per
    channel the pairs, shares, adopted and dropped found and true, the change with its interval and p."""
    truth = transitions.set_index("channel")
    out = compare[["channel", "n_pairs", "before", "after", "adopted", "dropped", "diff", "ci_low", "ci_high",
                   "p_val"]].copy()
    for col in ("n_pairs", "adopted", "dropped", "diff"):
        out[f"true_{col}"] = out["channel"].map(truth[col])
    out["adoption"] = out["channel"].map(truth["adoption"])
    out["drop"] = out["channel"].map(truth["drop"])
    return out


def run_demo(out: Path, n_sites: int = 320, seed: int = 2016, lang: str = "ru", render: str = "auto",
             survey_n: int = 400, say: Say = print, progress=None) -> DemoResult:
    """Generate the market and its second wave, serve and audit the first, then run every stage on the audit
    through the same runners as the CLI: scoring, analysis (by city), the 2016 study, a validation sample coded
    by a SYNTHETIC coder, the survey (import, join, 2026 figures); audit the second wave ("2026") and compare
    the two audits; the reports with their review pages, a vendor's prospects (companies without a client
    portal, at least two channels) and the benchmark of one company against the market."""
    import yaml

    from chanaudit import analysis, reports, scoring, survey
    from chanaudit.analysis.accuracy import detection_accuracy
    from chanaudit.analysis.flow import base_lines
    from chanaudit.analysis.paired import compare_audits
    from chanaudit.analysis.regression import ModelError
    from chanaudit.analysis.validation import read_labels, sample_audit, validate
    from chanaudit.crawler.config import AuditConfig
    from chanaudit.demo.coder import synthetic_coding
    from chanaudit.demo.market import generate_market
    from chanaudit.demo.survey import generate_survey
    from chanaudit.demo.waves import generate_second_wave
    from chanaudit.reports.benchmark import write_benchmark
    from chanaudit.reports.prospects import write_prospects
    from chanaudit.reports.stage import LANGS
    from chanaudit.survey.analyses import sla_regression

    if lang not in LANGS:  # checked before minutes of crawling, as the render policy is
        raise InvalidOption(f"lang must be ru or en, not {lang!r}")
    # third-party scripts off: the market's chat loaders name real vendor hosts, and a demo asks none of them
    config = AuditConfig(render=render, allow_private=True, delay=0, timeout=5, retries=0, concurrency=32,
                         render_wait_ms=800, third_party_scripts=False)
    spec = yaml.safe_load(VALIDATION_SPEC.read_text(encoding="utf-8"))
    out = Path(out)
    result = DemoResult(out)
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        result.seconds[name] = round(now - clock, 1)
        clock = now

    say(f"1/8 generating a synthetic market of {n_sites} sites (seed {seed}): 2016, and the same companies in "
        "2026 with known adoption")
    market = generate_market(out / MARKET, n_sites=n_sites, seed=seed)
    market_2026 = generate_second_wave(out / MARKET_2026, n_sites=n_sites, seed=seed)
    lap("generate")

    say("2/8 serving 2016 on 127.0.0.1 and auditing it with the crawler")
    audit, crawl = audit_market(market, out, INPUT, AUDIT, config, progress)
    lap("audit")
    sites = audit.read_sites()
    say(crawl_line(sites, crawl))
    truth = pd.read_csv(market.truth_csv, encoding="utf-8", keep_default_na=False, na_values=[""])
    result.tables[AuditFolder.ACCURACY] = detection_accuracy(sites, truth, key="slug")
    audit.write(AuditFolder.ACCURACY, result.tables[AuditFolder.ACCURACY])

    say("3/8 scoring and ranking")
    result.tables.update(scoring.run(audit, draws=500, top=10, seed=0).tables())
    lap("score")

    say("4/8 statistics and the 2016 study reproduced")
    # cities with fewer than MIN_GROUP_N audited sites are folded into one "other" group: with 2-9 sites a
    # city's interval spans most of the axis and says nothing
    result.tables.update(analysis.run(audit, by=["city"], min_group_n=MIN_GROUP_N))
    for line in base_lines(result.tables[AuditFolder.FLOW], lang):  # the sample flow: the base of every share
        say(f"    {line.strip()}")
    result.tables[AuditFolder.reproduction(STUDY_2016)] = analysis.reproduce_study(audit, STUDY_2016).table
    lap("analysis")

    ok = int(sites["status"].eq(OK).sum())
    n_sample = min(int(spec["sample"]["n"]), ok)
    say(f"5/8 a validation sample of {n_sample} site{'s' if n_sample != 1 else ''} by {', '.join(spec['sample']['by'])}, coded by a SYNTHETIC "
        "coder (the market's truth with known errors), validated")
    if n_sample:
        folder = AuditFolder(out / VALIDATION)
        drawn = sample_audit(audit, folder.path, n_sample, by=spec["sample"]["by"], seed=seed)
        coding = synthetic_coding(drawn.sheet, seen_by_domain(market), spec["coder"]["flip_share"], seed)
        labels_path = folder.path / LABELS
        coding.labels.to_csv(labels_path, index=False, encoding="utf-8")
        coding.errors.to_csv(folder.path / CODER_ERRORS, index=False, encoding="utf-8")
        checked = validate(sites, read_labels(labels_path), source=str(labels_path))
        k, cells = len(coding.errors), coding.cells
        result.coder = {"flipped": k, "cells": cells, "sites": len(coding.labels)}
        coder = CODER_TEXT[lang].format(k=k, cells=cells, share=f"{k / cells:.0%}" if cells else "—")
        for name, table in ((AuditFolder.VALIDATION, checked.validation),
                            (AuditFolder.PREVALENCE_CORRECTED, checked.corrected)):
            table = table.assign(coder=coder)  # the report says whose labels these are
            result.tables[name] = table
            audit.write(name, table)
        say(f"    SYNTHETIC labels, {k} of {cells} cells flipped on purpose: {labels_path}, "
            f"{folder.path / CODER_ERRORS}")
    lap("validation")

    say("6/8 a synthetic survey joined to the audit, 2026 figures reproduced")
    answers = AuditFolder(out / SURVEY)
    export = answers.csv(AuditFolder.SURVEY_EXPORT)
    export.parent.mkdir(parents=True, exist_ok=True)
    websites = [d for d in sites.get("domain", pd.Series(dtype=str)).tolist() if d]
    generate_survey(n=survey_n, seed=seed, websites=websites).to_csv(export, index=False, encoding="utf-8")
    survey.run_import(export, answers, salt="chanaudit-demo")
    joined = survey.run_join(answers, audit, key="domain")
    # the figures the report shows go to the audit folder
    # weighted like the headline table below: the report shows one number per figure
    result.tables[AuditFolder.reproduction(STUDY_2026)] = survey.run_reproduce(
        answers.csv(AuditFolder.SURVEY), STUDY_2026, MARGINS, out=audit).table
    result.tables[AuditFolder.SURVEY_FIGURES] = survey.run_summary(answers, MARGINS, out=audit).figures
    try:
        result.tables[AuditFolder.SLA_REGRESSION] = sla_regression(joined.frame)
        answers.write(AuditFolder.SLA_REGRESSION, result.tables[AuditFolder.SLA_REGRESSION])
    except ModelError as exc:  # a small joined sample: a level that predicts the outcome perfectly, say
        result.notes["sla_regression"] = str(exc)
        say(f"    SLA regression not estimable at this size ({len(joined.frame)} joined respondents): {exc}")
    lap("survey")

    say("7/8 the same companies in 2026: served, audited again, compared with 2016")
    audit_2026, crawl_2026 = audit_market(market_2026, out, INPUT_2026, AUDIT_2026, config, progress)
    sites_2026 = audit_2026.read_sites()
    say(crawl_line(sites_2026, crawl_2026))
    result.tables["accuracy_2026"] = detection_accuracy(sites_2026, market_2026.truth, key="slug")
    audit_2026.write(AuditFolder.ACCURACY, result.tables["accuracy_2026"])
    lap("audit_2026")
    # compare writes into the newer audit, whose report shows the change
    compared = compare_audits([audit.path, audit_2026.path], audit_2026.path)
    result.tables[AuditFolder.COMPARE] = compared.compare
    result.tables[AuditFolder.UNPAIRED] = compared.unpaired
    check = reaudit_vs_truth(compared.compare, market_2026.transitions)
    check.to_csv(out / REAUDIT, index=False, encoding="utf-8")
    result.tables["reaudit"] = check
    result.paths["reaudit"] = out / REAUDIT
    lap("compare")

    say("8/8 charts, reports, review pages, prospects and a benchmark")
    paths = reports.build(audit, lang)
    result.paths.update(html=paths.html, pdf=paths.pdf, review=paths.review_html)
    paths = reports.build(audit_2026, lang)
    result.paths.update(html_2026=paths.html, pdf_2026=paths.pdf)
    lap("report")
    vendors = write_prospects(audit, lang=lang, missing=["portal"], min_channels=2)
    result.tables[AuditFolder.PROSPECTS] = vendors.table
    result.paths["prospects"] = vendors.written[0]
    domain = benchmark_domain(result.tables[AuditFolder.SCORES])
    if domain:
        done = write_benchmark(domain, audit, lang=lang)
        result.tables[AuditFolder.benchmark(done.benchmark.summary["domain"])] = done.benchmark.table
        result.paths.update(benchmark=done.charts[0], benchmark_table=done.table)
    lap("vendors")
    (out / TIMINGS).write_text(json.dumps({"seconds": result.seconds, "sites": n_sites, "seed": seed,
                                           "notes": result.notes, "coder": result.coder}, indent=2),
                               encoding="utf-8")
    return result
