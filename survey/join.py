"""Join survey answers with an audit by the company's registrable domain (offline tldextract)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pandas as pd

from chanaudit.crawler.urls import InvalidSiteInput, normalize_site_url, registrable_domain


@dataclass
class JoinResult:
    frame: pd.DataFrame  # survey rows with the audit columns of their site
    unmatched_survey: pd.DataFrame  # respondent_id, website, reason
    unmatched_sites: pd.DataFrame  # site_id, url, reason
    match_rate: float


def domain_key(value) -> str:
    """``https://www.Пример.рф/о-нас`` -> ``xn--e1afmkfd.xn--p1ai``; "" when not a site."""
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        return registrable_domain(urlsplit(normalize_site_url(text)).hostname or "")
    except InvalidSiteInput:
        return ""


def join_audit(survey: pd.DataFrame, sites: pd.DataFrame, survey_key: str = "website",
               audit_key: str | None = None) -> JoinResult:
    """Match on ``audit_key`` when given (e.g. a ``domain`` column), else on final_url, url, input."""
    s = survey.copy()
    s["_key"] = s[survey_key].map(domain_key) if survey_key in s else ""
    a = sites.copy()
    if audit_key:
        a["_key"] = a[audit_key].map(domain_key)
    else:
        a["_key"] = ""
        for col in ("final_url", "url", "input"):
            if col in a:
                a["_key"] = a["_key"].where(a["_key"] != "", a[col].map(domain_key))
    dup = a[a["_key"].ne("") & a["_key"].duplicated(keep="first")]
    a_unique = a[a["_key"].ne("")].drop_duplicates("_key")
    audit_cols = [c for c in ("site_id", "status", "email", "phone", "chat", "form", "portal", "channels", "score")
                  if c in a_unique]
    merged = s.merge(a_unique[["_key", *audit_cols]], on="_key", how="left", suffixes=("", "_audit"))
    matched = merged["site_id"].notna() if "site_id" in merged else pd.Series(False, index=merged.index)
    reasons = s["_key"].map(lambda k: "no website" if not k else "no audited site with this domain")
    unmatched_survey = pd.DataFrame({"respondent_id": s.get("respondent_id"), "website": s.get(survey_key),
                                     "reason": reasons})[~matched.values]
    # one row per site that no respondent was joined to, with one reason: each site counted once
    taken = set(s["_key"]) - {""}
    duplicate = a.index.isin(dup.index)
    reason = pd.Series("no respondent", index=a.index)
    reason[a["_key"].eq("")] = "no domain (no usable final_url, url or input)"
    reason[duplicate] = "duplicate domain in the audit"
    lost = a[duplicate | ~a["_key"].isin(taken)]
    unmatched_sites = pd.DataFrame({"site_id": lost.get("site_id"), "url": lost.get("url"),
                                    "reason": reason[lost.index]})
    rate = float(matched.mean()) if len(matched) else 0.0
    return JoinResult(merged.drop(columns="_key"), unmatched_survey.reset_index(drop=True),
                      unmatched_sites.reset_index(drop=True), rate)
