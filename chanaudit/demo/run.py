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

from chanaudit.core.errors import InvalidOption
from chanaudit.core.folder import AuditFolder
from chanaudit.datasets import ROOT as DATASETS

Say = Callable[[str], None]

STUDY_2016 = "okdesk-2016-it-outsourcing"
STUDY_2026 = "okdesk-2026-survey"
MIN_GROUP_N = 10
#: The demo's folder: the generated market, the crawler's input list, the audit (where every table the
#: report shows is written), the survey folder, and the seconds each step took.
MARKET, INPUT, AUDIT, SURVEY = "market", "input", "audit", "survey"
TIMINGS = "demo.json"
MARGINS = DATASETS / "survey" / "population-margins.yaml"


@dataclass
class DemoResult:
    out: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def serve_market(market) -> list:
    """Sites for :class:`chanaudit.demo.server.SiteServer` from a generated market."""
    from chanaudit.demo.market import state_serving
    from chanaudit.demo.server import Site

    sites = []
    for entry in market.sites:
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


def run_demo(out: Path, n_sites: int = 320, seed: int = 2016, lang: str = "ru", render: str = "auto",
             survey_n: int = 400, say: Say = print, progress=None) -> DemoResult:
    """Generate the market, serve and audit it, then run every stage on the audit through the same runners
    as the CLI: scoring, analysis (by city), the 2016 study, the survey (import, join, 2026 figures), the
    report with its review page, a vendor's prospects (companies without a client portal, at least two
    channels) and the benchmark of one company against the market."""
    from chanaudit import analysis, reports, scoring, survey
    from chanaudit.analysis.accuracy import detection_accuracy
    from chanaudit.analysis.flow import base_lines
    from chanaudit.crawler.config import AuditConfig
    from chanaudit.crawler.runner import run_audit
    from chanaudit.demo.market import generate_market
    from chanaudit.demo.server import SiteServer
    from chanaudit.demo.survey import generate_survey
    from chanaudit.reports.benchmark import write_benchmark
    from chanaudit.reports.prospects import write_prospects
    from chanaudit.reports.stage import LANGS
    from chanaudit.survey.analyses import sla_regression

    if lang not in LANGS:  # checked before minutes of crawling, as the render policy is
        raise InvalidOption(f"lang must be ru or en, not {lang!r}")
    # third-party scripts off: the market's chat loaders name real vendor hosts, and a demo asks none of them
    config = AuditConfig(render=render, allow_private=True, delay=0, timeout=5, retries=0, concurrency=32,
                         render_wait_ms=800, third_party_scripts=False)
    out = Path(out)
    result = DemoResult(out)
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        result.seconds[name] = round(now - clock, 1)
        clock = now

    say(f"1/6 generating a synthetic market of {n_sites} sites (seed {seed})")
    market = generate_market(out / MARKET, n_sites=n_sites, seed=seed)
    companies = pd.read_csv(market.companies_csv, encoding="utf-8", dtype=str, keep_default_na=False)
    lap("generate")

    say("2/6 serving it on 127.0.0.1 and auditing it with the crawler")
    audit = AuditFolder(out / AUDIT)
    with SiteServer(serve_market(market), hang_seconds=20) as server:
        urls = {s.name: s.url for s in server.sites.values()}
        frame = companies.copy()
        frame.insert(0, "url", frame["slug"].map(urls))
        input_csv = AuditFolder(out / INPUT).write(AuditFolder.SITES, frame)
        crawl = run_audit(input_csv, audit.path, config, overwrite=True, progress=progress,
                          scorer=scoring.site_scorer())
    lap("audit")
    sites = audit.read_sites()
    counts = ", ".join(f"{k} {v}" for k, v in crawl.counts.items())
    say(f"    {len(sites)} rows: {counts}; pages rendered {crawl.manifest['pages_rendered']} "
        f"({crawl.manifest['rendered_share']:.0%} of fetched)")
    truth = pd.read_csv(market.truth_csv, encoding="utf-8", keep_default_na=False, na_values=[""])
    result.tables[AuditFolder.ACCURACY] = detection_accuracy(sites, truth, key="slug")
    audit.write(AuditFolder.ACCURACY, result.tables[AuditFolder.ACCURACY])

    say("3/6 scoring and ranking")
    result.tables.update(scoring.run(audit, draws=500, top=10, seed=0).tables())
    lap("score")

    say("4/6 statistics and the 2016 study reproduced")
    # cities with fewer than MIN_GROUP_N audited sites are folded into one "other" group: with 2-9 sites a
    # city's interval spans most of the axis and says nothing
    result.tables.update(analysis.run(audit, by=["city"], min_group_n=MIN_GROUP_N))
    for line in base_lines(result.tables[AuditFolder.FLOW], lang):  # the sample flow: the base of every share
        say(f"    {line.strip()}")
    result.tables[AuditFolder.reproduction(STUDY_2016)] = analysis.reproduce_study(audit, STUDY_2016).table
    lap("analysis")

    say("5/6 a synthetic survey joined to the audit, 2026 figures reproduced")
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
    result.tables[AuditFolder.SLA_REGRESSION] = sla_regression(joined.frame)
    answers.write(AuditFolder.SLA_REGRESSION, result.tables[AuditFolder.SLA_REGRESSION])
    lap("survey")

    say("6/6 charts, report, review page, prospects and a benchmark")
    paths = reports.build(audit, lang)
    result.paths.update(html=paths.html, pdf=paths.pdf, review=paths.review_html)
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
    (out / TIMINGS).write_text(json.dumps({"seconds": result.seconds, "sites": n_sites, "seed": seed}, indent=2),
                               encoding="utf-8")
    return result
