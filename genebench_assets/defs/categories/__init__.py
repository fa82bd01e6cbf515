"""GeneLab categories C (method C), D, J5 and NES-vs-transfer on the published release (issue 11)."""

import dagster as dg

from genebench_assets.defs.categories.assets import (
    categories_summary_job, category_partitioned_jobs, category_published_files, condition_class_minimums,
    condition_prediction_pathway, cross_tissue_features_from_training_tissue, cross_tissue_pathway_transfer,
    cross_tissue_train_test_disjoint, j5_pathway_lomo, leakage_audit, nes_conservation_vs_transfer)
from genebench_assets.defs.categories.gene_assets import (
    categories_gene_job, cross_tissue_gene_folds, cross_tissue_gene_folds_disjoint,
    categories_gene_d_job, condition_genes_class_minimums, condition_prediction_genes,
    cross_tissue_gene_lists_from_training_tissue, cross_tissue_gene_transfer, j5_gene_vs_pathway)

defs = dg.Definitions(
    assets=[cross_tissue_pathway_transfer, condition_prediction_pathway, j5_pathway_lomo,
            nes_conservation_vs_transfer, category_published_files, leakage_audit,
            # gene features on the demo / live / mirror sources
            cross_tissue_gene_folds, cross_tissue_gene_transfer, j5_gene_vs_pathway, condition_prediction_genes],
    asset_checks=[cross_tissue_train_test_disjoint, cross_tissue_features_from_training_tissue, condition_class_minimums,
                  cross_tissue_gene_folds_disjoint, cross_tissue_gene_lists_from_training_tissue,
                  condition_genes_class_minimums],
    jobs=[*category_partitioned_jobs.values(), categories_summary_job, categories_gene_job, categories_gene_d_job],
)
