"""Analyses of the benchmark results: issue 21 (assets.py: interpretation of the release's pathway LOMO
fits, multi-database comparison; reproduce.py; gene_shap.py: gene-level SHAP per tissue; dge_pipelines.py:
J2 DGE pipeline comparison, jobs in defs/runtime/jobs.py; temporal.py: T1-T3) and calibration
(calibration.py, its own defs)."""

import dagster as dg

from genebench_assets.defs.analyses.assets import (
    analyses_partitioned_job, multi_db_comparison, multi_db_job, release_pathway_interpretation)
from genebench_assets.defs.analyses.cell2020 import cell2020_job, cell2020_validation
from genebench_assets.defs.analyses.dge_pipelines import dge_pipeline_comparison, dge_pipeline_tables
from genebench_assets.defs.analyses.gene_shap import gene_shap
from genebench_assets.defs.analyses.temporal import temporal_analyses, temporal_job

# What `genebench reproduce analyses` loads (defs/analyses/reproduce.py): the assets that read the release
# alone (release_settings + settings). Assets on the gene-level graph (gene_shap, the J2 pipelines) need the
# whole code location's resources and assets, so they are only in `defs`.
release_defs = dg.Definitions(
    assets=[release_pathway_interpretation, multi_db_comparison, cell2020_validation, temporal_analyses],
    jobs=[analyses_partitioned_job, multi_db_job, cell2020_job, temporal_job],
)
defs = dg.Definitions.merge(release_defs, dg.Definitions(
    assets=[gene_shap, dge_pipeline_tables, dge_pipeline_comparison],
))
