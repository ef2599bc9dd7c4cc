"""Fetching, one-click navigation and the five channel detectors."""
