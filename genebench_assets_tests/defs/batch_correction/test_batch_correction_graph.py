"""J3 batch correction and the A1 variants through the real graph (demo, 6,000 genes, liver MHU-2 / RR-1 / RR-3;
pca_lr + rf, genes, n_jobs 1), in both protocols.

- Clean: batch_corrected_features (limma for LOMO folds and B pairs, ComBat-seq for the LOMO folds), its blocking
  label check passes; batch_correction_comparison writes the J3 and A1_combat layouts; a1_iss_only_results the
  ISS-only layout without MHU-2.
- Planted fault: a correction that takes the test labels (a design over every sample, fitted with the test mission,
  planted at the science level) - the blocking check fails, batch_correction_comparison is not materialized in that
  run, and a later separate run of it is refused in one line (no file, no materialization)."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest

from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets_tests.conftest import published_path
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, cloned_graph, materialized
from genebench_assets_tests.defs.gating.refusals import assert_refused, step_failures
from genebench_assets_tests.defs.transfer.test_nes_vs_transfer_graph import small_catalog

STUDIES = {("liver", "MHU-2"), ("liver", "RR-1"), ("liver", "RR-3")}
ASSETS = ["batch_corrected_features", "batch_correction_comparison", "a1_iss_only_results"]
CHECK = "batch_correction_test_labels_never_enter"


def graph_at(root, protocol="strict"):
    g = DemoGraph(root / "data")
    g.settings = GenebenchSettings(data_dir=str(root / "data"), protocol=protocol, catalog_path=str(root / "catalog.yaml"))
    g.resources.update(settings=g.settings, model_settings=ModelSettings(models=["pca_lr", "rf"], feature_sets=["genes"],
                                                                         n_jobs=1))
    (root / "dagster_home").mkdir(exist_ok=True)
    g.instance = dg.DagsterInstance.local_temp(tempdir=str(root / "dagster_home"))
    return g


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch_correction")
    small_catalog(root / "catalog.yaml", STUDIES, ["liver"])
    g = graph_at(root)
    assert g.run(["osdr_catalog"]).success
    for tissue, mission in sorted(STUDIES):
        assert g.study(tissue, mission).success, (tissue, mission)
    g.instance.dispose()
    return root


@pytest.mark.parametrize("protocol", ["strict", "seed"])
def test_j3_and_the_a1_variants_in_the_published_layouts(baseline, tmp_path, protocol):
    with cloned_graph(baseline, tmp_path, make_graph=lambda r: graph_at(r, protocol)) as g:
        assert g.tissue("liver", ["lomo_folds"]).success
        result = g.tissue("liver", ASSETS)
        assert result.success, step_failures(result)
        assert check_results(result)[CHECK] is True
        store = g.settings.table_store()
        manifest = store.read_json("batch_corrected_features", "liver", "manifest")
        kinds = {(e["method"], e["kind"]) for e in manifest["entries"]}
        assert kinds == {("limma_rbe", "lomo"), ("limma_rbe", "pair"), ("combat_seq", "lomo")}
        for e in manifest["entries"]:
            test = set(e["fold"]["test_ids"])
            assert e["record"]["labels_from"] == []
            assert bool(test & set(e["record"]["fitted_on"])) is (protocol == "seed")
        out = store.read_json("batch_correction_comparison", "liver")
        pub = json.loads(published_path("genelab_evaluation", "J3_batch_correction_comparison.json").read_text())
        j3 = out["J3_batch_correction_comparison"]
        assert set(j3) == set(pub)  # the table store writes JSON keys sorted
        liver = j3["category_a"]["liver"]
        assert set(liver) == set(pub["category_a"]["liver"])
        assert list(liver["none"]["per_fold"]) == ["MHU-2", "RR-1", "RR-3"]
        assert set(j3["summary"]) <= set(pub["summary"]) and "h2_verdict" in j3["summary"]
        assert j3["category_b"]["liver"]["none"]["n_pairs"] == 6
        combat = out["A1_combat_baseline_results"]
        pub_combat = json.loads(published_path("genelab_evaluation", "A1_combat_baseline_results.json").read_text())
        assert set(combat) == {"rf"} and set(combat["rf"]) == set(pub_combat["rf"])
        assert set(combat["rf"]["folds"][0]) == set(pub_combat["rf"]["folds"][0])
        iss = store.read_json("a1_iss_only_results", "liver")
        assert iss["excluded_missions"] == ["MHU-2"]
        layout = iss["A1_iss_only_baseline_results"]
        pub_iss = json.loads(published_path("genelab_evaluation", "A1_iss_only_baseline_results.json").read_text())
        assert set(layout) == set(pub_iss) and set(layout["model_results"]) == {"pca_lr", "rf"}
        assert set(layout["model_results"]["pca_lr"]["per_fold"]) == {"RR-1", "RR-3"}
        mat = g.instance.fetch_materializations(dg.AssetKey("batch_correction_comparison"), limit=1).records[0]
        meta = mat.asset_materialization.metadata
        assert "provenance" in meta and meta["protocol"].value == protocol
        # The one published J3 file over every tissue with a comparison (here liver), read through the gate.
        summary = g.run(["j3_batch_correction_summary"])
        assert summary.success, step_failures(summary)
        j3_all = json.loads(store.path("j3_batch_correction_summary", "J3_batch_correction_comparison", ext="json").read_text())
        assert list(j3_all) == list(pub)  # the published key order
        assert j3_all["category_a"]["liver"] == liver and j3_all["summary"] == j3["summary"]


def test_a_correction_that_uses_test_labels_is_blocked(baseline, tmp_path, monkeypatch):
    from genebench_assets.science.batch_correction import corrections

    def leaky(fold, protocol, tissue_ids):  # removeBatchEffect / ComBat-seq with design = ~label over every sample
        fit = tuple(map(str, (*fold.train_ids, *fold.test_ids)))
        return corrections.FitPlan(fit, pd.Series((*fold.y_train, *fold.y_test), index=list(fit)))

    with cloned_graph(baseline, tmp_path, make_graph=graph_at) as g:
        assert g.tissue("liver", ["lomo_folds"]).success
        monkeypatch.setattr(corrections, "fit_plan", leaky)
        result = g.tissue("liver", ["batch_corrected_features", "batch_correction_comparison"])
        assert check_results(result)[CHECK] is False
        assert "batch_correction_comparison" not in materialized(result)
        store = g.settings.table_store()
        assert not store.exists("batch_correction_comparison", "liver", ext="json")
        later = g.run(["batch_correction_comparison"], "liver")
        assert_refused(later, "batch_correction_comparison", "batch_corrected_features", "liver", CHECK)
        assert not store.exists("batch_correction_comparison", "liver", ext="json")
        assert not g.instance.fetch_materializations(dg.AssetKey("batch_correction_comparison"), limit=1).records
        # ... and the all-tissue J3 file, which reads the comparisons through the gate, has nothing to assemble.
        summary = g.run(["j3_batch_correction_summary"])
        assert not summary.success and "no tissue has a batch_correction_comparison" in step_failures(summary)[
            "j3_batch_correction_summary"]
        assert not g.instance.fetch_materializations(dg.AssetKey("j3_batch_correction_summary"), limit=1).records
