"""The seven SpaceOmicsBench baselines (SPEC §12), per fold: mean imputer -> optional PCA ->
StandardScaler, all fitted on the training rows only, then the model. Seed 42 everywhere by default (``seed``
of ``run_baseline``: the models' and PCA's ``random_state``); the Random baseline draws from
``RandomState(seed + fold index)`` as published, so its numbers reproduce. Other seeds (``--seeds``, issue 20)
are full reruns of the same pipeline.

Multilabel tasks (B2) run one-vs-rest logistic regression, random forest and a smaller MLP, named
``multilabel_<model>`` as in the published results.

RandomForest's numbers depend on the scikit-learn version: from 1.9 its bootstrap draws use
``sample_weight`` when ``class_weight="balanced"``, so it does not reproduce the published values
(made with an earlier release); every result records the versions it was made with."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from genebench_assets.science.spaceomicsbench.splits import Fold
from genebench_assets.science.spaceomicsbench.task_data import TaskData

SEED = 42
CLASSIFIER_MODELS = ("random", "majority", "logreg", "rf", "mlp", "xgboost", "lightgbm")
MULTILABEL_MODELS = ("random", "majority", "multilabel_logreg", "multilabel_rf", "multilabel_mlp")


def models_for(task_type: str) -> tuple[str, ...]:
    return MULTILABEL_MODELS if task_type == "multilabel_classification" else CLASSIFIER_MODELS


def library_versions() -> dict[str, str]:
    import lightgbm
    import sklearn
    import xgboost

    return {"scikit-learn": sklearn.__version__, "xgboost": xgboost.__version__,
            "lightgbm": lightgbm.__version__, "numpy": np.__version__}


def make_model(name: str, seed: int = SEED):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.neural_network import MLPClassifier

    if name == "logreg":
        return LogisticRegression(max_iter=1000, C=1.0, class_weight="balanced", random_state=seed, solver="lbfgs")
    if name == "rf":
        return RandomForestClassifier(n_estimators=100, class_weight="balanced", random_state=seed, n_jobs=-1)
    if name == "mlp":
        return MLPClassifier(hidden_layer_sizes=(256, 128, 64), max_iter=500, random_state=seed, early_stopping=True,
                             validation_fraction=0.15, alpha=0.01, learning_rate_init=0.001)
    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(n_estimators=100, max_depth=6, random_state=seed, eval_metric="logloss", verbosity=0)
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(n_estimators=100, max_depth=6, num_leaves=31, random_state=seed, verbose=-1, n_jobs=-1)
    if name == "multilabel_logreg":
        return OneVsRestClassifier(LogisticRegression(max_iter=1000, C=1.0, class_weight="balanced", random_state=seed))
    if name == "multilabel_rf":
        return OneVsRestClassifier(RandomForestClassifier(n_estimators=100, class_weight="balanced",
                                                          random_state=seed, n_jobs=-1))
    if name == "multilabel_mlp":
        return OneVsRestClassifier(MLPClassifier(hidden_layer_sizes=(128, 64), max_iter=300, random_state=seed,
                                                 early_stopping=True, alpha=0.01))
    raise ValueError(f"model: unknown baseline {name!r}; expected one of {CLASSIFIER_MODELS + MULTILABEL_MODELS}")


def preprocess_fold(X_train: np.ndarray, X_test: np.ndarray, pca: dict | None, seed: int = SEED):
    """Mean imputer -> optional PCA (whole matrix, or per modality block for G1) -> StandardScaler,
    each fitted on the training rows only."""
    from sklearn.decomposition import PCA
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    imputer = SimpleImputer(strategy="mean")
    X_train = imputer.fit_transform(X_train)
    X_test = imputer.transform(X_test)
    if pca and "n_components" in pca:
        p = PCA(n_components=min(pca["n_components"], X_train.shape[0] - 1), random_state=seed)
        X_train, X_test = p.fit_transform(X_train), p.transform(X_test)
    if pca and "groups" in pca:
        # Block bounds refer to the matrix before imputation; SimpleImputer drops all-NaN columns,
        # which the G1 inputs do not have (they are zero-filled as published).
        c = pca["n_clinical"]
        tr, te = [X_train[:, :c]], [X_test[:, :c]]
        for g in pca["groups"]:
            p = PCA(n_components=min(g["n_components"], X_train.shape[0] - 1), random_state=seed)
            tr.append(p.fit_transform(X_train[:, g["start"]:g["end"]]))
            te.append(p.transform(X_test[:, g["start"]:g["end"]]))
        X_train, X_test = np.hstack(tr), np.hstack(te)
    scaler = StandardScaler()
    return scaler.fit_transform(X_train), scaler.transform(X_test)


@dataclass
class FoldPrediction:
    fold: int
    y_pred: np.ndarray
    y_score: np.ndarray
    fit_seconds: float


def encode_labels(data: TaskData) -> tuple[np.ndarray, list]:
    """Multiclass labels -> 0..K-1 over the sorted classes of the whole task (as the seed's
    LabelEncoder); binary and multilabel stay as they are."""
    if data.task_type == "multi_class_classification":
        classes = sorted(set(data.y.tolist()))
        code = {c: i for i, c in enumerate(classes)}
        return np.array([code[v] for v in data.y]), classes
    return data.y.astype(int), [0, 1]


def predict_fold(model_name: str, data: TaskData, y_enc: np.ndarray, fold: Fold, seed: int = SEED) -> FoldPrediction:
    """Fit on the fold's training rows; predict its test rows. The model sees test features only."""
    tr, te = np.asarray(fold.train_rows), np.asarray(fold.test_rows)
    t0 = time.perf_counter()
    X_train, X_test = preprocess_fold(data.X[tr], data.X[te], data.pca, seed)
    y_train = y_enc[tr]
    n_test = len(te)
    multilabel = y_train.ndim == 2
    if model_name == "random":
        rng = np.random.RandomState(seed + fold.index)
        if multilabel:
            probs = y_train.mean(axis=0)
            y_pred = (rng.random((n_test, y_train.shape[1])) < probs).astype(int)
            y_score = rng.random((n_test, y_train.shape[1]))
        else:
            counts = Counter(y_train.tolist())
            classes = sorted(counts)
            p = np.array([counts[c] for c in classes], dtype=float)
            y_pred = rng.choice(classes, size=n_test, p=p / p.sum())
            y_score = rng.random(n_test)
    elif model_name == "majority":
        if multilabel:
            rate = y_train.mean(axis=0)
            y_pred = np.tile((rate > 0.5).astype(int), (n_test, 1))
            y_score = np.tile(rate, (n_test, 1))
        else:
            y_pred = np.full(n_test, Counter(y_train.tolist()).most_common(1)[0][0])
            y_score = np.zeros(n_test)
    else:
        clf = make_model(model_name, seed)
        clf.fit(X_train, y_train)
        y_pred = clf.predict(X_test)
        proba = clf.predict_proba(X_test)
        y_score = proba[:, 1] if (not multilabel and proba.shape[1] == 2) else proba
    return FoldPrediction(fold.index, np.asarray(y_pred), np.asarray(y_score, dtype=float), time.perf_counter() - t0)


def plugin_fold_inputs(data: TaskData, fold: Fold) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test) a model plug-in gets on a binary task's fold: the baselines' preprocessed
    features (``preprocess_fold``, fitted on the training rows) and training labels; no test label."""
    y_enc, _ = encode_labels(data)
    tr, te = np.asarray(fold.train_rows), np.asarray(fold.test_rows)
    X_train, X_test = preprocess_fold(data.X[tr], data.X[te], data.pca)
    return X_train, y_enc[tr], X_test


def plugin_prediction(fold: Fold, scores, fit_seconds: float = 0.0) -> FoldPrediction:
    """A plug-in's fold prediction: its P(class 1) as the score, class 1 where it is >= 0.5."""
    s = np.asarray(scores, dtype=float)
    return FoldPrediction(fold.index, (s >= 0.5).astype(int), s, fit_seconds)


def baseline_seeds(run_seeds: list[int]) -> list[int]:
    """The seeds the baselines are fitted with: 42 alone for one run seed (the published protocol); with
    several (``--seeds``), each of them, plus 42 if absent (the published layout keeps seed 42's numbers)."""
    if len(run_seeds) <= 1:
        return [SEED]
    return sorted(set(run_seeds) | {SEED})


def run_baseline(model_name: str, data: TaskData, folds: list[Fold], seed: int = SEED) -> list[FoldPrediction]:
    """One baseline on every fold, its models, PCA and Random draws seeded with ``seed`` (42: as published)."""
    y_enc, _ = encode_labels(data)
    return [predict_fold(model_name, data, y_enc, f, seed) for f in folds]
