"""AUROC from ranks (sklearn's floats, bit for bit), vectorized bootstrap and permutation test
against the straightforward sklearn loops of the published code, for every randomness mode."""

import warnings

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score, roc_curve

from genebench_assets.science.evaluation import metrics


def _random_case(rng, n_min=4, n_max=150):
    """Labels with both classes and scores with many ties (rounded to 1-3 decimals)."""
    while True:
        n = int(rng.integers(n_min, n_max))
        y = (rng.random(n) < rng.uniform(0.15, 0.85)).astype(float)
        if 0 < y.sum() < n:
            return y, np.round(rng.random(n), int(rng.integers(1, 4)))


# ------------------------------------------------------------------ AUROC

def test_auroc_equals_sklearn_bit_for_bit_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(600):
        y, s = _random_case(rng)
        assert metrics.auroc(y, s) == roc_auc_score(y, s)


def test_auroc_equals_sklearn_on_large_sets_and_no_ties():
    # > 128 ROC points exercises numpy's recursive pairwise summation; continuous scores, no ties
    rng = np.random.default_rng(1)
    for n in (129, 200, 300, 700):
        y = (rng.random(n) < 0.4).astype(float)
        for s in (rng.random(n), np.round(rng.random(n), 2)):
            assert metrics.auroc(y, s) == roc_auc_score(y, s)


def test_rank_auroc_is_the_midrank_mann_whitney_value_and_within_an_ulp_of_sklearn():
    rng = np.random.default_rng(2)
    for _ in range(300):
        y, s = _random_case(rng)
        r = rankdata(s)                               # midranks for ties
        n1, n0 = y.sum(), len(y) - y.sum()
        exact = (r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
        assert metrics.auroc_rank(y, s) == pytest.approx(exact, abs=1e-15)
        assert abs(metrics.auroc_rank(y, s) - roc_auc_score(y, s)) <= 2.3e-16   # same number, <= 1 ulp


def test_auroc_rows_batch_equals_sklearn_per_row():
    rng = np.random.default_rng(3)
    y, s = _random_case(rng, 20, 60)
    idx = rng.integers(0, len(y), size=(400, len(y)))
    keep = (y[idx].min(axis=1) == 0) & (y[idx].max(axis=1) == 1)
    got = metrics.auroc_rows(y[idx][keep], s[idx][keep])
    want = np.array([roc_auc_score(y[i], s[i]) for i in idx[keep]])
    assert np.array_equal(got, want)
    # shared scores (permutation layout) give the same as per-row scores
    Y = np.stack([rng.permutation(y) for _ in range(50)])
    assert np.array_equal(metrics.auroc_rows(Y, s), metrics.auroc_rows(Y, np.tile(s, (50, 1))))


def test_single_class_rows_are_nan_and_single_auroc_raises():
    assert np.isnan(metrics.auroc_rows(np.ones((1, 5)), np.arange(5.0))[0])
    with pytest.raises(ValueError, match="both classes"):
        metrics.auroc(np.ones(5), np.arange(5.0))
    with pytest.raises(ValueError, match="finite"):
        metrics.auroc(np.array([0, 1.0]), np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="0 \\(Ground\\) or 1"):
        metrics.auroc(np.array([0, 2.0]), np.array([0.1, 0.2]))


def test_roc_curve_points_equal_sklearn():
    rng = np.random.default_rng(4)
    for _ in range(100):
        y, s = _random_case(rng, 4, 60)
        fpr, tpr = metrics.roc_curve_points(y, s)
        want_fpr, want_tpr, _ = roc_curve(y, s)
        assert np.array_equal(fpr, want_fpr) and np.array_equal(tpr, want_tpr)


def test_pairwise_sum_replays_numpy_sum():
    rng = np.random.default_rng(5)
    for m in list(range(1, 140)) + [255, 256, 300, 1000]:
        a = rng.standard_normal((20, m)) * np.exp(5 * rng.standard_normal((20, m)))
        assert np.array_equal(metrics._pairwise_sum_rows(a), np.array([np.sum(r) for r in a]))


# ------------------------------------------------------------------ draws: all at once == loop

@pytest.mark.parametrize("n", [5, 9, 12, 35, 103])
def test_bootstrap_indices_drawn_at_once_equal_the_loop(n):
    rs = np.random.RandomState(42)
    loop = np.stack([rs.randint(0, n, n) for _ in range(2000)])
    assert np.array_equal(metrics.bootstrap_indices(n, 2000, "seed_randomstate"), loop)
    g = np.random.default_rng(42)
    loop = np.stack([g.integers(0, n, n) for _ in range(2000)])
    assert np.array_equal(metrics.bootstrap_indices(n, 2000, "seed_default_rng"), loop)


@pytest.mark.parametrize("n", [6, 9, 16, 94])
def test_permutation_indices_equal_rng_permutation_of_the_labels(n):
    y = np.random.default_rng(n).random(n)          # distinct values: any index mix-up shows
    for mode, rng in (("seed_randomstate", np.random.RandomState(42)), ("seed_default_rng", np.random.default_rng(42))):
        loop = np.stack([rng.permutation(y) for _ in range(1000)])
        assert np.array_equal(y[metrics.permutation_indices(n, 1000, mode)], loop), mode


# ------------------------------------------------------------------ CI and p == the published loops

def _reference_ci_and_p(y, s, mode, n_boot=2000, n_perm=1000):
    """The published code: one roc_auc_score call per bootstrap / permutation draw."""
    make = (lambda: np.random.RandomState(42)) if mode == "seed_randomstate" else (lambda: np.random.default_rng(42))
    rng = make()
    boots = []
    for _ in range(n_boot):
        idx = rng.randint(0, len(y), len(y)) if mode == "seed_randomstate" else rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) < 2:
            continue
        boots.append(roc_auc_score(y[idx], s[idx]))
    rng = make()
    observed = roc_auc_score(y, s)
    null = np.array([roc_auc_score(rng.permutation(y), s) for _ in range(n_perm)])
    p = float((np.sum(null >= observed) + 1) / (n_perm + 1))
    return float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5)), p


@pytest.mark.parametrize("mode", ["seed_randomstate", "seed_default_rng"])
@pytest.mark.parametrize("case", range(4))
def test_vectorized_ci_and_p_equal_the_sklearn_loop_bit_for_bit(mode, case):
    # fewer draws than the real 2000 / 1000 keep the sklearn loop quick; the draws are prefixes of
    # the same streams, and benchmarks/pathway_lomo.py compares the full counts on real folds
    rng = np.random.default_rng(100 + case)
    n = [6, 12, 16, 40][case]
    y = np.r_[np.ones(n // 2), np.zeros(n - n // 2)]
    s = np.round(y * 0.3 + rng.random(n), 2)          # informative, with ties
    lo, hi, p = _reference_ci_and_p(y, s, mode, n_boot=500, n_perm=300)
    assert metrics.bootstrap_auroc_ci(y, s, 500, mode) == (lo, hi)
    assert metrics.permutation_p(y, s, 300, mode) == p


def test_strict_mode_uses_independent_reproducible_streams_per_fold():
    a0 = metrics.bootstrap_indices(12, 100, metrics.Randomness("strict", fold_index=0))
    a0_again = metrics.bootstrap_indices(12, 100, metrics.Randomness("strict", fold_index=0))
    a1 = metrics.bootstrap_indices(12, 100, metrics.Randomness("strict", fold_index=1))
    assert np.array_equal(a0, a0_again) and not np.array_equal(a0, a1)
    # bootstrap and permutation streams differ within a fold
    r = metrics.Randomness("strict", fold_index=0)
    assert r.generator("bootstrap").integers(0, 1 << 30) != r.generator("permutation").integers(0, 1 << 30)
    with pytest.raises(ValueError, match="unknown randomness"):
        metrics.Randomness("seed")


def test_permutation_null_centres_on_one_half():
    """NC1: computed, not assumed."""
    rng = np.random.default_rng(7)
    y = np.r_[np.ones(20), np.zeros(25)]
    s = y + rng.normal(0, 0.5, len(y))            # a good model: observed AUROC far above 0.5
    for mode in ("seed_randomstate", "seed_default_rng", "strict"):
        null = metrics.permutation_null(y, s, 1000, mode)
        assert abs(null.mean() - 0.5) < 0.01
        assert metrics.permutation_p(y, s, 1000, mode) == pytest.approx(1 / 1001)


def test_bootstrap_drops_single_class_resamples():
    y = np.array([1.0, 0, 0, 0, 0])
    s = np.array([0.9, 0.1, 0.2, 0.3, 0.4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no sklearn "one class" warning path
        vals = metrics.bootstrap_aurocs(y, s, 500, "seed_randomstate")
    idx = metrics.bootstrap_indices(5, 500, "seed_randomstate")
    assert len(vals) == int(((y[idx].min(1) == 0) & (y[idx].max(1) == 1)).sum()) < 500
