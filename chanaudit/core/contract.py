"""The audit contract every stage relies on (docs/contract.md): the channels, the statuses, the
columns of the audit folder's tables, and the record every detector returns.

The bottom layer: it imports no stage, and every stage imports it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: The five scored channels, in the order of the output contract.
CHANNELS: tuple[str, ...] = ("email", "phone", "chat", "form", "portal")
#: What a detector may record besides the five channels, never counted as a channel: ``messenger`` (t.me,
#: wa.me links and buttons; chat only with ``--messenger-as-chat``), ``callback`` (callback widgets, "we call
#: you back"), ``company`` (the company's name), ``inn`` and ``ogrn`` (Russian registration numbers whose
#: checksums hold; ОГРНИП under ``ogrn``).
RECORD_KINDS: tuple[str, ...] = ("messenger", "callback", "company", "inn", "ogrn")
#: Every ``channel`` value of an evidence row: the five channels, then the record kinds.
ALL_CHANNELS: tuple[str, ...] = (*CHANNELS, *RECORD_KINDS)
#: The kind of a chat-like finding, the first word of its ``detail``: people answer (``live_chat``),
#: a bot answers (``ai_chat``, counted as chat unless ``ai_chat_as_chat`` is off), a messenger
#: button, a callback widget.
CHAT_KINDS: tuple[str, ...] = ("live_chat", "ai_chat", "messenger", "callback")

#: ``status`` of a site that was audited.
OK = "ok"
#: Status codes of a site that could not be audited, each a precise reason.
FAILURE_STATUSES: tuple[str, ...] = (
    "invalid_input", "dns_error", "connect_error", "timeout", "tls_error", "http_error",
    "robots_blocked", "not_html", "too_large", "blocked_address", "error",
)
#: Status codes of a site that answers but is no working company website (crawler/states.py):
#: an anti-bot interstitial, a parked or for-sale domain, a default or suspended page, nothing to see.
SITE_STATES: tuple[str, ...] = ("challenge", "parked", "placeholder", "empty")
#: ``--offsite-redirects skip``: the home page redirects to another registrable domain; not audited.
MOVED = "moved"
#: Sites excluded from the base of every share as no working company website.
NOT_A_COMPANY_SITE: tuple[str, ...] = (*SITE_STATES, MOVED)
#: Sites with a valid input that could not be audited: not reachable, refused, or failed.
UNREACHABLE: tuple[str, ...] = tuple(s for s in FAILURE_STATUSES if s != "invalid_input")
STATUSES: tuple[str, ...] = (OK, *FAILURE_STATUSES, *NOT_A_COMPANY_SITE)
#: What ``--offsite-redirects`` does with a home page that redirects to another registrable domain:
#: audit the target and flag it (``moved=1``), or skip the site (status ``moved``).
OFFSITE_REDIRECTS: tuple[str, ...] = ("audit", "skip")

#: Columns of ``sites.csv``, before the input's own columns (passed through).
SITE_COLUMNS: tuple[str, ...] = (
    "site_id", "input", "url", "final_url", "status", "status_detail", "http_status", "pages", "rendered",
    *CHANNELS, "channels", "score", "final_domain", "moved",
)
#: Columns of ``evidence.csv``: one row per finding.
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "site_id", "channel", "value", "page_url", "page_role", "method", "rule", "snippet", "detail", "counted",
)
#: Columns of ``pages.csv``: one row per page fetched.
PAGE_COLUMNS: tuple[str, ...] = (
    "site_id", "url", "role", "depth", "http_status", "bytes", "content_type", "rendered", "elapsed_ms", "error",
    "state", "state_rule", "state_evidence", "requests",
)

SNIPPET_LEN = 160


@dataclass(frozen=True, slots=True)
class Evidence:
    """One finding.

    ``value`` is normalised: a lower-case email, an E.164 phone, a chat vendor id,
    a form kind (``request``, ``callback``, ``embed:<service>``; a request's sub-type in ``detail``), a
    portal URL, a messenger URL. ``rule`` names the signature or rule that fired
    (``chat.jivo``, ``email.mailto``); ``method`` says how it was seen
    (``mailto``, ``text``, ``script_src``, ``inline_script``, ``link``, ...).
    ``messenger`` findings (t.me, wa.me links) are recorded but are not chat; ``company``, ``inn`` and
    ``ogrn`` records (:data:`RECORD_KINDS`) say who the site belongs to and never count as a channel.
    """

    channel: str
    value: str
    page_url: str
    method: str
    rule: str
    snippet: str = ""
    detail: str = ""
    #: False for findings a visitor cannot see (an address only in JSON-LD, say):
    #: recorded for review, not counted towards the channel unless asked.
    counted: bool = True

    def __post_init__(self) -> None:
        if self.channel not in ALL_CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def make_snippet(text: str, limit: int = SNIPPET_LEN) -> str:
    """Collapse whitespace and cut to ``limit`` characters (for evidence rows)."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dedupe(evidence: list[Evidence]) -> list[Evidence]:
    """Keep the first finding per (channel, value, page_url, rule)."""
    seen: set[tuple[str, str, str, str]] = set()
    out: list[Evidence] = []
    for ev in evidence:
        key = (ev.channel, ev.value, ev.page_url, ev.rule)
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out


def chat_kind(ev: Evidence) -> str:
    """The kind of a chat, messenger or callback finding (:data:`CHAT_KINDS`), from the first word of
    its ``detail``; chat findings of audits older than the kinds are ``live_chat``; "" otherwise."""
    if ev.channel not in ("chat", "messenger", "callback"):
        return ""
    word = ev.detail.split(";", 1)[0].strip()
    if word in CHAT_KINDS:
        return word
    return {"chat": "live_chat"}.get(ev.channel, ev.channel)


def site_channels(evidence: list[Evidence], *, messenger_as_chat: bool = False, ai_chat_as_chat: bool = True,
                  count_hidden: bool = False) -> dict[str, int]:
    """Channel flags (1/0) of a site from all evidence of its pages.

    ``messenger_as_chat`` counts messenger links as chat (a sensitivity switch;
    the 2016 study predates them); ``ai_chat_as_chat`` (on by default) counts AI
    chat widgets as chat, off for a sensitivity run of human live chat alone;
    ``count_hidden`` counts findings a visitor cannot see (``counted=False``).
    Callback widgets never count.
    """
    flags = dict.fromkeys(CHANNELS, 0)
    for ev in evidence:
        if not (ev.counted or count_hidden):
            continue
        if ev.channel == "chat" and not ai_chat_as_chat and chat_kind(ev) == "ai_chat":
            continue
        channel = "chat" if (ev.channel == "messenger" and messenger_as_chat) else ev.channel
        if channel in flags:
            flags[channel] = 1
    return flags
