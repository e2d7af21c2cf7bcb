"""Metric functions: arrays in, a number out, no file I/O (see the README for formulas)."""
