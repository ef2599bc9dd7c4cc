"""Test and demo helpers: local site servers and a generator of a labelled synthetic market."""
