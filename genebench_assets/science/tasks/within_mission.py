"""Leave-one-animal-out within each mission, beside LOMO (issue 21; published ``A4_within_loo.json``).

One LOO fold per binary sample of a mission (a `folds.Fold` with fold id ``loo_{MISSION}_{SAMPLE}``,
train = the mission's other binary samples): the same fitted steps as a LOMO fold (SPEC §4: gene
presence, low-expression filter, variance filter at the 25th percentile, z-score; ``folds.fold_matrices``
applies them), then PCA-LR (``classifiers.fit_predict``). A mission's AUROC is over its LOO scores.
- strict: every step fitted on the fold's training animals only;
- seed: the low-expression filter reads every kept sample of the mission (the left-out animal too), as
  the seed's whole-dataset filter did (SPEC §4 step 3); the variance filter and scaler stay on training.
A mission is eligible with >= 3 Flight and >= 3 Ground binary samples (SPEC §4).
``cross_mission_penalty``: within-mission LOO AUROC minus the LOMO AUROC of the same test mission.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from genebench_assets.science.evaluation import metrics
from genebench_assets.science.models.classifiers import DEFAULT_SEED, fit_predict
from genebench_assets.science.protocols import PROTOCOLS
from genebench_assets.science.tasks import folds as F
from genebench_assets.science.tasks.feature_filters import LowExpressionFilter, VarianceFilter

MIN_PER_CLASS = 3
METHOD = "PCA-LR (within-mission LOO)"


def build_within_mission_folds(expression: pd.DataFrame, metadata: pd.DataFrame, *, tissue: str, task_id: str,
                               missions: Sequence[str], protocol: str = "strict",
                               min_per_class: int = MIN_PER_CLASS) -> tuple[dict[str, list[F.Fold]], dict[str, str]]:
    """(mission -> its LOO folds, mission -> why it was skipped)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    meta = F._prepare_metadata(metadata, tissue)
    expression = expression.copy(deep=False)
    expression.columns = expression.columns.astype(str)
    expression.index = expression.index.astype(str)
    out, skipped = {}, {}
    for mission in sorted(missions):
        rows = meta[meta["mission"] == mission]
        binary = F.binary_samples(rows)
        dist = F.label_distribution(binary["label"])
        if min(dist.values()) < min_per_class:
            skipped[mission] = f"{mission} has {dist} binary samples (< {min_per_class} per class)"
            continue
        ids = list(binary.index)
        F._require_columns(expression, ids, f"{tissue} {mission} expression")
        available = F.observed_genes(expression, ids)
        kept = [s for s in rows.index[~rows["excluded"]] if s in expression.columns]
        expr = expression.loc[available, list(dict.fromkeys(ids + kept))]
        seed_low = LowExpressionFilter(scale="log2").fit(expr, kept) if protocol == "seed" else None
        mission_folds = []
        for sid in ids:
            train, test = binary.drop(index=sid), binary.loc[[sid]]
            train_ids = list(train.index)
            low = seed_low or LowExpressionFilter(scale="log2").fit(expr, train_ids)
            var = VarianceFilter(percentile=F.VAR_PERCENTILE_CUTOFF * 100).fit(expr.loc[list(low.genes_)], train_ids)
            mission_folds.append(F._fold(
                rows, {mission}, train, test, task_id=task_id, tissue=tissue, fold_id=f"loo_{mission}_{sid}",
                test_mission=mission, train_missions=(mission,), protocol=protocol, holdout=False,
                genes=var.genes_, n_genes_before_var_filter=len(low.genes_),
                var_percentile_cutoff=F.VAR_PERCENTILE_CUTOFF, var_threshold=var.threshold_,
                fitted_steps={F.STEP_LOW_EXPRESSION: low.fitted_on, F.STEP_VARIANCE: var.fitted_on,
                              F.STEP_ZSCORE: tuple(train_ids), F.STEP_MODEL_FIT: tuple(train_ids)},
                n_genes_missing=int(len(expression) - len(available))))
        out[mission] = mission_folds
    return out, skipped


def run_within_mission(expression: pd.DataFrame, folds_by_mission: Mapping[str, Sequence[F.Fold]], *,
                       model: str = "pca_lr", seed: int = DEFAULT_SEED) -> dict[str, dict]:
    """mission -> {auroc, n, n_flight, n_ground, scores: {sample: P(Flight)}, labels: {sample: label}}."""
    results = {}
    for mission, mission_folds in folds_by_mission.items():
        scores, labels = {}, {}
        for fold in mission_folds:
            X_train, y_train, X_test = F.fold_matrices(fold, expression)
            X_fit, y_fit = F.model_fit_rows(fold, X_train, y_train)
            s, _ = fit_predict(model, X_fit.to_numpy(), y_fit.to_numpy(), X_test.to_numpy(), seed=seed)
            scores[fold.test_ids[0]] = float(s[0])
            labels[fold.test_ids[0]] = float(F.fold_test_labels(fold).iloc[0])
        y = np.array(list(labels.values()))
        results[mission] = {"auroc": metrics.auroc(y, np.array([scores[k] for k in labels])), "n": len(y),
                            "n_flight": int((y == 1).sum()), "n_ground": int((y == 0).sum()),
                            "scores": scores, "labels": labels}
    return results


def cross_mission_penalty(within: Mapping[str, float], lomo: Mapping[str, float]) -> dict[str, dict]:
    """Per mission with both numbers: within-mission LOO AUROC, LOMO AUROC, and within - LOMO."""
    return {m: {"within_loo_auroc": float(within[m]), "lomo_auroc": float(lomo[m]),
                "cross_mission_penalty": float(within[m]) - float(lomo[m])}
            for m in sorted(set(within) & set(lomo))}


def within_loo_published(results: Mapping[str, dict], *, task_id: str, tissue: str,
                         tracks: Mapping[str, str] | None = None, notes: Mapping[str, str] | None = None) -> dict:
    """``A4_within_loo.json``'s layout: task, tissue, method, results per mission."""
    tracks, notes = tracks or {}, notes or {}
    return {"task": task_id, "tissue": tissue, "method": METHOD,
            "results": {m: {"auroc": r["auroc"], "n": r["n"], "n_flight": r["n_flight"], "n_ground": r["n_ground"],
                            "track": tracks.get(m), "note": notes.get(m, "")} for m, r in results.items()}}
