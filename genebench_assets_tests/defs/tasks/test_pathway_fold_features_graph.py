"""Pathway fold features are a product of the tasks stage (issue 9), through the real Dagster graph.

One demo baseline (gastrocnemius RR-1 / RR-5 / RR-9: catalog, gene sets, each study's expression and
per-study GSVA scores, in a persistent instance) is cloned per case. The tissue runs lomo_folds ->
model_predictions -> evaluation_summary with the `pathways` feature set only (GENEBENCH_MODELS=lr,
negative_control style), so the fits are small.

- strict: lomo_folds writes each fold's pathway matrix (GSVA with kernels on the fold's training
  samples); the blocking checks verify exactly that matrix; model_predictions only reads it.
- a planted fault in the GSVA reference (recorded, or hidden behind an honest-looking record) fails a
  blocking check: only lomo_folds is materialized, no model_predictions / evaluation_summary table or event.
- seed and strict tables stand side by side.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.pathways import fold_features
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.tasks import folds as fold_science
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, cloned_graph, materialized

pytestmark = pytest.mark.slow
TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]
STUDY_ASSETS = ["raw_counts", "sample_metadata", "normalized_expression", "pathway_scores"]
TISSUE_ASSETS = ["lomo_folds", "model_predictions", "evaluation_summary"]
GSVA_CHECK = "leakage_pathway_features_match_training_only_gsva"
STEPS_CHECK = "leakage_fitted_steps_saw_training_only"


def _graph(root: Path, protocol: str = "strict") -> DemoGraph:
    g = DemoGraph(root / "data", models=("lr", "negative_control"), feature_sets=("pathways",), protocol=protocol)
    g.resources["model_settings"] = ModelSettings(models=["lr", "negative_control"], feature_sets=["pathways"], n_jobs=1)
    (root / "dagster_home").mkdir(exist_ok=True)
    g.instance = dg.DagsterInstance.local_temp(tempdir=str(root / "dagster_home"))
    g.root = root
    return g


def _with_protocol(g: DemoGraph, protocol: str) -> DemoGraph:
    g.settings = GenebenchSettings(data_dir=str(g.data_dir), protocol=protocol)
    g.resources["settings"] = g.settings
    return g


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    root = tmp_path_factory.mktemp("pathway_features_baseline")
    g = _graph(root)
    assert g.run(["osdr_catalog", "gene_sets"]).success
    for m in MISSIONS:
        result = g.study(TISSUE, m, keys=STUDY_ASSETS)
        assert result.success, m
    g.instance.dispose()
    return root


@pytest.fixture
def clone(baseline, tmp_path):
    with cloned_graph(baseline, tmp_path, _graph) as g:
        yield g


def _stored(g, fold) -> pd.DataFrame:
    return g.settings.table_store().read_frame(fold_features.FOLD_FEATURES, TISSUE, "pathways", fold.fold_id)


def _folds(g):
    return [fold_science.Fold.from_dict(d) for d in g.settings.table_store().read_json("lomo_folds", TISSUE)]


def _assert_blocked(g, result):
    assert materialized(result) == ["lomo_folds"]
    store = g.settings.table_store()
    for asset in ("model_predictions", "evaluation_summary"):
        assert not store.exists(asset, TISSUE), asset
        assert not g.instance.fetch_materializations(dg.AssetKey(asset), limit=1).records, asset


def test_strict_pathway_features_are_built_by_lomo_folds_on_training_samples_and_read_by_the_models(clone):
    from genebench_assets.defs.pathways.assets import load_gene_sets
    from genebench_assets.science.pathways.gene_sets import map_ensembl_to_symbols
    from genebench_assets.science.pathways.pathway_scoring import gsva_with_reference
    from genebench_assets.defs.gating.tissue_inputs import load_tissue

    result = clone.tissue(TISSUE, TISSUE_ASSETS)
    assert result.success
    checks = check_results(result)
    assert checks[GSVA_CHECK] is True and all(v for k, v in checks.items() if k.startswith("leakage_")), checks
    store = clone.settings.table_store()
    manifest = store.read_json(fold_features.FOLD_FEATURES, TISSUE)
    assert manifest["protocol"] == "strict" and manifest["feature_sets"] == ["pathways"]
    assert store.path(fold_features.FOLD_FEATURES, TISSUE, ext="json").parts[-3] == "strict"
    # The training columns are what GSVA gives when the test samples do not exist at all.
    data = load_tissue(store, clone.settings.catalog(), TISSUE)
    sets, symbol_map, _ = load_gene_sets(clone.settings, clone.resources["gene_set_settings"], clone.source)
    folds = _folds(clone)
    assert len(folds) == 3
    for fold in folds:
        stored = _stored(clone, fold)
        train = list(fold.train_ids)
        assert list(fold.fitted_steps[fold_science.STEP_GSVA_REFERENCE]) == train
        assert list(stored.columns) == train + list(fold.test_ids)
        present = data.expression[train + list(fold.test_ids)].dropna(axis=0, how="any").index
        by_symbol, _ = map_ensembl_to_symbols(data.expression.loc[present, train], symbol_map)
        alone = gsva_with_reference(by_symbol, next(iter(sets.values())), reference_samples=train)
        pd.testing.assert_frame_equal(stored[train], alone.loc[stored.index], check_names=False, rtol=0, atol=1e-12)
    # model_predictions declared lomo_folds and read its matrices: one pathway row per test sample and model.
    preds = store.read_frame("model_predictions", TISSUE)
    assert set(preds["feature_set"]) == {"pathways"}
    assert len(preds[preds["model"] == "lr"]) == sum(len(f.test_ids) for f in folds)
    event = next(e for e in result.get_asset_materialization_events()
                 if e.asset_key.to_user_string() == "lomo_folds")
    prov = event.event_specific_data.materialization.metadata["provenance"].value
    assert {"gene_sets", "normalized_expression"} <= {u["asset"] for u in prov["upstream"]}
    assert "training samples" in prov["feature_inputs"]["pathways"]["gsva_fitted"]


def plant_recorded_reference_with_test(monkeypatch):
    """The fold builder plans the GSVA reference on training and test samples; the feature builder
    honestly uses the record, so GSVA is fitted on every sample of the fold."""
    original = fold_science.build_lomo_folds

    def build(*args, **kwargs):
        built = original(*args, **kwargs)
        leaky = [dataclasses.replace(f, fitted_steps={**f.fitted_steps,
                                                      fold_science.STEP_GSVA_REFERENCE: f.train_ids + f.test_ids})
                 for f in built]
        return fold_science.FoldList(leaky, built.skipped)

    monkeypatch.setattr(fold_science, "build_lomo_folds", build)
    return {STEPS_CHECK: False, GSVA_CHECK: False}


def plant_hidden_fit_on_all_samples(monkeypatch):
    """The feature wiring fits GSVA on all samples of the fold while the folds record training samples
    only: the record is clean, only the re-computation of the features can see it."""
    original = fold_features.build_pathway_fold_features

    def build(folds, data, inputs, *, protocol):
        leaky = [dataclasses.replace(f, fitted_steps={**f.fitted_steps,
                                                      fold_science.STEP_GSVA_REFERENCE: f.train_ids + f.test_ids})
                 for f in folds]
        return original(leaky, data, inputs, protocol=protocol)

    monkeypatch.setattr(fold_features, "build_pathway_fold_features", build)
    return {STEPS_CHECK: True, GSVA_CHECK: False}


@pytest.mark.parametrize("plant", [plant_recorded_reference_with_test, plant_hidden_fit_on_all_samples])
def test_gsva_fitted_on_all_samples_fails_a_blocking_check_and_stops_the_models(clone, monkeypatch, plant):
    expected = plant(monkeypatch)
    result = clone.tissue(TISSUE, TISSUE_ASSETS)
    checks = check_results(result)
    for check, passed in expected.items():
        assert checks.get(check) is passed, (check, checks)
    _assert_blocked(clone, result)
    # The failure names what differs (the training columns moved with the test samples).
    event = next(e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
                 and e.event_specific_data.check_name == GSVA_CHECK)
    text = str(event.event_specific_data.metadata)
    assert "differ from the re-computation" in text


def test_seed_and_strict_pathway_features_stand_side_by_side(clone):
    strict = clone.tissue(TISSUE, TISSUE_ASSETS)
    assert strict.success
    strict_store = clone.settings.table_store()
    strict_preds = strict_store.sha256("model_predictions", TISSUE)
    strict_folds = _folds(clone)
    strict_features = {f.fold_id: _stored(clone, f) for f in strict_folds}

    _with_protocol(clone, "seed")
    seed = clone.tissue(TISSUE, TISSUE_ASSETS)
    assert seed.success
    checks = check_results(seed)
    assert all(v for k, v in checks.items() if k.startswith("leakage_")), checks
    seed_store = clone.settings.table_store()
    assert seed_store.path("model_predictions", TISSUE) != strict_store.path("model_predictions", TISSUE)
    # The strict tables are untouched by the seed run, and both protocols' features are on disk.
    assert strict_store.sha256("model_predictions", TISSUE) == strict_preds
    plain = clone.settings.table_store().__class__(clone.data_dir)
    for fold in _folds(clone):
        seed_features = _stored(clone, fold)
        # seed = the stored per-study GSVA scores of the fold's missions, as published
        missions = sorted(set(fold.train_missions) | {fold.test_mission})
        published = fold_science.fold_pathway_scores(
            {m: plain.read_frame("pathway_scores", "demo", TISSUE, m) for m in missions}, missions)
        pd.testing.assert_frame_equal(seed_features, published[seed_features.columns], check_names=False)
        strict_one = strict_features[fold.fold_id]
        assert list(strict_one.columns) == list(seed_features.columns)
        common = strict_one.index.intersection(seed_features.index)
        assert len(common) and not strict_one.loc[common].equals(seed_features.loc[common])  # GSVA in fold vs per study
    for result, protocol in ((strict, "strict"), (seed, "seed")):
        event = next(e for e in result.get_asset_materialization_events()
                     if e.asset_key.to_user_string() == "lomo_folds")
        meta = event.event_specific_data.materialization.metadata
        assert meta["protocol"].value == protocol
        assert meta["provenance"].value["protocol"] == protocol
    seed_steps = next(e for e in seed.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
                      and e.event_specific_data.check_name == STEPS_CHECK)
    assert "pathway_scoring_per_mission" in str(seed_steps.event_specific_data.metadata)
