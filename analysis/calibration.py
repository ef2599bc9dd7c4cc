"""How often each published-vs-reproduced rule flags a difference that is not there (simulation).

Both samples are drawn from the same population share p: the study's k_pub ~ Binomial(n_pub, p),
published as k_pub / n_pub rounded half-up to ``rounding``, and ours k ~ Binomial(n, p). A rule that
flags "lower" or "higher" here is wrong; at a 95% level it should be wrong about 5% of the time.

``one_sample``: the old rule, our Wilson interval against the published value +- rounding / 2.
``two_sample``: the published figure as k_pub of n_pub (:mod:`chanaudit.analysis.published`) and
Newcombe's interval for the difference. Both call the functions ``reproduce`` uses.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from chanaudit.analysis.intervals import proportion_ci, wilson
from chanaudit.analysis.published import interval_verdict, published_sample, versus_published
from chanaudit.analysis.studies import Figure, Study


def _round_half_up(k: int, n: int, rounding: float) -> float:
    step = Decimal(str(rounding))
    return float((Decimal(k) / Decimal(n)).quantize(step, rounding=ROUND_HALF_UP))


def false_flag_rates(ps=(0.21, 0.51, 0.77), n: int = 300, n_pub: int = 300, reps: int = 20_000,
                     rounding: float = 0.01, conf: float = 0.95, seed: int = 14) -> pd.DataFrame:
    """Columns: p, n, n_pub, reps, rule, flagged, rate, ci_low, ci_high (Wilson interval of the rate)."""
    from chanaudit.analysis.reproduce import one_sample_verdict

    rng = np.random.default_rng(seed)
    rows = []
    for p in ps:
        flags = {"one_sample": 0, "two_sample": 0}
        k_pubs = rng.binomial(n_pub, p, size=reps)
        ks = rng.binomial(n, p, size=reps)
        study = Study("simulated", "", "", "", "", "audit", [], None, (n_pub, n_pub))
        for k_pub, k in zip(k_pubs.tolist(), ks.tolist(), strict=True):
            fig = Figure("x", "", "", _round_half_up(k_pub, n_pub, rounding), rounding=rounding)
            low, high = proportion_ci(k, n, "wilson", conf)
            flags["one_sample"] += one_sample_verdict(fig, low, high)[1] != "consistent"
            sample = published_sample(fig, study)
            cmp = versus_published(k, n, sample, conf)
            flags["two_sample"] += interval_verdict(cmp["diff_ci_low"], cmp["diff_ci_high"]) != "consistent"
        for rule, flagged in flags.items():
            low, high = wilson(flagged, reps)
            rows.append({"p": p, "n": n, "n_pub": n_pub, "reps": reps, "rule": rule, "flagged": flagged,
                         "rate": flagged / reps, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def exact_false_flag_rates(ps=(0.21, 0.51, 0.77), n: int = 300, n_pub: int = 300, rounding: float = 0.01,
                           conf: float = 0.95, tail: float = 1e-9) -> pd.DataFrame:
    """The same false-flag probabilities without simulation error: the sum over every pair (k_pub, k) of
    P(k_pub) P(k) [the rule flags], binomial probabilities from scipy; counts beyond the ``tail``
    quantiles (probability below 2 * tail each) are left out. Columns: p, n, n_pub, rule, rate."""
    from scipy.stats import binom

    from chanaudit.analysis.reproduce import one_sample_verdict

    study = Study("exact", "", "", "", "", "audit", [], None, (n_pub, n_pub))
    rows = []
    for p in ps:
        ours = range(int(binom.ppf(tail, n, p)), int(binom.isf(tail, n, p)) + 1)
        theirs = range(int(binom.ppf(tail, n_pub, p)), int(binom.isf(tail, n_pub, p)) + 1)
        weights = {k: float(binom.pmf(k, n, p)) for k in ours}
        cis = {k: proportion_ci(k, n, "wilson", conf) for k in ours}
        rate = {"one_sample": 0.0, "two_sample": 0.0}
        for k_pub in theirs:
            w_pub = float(binom.pmf(k_pub, n_pub, p))
            fig = Figure("x", "", "", _round_half_up(k_pub, n_pub, rounding), rounding=rounding)
            sample = published_sample(fig, study)
            for k in ours:
                w = w_pub * weights[k]
                rate["one_sample"] += w * (one_sample_verdict(fig, *cis[k])[1] != "consistent")
                cmp = versus_published(k, n, sample, conf)
                rate["two_sample"] += w * (interval_verdict(cmp["diff_ci_low"], cmp["diff_ci_high"]) != "consistent")
        rows += [{"p": p, "n": n, "n_pub": n_pub, "rule": rule, "rate": r} for rule, r in rate.items()]
    return pd.DataFrame(rows)
