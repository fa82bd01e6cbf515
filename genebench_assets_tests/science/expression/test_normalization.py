"""DESeq2 median-of-ratios size factors (pydeseq2) against R DESeq2 1.38.3, and the error cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.expression.normalization import (
    NormalizationError,
    deseq2_size_factors,
    log2_normalized,
    normalize_counts,
)
from genebench_assets_tests.conftest import shared_path


def _reference(case: str) -> tuple[pd.DataFrame, pd.Series]:
    counts = pd.read_csv(shared_path("reference_outputs", f"counts_{case}.csv"), index_col=0)
    r_sf = pd.read_csv(shared_path("reference_outputs", f"deseq2_size_factors_{case}.csv"), index_col=0)
    return counts, r_sf["size_factor"]


@pytest.mark.parametrize("case", ["small", "large"])
def test_size_factors_equal_r_deseq2(case):
    counts, r_sf = _reference(case)
    # The reference matrices contain genes with zeros: the zero handling is exercised too.
    assert (counts == 0).any(axis=1).any()
    sf = deseq2_size_factors(counts)
    assert list(sf.index) == list(counts.columns)
    max_diff = float(np.abs(sf - r_sf.reindex(sf.index)).max())
    print(f"\nsize factors {case}: max |pydeseq2 - R DESeq2 1.38.3| = {max_diff:.3e}")
    assert max_diff <= 1e-10, f"{case}: max |diff| = {max_diff:.3e}"


def _manual_median_of_ratios(counts: pd.DataFrame) -> pd.Series:
    """R's estimateSizeFactorsForMatrix written out, as an independent oracle for synthetic data."""
    with np.errstate(divide="ignore"):
        log = np.log(counts.to_numpy(dtype=float))
    loggeomeans = log.mean(axis=1)
    keep = np.isfinite(loggeomeans)
    return pd.Series(np.exp(np.median(log[keep] - loggeomeans[keep, None], axis=0)), index=counts.columns)


def _counts(n_genes=300, n_samples=6, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mu = rng.lognormal(4, 1.5, n_genes)[:, None] * rng.uniform(0.5, 2.0, n_samples)[None, :]
    values = rng.negative_binomial(5, 5 / (5 + mu))
    return pd.DataFrame(values, index=[f"G{i}" for i in range(n_genes)], columns=[f"S{j}" for j in range(n_samples)])


def test_genes_with_a_zero_are_left_out_as_in_deseq2():
    counts = _counts()
    counts.iloc[:40, 2] = 0  # 40 genes with a zero in one sample
    sf = deseq2_size_factors(counts)
    without_zero_genes = deseq2_size_factors(counts.iloc[40:])
    pd.testing.assert_series_equal(sf, without_zero_genes, check_names=False)
    np.testing.assert_allclose(sf.to_numpy(), _manual_median_of_ratios(counts).to_numpy(), rtol=1e-12)


def test_size_factors_scale_with_depth():
    counts = _counts()
    doubled = counts.copy()
    doubled["S0"] *= 2
    a, b = deseq2_size_factors(counts), deseq2_size_factors(doubled)
    ratio = (b / a).to_numpy()
    # Doubling one sample multiplies its factor by 2 relative to the others (geometric means shift too).
    assert ratio[0] / ratio[1:].mean() == pytest.approx(2.0, rel=1e-9)
    np.testing.assert_allclose(ratio[1:], ratio[1], rtol=1e-12)


def test_normalize_and_log2():
    counts = _counts()
    log2_expr, sf = log2_normalized(counts)
    expected = np.log2(counts.to_numpy(dtype=float) / sf.to_numpy()[None, :] + 1)
    np.testing.assert_allclose(log2_expr.to_numpy(), expected, rtol=1e-12)
    assert log2_expr.shape == counts.shape and (log2_expr.dtypes == "float64").all()
    norm = normalize_counts(counts, sf.iloc[::-1])  # aligned by sample id, not by position
    np.testing.assert_allclose(norm["S0"].to_numpy(), counts["S0"].to_numpy() / sf["S0"])


def test_normalize_counts_needs_every_sample_factor():
    counts = _counts()
    with pytest.raises(ValueError, match="no size factor for sample"):
        normalize_counts(counts, deseq2_size_factors(counts).drop("S3"))


def test_empty_input_is_an_error_naming_the_study():
    with pytest.raises(NormalizationError, match=r"OSD-48: empty count matrix \(0 genes x 0 samples\)"):
        deseq2_size_factors(pd.DataFrame(), study="OSD-48")
    with pytest.raises(NormalizationError, match="empty count matrix"):
        deseq2_size_factors(_counts().iloc[:0])


def test_all_zero_sample_is_an_error_naming_study_and_sample():
    counts = _counts()
    counts["S4"] = 0
    with pytest.raises(NormalizationError, match=r"OSD-137: sample\(s\) with all-zero counts: S4"):
        log2_normalized(counts, study="OSD-137")


def test_every_gene_with_a_zero_is_an_error():
    counts = _counts()
    for j, col in enumerate(counts.columns):  # a zero in every gene, but no sample entirely zero
        counts.iloc[j::counts.shape[1], j] = 0
    assert not (counts == 0).all(axis=0).any()
    with pytest.raises(NormalizationError, match="OSD-245: every gene contains at least one zero"):
        deseq2_size_factors(counts, study="OSD-245")


def test_negative_or_missing_counts_are_errors():
    counts = _counts().astype(float)
    counts.iloc[3, 1] = -1
    with pytest.raises(NormalizationError, match="negative counts in sample.*S1"):
        deseq2_size_factors(counts, study="OSD-1")
    counts.iloc[3, 1] = np.nan
    with pytest.raises(NormalizationError, match="missing or infinite counts in sample.*S1"):
        deseq2_size_factors(counts, study="OSD-1")
