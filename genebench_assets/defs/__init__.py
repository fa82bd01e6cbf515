"""Thin Dagster wiring, one package per domain; each exposes `defs`."""
