"""The published release reader, on the real release in ../shared/data (skipped when absent),
plus error messages on small broken copies in tmp_path."""

import shutil

import pandas as pd
import pytest

from genebench_assets.science.release import genelab_release as R
from genebench_assets_tests.conftest import shared_path

# SPEC §2: Flight / Ground per mission after exclusions
SPEC_COUNTS = {
    "A1": {"MHU-2": (3, 3), "RR-1": (7, 7), "RR-3": (6, 6), "RR-6": (20, 19), "RR-8": (35, 68), "RR-9": (5, 14)},
    "A2": {"RR-1": (6, 6), "RR-5": (6, 6), "RR-9": (4, 4)},
    "A3": {"RR-1": (6, 6), "RR-3": (6, 6), "RR-7": (20, 74)},
    "A4": {"MHU-1": (3, 3), "MHU-2": (3, 3), "RR-6": (17, 18), "RR-9": (10, 10)},
    "A5": {"MHU-2": (11, 24), "RR-6": (18, 19), "RR-7": (10, 20)},
    "A6": {"RR-1": (6, 6), "RR-3": (5, 4), "TBD": (9, 7)},
}


@pytest.fixture(scope="module")
def release():
    return shared_path("genelab_release")


@pytest.mark.parametrize("task_id", sorted(SPEC_COUNTS))
def test_tasks_hold_the_spec_sample_counts(release, task_id):
    task = R.read_task(release, task_id)
    assert task.task_id == task_id and task.tissue == R.TASK_TISSUES[task_id]
    got = {f.test_mission: (int(f.test_y.sum()), int((f.test_y == 0).sum())) for f in task.folds}
    assert got == SPEC_COUNTS[task_id]
    for f in task.folds:
        assert f.fold_id == f"fold_{f.test_mission}_test"
        assert f.test_mission not in f.train_missions and list(f.train_missions) == sorted(f.train_missions)
        assert not set(f.train_y.index) & set(f.test_y.index)
        assert list(f.test_meta.index) == list(f.test_y.index)


def test_holdout_folds_are_read_apart(release):
    thymus = R.read_task(release, "thymus")
    assert [f.fold_id for f in thymus.holdout_folds] == ["fold_RR-23_holdout"]
    rr23 = thymus.holdout_folds[0]
    assert rr23.holdout and (int(rr23.test_y.sum()), int((rr23.test_y == 0).sum())) == (7, 9)
    assert rr23.train_missions == ("MHU-1", "MHU-2", "RR-6", "RR-9")
    skin = R.read_task(release, "A5")
    assert skin.fold("RR-7").fold_id == "fold_RR-7_test"           # LOMO fold first
    assert skin.fold("fold_RR-7_holdout").holdout


def test_gastrocnemius_prefixed_ids_align_to_unprefixed_scores(release):
    task = R.read_task(release, "gastrocnemius")
    fold = task.fold("RR-1")
    assert all(i.startswith("RR-1.") for i in fold.test_y.index)
    assert list(fold.train_meta.columns) == ["label", "mission", "REMOVE", "tissue"]
    scores = R.read_pathway_scores(release, "gastrocnemius", ["RR-1"], "hallmark")
    X = R.align_samples(scores, fold.test_y.index)
    assert list(X.index) == list(fold.test_y.index)                 # indexed by the task ids
    first = fold.test_y.index[0].split(".", 1)[1]
    assert X.iloc[0].equals(scores.loc[first])


def test_thymus_duplicates_keep_the_mhu1_file_row(release):
    mhu1 = R.read_score_file(R.pathway_score_files(release, "thymus", "MHU-1", "hallmark")[0])
    mhu2 = R.read_score_file(R.pathway_score_files(release, "thymus", "MHU-2", "hallmark")[0])
    shared = mhu1.index.intersection(mhu2.index)
    assert len(shared) > 0                                          # the MHU-2 file holds MHU-1 samples
    assert not mhu1.loc[shared].equals(mhu2.loc[shared])            # scored differently there
    combined = R.read_pathway_scores(release, "thymus", ["MHU-1", "MHU-2", "RR-6"], "hallmark")
    assert combined.index.is_unique
    pd.testing.assert_frame_equal(combined.loc[shared], mhu1.loc[shared, combined.columns])


def test_skin_mhu2_is_dorsal_then_femoral(release):
    files = R.pathway_score_files(release, "skin", "MHU-2", "kegg")
    assert [f.name for f in files] == ["MHU-2_dorsal_gsva_kegg.csv", "MHU-2_femoral_gsva_kegg.csv"]
    parts = [R.read_score_file(f) for f in files]
    combined = R.read_pathway_scores(release, "skin", ["MHU-2"], "kegg")
    assert list(combined.index) == list(parts[0].index) + list(parts[1].index)
    assert list(combined.columns) == sorted(set(parts[0].columns) & set(parts[1].columns))
    fold = R.read_task(release, "skin").fold("MHU-2")
    assert len(R.align_samples(combined, fold.test_y.index)) == 35


def test_eye_tbd_m21_ids(release):
    fold = R.read_task(release, "eye").fold("TBD")
    assert fold.test_y.index[0] == "M21"
    X = R.align_samples(R.read_pathway_scores(release, "eye", ["TBD"], "hallmark"), fold.test_y.index)
    assert X.shape == (16, 50)


def test_resolve_task_accepts_ids_and_tissues():
    assert R.resolve_task("a6") == ("A6", "eye") and R.resolve_task("Kidney") == ("A3", "kidney")
    with pytest.raises(R.ReleaseError, match="unknown task or tissue 'A9'"):
        R.resolve_task("A9")


def _copy_task(release, tmp_path, task="A6_eye_lomo"):
    dst = tmp_path / "release" / "tasks" / task
    shutil.copytree(release / "tasks" / task, dst)
    return tmp_path / "release", dst


def test_errors_name_the_file_and_the_value(release, tmp_path):
    root, tdir = _copy_task(release, tmp_path)
    test_y = tdir / "fold_RR-1_test" / "test_y.csv"
    lines = test_y.read_text().splitlines()
    sample = lines[1].split(",")[0]
    lines[1] = f"{sample},2.0"
    test_y.write_text("\n".join(lines) + "\n")
    with pytest.raises(R.ReleaseError) as err:
        R.read_task(root, "A6")
    assert str(test_y) in str(err.value) and "2.0" in str(err.value) and sample in str(err.value)

    (tdir / "fold_RR-1_test" / "test_y.csv").unlink()
    with pytest.raises(R.ReleaseError, match="missing file: .*fold_RR-1_test/test_y.csv"):
        R.read_task(root, "A6")

    with pytest.raises(R.ReleaseError, match="missing pathway score file for eye RR-1 \\(hallmark\\): .*RR-1_gsva_hallmark.csv"):
        R.pathway_score_files(root, "eye", "RR-1", "hallmark")
    with pytest.raises(R.ReleaseError, match="unknown pathway collection 'go'"):
        R.pathway_score_files(root, "eye", "RR-1", "go")


def test_alignment_error_names_the_sample(release):
    scores = R.read_pathway_scores(release, "eye", ["RR-1"], "hallmark")
    with pytest.raises(R.ReleaseError, match="eye scores: no row for sample 'RR-3.M99'.*'M99'"):
        R.align_samples(scores, pd.Index(["RR-3.M99"]), source="eye scores")
