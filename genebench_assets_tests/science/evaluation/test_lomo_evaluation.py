import numpy as np
import pytest

from genebench_assets.science.evaluation import lomo_evaluation as evaluation

from genebench_assets.science.evaluation import metrics

from genebench_assets.science.models import classifiers as models


def _folds(seed=0, n_folds=4):
    """Synthetic LOMO-like folds: (X_train, y_train, X_test, y_test) with a weak signal."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_folds):
        y_train = np.r_[np.ones(25), np.zeros(25)]
        y_test = np.r_[np.ones(12), np.zeros(14)]
        X_train = rng.normal(size=(50, 10)) + y_train[:, None] * 0.8
        X_test = rng.normal(size=(26, 10)) + y_test[:, None] * 0.8
        out.append((X_train, y_train, X_test, y_test))
    return out


def test_evaluate_fold_matches_metrics():
    y = np.r_[np.ones(6), np.zeros(6)]
    s = np.linspace(0, 1, 12)[::-1] + np.r_[np.zeros(6), np.full(6, 0.3)]
    r = evaluation.evaluate_fold(y, s)
    assert list(r) == ["auroc", "ci_lower", "ci_upper", "perm_p", "n_test", "n_flight_test", "n_ground_test"]
    assert r["auroc"] == metrics.auroc(y, s)
    assert (r["ci_lower"], r["ci_upper"]) == metrics.bootstrap_auroc_ci(y, s, 2000, "seed_randomstate")
    assert r["perm_p"] == metrics.permutation_p(y, s, 1000, "seed_randomstate")
    assert (r["n_test"], r["n_flight_test"], r["n_ground_test"]) == (12, 6, 6)
    with pytest.raises(ValueError, match="single class"):
        evaluation.evaluate_fold(np.ones(4), np.arange(4.0))


def test_summarize_task_means_ddof0_and_go_rule():
    folds = [{"auroc": 0.9, "ci_lower": 0.6, "perm_p": 0.01}, {"auroc": 0.7, "ci_lower": 0.5, "perm_p": 0.04}]
    s = evaluation.summarize_task(folds)
    assert s["mean_auroc"] == pytest.approx(0.8) and s["std_auroc"] == pytest.approx(0.1)   # ddof = 0
    assert s["mean_ci_lower"] == pytest.approx(0.55) and s["mean_perm_p"] == pytest.approx(0.025)
    assert s["go_auroc"] and s["go_ci"] and s["go_perm"] and s["go"] and s["n_folds"] == 2
    # thresholds are strict: exactly 0.700 mean AUROC is NO-GO
    s = evaluation.summarize_task([{"auroc": 0.7, "ci_lower": 0.9, "perm_p": 0.0}])
    assert not s["go_auroc"] and not s["go"]
    s = evaluation.summarize_task([{"auroc": 0.9, "ci_lower": 0.9, "perm_p": 0.05}])
    assert not s["go_perm"] and not s["go"]


def test_controls_bracket_negative_near_half_positive_at_one():
    aurocs = {"negative_control": [], "positive_control": [], "lr": []}
    for i, (X_train, y_train, X_test, y_test) in enumerate(_folds()):
        neg, _ = models.fit_predict("negative_control", X_train, y_train, X_test, seed=42 + i)
        lr, _ = models.fit_predict("lr", X_train, y_train, X_test)
        aurocs["negative_control"].append(evaluation.evaluate_fold(y_test, neg, n_boot=200, n_perm=200)["auroc"])
        aurocs["positive_control"].append(
            evaluation.evaluate_fold(y_test, evaluation.positive_control_scores(y_test), n_boot=200, n_perm=200)["auroc"])
        aurocs["lr"].append(evaluation.evaluate_fold(y_test, lr, n_boot=200, n_perm=200)["auroc"])
    means = {k: float(np.mean(v)) for k, v in aurocs.items()}
    check = evaluation.controls_bracket(means)
    assert check["passed"], check["problems"]
    assert abs(means["negative_control"] - 0.5) < 0.15 and means["positive_control"] == 1.0
    assert means["negative_control"] < means["lr"] <= means["positive_control"]


def test_controls_bracket_reports_broken_controls():
    check = evaluation.controls_bracket({"negative_control": 0.9, "positive_control": 0.95, "lr": 0.8})
    assert not check["passed"]
    assert any("negative control" in p and "0.900" in p for p in check["problems"])
    assert any("positive control" in p and "expected 1.0" in p for p in check["problems"])
    assert "negative control 'negative_control' missing" in evaluation.controls_bracket({"positive_control": 1.0})["problems"]


def test_positive_control_scores_give_auroc_one_and_do_not_alias():
    y = np.array([1.0, 0, 1, 0])
    s = evaluation.positive_control_scores(y)
    assert metrics.auroc(y, s) == 1.0 and s is not y


def test_pooled_auroc_concatenates_folds():
    ys = [np.array([1.0, 0, 1, 0]), np.array([1.0, 1, 0])]
    ss = [np.array([0.9, 0.2, 0.6, 0.4]), np.array([0.3, 0.8, 0.1])]
    r = evaluation.pooled_auroc(ys, ss, randomness="seed_default_rng", n_boot=500)
    y, s = np.concatenate(ys), np.concatenate(ss)
    assert r["pooled_auroc"] == metrics.auroc(y, s) and r["n_pooled"] == 7
    assert (r["pooled_ci_lower"], r["pooled_ci_upper"]) == metrics.bootstrap_auroc_ci(y, s, 500, "seed_default_rng")


def test_strict_randomness_differs_between_folds():
    y = np.r_[np.ones(8), np.zeros(8)]
    s = np.random.default_rng(0).random(16) + y * 0.3
    a = evaluation.evaluate_fold(y, s, randomness="strict", fold_index=0)
    b = evaluation.evaluate_fold(y, s, randomness="strict", fold_index=1)
    assert a["auroc"] == b["auroc"] and (a["ci_lower"], a["ci_upper"], a["perm_p"]) != (b["ci_lower"], b["ci_upper"], b["perm_p"])


def test_markdown_table_lists_models_and_folds():
    fold = {"test_mission": "RR-1", "auroc": 0.75, "ci_lower": 0.55, "ci_upper": 1.0, "perm_p": 0.03,
            "n_test": 12, "n_flight_test": 6, "n_ground_test": 6}
    summary = {**evaluation.summarize_task([fold]), "folds": [fold]}
    md = evaluation.render_markdown_table({"pca_lr": summary}, title="A6 eye")
    assert md.startswith("### A6 eye")
    assert "| pca_lr | 1 | 0.750 | 0.000 | 0.550 | 0.030 | GO |" in md
    assert "| pca_lr | RR-1 | 12 (6/6) | 0.750 | [0.550, 1.000] | 0.030 |" in md


def test_roc_png_is_a_png():
    y = np.array([1.0, 0, 1, 0, 1, 0])
    png = evaluation.render_roc_png({"lr RR-1": (y, np.array([0.9, 0.1, 0.7, 0.8, 0.6, 0.2]))}, title="A6")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
