"""When static HTML is not enough: the ``--render auto`` policy."""

from __future__ import annotations

import re

from chanaudit.crawler.page import ParsedPage

_INJECT = re.compile(r"createElement\(\s*['\"]script['\"]\s*\)|document\.write\s*\(", re.I)
#: Analytics snippets inject scripts too but never a support channel.
_ANALYTICS = re.compile(
    r"mc\.yandex\.ru/metrika|google-analytics\.com|googletagmanager\.com/gtag|top-fwz1\.mail\.ru|"
    r"fbevents\.js|vk\.com/js/api/openapi|counter\.yadro\.ru|yandex\.ru/metrika|hotjar\.com|clarity\.ms",
    re.I,
)


def needs_rendering(page: ParsedPage, evidence=None) -> str | None:
    """A short reason when the page likely shows channels only after scripts run.

    None when static HTML already shows a chat (the channel scripts inject).
    Otherwise asks the chat detector's signature data (tag managers), then a
    generic check: inline scripts that inject other scripts (analytics
    snippets aside), or a body with scripts and almost no text.
    """
    if evidence is not None and any(ev.channel == "chat" for ev in evidence):
        return None
    try:
        from chanaudit.crawler.detectors.chat import needs_rendering as chat_hint
    except ImportError:  # pragma: no cover - the chat detector always ships
        chat_hint = None
    if chat_hint is not None:
        reason = chat_hint(page)
        if reason:
            return reason
    for script in page.scripts:
        text = script.text or ""
        if script.src is None and _INJECT.search(text) and not _ANALYTICS.search(text):
            return "inline script injects scripts"
    if page.scripts and len(page.visible_text) < 200:
        return "app shell: scripts and almost no text"
    return None
