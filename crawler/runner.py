"""The audit as a Python API: ``run_audit(sites_csv, out_dir, config)``.

Works the same from the CLI and a notebook: the crawl runs in a child process
(:mod:`crawler.process`), progress follows the journal, outputs are written
from the journal at the end — also after a crash, with every unfinished site
marked so that ``resume=True`` completes the run without gaps or duplicates.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chanaudit.core.errors import ChanauditError
from chanaudit.crawler.browser import browser_version
from chanaudit.crawler.config import AuditConfig
from chanaudit.crawler.journal import JOURNAL, count_lines, journal_files, read_journal, repair
from chanaudit.crawler.output import Scorer, base_manifest, write_outputs
from chanaudit.crawler.sites import SiteList, read_sites
from chanaudit.crawler.urls import InvalidSiteInput, normalize_site_url


class AuditError(ChanauditError):
    """The audit cannot start (output folder in use, resume of another input...)."""


class BrowserMissing(AuditError):
    """Rendering is asked for (``--render auto`` or ``always``) and there is no browser to run."""


@dataclass
class AuditResult:
    out: Path
    manifest: dict
    returncode: int

    @property
    def counts(self) -> dict[str, int]:
        return self.manifest["counts"]


Progress = Callable[[int, int], None]  # (done, total)


def run_audit(sites: str | Path | SiteList, out: str | Path, config: AuditConfig | None = None,
              resume: bool = False, overwrite: bool = False, progress: Progress | None = None,
              column: str | None = None, scorer: Scorer | None = None) -> AuditResult:
    """Audit every site of ``sites`` into ``out`` (DESIGN.md: sites.csv, evidence.csv, pages.csv,
    manifest.json). ``scorer`` fills the ``score`` column of ok sites; without one it stays empty."""
    config = config or AuditConfig()
    config, rendering = check_rendering(config)  # before anything is read or written
    out = Path(out)
    site_list = sites if isinstance(sites, SiteList) else read_sites(sites, column=column)
    journal_path = out / JOURNAL
    manifest_path = out / "manifest.json"
    if journal_files(journal_path) and not (resume or overwrite):
        raise AuditError(f"{out} already holds a run; pass --resume to continue it or --overwrite to start again")
    if resume and manifest_path.exists():
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
        if previous.get("input", {}).get("sha256") != site_list.sha256:
            raise AuditError(f"{out}: the run there audited a different input file; resume needs the same file")
    if overwrite and not resume:
        for part in journal_files(journal_path):
            part.unlink()
        for name in ("sites.csv", "evidence.csv", "pages.csv", "manifest.json", "crawl.log"):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    for part in journal_files(journal_path):
        repair(part)
    manifest = base_manifest(site_list, config.as_dict())
    manifest["rendering"] = rendering
    done_before = read_journal(journal_path)
    manifest["resumed_with"] = len(done_before) if resume else 0
    pending = [s for s in site_list.sites if s.url is not None and s.site_id not in done_before]
    total = len(pending) + len([s for s in site_list.sites if s.url is not None and s.site_id in done_before])
    manifest_path.write_text(json.dumps({**manifest, "state": "running"}, ensure_ascii=False, indent=2),
                             encoding="utf-8")
    rc = 0
    if pending:
        rc = _crawl(pending, config, out, journal_path, total, progress)
    records = read_journal(journal_path)
    detail = ("not crawled: the crawl stopped early" + (f" (exit code {rc})" if rc else "")
              + "; rerun with --resume")
    manifest["state"] = "complete" if rc == 0 else "incomplete"
    manifest["crawler_exit_code"] = rc
    final = write_outputs(site_list, records, out, manifest, missing_detail=detail, scorer=scorer)
    return AuditResult(out, final, rc)


def check_rendering(config: AuditConfig) -> tuple[AuditConfig, dict]:
    """The configuration to crawl with (the browser's path resolved) and the manifest's
    ``rendering`` record; :class:`BrowserMissing` when rendering is on and the browser is not
    there, so that a run never quietly audits static HTML only."""
    if config.render == "never":
        return config, {"policy": "never", "browser": None, "browser_version": None}
    path = shutil.which(config.chromium)  # a path to an executable file, or a name on PATH
    if path is None:
        raise BrowserMissing(
            f"--render {config.render} needs a browser, and there is no executable at {config.chromium}. "
            "Install Debian's chromium (apt-get install chromium), pass --chromium PATH to the browser, "
            "or pass --render never to audit static HTML only.")
    path = os.path.abspath(path)
    if path != config.chromium:
        config = dataclasses.replace(config, chromium=path)
    return config, {"policy": config.render, "browser": path, "browser_version": browser_version(path)}


def public_url(site) -> str | None:
    """A ``domain`` column beside the fetched ``url``: the site's public identity (audits of copies)."""
    domain = (site.extra.get("domain") or "").strip()
    if not domain:
        return None
    try:
        return normalize_site_url(domain)
    except InvalidSiteInput:
        return None


def worker_count(config: AuditConfig, pending: int) -> int:
    """Explicit ``workers``, or one per core once the list is large enough to pay for it."""
    if config.workers > 0:
        return max(1, min(config.workers, pending))
    return max(1, min(os.cpu_count() or 1, pending // 200, 4))


def _crawl(pending, config: AuditConfig, out: Path, journal_path: Path, total: int,
           progress: Progress | None) -> int:
    """Crawl in N child processes, sites dealt round-robin, the connection budget split."""
    n = worker_count(config, len(pending))
    env = dict(os.environ)
    env.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    children, jobs = [], []
    cfg = config.as_dict()
    cfg["concurrency"] = max(1, config.concurrency // n)
    with open(out / "crawl.stderr.log", "ab") as err:
        for k in range(n):
            part = journal_path if k == 0 else journal_path.with_name(f"{journal_path.stem}.{k}{journal_path.suffix}")
            job = {
                "config": cfg, "journal": str(part), "log_file": str(out / ("crawl.log" if k == 0 else f"crawl.{k}.log")),
                "parent_pid": os.getpid(),
                "sites": [{"site_id": s.site_id, "raw": s.raw, "url": s.url, "public_url": public_url(s)}
                          for s in pending[k::n]],
            }
            job_path = out / f".job.{k}.json"
            job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
            jobs.append(job_path)
            children.append(subprocess.Popen([sys.executable, "-m", "chanaudit.crawler.process", str(job_path)], env=env,
                                             stdout=err, stderr=err))
        try:
            while any(c.poll() is None for c in children):
                if progress:
                    progress(min(count_lines(journal_path), total), total)
                time.sleep(0.25)
        except BaseException:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            raise
    if progress:
        progress(min(count_lines(journal_path), total), total)
    for job_path in jobs:
        job_path.unlink(missing_ok=True)
    return max((c.returncode for c in children), key=abs)
