"""Weights, score, rank and the sensitivity of the ranking to the weights.

``chanaudit.scoring.run(folder, weights=None, top=10, draws=1000, concentration=50.0, seed=0)`` is the
stage: it scores an audit folder and writes scores, winners, sensitivity and the weights used."""

from chanaudit.scoring.stage import ScoringResult, run, site_scorer, used_weights

__all__ = ["ScoringResult", "run", "site_scorer", "used_weights"]
