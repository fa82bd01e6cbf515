"""Category A models (SPEC §6) and the published pathway-LOMO variants (SPEC §7), by name.

``fit_predict(model_name, X_train, y_train, X_test)`` is the only entry point the pipeline needs.
It receives training features and labels and test features, never test labels, and returns the
predicted probability of Flight for every test sample plus a small info dict (fit time, settings).

Penalties are set explicitly. scikit-learn >= 1.8 deprecates ``penalty`` and derives it from
``l1_ratio`` (0 -> L2, 1 -> L1, in between -> elastic net); older versions need ``penalty``.
``_logistic`` hides that difference. It matters for reproduction: the published pathway LR passed
``l1_ratio=0.5`` without ``penalty``, which is elastic net under scikit-learn >= 1.8 (and plain
L2 before); elastic net is what reproduces the published numbers.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field

import numpy as np

DEFAULT_SEED = 42


@dataclass(frozen=True)
class ModelConfig:
    name: str
    kind: str                     # "lr", "pca_lr", "rf", "xgb", "negative_control"
    params: dict = field(default_factory=dict)
    description: str = ""


MODEL_CONFIGS: dict[str, ModelConfig] = {
    # SPEC §6
    "lr": ModelConfig("lr", "lr", dict(penalty="elasticnet", l1_ratio=0.5, solver="saga", C=1.0, max_iter=10000),
                      "StandardScaler -> LogisticRegression(elastic net 0.5, saga, C 1, balanced, max_iter 10000)"),
    "pca_lr": ModelConfig("pca_lr", "pca_lr", dict(penalty="l2", solver="lbfgs", C=1.0, max_iter=5000, max_components=50),
                          "StandardScaler -> PCA(min(50, n_train - 1, n_features)) -> LogisticRegression(L2, lbfgs, C 1, balanced, max_iter 5000)"),
    "rf": ModelConfig("rf", "rf", dict(n_estimators=200, max_features="sqrt"),
                      "RandomForestClassifier(200, max_features sqrt, balanced)"),
    "xgb": ModelConfig("xgb", "xgb", dict(n_estimators=200, max_depth=3, subsample=0.7, learning_rate=0.1),
                       "XGBClassifier(200, depth 3, subsample 0.7, lr 0.1, logloss)"),
    # SPEC §7, the published pathway-level LOMO
    "pathway_lr": ModelConfig("pathway_lr", "lr", dict(penalty="elasticnet", l1_ratio=0.5, solver="saga", C=1.0, max_iter=5000),
                              "StandardScaler -> LogisticRegression(elastic net 0.5, saga, C 1, balanced, max_iter 5000)"),
    "pathway_pca_lr": ModelConfig("pathway_pca_lr", "pca_lr", dict(penalty="l2", solver="lbfgs", C=1.0, max_iter=2000, max_components=50),
                                  "StandardScaler -> PCA(min(50, n_train - 1, n_features), random_state 42) -> LogisticRegression(L2, lbfgs, C 1, balanced, max_iter 2000)"),
    # control (ours): random scores, must land near AUROC 0.5
    "negative_control": ModelConfig("negative_control", "negative_control", {}, "uniform random scores (seeded)"),
}
MODEL_NAMES = tuple(MODEL_CONFIGS)


def _sklearn_uses_l1_ratio_only() -> bool:
    from sklearn.linear_model import LogisticRegression

    return inspect.signature(LogisticRegression.__init__).parameters["penalty"].default == "deprecated"


def _logistic(penalty: str, l1_ratio: float | None, solver: str, C: float, max_iter: int, seed: int):
    """LogisticRegression with the penalty set explicitly on any scikit-learn version."""
    from sklearn.linear_model import LogisticRegression

    ratio = {"l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]
    common = dict(C=C, solver=solver, class_weight="balanced", max_iter=max_iter, random_state=seed)
    if _sklearn_uses_l1_ratio_only():
        return LogisticRegression(l1_ratio=ratio, **common)
    if penalty == "elasticnet":
        return LogisticRegression(penalty="elasticnet", l1_ratio=ratio, **common)
    return LogisticRegression(penalty=penalty, **common)


def n_pca_components(n_train: int, n_features: int, max_components: int = 50) -> int:
    return int(min(max_components, n_train - 1, n_features))


def build_model(model_name: str, n_train: int, n_features: int, *, seed: int = DEFAULT_SEED):
    """An unfitted scikit-learn compatible estimator for ``model_name`` (not the controls)."""
    cfg = _config(model_name)
    p = cfg.params
    if cfg.kind == "lr":
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        return Pipeline([("scaler", StandardScaler()),
                         ("clf", _logistic(p["penalty"], p.get("l1_ratio"), p["solver"], p["C"], p["max_iter"], seed))])
    if cfg.kind == "pca_lr":
        from sklearn.decomposition import PCA
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        n_comp = n_pca_components(n_train, n_features, p["max_components"])
        return Pipeline([("scaler", StandardScaler()),
                         ("pca", PCA(n_components=n_comp, random_state=seed)),
                         ("clf", _logistic(p["penalty"], None, p["solver"], p["C"], p["max_iter"], seed))])
    if cfg.kind == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=p["n_estimators"], max_features=p["max_features"],
                                      class_weight="balanced", random_state=seed, n_jobs=1)
    if cfg.kind == "xgb":
        from xgboost import XGBClassifier

        return XGBClassifier(n_estimators=p["n_estimators"], max_depth=p["max_depth"], subsample=p["subsample"],
                             learning_rate=p["learning_rate"], eval_metric="logloss", random_state=seed, n_jobs=1)
    raise ValueError(f"{model_name!r} is a control, not an estimator")


# What build_model imports, by model kind (it imports lazily, so a process that fits nothing stays light).
_KIND_MODULES = {
    "lr": ("sklearn.pipeline", "sklearn.preprocessing", "sklearn.linear_model"),
    "pca_lr": ("sklearn.pipeline", "sklearn.preprocessing", "sklearn.decomposition", "sklearn.linear_model"),
    "rf": ("sklearn.ensemble",),
    "xgb": ("xgboost",),
    "negative_control": (),
}


def estimator_modules(model_names) -> tuple[str, ...]:
    """The modules fitting these models imports (names as `fit_predict` takes them; a
    `positive_control:` prefix is ignored): what a worker pool preloads (fit_pool.worker_pool)."""
    out = ["threadpoolctl", __name__]
    for name in model_names:
        out += _KIND_MODULES[_config(name.split(":", 1)[-1]).kind]
    return tuple(dict.fromkeys(out))


def _config(model_name: str) -> ModelConfig:
    try:
        return MODEL_CONFIGS[model_name]
    except KeyError:
        raise ValueError(f"unknown model {model_name!r}; expected one of {MODEL_NAMES}") from None


def _check_inputs(X_train, y_train, X_test) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X_train = np.asarray(X_train, dtype=np.float64)
    X_test = np.asarray(X_test, dtype=np.float64)
    y_train = np.asarray(y_train, dtype=np.float64)
    if X_train.ndim != 2 or X_test.ndim != 2:
        raise ValueError(f"features must be 2-D (samples x features), got {X_train.shape} and {X_test.shape}")
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"train has {X_train.shape[1]} features, test has {X_test.shape[1]}")
    if y_train.shape != (X_train.shape[0],):
        raise ValueError(f"{X_train.shape[0]} training samples but {y_train.shape} labels")
    if not np.isin(y_train, (0.0, 1.0)).all():
        raise ValueError("training labels must be 0 (Ground) or 1 (Flight)")
    if len(np.unique(y_train)) < 2:
        raise ValueError("training labels hold a single class")
    if not (np.isfinite(X_train).all() and np.isfinite(X_test).all()):
        raise ValueError("features hold NaN or inf")
    return X_train, y_train, X_test


def fit_model(model_name: str, X_train, y_train, *, seed: int = DEFAULT_SEED):
    """The fitted estimator of ``fit_predict`` (same inputs checks, same construction), for
    interpretation (coefficients, SHAP). Not for the negative control, which has no estimator."""
    cfg = _config(model_name)
    if cfg.kind == "negative_control":
        raise ValueError(f"{model_name!r} has no fitted estimator")
    X_train, y_train, _ = _check_inputs(X_train, y_train, np.asarray(X_train, dtype=np.float64)[:0])
    model = build_model(model_name, X_train.shape[0], X_train.shape[1], seed=seed)
    return model.fit(X_train, y_train)


def fit_predict(model_name: str, X_train, y_train, X_test, *, seed: int = DEFAULT_SEED) -> tuple[np.ndarray, dict]:
    """Fit on (X_train, y_train), return (P(Flight) for each row of X_test, info).

    info: model, description, seed, n_train, n_test, n_features, fit_seconds (fit + predict wall
    time) and, for PCA-LR, n_components."""
    cfg = _config(model_name)
    X_train, y_train, X_test = _check_inputs(X_train, y_train, X_test)
    info = {"model": model_name, "description": cfg.description, "seed": seed,
            "n_train": int(X_train.shape[0]), "n_test": int(X_test.shape[0]), "n_features": int(X_train.shape[1])}
    t0 = time.perf_counter()
    if cfg.kind == "negative_control":
        scores = np.random.default_rng(seed).random(X_test.shape[0])
    else:
        model = build_model(model_name, X_train.shape[0], X_train.shape[1], seed=seed)
        model.fit(X_train, y_train)
        scores = np.asarray(model.predict_proba(X_test)[:, 1], dtype=np.float64)
        if cfg.kind == "pca_lr":
            info["n_components"] = int(model.named_steps["pca"].n_components_)
    info["fit_seconds"] = time.perf_counter() - t0
    return scores, info
