"""Fitted preprocessing steps of SPEC §4 steps 3-5, in the spirit of sklearn transformers.

Every step works on the data-contract orientation, **genes x samples** (rows = genes, columns =
sample ids), and is fitted by naming the sample ids it may look at::

    step = VarianceFilter().fit(expression, train_ids)   # reads only expression[train_ids]
    kept = step.transform(expression)                     # any samples, the kept genes
    step.fitted_on                                        # -> tuple of the sample ids it saw

The step selects the columns itself, so `fitted_on` is a record of what was actually read, not a
claim by the caller; the leakage check "every fitted step saw training samples only" relies on it.

Missing genes (NaN, a gene absent from a study): a gene that is NaN in any sample a step is fitted
on is dropped by that step — a gene missing in any training or test mission cannot be a feature
(the seed intersected genes across missions). The fold builder additionally drops genes missing in
the test samples, which the strict-protocol steps never see (see `folds.observed_genes`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pandas as pd

__all__ = ["LowExpressionFilter", "VarianceFilter", "TrainZScore", "min_samples_required"]


def _select(X: pd.DataFrame, sample_ids: Sequence[str] | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Columns `sample_ids` of X (all columns when None); a missing id is an error, never skipped."""
    if sample_ids is None:
        sample_ids = list(X.columns)
    ids = tuple(str(s) for s in sample_ids)
    if not ids:
        raise ValueError("cannot fit on zero samples")
    if len(set(ids)) != len(ids):
        raise ValueError("sample ids to fit on contain duplicates")
    missing = list(pd.Index(ids).difference(X.columns))
    if missing:
        raise KeyError(f"{len(missing)} sample ids not in the matrix columns, e.g. {missing[:5]}")
    return X.loc[:, list(ids)], ids


def _row_major(frame: pd.DataFrame) -> np.ndarray:
    """float64, C-ordered: per-gene (row) reductions on a column-major copy are several times slower."""
    return np.ascontiguousarray(frame.to_numpy(dtype=float))


def _check_fitted(step) -> None:
    if step.fitted_on is None:
        raise RuntimeError(f"{type(step).__name__} is not fitted; call fit(X, sample_ids) first")


def min_samples_required(n_samples: int, fraction: float) -> int:
    """ceil(fraction * n) computed exactly: 0.20 * 15 is 3.0000000000000004 in floating point, and a
    float ceil would demand 4 samples instead of 3."""
    return math.ceil(Fraction(str(fraction)) * n_samples)


class _GeneSelector:
    """Shared part of the two filters: the kept genes, in the input's row order."""

    fitted_on: tuple[str, ...] | None = None
    genes_: tuple[str, ...]

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        _check_fitted(self)
        missing = list(pd.Index(self.genes_).difference(X.index))
        if missing:
            raise KeyError(f"{type(self).__name__}: {len(missing)} kept genes not in the matrix, e.g. {missing[:5]}")
        return X.loc[list(self.genes_)]

    def fit_transform(self, X: pd.DataFrame, sample_ids: Sequence[str] | None = None) -> pd.DataFrame:
        return self.fit(X, sample_ids).transform(X)

    @property
    def n_genes_(self) -> int:
        _check_fitted(self)
        return len(self.genes_)


class LowExpressionFilter(_GeneSelector):
    """SPEC §4 step 3: keep genes with normalized count > `min_count` (1) in >= ceil(0.20 N) of the
    N samples it is fitted on.

    Input scale (`scale`):
    - "log2" (default): the contract's expression, log2(normalized count + 1). We take this one
      because it is the artefact every fold already holds; since log2(x + 1) is strictly increasing,
      `count > 1` is exactly `log2(count + 1) > log2(2) = 1`, so the kept genes are the same.
    - "counts": DESeq2 normalized counts (not logged), threshold `min_count` itself.
    NaN (gene absent from the sample's study) drops the gene: it cannot be a feature.
    """

    def __init__(self, min_count: float = 1.0, min_fraction: float = 0.20, scale: str = "log2"):
        if scale not in ("log2", "counts"):
            raise ValueError(f"scale must be 'log2' or 'counts', got {scale!r}")
        self.min_count = float(min_count)
        self.min_fraction = float(min_fraction)
        self.scale = scale
        self.fitted_on = None

    @property
    def threshold(self) -> float:
        return math.log2(self.min_count + 1.0) if self.scale == "log2" else self.min_count

    def fit(self, X: pd.DataFrame, sample_ids: Sequence[str] | None = None) -> "LowExpressionFilter":
        sub, ids = _select(X, sample_ids)
        values = _row_major(sub)
        observed = ~np.isnan(values).any(axis=1)
        with np.errstate(invalid="ignore"):
            n_expressed = (values > self.threshold).sum(axis=1)
        self.min_samples_ = min_samples_required(len(ids), self.min_fraction)
        keep = observed & (n_expressed >= self.min_samples_)
        self.genes_ = tuple(map(str, sub.index[keep]))
        self.n_missing_ = int((~observed).sum())
        self.fitted_on = ids
        return self


class VarianceFilter(_GeneSelector):
    """SPEC §4 step 4: per-gene variance (ddof = 1) over the fitted samples (the training missions'
    binary samples); threshold = the `percentile` (25th) of those variances with linear
    interpolation (numpy's default); keep genes with variance >= threshold (about 75 %).
    Genes with NaN in any fitted sample are dropped before the percentile is taken."""

    def __init__(self, percentile: float = 25.0):
        if not 0.0 <= percentile <= 100.0:
            raise ValueError(f"percentile must be in [0, 100], got {percentile}")
        self.percentile = float(percentile)
        self.fitted_on = None

    def fit(self, X: pd.DataFrame, sample_ids: Sequence[str] | None = None) -> "VarianceFilter":
        sub, ids = _select(X, sample_ids)
        if len(ids) < 2:
            raise ValueError("variance with ddof=1 needs at least 2 samples")
        values = _row_major(sub)
        observed = ~np.isnan(values).any(axis=1)
        if not observed.any():
            raise ValueError("every gene is missing (NaN) in some fitted sample")
        var = values[observed].var(axis=1, ddof=1)
        self.threshold_ = float(np.percentile(var, self.percentile, method="linear"))
        keep = np.zeros(len(values), dtype=bool)
        keep[observed] = var >= self.threshold_
        self.genes_ = tuple(map(str, sub.index[keep]))
        self.variances_ = pd.Series(var, index=sub.index[observed].astype(str), name="variance")
        self.fitted_on = ids
        return self


class TrainZScore:
    """SPEC §4 step 5: z = (x - mean) / sd with the fitted samples' mean and SD (ddof = 1); SD 0 -> 1.

    "SD 0" includes the round-off of a constant gene (the mean of n equal floats is not always that
    float, leaving an SD of ~1e-17): like sklearn's StandardScaler we treat sd < 10 * eps * max(1, |mean|)
    as zero, so a constant gene becomes ~0 rather than noise blown up to +-1."""

    def __init__(self):
        self.fitted_on = None

    def fit(self, X: pd.DataFrame, sample_ids: Sequence[str] | None = None) -> "TrainZScore":
        sub, ids = _select(X, sample_ids)
        if len(ids) < 2:
            raise ValueError("SD with ddof=1 needs at least 2 samples")
        values = _row_major(sub)
        if np.isnan(values).any():
            raise ValueError("TrainZScore got NaN in the fitted samples; drop missing genes first")
        mean = values.mean(axis=1)
        sd = values.std(axis=1, ddof=1)
        tiny = 10 * np.finfo(float).eps * np.maximum(1.0, np.abs(mean))
        sd = np.where(sd < tiny, 1.0, sd)
        self.mean_ = pd.Series(mean, index=sub.index, name="mean")
        self.scale_ = pd.Series(sd, index=sub.index, name="sd")
        self.fitted_on = ids
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Genes x samples, the fitted genes in fitted order, z-scored with the fitted mean and SD."""
        _check_fitted(self)
        missing = self.mean_.index.difference(X.index)
        if len(missing):
            raise KeyError(f"TrainZScore: {len(missing)} fitted genes not in the matrix, e.g. {list(missing[:5])}")
        values = X.loc[self.mean_.index].to_numpy(dtype=float)
        z = (values - self.mean_.to_numpy()[:, None]) / self.scale_.to_numpy()[:, None]
        return pd.DataFrame(z, index=self.mean_.index, columns=X.columns)

    def fit_transform(self, X: pd.DataFrame, sample_ids: Sequence[str] | None = None) -> pd.DataFrame:
        return self.fit(X, sample_ids).transform(X)
