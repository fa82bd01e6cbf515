"""Benchmark tasks: folds, fitted feature filters and leakage checks."""
