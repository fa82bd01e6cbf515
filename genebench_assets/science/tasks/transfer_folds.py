"""Category B folds: cross-mission transfer pairs (SPEC §8), built with the Category A fold builder.

Public API
- `build_pair_folds(expression, metadata, *, tissue, task_id, missions, protocol)` -> `FoldList` of
  `Fold`s with fold id `pair_{TRAIN}_{TEST}` (SPEC §7), every ordered pair of missions, sorted.
- `pair_fold_id(train, test)` / `cross_mission_task_id(lomo_task_id)` ("A4" -> "B4").

Decisions
- One implementation of folds: a pair (i, j) is the LOMO fold "test j" of the two-mission tissue
  {i, j} (`folds.build_lomo_folds` on those missions' rows), so the filters, the recorded fitted
  steps and the gene-missingness rule are Category A's; each call yields both ordered pairs.
- Strict: low-expression filter, variance filter and z-score fitted on mission i only (the fold's
  training ids). Seed: the low-expression filter saw both missions of the pair (as for a LOMO fold
  it saw the fold's missions); the published code filtered over the whole tissue (not reproducible
  offline: the release has no gene-level matrices).
- Skip rule (SPEC §8): a pair whose training mission has < 3 samples of a class is skipped with the
  reason; the test mission needs both classes (AUROC), any size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from itertools import combinations

import pandas as pd

from genebench_assets.science.tasks.folds import PROTOCOLS, Fold, FoldList, SkippedFold, build_lomo_folds

MIN_TRAIN_PER_CLASS = 3  # SPEC §8: skip pairs whose train mission has < 3 per class
MIN_TEST_SAMPLES = 2  # one per class: AUROC is defined; SPEC §8 sets no other test minimum


def pair_fold_id(train_mission: str, test_mission: str) -> str:
    return f"pair_{train_mission}_{test_mission}"


def cross_mission_task_id(lomo_task_id: str) -> str:
    """B{n} for the tissue of A{n} (SPEC §5 / §8 number the tissues the same way)."""
    if not lomo_task_id.startswith("A"):
        raise ValueError(f"task id {lomo_task_id!r} is not a Category A id (A1..A6)")
    return "B" + lomo_task_id[1:]


def _mission_rows(metadata: pd.DataFrame, missions: set[str]) -> pd.DataFrame:
    return metadata[metadata["mission"].astype(str).isin(missions)]


def build_pair_folds(
    expression: pd.DataFrame,
    metadata: pd.DataFrame,
    *,
    tissue: str,
    task_id: str,
    missions: Sequence[str],
    protocol: str = "strict",
    min_train_per_class: int = MIN_TRAIN_PER_CLASS,
) -> FoldList:
    """Every ordered pair (train i, test j) of `missions`, i != j; fold ids sorted."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    by_id: dict[str, Fold] = {}
    skipped: dict[str, SkippedFold] = {}
    for a, b in combinations(sorted(set(missions)), 2):
        lomo = build_lomo_folds(expression, _mission_rows(metadata, {a, b}), tissue=tissue, task_id=task_id,
                                missions=[a, b], protocol=protocol, min_test=MIN_TEST_SAMPLES)
        for fold in lomo:
            (train_mission,) = fold.train_missions
            fid = pair_fold_id(train_mission, fold.test_mission)
            short = {k: n for k, n in fold.train_label_distribution.items() if n < min_train_per_class}
            if short:
                skipped[fid] = SkippedFold(fid, fold.test_mission,
                                           f"train mission {train_mission} has {fold.train_label_distribution} "
                                           f"(< {min_train_per_class} per class)")
                continue
            by_id[fid] = dataclasses.replace(fold, fold_id=fid)
        for sk in lomo.skipped:
            train_mission = b if sk.test_mission == a else a
            fid = pair_fold_id(train_mission, sk.test_mission)
            skipped[fid] = SkippedFold(fid, sk.test_mission, sk.reason)
    return FoldList([by_id[k] for k in sorted(by_id)], [skipped[k] for k in sorted(skipped)])
