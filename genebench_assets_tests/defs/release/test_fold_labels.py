"""release_evaluation reads only the labels of a stored fold (load_fold_labels): the same test labels,
order and fold shape as the full features (load_features), from a current index (shape recorded) and
from an index written before it recorded the shape."""

import numpy as np
import pandas as pd
import pytest

from genebench_assets.defs.release.assets import _fold_frame, load_features, load_fold_labels
from genebench_assets.science.release.pathway_lomo import FoldFeatures
from genebench_assets.science.storage.table_store import TableStore


@pytest.mark.parametrize("shape_in_index", [True, False])
def test_fold_labels_equal_what_the_full_features_give(tmp_path, shape_in_index):
    rng = np.random.default_rng(0)
    pathways = [f"P{i}" for i in range(7)]
    train_ids, test_ids = [f"tr{i}" for i in range(9)], ["te2", "te0", "te1", "te3"]  # test order as in the task file
    ff = FoldFeatures("A1", "liver", "kegg", "fold_RR-9_test", "RR-9", ("RR-1", "RR-3"),
                      pd.DataFrame(rng.normal(size=(9, 7)), index=train_ids, columns=pathways),
                      pd.Series([0.0, 1.0] * 4 + [1.0], index=train_ids, name="y"),
                      pd.DataFrame(rng.normal(size=(4, 7)), index=test_ids, columns=pathways),
                      pd.Series([1.0, 0.0, 0.0, 1.0], index=test_ids, name="y"))
    store = TableStore(tmp_path)
    part = "liver|kegg"
    store.write_frame(_fold_frame(ff), "release_fold_features", part, ff.fold_id, "fold")
    entry = {"task_id": ff.task_id, "fold_id": ff.fold_id, "test_mission": ff.test_mission,
             "train_missions": list(ff.train_missions)}
    if shape_in_index:
        entry.update(n_train=ff.n_train, n_pathways=ff.n_pathways)
    store.write_json([entry], "release_fold_features", part, "index")

    [full] = load_features(store, "liver", "kegg")
    [labels] = load_fold_labels(store, "liver", "kegg")
    pd.testing.assert_series_equal(labels.y_test, full.y_test)
    assert list(labels.y_test.index) == test_ids
    assert (labels.n_train, labels.n_pathways) == (full.n_train, full.n_pathways) == (9, 7)
    assert (labels.fold_id, labels.test_mission, labels.train_missions) == (full.fold_id, full.test_mission, full.train_missions)
