"""Blocking leakage checks on the LOMO folds: a failure stops the predictions downstream.

Each wraps a pure function of science.leakage_checks; every fold must pass for the check to pass."""

from __future__ import annotations

import dagster as dg

from genebench_assets.defs.check_results import to_check_result
from genebench_assets.defs.partitions import tissue_partitions
from genebench_assets.defs.settings import GenebenchSettings
from genebench_assets.defs.tasks.assets import lomo_folds
from genebench_assets.defs.tissue_inputs import load_tissue
from genebench_assets.science.tasks import leakage_checks
from genebench_assets.science.storage.table_store import TableStore


def _folds(context, settings):
    from genebench_assets.science.tasks.folds import Fold

    store = TableStore(settings.data_dir)
    return [Fold.from_dict(d) for d in store.read_json("lomo_folds", context.partition_key)]


def _all_folds(outcomes, description):
    """Combine per-fold outcomes: pass only if every fold passes; say which fold failed."""
    from genebench_assets.science.check_outcome import CheckOutcome

    failures = [f"{fold_id}: {o.description}" for fold_id, o in outcomes if not o.passed]
    for fold_id, o in outcomes:
        failures.extend(f"{fold_id}: {x}" for x in (getattr(o, "failures", None) or []))
    return CheckOutcome(
        passed=all(o.passed for _, o in outcomes),
        description=description,
        metadata={"per_fold": {fid: {"passed": o.passed, **(o.metadata or {})} for fid, o in outcomes}},
        failures=failures,
    )


def _check(name, description):
    def decorator(fn):
        return dg.asset_check(
            asset=lomo_folds, name=name, blocking=True, partitions_def=tissue_partitions, description=description
        )(fn)

    return decorator


@_check("leakage_no_shared_sample_ids", "1. No sample id is in both train and test.")
def leakage_no_shared_sample_ids(context, settings: GenebenchSettings):
    folds = _folds(context, settings)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.no_shared_sample_ids(f)) for f in folds], "train ids vs test ids, every fold"))


@_check("leakage_no_test_mission_in_train", "2. No sample of the held-out mission is in train.")
def leakage_no_test_mission_in_train(context, settings: GenebenchSettings):
    store = TableStore(settings.data_dir)
    data = load_tissue(store, settings.catalog(), context.partition_key)
    folds = _folds(context, settings)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.no_test_mission_in_train(f, data.metadata)) for f in folds],
        "missions of training samples vs the held-out mission"))


@_check("leakage_fitted_steps_saw_training_only",
        "3. Every fitted step (low-expression filter, variance filter, scaler, PCA, GSVA kernels) saw "
        "training samples only. In the seed protocol the low-expression filter saw all samples, as "
        "published: reported, and the strict protocol fixes it.")
def leakage_fitted_steps_saw_training_only(context, settings: GenebenchSettings):
    folds = _folds(context, settings)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.fitted_steps_saw_training_only(f, protocol=settings.protocol)) for f in folds],
        "sample ids each fitted step saw vs training ids"))


@_check("leakage_no_label_derived_features",
        "4. No label-derived feature (log fold change, DE statistics) among Category A inputs.")
def leakage_no_label_derived_features(context, settings: GenebenchSettings):
    folds = _folds(context, settings)
    outcomes = []
    for f in folds:
        provenance = {g: "normalized_expression" for g in f.genes}
        outcomes.append((f.fold_id, leakage_checks.no_label_derived_features(list(f.genes), provenance)))
    return to_check_result(_all_folds(outcomes, "feature names and their provenance"))


@_check("leakage_no_expression_duplicates",
        "5. No test sample duplicates a training sample by expression fingerprint (Pearson r >= 0.9999).")
def leakage_no_expression_duplicates(context, settings: GenebenchSettings):
    from genebench_assets.science.tasks.folds import fold_matrices

    store = TableStore(settings.data_dir)
    data = load_tissue(store, settings.catalog(), context.partition_key)
    outcomes = []
    for f in _folds(context, settings):
        X_train, _, X_test = fold_matrices(f, data.expression)
        outcomes.append((f.fold_id, leakage_checks.no_expression_duplicates(X_train, X_test)))
    return to_check_result(_all_folds(outcomes, "Pearson r of every test sample vs every training sample"))


@_check("leakage_class_balance", "6. Both classes present in train and test with the minimum counts of SPEC §5.")
def leakage_class_balance(context, settings: GenebenchSettings):
    folds = _folds(context, settings)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.class_balance_ok(f)) for f in folds], "label counts in train and test"))
