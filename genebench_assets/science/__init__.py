"""The science core: plain functions on DataFrames and arrays. Nothing here imports Dagster."""
