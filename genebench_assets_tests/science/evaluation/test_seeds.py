"""Several seeds (issue 20): each seed evaluated, the task summary is the mean ± sd over seeds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from genebench_assets.science.evaluation.lomo_evaluation import (
    controls_bracket_from_predictions, evaluate_over_seeds, evaluate_predictions)


def _fold(fold_id, mission, ids, labels):
    """What the evaluator reads of a folds.Fold: id, missions, test ids and labels."""
    return SimpleNamespace(fold_id=fold_id, test_mission=mission, train_missions=("X",), test_ids=tuple(ids),
                           y_test=tuple(float(x) for x in labels))


def test_mean_and_sd_over_seeds_and_one_seed_is_the_plain_evaluation():
    import pytest

    folds = [_fold("fold_A_test", "A", [f"a{i}" for i in range(8)], [0, 1] * 4),
             _fold("fold_B_test", "B", [f"b{i}" for i in range(8)], [1, 0] * 4)]
    rng = np.random.default_rng(0)
    rows = []
    for seed in (42, 43):
        for f in folds:
            for sid in f.test_ids:
                for model in ("m", "negative_control"):
                    rows.append({"fold_id": f.fold_id, "test_mission": f.test_mission, "feature_set": "genes",
                                 "model": model, "sample_id": sid, "score": float(rng.random()), "seed": seed})
    preds = pd.DataFrame(rows)
    per_fold, tasks = evaluate_predictions(preds, folds, protocol="strict")
    assert sorted(per_fold["seed"].unique()) == [42, 43]
    one = [evaluate_predictions(preds[preds.seed == s].drop(columns="seed"), folds, protocol="strict")[1] for s in (42, 43)]
    m = tasks.set_index("model").loc["m"]
    a, b = (t.set_index("model").loc["m", "mean_auroc"] for t in one)
    assert m["mean_auroc"] == pytest.approx((a + b) / 2) and m["sd_auroc_over_seeds"] == pytest.approx(np.std([a, b], ddof=1))
    assert m["n_seeds"] == 2 and m["seeds"] == "42,43"
    _, problems = controls_bracket_from_predictions(preds, folds, protocol="strict", summary=tasks)
    assert not [p for p in problems if "is not the stored scores" in p or "only" in p], problems
    assert evaluate_over_seeds(preds, folds, protocol="strict")[1].equals(tasks)


def test_over_seeds_means_numbers_keeps_agreed_values_and_recomputes_rules():
    import pytest

    from genebench_assets.science.evaluation.over_seeds import mean_over_seeds, result_over_seeds, seeds_of

    rows = [{"seed": 43, "auroc": 0.8, "ci": [0.6, 0.9], "n": 5, "model": "m", "flag": "a", "go": True, "p": None},
            {"seed": 42, "auroc": 0.6, "ci": [0.4, 0.7], "n": 5, "model": "m", "flag": "b", "go": False, "p": None}]
    out = mean_over_seeds(rows, "auroc", rules=lambda r: {"go": r["auroc"] > 0.65})
    assert out["auroc"] == pytest.approx(0.7) and out["ci"] == pytest.approx([0.5, 0.8])
    assert out["n"] == 5 and isinstance(out["n"], int) and out["model"] == "m" and out["flag"] is None
    assert out["p"] is None and out["go"] is True
    assert out["sd_auroc_over_seeds"] == pytest.approx(np.std([0.8, 0.6], ddof=1))
    assert out["n_seeds"] == 2 and out["seeds"] == "42,43" and seeds_of(out, [1]) == [42, 43]
    one = result_over_seeds(rows[:1], "auroc", ("auroc",))
    assert one == {k: v for k, v in rows[0].items() if k != "seed"} and seeds_of(one, [43]) == [43]
    both = result_over_seeds(rows, "auroc", ("auroc",))
    assert both["per_seed"] == [{"seed": 42, "auroc": 0.6}, {"seed": 43, "auroc": 0.8}]


def test_category_b_pairs_over_seeds_are_each_seed_evaluated_then_averaged():
    import pytest

    from genebench_assets.science.evaluation.transfer_evaluation import evaluate_pairs

    folds = [_fold(f"pair_{a}_{b}", b, [f"{b}{i}" for i in range(8)], [0, 1] * 4) for a, b in (("A", "B"), ("B", "A"))]
    for f in folds:
        f.train_missions, f.n_train, f.genes = (f.fold_id.split("_")[1],), 8, ("g1", "g2")
    rng = np.random.default_rng(1)
    preds = pd.DataFrame([{"fold_id": f.fold_id, "feature_set": "genes", "model": "m", "sample_id": sid,
                           "score": float(rng.random()), "seed": seed}
                          for seed in (42, 43) for f in folds for sid in f.test_ids])
    pairs, rows = evaluate_pairs(preds, folds, protocol="strict", n_boot=200, n_perm=100)
    one = [evaluate_pairs(preds[preds.seed == s].drop(columns="seed"), folds, protocol="strict", n_boot=200,
                          n_perm=100)[1].iloc[0] for s in (42, 43)]
    r = rows.iloc[0]
    assert sorted(pairs["seed"].unique()) == [42, 43] and r["n_seeds"] == 2 and r["seeds"] == "42,43"
    assert r["mean_auroc"] == pytest.approx((one[0]["mean_auroc"] + one[1]["mean_auroc"]) / 2)
    assert r["sd_auroc_over_seeds"] == pytest.approx(np.std([o["mean_auroc"] for o in one], ddof=1))
    assert r["mean_auroc_ci"] == pytest.approx([(one[0]["mean_auroc_ci"][i] + one[1]["mean_auroc_ci"][i]) / 2
                                                for i in (0, 1)])
    assert r["category_a_go"] in (True, False) and r["n_pairs"] == 2
