"""Data only: study specs, codebooks, weights, the demo market's vocabularies."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
