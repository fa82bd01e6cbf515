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


def _control_aurocs(models_to_run=("lr", "pca_lr"), fault=None, noise_sd=0.5):
    """Mean AUROC per model, its positive control (the model on the planted-label copy) and the
    negative control over synthetic folds; `fault(name, scores)` may corrupt a model's scores."""
    import pandas as pd

    aurocs: dict[str, list[float]] = {}
    for i, (X_train, y_train, X_test, y_test) in enumerate(_folds()):
        Xtr, Xte = pd.DataFrame(X_train), pd.DataFrame(X_test)
        Xp_train, Xp_test = evaluation.planted_label_copy(Xtr, y_train, Xte, y_test, seed=42 + i,
                                                               noise_sd=noise_sd)
        runs = {"negative_control": ("negative_control", Xtr, Xte)}
        for m in models_to_run:
            runs[m] = (m, Xtr, Xte)
            runs[f"{evaluation.POSITIVE_CONTROL_PREFIX}{m}"] = (m, Xp_train, Xp_test)
        for name, (model, A, B) in runs.items():
            scores, _ = models.fit_predict(model, A, y_train, B, seed=42 + i)
            if fault is not None:
                scores = fault(name, scores, y_test)
            aurocs.setdefault(name, []).append(evaluation.evaluate_fold(y_test, scores, n_boot=200, n_perm=200)["auroc"])
    return {k: float(np.mean(v)) for k, v in aurocs.items()}


def test_controls_bracket_models_between_negative_and_positive():
    means = _control_aurocs()
    check = evaluation.controls_bracket(means)
    assert check["passed"], check["problems"]
    assert abs(means["negative_control"] - 0.5) < 0.15
    for m in ("lr", "pca_lr"):  # the pipeline (scaler, PCA, classifier) finds the planted features
        assert means[f"positive_control:{m}"] >= 0.9
        assert means["negative_control"] < means[m] <= means[f"positive_control:{m}"]


def test_controls_bracket_flags_a_model_below_the_negative_interval():
    flipped = _control_aurocs(fault=lambda name, s, y: 1.0 - s if name == "lr" else s)  # a flipped-label bug
    check = evaluation.controls_bracket(flipped)
    assert not check["passed"] and "lr" in check["flagged"] and "below the negative" in check["flagged"]["lr"]
    assert "pca_lr" not in check["flagged"]


def test_controls_bracket_flags_a_model_above_its_positive_control():
    # A weaker plant (noisier planted features) keeps the positive control below 1.0, so a model that
    # scores with the test labels themselves - the leak - lands above it.
    leaky = _control_aurocs(fault=lambda name, s, y: np.asarray(y, dtype=float) if name == "pca_lr" else s,
                            noise_sd=4.0)
    check = evaluation.controls_bracket(leaky, positive_min=0.5)
    assert leaky["pca_lr"] == 1.0 and leaky["positive_control:pca_lr"] < 1.0
    assert not check["passed"] and "above its positive control" in check["flagged"]["pca_lr"]


def test_controls_bracket_reports_broken_controls():
    check = evaluation.controls_bracket({"negative_control": 0.9, "positive_control:lr": 0.6, "lr": 0.55})
    assert not check["passed"]
    assert any("negative control" in p and "0.900" in p for p in check["problems"])
    assert any("positive_control:lr = 0.600" in p for p in check["problems"])
    missing = evaluation.controls_bracket({"lr": 0.8})["problems"]
    assert "negative control 'negative_control' missing" in missing and "positive control positive_control:lr missing" in missing
    # the negative control's own bootstrap interval, when given, is the lower bound
    ok = evaluation.controls_bracket({"negative_control": 0.5, "positive_control:lr": 1.0, "lr": 0.45},
                                     negative_interval=(0.3, 0.7))
    assert ok["passed"] and ok["negative_interval"] == [0.3, 0.7]


def test_bracket_per_feature_set_centres_the_negative_interval_on_chance():
    """The negative control's pooled CI gives the width (sampling spread at this n); its centre is one
    random draw's luck. An off-centre draw (CI [0.497, 0.797], as kidney's on the calibrated demo) must
    not flag a near-chance model (0.46), while a clearly anti-predictive one (0.30) is still flagged."""
    import pandas as pd

    rows = [("negative_control", 0.647, 0.497, 0.797), ("lr", 0.46, 0.3, 0.6), ("positive_control:lr", 1.0, 1.0, 1.0),
            ("rf", 0.30, 0.15, 0.45), ("positive_control:rf", 1.0, 1.0, 1.0)]
    tasks = pd.DataFrame([{"feature_set": "genes", "model": m, "mean_auroc": a, "pooled_ci_lower": lo,
                           "pooled_ci_upper": hi} for m, a, lo, hi in rows])
    brackets, problems = evaluation.controls_bracket_by_feature_set(tasks)
    assert brackets["genes"]["negative_interval"] == pytest.approx([0.35, 0.65])
    assert "lr" not in brackets["genes"]["flagged"]
    assert "below the negative control's interval [0.350, 0.650]" in brackets["genes"]["flagged"]["rf"]
    assert any(p.startswith("genes: rf = ") for p in problems)


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


def test_positive_control_fold_is_the_lomo_fold_with_most_training_samples():
    from types import SimpleNamespace as Fold

    folds = [Fold(fold_id="fold_RR-1_test", train_ids=list(range(10)), holdout=False),
             Fold(fold_id="fold_RR-5_test", train_ids=list(range(14)), holdout=False),
             Fold(fold_id="fold_RR-9_test", train_ids=list(range(14)), holdout=False),
             Fold(fold_id="fold_RR-23_holdout", train_ids=list(range(30)), holdout=True)]
    assert evaluation.positive_control_fold(folds) == "fold_RR-5_test"  # most training; tie -> first id; no holdout
    assert evaluation.positive_control_fold(folds[-1:]) is None


def test_a_model_below_chance_is_a_warning_and_a_broken_control_an_error():
    below = evaluation.controls_bracket({"negative_control": 0.5, "positive_control:lr": 1.0, "lr": 0.3,
                                         "positive_control:rf": 1.0, "rf": 0.8}, negative_interval=(0.38, 0.62))
    assert below["problems"] and evaluation.bracket_severity(below["problems"]) == "WARN"
    broken = evaluation.controls_bracket({"negative_control": 0.5, "positive_control:lr": 0.2, "lr": 0.3})
    assert evaluation.bracket_severity(broken["problems"]) == "ERROR"
    leak = evaluation.controls_bracket({"negative_control": 0.5, "positive_control:lr": 0.95, "lr": 0.99})
    assert evaluation.bracket_severity(leak["problems"]) == "ERROR"
    assert evaluation.bracket_severity(["genes: lr's mean AUROC in evaluation_summary 0.8 is not 0.7"]) == "ERROR"
