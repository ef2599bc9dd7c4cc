"""Audit configuration: one dataclass, serialised into the manifest for citation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from chanaudit import __version__
from chanaudit.core.contract import OFFSITE_REDIRECTS
from chanaudit.core.errors import ChanauditError

RENDER_POLICIES = ("auto", "never", "always")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]


class InvalidConfig(ChanauditError, ValueError):
    """An audit option outside its range (``--render sometimes``, ``--max-pages 0``); the message names it."""


@dataclass
class AuditConfig:
    render: str = "auto"
    allow_private: bool = False
    obey_robots: bool = True
    user_agent: str = f"chanaudit/{__version__} (support-channel audit; research crawler; +robots.txt obeyed)"
    concurrency: int = 32  # requests in flight overall (split between workers)
    workers: int = 0  # crawler processes; 0 = one per core for large lists (each site stays in one worker)
    per_site: int = 1  # requests in flight per site
    delay: float = 1.0  # seconds between requests to one site
    timeout: float = 20.0  # per download
    retries: int = 1
    max_pages: int = 4  # home + contacts + support pages
    max_bytes: int = 5 * 1024 * 1024  # per download, decompressed
    render_wait_ms: int = 1500  # after load, for widgets injected late
    render_timeout: float = 30.0
    render_pages: int = 4  # browser pages at once
    #: The browser runs scripts from other (public) hosts, as a visitor's would: tag managers and the chat
    #: loaders they inject (analytics and ad hosts stay blocked: ``blocked`` in signatures/render.yaml).
    third_party_scripts: bool = True
    messenger_as_chat: bool = False
    ai_chat_as_chat: bool = True  # AI chat widgets count as chat; False for human live chat alone
    count_hidden: bool = False
    chromium: str = CHROMIUM
    region: str | None = None  # phone region (ISO code) forced on every page; guessed from TLD and language otherwise
    #: A home page that redirects to another registrable domain: "audit" the target (flagged moved=1)
    #: or "skip" the site (status moved).
    offsite_redirects: str = "audit"

    def __post_init__(self) -> None:
        if self.render not in RENDER_POLICIES:
            raise InvalidConfig(f"--render must be one of {', '.join(RENDER_POLICIES)}, not {self.render!r}")
        if self.offsite_redirects not in OFFSITE_REDIRECTS:
            raise InvalidConfig(f"--offsite-redirects must be one of {', '.join(OFFSITE_REDIRECTS)}, "
                                f"not {self.offsite_redirects!r}")
        for name in ("concurrency", "per_site", "max_pages", "max_bytes"):
            if getattr(self, name) < 1:
                raise InvalidConfig(f"{name} must be at least 1")
        for name in ("timeout", "delay", "render_timeout"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidConfig(f"{name} must be a finite number, not {getattr(self, name)}")
        if self.timeout <= 0 or self.delay < 0:
            raise InvalidConfig("timeout must be positive and delay not negative")
        if self.workers < 0:
            raise InvalidConfig(f"workers must be at least 0 (0 = one per core), not {self.workers}")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> AuditConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
