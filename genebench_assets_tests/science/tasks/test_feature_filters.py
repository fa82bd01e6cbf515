import math

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.tasks.feature_filters import (
    LowExpressionFilter,
    TrainZScore,
    VarianceFilter,
    min_samples_required,
)


def _frame(values, genes=None, samples=None):
    values = np.asarray(values, dtype=float)
    genes = genes or [f"G{i}" for i in range(values.shape[0])]
    samples = samples or [f"S{j}" for j in range(values.shape[1])]
    return pd.DataFrame(values, index=genes, columns=samples)


# --- LowExpressionFilter ------------------------------------------------------------------------


def test_min_samples_is_an_exact_ceiling():
    # 0.2 * 15 == 3.0000000000000004 in floating point; a float ceil would say 4.
    assert min_samples_required(15, 0.20) == 3
    assert min_samples_required(5, 0.20) == 1
    assert min_samples_required(16, 0.20) == 4
    assert min_samples_required(10, 0.20) == 2


def test_low_expression_count_must_exceed_one_in_enough_samples():
    counts = _frame([
        [2, 2, 2, 0, 0, 0, 0, 0, 0, 0],  # > 1 in 3 of 10 >= ceil(2): kept
        [2, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # > 1 in 1 of 10: dropped
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],  # exactly 1 is not > 1: dropped
        [1.01, 1.01, 0, 0, 0, 0, 0, 0, 0, 0],  # just above 1 in 2: kept
    ])
    on_counts = LowExpressionFilter(scale="counts").fit(counts)
    on_log2 = LowExpressionFilter(scale="log2").fit(np.log2(counts + 1))
    assert on_counts.genes_ == ("G0", "G3")
    # log2(x + 1) > log2(2) is the same rule
    assert on_log2.genes_ == on_counts.genes_
    assert on_log2.threshold == 1.0
    assert on_counts.min_samples_ == 2


def test_low_expression_fits_only_the_named_samples_and_records_them():
    X = _frame([[5, 5, 0, 0, 0, 0], [0, 0, 5, 5, 5, 5]])
    f = LowExpressionFilter().fit(X, ["S2", "S3", "S4", "S5"])
    assert f.fitted_on == ("S2", "S3", "S4", "S5")
    assert f.genes_ == ("G1",)  # G0 is expressed only in samples the filter did not see
    assert list(f.transform(X).index) == ["G1"]
    assert list(f.transform(X).columns) == list(X.columns)


def test_low_expression_drops_genes_missing_in_a_fitted_sample():
    X = _frame([[5, 5, np.nan, 5], [5, 5, 5, 5]])
    f = LowExpressionFilter().fit(X)
    assert f.genes_ == ("G1",)
    assert f.n_missing_ == 1


def test_filters_refuse_unfitted_use_and_unknown_samples():
    X = _frame(np.ones((2, 3)))
    with pytest.raises(RuntimeError):
        LowExpressionFilter().transform(X)
    with pytest.raises(KeyError):
        LowExpressionFilter().fit(X, ["S0", "nope"])
    with pytest.raises(ValueError):
        LowExpressionFilter(scale="ln")


# --- VarianceFilter -------------------------------------------------------------------------------


def test_variance_filter_keeps_variance_at_or_above_the_25th_percentile():
    rng = np.random.default_rng(0)
    X = _frame(rng.normal(size=(40, 9)) * rng.uniform(0.1, 3, size=(40, 1)))
    f = VarianceFilter().fit(X)
    var = X.var(axis=1, ddof=1)
    threshold = np.percentile(var.to_numpy(), 25)  # numpy default = linear interpolation
    assert f.threshold_ == pytest.approx(threshold)
    assert f.genes_ == tuple(var.index[var >= threshold])
    assert len(f.genes_) == 40 - math.ceil(0.25 * 39)  # rank 9.75 interpolated: 30 kept, about 75 %


def test_variance_filter_keeps_ties_at_the_threshold():
    # variances 0, 0, 0, 0, 1 -> 25th percentile is 0 and every gene has var >= 0
    X = _frame([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4], [0, 1, 2]])
    f = VarianceFilter().fit(X)
    assert f.threshold_ == 0.0
    assert len(f.genes_) == 5


def test_variance_filter_ignores_samples_it_was_not_fitted_on():
    rng = np.random.default_rng(1)
    X = _frame(rng.normal(size=(20, 8)))
    train = ["S0", "S1", "S2", "S3", "S4"]
    a = VarianceFilter().fit(X, train)
    X2 = X.copy()
    X2[["S5", "S6", "S7"]] = rng.normal(scale=100, size=(20, 3))
    b = VarianceFilter().fit(X2, train)
    assert a.genes_ == b.genes_ and a.threshold_ == b.threshold_
    assert a.fitted_on == tuple(train)


def test_variance_filter_drops_missing_genes_before_the_percentile():
    X = _frame([[0, 1, 2], [0, 2, 4], [np.nan, 1, 1], [0, 3, 6], [0, 4, 8]])
    f = VarianceFilter().fit(X)
    assert "G2" not in f.genes_
    assert f.threshold_ == pytest.approx(np.percentile([1, 4, 9, 16], 25))


# --- TrainZScore ----------------------------------------------------------------------------------


def test_zscore_uses_training_mean_and_sd_ddof1():
    X = _frame([[1, 2, 3, 100], [2, 4, 6, -50]])
    z = TrainZScore().fit(X, ["S0", "S1", "S2"])
    out = z.transform(X)
    assert out.loc["G0", "S0"] == pytest.approx(-1.0)  # mean 2, sd 1 (ddof 1)
    assert out.loc["G1", "S2"] == pytest.approx(1.0)  # mean 4, sd 2
    assert out.loc["G0", "S3"] == pytest.approx(98.0)  # test sample scaled with train stats
    assert z.fitted_on == ("S0", "S1", "S2")


def test_zscore_sd_zero_becomes_one():
    X = _frame([[0.1, 0.1, 0.1, 0.7], [5, 5, 5, 5], [1, 2, 3, 4]])
    out = TrainZScore().fit(X, ["S0", "S1", "S2"]).transform(X)
    assert out.loc["G0", ["S0", "S1", "S2"]].abs().max() < 1e-12  # round-off SD treated as 0
    assert out.loc["G0", "S3"] == pytest.approx(0.6)
    assert (out.loc["G1"].abs() < 1e-12).all()


def test_zscore_refuses_missing_values():
    with pytest.raises(ValueError):
        TrainZScore().fit(_frame([[1, np.nan, 3]]))
