"""Calibration of Category A scores and the holdout fold as its own evaluation (issue 21).

- ``calibration_published(fold_results)``: ``A4_calibration.json``'s layout from per-fold
  (probabilities, true labels): ``fold_results`` (probas, true, n_test per mission), ``flight_mean`` /
  ``gc_mean`` (mean P(Flight) over every Flight / Ground test sample, all folds pooled in fold order),
  ``separation`` (their difference), ``flt_error_rate`` (Flight called Ground: p < 0.5) and
  ``gc_error_rate`` (Ground called Flight: p >= 0.5). The published file is PCA-LR on the LOMO folds
  (its per-fold AUROCs equal A4_baseline_results' pca_lr folds).
- ``calibration_extended(fold_results)``: what the published file lacks: Brier score per fold and
  pooled, the reliability curve (10 equal-width bins) and the error rates per class per fold.
- ``holdout_published(rows)``: ``A{n}_holdout_results.json``'s layout, one entry per model.
- ``holdout_fold_result(y, scores, ...)``: one holdout fold's metrics (lomo_evaluation.evaluate_fold)
  plus the bootstrap mean the published holdout files report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from genebench_assets.science.evaluation import metrics
from genebench_assets.science.evaluation.lomo_evaluation import evaluate_fold

THRESHOLD = 0.5  # P(Flight) >= 0.5 is a Flight call
N_BINS = 10


def _arrays(probas, true) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probas, dtype=np.float64)
    y = np.asarray(true, dtype=np.float64)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError(f"{p.shape} probabilities but {y.shape} labels")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 (Ground) or 1 (Flight)")
    if not (np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()):
        raise ValueError("probabilities must be finite and in [0, 1]")
    return p, y


def brier_score(true, probas) -> float:
    p, y = _arrays(probas, true)
    return float(np.mean((p - y) ** 2))


def error_rates(true, probas, threshold: float = THRESHOLD) -> dict[str, float | None]:
    """Per class: Flight called Ground (p < threshold), Ground called Flight (p >= threshold)."""
    p, y = _arrays(probas, true)
    flt, gc = p[y == 1], p[y == 0]
    return {"flt_error_rate": float(np.mean(flt < threshold)) if len(flt) else None,
            "gc_error_rate": float(np.mean(gc >= threshold)) if len(gc) else None}


def reliability_curve(true, probas, n_bins: int = N_BINS) -> list[dict]:
    """Equal-width bins of P(Flight) on [0, 1] (the last bin includes 1): per non-empty bin, the mean
    predicted probability, the observed Flight fraction and the count."""
    p, y = _arrays(probas, true)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    out = []
    for b in range(n_bins):
        m = which == b
        if m.any():
            out.append({"bin_lower": float(edges[b]), "bin_upper": float(edges[b + 1]), "n": int(m.sum()),
                        "mean_predicted": float(p[m].mean()), "observed_flight_fraction": float(y[m].mean())})
    return out


def _pooled(fold_results: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> tuple[np.ndarray, np.ndarray]:
    if not fold_results:
        raise ValueError("no folds to calibrate")
    pairs = [_arrays(p, y) for p, y in fold_results.values()]
    return np.concatenate([p for p, _ in pairs]), np.concatenate([y for _, y in pairs])


def calibration_published(fold_results: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> dict:
    """fold_results: test mission -> (probabilities, true labels), in fold order."""
    p, y = _pooled(fold_results)
    folds = {m: {"probas": [float(v) for v in probas], "true": [int(v) for v in true], "n_test": len(true)}
             for m, (probas, true) in fold_results.items()}
    if not ((y == 1).any() and (y == 0).any()):
        raise ValueError("calibration needs Flight and Ground test samples")
    flight_mean, gc_mean = float(np.mean(p[y == 1])), float(np.mean(p[y == 0]))
    return {"fold_results": folds, "flight_mean": flight_mean, "gc_mean": gc_mean,
            "separation": flight_mean - gc_mean, **error_rates(y, p)}


def calibration_extended(fold_results: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                         n_bins: int = N_BINS) -> dict:
    """Brier score, reliability curve and per-class error rates, per fold and pooled."""
    p, y = _pooled(fold_results)
    per_fold = {m: {"brier": brier_score(true, probas), **error_rates(true, probas), "n_test": len(true)}
                for m, (probas, true) in fold_results.items()}
    return {"threshold": THRESHOLD, "pooled": {"brier": brier_score(y, p), **error_rates(y, p), "n_test": int(len(y)),
                                               "reliability_curve": reliability_curve(y, p, n_bins)},
            "per_fold": per_fold}


def holdout_fold_result(y, scores, *, randomness, fold_index: int = 0, n_boot: int = 2000,
                        n_perm: int = 1000) -> dict:
    """evaluate_fold's metrics plus the mean of the bootstrap AUROCs (same resamples as the CI)."""
    rnd = randomness if isinstance(randomness, metrics.Randomness) else metrics.Randomness(str(randomness), fold_index=fold_index)
    res = evaluate_fold(y, scores, randomness=rnd, n_boot=n_boot, n_perm=n_perm)
    boots = metrics.bootstrap_aurocs(y, scores, n_boot, rnd)
    res["bootstrap_mean"] = float(np.mean(boots)) if len(boots) else float("nan")
    return res


HOLDOUT_KEYS = ("test_mission", "model", "auroc", "bootstrap_mean", "ci_lower", "ci_upper", "perm_pvalue",
                "n_train", "n_test", "n_genes", "n_flight_test", "n_ground_test", "train_time_s")


def holdout_published(rows: Sequence[Mapping]) -> dict:
    """rows: one per model, with holdout_fold_result's keys plus test_mission, model, n_train, n_genes
    and train_time_s -> {model: {published keys in the published order}} (perm_p -> perm_pvalue)."""
    out = {}
    for r in rows:
        r = dict(r)
        r.setdefault("perm_pvalue", r.get("perm_p"))
        out[str(r["model"])] = {k: r.get(k) for k in HOLDOUT_KEYS}
    return out
