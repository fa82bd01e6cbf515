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
