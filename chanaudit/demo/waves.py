"""The SYNTHETIC demo market re-audited ten years later: wave 2 ("2026") of the same companies, with known change.

``generate_second_wave(out_dir, n_sites, seed)`` takes the market that :func:`generate_market` writes for
the same ``n_sites`` and ``seed`` (wave 1, "2016": it replays its draws, :func:`plan_market`, and never
changes its bytes) and writes, byte-identically for a seed, the same companies in 2026:

- the same ``companies.csv`` (slugs, names, cities, domains): the 2016 list audited again;
- every site that failed or was no company website in 2016 as it was (same fault, same state page,
  the same redirect to another company);
- of the working sites of 2016, a few closed (``parked``, ``placeholder``: the domain for sale, a
  hosting stub) and a few moved to a new domain (``state: moved``, ``new_domain``: the old home page
  answers 301 to the company's new site, an extra site of ``market.json``'s ``new_domains``);
- every other one rebuilt (a redesign: layout, pages and numbers drawn from its own stream) with its
  channels redrawn by the transitions of ``datasets/market/waves.yaml``: per channel, round(adoption x
  n0) of the n0 sites without it adopt it and round(drop x n1) of the n1 with it drop it (quotas, as
  wave 1's profiles are, so the true change is known exactly);
- ``truth.csv`` (as wave 1's) and ``transitions.csv``: per channel the true before/after shares and
  adopted/dropped counts over the companies an audit of each wave can pair (a working website, or a
  redirect to one, in both), next to the probabilities and the counts dealt.

A site that redirects to another domain is audited there (the crawler's default), so what an auditor
sees of it is the target's channels: :func:`seen_truth` gives every company's channels as seen.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd

from chanaudit.core.contract import CHANNELS
from chanaudit.demo.market import (
    COMPANY_COLUMNS,
    META,
    Market,
    SiteBuilder,
    fault_files,
    load_vocabulary,
    plan_market,
    quota,
    realised_shares,
    state_page,
    truth_frame,
    write_files,
    write_tables,
)

#: The wave's file of true transitions, beside truth.csv.
TRANSITIONS = "transitions.csv"
TRANSITION_COLUMNS = ["channel", "n_pairs", "before", "after", "adopted", "dropped", "diff", "adoption", "drop",
                      "eligible_adopt", "eligible_drop", "dealt_adopted", "dealt_dropped"]


def wave_spec(spec: dict | None = None) -> dict:
    """The transitions, closures and moves of wave 2 (``datasets/market/waves.yaml`` unless given)."""
    return spec or load_vocabulary()["waves"]


def deal_changes(plan, spec: dict, rng: random.Random) -> tuple[dict[int, str], dict[int, dict], dict[int, dict]]:
    """(closed: index -> state, moved: index -> {}, profiles of 2026 of every continuing site and
    dealt transitions): closures and moves are dealt from the working sites of 2016, then per channel the
    adoptions among the continuing sites without it and the drops among those with it."""
    healthy = plan.healthy
    n = len(healthy)
    counts = {state: round(share * n) for state, share in spec["closures"].items()}
    counts["moved"] = round(spec["moved"] * n)
    chosen = rng.sample(healthy, min(n, sum(counts.values())))
    changed, k = {}, 0
    for state, count in counts.items():
        for i in chosen[k:k + count]:
            changed[i] = state
        k += count
    closed = {i: s for i, s in changed.items() if s != "moved"}
    moved = {i: {} for i, s in changed.items() if s == "moved"}
    continuing = [i for i in healthy if i not in closed]
    profiles = {i: dict(plan.profiles[i]) for i in continuing}
    dealt = {}
    for ch in CHANNELS:
        zeros = [i for i in continuing if not plan.profiles[i][ch]]
        ones = [i for i in continuing if plan.profiles[i][ch]]
        adopt = quota(rng, zeros, spec["transitions"][ch]["adoption"])
        drop = quota(rng, ones, spec["transitions"][ch]["drop"])
        for i in adopt:
            profiles[i][ch] = 1
        for i in drop:
            profiles[i][ch] = 0
        dealt[ch] = {"eligible_adopt": len(zeros), "eligible_drop": len(ones), "dealt_adopted": len(adopt),
                     "dealt_dropped": len(drop)}
    return closed, moved, {"profiles": profiles, "dealt": dealt}


def _new_domain(ident: dict, spec: dict) -> str:
    old = ident["domain"]
    tld = next(t for t in spec["new_tlds"][ident["language"]] if not old.endswith(t))
    return ident["slug"] + tld


def generate_second_wave(out_dir: Path, n_sites: int = 320, seed: int = 2016, spec: dict | None = None) -> Market:
    """Write wave 2 ("2026") of the SYNTHETIC market of ``n_sites`` and ``seed`` under ``out_dir``: same seed,
    same bytes. ``spec`` replaces ``datasets/market/waves.yaml`` (transitions, closures, moved, new_tlds)."""
    out_dir = Path(out_dir)
    vocab = load_vocabulary()
    cal = vocab["calibration"]
    spec = wave_spec(spec)
    year = spec.get("year", 2026)
    plan = plan_market(n_sites, seed, vocab)
    rng = random.Random(f"{seed}/wave2")
    closed, moved, drawn = deal_changes(plan, spec, rng)
    profiles = drawn["profiles"]
    runtime = quota(rng, [i for i in sorted(profiles) if profiles[i]["chat"]], cal["runtime_chat_share"])
    cloudflare = quota(rng, [i for i in sorted(profiles) if profiles[i]["email"]], cal["cloudflare_email_share"])

    entries, extra, truth, files = [], [], [], {}
    # each state page in turn among its variants, as wave 1 deals them; then the sites closed by wave 2
    turns: dict[tuple[str, str], int] = {}
    turn_of: dict[int, int] = {}
    for i in [*sorted(i for i, s in plan.states.items() if s != "moved"), *sorted(closed)]:
        key = (plan.states.get(i) or closed[i], plan.idents[i]["language"])
        turns[key] = turn_of[i] = turns.get(key, -1) + 1
    for i, ident in enumerate(plan.idents):
        ident = dict(ident, encoding="cp1251" if i in plan.cp1251 else "utf-8")
        slug = ident["slug"]
        state = plan.states.get(i) or closed.get(i) or ("moved" if i in moved else None)
        entry = {k: ident[k] for k in ("slug", "name", "city", "segment", "language")}
        entry.update(encoding=ident["encoding"], fault=plan.faults.get(i), render_only=[], domain=ident["domain"],
                     state=state, layout=None, pages={}, values={})
        row = {"slug": slug, **dict.fromkeys(CHANNELS), "chat_vendor": "", "render_only": "", "notes": ""}
        if i in plan.faults:
            row["notes"] = f"fault: {plan.faults[i]} (as in wave 1)"
            files.update(fault_files(slug, plan.faults[i], ident["brand"], cal))
        elif i in plan.states and state == "moved":
            entry["moved_to"] = plan.idents[plan.moved_to[i]]["slug"]
            row["notes"] = f"moved: redirects (301) to the site of {entry['moved_to']}, another company (as in wave 1)"
        elif state in ("moved", None):
            flags = {"runtime_chat": i in runtime, "cloudflare": i in cloudflare,
                     "undeclared_charset": i in plan.undeclared}
            site = dict(ident)
            if state == "moved":
                site["domain"] = _new_domain(ident, spec)
                site["slug"] = f"{slug}--{year}"
            builder = SiteBuilder(site, profiles[i], flags, vocab, random.Random(f"{seed}/{i}/{slug}/wave2"))
            for path, data in builder.build().items():
                files[f"sites/{site['slug']}/{path}"] = data
            built = {"render_only": builder.render_only, "layout": builder.layout_name,
                     "pages": {p.path: p.role for p in builder.pages.values()},
                     "values": {k: v for k, v in builder.values.items() if v}}
            changes = [f"{ch} {'adopted' if profiles[i][ch] else 'dropped'}" for ch in CHANNELS
                       if profiles[i][ch] != plan.profiles[i][ch]]
            note = f"{year}: " + (", ".join(changes) if changes else "no change")
            if state == "moved":
                extra.append({**{k: site[k] for k in ("slug", "name", "city", "segment", "language", "domain",
                                                      "encoding")}, "company": slug, "fault": None, "state": None,
                              **built})
                entry.update(moved_to=site["slug"], new_domain=site["domain"])
                note += f"; moved to a new domain {site['domain']}: the old home page redirects (301) to it"
            else:
                entry.update(built)
            row.update(profiles[i], chat_vendor=builder.chat_vendor, render_only=",".join(builder.render_only),
                       notes="; ".join([note, *builder.notes]))
        else:  # a state page: as in wave 1, or the site closed by the second wave
            reply, body = state_page(state, ident, vocab, turn_of[i])
            entry["reply"] = reply
            if body:
                files[f"sites/{slug}/index.html"] = body
            when = "as in wave 1" if i in plan.states else f"closed by {year}"
            row["notes"] = f"state: {state} ({reply['variant']}); {when}"
        entries.append(entry)
        truth.append(row)

    truth_table = truth_frame(truth)
    companies = pd.DataFrame([{k: ident[k] for k in COMPANY_COLUMNS} for ident in plan.idents],
                             columns=COMPANY_COLUMNS)
    market = Market(out_dir, entries, truth_table, extra)
    before = _wave1_seen(plan)
    transitions = transition_table(before, seen_truth(market), spec, drawn["dealt"])
    out_dir.mkdir(parents=True, exist_ok=True)
    write_files(out_dir, files)
    meta = {"synthetic": True, "generator": "chanaudit.demo.waves", "wave": 2, "year": year, "seed": seed,
            "n_sites": n_sites,
            "note": "SYNTHETIC websites of invented companies for demos and tests; not real data. The same "
                    "companies as wave 1 (chanaudit.demo.market, same seed) with known change.",
            "waves": spec, "realised": realised_shares(truth_table), "sites": entries, "new_domains": extra}
    (out_dir / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_tables(out_dir, truth_table, companies)
    transitions.to_csv(out_dir / TRANSITIONS, index=False, encoding="utf-8", lineterminator="\n")
    market.transitions = transitions
    return market


def seen_truth(market: Market) -> pd.DataFrame:
    """The market's truth by slug, as an auditor who follows redirects sees it: a site that redirects to
    another company's site (``state: moved`` without channels of its own) takes that site's channels, or
    none when that one is no company website."""
    truth = market.truth.set_index("slug")
    seen = truth[list(CHANNELS)].copy()
    targets = {e["slug"]: e.get("moved_to") for e in market.sites if e.get("state") == "moved"}
    for slug, target in targets.items():
        hops = 0
        while seen.loc[slug].isna().all() and target in truth.index and hops < 10:
            seen.loc[slug] = truth.loc[target, list(CHANNELS)]
            target, hops = targets.get(target), hops + 1
    return seen


def _wave1_seen(plan) -> pd.DataFrame:
    """Wave 1's channels as seen (:func:`seen_truth`) from its plan, without writing it."""
    rows = {}
    for i, ident in enumerate(plan.idents):
        profile = plan.profiles.get(i)
        if profile is None and plan.states.get(i) == "moved":
            profile = plan.profiles.get(plan.moved_to[i])
        rows[ident["slug"]] = profile or dict.fromkeys(CHANNELS)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(CHANNELS))
    return frame.astype("Int64")


def transition_table(before: pd.DataFrame, after: pd.DataFrame, spec: dict, dealt: dict) -> pd.DataFrame:
    """:data:`TRANSITION_COLUMNS`: per channel over the companies with channels seen in both waves (the
    pairs an audit can form), the true shares, adopted and dropped counts and change, with the
    probabilities of ``spec`` and the counts dealt among the continuing working sites."""
    both = before.index[before.notna().all(axis=1)].intersection(after.index[after.notna().all(axis=1)])
    rows = []
    for ch in CHANNELS:
        b, a = before.loc[both, ch].astype(int), after.loc[both, ch].astype(int)
        n = len(both)
        adopted, dropped = int(((b == 0) & (a == 1)).sum()), int(((b == 1) & (a == 0)).sum())
        rows.append({"channel": ch, "n_pairs": n, "before": b.mean() if n else float("nan"),
                     "after": a.mean() if n else float("nan"), "adopted": adopted, "dropped": dropped,
                     "diff": (adopted - dropped) / n if n else float("nan"),
                     "adoption": spec["transitions"][ch]["adoption"], "drop": spec["transitions"][ch]["drop"],
                     **dealt[ch]})
    return pd.DataFrame(rows, columns=TRANSITION_COLUMNS)
