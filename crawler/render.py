"""When static HTML is not enough: the ``--render auto`` policy, and the hosts the browser never
fetches from (vocabulary in ``signatures/render.yaml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from chanaudit.crawler import signatures
from chanaudit.crawler.page import ParsedPage

#: A body with scripts and less visible text than this is an app shell that scripts fill.
APP_SHELL_TEXT = 200


@dataclass(frozen=True, slots=True)
class Table:
    tag_manager_ids: tuple[str, ...]
    tag_managers: re.Pattern  # one group per row: t0, t1...; over lower-cased src or code
    injectors: re.Pattern
    analytics: re.Pattern
    blocked: re.Pattern  # over lower-case host/path, at the start, after any subdomains; group b0, b1...
    blocked_ids: tuple[str, ...]


def _alternation(rows: list[dict], flags: int = 0, named: bool = False) -> re.Pattern:
    parts = [f"(?P<t{i}>{row['pattern']})" if named else f"(?:{row['pattern']})" for i, row in enumerate(rows)]
    return re.compile("|".join(parts), flags)


@cache
def table() -> Table:
    data = signatures.load("render")
    blocked = "|".join(f"(?P<b{i}>{row['pattern']})" for i, row in enumerate(data["blocked"]))
    return Table(tuple(row["id"] for row in data["tag_managers"]), _alternation(data["tag_managers"], named=True),
                 _alternation(data["injectors"], re.I), _alternation(data["analytics"], re.I),
                 re.compile(rf"(?:[^/]*\.)?(?:{blocked})"), tuple(row["id"] for row in data["blocked"]))


def blocked(url: str) -> str | None:
    """The id of the ``blocked`` row (analytics, ads) that keeps the browser from fetching ``url``,
    or None. Only the host and path are read, lower-cased."""
    parts = urlsplit(url)
    t = table()
    m = t.blocked.match(f"{(parts.hostname or '').lower()}{(parts.path or '/').lower()}")
    return t.blocked_ids[int(m.lastgroup[1:])] if m else None


def needs_rendering(page: ParsedPage, evidence=None) -> str | None:
    """A short reason when the page likely shows channels only after scripts run.

    None when static HTML already shows a chat (the channel scripts inject).
    Otherwise: a tag manager that may inject widgets; inline scripts that inject
    other scripts (analytics snippets aside); a body with scripts and almost no text.
    """
    if evidence is not None and any(ev.channel == "chat" for ev in evidence):
        return None
    t = table()
    for script in page.scripts:
        m = t.tag_managers.search((script.src or script.text or "").lower())
        if m:
            return f"tag manager: {t.tag_manager_ids[int(m.lastgroup[1:])]}"
    for script in page.scripts:
        text = script.text or ""
        if script.src is None and t.injectors.search(text) and not t.analytics.search(text):
            return "inline script injects scripts"
    if page.scripts and len(page.visible_text) < APP_SHELL_TEXT:
        return "app shell: scripts and almost no text"
    return None
