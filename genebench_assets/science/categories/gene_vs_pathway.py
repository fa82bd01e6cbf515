"""J5 gene vs pathway, the pathway half on the release (SPEC §8): the published LOMO with Hallmark
GSVA features for liver, gastrocnemius, kidney, thymus and eye.

As published: binary samples of the tissue's task files aligned to the stacked GSVA scores
(sorted ids when at least 5 match directly, else the ``MISSION.`` prefix stripped, task order),
one fold per mission (sorted) with both classes on each side and at least 3 test samples,
StandardScaler + LogisticRegression (lbfgs, C 1, balanced, max_iter 2000, seed 42), AUROC per
fold and their ``nanmean``. The gene half needs gene-level matrices, which the release does not
hold (it runs on the demo and live/mirror sources only).

Protocols: ``seed`` reads the thymus MHU-1 samples' rows from the MHU-2 file's repeat (issue 11
defect 2, as published); ``strict`` from their own file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genebench_assets.science.categories import release_samples
from genebench_assets.science.categories.cross_tissue import align_to_labels
from genebench_assets.science.categories.release_samples import DuplicateRows
from genebench_assets.science.evaluation import metrics

TISSUES = ("liver", "gastrocnemius", "kidney", "thymus", "eye")


def pathway_lomo_aurocs(release_dir: Path | str, tissue: str, protocol: str = "seed", db: str = "hallmark") -> tuple[float, dict[str, float]]:
    """(mean AUROC, {test mission: AUROC}) of the published J5 pathway LOMO."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from genebench_assets.science.protocols import check_protocol

    check_protocol(protocol, "J5 protocol")
    rule = DuplicateRows.SEED_LAST if protocol == "seed" else DuplicateRows.OWN_MISSION
    scores, _ = release_samples.stacked_scores(release_dir, tissue, db, release_samples.SEED_TISSUE_MISSIONS[tissue], rule)
    y_all, meta = release_samples.lomo_labels(release_dir, tissue)
    rows, y = align_to_labels(scores.index, y_all)
    X = np.nan_to_num(scores.loc[rows].values.astype(float), nan=0.0)
    labels = y.values.astype(int)
    missions = meta.loc[y.index, "mission"].astype(str).values
    per_fold: dict[str, float] = {}
    for test_mission in sorted(set(missions)):
        test = missions == test_mission
        if len(np.unique(labels[test])) < 2 or len(np.unique(labels[~test])) < 2 or test.sum() < 3:
            continue
        scaler = StandardScaler()
        clf = LogisticRegression(solver="lbfgs", class_weight="balanced", max_iter=2000, C=1.0, random_state=42)
        clf.fit(scaler.fit_transform(X[~test]), labels[~test])
        s = clf.predict_proba(scaler.transform(X[test]))[:, 1]
        per_fold[test_mission] = metrics.auroc(labels[test], s)
    mean = float(np.nanmean(list(per_fold.values()))) if per_fold else float("nan")
    return mean, per_fold


def side_by_side(summary, folds) -> dict:
    """J5 on a source with gene-level matrices (demo, live, mirror): Category A's evaluation of the same
    LOMO folds with gene and pathway features, per model. `summary` / `folds`: the evaluation_summary /
    evaluation_folds tables (rows per feature set and model). Returns {"models": {model: {gene_mean_auroc,
    pathway_mean_auroc, difference (pathway - gene), gene_per_fold, pathway_per_fold}}, "missing": ...};
    controls (negative, positive_control:*) are left out: J5 compares feature sets, not controls."""
    sets = set(summary["feature_set"])
    missing = sorted({"genes", "pathways"} - sets)
    out = {"models": {}, "missing_feature_sets": missing}
    if missing:
        return out
    keep = summary[~summary["model"].astype(str).str.contains("control")]
    lomo = folds[~folds["fold_id"].astype(str).str.endswith("_holdout")]
    for model, g in keep.groupby("model", sort=True):
        by_set = g.set_index("feature_set")
        if not {"genes", "pathways"} <= set(by_set.index):
            continue
        per = {fs: {str(r["test_mission"]): float(r["auroc"]) for _, r in
                    lomo[(lomo["model"] == model) & (lomo["feature_set"] == fs)].iterrows()} for fs in ("genes", "pathways")}
        gene, pathway = float(by_set.loc["genes", "mean_auroc"]), float(by_set.loc["pathways", "mean_auroc"])
        out["models"][str(model)] = {"gene_mean_auroc": gene, "pathway_mean_auroc": pathway,
                                     "difference": pathway - gene, "gene_per_fold": per["genes"],
                                     "pathway_per_fold": per["pathways"]}
    return out
