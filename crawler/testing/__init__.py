"""Test and demo infrastructure: local servers and the SYNTHETIC demo market."""
