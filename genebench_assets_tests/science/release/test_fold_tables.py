"""The release steps' per-partition functions (run on worker processes by the release assets):

- the evaluation reads only the labels of a stored fold (load_fold_labels): the same test labels, order
  and fold shape as the full features (load_features), from a current index (shape recorded) and from an
  index written before it recorded the shape;
- store -> predict -> evaluate through the store gives the published table exactly, and the models never
  see a test label;
- a command can start the workers (worker_modules) before it imports pandas or Dagster."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.release import fold_tables, pathway_lomo, worker_modules
from genebench_assets.science.release.fold_tables import fold_frame, load_features, load_fold_labels
from genebench_assets.science.release.pathway_lomo import FoldFeatures
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.conftest import REPO_ROOT, shared_path

FIXTURES = REPO_ROOT / "genebench_assets_tests" / "fixtures" / "published_pathway_results"
MODELS = ("lr", "pca_lr")


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
    store.write_frame(fold_frame(ff), "release_fold_features", part, ff.fold_id, "fold")
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


def test_steps_through_the_store_give_the_published_table_without_showing_test_labels(tmp_path, monkeypatch):
    release = shared_path("genelab_release")
    stored = fold_tables.store_fold_features(tmp_path, release, "eye", "hallmark")
    assert (stored["task_id"], stored["n_folds"]) == ("A6", 3)
    assert [(r["n_train"], r["n_pathways"]) for r in stored["rows"]] == [(25, 50), (28, 50), (21, 50)]
    store = TableStore(tmp_path)
    assert stored["table_sha256"] == store.sha256("release_fold_features", "eye|hallmark", "index", ext="json")
    assert all(f["source_mode"] == "release" for f in stored["raw_files"])

    seen = []

    def spy(ff, model, **kw):  # what the model is given
        seen.append(len(ff.y_test))
        return pathway_lomo.predict_fold(ff, model, **kw)

    monkeypatch.setattr(fold_tables, "predict_fold", spy)
    rows = []
    for entry in fold_tables.read_index(store, "eye", "hallmark"):
        ids, fits = fold_tables.predict_stored_fold(tmp_path, "eye", "hallmark", entry, MODELS)
        rows += [{"fold_id": entry["fold_id"], "model": m, "sample_id": s, "score": float(p), "fit_seconds": 0.0}
                 for m, (scores, _) in zip(MODELS, fits) for s, p in zip(ids, scores)]
    assert seen == [0] * 6
    store.write_frame(pd.DataFrame(rows), "release_predictions", "eye|hallmark")
    ev = fold_tables.evaluate_stored_partition(tmp_path, "eye", "hallmark", MODELS, tmp_path / "out")
    published = json.loads((FIXTURES / "A6_pathway_hallmark_results.json").read_text())
    assert pathway_lomo.compare_to_published(ev["result"], published) == []
    assert json.loads((tmp_path / "out" / "A6_pathway_hallmark_results.json").read_text()) == ev["result"]
    assert ev["table_sha256"] == store.sha256("release_evaluation", "eye|hallmark", ext="json")


def test_workers_can_start_before_pandas_or_dagster_is_imported():
    from genebench_assets.science.models.classifiers import estimator_modules

    assert set(estimator_modules(pathway_lomo.PUBLISHED_MODELS.values())) <= set(worker_modules())
    assert fold_tables.__name__ in worker_modules()
    code = ("import sys; from genebench_assets.science.release import worker_modules; worker_modules(); "
            "print(sorted(m for m in ('pandas', 'dagster', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert out.stdout.strip() == "[]"
