"""Task definitions, id joins and the split checks on the real SpaceOmicsBench files (fast tasks)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from genebench_assets_tests.conftest import shared_path


def _task(task_id):
    from genebench_assets.science.spaceomicsbench.task_definitions import load_task_definition

    return load_task_definition(shared_path("spaceomicsbench", "tasks"), task_id)


def _data(task_id, protocol):
    from genebench_assets.science.spaceomicsbench.task_data import build_task_data

    return build_task_data(_task(task_id), shared_path("spaceomicsbench", "data"), protocol)


def test_f4_seed_pairs_by_position_and_only_3_of_275_ids_match():
    from genebench_assets.science.spaceomicsbench.splits import check_row_ids_match

    seed = _data("F4", "seed")
    report = seed.join_report[0]
    assert report["how"] == "position" and report["paired_rows"] == 275
    assert report["positional_id_matches"] == 3 and not report["aligned"]
    outcome = check_row_ids_match(seed)
    assert not outcome.passed and "3/275" in outcome.failures[0]
    assert any("MISALIGNED" in d for d in seed.defects)


def test_f4_strict_joins_by_sample_id_and_reports_the_two_dropped_columns():
    from genebench_assets.science.spaceomicsbench.splits import check_row_ids_match

    strict = _data("F4", "strict")
    report = strict.join_report[0]
    assert report["how"] == "id" and report["ids_matched"] == 275 and report["joined_rows"] == 275
    assert report["dropped_right"] == ["C002_FD3_NAP", "C002_R+82_ARM"]
    assert report["dropped_left"] == [] and report["duplicated_right"] == []
    assert check_row_ids_match(strict).passed
    # the label of each row is its own sample's body site
    assert all(rid.rsplit("_", 1)[1] == site for rid, site in zip(strict.label_ids, strict.y))


def test_a1_and_e1_positional_joins_are_verified_aligned_by_id():
    a1 = _data("A1", "seed")
    assert a1.join_report[0]["aligned"] and a1.join_report[0]["positional_id_matches"] == 28
    e1 = _data("E1", "seed")
    assert e1.join_report[0]["aligned"] and e1.join_report[0]["positional_id_matches"] == 18677
    a1s = _data("A1", "strict")
    np.testing.assert_array_equal(a1.X, a1s.X)


def test_unavailable_tasks_name_their_missing_file():
    from genebench_assets.science.spaceomicsbench.task_data import TaskUnavailable

    with pytest.raises(TaskUnavailable, match="unavailable: cfrna_3group_de_noleak.csv"):
        _data("B1", "strict")
    with pytest.raises(TaskUnavailable, match="microbiome_human_taxonomy_cpm.csv"):
        _data("F1", "seed")


def test_malformed_task_file_names_file_and_field(tmp_path):
    from genebench_assets.science.spaceomicsbench.task_definitions import TaskDefinitionError, load_task_definition

    src = shared_path("spaceomicsbench", "tasks")
    shutil.copy(src / "task_schema.json", tmp_path / "task_schema.json")
    raw = json.loads((src / "A1.json").read_text())
    raw["n_samples"] = "twenty-eight"
    (tmp_path / "A1.json").write_text(json.dumps(raw))
    with pytest.raises(TaskDefinitionError) as exc:
        load_task_definition(tmp_path, "A1")
    msg = str(exc.value)
    assert "A1.json" in msg and "'n_samples'" in msg and "twenty-eight" in msg and "\n" not in msg
    del raw["split"]
    raw["n_samples"] = 28
    (tmp_path / "A1.json").write_text(json.dumps(raw))
    with pytest.raises(TaskDefinitionError, match=r"A1.json: field 'split'"):
        load_task_definition(tmp_path, "A1")


def test_c2_strict_split_is_the_published_partition_mapped_by_id_and_seed_split_is_not():
    """The published indices read in the generator's row order (plasma file) are stratified (27/76 in
    every fold); strict maps them to genes there and joins by id: same partition, nothing redrawn."""
    from genebench_assets.science.spaceomicsbench.splits import c2_generator_order, read_split_file, task_folds

    splits = shared_path("spaceomicsbench", "splits")
    rates, test_ids = {}, {}
    for protocol in ("seed", "strict"):
        data = _data("C2", protocol)
        folds, note = task_folds(splits, "feature_split_C2", data)
        rates[protocol] = [float(np.mean(data.y[f.test_rows])) for f in folds]
        test_ids[protocol] = [set(f.test_ids) for f in folds]
        assert note["regenerated"] is False and note.get("mapped_by_id", False) == (protocol == "strict")
    overall = float(np.mean(_data("C2", "seed").y))
    assert max(abs(r - overall) for r in rates["seed"]) > 0.05          # 0.25 .. 0.38 vs 0.345
    assert [round(r * 76) for r in rates["strict"]] == [27] * 5          # 27/76 = 0.355 in every fold
    order = c2_generator_order(shared_path("spaceomicsbench", "data"))
    published = read_split_file(splits / "feature_split_C2.json")
    assert test_ids["strict"] == [{order[i] for i in e["test_indices"]} for e in published]
    assert all(len(f) == 76 for f in test_ids["strict"]) and test_ids["strict"] != test_ids["seed"]


def test_split_checks_fail_on_planted_faults():
    from genebench_assets.science.spaceomicsbench import splits

    data = _data("A2", "strict")
    folds, _ = splits.task_folds(shared_path("spaceomicsbench", "splits"), "loco_clinical", data)
    assert splits.check_train_test_disjoint(folds).passed
    assert splits.check_groups_held_out(folds, data).passed
    assert splits.check_test_classes_in_train(folds, data).passed
    f = folds[0]
    leaked = splits.Fold(**{**f.to_dict(), "train_rows": f.train_rows + f.test_rows[:1],
                            "train_ids": f.train_ids + f.test_ids[:1]})
    assert not splits.check_train_test_disjoint([leaked]).passed
    assert "C001" in splits.check_groups_held_out([leaked], data).failures[0]
    no_post = [r for r in f.train_rows if data.y[r] != "post_flight"]
    starved = splits.Fold(**{**f.to_dict(), "train_rows": no_post})
    out = splits.check_test_classes_in_train([starved], data)
    assert not out.passed and "post_flight" in out.failures[0]
