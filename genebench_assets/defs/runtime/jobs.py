"""Jobs, split by partitioning so that each job has one partitions definition.

The benchmark path (catalog -> study -> tissue) is what `genebench materialize` builds by default.
NES (DESeq2 Wald statistics -> prerank GSEA -> conservation) is its own pair of jobs: pydeseq2's
per-gene dispersion fits cost tens of seconds per study on 2 cores, and NES feeds no AUROC."""

import dagster as dg

STUDY_ASSETS = ["raw_counts", "sample_metadata", "normalized_expression", "pathway_scores"]
TISSUE_ASSETS = ["lomo_folds", "model_predictions", "evaluation_summary"]
NES_STUDY_ASSETS = ["differential_expression", "pathway_nes"]
NES_TISSUE_ASSETS = ["nes_conservation"]
GLOBAL_ASSETS = ["osdr_catalog", "gene_sets"]

catalog_job = dg.define_asset_job(
    "catalog_job", selection=dg.AssetSelection.assets(*GLOBAL_ASSETS),
    description="Study catalog (registers mission partitions) and gene sets.")
study_job = dg.define_asset_job(
    "study_job", selection=dg.AssetSelection.assets(*STUDY_ASSETS),
    description="Per (tissue, mission) study: raw counts -> sample metadata -> normalized expression -> pathway scores.")
tissue_job = dg.define_asset_job(
    "tissue_job", selection=dg.AssetSelection.assets(*TISSUE_ASSETS),
    description="Per tissue: LOMO folds (blocking leakage checks) -> model predictions -> evaluation.")
nes_study_job = dg.define_asset_job(
    "nes_study_job", selection=dg.AssetSelection.assets(*NES_STUDY_ASSETS),
    description="Per study: DESeq2 Flight vs Ground (pydeseq2) -> prerank GSEA NES.")
nes_tissue_job = dg.define_asset_job(
    "nes_tissue_job", selection=dg.AssetSelection.assets(*NES_TISSUE_ASSETS),
    description="Per tissue: NES conservation across missions.")

LLM_REPLAY_ASSETS = ["llm_question_bank", "llm_answers", "llm_judge_scores", "llm_leaderboard"]
# Partitioned by answering model; llm_answers / llm_judge_scores have a single-run backfill policy, so
# "Materialize all" on this job's page is one run for all models (plus the bank and the leaderboard,
# which the backfill runs before and after). `genebench llm replay` runs all of it as ONE run.
llm_replay_job = dg.define_asset_job(
    "llm_replay_job", selection=dg.AssetSelection.assets(*LLM_REPLAY_ASSETS),
    description="SpaceOmicsBench LLM track: question bank -> answers + judge scores of every answering model "
    "(stored runs replayed offline by default) -> leaderboard. CLI: genebench llm replay [--out DIR].")

# The leaderboards (defs/results/assets.py) read the results records that evaluation_summary, the
# Category B/C and SpaceOmicsBench assets, `genebench evaluate` and `genebench reproduce` write into the data
# directory: they belong after every other run. END_OF_RUN_JOBS is what `genebench materialize` runs last
# ((job, label) pairs, unpartitioned); defs/results/refresh.refresh_leaderboards runs it on its own.
RESULTS_ASSETS = ["genelab_leaderboard", "spaceomicsbench_results_leaderboard"]
results_job = dg.define_asset_job(
    "results_job", selection=dg.AssetSelection.assets(*RESULTS_ASSETS),
    description="Leaderboards of every benchmark: the results records (built-in, plug-in, submission, embeddings, "
    "reproduction) beside the published baselines. Run at the end of genebench materialize.")
END_OF_RUN_JOBS: tuple[tuple[str, str], ...] = (("results_job", "leaderboards"),)

# Issue 21, J2 (defs/analyses/dge_pipelines.py): opt-in, not in `genebench materialize` (pydeseq2 + two GPL
# libraries of the optional extra dge-pipelines). One partitions definition per job: the per-study tables, then
# the comparison (docs/analyses.md says how to run them).
dge_pipelines_job = dg.define_asset_job(
    "dge_pipelines_job", selection=dg.AssetSelection.assets("dge_pipeline_tables"),
    description="J2, per study: DESeq2 / edgeR QLF / limma-voom on the raw counts (optional extra dge-pipelines); "
    "then dge_comparison_job.")
dge_comparison_job = dg.define_asset_job(
    "dge_comparison_job", selection=dg.AssetSelection.assets("dge_pipeline_comparison"),
    description="J2: J2_dge_pipeline_comparison.json from the per-study tables, seed and strict side by side.")

JOBS = [catalog_job, study_job, tissue_job, nes_study_job, nes_tissue_job, llm_replay_job, results_job, dge_pipelines_job,
        dge_comparison_job]
