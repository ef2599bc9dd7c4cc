"""Weights, score, rank and the sensitivity of the ranking to the weights."""
