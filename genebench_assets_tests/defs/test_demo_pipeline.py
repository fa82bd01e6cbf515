"""The real asset graph on the embedded demo, one tissue end to end: raw files -> AUROC, with every
check, absent pairs left alone, and lineage that follows a changed raw file (issues 2, 4, 5)."""

from __future__ import annotations

import pandas as pd
import pytest

from genebench_assets.defs.lineage.tracing import lineage_from_instance
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.science.osdr.demo_simulator import write_demo_mirror
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, materialized

pytestmark = pytest.mark.slow
TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    # The demo's files, read through the mirror mode: a mirror is the user's to change (the demo
    # itself rewrites any file that no longer matches its manifest).
    root = tmp_path_factory.mktemp("demo")
    mirror = root / "mirror"
    write_demo_mirror(mirror, load_catalog(), seed=42, n_genes=6000)
    g = DemoGraph(root / "data", source=OsdrSource(mode="mirror", mirror_root=str(mirror)))
    g.mirror = mirror
    assert g.catalog().success
    g.study_results = {m: g.study(TISSUE, m) for m in MISSIONS}
    # An absent pair's record exists before the tissue runs: the tissue must not take it for a study.
    g.absent_result = g.study(TISSUE, "MHU-1")
    g.tissue_result = g.tissue(TISSUE)
    return g


def test_every_real_study_materializes_with_all_checks_passing(graph):
    for mission, result in graph.study_results.items():
        assert result.success, mission
        assert set(materialized(result)) == {"raw_counts", "sample_metadata", "normalized_expression"}
        checks = check_results(result)
        assert len(checks) == 6 and all(checks.values()), checks


def test_absent_pair_is_recorded_as_absent_and_never_read_as_a_study(graph):
    """Absent pairs get an explicit "absent" record and no table (defs/test_absent_pairs.py); the
    tissue, run after that record existed, still reads exactly the catalog's three missions."""
    result = graph.absent_result
    assert result.success and set(materialized(result)) == {"raw_counts", "sample_metadata", "normalized_expression"}
    assert all(e.event_specific_data.materialization.tags["dagster/data_version"] == "absent"
               for e in result.get_asset_materialization_events())
    assert not TableStore(graph.data_dir).exists("raw_counts", TISSUE, "MHU-1")
    import json

    folds = next(e.event_specific_data.materialization for e in graph.tissue_result.get_asset_materialization_events()
                 if e.asset_key.to_user_string() == "lomo_folds")
    read = json.dumps(folds.metadata["study_versions"].value)
    assert "MHU-1" not in read and all(m in read for m in MISSIONS), read


def test_flight_ground_counts_match_the_catalog(graph):
    meta = TableStore(graph.data_dir).read_frame("sample_metadata", TISSUE, "RR-9")
    binary = meta[~meta["excluded"] & meta["label"].notna()]
    assert (int((binary["label"] == 1).sum()), int((binary["label"] == 0).sum())) == (4, 4)


def test_folds_leakage_checks_and_evaluation(graph):
    assert graph.tissue_result.success
    checks = check_results(graph.tissue_result)
    assert {k for k in checks if k.startswith("leakage_")} == {
        "leakage_no_animal_in_both_splits_by_name_stem", "leakage_no_raw_source_in_both_splits",
        "leakage_fold_missions_match_raw_files", "leakage_fitted_steps_saw_training_only",
        "leakage_feature_columns_trace_to_raw_counts", "leakage_no_expression_near_duplicates",
        "leakage_fold_labels_match_raw_group_strings",
        "leakage_pathway_features_match_training_only_gsva"}  # passes with no pathway features built here
    assert all(checks.values()), checks
    tasks = graph.settings.table_store().read_frame("evaluation_summary", TISSUE).set_index("model")
    assert tasks.loc["positive_control:lr", "mean_auroc"] >= 0.9  # lr finds features planted with the label
    # The positive control runs on one fold, the one with the most training samples, which the evaluation names.
    preds = graph.settings.table_store().read_frame("model_predictions", TISSUE)
    control_folds = set(preds.loc[preds["model"] == "positive_control:lr", "fold_id"])
    event = next(e for e in graph.tissue_result.get_asset_materialization_events()
                 if e.asset_key.to_user_string() == "evaluation_summary")
    named = event.event_specific_data.materialization.metadata["positive_control_fold"].value
    assert len(control_folds) == 1 and named == next(iter(control_folds)), (control_folds, named)
    assert abs(tasks.loc["negative_control", "mean_auroc"] - 0.5) < 0.2
    # The simulated Flight effect in gastrocnemius is moderate: a real model finds it.
    assert tasks.loc["lr", "mean_auroc"] > 0.7
    controls = tasks.index.str.startswith("positive_control:")
    assert set(tasks.loc[~controls, "n_folds"]) == {3} and set(tasks.loc[controls, "n_folds"]) == {1}


def test_lineage_reaches_the_raw_files(graph):
    chain = lineage_from_instance(graph.instance, tissue=TISSUE, model="lr")
    assets = {s["asset"] for s in chain["steps"]}
    assert {"model_predictions", "lomo_folds", "normalized_expression", "sample_metadata", "raw_counts"} <= assets
    on_disk = {(f.parent.name, f.name): sha256_file(f) for f in graph.mirror.glob("OSD-*/*.csv")}
    assert chain["raw_files"], "no raw files in the lineage"
    for f in chain["raw_files"]:
        assert on_disk[(f["osd"], f["file_name"])] == f["sha256"]
    assert {f["osd"] for f in chain["raw_files"]} == {"OSD-101", "OSD-401", "OSD-326"}


def test_changed_raw_file_changes_only_the_affected_lineage(graph, tmp_path):
    """Change one raw counts file: the data versions on its path to the AUROC change; a study that
    does not feed it keeps its version; rerunning an unchanged study gives the same version."""
    store = TableStore(graph.data_dir)
    before = {m: store.sha256("normalized_expression", TISSUE, m) for m in MISSIONS}
    eval_before = graph.settings.table_store().sha256("evaluation_summary", TISSUE)
    counts_file = next(graph.mirror.glob("OSD-326/*Unnormalized_Counts*.csv"))
    df = pd.read_csv(counts_file, index_col=0)
    df.iloc[:200, :4] = (df.iloc[:200, :4] * 3).astype(int)  # a real change to four RR-9 samples
    df.to_csv(counts_file)
    for m in ("RR-9", "RR-1"):
        assert graph.study(TISSUE, m).success
    assert graph.tissue(TISSUE).success
    after = {m: store.sha256("normalized_expression", TISSUE, m) for m in ("RR-9", "RR-1")}
    assert after["RR-9"] != before["RR-9"]
    assert after["RR-1"] == before["RR-1"]  # same input, same version: deterministic end to end
    assert graph.settings.table_store().sha256("evaluation_summary", TISSUE) != eval_before
    chain = lineage_from_instance(graph.instance, tissue=TISSUE, model="lr")
    rr9 = next(f for f in chain["raw_files"] if f["osd"] == "OSD-326" and "Counts" in f["file_name"])
    assert rr9["sha256"] == sha256_file(counts_file)


def test_export_folds_in_the_published_layout(graph, tmp_path, monkeypatch):
    from genebench_assets import cli

    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(graph.data_dir))
    monkeypatch.setattr(cli, "_instance", lambda: graph.instance)  # the instance that recorded the folds' checks
    assert cli.main(["export-folds", "--out", str(tmp_path), "--tissue", TISSUE]) == 0
    task = tmp_path / "A2_gastrocnemius_lomo"
    assert sorted(p.name for p in task.iterdir()) == ["fold_RR-1_test", "fold_RR-5_test", "fold_RR-9_test", "task_info.json"]
    fold = task / "fold_RR-9_test"
    assert {"train_y.csv", "test_y.csv", "train_meta.csv", "test_meta.csv", "selected_genes.txt", "fold_info.json"} <= {
        p.name for p in fold.iterdir()}
    assert (fold / "test_y.csv").read_text().startswith(",0\n")


def _corrupt_counts(path, how):
    lines = path.read_text().splitlines()
    if how == "ragged":
        lines[3] = lines[3] + ",17,18"
    elif how == "negative":
        cells = lines[2].split(",")
        cells[1] = "-5"
        lines[2] = ",".join(cells)
    elif how == "empty":
        lines = []
    path.write_text("\n".join(lines) + ("\n" if lines else ""))


@pytest.mark.parametrize("tissue, mission, osd, kind, how, expected", [
    ("eye", "RR-1", "OSD-100", "counts", "ragged", "OSD-100"),
    ("eye", "RR-3", "OSD-194", "counts", "negative", "-5"),
    ("eye", "TBD", "OSD-397", "counts", "empty", "OSD-397"),
    ("kidney", "RR-1", "OSD-102", "runsheet", "unknown_group", "Space Potato"),
])
def test_bad_input_fails_clearly_and_leaves_nothing(graph, tissue, mission, osd, kind, how, expected):
    folder = graph.mirror / osd
    if kind == "counts":
        target = next(folder.glob("*Unnormalized_Counts*.csv"))
        _corrupt_counts(target, how)
    else:
        target = next(folder.glob("*runsheet*.csv"))
        text = target.read_text().splitlines()
        text[1] = text[1].replace("Space Flight", "Space Potato")
        target.write_text("\n".join(text) + "\n")
    result = graph.study(tissue, mission)
    assert not result.success
    error = next(e for e in result.all_events if e.is_step_failure).event_specific_data.error
    messages = []
    while error is not None:  # Dagster wraps the user's exception: read the whole chain
        messages.append(error.message)
        error = error.cause
    message = "\n".join(messages)
    assert osd in message and target.name in message and expected in message, message
    store = TableStore(graph.data_dir)
    for asset in ("raw_counts", "raw_samples", "sample_metadata", "normalized_expression"):
        assert not store.exists(asset, tissue, mission), asset
    leftovers = [p for p in (graph.data_dir / "tables").rglob("*") if p.name.startswith(".") and p.suffix == ".tmp"]
    assert leftovers == []
