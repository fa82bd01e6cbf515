"""A6_pathway_hallmark_shap.json from the release's A6 hallmark folds, and TreeExplainer SHAP."""

import json

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.analyses import interpretability as interp
from genebench_assets.science.release import pathway_lomo
from genebench_assets_tests.conftest import published_path, shared_path


def test_a6_hallmark_coefficients_match_published():
    published = json.loads(published_path("genelab_evaluation", "A6_pathway_hallmark_shap.json").read_text())
    folds = pathway_lomo.build_fold_features(shared_path("genelab_release"), "A6", "hallmark")
    ours = interp.coefficient_summary(interp.fold_coefficients(folds), task="A6_eye", db="hallmark")
    diffs, worst = interp.compare_coefficient_summary(ours, published)
    # every field and the pathway order exact; the two floats to numerical-library noise (docs/analyses.md)
    assert diffs == []
    assert worst < 1e-12


def _toy(seed=0, n=40, p=6):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"f{i}" for i in range(p)])
    y = pd.Series((X["f0"] + 0.1 * rng.normal(size=n) > 0).astype(float))
    return X, y


def test_tree_shap_ranks_the_informative_feature_first():
    X, y = _toy()
    for model in ("rf", "xgb"):
        shap_values = interp.tree_shap(X, y, X, model=model)
        assert shap_values.idxmax() == "f0", model


def test_rank_agreement_and_summary_layout():
    per_fold = pd.DataFrame({"a": [3.0, 2.0], "b": [-1.0, -1.5], "c": [0.1, 0.2]}, index=["f1", "f2"])
    agreement = interp.rank_agreement(per_fold, top=2)
    assert agreement["mean_spearman"] == 1.0 and agreement["top2_overlap"] == 1.0
    summary = interp.coefficient_summary(per_fold, task="T", db="kegg")
    assert summary["model"] == "PCA-LR pathway KEGG"
    assert [p["pathway"] for p in summary["pathways"]] == ["a", "b", "c"]
    assert summary["pathways"][1] == {"pathway": "b", "mean_coef": -1.25, "abs_mean_coef": 1.25}


def test_rank_agreement_leaves_out_a_fold_without_ranking():
    """A tree model that made no split in a fold (every |SHAP| 0, as XGBoost on the demo's smallest fold):
    no Spearman with it (NaN otherwise), and its tied zeros are not a top."""
    per_fold = pd.DataFrame({"a": [3.0, 1.0, 0.0], "b": [1.0, 1.5, 0.0], "c": [0.0, 0.2, 0.0]}, index=["f1", "f2", "f3"])
    agreement = interp.rank_agreement(per_fold, top=2)
    assert agreement["n_constant_folds"] == 1
    assert agreement["mean_spearman"] == agreement["min_spearman"] == pytest.approx(0.5)  # f1 vs f2 only
    assert agreement["top2_overlap"] == pytest.approx((1.0 + 0.0 + 0.0) / 3)  # f3 has no top gene
    only_constant = interp.rank_agreement(per_fold.loc[["f1", "f3"]], top=2)
    assert only_constant["mean_spearman"] is None and only_constant["top2_overlap"] == 0.0


def test_top_features_plot_is_a_png():
    assert interp.top_features_png(pd.Series([1.0, -2.0], index=["x", "y"]), title="t")[:4] == b"\x89PNG"
