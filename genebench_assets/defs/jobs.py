"""Jobs: the default benchmark (everything but the LLM group), split by partitioning so that each job
has one partitions definition."""

from __future__ import annotations

import dagster as dg

STUDY_ASSETS = ["raw_counts", "sample_metadata", "normalized_expression", "pathway_scores",
                "differential_expression", "pathway_nes"]
TISSUE_ASSETS = ["lomo_folds", "model_predictions", "evaluation_summary", "nes_conservation"]
GLOBAL_ASSETS = ["osdr_catalog", "gene_sets"]

catalog_job = dg.define_asset_job(
    "catalog_job", selection=dg.AssetSelection.assets(*GLOBAL_ASSETS),
    description="Study catalog (registers mission partitions) and gene sets.")
study_job = dg.define_asset_job(
    "study_job", selection=dg.AssetSelection.assets(*STUDY_ASSETS),
    description="Per (tissue, mission) study: raw counts -> metadata -> normalized -> pathway scores, DE, NES.")
tissue_job = dg.define_asset_job(
    "tissue_job", selection=dg.AssetSelection.assets(*TISSUE_ASSETS),
    description="Per tissue: LOMO folds (blocking leakage checks) -> predictions -> evaluation; NES conservation.")

JOBS = [catalog_job, study_job, tissue_job]
