"""Category C methods A and B with gene features, and J5 gene vs pathway, through the real Dagster graph, on the demo source with
a small catalog (thymus MHU-2 / RR-6, kidney RR-1 / RR-3: task C4 thymus -> kidney, D5_thymus,
D4; 6,000 genes).

- Clean: both blocking checks pass; strict method B's gene list comes from the training tissue only; the
  seed's (as published) reads the test tissue's labels and is flagged and reported, not failed.
- Planted fault: a regressed method B selection that reads the test labels in strict, while still
  recording training-only label samples. The check re-runs the selection with the test labels permuted,
  fails, and cross_tissue_gene_transfer has no result file and no materialization."""

from __future__ import annotations

import dagster as dg
import pytest

from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets_tests.defs.gating.refusals import assert_refused
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, cloned_graph, materialized
from genebench_assets_tests.defs.transfer.test_nes_vs_transfer_graph import small_catalog

STUDIES = {("thymus", "MHU-2"), ("thymus", "RR-6"), ("kidney", "RR-1"), ("kidney", "RR-3")}
TISSUES = ["thymus", "kidney"]
C_ASSETS = ["cross_tissue_gene_folds", "cross_tissue_gene_transfer"]
CHECKS = {"cross_tissue_gene_folds_disjoint", "cross_tissue_gene_lists_from_training_tissue"}


def graph_at(root):
    g = DemoGraph(root / "data")
    g.settings = GenebenchSettings(data_dir=str(root / "data"), protocol="strict", catalog_path=str(root / "catalog.yaml"))
    g.resources.update(settings=g.settings, model_settings=ModelSettings(models=["pca_lr"], feature_sets=["genes", "pathways"]))
    (root / "dagster_home").mkdir(exist_ok=True)
    g.instance = dg.DagsterInstance.local_temp(tempdir=str(root / "dagster_home"))
    return g


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    root = tmp_path_factory.mktemp("c_genes")
    small_catalog(root / "catalog.yaml", STUDIES, TISSUES)
    g = graph_at(root)
    assert g.run(["osdr_catalog", "gene_sets"]).success
    for tissue, mission in sorted(STUDIES):
        assert g.study(tissue, mission).success, (tissue, mission)
    # Category A on kidney with both feature sets, for J5; thymus needs its folds only (C and D read
    # the study versions lomo_folds promoted)
    assert g.tissue("kidney", ["lomo_folds", "model_predictions", "evaluation_summary"]).success
    g.resources["model_settings"] = ModelSettings(models=["pca_lr"], feature_sets=["genes"])
    assert g.tissue("thymus", ["lomo_folds"]).success
    g.instance.dispose()
    return root


@pytest.fixture
def clone(baseline, tmp_path):
    with cloned_graph(baseline, tmp_path, make_graph=graph_at) as g:
        yield g


def _later_run_refused(g, reader, partition, asset, asset_partition, check, result_file):
    """A separate, later run of only the reader (the UI's "Materialize selected"): the read gate refuses
    the input version whose blocking check failed, in one line; no result file, no materialization."""
    later = g.run([reader], partition)
    assert_refused(later, reader, asset, asset_partition, check)
    assert not result_file.exists()
    assert not g.instance.fetch_materializations(dg.AssetKey(reader), limit=1).records


def _read(g, asset):
    from genebench_assets.defs.categories.assets import read_result

    return read_result(g.settings, asset, "C4")


def test_methods_a_and_b_seed_and_strict_side_by_side(clone):
    result = clone.run(C_ASSETS, "C4")
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert check_results(result) == {c: True for c in CHECKS}
    assert materialized(result) == C_ASSETS
    folds = _read(clone, "cross_tissue_gene_folds")
    assert folds["strict"]["method_b"]["gene_list_from"] == ["thymus"]
    assert folds["seed"]["method_b"]["gene_list_from"] == ["thymus", "kidney"]
    assert "defect 1" in folds["seed"]["method_b"]["flag"] and "flag" not in folds["strict"]["method_b"]
    assert set(folds["strict"]["method_a"]["variance_filter_fitted_on"]) == set(folds["strict"]["method_a"]["train_ids"])
    doc = _read(clone, "cross_tissue_gene_transfer")
    for p in ("seed", "strict"):
        for m in ("method_a", "method_b"):
            r = doc[p][m]
            if p == "seed" and m == "method_b" and r["auroc"] is None:
                # the demo's Flight effects are tissue-specific: few DEGs are shared, reported not fitted
                assert r["n_features"] < 2 and "needs >= 2" in r["not_computed"]
                continue
            assert 0.0 <= r["auroc"] <= 1.0 and r["ci_low"] <= r["auroc"] <= r["ci_high"] and 0 < r["perm_p"] <= 1
            assert r["n_train"] == len(folds[p][m]["train_ids"]) and r["n_features"] == len(folds[p][m]["genes"])
    ev = next(e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.check_name == "cross_tissue_gene_lists_from_training_tissue")
    # the seed's dependence on test labels is seen by the same evidence, and reported, not failed
    assert "changes when the test tissue's labels are permuted" in ev.event_specific_data.metadata["seed_exceptions"].value
    meta = result.asset_materializations_for_node("cross_tissue_gene_transfer")[0].metadata
    assert "| method_b |" in meta["side_by_side"].value and "defect 1" in meta["side_by_side"].value


def test_a_strict_gene_list_read_from_test_labels_fails_the_check_and_stops_the_fit(clone, monkeypatch):
    from genebench_assets.defs.categories.assets import result_path
    from genebench_assets.science.categories import cross_tissue_genes

    original = cross_tissue_genes.method_b_genes

    def leaky(train, y_train, test, y_test, *, candidates, protocol):
        out = original(train, y_train, test, y_test, candidates=candidates, protocol="seed")
        if protocol == "strict":  # the record claims training-only labels and no flag: only the data can tell
            out.update(gene_list_from=[train.tissue], gene_list_label_samples=list(y_train.index))
            out.pop("flag")
        return out

    monkeypatch.setattr(cross_tissue_genes, "method_b_genes", leaky)
    result = clone.run(C_ASSETS, "C4")
    assert not result.success
    checks = check_results(result)
    assert checks == {"cross_tissue_gene_folds_disjoint": True, "cross_tissue_gene_lists_from_training_tissue": False}
    ev = next(e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.check_name == "cross_tissue_gene_lists_from_training_tissue")
    assert ev.event_specific_data.description.startswith("C4 method B: the gene list changes when the test tissue's labels")
    assert materialized(result) == ["cross_tissue_gene_folds"]
    assert not result_path(clone.settings, "cross_tissue_gene_transfer", "C4").exists()
    assert clone.instance.get_latest_materialization_event(dg.AssetKey("cross_tissue_gene_transfer")) is None
    _later_run_refused(clone, "cross_tissue_gene_transfer", "C4", "cross_tissue_gene_folds", "C4",
                       "cross_tissue_gene_lists_from_training_tissue",
                       result_path(clone.settings, "cross_tissue_gene_transfer", "C4"))


def test_a_sample_in_both_tissues_fails_disjointness(clone, monkeypatch):
    """A regressed fold builder that also puts one test-tissue sample on the training side."""
    from genebench_assets.defs.categories.assets import result_path
    from genebench_assets.science.categories import cross_tissue_genes

    original = cross_tissue_genes.build_gene_folds

    def overlapping(train, test, **kw):
        folds = original(train, test, **kw)
        for fold in folds.values():
            fold["train_ids"] = fold["train_ids"] + fold["test_ids"][:1]
            fold["y_train"] = fold["y_train"] + fold["y_test"][:1]
        return folds

    monkeypatch.setattr(cross_tissue_genes, "build_gene_folds", overlapping)
    result = clone.run(C_ASSETS, "C4")
    assert check_results(result)["cross_tissue_gene_folds_disjoint"] is False
    assert materialized(result) == ["cross_tissue_gene_folds"]
    assert not result_path(clone.settings, "cross_tissue_gene_transfer", "C4").exists()
    _later_run_refused(clone, "cross_tissue_gene_transfer", "C4", "cross_tissue_gene_folds", "C4",
                       "cross_tissue_gene_folds_disjoint", result_path(clone.settings, "cross_tissue_gene_transfer", "C4"))


def test_later_runs_of_gene_readers_refuse_folds_whose_leakage_check_failed(clone, monkeypatch):
    """Planted: thymus's lomo_folds plan the model fit on training and test samples, so its blocking
    leakage_fitted_steps_saw_training_only fails; later, separate runs of the C and D gene readers of
    those folds are refused."""
    from genebench_assets.defs.categories.assets import result_path
    from genebench_assets_tests.defs.gating.refusals import plant_model_fit_on_test_samples

    plant_model_fit_on_test_samples(monkeypatch)
    result = clone.tissue("thymus", ["lomo_folds"])
    assert check_results(result)["leakage_fitted_steps_saw_training_only"] is False
    check = "leakage_fitted_steps_saw_training_only"
    _later_run_refused(clone, "cross_tissue_gene_folds", "C4", "lomo_folds", "thymus", check,
                       result_path(clone.settings, "cross_tissue_gene_folds", "C4"))
    _later_run_refused(clone, "condition_prediction_genes", "D5_thymus", "lomo_folds", "thymus", check,
                       result_path(clone.settings, "condition_prediction_genes", "D5_thymus"))


def test_j5_puts_gene_and_pathway_lomo_side_by_side(clone):
    from genebench_assets.defs.categories.assets import read_result

    result = clone.run(["j5_gene_vs_pathway"], "kidney")
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    doc = read_result(clone.settings, "j5_gene_vs_pathway", "strict/kidney")
    summary = clone.settings.table_store().read_frame("evaluation_summary", "kidney").set_index(["feature_set", "model"])
    row = doc["models"]["pca_lr"]
    assert list(doc["models"]) == ["pca_lr"]  # controls are not compared
    assert row["gene_mean_auroc"] == summary.loc[("genes", "pca_lr"), "mean_auroc"]
    assert row["pathway_mean_auroc"] == summary.loc[("pathways", "pca_lr"), "mean_auroc"]
    assert set(row["gene_per_fold"]) == set(row["pathway_per_fold"]) == {"RR-1", "RR-3"}
    assert "| pca_lr |" in result.asset_materializations_for_node("j5_gene_vs_pathway")[0].metadata["side_by_side"].value


def test_d_task_with_gene_features_and_its_class_minimums(clone):
    from genebench_assets.defs.categories.assets import read_result

    result = clone.run(["condition_prediction_genes"], "D5_thymus")
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert check_results(result) == {"condition_genes_class_minimums": True}
    doc = read_result(clone.settings, "condition_prediction_genes", "D5_thymus")
    assert set(doc["class_counts"]) == {"MHU", "RR"}
    g = doc["genes"]
    assert 0 <= g["macro_f1"] <= 1 and 0 < g["perm_p"] <= 1 and g["n_features"] > 1000
    assert g["classes"] == ["MHU", "RR"] and sum(map(sum, g["confusion_matrix"])) == sum(doc["class_counts"].values())
    # D4 (strain of the thymus Ground Controls): one strain in this catalog - the check fails, nothing is fitted
    result = clone.run(["condition_prediction_genes"], "D4")
    assert check_results(result) == {"condition_genes_class_minimums": False}
    assert read_result(clone.settings, "condition_prediction_genes", "D4")["genes"] is None


def test_d_class_minimums_recount_the_stored_labels(clone, monkeypatch):
    """Planted: the asset's class counting regresses (one sample more per class than labelled): the
    recorded counts alone would pass; the check recounts the stored labels and the fit's confusion
    matrix and fails."""
    from genebench_assets.science.categories import condition_prediction

    counted = condition_prediction.class_counts
    monkeypatch.setattr(condition_prediction, "class_counts", lambda y: {k: n + 1 for k, n in counted(y).items()})
    result = clone.run(["condition_prediction_genes"], "D5_thymus")
    assert check_results(result) == {"condition_genes_class_minimums": False}
    ev = next(e for e in result.get_asset_check_evaluations() if e.check_name == "condition_genes_class_minimums")
    assert "are not the stored labels'" in ev.description
