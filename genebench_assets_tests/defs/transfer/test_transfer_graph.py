"""Category B and the negative controls through the real Dagster graph, on the demo mirror
(gastrocnemius RR-1 / RR-5 / RR-9, 6000 genes: sample QC needs >= 5000 detected, studies materialized once in a persistent instance and
cloned per case).

- A clean run: six pair folds, both blocking checks pass, PCA-LR and LFC-direction evaluated per pair
  and per tissue.
- Each blocking check fails on a planted fault, and then transfer_predictions / transfer_evaluation
  have no table on disk and no materialization event.
- negative_controls: NC1's null is computed and shown (histogram), NC2 runs on a housekeeping list and
  reports a flag rather than passing silently.
"""

from __future__ import annotations

import dataclasses

import dagster as dg
import pytest

from genebench_assets.definitions import defs
from genebench_assets_tests.defs.gating.refusals import assert_refused
from genebench_assets_tests.defs.demo_graph import check_results, cloned_graph, materialized, mirror_baseline

TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]
VICTIM = "Mmus_C57-6J_GST_RR9_FLT_Rep1_F1"  # an RR-9 sample
B_ASSETS = ["transfer_pair_folds", "transfer_predictions", "transfer_evaluation"]
DOWNSTREAM = ["transfer_predictions", "transfer_evaluation"]




@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    root = tmp_path_factory.mktemp("transfer_baseline")
    return mirror_baseline(root, TISSUE, MISSIONS)


@pytest.fixture
def clone(baseline, tmp_path):
    with cloned_graph(baseline, tmp_path) as g:
        yield g


def _nothing_downstream(g, result):
    assert not set(DOWNSTREAM) & set(materialized(result))
    store = g.settings.table_store()
    assert not store.exists("transfer_predictions", TISSUE)
    assert not store.exists("transfer_evaluation", TISSUE, ext="json")
    for key in DOWNSTREAM:
        assert g.instance.get_latest_materialization_event(dg.AssetKey(key)) is None


def _later_run_refused(g, check):
    """A separate, later run of only the readers (the UI's "Materialize selected"): the read gate refuses
    the pair folds whose blocking check failed, in one line; nothing is written or recorded."""
    for reader in DOWNSTREAM:  # each alone: together, transfer_evaluation would only be skipped
        later = g.run([reader], TISSUE)
        assert_refused(later, reader, "transfer_pair_folds", TISSUE, check)
        _nothing_downstream(g, later)


def test_clean_run_evaluates_every_ordered_pair_with_both_methods(clone):
    result = clone.tissue(TISSUE, B_ASSETS)
    assert result.success
    assert check_results(result) == {"transfer_pairs_train_test_disjoint": True, "transfer_pairs_class_minimums": True}
    assert materialized(result) == B_ASSETS
    store = clone.settings.table_store()
    pairs = store.read_frame("transfer_evaluation_pairs", TISSUE)
    expected = {f"pair_{a}_{b}" for a in MISSIONS for b in MISSIONS if a != b}
    for model in ("pca_lr", "lfc_direction"):
        assert set(pairs.loc[pairs["model"] == model, "fold_id"]) == expected
    assert pairs[["auroc", "ci_lower", "ci_upper", "perm_p"]].notna().all().all()
    summary = {r["model"]: r for r in store.read_json("transfer_evaluation", TISSUE)}
    assert summary["pca_lr"]["n_pairs"] == 6 and summary["pca_lr"]["go_rule"].startswith("none")
    meta = result.asset_materializations_for_node("transfer_evaluation")[0].metadata
    assert "B2 gastrocnemius" in meta["summary"].value and "lfc_direction" in meta["summary"].value


def _with_pathway_features(g):
    """Both feature sets, the demo mirror's gene sets (the mirror source defaults to Hallmark)."""
    from genebench_assets.defs.models.resources import ModelSettings
    from genebench_assets.defs.pathways.resources import GeneSetSettings

    g.resources["model_settings"] = ModelSettings(models=["lr"], feature_sets=["genes", "pathways"])
    g.resources["gene_set_settings"] = GeneSetSettings(
        collections={"demo": str(g.mirror / "gene_sets" / "demo_pathways.gmt")},
        symbol_map=str(g.mirror / "gene_sets" / "demo_symbol_map.csv"))
    return g


def test_pathway_features_run_on_the_same_pair_folds_checks_and_evaluation(clone, monkeypatch):
    """Category B on pathway features (strict): the same pair folds (and their blocking checks), GSVA
    built by Category A's pathway fold builder with the kernel reference = the training mission's
    samples recorded in the fold, the same models and the same evaluation, side by side with genes."""
    from collections import Counter

    from genebench_assets.defs.transfer.assets import read_pair_folds
    from genebench_assets.science.pathways import pathway_scoring

    references = []  # (samples scored, reference) per GSVA call
    original = pathway_scoring.gsva_with_reference

    def spy(expr, sets, *, reference_samples, **kw):
        references.append((frozenset(expr.columns), tuple(reference_samples)))
        return original(expr, sets, reference_samples=reference_samples, **kw)

    monkeypatch.setattr(pathway_scoring, "gsva_with_reference", spy)
    result = _with_pathway_features(clone).tissue(TISSUE, B_ASSETS)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert check_results(result) == {"transfer_pairs_train_test_disjoint": True, "transfer_pairs_class_minimums": True}
    store = clone.settings.table_store()
    _, folds = read_pair_folds(store, TISSUE)
    # one GSVA per pair fold, its reference exactly the fold's training (one mission) samples
    assert len(folds) == 6
    assert Counter(references) == Counter((frozenset(f.train_ids) | frozenset(f.test_ids), tuple(f.train_ids))
                                          for f in folds)
    pairs = store.read_frame("transfer_evaluation_pairs", TISSUE)
    assert set(map(tuple, pairs[["feature_set", "model"]].drop_duplicates().to_numpy())) == {
        (fs, m) for fs in ("genes", "pathways") for m in ("pca_lr", "lfc_direction")}
    assert pairs[["auroc", "ci_lower", "ci_upper", "perm_p"]].notna().all().all()
    summary = {(r["feature_set"], r["model"]): r for r in store.read_json("transfer_evaluation", TISSUE)}
    assert all(summary[k]["n_pairs"] == 6 for k in summary)
    # genes are unchanged by adding the pathway feature set (each (feature set, model) has its own streams)
    meta = result.asset_materializations_for_node("transfer_evaluation")[0].metadata
    assert {"mean_auroc_genes_pca_lr", "mean_auroc_pathways_pca_lr", "mean_auroc_pathways_lfc_direction"} <= set(meta)
    assert "| pathways | lfc_direction |" in meta["summary"].value
    print({k: round(v["mean_auroc"], 3) for k, v in summary.items()})


def test_a_sample_of_the_test_mission_in_the_training_mission_fails_disjointness(clone, monkeypatch):
    """The study assembly says one RR-9 sample (in OSD-326's raw file) is of RR-1: it lands in the
    training side of pair_RR-1_RR-9, as a test-mission animal. The raw file says otherwise."""
    from genebench_assets.science.osdr import parsing

    original = parsing.assemble_pair

    def assemble(*args, **kwargs):
        counts, samples = original(*args, **kwargs)
        if VICTIM in samples.index:
            samples.loc[VICTIM, "mission"] = "RR-1"
        return counts, samples

    monkeypatch.setattr(parsing, "assemble_pair", assemble)
    assert clone.study(TISSUE, "RR-9").success
    result = clone.tissue(TISSUE, B_ASSETS)
    checks = check_results(result)
    assert checks["transfer_pairs_train_test_disjoint"] is False
    ev = next(e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.check_name == "transfer_pairs_train_test_disjoint")
    failures = ev.event_specific_data.metadata["failures"].value
    assert f"pair_RR-1_RR-9: train {VICTIM}" in failures and "held-out mission RR-9" in failures
    _nothing_downstream(clone, result)
    _later_run_refused(clone, "transfer_pairs_train_test_disjoint")


def test_a_pair_built_with_too_few_training_samples_fails_class_minimums(clone, monkeypatch):
    """A regressed pair builder that keeps only two Flight samples of RR-9 in pair_RR-9_RR-1."""
    from genebench_assets.science.tasks import transfer_folds

    original = transfer_folds.build_pair_folds

    def short_builder(*args, **kwargs):
        folds = original(*args, **kwargs)
        for i, f in enumerate(folds):
            if f.fold_id == "pair_RR-9_RR-1":
                keep = [j for j, y in enumerate(f.y_train) if y == 0.0] + [j for j, y in enumerate(f.y_train) if y == 1.0][:2]
                folds[i] = dataclasses.replace(
                    f, train_ids=tuple(f.train_ids[j] for j in keep), y_train=tuple(f.y_train[j] for j in keep),
                    fitted_steps={k: tuple(f.train_ids[j] for j in keep) for k in f.fitted_steps})
        return folds

    monkeypatch.setattr(transfer_folds, "build_pair_folds", short_builder)
    result = clone.tissue(TISSUE, B_ASSETS)
    checks = check_results(result)
    assert checks == {"transfer_pairs_train_test_disjoint": True, "transfer_pairs_class_minimums": False}
    ev = next(e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.check_name == "transfer_pairs_class_minimums")
    assert "pair_RR-9_RR-1: train mission has 2 Flight (< 3)" in ev.event_specific_data.metadata["failures"].value
    _nothing_downstream(clone, result)
    _later_run_refused(clone, "transfer_pairs_class_minimums")


def _negative_controls(g, **config):
    assert g.tissue(TISSUE, ["lomo_folds"]).success
    key = dg.AssetKey("negative_controls")
    checks = [c for c in defs.asset_checks if any(k.asset_key == key for k in c.check_keys)]
    return dg.materialize(
        [*defs.assets, *checks], selection=[key], partition_key=TISSUE, instance=g.instance,
        resources=g.resources, raise_on_error=False,
        run_config={"ops": {"negative_controls": {"config": config}}})


def _rerun_control_checks(g, change) -> dict:
    """Rewrite the stored negative_controls document with `change` (a planted, hand-made edit of the
    recorded summaries) and run its two checks alone on it."""
    store = g.settings.table_store()
    doc = store.read_json("negative_controls", TISSUE)
    change(doc)
    store.write_json(doc, "negative_controls", TISSUE)
    key = dg.AssetKey("negative_controls")
    checks = [c for c in defs.asset_checks if any(k.asset_key == key for k in c.check_keys)]
    owner = [a for a in defs.assets if key in a.keys]  # the partitioned asset whose checks run alone
    # a checks-only run of one partition (Dagster infers a run's partitions from its assets, and none is
    # selected here): the partition is given as the run's partition tag
    job = dg.define_asset_job("control_checks", selection=dg.AssetSelection.checks_for_assets(key))
    result = dg.Definitions(assets=owner, asset_checks=checks, jobs=[job], resources=g.resources).resolve_job_def(
        "control_checks").execute_in_process(tags={"dagster/partition": TISSUE}, instance=g.instance, raise_on_error=False)
    assert not materialized(result)
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_negative_controls_compute_the_null_and_flag_nc2(clone, tmp_path):
    # NC2 on the demo: the published 58 symbols do not exist among simulated genes, so every demo symbol
    # stands in as the "housekeeping" list - a planted fault: it carries the simulated Flight effect, so
    # the control must be reported as a flag outside [0.35, 0.65], not pass.
    hk = tmp_path / "hk.txt"
    hk.write_text("\n".join(f"Simg{i:04d}" for i in range(1, 6001)) + "\n")
    result = _negative_controls(clone, n_permutations=10, housekeeping_symbols=str(hk),
                                symbol_map=str(clone.mirror / "gene_sets" / "demo_symbol_map.csv"))
    # n_permutations: each PCA-LR refit on ~4,500 genes takes about 1 s on this machine
    assert result.success
    doc = clone.settings.table_store().read_json("negative_controls", TISSUE)
    nc1 = doc["nc1"]
    assert set(nc1["per_fold"]) == {f"fold_{m}_test" for m in MISSIONS}
    assert all(v["n"] == 10 for v in nc1["per_fold"].values())
    assert abs(nc1["pooled"]["mean"] - 0.5) <= nc1["pooled"]["allowed_deviation"], nc1["pooled"]
    meta = result.asset_materializations_for_node("negative_controls")[0].metadata
    assert meta["nc1_null_histogram"].value.startswith("![NC1 null gastrocnemius](data:image/png;base64,")
    nc2 = doc["nc2"]
    assert nc2["n_mapped_symbols"] == 6000 and nc2["n_genes_in_matrix"] > 0
    assert nc2["mean_auroc"] > 0.65 and nc2["flag"].startswith("housekeeping-gene mean AUROC")
    assert meta["n_flags"].value >= 1 and "NC2:" in meta["flags"].value
    assert check_results(result) == {"nc1_null_centred_on_half": True, "nc2_housekeeping_within_interval": False}

    # NC2 is recomputed from the stored housekeeping-gene scores: a recorded summary edited to look
    # in range (mean 0.5, no flag) does not make it pass, and says what disagrees.
    def in_range(d):
        d["nc2"].update(mean_auroc=0.5, flag=None)
        for row in d["nc2"]["per_fold"]:
            row["auroc"] = 0.5
    evals = _rerun_control_checks(clone, in_range)
    nc2_failures = evals["nc2_housekeeping_within_interval"].metadata["failures"].value
    assert not evals["nc2_housekeeping_within_interval"].passed
    assert "outside SPEC" in nc2_failures and "recorded mean AUROC 0.5 is not the stored scores'" in nc2_failures
    assert evals["nc1_null_centred_on_half"].passed


def test_a_null_that_was_not_permuted_is_flagged_by_nc1(clone, monkeypatch):
    """Planted fault: the permutation draw returns the identity, so every 'null' refit sees the true
    training labels; the null then sits at the model's real AUROC and NC1 must say so."""
    import numpy as np

    from genebench_assets.science.evaluation import metrics

    monkeypatch.setattr(metrics, "permutation_indices", lambda n, n_perm, randomness="seed_randomstate":
                        np.tile(np.arange(n), (n_perm, 1)))
    result = _negative_controls(clone, n_permutations=3)
    assert result.success
    assert check_results(result)["nc1_null_centred_on_half"] is False
    nc1 = clone.settings.table_store().read_json("negative_controls", TISSUE)["nc1"]
    assert nc1["pooled"]["flag"].startswith("null mean") and nc1["pooled"]["mean"] > 0.55

    # NC1 is recomputed from the stored null predictions: the recorded summary edited to look centred
    # (the asset's own flag cleared) still fails.
    def centred(d):
        d["nc1"]["pooled"].update(mean=0.5, flag=None, centred_on_0_5=True)
        for v in d["nc1"]["per_fold"].values():
            v.update(mean=0.5, flag=None, centred_on_0_5=True)
    evals = _rerun_control_checks(clone, centred)
    failures = evals["nc1_null_centred_on_half"].metadata["failures"].value
    assert not evals["nc1_null_centred_on_half"].passed
    assert "null mean" in failures and "recorded pooled null mean 0.5 is not the stored predictions'" in failures
