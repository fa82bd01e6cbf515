"""Macro-F1 with bootstrap CI and permutation p (category D, SPEC §8), on the same random
streams as the AUROC statistics (``metrics.bootstrap_indices`` / ``permutation_indices``).

The per-draw macro-F1 is computed for all draws at once from per-class counts, with the float
operations of ``sklearn.metrics.f1_score(average="macro", zero_division=0)``: per class
``2 tp / (n_true + n_pred)`` (0 when both are 0), averaged over the classes present in either the
labels or the predictions of that draw (a bootstrap resample can lose a class). Tested equal to
the sklearn loop.
"""

from __future__ import annotations

import numpy as np

from genebench_assets.science.evaluation import metrics


def _encode(y_true, y_pred) -> tuple[np.ndarray, np.ndarray, int]:
    classes = np.unique(np.concatenate([np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str)]))
    t = np.searchsorted(classes, np.asarray(y_true).astype(str))
    p = np.searchsorted(classes, np.asarray(y_pred).astype(str))
    return t, p, len(classes)


def macro_f1_rows(T: np.ndarray, P: np.ndarray, k: int) -> np.ndarray:
    """Macro-F1 of every row of encoded labels ``T`` against predictions ``P`` (same shape)."""
    onehot_t = T[..., None] == np.arange(k)
    onehot_p = P[..., None] == np.arange(k)
    tp = (onehot_t & onehot_p).sum(axis=1).astype(np.float64)
    n_true = onehot_t.sum(axis=1).astype(np.float64)
    n_pred = onehot_p.sum(axis=1).astype(np.float64)
    denom = n_true + n_pred
    present = denom > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(present, 2.0 * tp / np.where(present, denom, 1.0), 0.0)
    # absent classes add +0.0 (exact); sklearn sums only present ones, in class order (k < 8:
    # sequential, as numpy's pairwise sum is below 8 items)
    total = np.zeros(len(f))
    for j in range(k):
        total = total + f[:, j]
    return total / present.sum(axis=1)


def macro_f1(y_true, y_pred) -> float:
    t, p, k = _encode(y_true, y_pred)
    return float(macro_f1_rows(t[None, :], p[None, :], k)[0])


def bootstrap_macro_f1_ci(y_true, y_pred, n_boot: int = 2000, randomness="seed_randomstate",
                          min_valid: int = 100) -> tuple[float, float]:
    """95 % percentile CI over resamples holding at least two true classes (NaN when fewer than
    ``min_valid`` such resamples, or ``n_boot`` = 0)."""
    if n_boot <= 0:
        return float("nan"), float("nan")
    t, p, k = _encode(y_true, y_pred)
    idx = metrics.bootstrap_indices(len(t), n_boot, randomness)
    T, P = t[idx], p[idx]
    multi = T.min(axis=1) != T.max(axis=1)
    vals = macro_f1_rows(T[multi], P[multi], k)
    if len(vals) < min_valid:
        return float("nan"), float("nan")
    return float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))


def permutation_p_macro_f1(y_true, y_pred, n_perm: int = 10_000, randomness="seed_randomstate") -> float:
    """p = (#{macro-F1 of permuted labels >= observed} + 1) / (n_perm + 1)."""
    t, p, k = _encode(y_true, y_pred)
    observed = macro_f1_rows(t[None, :], p[None, :], k)[0]
    idx = metrics.permutation_indices(len(t), n_perm, randomness)
    null = macro_f1_rows(t[idx], np.broadcast_to(p, idx.shape), k)
    return float((np.sum(null >= observed) + 1) / (n_perm + 1))
