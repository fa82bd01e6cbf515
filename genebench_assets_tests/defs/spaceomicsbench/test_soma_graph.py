"""The SpaceOmicsBench asset graph in a real (temporary, on-disk) Dagster instance: seed results
through the graph, unavailable tasks reported, and every blocking split check failing on a planted
fault, with nothing downstream materialized afterwards. Fast tasks only (A1/A2: 28 samples) and
cheap baselines, to keep the runtime small; the full run is benchmarks/spaceomicsbench_baselines.py."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from genebench_assets_tests.defs.gating.refusals import assert_refused
from genebench_assets_tests.conftest import shared_path

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
MODELS = ["random", "majority", "logreg"]


@pytest.fixture(scope="module")
def defs():
    from genebench_assets.definitions import defs

    return defs


def _run(defs, tmp_path: Path, root: Path, task: str, protocol: str, models=MODELS, selection=None):
    from genebench_assets.defs.spaceomicsbench.reproduce import run_config

    (tmp_path / "dagster_home").mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home"))
    cfg = run_config(root, protocol, tmp_path / "out", models=models, n_boot=20, data_dir=tmp_path / "data")
    result = defs.resolve_job_def("soma_tasks_job").execute_in_process(
        instance=instance, run_config=cfg, partition_key=task, raise_on_error=False,
        asset_selection=[dg.AssetKey(k) for k in selection] if selection else None)
    return result, instance, tmp_path / "data" / "tables"


def _checks(result) -> dict[str, tuple[bool, str]]:
    out = {}
    for ev in result.all_events:
        if ev.event_type_value == "ASSET_CHECK_EVALUATION":
            d = ev.event_specific_data
            out[d.check_name] = (d.passed, d.severity.value)
    return out


def _materialized(result) -> set[str]:
    return {ev.asset_key.path[-1] for ev in result.get_asset_materialization_events()}


def _planted_root(tmp_path: Path) -> Path:
    """A copy of the task definitions, splits and the clinical tables to plant faults in."""
    src = shared_path("spaceomicsbench")
    root = tmp_path / "soma"
    shutil.copytree(src / "tasks", root / "tasks")
    shutil.copytree(src / "splits", root / "splits")
    (root / "data").mkdir()
    for f in ("clinical_cbc.csv", "clinical_cmp.csv", "clinical_cytokines_eve.csv"):
        shutil.copy(src / "data" / f, root / "data" / f)
    return root


def _edit_split(root: Path, name: str, edit) -> None:
    path = root / "splits" / f"{name}.json"
    folds = json.loads(path.read_text())
    edit(folds)
    path.write_text(json.dumps(folds))


def test_seed_graph_reproduces_a2_and_reports_join_and_balance(defs, tmp_path):
    result, instance, tables = _run(defs, tmp_path, shared_path("spaceomicsbench"), "A2", "seed")
    assert result.success
    assert _materialized(result) == {"soma_task_definition", "soma_task_data", "soma_split_folds",
                                     "soma_predictions", "soma_evaluation"}
    assert all(passed for passed, _ in _checks(result).values()) and len(_checks(result)) == 4
    ev = json.loads((tables / "soma_evaluation" / "seed" / "A2.json").read_text())
    assert ev["results"]["logreg"]["macro_f1"]["mean"] == 0.4931          # published
    assert ev["results"]["random"]["macro_f1"]["mean"] == 0.2143          # published
    assert ev["empirical_random"] == 0.2143 and 0 < ev["analytic_chance"] < 1
    lo, hi = ev["bootstrap_ci"]["logreg"]["ci95"]
    assert lo <= 0.4931 <= hi
    mat = instance.get_latest_materialization_event(dg.AssetKey("soma_task_data")).asset_materialization
    assert "join_report" in mat.metadata and "class_balance" in mat.metadata
    prov = mat.metadata["provenance"].value
    assert any(f["file_name"] == "data/clinical_cytokines_eve.csv" and len(f["sha256"]) == 64
               for f in prov["raw_files"])


def test_unavailable_task_is_reported_not_faked(defs, tmp_path):
    result, _, tables = _run(defs, tmp_path, shared_path("spaceomicsbench"), "B1", "strict")
    assert result.success
    for asset in ("soma_task_definition", "soma_task_data", "soma_split_folds", "soma_predictions", "soma_evaluation"):
        rec = json.loads((tables / asset / "strict" / "B1.json").read_text())
        assert rec["status"] == "unavailable: cfrna_3group_de_noleak.csv", asset
    assert not (tables / "soma_task_data" / "strict" / "B1").exists()       # no data table was made up


def _assert_blocked(result, tables: Path, protocol: str, task: str, check: str):
    checks = _checks(result)
    assert checks[check] == (False, "ERROR"), checks
    assert "soma_predictions" not in _materialized(result)
    assert "soma_evaluation" not in _materialized(result)
    assert not (tables / "soma_predictions" / protocol / f"{task}.json").exists()
    assert not (tables / "soma_evaluation" / protocol / f"{task}.json").exists()


def _later_runs_refused(defs, tmp_path: Path, root: Path, task: str, protocol: str, check: str):
    """A separate, later run of each reader alone (the UI's "Materialize selected", same instance): the
    read gate refuses the split folds whose blocking check failed, in one line; nothing written or recorded."""
    for reader in ("soma_predictions", "soma_evaluation"):
        later, instance, tables = _run(defs, tmp_path, root, task, protocol, selection=[reader])
        assert_refused(later, reader, "soma_split_folds", task, check)
        assert not (tables / reader / protocol / f"{task}.json").exists()
        assert not instance.fetch_materializations(dg.AssetKey(reader), limit=1).records, reader


def test_train_test_overlap_planted_in_split_file_blocks(defs, tmp_path):
    root = _planted_root(tmp_path)

    def leak(folds):   # a C001 test sample also in training
        folds[0]["train_indices"].append(folds[0]["test_indices"][0])
    _edit_split(root, "loco_clinical", leak)
    result, _, tables = _run(defs, tmp_path, root, "A2", "strict")
    _assert_blocked(result, tables, "strict", "A2", "soma_train_test_disjoint")
    _later_runs_refused(defs, tmp_path, root, "A2", "strict", "soma_train_test_disjoint")


def test_crew_on_both_sides_planted_in_split_file_blocks(defs, tmp_path):
    root = _planted_root(tmp_path)

    def mislabel(folds):   # indices of crew C001 announced as the C002 fold
        folds[0]["test_crew"] = "C002"
    _edit_split(root, "loco_clinical", mislabel)
    result, _, tables = _run(defs, tmp_path, root, "A2", "strict")
    assert _checks(result)["soma_train_test_disjoint"][0]
    _assert_blocked(result, tables, "strict", "A2", "soma_groups_held_out")
    _later_runs_refused(defs, tmp_path, root, "A2", "strict", "soma_groups_held_out")


def test_reordered_feature_file_blocks_seed_positional_join(defs, tmp_path):
    """A1's seed pairing is positional: shuffling clinical_cmp.csv's rows misaligns it. The check
    sees it (ERROR: not a known seed defect) and the models never run."""
    root = _planted_root(tmp_path)
    cmp_ = pd.read_csv(root / "data" / "clinical_cmp.csv")
    cmp_.sample(frac=1.0, random_state=1).to_csv(root / "data" / "clinical_cmp.csv", index=False)
    result, _, tables = _run(defs, tmp_path, root, "A1", "seed")
    _assert_blocked(result, tables, "seed", "A1", "soma_feature_ids_match_label_ids")
    _later_runs_refused(defs, tmp_path, root, "A1", "seed", "soma_feature_ids_match_label_ids")
    # strict joins by id: the same shuffled file gives aligned rows, and the run goes through
    result2, _, tables2 = _run(defs, tmp_path / "strict", root, "A1", "strict", models=["majority"])
    assert result2.success and _checks(result2)["soma_feature_ids_match_label_ids"][0]
    # strict, multi-class: the same predictions also scored with the seed metric (the point between
    # the id-join step and the class-list step of the seed -> strict attribution)
    ev = json.loads((tables2 / "soma_evaluation" / "strict" / "A1.json").read_text())
    between = ev["results"]["_strict_data_seed_metric"]["majority"]
    assert set(between) == {"accuracy", "macro_f1"}
    assert between["accuracy"] == ev["results"]["majority"]["accuracy"]       # the metric change is macro-F1's only


def test_test_class_absent_from_training_blocks(defs, tmp_path):
    root = _planted_root(tmp_path)
    cbc = pd.read_csv(root / "data" / "clinical_cbc.csv")
    post = set(cbc.index[cbc["phase"] == "post_flight"])

    def starve(folds):   # fold C001: no post_flight sample left in training
        folds[0]["train_indices"] = [i for i in folds[0]["train_indices"] if i not in post]
    _edit_split(root, "loco_clinical", starve)
    result, _, tables = _run(defs, tmp_path, root, "A2", "strict")
    _assert_blocked(result, tables, "strict", "A2", "soma_test_classes_in_train")
    _later_runs_refused(defs, tmp_path, root, "A2", "strict", "soma_test_classes_in_train")


def test_seed_known_defect_warns_and_proceeds(defs, tmp_path):
    result, _, tables = _run(defs, tmp_path, shared_path("spaceomicsbench"), "F4", "seed", models=["majority"])
    assert _checks(result)["soma_feature_ids_match_label_ids"] == (False, "WARN")
    assert (tables / "soma_evaluation" / "seed" / "F4.json").exists()
