"""Metrics per task type (SPEC §12), fold means and a bootstrap CI of the fold mean.

AUROC and the bootstrap draws come from ``science.evaluation.metrics`` (one implementation,
bit-identical to scikit-learn), the vectorized bootstrap macro-F1 from ``multiclass_metrics``;
fold AUPRC, F1 and accuracy are scikit-learn's. The bootstrap recomputes only the metric asked for,
over all draws at once where a row-wise form exists (AUROC, AUPRC, micro-F1, the seed's macro-F1):
a scikit-learn call per draw cost ~50 s per task on the 26,000-gene tasks (I1, I3). ``auprc_rows``
and ``micro_f1_rows`` replay scikit-learn's float operations and are tested bit-identical to it.

``label_list``: the seed computes macro-F1 over the labels present in the fold's truth and
predictions (scikit-learn's default); ``strict`` uses the task's fixed class list (SPEC §12), so a
class a model never predicts and the fold lacks still counts. Passing ``None`` gives the seed's."""

from __future__ import annotations

import numpy as np

from genebench_assets.science.evaluation.metrics import (
    Randomness, _pairwise_sum_rows, auroc_rows, bootstrap_indices, threshold_counts)
from genebench_assets.science.evaluation.multiclass_metrics import macro_f1_rows

METRICS_BY_TYPE = {"binary_classification": ("auroc", "auprc", "f1"),
                   "multi_class_classification": ("accuracy", "macro_f1"),
                   "multilabel_classification": ("micro_f1", "macro_f1")}


def _auroc(y_true, y_score) -> float:
    y_true = np.asarray(y_true, dtype=float)
    if y_score.ndim != 1:
        return float("nan")
    return float(auroc_rows(y_true[None, :], np.asarray(y_score, dtype=float)[None, :])[0])


def _auprc(y_true, y_score) -> float:
    from sklearn.metrics import average_precision_score

    if len(np.unique(y_true)) < 2 or np.asarray(y_score).ndim != 1:
        return float("nan")
    return float(average_precision_score(y_true, y_score))


def auprc_rows(Y: np.ndarray, S: np.ndarray) -> np.ndarray:
    """``average_precision_score`` of every row of 0/1 labels ``Y`` (B, n) against scores ``S``
    (B, n), bit-identical to scikit-learn's: precision and recall at each distinct score (ties as
    one threshold), reversed, ``-sum(diff(recall) * precision[:-1])`` with numpy's pairwise sum,
    clipped at 0. NaN where a row has one class (as ``_auprc``)."""
    Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
    S = np.atleast_2d(np.asarray(S, dtype=np.float64))
    order = np.argsort(-S, axis=1, kind="stable")
    ss = np.take_along_axis(S, order, axis=1)
    ys = np.take_along_axis(Y, order, axis=1)
    b, n = ss.shape
    fps, tps, n_thr, n_pos = threshold_counts(ys, ss)
    out = np.full(b, np.nan)
    valid = (n_pos > 0) & (n_pos < n)
    for m in np.unique(n_thr[valid]):
        rows = np.flatnonzero(valid & (n_thr == m))
        t, f = tps[rows, :m], fps[rows, :m]
        precision = t / (t + f)                        # t + f >= 1 at every threshold
        recall = t / t[:, -1:]
        prec_rev = np.hstack([precision[:, ::-1], np.ones((len(rows), 1))])
        rec_rev = np.hstack([recall[:, ::-1], np.zeros((len(rows), 1))])
        terms = (rec_rev[:, 1:] - rec_rev[:, :-1]) * prec_rev[:, :-1]
        out[rows] = np.maximum(0.0, -_pairwise_sum_rows(np.ascontiguousarray(terms)))
    return out


def micro_f1_rows(T: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Multilabel micro-F1 of every draw: ``T``, ``P`` (B, n, L) 0/1, as scikit-learn computes it
    (``2 tp / (n_true + n_pred)`` over all cells, 0 when both are 0)."""
    tp = (T.astype(bool) & P.astype(bool)).sum(axis=(1, 2)).astype(np.float64)
    denom = 1.0 * T.sum(axis=(1, 2)).astype(np.float64) + P.sum(axis=(1, 2)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2.0 * tp / np.where(denom > 0, denom, 1.0), 0.0)


def fold_metrics(task_type: str, y_true, y_pred, y_score, label_list=None) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    y_true, y_pred, y_score = np.asarray(y_true), np.asarray(y_pred), np.asarray(y_score)
    if task_type == "binary_classification":
        return {"auroc": _auroc(y_true, y_score), "auprc": _auprc(y_true, y_score),
                "f1": float(f1_score(y_true, y_pred, zero_division=0))}
    if task_type == "multi_class_classification":
        return {"accuracy": float(accuracy_score(y_true, y_pred)),
                "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=label_list, zero_division=0))}
    if task_type == "multilabel_classification":
        return {"micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
                "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0))}
    raise ValueError(f"task_type: unknown value {task_type!r}")


def _one_metric(task_type: str, metric: str, y_true, y_pred, y_score, label_list=None) -> float:
    """One metric of ``fold_metrics``, without computing the others."""
    from sklearn.metrics import accuracy_score, f1_score

    if metric == "auroc":
        return _auroc(y_true, y_score)
    if metric == "auprc":
        return _auprc(y_true, y_score)
    if metric == "accuracy":
        return float(accuracy_score(y_true, y_pred))
    if metric == "f1" and task_type == "binary_classification":
        return float(f1_score(y_true, y_pred, zero_division=0))
    return fold_metrics(task_type, y_true, y_pred, y_score, label_list)[metric]


def aggregate(per_fold: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and population std over folds, NaN folds left out (as the seed), rounded to 4 places."""
    out = {}
    for k in per_fold[0] if per_fold else []:
        vals = [f[k] for f in per_fold if not np.isnan(f.get(k, float("nan")))]
        if vals:
            out[k] = {"mean": round(float(np.mean(vals)), 4), "std": round(float(np.std(vals)), 4)}
    return out


def bootstrap_fold_mean_ci(task_type: str, metric: str, folds: list[tuple], label_list=None,
                           n_boot: int = 200, seed: int = 42) -> tuple[float, float]:
    """95 % percentile CI of the fold-mean ``metric``: each fold's test rows resampled with
    replacement (independent streams per fold, ``Randomness('strict')``), the metric recomputed,
    then averaged over folds per draw. ``folds``: [(y_true, y_pred, y_score), ...]."""
    draws = []
    for i, (yt, yp, ys) in enumerate(folds):
        yt, yp, ys = np.asarray(yt), np.asarray(yp), np.asarray(ys)
        idx = bootstrap_indices(len(yt), n_boot, Randomness("strict", seed=seed, fold_index=i))
        if metric == "auroc" and ys.ndim == 1:
            vals = auroc_rows(yt[idx].astype(float), ys[idx])
        elif metric == "auprc" and ys.ndim == 1:
            vals = auprc_rows(yt[idx], ys[idx])
        elif metric == "micro_f1" and task_type == "multilabel_classification":
            vals = micro_f1_rows(yt[idx], yp[idx])
        elif metric == "macro_f1" and task_type == "multi_class_classification" and label_list is None:
            k = int(max(yt.max(), yp.max())) + 1      # encoded classes 0..K-1 (seed label semantics)
            vals = macro_f1_rows(yt[idx].astype(int), yp[idx].astype(int), k)
        else:
            vals = np.array([_one_metric(task_type, metric, yt[j], yp[j], ys[j], label_list) for j in idx])
        draws.append(vals)
    stacked = np.vstack(draws)
    means = np.nanmean(stacked, axis=0) if not np.isnan(stacked).all() else stacked[0]
    means = means[~np.isnan(means)]
    if len(means) == 0:
        return float("nan"), float("nan")
    return round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)
