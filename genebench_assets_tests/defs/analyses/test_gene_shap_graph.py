"""Gene-level SHAP through the real graph (demo, 6,000 genes, thymus MHU-2 / RR-9 with the RR-23 holdout).

- Clean, in both protocols: gene_shap writes A4_shap_rf.json, A4_shap_xgb.json (ours, the RF file's layout)
  and A4_shap_directions.json in the published layout (compared key by key with the published files), from
  the protocol's lomo_folds; the numbers are the RF / XGBoost TreeExplainer SHAP of each LOMO fold
  (recomputed here) and the Flight - Ground log2 differences.
- Planted fault: lomo_folds plan the model fit on test samples too, its blocking leakage check fails, and
  a later run of gene_shap is refused in one line (no file, no materialization)."""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pytest

from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets_tests.conftest import PUBLISHED_RESULTS
from genebench_assets_tests.defs.analyses import test_calibration_graph as calibration
from genebench_assets_tests.defs.analyses.test_calibration_graph import baseline  # noqa: F401 (fixture: thymus studies)
from genebench_assets_tests.defs.demo_graph import check_results, cloned_graph
from genebench_assets_tests.defs.gating.refusals import assert_refused, plant_model_fit_on_test_samples

FILES = ("A4_shap_rf.json", "A4_shap_directions.json")
XGB_FILE = "A4_shap_xgb.json"
PCA_LR_FILE = "A4_pca_lr_gene_coefficients.json"


def graph_at(root, protocol="strict"):
    """The calibration tests' demo graph (thymus MHU-2 / RR-9 / RR-23), under `protocol`."""
    g = calibration.graph_at(root)
    g.settings = GenebenchSettings(data_dir=g.settings.data_dir, protocol=protocol, catalog_path=g.settings.catalog_path)
    g.resources["settings"] = g.settings
    return g


@pytest.mark.parametrize("protocol", ["seed", "strict"])
def test_gene_shap_in_the_published_layout(baseline, tmp_path, protocol):
    from genebench_assets.defs.analyses.gene_shap import published_file
    from genebench_assets.defs.gating.tissue_inputs import load_tissue
    from genebench_assets.science.analyses import gene_shap as gs
    from genebench_assets.science.pathways.gene_sets import read_symbol_map
    from genebench_assets.science.tasks.folds import Fold, fold_matrices, fold_test_labels, model_fit_rows

    with cloned_graph(baseline, tmp_path, make_graph=lambda root: graph_at(root, protocol)) as g:
        result = g.tissue("thymus", ["lomo_folds", "gene_shap"])
        assert result.success
        store = g.settings.table_store()
        rf, directions = (json.loads(published_file(store, "thymus", name).read_text()) for name in FILES)
        detail = store.read_json("gene_shap", "thymus")
        assert detail["protocol"] == protocol and detail["simulated"] is True
        # the published layout, key by key (the published files are the real A4's)
        if (PUBLISHED_RESULTS / "genelab_evaluation").is_dir():
            for name, ours in zip(FILES, (rf, directions)):
                published = json.loads((PUBLISHED_RESULTS / "genelab_evaluation" / name).read_text())
                assert gs.layout_differences(ours, published) == [], name
        assert (rf["task_id"], rf["tissue"], rf["model"], rf["top_n"], rf["n_folds"]) == ("A4", "thymus", "rf", 50, 2)
        assert len(rf["top_genes"]) == 50 and [d["rank"] for d in directions] == list(range(1, 51))
        symbols = read_symbol_map(g.source.demo_root(g.settings.data_dir) / "gene_sets" / "demo_symbol_map.csv").to_dict()
        assert list(rf["top_genes"]) == [symbols.get(e["ensembl"], e["ensembl"]) for e in rf["top_genes"].values()]
        assert [d["gene"] for d in directions] == list(rf["top_genes"])
        xgb = json.loads(published_file(store, "thymus", XGB_FILE).read_text())
        assert gs.layout_differences(xgb, rf) == [] and (xgb["model"], xgb["n_folds"], len(xgb["top_genes"])) == ("xgb", 2, 50)
        assert set(detail["files"]) == {*FILES, XGB_FILE, PCA_LR_FILE} and set(detail["models"]) == {"rf", "xgb"}
        pca_lr = json.loads(published_file(store, "thymus", PCA_LR_FILE).read_text())
        assert (pca_lr["model"], pca_lr["n_folds"], len(pca_lr["top_genes"])) == ("pca_lr", 2, 50)
        assert detail["models_agreement"]["models"] == ["rf", "xgb"]
        # the numbers: each LOMO fold's SHAP recomputed from the stored folds and the promoted expression
        folds = [Fold.from_dict(d) for d in store.read_json("lomo_folds", "thymus") if not d.get("holdout")]
        assert [f.test_mission for f in folds] == ["MHU-2", "RR-9"]
        expression = load_tissue(store, g.settings.catalog(), "thymus").expression
        for fold in folds:
            X_train, y_train, X_test = fold_matrices(fold, expression)
            X_train, y_train = model_fit_rows(fold, X_train, y_train)
            coefs = gs.fold_pca_lr_coefficients(X_train, y_train, name=fold.test_mission)
            for e in pca_lr["top_genes"].values():
                e.setdefault("per_fold", []).append(float(coefs.get(e["ensembl"], 0.0)))
            for model in ("rf", "xgb"):
                shap = gs.fold_shap(X_train, y_train, X_test, name=fold.test_mission, model=model)
                stored = detail["models"][model]["per_fold_top"][fold.test_mission]
                assert stored == {gene: float(shap.get(gene, 0.0)) for gene in stored}
        for e in pca_lr["top_genes"].values():  # the PCA-LR coefficients recomputed per fold, then averaged
            assert e["mean_coef"] == pytest.approx(np.mean(e["per_fold"]), rel=1e-9, abs=1e-12)
            assert e["abs_mean_coef"] == pytest.approx(np.mean(np.abs(e["per_fold"])), rel=1e-9, abs=1e-12)
        for model, doc in (("rf", rf), ("xgb", xgb)):
            per_fold = detail["models"][model]["per_fold_top"]
            for e in doc["top_genes"].values():
                assert e["mean_abs_shap"] == pytest.approx(np.mean([per_fold[m][e["ensembl"]] for m in ("MHU-2", "RR-9")]),
                                                           rel=1e-12 if model == "rf" else 1e-6)  # XGBoost: float32
        top = next(iter(rf["top_genes"].values()))["ensembl"]
        diffs = {}
        for fold in folds:
            y = fold_test_labels(fold)
            diffs[fold.test_mission] = expression.loc[top, y.index[y == 1.0]].mean() - expression.loc[top, y.index[y == 0.0]].mean()
        labels = [fold_test_labels(f) for f in folds]
        flight = [s for y in labels for s in y.index[y == 1.0]]
        ground = [s for y in labels for s in y.index[y == 0.0]]
        expected = (expression.loc[top, flight].mean() - expression.loc[top, ground].mean() if protocol == "seed"
                    else np.mean(list(diffs.values())))
        assert directions[0]["delta"] == round(expected, 2)
        assert directions[0]["direction"] == ("\u2191" if expected > 0 else "\u2193")
        assert detail["models"]["rf"]["per_mission_delta"][top] == pytest.approx(diffs)
        mat = g.instance.fetch_materializations(dg.AssetKey("gene_shap"), limit=1).records[0].asset_materialization
        md = mat.metadata
        assert {"provenance", "top_features", "top_features_plot", "rank_agreement_mean_spearman",
                "rank_agreement_top10_overlap", "seed_vs_strict", "xgb_top_features", "xgb_top_features_plot",
                "xgb_rank_agreement_mean_spearman", "rf_vs_xgb_mean_spearman", f"file_{XGB_FILE}",
                "pca_lr_rank_agreement_mean_spearman", "pca_lr_top_features", f"file_{PCA_LR_FILE}"} <= set(md)
        assert "data:image/png;base64," in md["top_features_plot"].value
        assert "data:image/png;base64," in md["xgb_top_features_plot"].value
        # the recorded data version is the files' on disk (what readers of gene_shap compare through the gate)
        from genebench_assets.defs.analyses.gene_shap import gene_shap_version
        assert mat.tags["dagster/data_version"] == gene_shap_version(store, "thymus")


def test_a_later_run_refuses_folds_whose_leakage_check_failed(baseline, tmp_path, monkeypatch):
    from genebench_assets.defs.analyses.gene_shap import published_file

    plant_model_fit_on_test_samples(monkeypatch)
    check = "leakage_fitted_steps_saw_training_only"
    with cloned_graph(baseline, tmp_path, make_graph=graph_at) as g:
        assert check_results(g.tissue("thymus", ["lomo_folds"]))[check] is False
        later = g.run(["gene_shap"], "thymus")
        assert_refused(later, "gene_shap", "lomo_folds", "thymus", check)
        store = g.settings.table_store()
        assert not store.exists("gene_shap", "thymus", ext="json")
        assert not any(published_file(store, "thymus", name).exists() for name in (*FILES, XGB_FILE, PCA_LR_FILE))
        assert not g.instance.fetch_materializations(dg.AssetKey("gene_shap"), limit=1).records
        # The other new readers of lomo_folds (J3, the ISS-only variant) refuse the same folds, writing nothing.
        for reader in ("batch_corrected_features", "a1_iss_only_results"):
            assert_refused(g.run([reader], "thymus"), reader, "lomo_folds", "thymus", check)
            assert not g.instance.fetch_materializations(dg.AssetKey(reader), limit=1).records
