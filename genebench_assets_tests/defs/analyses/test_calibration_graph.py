"""Holdout, calibration and within-mission LOO through the real graph (demo, 6,000 genes, one tissue:
thymus MHU-2 / RR-9 with the RR-23 holdout; pca_lr (the published within-LOO and calibration model, and the fastest fit) + negative_control, genes, n_jobs 1).

- Clean: holdout_calibration writes the published holdout and calibration layouts; within_mission_loo
  the published within-LOO layout with the cross-mission penalty beside it.
- Planted fault: lomo_folds plan the model fit on test samples too, its blocking leakage check fails, and
  later separate runs of both readers are refused in one line (no file, no materialization)."""

from __future__ import annotations

import dagster as dg
import pytest

from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, cloned_graph
from genebench_assets_tests.defs.gating.refusals import assert_refused, plant_model_fit_on_test_samples
from genebench_assets_tests.defs.transfer.test_nes_vs_transfer_graph import small_catalog

STUDIES = {("thymus", "MHU-2"), ("thymus", "RR-9"), ("thymus", "RR-23")}
READERS = ["holdout_calibration", "within_mission_loo"]


def graph_at(root):
    g = DemoGraph(root / "data")
    g.settings = GenebenchSettings(data_dir=str(root / "data"), protocol="strict", catalog_path=str(root / "catalog.yaml"))
    g.resources.update(settings=g.settings, model_settings=ModelSettings(models=["pca_lr", "negative_control"],
                                                                         feature_sets=["genes"], n_jobs=1))
    (root / "dagster_home").mkdir(exist_ok=True)
    g.instance = dg.DagsterInstance.local_temp(tempdir=str(root / "dagster_home"))
    return g


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    root = tmp_path_factory.mktemp("analyses")
    small_catalog(root / "catalog.yaml", STUDIES, ["thymus"])
    g = graph_at(root)
    assert g.run(["osdr_catalog"]).success
    for tissue, mission in sorted(STUDIES):
        assert g.study(tissue, mission).success, (tissue, mission)
    assert g.tissue("thymus").success
    g.instance.dispose()
    return root


@pytest.fixture
def clone(baseline, tmp_path):
    with cloned_graph(baseline, tmp_path, make_graph=graph_at) as g:
        yield g


def test_holdout_calibration_and_within_loo_in_the_published_layouts(clone):
    result = clone.tissue("thymus", READERS)
    assert result.success
    store = clone.settings.table_store()
    out = store.read_json("holdout_calibration", "thymus")
    hold = out["holdout_results"]["genes"]
    assert set(hold) == {"pca_lr", "negative_control"}
    assert set(hold["pca_lr"]) == {  # the table store writes JSON keys sorted
        "test_mission", "model", "auroc", "bootstrap_mean", "ci_lower", "ci_upper",
                                "perm_pvalue", "n_train", "n_test", "n_genes", "n_flight_test", "n_ground_test",
                                "train_time_s"}
    assert hold["pca_lr"]["test_mission"] == "RR-23" and hold["pca_lr"]["n_flight_test"] == 7 and hold["pca_lr"]["n_ground_test"] == 9
    cal = out["calibration"]["genes"]
    assert cal["model"] == "pca_lr" and list(cal["fold_results"]) == ["MHU-2", "RR-9"]
    assert cal["separation"] == pytest.approx(cal["flight_mean"] - cal["gc_mean"])
    assert 0 <= out["calibration_extended"]["genes"]["pooled"]["brier"] <= 1
    loo = store.read_json("within_mission_loo", "thymus")
    assert loo["task"] == "A4" and list(loo["results"]) == ["MHU-2", "RR-9"]
    assert loo["results"]["RR-9"]["n"] == 20 and loo["results"]["MHU-2"]["n_flight"] == 3
    pen = loo["cross_mission_penalty"]["RR-9"]
    assert pen["cross_mission_penalty"] == pytest.approx(pen["within_loo_auroc"] - pen["lomo_auroc"])
    mat = clone.instance.fetch_materializations(dg.AssetKey("within_mission_loo"), limit=1).records[0]
    assert "provenance" in mat.asset_materialization.metadata


def test_later_runs_refuse_folds_whose_leakage_check_failed(clone, monkeypatch):
    plant_model_fit_on_test_samples(monkeypatch)
    check = "leakage_fitted_steps_saw_training_only"
    assert check_results(clone.tissue("thymus", ["lomo_folds"]))[check] is False
    store = clone.settings.table_store()
    for reader in READERS:
        later = clone.run([reader], "thymus")
        assert_refused(later, reader, "lomo_folds", "thymus", check)
        assert not store.exists(reader, "thymus", ext="json")
        assert not clone.instance.fetch_materializations(dg.AssetKey(reader), limit=1).records
