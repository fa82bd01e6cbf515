"""Category B cross-mission transfer folds from the release (SPEC §7-§8): ``tasks/B{n}_{tissue}_
cross_mission/pair_{TRAIN}_{TEST}/test_y.csv`` become the pair folds a submission is scored on, and
the per-tissue transfer pattern summary of SPEC §8 (no GO rule).

The release has only the test labels of each pair (train features are made from the gene-level
matrix, not released), so a pair fold's training ids are unknown here and left empty.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from genebench_assets.science.evaluation import metrics
from genebench_assets.science.evaluation.submission import FoldSpec, TaskFolds
from genebench_assets.science.release import genelab_release

B_TISSUES = {"B1": "liver", "B2": "gastrocnemius", "B3": "kidney", "B4": "thymus", "B5": "skin", "B6": "eye"}
_PAIR = re.compile(r"^pair_(.+)_(.+)$")


def is_cross_mission_task(task_id: str) -> bool:
    return task_id.strip().upper() in B_TISSUES


def task_folds(release_dir: Path | str, task_id: str) -> TaskFolds:
    """The pair folds of a B task, sorted by fold id as the published evaluator iterated them."""
    task_id = task_id.strip().upper()
    if task_id not in B_TISSUES:
        raise genelab_release.ReleaseError(f"unknown cross-mission task {task_id!r}; expected one of {sorted(B_TISSUES)}")
    tdir = Path(release_dir) / "tasks" / f"{task_id}_{B_TISSUES[task_id]}_cross_mission"
    if not tdir.is_dir():
        raise genelab_release.ReleaseError(f"task directory not found: {tdir}")
    specs = []
    for pair_dir in sorted(p for p in tdir.iterdir() if p.is_dir() and p.name.startswith("pair_")):
        m = _PAIR.match(pair_dir.name)
        # mission names hold '-' but never '_', so the split is unambiguous
        if not m or "_" in m.group(1) or "_" in m.group(2):
            raise genelab_release.ReleaseError(f"{pair_dir}: fold name is not pair_{{TRAIN}}_{{TEST}}")
        y = genelab_release.read_labels(pair_dir / "test_y.csv")
        specs.append(FoldSpec(fold_id=pair_dir.name, test_mission=m.group(2), train_ids=(), test_ids=tuple(y.index),
                              test_labels=tuple(float(v) for v in y.to_numpy())))
    if not specs:
        raise genelab_release.ReleaseError(f"{tdir}: no pair_{{TRAIN}}_{{TEST}} folds")
    return TaskFolds(task_id=task_id, folds=tuple(specs))


def transfer_pattern_summary(fold_rows: list[dict], n_boot: int = 2000, large_n: int = 10) -> dict:
    """SPEC §8's per-tissue summary of pair results: mean AUROC with a bootstrap CI over pairs,
    counts of pairs with AUROC >= 0.70 and with p < 0.05, and the same for pairs with n_test >= 10."""
    aurocs = np.array([r["auroc"] for r in fold_rows], dtype=float)
    idx = metrics.bootstrap_indices(len(aurocs), n_boot, "seed_randomstate")
    means = aurocs[idx].mean(axis=1)
    large = [r for r in fold_rows if r["n_test"] >= large_n]
    return {
        "n_pairs": len(fold_rows), "mean_auroc": float(aurocs.mean()),
        "mean_auroc_ci": [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))],
        "n_auroc_ge_0_70": int((aurocs >= 0.70).sum()), "n_p_lt_0_05": int(sum(r["perm_p"] < 0.05 for r in fold_rows)),
        "n_large_pairs": len(large), "large_mean_auroc": float(np.mean([r["auroc"] for r in large])) if large else None,
        "n_large_auroc_ge_0_70": int(sum(r["auroc"] >= 0.70 for r in large)),
        "n_large_p_lt_0_05": int(sum(r["perm_p"] < 0.05 for r in large)),
        "go_rule": "none (SPEC §8: Category B reports the transfer pattern, no GO / NO-GO)",
    }
