"""Evaluation: metrics, fold and task evaluation, submissions."""
