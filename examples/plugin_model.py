"""A genebench model plug-in: any factory returning an object with scikit-learn's fit / predict_proba.

    genebench materialize --model-spec ridge_lr=examples.plugin_model:make_model --seeds 42,43,44

(run from the repository root, or install your package with an entry point of group `genebench.models`).
See docs/models.md."""

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def make_model(seed: int = 42):
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000,
                                                              random_state=seed))
