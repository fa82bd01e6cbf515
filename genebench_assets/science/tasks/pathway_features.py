"""Pathway features of a LOMO fold: the one builder (SPEC §7 / §9), called at the tasks stage by lomo_folds.

Its own module, apart from `folds`, so that only the code that builds pathway features (lomo_folds, its
checks, the transfer pairs) carries the GSVA code in its Dagster code version: model_predictions, which
reads the stored matrices and only fits, is not marked stale by a change to GSVA itself; it turns stale
when lomo_folds' re-computed features change (a new data version), and only then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from genebench_assets.science.tasks.folds import STEP_GSVA_REFERENCE, Fold, _require_columns, fold_pathway_scores


def fold_pathway_features(
    fold: Fold,
    *,
    protocol: str | None = None,
    scores_by_mission: Mapping[str, pd.DataFrame] | None = None,
    expression: pd.DataFrame | None = None,
    symbol_map: pd.Series | None = None,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    min_size: int = 15,
    max_size: int = 500,
) -> pd.DataFrame:
    """The pathway features the model of one fold reads: pathways x (train ids, then test ids), not
    scaled (the models scale on the training rows). The one builder of pathway fold features at the
    tasks stage (lomo_folds writes its output; the blocking checks verify it; model_predictions only
    reads it).

    seed: the stored per-mission GSVA scores of the fold's missions (`scores_by_mission`), combined
      by `fold_pathway_scores`, as published (per-mission GSVA saw the test mission: a documented
      seed exception, STEP_PATHWAY_SCORING).
    strict: GSVA on the tissue's `expression` (Ensembl ids x samples, log2) mapped to symbols, with
      the duplicated-symbol choice and the kernel CDFs fitted on exactly the ids the fold recorded
      under STEP_GSVA_REFERENCE (its training samples), so the record is what is used."""
    from genebench_assets.science.pathways.gene_sets import map_ensembl_to_symbols
    from genebench_assets.science.pathways.pathway_scoring import gsva_with_reference

    protocol = protocol or fold.protocol
    ids = list(fold.train_ids) + list(fold.test_ids)
    if protocol == "seed":
        if scores_by_mission is None:
            raise ValueError(f"{fold.fold_id}: the seed protocol's pathway features need the per-mission scores")
        missions = sorted(set(fold.train_missions) | {fold.test_mission})
        absent = [m for m in missions if m not in scores_by_mission]
        if absent:
            raise KeyError(f"{fold.fold_id}: no pathway scores for missions {absent}")
        scores = fold_pathway_scores(scores_by_mission, missions)
        _require_columns(scores, ids, f"{fold.tissue} {fold.fold_id} pathway scores")
        return scores[ids]
    if expression is None or symbol_map is None or gene_sets is None:
        raise ValueError(f"{fold.fold_id}: strict pathway features need expression, symbol map and gene sets")
    if STEP_GSVA_REFERENCE not in fold.fitted_steps:
        raise ValueError(f"{fold.fold_id}: the fold records no {STEP_GSVA_REFERENCE!r} step to fit GSVA on")
    reference = [str(s) for s in fold.fitted_steps[STEP_GSVA_REFERENCE]]
    expression = expression.copy(deep=False)
    expression.columns = expression.columns.astype(str)
    _require_columns(expression, ids + reference, f"{fold.tissue} {fold.fold_id} expression")
    expr = expression[list(dict.fromkeys(ids + reference))].dropna(axis=0, how="any")
    by_symbol, _ = map_ensembl_to_symbols(expr, symbol_map, variance_samples=reference)
    scores = gsva_with_reference(by_symbol, gene_sets, reference_samples=reference, kcdf="Gaussian",
                                 min_size=min_size, max_size=max_size)
    return scores[ids]

