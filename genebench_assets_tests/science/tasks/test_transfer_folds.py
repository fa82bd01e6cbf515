"""Category B pair folds (SPEC §8) on the synthetic tissue of test_folds, and their blocking checks'
pure functions failing on planted faults."""

import dataclasses

import pandas as pd

from genebench_assets.science.tasks.folds import STEP_LOW_EXPRESSION, STEP_VARIANCE, STEP_ZSCORE
from genebench_assets.science.tasks.transfer_checks import pair_class_minimums, pair_train_test_disjoint
from genebench_assets.science.tasks.transfer_folds import build_pair_folds, cross_mission_task_id
from genebench_assets_tests.science.tasks.test_folds import LOMO, make_tissue


def _pairs(protocol="strict"):
    expr, meta = make_tissue()
    return build_pair_folds(expr, meta, tissue="testis", task_id="B9", missions=LOMO, protocol=protocol), expr, meta


def test_every_ordered_pair_is_a_fold_or_skipped_with_the_reason():
    folds, _, _ = _pairs()
    ids = [f.fold_id for f in folds]
    skipped = {s.fold_id: s.reason for s in folds.skipped}
    every = {f"pair_{a}_{b}" for a in LOMO for b in LOMO if a != b}
    assert set(ids) | set(skipped) == every and not set(ids) & set(skipped)
    assert ids == sorted(ids)
    # M-C keeps 2 Flight after QC and M-D has 1 Flight: never a training mission (< 3 per class) ...
    assert all(not i.startswith(("pair_M-C_", "pair_M-D_")) for i in ids)
    assert "(< 3 per class)" in skipped["pair_M-C_M-A"]
    # ... but both are test missions (both classes present)
    assert {"pair_M-A_M-C", "pair_M-A_M-D", "pair_M-B_M-D"} <= set(ids)


def test_pair_fits_every_step_on_the_training_mission_only():
    folds, _, meta = _pairs("strict")
    for f in folds:
        (train,) = f.train_missions
        assert f.fold_id == f"pair_{train}_{f.test_mission}"
        assert set(meta.loc[list(f.train_ids), "mission"]) == {train}
        assert set(meta.loc[list(f.test_ids), "mission"]) == {f.test_mission}
        for step in (STEP_LOW_EXPRESSION, STEP_VARIANCE, STEP_ZSCORE):
            assert set(f.fitted_steps[step]) == set(f.train_ids), (f.fold_id, step)
    # seed: the low-expression filter saw both missions of the pair (reported, as for LOMO)
    seed = {f.fold_id: f for f in _pairs("seed")[0]}
    f = seed["pair_M-A_M-B"]
    assert set(f.test_ids) <= set(f.fitted_steps[STEP_LOW_EXPRESSION])


def test_task_id_maps_a_to_b():
    assert cross_mission_task_id("A4") == "B4"


def _evidence(meta, folds):
    ids = sorted({s for f in folds for s in (*f.train_ids, *f.test_ids)})
    m = meta.loc[ids]
    return pd.DataFrame({"osd": m["osd"], "counts_file": m["osd"] + "_counts.csv",
                         "counts_file_sha256": m["osd"].map(lambda o: o * 4), "counts_column_sha256": None,
                         "raw_missions": m["mission"], "mission_from_raw": m["mission"]}, index=ids)


def test_disjointness_passes_on_real_pairs_and_fails_on_planted_faults():
    folds, expr, meta = _pairs()
    ev = _evidence(meta, folds)
    raw = expr.loc[:, ev.index].abs() * 100
    fold = next(f for f in folds if f.fold_id == "pair_M-A_M-B")
    assert pair_train_test_disjoint(fold, ev, raw).passed
    # one test sample also listed in train
    leaked = dataclasses.replace(fold, train_ids=fold.train_ids[:-1] + (fold.test_ids[0],))
    out = pair_train_test_disjoint(leaked, ev, raw)
    assert not out.passed and any(f"sample id {fold.test_ids[0]} is in both" in x for x in out.failures)
    # a test sample whose raw counts file is the training mission's file
    ev2 = ev.copy()
    ev2.loc[fold.test_ids[0], ["counts_file", "counts_file_sha256", "mission_from_raw"]] = [
        ev.at[fold.train_ids[0], "counts_file"], ev.at[fold.train_ids[0], "counts_file_sha256"], "M-A"]
    out = pair_train_test_disjoint(fold, ev2, raw)
    assert not out.passed and any("feeds both train and test" in x for x in out.failures)


def test_class_minimums_fail_on_a_short_training_mission():
    folds, _, _ = _pairs()
    fold = next(f for f in folds if f.fold_id == "pair_M-A_M-B")
    assert pair_class_minimums(fold).passed
    n_keep = [i for i, y in enumerate(fold.y_train) if y == 0.0] + [i for i, y in enumerate(fold.y_train) if y == 1.0][:2]
    short = dataclasses.replace(fold, train_ids=tuple(fold.train_ids[i] for i in n_keep),
                                y_train=tuple(fold.y_train[i] for i in n_keep))
    out = pair_class_minimums(short)
    assert not out.passed and out.failures == ["train mission has 2 Flight (< 3)"]
