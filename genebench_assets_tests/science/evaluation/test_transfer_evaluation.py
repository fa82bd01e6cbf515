"""Category B evaluation and the negative controls NC1 / NC2 (SPEC §8) on synthetic pairs."""

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.evaluation.transfer_evaluation import (
    LFC_DIRECTION, evaluate_pairs, housekeeping_folds, housekeeping_gene_ids, lfc_direction_scores, nc2_flag,
    null_centre_flag, null_histogram_png, pair_predictions, read_housekeeping_symbols,
    training_label_permutation_null)
from genebench_assets.science.tasks.transfer_folds import build_pair_folds
from genebench_assets_tests.conftest import shared_path
from genebench_assets_tests.science.tasks.test_folds import LOMO, make_tissue

SIGNAL = [f"G{i:03d}" for i in range(10)]


def _tissue_with_signal(shift=2.0):
    expr, meta = make_tissue()
    flight = meta.index[meta["label"] == 1.0]
    expr.loc[SIGNAL, flight] += shift  # the same Flight effect in every mission: it transfers
    return expr, meta


def test_lfc_direction_is_the_projection_on_the_unit_mean_difference():
    X = pd.DataFrame([[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]])
    y = pd.Series([0.0, 0.0, 1.0, 1.0])
    # u = (1, 0); mean Ground = (0, 1): score = x0
    np.testing.assert_allclose(lfc_direction_scores(X, y, pd.DataFrame([[3.0, 7.0], [-1.0, 0.0]])), [3.0, -1.0])


def test_transfer_evaluation_reports_pairs_and_the_tissue_pattern():
    expr, meta = _tissue_with_signal()
    folds = build_pair_folds(expr, meta, tissue="testis", task_id="B9", missions=LOMO)
    preds = pair_predictions(folds, expr)
    pairs, tissue = evaluate_pairs(preds, folds, protocol="seed", n_boot=200, n_perm=200)
    assert set(pairs["model"]) == {"pca_lr", LFC_DIRECTION}
    assert set(pairs["fold_id"]) == {f.fold_id for f in folds}
    lfc = pairs[pairs["model"] == LFC_DIRECTION]
    assert (lfc["auroc"] > 0.9).all()  # a shared effect transfers along its direction
    row = tissue.set_index("model").loc[LFC_DIRECTION]
    assert row["n_pairs"] == len(folds) and row["mean_auroc"] == pytest.approx(lfc["auroc"].mean())
    assert {"mean_auroc_ci", "n_auroc_ge_0_70", "n_p_lt_0_05", "n_large_pairs", "pooled_auroc", "go_rule"} <= set(tissue.columns)


def test_nc1_null_is_computed_by_refitting_on_permuted_training_labels_and_centres_on_half():
    expr, meta = _tissue_with_signal()
    fold = next(f for f in build_pair_folds(expr, meta, tissue="testis", task_id="B9", missions=LOMO)
                if f.fold_id == "pair_M-B_M-A")
    null = training_label_permutation_null(fold, expr, LFC_DIRECTION, n_perm=200)
    again = training_label_permutation_null(fold, expr, LFC_DIRECTION, n_perm=200)
    np.testing.assert_array_equal(null, again)  # seeded through metrics' one RNG
    summary = null_centre_flag(null)
    assert summary["centred_on_0_5"] and summary["flag"] is None, summary
    assert null_histogram_png({"pair_M-B_M-A": null}, title="NC1")[:8] == b"\x89PNG\r\n\x1a\n"
    # a null that is not centred (e.g. a label leak) is flagged, not passed
    assert null_centre_flag(np.full(50, 0.9))["flag"].startswith("null mean 0.900")


def test_nc2_uses_only_housekeeping_genes_and_flags_outside_the_interval():
    expr, meta = _tissue_with_signal()
    folds = build_pair_folds(expr, meta, tissue="testis", task_id="B9", missions=LOMO)
    hk = housekeeping_folds(folds, ["G050", "G051", "G_missing", "NOT_A_GENE"], expr)
    for f in hk:
        assert set(f.genes) <= {"G050", "G051", "G_missing"} and "NOT_A_GENE" not in f.genes
    assert all("G_missing" not in f.genes for f in hk if "M-B" in (f.test_mission, *f.train_missions))
    assert nc2_flag(0.5) is None and "0.765" in nc2_flag(0.765)


def test_published_housekeeping_list_maps_55_of_58_symbols_through_the_release_map():
    hk_path = shared_path("gene_sets", "housekeeping_mouse_58.txt")
    map_path = shared_path("genelab_release", "processed", "ensembl_symbol_map.csv")
    symbols = read_housekeeping_symbols(hk_path)
    ids, unmapped = housekeeping_gene_ids(symbols, pd.read_csv(map_path))
    assert len(symbols) == 58
    assert len(symbols) - len(unmapped) == 55, unmapped


def test_pathway_features_share_the_pair_folds_and_are_evaluated_per_feature_set():
    """B on a second feature set: the caller's matrices for each pair fold (here the genes G000..G009
    as 'pathways'), the same models and the same evaluation, keyed by feature set."""
    expr, meta = _tissue_with_signal()
    folds = build_pair_folds(expr, meta, tissue="testis", task_id="B9", missions=LOMO)
    calls = []

    def pathway_matrices(fold):
        calls.append(fold.fold_id)
        block = expr.loc[SIGNAL, list(fold.train_ids) + list(fold.test_ids)]
        y = pd.Series(fold.y_train, index=pd.Index(list(fold.train_ids), name="sample_id"))
        return block[list(fold.train_ids)].T, y, block[list(fold.test_ids)].T

    preds = pair_predictions(folds, expr, feature_sets=("genes", "pathways"), pathway_matrices=pathway_matrices)
    assert calls == [f.fold_id for f in folds]  # once per fold, shared by both models
    assert set(preds["feature_set"]) == {"genes", "pathways"}
    genes_only = pair_predictions(folds, expr)
    pd.testing.assert_frame_equal(preds[preds["feature_set"] == "genes"].reset_index(drop=True), genes_only)
    pairs, tissue = evaluate_pairs(preds, folds, protocol="seed", n_boot=100, n_perm=100)
    assert set(map(tuple, tissue[["feature_set", "model"]].to_numpy())) == {
        (f, m) for f in ("genes", "pathways") for m in ("pca_lr", LFC_DIRECTION)}
    lfc_pw = pairs[(pairs["feature_set"] == "pathways") & (pairs["model"] == LFC_DIRECTION)]
    assert (lfc_pw["auroc"] > 0.9).all()  # the planted shared effect transfers on these features too
    with pytest.raises(ValueError, match="needs pathway_matrices"):
        pair_predictions(folds, expr, feature_sets=("pathways",))
