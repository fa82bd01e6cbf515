"""Exact reproduction of the 24 published pathway-level LOMO tables (6 tissues x 4 collections).

Every value is compared exactly (floats bit for bit: AUROC, CI bounds, p, means, SD) and so is the
key layout; only ``train_time_s`` (the published run's wall time) is left out. Reactome tables are
marked slow: their saga elastic-net fits take most of this file's time (liver alone ~40 s).
"""

import copy
import json
from functools import lru_cache
from pathlib import Path

import pytest

from genebench_assets.science.release import genelab_release

from genebench_assets.science.release import pathway_lomo
from genebench_assets_tests.conftest import shared_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "published_pathway_results"
TASKS = ("A1", "A2", "A3", "A4", "A5", "A6")
DBS = ("hallmark", "kegg", "mitocarta", "reactome")


def _published(task: str, db: str) -> dict:
    return json.loads((FIXTURES / pathway_lomo.result_filename(task, db)).read_text())


@lru_cache(maxsize=None)
def _ours(task: str, db: str) -> dict:
    return pathway_lomo.run_pathway_lomo(shared_path("genelab_release"), task, db)


def test_all_24_published_tables_are_stored():
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(
        pathway_lomo.result_filename(t, d) for t in TASKS for d in DBS)


@pytest.mark.parametrize("db", [pytest.param(d, marks=pytest.mark.slow) if d == "reactome" else d for d in DBS])
@pytest.mark.parametrize("task", TASKS)
def test_published_table_reproduced_exactly(task, db):
    diffs = pathway_lomo.compare_to_published(_ours(task, db), _published(task, db))
    assert diffs == []


def test_issue_headline_numbers():
    eye = _ours("A6", "hallmark")["pca_lr"]
    assert (round(eye["mean_auroc"], 3), round(eye["mean_ci_lower"], 3), round(eye["mean_perm_p"], 3)) == (0.915, 0.745, 0.014)
    kidney = _ours("A3", "hallmark")["lr"]
    assert (round(kidney["mean_auroc"], 3), round(kidney["mean_ci_lower"], 3), round(kidney["mean_perm_p"], 3)) == (0.755, 0.481, 0.071)


def test_steps_called_separately_give_the_same_table():
    release = shared_path("genelab_release")
    folds = pathway_lomo.build_fold_features(release, "eye", "hallmark")
    assert [f.test_mission for f in folds] == ["RR-1", "RR-3", "TBD"]
    assert [(f.n_train, f.n_pathways) for f in folds] == [(25, 50), (28, 50), (21, 50)]
    rows = {"lr": [], "pca_lr": []}
    for i, ff in enumerate(folds):
        for model in rows:
            scores, info = pathway_lomo.predict_fold(ff, model)
            rows[model].append(pathway_lomo.evaluate_pathway_fold(ff, scores, info, fold_index=i))
    assert pathway_lomo.compare_to_published(pathway_lomo.summarize_models(rows), _published("A6", "hallmark")) == []
    assert list(rows["lr"][0]) == list(pathway_lomo.FOLD_KEYS)


def test_fold_features_follow_the_release_quirks():
    release = shared_path("genelab_release")
    gastro = pathway_lomo.build_fold_features(release, "A2", "kegg")[0]
    assert gastro.X_test.index[0].startswith("RR-1.")                     # task ids kept
    assert list(gastro.X_train.columns) == sorted(gastro.X_train.columns)  # pathways sorted
    thymus = pathway_lomo.build_fold_features(release, "A4", "hallmark")
    assert [f.n_train for f in thymus] == [61, 61, 32, 47]


def test_comparison_reports_differences():
    pub = _published("A6", "hallmark")
    changed = json.loads(json.dumps(pub))
    changed["lr"]["folds"][1]["perm_p"] += 1e-16
    changed["pca_lr"]["mean_auroc"] = 0.9
    changed["lr"]["folds"][0]["train_time_s"] = 99.0                     # ignored
    diffs = pathway_lomo.compare_to_published(changed, pub)
    assert len(diffs) == 2
    assert diffs[0].startswith(".lr.folds[1].perm_p: ") and ".pca_lr.mean_auroc: 0.9 != published" in diffs[1]


def test_unknown_collection_is_an_error():
    with pytest.raises(genelab_release.ReleaseError, match="unknown pathway collection 'go'"):
        pathway_lomo.build_fold_features(shared_path("genelab_release"), "A6", "go")


def test_written_file_is_byte_identical_to_the_published_one(tmp_path):
    # published values with our layout and formatting: identical bytes (train_time_s taken over)
    ours = copy.deepcopy(_ours("A6", "hallmark"))
    pub_text = (FIXTURES / "A6_pathway_hallmark_results.json").read_text()
    pub = json.loads(pub_text)
    for model in ours:
        for mine, theirs in zip(ours[model]["folds"], pub[model]["folds"]):
            mine["train_time_s"] = theirs["train_time_s"]
    path = pathway_lomo.write_results(ours, tmp_path, "eye", "hallmark")
    assert path.name == "A6_pathway_hallmark_results.json" and path.read_text() == pub_text
