"""Pathway features for a LOMO fold.

seed: the stored per-study GSVA scores (as published), pathways intersected across the fold's missions.
strict: GSVA inside the fold, with kernel CDFs estimated on training samples only, so no test sample
influences any training feature."""

from __future__ import annotations

import pandas as pd

from genebench_assets.science.storage.table_store import TableStore


def pathway_fold_matrices(fold, data, settings, gs_settings, source, collection: str | None = None):
    from genebench_assets.defs.pathways.assets import load_gene_sets, symbol_expression

    sets, symbol_map, _ = load_gene_sets(settings, gs_settings, source)
    collection = collection or next(iter(sets))
    train_ids, test_ids = list(fold.train_ids), list(fold.test_ids)
    if settings.protocol == "seed":
        from genebench_assets.science.tasks.folds import fold_pathway_scores

        store = TableStore(settings.data_dir)
        missions = sorted(set(fold.train_missions) | {fold.test_mission})
        scores = fold_pathway_scores(
            {m: store.read_frame("pathway_scores", collection, data.tissue, m) for m in missions}, missions)
    else:
        from genebench_assets.science.pathways.pathway_scoring import gsva_with_reference

        from genebench_assets.science.tasks.folds import STEP_GSVA_REFERENCE

        # The reference is exactly what lomo_folds recorded for this fold, which the blocking leakage
        # check verified (training samples only).
        reference = list(fold.fitted_steps.get(STEP_GSVA_REFERENCE, train_ids))
        expr = data.expression[list(dict.fromkeys(train_ids + test_ids + reference))]
        # Which gene stands for a duplicated symbol is chosen on the reference (training) samples only.
        by_symbol = symbol_expression(expr, symbol_map, variance_samples=reference)
        scores = gsva_with_reference(by_symbol, sets[collection], reference_samples=reference, kcdf="Gaussian",
                                     min_size=gs_settings.min_size, max_size=gs_settings.max_size)
    X_train = scores[train_ids].T
    X_test = scores[test_ids].T
    y_train = pd.Series(fold.y_train, index=train_ids) if not isinstance(fold.y_train, pd.Series) else fold.y_train
    return X_train, y_train, X_test
