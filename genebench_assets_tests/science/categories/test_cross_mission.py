"""Category B submissions on pair folds: the published PCA-LR B2/B4/B5/B6 submissions score exactly
as the published evaluation files (per pair AUROC, CI, p; mean, pooled, GO), through the science
core and through `genebench evaluate --task B..`."""

from __future__ import annotations

from pathlib import Path
import json
import os
import subprocess
import sys

import pytest

from genebench_assets.science.categories import cross_mission, nes_transfer
from genebench_assets.science.evaluation.submission import SubmissionError, score_submission
from genebench_assets_tests.conftest import published_path, shared_path



def published() -> Path:
    return published_path("genelab_b_submissions")
# the published B2 evaluation was run with 500 permutations (its p-values are k / 501)
N_PERM = {"B2": 500, "B4": 1000, "B5": 1000, "B6": 1000}
SUMMARY_KEYS = {"mean_auroc": "mean_auroc", "std_auroc": "std_auroc", "mean_ci_lower": "mean_ci_lower",
                "pooled_auroc": "overall_auroc_pooled", "pooled_ci_lower": "overall_ci_lower",
                "pooled_ci_upper": "overall_ci_upper", "mean_perm_p": "mean_perm_p", "go": "go_nogo"}


def _load(b):
    sub = json.loads((published() / f"submission_PCALR_baseline_{b}.json").read_text())
    pub = json.loads((published() / f"submission_PCA-LR_baseline_v1_{b}_eval.json").read_text())
    return sub, pub


@pytest.mark.parametrize("b", ["B2", "B4", "B5", "B6"])
def test_published_pca_lr_b_submissions_score_as_published(b):
    release = shared_path("genelab_release")
    sub, pub = _load(b)
    result = score_submission(sub, cross_mission.task_folds(release, b), n_perm=N_PERM[b])
    assert [f["fold_id"] for f in result["folds"]] == [f["fold"] for f in pub["fold_results"]]
    for ours, theirs in zip(result["folds"], pub["fold_results"]):
        for k in ("auroc", "ci_lower", "ci_upper", "perm_p", "n_test"):
            assert ours[k] == theirs[k], (theirs["fold"], k)
    for ours_key, pub_key in SUMMARY_KEYS.items():
        assert result["summary"][ours_key] == pub["summary"][pub_key], ours_key


def test_b_transfer_pattern_reproduces_the_published_b4_interval():
    """The B4 mean and CI that the NES-vs-transfer script hard-coded (0.860 [0.763, 0.953])."""
    sub, _ = _load("B4")
    result = score_submission(sub, cross_mission.task_folds(shared_path("genelab_release"), "B4"), n_boot=200, n_perm=10)
    pattern = cross_mission.transfer_pattern_summary(result["folds"])
    published = nes_transfer.SEED_TRANSFER_AUROC["thymus"]
    assert round(pattern["mean_auroc"], 3) == published["auroc"]
    assert [round(v, 3) for v in pattern["mean_auroc_ci"]] == published["ci"]
    assert pattern["n_pairs"] == 12 and pattern["n_large_pairs"] == 6


def test_b_submission_with_a_fold_named_like_a_lomo_fold_is_rejected():
    sub, _ = _load("B6")
    sub["predictions"]["fold_RR-1_test"] = sub["predictions"].pop("pair_RR-1_RR-3")
    with pytest.raises(SubmissionError) as err:
        score_submission(sub, cross_mission.task_folds(shared_path("genelab_release"), "B6"), n_boot=10, n_perm=10)
    assert any("pair_RR-1_RR-3" in p for p in err.value.problems)


def test_evaluate_command_scores_b_tasks_with_the_permutation_count_given(tmp_path):
    release = shared_path("genelab_release")
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", "evaluate", "--submission",
                           str(published() / "submission_PCALR_baseline_B2.json"), "--task", "B2", "--release", str(release),
                           "--n-permutations", "500", "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "GENEBENCH_DATA_DIR": str(tmp_path / "data")})  # its results record
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    _, pub = _load("B2")
    assert out["n_perm"] == 500
    assert [f["perm_p"] for f in out["folds"]] == [f["perm_p"] for f in pub["fold_results"]]
    assert out["transfer_pattern"]["go_rule"].startswith("none")


def test_rank_correlation_lists_every_tissue_and_needs_three():
    rc = nes_transfer.rank_correlation({"a": 0.1, "b": 0.5, "c": 0.3, "d": None}, {"a": 0.6, "b": 0.9, "c": 0.7, "e": 0.8})
    assert rc["tissues"] == ["a", "b", "c"] and rc["n"] == 3 and rc["rho"] == pytest.approx(1.0)
    assert rc["excluded"] == {"d": "no NES conservation and no transfer AUROC", "e": "no NES conservation"}
    two = nes_transfer.rank_correlation({"a": 0.1, "b": 0.5}, {"a": 0.6, "b": 0.9})
    assert two["rho"] is None and two["p"] is None and "needs >= 3 tissues" in two["note"]
