import inspect

import numpy as np
import pytest

from genebench_assets.science.evaluation import metrics

from genebench_assets.science.models import classifiers as models


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n_train, n_test, p = 60, 30, 20
    y_train = np.r_[np.ones(30), np.zeros(30)]
    y_test = np.r_[np.ones(15), np.zeros(15)]
    shift = np.zeros(p)
    shift[:3] = 1.5                                      # three informative features
    X_train = rng.normal(size=(n_train, p)) + np.outer(y_train, shift)
    X_test = rng.normal(size=(n_test, p)) + np.outer(y_test, shift)
    return X_train, y_train, X_test, y_test


@pytest.mark.parametrize("name", ["lr", "pca_lr", "rf", "xgb", "pathway_lr", "pathway_pca_lr"])
def test_models_learn_a_separable_signal(data, name):
    X_train, y_train, X_test, y_test = data
    scores, info = models.fit_predict(name, X_train, y_train, X_test)
    assert scores.shape == (len(X_test),) and ((scores >= 0) & (scores <= 1)).all()
    assert metrics.auroc(y_test, scores) > 0.85
    assert info["model"] == name and info["seed"] == 42 and info["fit_seconds"] >= 0
    assert (info["n_train"], info["n_test"], info["n_features"]) == (60, 30, 20)
    again, _ = models.fit_predict(name, X_train, y_train, X_test)
    assert np.array_equal(scores, again)                 # seeded: deterministic


def test_fit_predict_never_receives_test_labels():
    params = list(inspect.signature(models.fit_predict).parameters)
    assert params == ["model_name", "X_train", "y_train", "X_test", "seed"]


def test_negative_control_is_seeded_random_and_uninformative(data):
    X_train, y_train, X_test, y_test = data
    a, _ = models.fit_predict("negative_control", X_train, y_train, X_test)
    b, _ = models.fit_predict("negative_control", X_train, y_train, X_test)
    c, _ = models.fit_predict("negative_control", X_train, y_train, X_test, seed=7)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_penalties_are_explicit():
    lr = models.build_model("lr", 60, 20).named_steps["clf"]
    pathway_lr = models.build_model("pathway_lr", 60, 20).named_steps["clf"]
    pca_lr = models.build_model("pathway_pca_lr", 60, 20).named_steps["clf"]
    assert lr.l1_ratio == 0.5 and lr.solver == "saga" and lr.max_iter == 10000
    assert pathway_lr.l1_ratio == 0.5 and pathway_lr.solver == "saga" and pathway_lr.max_iter == 5000
    assert pca_lr.solver == "lbfgs" and pca_lr.max_iter == 2000 and pca_lr.l1_ratio in (0.0, None)
    for clf in (lr, pathway_lr, pca_lr):
        assert clf.class_weight == "balanced" and clf.C == 1.0 and clf.random_state == 42
    if models._sklearn_uses_l1_ratio_only():
        assert lr.penalty == "deprecated"               # l1_ratio 0.5 *is* the elastic net there
    else:
        assert lr.penalty == "elasticnet" and pca_lr.penalty == "l2"


def test_elastic_net_zeroes_coefficients(data):
    X_train, y_train, X_test, _ = data
    model = models.build_model("lr", *X_train.shape).fit(X_train, y_train)
    assert (model.named_steps["clf"].coef_ == 0).any()   # an L1 part is active


@pytest.mark.parametrize("n_train,n_features,expected", [(187, 50, 50), (21, 50, 20), (106, 35, 35), (200, 1000, 50)])
def test_pca_components_follow_min_rule(n_train, n_features, expected):
    assert models.n_pca_components(n_train, n_features) == expected
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n_train, n_features))
    y = (np.arange(n_train) % 2).astype(float)
    _, info = models.fit_predict("pca_lr", X, y, X[:3])
    assert info["n_components"] == expected


def test_rf_and_xgb_settings():
    rf = models.build_model("rf", 10, 5)
    assert (rf.n_estimators, rf.max_features, rf.class_weight, rf.random_state) == (200, "sqrt", "balanced", 42)
    xgb = models.build_model("xgb", 10, 5)
    assert (xgb.n_estimators, xgb.max_depth, xgb.subsample, xgb.learning_rate, xgb.eval_metric, xgb.random_state) == \
        (200, 3, 0.7, 0.1, "logloss", 42)


def test_input_errors(data):
    X_train, y_train, X_test, _ = data
    with pytest.raises(ValueError, match="unknown model 'svm'"):
        models.fit_predict("svm", X_train, y_train, X_test)
    with pytest.raises(ValueError, match="single class"):
        models.fit_predict("lr", X_train, np.ones(60), X_test)
    with pytest.raises(ValueError, match="train has 20 features, test has 19"):
        models.fit_predict("lr", X_train, y_train, X_test[:, :19])
    bad = X_train.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        models.fit_predict("lr", bad, y_train, X_test)


def test_estimator_modules_are_what_fitting_imports():
    """What a worker pool preloads: every module build_model imports for the model (positive-control
    names included), importable, and nothing for a model that does not need it."""
    import importlib

    every = models.estimator_modules([*models.MODEL_NAMES, "positive_control:xgb"])
    for module in every:
        importlib.import_module(module)
    assert "xgboost" in every and "sklearn.ensemble" in every
    assert "xgboost" not in models.estimator_modules(["pathway_lr", "pathway_pca_lr"])
    with pytest.raises(ValueError, match="unknown model"):
        models.estimator_modules(["svm"])
