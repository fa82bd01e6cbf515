"""The seed -> strict move split over the defects in a fixed order (data step, then metric step,
then the remainder): the steps add up to the move, each is credited to the right defect, an
undeclared difference is shown as remainder, and on the real G1 data the id join explains the move."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genebench_assets_tests.conftest import shared_path


def _adds_up(attr, seed, strict):
    explained = sum(s["delta"] for s in attr["steps"] if s["delta"] is not None)
    assert round(explained + attr["remainder"], 4) == round(strict - seed, 4)


def test_two_defects_are_split_in_order_and_add_up():
    from genebench_assets.science.spaceomicsbench.defect_attribution import CLASS_LIST, ID_JOIN, attribute

    attr = attribute("F4", "macro_f1", seed=0.1632, strict=0.3992, between=0.3500)
    assert [s["defect"] for s in attr["steps"]] == [ID_JOIN, CLASS_LIST]
    assert attr["steps"][0]["delta"] == 0.1868 and attr["steps"][1]["delta"] == 0.0492
    assert attr["remainder"] == 0.0 and attr["measured"] and attr["moved_by"] == [ID_JOIN, CLASS_LIST]
    _adds_up(attr, 0.1632, 0.3992)
    # The metric moved nothing: only the join is named as what moved the task.
    attr = attribute("G1", "macro_f1", seed=0.5167, strict=0.4171, between=0.4171)
    assert attr["moved_by"] == [ID_JOIN] and attr["steps"][0]["delta"] == -0.0996
    _adds_up(attr, 0.5167, 0.4171)


def test_undeclared_difference_is_remainder_not_credited_to_a_defect():
    from genebench_assets.science.spaceomicsbench.defect_attribution import C2_SPLIT, CLASS_LIST, attribute

    # A2 has no join: a change of the data between protocols is nobody's declared defect.
    attr = attribute("A2", "macro_f1", seed=0.50, strict=0.56, between=0.52)
    assert [s["defect"] for s in attr["steps"]] == [CLASS_LIST]
    assert attr["steps"][0]["delta"] == 0.04 and attr["remainder"] == 0.02
    assert attr["moved_by"] == [CLASS_LIST, "unexplained"]
    _adds_up(attr, 0.50, 0.56)
    # D1 has no defect at all; C2 (binary) has one, which takes the whole move.
    assert attribute("D1", "auroc", 0.7, 0.72)["remainder"] == 0.02
    c2 = attribute("C2", "auroc", 0.4999, 0.5146)
    assert c2["steps"] == [{"defect": C2_SPLIT, "fixes": c2["steps"][0]["fixes"], "delta": 0.0147}]
    # Two defects without the point between them: not split, the whole move left as remainder.
    unsplit = attribute("F5", "macro_f1", 0.24, 0.3591)
    assert not unsplit["measured"] and unsplit["remainder"] == 0.1191
    assert all(s["delta"] is None for s in unsplit["steps"])


def _three_class_task():
    """Nine rows, classes a/b/c; fold 0's test rows lack class c."""
    from genebench_assets.science.spaceomicsbench.splits import Fold
    from genebench_assets.science.spaceomicsbench.task_data import TaskData

    y = np.array(["a", "b", "c", "a", "b", "c", "a", "b", "a"])
    ids = [f"s{i}" for i in range(len(y))]
    data = TaskData("F4", "strict", "multi_class_classification", np.zeros((len(y), 1)), ["x"], y, ids,
                    {"f.csv": ids}, pd.DataFrame(index=range(len(y))))
    folds = [Fold(0, "rep0", [2, 3, 4, 5], [0, 1, 6, 7], [ids[i] for i in (2, 3, 4, 5)], [ids[i] for i in (0, 1, 6, 7)]),
             Fold(1, "rep1", [0, 1, 6, 7, 8], [2, 3, 4, 5], [ids[i] for i in (0, 1, 6, 7, 8)],
                  [ids[i] for i in (2, 3, 4, 5)])]
    return data, folds


def test_metric_step_is_measured_with_the_one_evaluation_code_and_named():
    """Predictions that never say c, scored once with the seed metric (classes present) and once with
    strict's fixed class list: the difference is the metric step, computed by evaluate_predictions."""
    from genebench_assets.science.spaceomicsbench.baselines import FoldPrediction
    from genebench_assets.science.spaceomicsbench.defect_attribution import BETWEEN_KEY, CLASS_LIST, ID_JOIN
    from genebench_assets.science.spaceomicsbench.leaderboard import attribution_by_task, seed_vs_strict
    from genebench_assets.science.spaceomicsbench.task_results import evaluate_predictions

    data, folds = _three_class_task()
    preds = [FoldPrediction(0, np.array([0, 1, 0, 1]), np.zeros(4), 0.0),     # a b a b: right on fold 0
             FoldPrediction(1, np.array([0, 1, 0, 1]), np.zeros(4), 0.0)]     # c rows missed on fold 1
    strict_agg = evaluate_predictions(data, folds, "logreg", preds, "macro_f1", n_boot=0)[0]
    between_agg = evaluate_predictions(data, folds, "logreg", preds, "macro_f1", n_boot=0, metric_protocol="seed")[0]
    assert between_agg["macro_f1"]["mean"] > strict_agg["macro_f1"]["mean"]   # fold 0 lacks c: 1.0 vs 2/3
    seed = {"F4": {"logreg": {"macro_f1": {"mean": 0.2, "std": 0.0}}}}
    strict = {"F4": {"logreg": strict_agg, BETWEEN_KEY: {"logreg": between_agg}}}
    (row,) = seed_vs_strict(seed, strict, {"F4": "macro_f1"})
    steps = {s["defect"]: s["delta"] for s in row["attribution"]}
    assert steps[ID_JOIN] == round(between_agg["macro_f1"]["mean"] - 0.2, 4)
    assert steps[CLASS_LIST] == round(strict_agg["macro_f1"]["mean"] - between_agg["macro_f1"]["mean"], 4) < 0
    assert round(sum(steps.values()) + row["remainder"], 4) == row["strict_minus_seed"]
    assert row["moved_by"] == [ID_JOIN, CLASS_LIST]
    by_task = {e["step"]: e for e in attribution_by_task([row])}
    assert by_task[CLASS_LIST]["models_moved"] == 1 and by_task["remainder"]["models_moved"] == 0


def test_g1_move_is_the_id_join_on_the_real_data():
    """G1 logreg through the real task data, folds, baseline and evaluation code: the whole seed ->
    strict move (-0.0996, published seed 0.5167) is the id join; the class list moves nothing."""
    from genebench_assets.science.spaceomicsbench.defect_attribution import CLASS_LIST, ID_JOIN, attribute
    from genebench_assets.science.spaceomicsbench.splits import task_folds
    from genebench_assets.science.spaceomicsbench.task_data import build_task_data
    from genebench_assets.science.spaceomicsbench.task_definitions import load_task_definition
    from genebench_assets.science.spaceomicsbench.task_results import evaluate_predictions, run_task_baselines

    root = shared_path("spaceomicsbench")
    task = load_task_definition(root / "tasks", "G1")
    out = {}
    for protocol in ("seed", "strict"):
        data = build_task_data(task, root / "data", protocol)
        folds, _ = task_folds(root / "splits", task.split_name, data)
        results, preds = run_task_baselines(data, folds, "macro_f1", models=["logreg"], n_boot=0)
        out[protocol] = results["logreg"]["macro_f1"]["mean"]
        if protocol == "strict":
            between = evaluate_predictions(data, folds, "logreg", preds["logreg"], "macro_f1", n_boot=0,
                                           metric_protocol="seed")[0]["macro_f1"]["mean"]
    assert out["seed"] == pytest.approx(0.5167, abs=5e-5)
    attr = attribute("G1", "macro_f1", out["seed"], out["strict"], between)
    steps = {s["defect"]: s["delta"] for s in attr["steps"]}
    assert steps[ID_JOIN] == round(out["strict"] - out["seed"], 4) != 0
    assert steps[CLASS_LIST] == 0.0 and attr["remainder"] == 0.0 and attr["moved_by"] == [ID_JOIN]
