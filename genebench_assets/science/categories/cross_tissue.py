"""Category C, method C (SPEC §8): pathway-level cross-tissue transfer on the release.

Train tissue -> test tissue: the top 20 Hallmark pathways by |mean NES| over the training
tissue's fgsea results (training tissue only: no test label enters the features), their GSVA
scores, StandardScaler, LogisticRegression (lbfgs, L2, C 1, balanced, max_iter 1000, seed 42);
AUROC of the test tissue's binary samples, bootstrap CI (2000) and permutation p (10,000) with
the published ``RandomState(42)`` streams (``metrics``, mode ``seed_randomstate``).

What the published numbers depend on, reproduced here:
- pathway ranking: fgsea files concatenated in the published mission order, ``groupby`` mean
  NES, sorted by |mean| descending (pandas' default sort), first 20;
- samples: GSVA ids matched to the task files' ids; when at least 5 match directly, in sorted id
  order, else (gastrocnemius, ``MISSION.`` prefixed) in the task files' order;
- features cast to float32 before scaling, as published.
Methods A and B need gene-level matrices, which the release does not hold; the seed's method B
takes its gene list from the test tissue's labels (leakage, issue 11 defect 1) and is not run here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from genebench_assets.science.categories import release_samples
from genebench_assets.science.categories.release_samples import DuplicateRows
from genebench_assets.science.evaluation import metrics

TASKS = {
    "C1": ("liver", "kidney"),
    "C2": ("liver", "gastrocnemius"),
    "C3": ("liver", "thymus"),
    "C4": ("thymus", "kidney"),
}
# the published cross-tissue script's mission lists (thymus without MHU-1: its samples are read
# from the MHU-2 file, which repeats them)
SEED_MISSIONS = {
    "liver": ("RR-1", "RR-3", "RR-6", "RR-8", "RR-9", "MHU-2"),
    "kidney": ("RR-1", "RR-3", "RR-7"),
    "thymus": ("RR-6", "MHU-2", "RR-9"),
    "gastrocnemius": ("RR-1", "RR-5", "RR-9"),
    "eye": ("RR-1", "RR-3", "TBD"),
}
TOP_N = 20
N_BOOTSTRAP = 2000
N_PERMUTATIONS = 10_000


class CrossTissueError(ValueError):
    """Inputs do not allow a cross-tissue transfer (message names tissue, file and value)."""


def fgsea_table(release_dir: Path | str, tissue: str, db: str = "hallmark") -> pd.DataFrame:
    """The tissue's fgsea results over its missions, concatenated in the published order."""
    base = Path(release_dir) / "processed" / "fgsea" / tissue
    parts = [pd.read_csv(base / f"{m}_fgsea_{db}.csv") for m in SEED_MISSIONS[tissue]
             if (base / f"{m}_fgsea_{db}.csv").is_file()]
    if not parts:
        raise CrossTissueError(f"no fgsea file for {tissue} ({db}) under {base}")
    return pd.concat(parts, ignore_index=True)


def select_top_pathways(fgsea: pd.DataFrame, top_n: int = TOP_N) -> pd.DataFrame:
    """Pathways ranked by |mean NES| across missions (first ``top_n``), with mean NES, number of
    missions and of significant missions."""
    agg = (fgsea.groupby("pathway")
           .agg(mean_NES=("NES", "mean"), abs_mean_NES=("NES", lambda x: abs(x.mean())),
                n_missions=("mission", "nunique"), n_significant=("padj", lambda x: (x < 0.05).sum()))
           .sort_values("abs_mean_NES", ascending=False))
    return agg.head(top_n)


def align_to_labels(score_ids: pd.Index, labels: pd.Series) -> tuple[list[str], pd.Series]:
    """(GSVA row ids, labels in that order) as the published ``_align_samples``: direct matches
    in sorted order when there are at least 5, else labels' ``MISSION.`` prefix stripped, in
    the labels' order."""
    direct = sorted(set(score_ids) & set(labels.index))
    if len(direct) >= 5:
        return direct, labels.loc[direct]
    score_set = set(score_ids)
    rows, keep = [], []
    for lab in labels.index:
        stripped = re.sub(r"^[^.]+\.", "", str(lab), count=1)
        if stripped in score_set:
            rows.append(stripped)
            keep.append(lab)
    return rows, labels.loc[keep]


def tissue_scores(release_dir, tissue: str, db: str, protocol: str) -> pd.DataFrame:
    """GSVA scores of every mission of the tissue: ``seed`` the published list (thymus MHU-1
    samples from the MHU-2 file's repeat), ``strict`` every mission, each sample from its own file."""
    if protocol == "seed":
        scores, _ = release_samples.stacked_scores(release_dir, tissue, db, SEED_MISSIONS[tissue], DuplicateRows.SEED_LAST)
    else:
        scores, _ = release_samples.stacked_scores(release_dir, tissue, db, release_samples.SEED_TISSUE_MISSIONS[tissue],
                                                   DuplicateRows.OWN_MISSION)
    return scores


def transfer_inputs(release_dir, train_tissue: str, test_tissue: str, db: str = "hallmark", protocol: str = "seed"):
    """Features and labels of one pair: (X_train, y_train, X_test, y_test, selection table)."""
    fgsea = fgsea_table(release_dir, train_tissue, db)
    selection = select_top_pathways(fgsea)
    selection.attrs["tissues"] = sorted(fgsea["tissue"].astype(str).unique()) if "tissue" in fgsea.columns else [train_tissue]
    train_scores = tissue_scores(release_dir, train_tissue, db, protocol)
    test_scores = tissue_scores(release_dir, test_tissue, db, protocol)
    pathways = [p for p in selection.index if p in train_scores.columns and p in test_scores.columns]
    if len(pathways) < 3:
        raise CrossTissueError(f"{train_tissue}->{test_tissue}: only {len(pathways)} selected pathways scored in both tissues")
    y_train_all, _ = release_samples.lomo_labels(release_dir, train_tissue)
    y_test_all, _ = release_samples.lomo_labels(release_dir, test_tissue)
    tr_rows, y_train = align_to_labels(train_scores.index, y_train_all)
    te_rows, y_test = align_to_labels(test_scores.index, y_test_all)
    X_train = train_scores.loc[tr_rows, pathways]
    X_test = test_scores.loc[te_rows, pathways]
    X_train.index, X_test.index = y_train.index, y_test.index
    return X_train, y_train, X_test, y_test, selection


def fit_transfer(X_train: pd.DataFrame, y_train: pd.Series, X_test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Scaler + LR fit on the training tissue only; (test scores, coefficients)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    X_tr = scaler.fit_transform(X_train.values.astype(np.float32))
    X_te = scaler.transform(X_test.values.astype(np.float32))
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000, random_state=42)
    # scikit-learn < 1.8 (the published run) fit lbfgs in float64 whatever the input dtype;
    # newer versions keep float32, which moves the coefficients in the 7th digit
    model.fit(X_tr.astype(np.float64), y_train.values.astype(int))
    return model.predict_proba(X_te.astype(np.float64))[:, 1], model.coef_[0]


def method_c(release_dir, task_id: str, db: str = "hallmark", protocol: str = "seed", *,
             n_bootstrap: int = N_BOOTSTRAP, n_permutations: int = N_PERMUTATIONS, check: bool = True) -> dict:
    """One C task, method C, in the published ``tasks.<C>.method_c`` layout plus the selection.
    ``check=False`` leaves the train/test disjointness to the caller (the Dagster asset check)."""
    from genebench_assets.science.protocols import check_protocol

    check_protocol(protocol, "cross-tissue protocol")
    train_tissue, test_tissue = TASKS[task_id]
    X_train, y_train, X_test, y_test, selection = transfer_inputs(release_dir, train_tissue, test_tissue, db, protocol)
    if check:
        check_disjoint(X_train.index, X_test.index, task_id)
    scores, coef = fit_transfer(X_train, y_train, X_test)
    y = y_test.values.astype(int)
    auroc = metrics.auroc(y, scores)
    lo, hi = metrics.bootstrap_auroc_ci(y, scores, n_bootstrap, "seed_randomstate")
    p = metrics.permutation_p(y, scores, n_permutations, "seed_randomstate")
    pathways = list(X_train.columns)
    importance = sorted(zip(pathways, coef), key=lambda x: abs(x[1]), reverse=True)
    return {
        "auroc": auroc, "ci_low": lo, "ci_high": hi, "perm_p": p, "n_features": len(pathways),
        "top_features": [[name, float(c)] for name, c in importance[:10]],
        "selected_pathways": pathways, "selection_tissues": selection.attrs["tissues"],
        "coefficients": {name: float(c) for name, c in zip(pathways, coef)},
        "n_train": int(len(y_train)), "n_test": int(len(y_test)),
        "train_samples": list(map(str, y_train.index)), "test_scores": {str(s): float(v) for s, v in zip(y_test.index, scores)},
    }


def check_disjoint(train_ids, test_ids, what: str) -> None:
    """Cross-tissue train/test disjointness: no sample id on both sides."""
    both = sorted(set(map(str, train_ids)) & set(map(str, test_ids)))
    if both:
        raise CrossTissueError(f"{what}: sample {both[0]!r} is in both the training and the test tissue ({len(both)} shared)")
