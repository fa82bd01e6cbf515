"""Analyses of the reproduced results (issue 21): interpretability, multi-database comparison."""
