"""Jobs of Category B, the negative controls and NES-vs-transfer: what `genebench materialize
--categories` runs after the tissue jobs (one partitions definition per job)."""

import dagster as dg

TRANSFER_TISSUE_ASSETS = ["transfer_pair_folds", "transfer_predictions", "transfer_evaluation", "negative_controls"]
TRANSFER_SUMMARY_ASSETS = ["nes_conservation_vs_b_transfer"]

transfer_tissue_job = dg.define_asset_job(
    "transfer_tissue_job", selection=dg.AssetSelection.assets(*TRANSFER_TISSUE_ASSETS),
    description="Per tissue: Category B pair folds (blocking checks) -> predictions (genes and pathways) -> "
    "evaluation; negative controls NC1 (computed null) and NC2 (housekeeping genes) on the LOMO folds.")
transfer_summary_job = dg.define_asset_job(
    "transfer_summary_job", selection=dg.AssetSelection.assets(*TRANSFER_SUMMARY_ASSETS),
    description="NES conservation vs our Category B transfer AUROCs: Spearman over every tissue, with n and p.")

TRANSFER_JOBS = [transfer_tissue_job, transfer_summary_job]
