"""DESeq2 median-of-ratios normalization (SPEC §4.1), per study.

Size factors come from pydeseq2's `deseq2_norm` (the same median-of-ratios as R's
`estimateSizeFactorsForMatrix`): genes with a zero in any sample have a geometric mean of 0 (log mean
-inf) and are left out of the medians, as R does. We only add the input checks R would fail on, with
messages that name the study. Counts are genes x samples (the project's contract); pydeseq2 wants
samples x genes, hence the transposes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from genebench_assets.science.osdr.source_files import StudyDataError


class NormalizationError(StudyDataError):
    """Counts that median-of-ratios cannot normalize; the message names the study when given."""

    def __init__(self, study: str | None, problem: str):
        super().__init__(study or "counts (study not named)", None, problem)


def _validate(counts: pd.DataFrame, study: str | None) -> np.ndarray:
    """Genes x samples as float64, or a NormalizationError saying what is wrong."""
    if counts.shape[0] == 0 or counts.shape[1] == 0:
        raise NormalizationError(study, f"empty count matrix ({counts.shape[0]} genes x {counts.shape[1]} samples)")
    try:
        values = counts.to_numpy(dtype="float64")
    except (TypeError, ValueError) as exc:
        raise NormalizationError(study, f"counts are not numeric: {exc}") from exc
    if not np.isfinite(values).all():
        bad = counts.columns[~np.isfinite(values).all(axis=0)]
        raise NormalizationError(study, f"missing or infinite counts in sample(s) {', '.join(map(str, bad[:10]))}")
    if (values < 0).any():
        bad = counts.columns[(values < 0).any(axis=0)]
        raise NormalizationError(study, f"negative counts in sample(s) {', '.join(map(str, bad[:10]))}")
    zero_samples = counts.columns[(values == 0).all(axis=0)]
    if len(zero_samples):
        raise NormalizationError(
            study, f"sample(s) with all-zero counts: {', '.join(map(str, zero_samples[:10]))}; "
            "drop them before computing size factors"
        )
    if not (values > 0).all(axis=1).any():
        # R DESeq2: "every gene contains at least one zero, cannot compute log geometric means".
        raise NormalizationError(
            study, f"every gene contains at least one zero ({values.shape[0]} genes x {values.shape[1]} samples): "
            "no gene is expressed in all samples, so median-of-ratios size factors are undefined"
        )
    return values


def deseq2_size_factors(counts: pd.DataFrame, *, study: str | None = None) -> pd.Series:
    """Median-of-ratios size factors of a genes x samples count matrix, one per sample (pydeseq2).

    Raises NormalizationError on an empty matrix, non-finite or negative values, a sample with all-zero
    counts, or no gene expressed in every sample."""
    from pydeseq2.preprocessing import deseq2_norm

    values = _validate(counts, study)
    _, size_factors = deseq2_norm(values.T)  # samples x genes
    return pd.Series(np.asarray(size_factors, dtype="float64"), index=counts.columns, name="size_factor")


def normalize_counts(counts: pd.DataFrame, size_factors: pd.Series) -> pd.DataFrame:
    """Counts divided by each sample's size factor (aligned by sample id), float64."""
    missing = counts.columns.difference(size_factors.index)
    if len(missing):
        raise ValueError(f"no size factor for sample(s) {', '.join(map(str, missing[:10]))}")
    sf = size_factors.reindex(counts.columns).astype("float64")
    if not (np.isfinite(sf) & (sf > 0)).all():
        raise ValueError(f"size factors must be finite and > 0, got {sf[~(np.isfinite(sf) & (sf > 0))].to_dict()}")
    return counts.astype("float64").div(sf, axis=1)


def log2_normalized(counts: pd.DataFrame, *, study: str | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """(log2(normalized count + 1) genes x samples, size factors) for one study's counts."""
    size_factors = deseq2_size_factors(counts, study=study)
    log2_expr = np.log2(normalize_counts(counts, size_factors) + 1.0)
    log2_expr.index.name = counts.index.name
    return log2_expr, size_factors
