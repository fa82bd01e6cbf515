"""Analyses of the benchmark results: issue 21 (assets.py: interpretation of the release's pathway LOMO
fits, multi-database comparison; reproduce.py) and calibration (calibration.py, its own defs)."""

import dagster as dg

from genebench_assets.defs.analyses.assets import (
    analyses_partitioned_job, multi_db_comparison, multi_db_job, release_pathway_interpretation)

defs = dg.Definitions(
    assets=[release_pathway_interpretation, multi_db_comparison],
    jobs=[analyses_partitioned_job, multi_db_job],
)
