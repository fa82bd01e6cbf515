"""The bootstrap's row-wise metrics equal scikit-learn's bit for bit, so the vectorized CI is the
CI the per-draw scikit-learn loop gave (ties, one-class rows and multilabel draws included)."""

from __future__ import annotations

import numpy as np
import pytest


def _draws(n_rows=300, n=40, seed=0, ties=True):
    rng = np.random.default_rng(seed)
    Y = (rng.random((n_rows, n)) < rng.uniform(0.05, 0.6, (n_rows, 1))).astype(float)
    S = rng.random((n_rows, n))
    if ties:
        S[: n_rows // 2] = np.round(S[: n_rows // 2], 1)     # many tied scores
    Y[0] = 0.0                                                # one class only: NaN
    Y[1] = 1.0
    return Y, S


@pytest.mark.parametrize("ties", [True, False])
def test_auprc_rows_is_bit_identical_to_sklearn(ties):
    from sklearn.metrics import average_precision_score

    from genebench_assets.science.spaceomicsbench.task_metrics import auprc_rows

    Y, S = _draws(ties=ties)
    got = auprc_rows(Y, S)
    assert np.isnan(got[0]) and np.isnan(got[1])
    expected = np.array([average_precision_score(y, s) for y, s in zip(Y[2:], S[2:])])
    assert np.array_equal(got[2:], expected)        # exact, not approx


def test_micro_f1_rows_is_bit_identical_to_sklearn():
    from sklearn.metrics import f1_score

    from genebench_assets.science.spaceomicsbench.task_metrics import micro_f1_rows

    rng = np.random.default_rng(1)
    T = (rng.random((200, 30, 16)) < 0.1).astype(int)
    P = (rng.random((200, 30, 16)) < 0.08).astype(int)
    P[0] = 0
    T[0] = 0                                        # nothing true, nothing predicted: 0
    got = micro_f1_rows(T, P)
    expected = np.array([f1_score(t, p, average="micro", zero_division=0) for t, p in zip(T, P)])
    assert np.array_equal(got, expected)


def test_bootstrap_ci_equals_the_per_draw_sklearn_loop():
    from sklearn.metrics import average_precision_score

    from genebench_assets.science.evaluation.metrics import Randomness, bootstrap_indices
    from genebench_assets.science.spaceomicsbench.task_metrics import bootstrap_fold_mean_ci

    rng = np.random.default_rng(2)
    folds = []
    for _ in range(3):
        y = (rng.random(60) < 0.2).astype(int)
        s = np.round(rng.random(60), 2)
        folds.append((y, (s > 0.5).astype(int), s))
    got = bootstrap_fold_mean_ci("binary_classification", "auprc", folds, n_boot=100)
    draws = []
    for i, (y, _, s) in enumerate(folds):
        idx = bootstrap_indices(len(y), 100, Randomness("strict", seed=42, fold_index=i))
        draws.append([average_precision_score(y[j], s[j]) if len(np.unique(y[j])) == 2 else np.nan for j in idx])
    means = np.nanmean(np.array(draws), axis=0)
    assert got == (round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4))
