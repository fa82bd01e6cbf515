"""Blocking checks of the Category B pair folds (SPEC §8), on evidence the pair builder did not use.

- `pair_train_test_disjoint(fold, evidence, raw_counts)`: no sample id in both splits, all training
  samples of the one training mission and all test samples of the test mission according to the raw
  counts file that holds them, and no raw counts file (sha256) or raw library (equal counts) shared —
  the last two are Category A's check 2 (`leakage_checks.no_raw_source_in_both_splits`), reused.
- `pair_class_minimums(fold)`: the training mission holds >= 3 samples of each class, the test mission
  both classes, counted from the fold's labels (not from its recorded distributions).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from genebench_assets.science.check_outcome import CheckOutcome
from genebench_assets.science.tasks import leakage_checks
from genebench_assets.science.tasks.folds import Fold, label_distribution
from genebench_assets.science.tasks.transfer_folds import MIN_TRAIN_PER_CLASS, pair_fold_id


def pair_train_test_disjoint(fold: Fold, evidence: pd.DataFrame, raw_counts: pd.DataFrame | None = None) -> CheckOutcome:
    failures = []
    shared = sorted(set(map(str, fold.train_ids)) & set(map(str, fold.test_ids)))
    failures += [f"sample id {s} is in both train and test" for s in shared]
    if len(fold.train_missions) != 1 or fold.fold_id != pair_fold_id(fold.train_missions[0], fold.test_mission):
        failures.append(f"fold id {fold.fold_id} does not name its one training mission {list(fold.train_missions)} "
                        f"and test mission {fold.test_mission}")
    if fold.train_missions and fold.test_mission in fold.train_missions:
        failures.append(f"test mission {fold.test_mission} is also the training mission")
    # The raw-file checks index evidence by sample id: an id on both sides is reported above and
    # left out of the training side here, so the other evidence is still compared.
    keep = [i for i, s in enumerate(fold.train_ids) if str(s) not in set(shared)]
    rest = dataclasses.replace(fold, train_ids=tuple(fold.train_ids[i] for i in keep),
                               y_train=tuple(fold.y_train[i] for i in keep))
    missions = leakage_checks.fold_missions_match_raw_files(rest, evidence)
    source = leakage_checks.no_raw_source_in_both_splits(rest, evidence, raw_counts)
    failures += list(missions.failures or []) + list(source.failures or [])
    return CheckOutcome.from_failures(
        f"{fold.fold_id}: sample ids, raw-file missions, raw counts files (sha256) and raw libraries of "
        f"train ({fold.train_missions[0] if fold.train_missions else '?'}) vs test ({fold.test_mission})",
        failures,
        {"n_train": fold.n_train, "n_test": fold.n_test, "n_shared_ids": len(shared),
         "train_files": (source.metadata or {}).get("train_files"), "test_files": (source.metadata or {}).get("test_files")},
    )


def pair_class_minimums(fold: Fold, min_train_per_class: int = MIN_TRAIN_PER_CLASS) -> CheckOutcome:
    train, test = label_distribution(fold.y_train), label_distribution(fold.y_test)
    failures = [f"train mission has {n} {k} (< {min_train_per_class})" for k, n in train.items() if n < min_train_per_class]
    failures += [f"test mission has no {k} sample: AUROC undefined" for k, n in test.items() if n == 0]
    return CheckOutcome.from_failures(
        f"{fold.fold_id}: >= {min_train_per_class} per class in the training mission, both classes in the test mission",
        failures, {"train": train, "test": test})
