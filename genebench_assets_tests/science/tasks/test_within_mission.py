import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.tasks import within_mission as W
from genebench_assets.science.tasks.folds import STEP_LOW_EXPRESSION, STEP_MODEL_FIT


def _data(n_genes=60, per_class=4, missions=("M1", "M2")):
    rng = np.random.default_rng(0)
    cols, rows = [], []
    for m in missions:
        for g, lab in (("Flight", 1.0), ("GC", 0.0)):
            for i in range(per_class):
                sid = f"{m}_{g}_{i}"
                cols.append(sid)
                rows.append({"sample_id": sid, "mission": m, "label": lab, "group": g, "excluded": False, "tissue": "liver"})
    meta = pd.DataFrame(rows).set_index("sample_id")
    X = pd.DataFrame(rng.normal(5, 1, (n_genes, len(cols))), index=[f"G{i}" for i in range(n_genes)], columns=cols)
    X.loc[["G0", "G1", "G2"], meta.index[meta["label"] == 1]] += 3
    return X, meta


@pytest.mark.parametrize("protocol", ["strict", "seed"])
def test_loo_folds_never_fit_on_the_left_out_animal_except_seed_low_filter(protocol):
    X, meta = _data()
    by_mission, skipped = W.build_within_mission_folds(X, meta, tissue="liver", task_id="A1", missions=["M2", "M1"],
                                                       protocol=protocol)
    assert list(by_mission) == ["M1", "M2"] and not skipped
    for mission, folds in by_mission.items():
        assert len(folds) == 8
        for f in folds:
            (test,) = f.test_ids
            assert test not in f.fitted_steps[STEP_MODEL_FIT] and test not in f.train_ids
            assert f.train_missions == (mission,)
            assert (test in f.fitted_steps[STEP_LOW_EXPRESSION]) == (protocol == "seed")


def test_within_mission_auroc_layout_and_penalty():
    X, meta = _data()
    by_mission, _ = W.build_within_mission_folds(X, meta, tissue="liver", task_id="A1", missions=["M1", "M2"])
    res = W.run_within_mission(X, by_mission)
    assert res["M1"]["auroc"] > 0.9 and res["M1"]["n"] == 8 and res["M1"]["n_flight"] == 4
    pub = W.within_loo_published(res, task_id="A1", tissue="liver", tracks={"M1": "2a"})
    assert list(pub) == ["task", "tissue", "method", "results"]
    assert list(pub["results"]["M1"]) == ["auroc", "n", "n_flight", "n_ground", "track", "note"]
    pen = W.cross_mission_penalty({"M1": 1.0, "M2": 0.8}, {"M1": 0.7})
    assert pen == {"M1": {"within_loo_auroc": 1.0, "lomo_auroc": 0.7, "cross_mission_penalty": pytest.approx(0.3)}}


def test_small_mission_is_skipped_with_reason():
    X, meta = _data(per_class=2)
    by_mission, skipped = W.build_within_mission_folds(X, meta, tissue="liver", task_id="A1", missions=["M1"])
    assert not by_mission and "< 3 per class" in skipped["M1"]
