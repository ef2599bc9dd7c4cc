"""The labelled real sites in ../shared/realsites (development set), as test data.

Every labelled batch is read (``labels.csv``, ``labels-batch2.csv``… : every ``labels*.csv``,
append-only) with each site's public domain from ``domains.csv``: nothing is hard-coded here, so
a new batch joins the gate by being saved beside the others. :func:`corpus_hash` fingerprints
what the gate scored, so that floors say which corpus they were set on.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from chanaudit.core.contract import CHANNELS
from tests.shared import shared_folder, skip_unless

ROOT = shared_folder("realsites", "CHANAUDIT_REALSITES", "labels.csv")
#: Saved pages: the home page is ``index.html``; other pages keep their saved names.
PAGE_SUFFIXES = (".html", ".htm")


@dataclass
class RealSite:
    slug: str
    language: str
    labels: dict[str, int]
    directory: Path
    domain: str
    batch: str  # the labels file the site comes from

    def pages(self) -> list[tuple[str, Path]]:
        """(public URL, file) of the home page (first) and the contacts/support pages saved beside it."""
        out = []
        for path in sorted(p for p in self.directory.rglob("*") if p.suffix.lower() in PAGE_SUFFIXES):
            rel = path.relative_to(self.directory).as_posix()
            rel = "" if rel == "index.html" else rel.removesuffix("index.html")
            out.append((f"https://{self.domain}/{rel}", path))
        return sorted(out, key=lambda item: item[0] != f"https://{self.domain}/")

    def local_file(self, url: str) -> Path | None:
        """The saved file behind a same-site URL of this site (a script), or None when it was not saved."""
        prefix = f"https://{self.domain}/"
        if not url.startswith(prefix):
            return None
        rel = url[len(prefix):].split("?")[0].split("#")[0]
        path = (self.directory / rel).resolve()
        return path if rel and path.is_file() and self.directory.resolve() in path.parents else None


def available() -> bool:
    return (ROOT / "labels.csv").exists()


def skip_unless_available():
    """Skip a gate test when the labelled sites are not beside the checkout, except in CI
    (CI=true), where the quality gate must run: there a missing folder fails the test."""
    return skip_unless(available(), ROOT, "CHANAUDIT_REALSITES")


def batches() -> list[Path]:
    """The labelled batches in the order they were added: labels.csv, then labels-*.csv by name,
    numbers read as numbers (batch2 before batch10)."""
    def key(path: Path) -> tuple:
        parts = re.split(r"(\d+)", path.name)
        return path.name != "labels.csv", [int(p) if p.isdigit() else p for p in parts]

    return sorted(ROOT.glob("labels*.csv"), key=key)


def domains() -> dict[str, str]:
    with open(ROOT / "domains.csv", encoding="utf-8") as fh:
        return {row["slug"].strip(): row["domain"].strip() for row in csv.DictReader(fh)}


def load() -> list[RealSite]:
    if not available():
        raise FileNotFoundError(f"the quality gate needs the labelled real sites at {ROOT} "
                                "(shared/realsites beside the checkout, or CHANAUDIT_REALSITES)")
    public = domains()
    sites: list[RealSite] = []
    seen: dict[str, str] = {}
    for batch in batches():
        with open(batch, encoding="utf-8") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                slug = row["slug"].strip()
                if slug in seen:
                    raise ValueError(f"{batch.name}, line {line}: site {slug} is already labelled in {seen[slug]}")
                if slug not in public:
                    raise ValueError(f"{batch.name}, line {line}: site {slug} has no row in domains.csv")
                seen[slug] = batch.name
                sites.append(RealSite(slug, row["language"], {c: int(row[c]) for c in CHANNELS},
                                      ROOT / "sites" / slug, public[slug], batch.name))
    return sites


def corpus_hash() -> str:
    """SHA-256 (first 16 hex digits) of the labels, the domains and every saved file: the corpus the
    gate scored. Floors are kept with the hash they were set on (tests/gate_floors.json)."""
    digest = hashlib.sha256()
    files = [*batches(), ROOT / "domains.csv", *sorted(p for p in (ROOT / "sites").rglob("*") if p.is_file())]
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
