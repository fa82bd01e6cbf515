"""Batch corrections across missions, fitted per LOMO fold (issue 21, J3; SPEC §11 seed vs strict).

Methods (``METHODS``), batch = mission:
- ``none``: the matrix as it is (the uncorrected baseline);
- ``limma_rbe``: limma::removeBatchEffect on log2 expression (``remove_batch_effect``, hand-written: limma
  is R-only and there is no maintained Python port of removeBatchEffect; it is a least-squares linear model,
  a few lines of numpy). Columns = an optional design (covariates to keep) and the batch in sum-to-zero
  contrasts (R ``contr.sum``); the fitted batch part is subtracted;
- ``combat_seq``: ComBat-seq (negative binomial, sva::ComBat_seq) on counts through ``inmoose.pycombat``'s
  ``pycombat_seq``; the features are log2(corrected count + 1), as the seed's ``batch_correct.R`` wrote them.

What the seed did (GeneLab_benchmark ``scripts/batch_correct.R``): one fit per tissue on every sample of the
tissue, test missions included — removeBatchEffect(log2 normalized expression, batch = mission) over every
sample kept by QC; ComBat_seq(raw counts of every sample of the count files, batch = mission, group = NULL) —
then LOMO on the corrected matrix. No labels entered either fit (no design / group), but every test mission's
values shaped the training samples' corrected values (ComBat-seq: the pooled reference mean and dispersion;
removeBatchEffect: the grand mean every batch is moved to, a per-gene constant that a training-fitted scaler
absorbs). ``seed`` reproduces that fit (``fit_plan``).

``strict``: the fit sees the fold's training samples only, and training samples are corrected with it. The
test mission is a batch the fit never saw (a new mission): it is corrected from its own, unlabelled samples
toward the training reference — removeBatchEffect: its per-gene mean is moved to the mean of the corrected
training samples; ComBat-seq: ``pycombat_seq`` with the corrected training counts as the reference batch
(``ref_batch``, left unchanged) and the test mission as the other batch, mapped onto it. No test label enters
either; the training side is a function of training samples only. (For linear models one test mission's
AUROC is invariant to a per-gene shift of all its samples, so for LR / PCA-LR this equals leaving the test
uncorrected; for trees it does not.)

``fit_plan`` is the one place that chooses which samples' values and labels enter a fit; every fit records it
(``CorrectionRecord``), and the blocking check (``checks.py``) re-runs the correction with the test labels
flipped and requires the same output.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from genebench_assets.science.protocols import check_protocol, fits_on_training_only

METHODS = ("none", "limma_rbe", "combat_seq")
REFERENCE_BATCH = "__training_reference__"


@dataclasses.dataclass(frozen=True)
class FitPlan:
    fit_ids: tuple[str, ...]  # samples whose values enter the fit
    design: pd.Series | None = None  # label covariate (1.0 / 0.0) per fit sample, None = batch only


@dataclasses.dataclass(frozen=True)
class CorrectionRecord:
    """What entered one fold's correction (JSON-able)."""

    method: str
    protocol: str
    fold_id: str
    fitted_on: tuple[str, ...]
    labels_from: tuple[str, ...]
    test_transform: str

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: Mapping) -> "CorrectionRecord":
        return cls(method=str(d["method"]), protocol=str(d["protocol"]), fold_id=str(d["fold_id"]),
                   fitted_on=tuple(map(str, d["fitted_on"])), labels_from=tuple(map(str, d["labels_from"])),
                   test_transform=str(d["test_transform"]))


def fit_plan(fold, protocol: str, tissue_ids: Sequence[str]) -> FitPlan:
    """seed: every sample of the tissue (test mission included), batch only, as published; strict: the
    fold's training samples, batch only. Neither takes a label: the seed passed no design / group, and a
    label covariate cannot be built for a test mission whose labels are unknown."""
    if fits_on_training_only(check_protocol(protocol)):
        return FitPlan(tuple(map(str, fold.train_ids)))
    return FitPlan(tuple(map(str, tissue_ids)))


def remove_batch_effect(x: pd.DataFrame, batch: Sequence, design: pd.Series | pd.DataFrame | None = None) -> pd.DataFrame:
    """limma::removeBatchEffect(x, batch, design): x genes x samples (no NaN); ``design`` = covariates per
    sample to keep (a Series or DataFrame indexed like x's columns; an intercept is always included).
    lm of every gene on [intercept, design, contr.sum(batch)]; returns x minus the fitted batch part."""
    values = np.asarray(x, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("remove_batch_effect: x holds NaN; restrict to genes observed in every sample")
    batch = pd.Series(list(batch), index=x.columns).astype(str)
    levels = sorted(batch.unique())
    n = len(batch)
    # contr.sum: level i < last -> unit column i; the last level -> -1 in every column
    Xb = np.zeros((n, max(len(levels) - 1, 0)))
    for j, lev in enumerate(levels[:-1]):
        Xb[:, j] = (batch == lev).to_numpy(dtype=float)
    Xb[(batch == levels[-1]).to_numpy(), :] = -1.0
    cov = [np.ones((n, 1))]
    if design is not None:
        d = design.to_frame() if isinstance(design, pd.Series) else design
        cov.append(d.reindex(x.columns).to_numpy(dtype=np.float64))
    X = np.hstack([*cov, Xb])
    beta, *_ = np.linalg.lstsq(X, values.T, rcond=None)  # (columns, genes)
    n_cov = X.shape[1] - Xb.shape[1]
    return pd.DataFrame(values - (Xb @ beta[n_cov:]).T, index=x.index, columns=x.columns)


def combat_seq(counts: pd.DataFrame, batch: Sequence, *, design: pd.Series | None = None,
               ref_batch: str | None = None) -> pd.DataFrame:
    """ComBat-seq (inmoose.pycombat.pycombat_seq, the port of sva::ComBat_seq) on integer counts genes x
    samples; one batch only: nothing to correct, returned as is."""
    batch = [str(b) for b in batch]
    if len(set(batch)) < 2:
        return counts.astype(np.float64)
    import warnings

    from inmoose.pycombat import pycombat_seq

    covar = None if design is None else design.reindex(counts.columns).astype(int).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = pycombat_seq(counts.to_numpy(dtype=np.float64), batch, covar_mod=covar, ref_batch=ref_batch)
    return pd.DataFrame(np.asarray(out, dtype=np.float64), index=counts.index, columns=counts.columns)


def integer_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """The seed's preparation: genes counted in every sample (its intersection across missions), RSEM's
    fractional counts rounded, negatives set to 0."""
    observed = counts.notna().all(axis=1)
    return counts.loc[observed].round().clip(lower=0)


def _design(plan: FitPlan) -> pd.Series | None:
    return None if plan.design is None else plan.design.reindex(list(plan.fit_ids))


def _limma_fold(expr, batch_of, plan, fold_ids, test_ids):
    fit_ids = list(plan.fit_ids)
    fitted = remove_batch_effect(expr[fit_ids], batch_of.loc[fit_ids], _design(plan))
    # the fitted batch part, genes x batch (constant within a batch)
    effect = (expr[fit_ids] - fitted).T.groupby(batch_of.loc[fit_ids].to_numpy()).first().T
    reference = fitted.mean(axis=1)
    out = {}
    for b, ids in pd.Series(fold_ids).groupby(batch_of.loc[fold_ids].to_numpy()):
        ids = list(ids)
        # a batch the fit never saw (strict: the test mission): its own mean moved to the training reference
        shift = effect[b] if b in effect.columns else expr[ids].mean(axis=1) - reference
        out.update({s: expr[s] - shift for s in ids})
    transform = ("fitted with the test mission" if set(test_ids) <= set(fit_ids) else
                 "test mission: its own unlabelled per-gene mean moved to the training reference")
    return pd.DataFrame(out)[list(fold_ids)], transform


def _combat_fold(counts, batch_of, plan, fold_ids, test_ids, cache):
    # The cache key is everything a ComBat-seq call here takes besides the (shared) counts and batches: the
    # fit samples and the design's labels, so a fit with other labels in its design is never reused.
    design = _design(plan)
    key = (plan.fit_ids, None if design is None else tuple(design.astype(float)))
    if key not in cache:
        cache[key] = combat_seq(counts[list(plan.fit_ids)], batch_of.loc[list(plan.fit_ids)], design=design)
    fit = cache[key]
    fitted = set(plan.fit_ids)
    out = {s: fit[s] for s in fold_ids if s in fitted}
    new = [s for s in fold_ids if s not in fitted]
    for b in sorted({batch_of[s] for s in new}):
        ids = [s for s in new if batch_of[s] == b]
        map_key = (key, b, tuple(ids))  # the batch's unlabelled counts mapped onto that fit
        if map_key not in cache:
            both = pd.concat([fit, counts[ids]], axis=1)
            cache[map_key] = combat_seq(both, [REFERENCE_BATCH] * fit.shape[1] + [b] * len(ids),
                                        ref_batch=REFERENCE_BATCH)
        mapped = cache[map_key]
        out.update({s: mapped[s] for s in ids})
    frame = np.log2(pd.DataFrame(out)[list(fold_ids)] + 1.0)
    transform = ("fitted with the test mission" if set(test_ids) <= fitted else
                 "test mission: its own unlabelled counts mapped onto the corrected training counts (ComBat-seq ref_batch)")
    return frame, transform


def correct_fold(method: str, matrix: pd.DataFrame, batch_of: pd.Series, fold, protocol: str,
                 tissue_ids: Sequence[str], *, cache: dict | None = None) -> tuple[pd.DataFrame, CorrectionRecord]:
    """One fold's corrected features, genes x (train ids + test ids), and what entered the fit.

    ``matrix``: log2 expression (none, limma_rbe) or integer counts (combat_seq), genes x samples, no NaN;
    ``batch_of``: sample -> mission; ``tissue_ids``: every sample the seed's one fit saw. ``cache`` shares a
    ComBat-seq fit between calls on the same ``matrix`` with the same fit samples and design labels (seed:
    one fit per tissue; the label check's re-runs of a fold whose design takes no label: one fit)."""
    if method not in METHODS:
        raise ValueError(f"unknown batch correction {method!r}; expected one of {list(METHODS)}")
    fold_ids = [str(s) for s in (*fold.train_ids, *fold.test_ids)]
    test_ids = [str(s) for s in fold.test_ids]
    batch_of = batch_of.astype(str)
    batch_of.index = batch_of.index.astype(str)
    if method == "none":
        return matrix[fold_ids], CorrectionRecord(method, protocol, fold.fold_id, (), (), "uncorrected")
    plan = fit_plan(fold, protocol, tissue_ids)
    if method == "limma_rbe":
        frame, transform = _limma_fold(matrix, batch_of, plan, fold_ids, test_ids)
    else:
        frame, transform = _combat_fold(matrix, batch_of, plan, fold_ids, test_ids, {} if cache is None else cache)
    labels_from = () if plan.design is None else tuple(map(str, plan.design.index))
    return frame, CorrectionRecord(method, protocol, fold.fold_id, plan.fit_ids, labels_from, transform)
