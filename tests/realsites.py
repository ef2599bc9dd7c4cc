"""The labelled real sites in ../shared/realsites (development set), as test data."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from chanaudit.core.contract import CHANNELS


def _find_root() -> Path:
    """CHANAUDIT_REALSITES, else shared/realsites beside the checkout (or one level up)."""
    if os.environ.get("CHANAUDIT_REALSITES"):
        return Path(os.environ["CHANAUDIT_REALSITES"])
    checkout = Path(__file__).resolve().parents[1]
    candidates = [checkout.parent / "shared" / "realsites", checkout.parent.parent / "shared" / "realsites"]
    return next((c for c in candidates if (c / "labels.csv").exists()), candidates[0])


ROOT = _find_root()

#: The public domain of each saved site (from labels.csv notes and sources.csv), so
#: that region and same-site rules see what they would see live. Nothing is fetched.
DOMAINS = {
    "ru-access-point": "access-point.pro",
    "ru-artw": "artw.ru",
    "ru-cinet": "cinet.ru",
    "ru-dengionline": "dengionline.com",
    "ru-nb-service": "nb-service.ru",
    "ru-rnet-isp": "rnet.ru",
    "ru-sysit-kiev": "sysit.com.ua",
    "ru-trix-3x": "3x.su",
    "en-analogyit": "analogyit.com",
    "en-atlantic-it-support": "atlanticitsupport.com",
    "en-desertlink-it": "desertlink.it.com",
    "en-hawksec": "hssllp.com",
    "en-tom-knows-tech": "tomknows.tech",
    "en-village-computers": "villagecomputers.example",
}


@dataclass
class RealSite:
    slug: str
    language: str
    labels: dict[str, int]
    directory: Path

    @property
    def domain(self) -> str:
        return DOMAINS[self.slug]

    def pages(self) -> list[tuple[str, Path]]:
        """(public URL, file) of the home page and the contacts/support pages saved beside it."""
        out = []
        for path in sorted(self.directory.rglob("*.html")):
            rel = path.relative_to(self.directory).as_posix()
            rel = "" if rel == "index.html" else rel.removesuffix("index.html")
            out.append((f"https://{self.domain}/{rel}", path))
        return out


def available() -> bool:
    return (ROOT / "labels.csv").exists()


def skip_unless_available():
    """Skip a gate test when the labelled sites are not beside the checkout, except in CI
    (CI=true), where the quality gate must run: there a missing folder fails the test."""
    import pytest

    return pytest.mark.skipif(not available() and not os.environ.get("CI"),
                              reason=f"{ROOT} not present (set CHANAUDIT_REALSITES)")


def load() -> list[RealSite]:
    if not available():
        raise FileNotFoundError(f"the quality gate needs the labelled real sites at {ROOT} "
                                "(shared/realsites beside the checkout, or CHANAUDIT_REALSITES)")
    with open(ROOT / "labels.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [
        RealSite(r["slug"], r["language"], {c: int(r[c]) for c in CHANNELS}, ROOT / "sites" / r["slug"])
        for r in rows
    ]
