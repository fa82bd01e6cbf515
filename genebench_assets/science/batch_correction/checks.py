"""The blocking check on the batch-corrected fold features: the test mission's labels never enter a correction.

``labels_never_enter`` compares one fold's stored correction with evidence the correction did not produce:
1. the record: no test sample among the samples whose labels entered the design (``labels_from``); under
   strict, no test sample among the samples the fit saw (``fitted_on``); under seed the fit saw every sample
   of the tissue, test mission included, without labels, as published: reported, not failed;
2. the function: the correction is re-run (``corrections.correct_fold``, the code that ran) with the test
   labels flipped (Flight <-> Ground), all Flight and all Ground; any difference from the stored matrix means
   a test label entered.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from genebench_assets.science.batch_correction import corrections
from genebench_assets.science.check_outcome import CheckOutcome
from genebench_assets.science.protocols import fits_on_training_only

TOLERANCE = 1e-9


def labels_never_enter(method: str, matrix: pd.DataFrame, batch_of: pd.Series, fold, protocol: str,
                       tissue_ids, stored: pd.DataFrame, record: corrections.CorrectionRecord, *,
                       cache: dict | None = None) -> CheckOutcome:
    """``cache``: ``correct_fold``'s ComBat-seq cache, shared by the re-runs (one per ``matrix``): it is keyed
    by the fit samples and the design's labels, so re-runs whose changed test labels do not enter the fit
    reuse one fit, and any whose labels do enter are refitted."""
    test = set(map(str, fold.test_ids))
    failures = []
    label_leak = sorted(test & set(record.labels_from))
    if label_leak:
        failures.append(f"{fold.fold_id} {method}: the design took the labels of {len(label_leak)} test samples, "
                        f"e.g. {label_leak[:3]}")
    seen_test = sorted(test & set(record.fitted_on))
    if seen_test and fits_on_training_only(protocol):
        failures.append(f"{fold.fold_id} {method}: the strict fit saw {len(seen_test)} test samples, e.g. {seen_test[:3]}")
    # Flipped labels, and all Flight / all Ground: a label covariate orthogonal to the batches (a balanced
    # test mission) leaves the batch estimates unchanged under a flip, never under a change of class balance.
    diff = 0.0
    for name, y_test in (("flipped", [1.0 - float(y) for y in fold.y_test]), ("all Flight", [1.0] * fold.n_test),
                         ("all Ground", [0.0] * fold.n_test)):
        try:
            again, _ = corrections.correct_fold(method, matrix, batch_of, dataclasses.replace(fold, y_test=tuple(y_test)),
                                                protocol, tissue_ids, cache=cache)
        except Exception as exc:  # the correction depends on the test labels so much that it no longer runs
            failures.append(f"{fold.fold_id} {method}: re-run with the test labels {name} failed: "
                            f"{' '.join(str(exc).split())[:200]}")
            diff = float("inf")
            continue
        again = again.reindex(index=stored.index, columns=stored.columns)
        d = float(np.nanmax(np.abs(again.to_numpy() - stored.to_numpy()))) if stored.size else 0.0
        diff = max(diff, d) if np.isfinite(d) else float("inf")
        if not np.isfinite(d) or d > TOLERANCE or again.isna().to_numpy().any():
            failures.append(f"{fold.fold_id} {method}: re-run with the test labels {name} differs from the stored "
                            f"features (max |difference| {d:.3g})")
    return CheckOutcome.from_failures(
        "test labels vs the correction: the design's label samples, the fit's samples, and re-runs with the "
        "test labels changed", failures,
        {"fold": fold.fold_id, "method": method, "max_abs_difference_with_changed_test_labels": diff,
         "n_fitted_on": len(record.fitted_on), "test_samples_in_fit": len(seen_test),
         "seed_exception": (f"seed: the fit saw the {len(seen_test)} test samples (no labels), as published"
                            if seen_test and not fits_on_training_only(protocol) else "")})
