import json

import numpy as np
import pytest

from genebench_assets.science.evaluation import calibration as C
from genebench_assets.science.evaluation.lomo_evaluation import evaluate_fold
from genebench_assets_tests.conftest import published_path


def _published_calibration():
    return json.loads(published_path("genelab_evaluation", "A4_calibration.json").read_text())


def test_published_calibration_summary_is_exact():
    pub = _published_calibration()
    folds = {m: (f["probas"], f["true"]) for m, f in pub["fold_results"].items()}
    ours = C.calibration_published(folds)
    assert list(ours) == list(pub)
    for key in ("flight_mean", "gc_mean", "separation", "flt_error_rate", "gc_error_rate"):
        assert ours[key] == pub[key], key  # exact, not approximately
    assert ours["fold_results"] == pub["fold_results"]


def test_published_calibration_is_pca_lr_lomo():
    """The calibration probabilities are the pca_lr LOMO scores: their AUROCs are A4_baseline's pca_lr folds."""
    pub = _published_calibration()
    base = json.loads(published_path("genelab_evaluation", "A4_baseline_results.json").read_text())["pca_lr"]["folds"]
    for fold in base:
        f = pub["fold_results"][fold["test_mission"]]
        assert evaluate_fold(f["true"], f["probas"], n_boot=10, n_perm=10)["auroc"] == fold["auroc"]


def test_extended_brier_reliability_and_error_rates():
    folds = {"A": ([0.9, 0.8, 0.2, 0.6], [1, 1, 0, 0]), "B": ([0.1, 0.4], [0, 1])}
    ext = C.calibration_extended(folds)
    assert ext["per_fold"]["A"]["brier"] == pytest.approx(np.mean([0.01, 0.04, 0.04, 0.36]))
    assert ext["per_fold"]["A"]["gc_error_rate"] == 0.5 and ext["per_fold"]["B"]["flt_error_rate"] == 1.0
    curve = ext["pooled"]["reliability_curve"]
    assert sum(b["n"] for b in curve) == 6
    assert [b for b in curve if b["bin_lower"] == 0.8][0]["observed_flight_fraction"] == 1.0
    assert C.reliability_curve([1], [1.0])[0]["bin_upper"] == 1.0  # p = 1 falls in the last bin


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        C.brier_score([1, 0], [1.2, 0.1])
    with pytest.raises(ValueError, match="labels"):
        C.brier_score([2, 0], [0.2, 0.1])


def test_holdout_layout_matches_published_keys():
    pub = json.loads(published_path("genelab_evaluation", "A4_holdout_results.json").read_text())
    y = [1] * 7 + [0] * 9
    s = np.linspace(0, 1, 16)[::-1]
    res = C.holdout_fold_result(y, s, randomness="seed_randomstate")
    res.update(test_mission="RR-23", model="lr", n_train=67, n_genes=100, train_time_s=0.1)
    ours = C.holdout_published([res])
    assert list(ours["lr"]) == list(pub["lr"])
    assert ours["lr"]["n_flight_test"] == pub["lr"]["n_flight_test"] and ours["lr"]["n_test"] == pub["lr"]["n_test"]
    assert 0 <= ours["lr"]["bootstrap_mean"] <= 1
