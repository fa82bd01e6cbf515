"""Blocking checks on the Category B pair folds: a failure stops transfer_predictions and everything after.

Evidence the pair builder did not use: the raw counts files recorded when the studies were fetched
(re-read and verified against their sha256 by `leakage_checks.raw_sample_evidence`), and the fold's own labels."""

from __future__ import annotations

import dagster as dg

from genebench_assets.defs.gating.check_results import to_check_result
from genebench_assets.defs.runtime.partitions import tissue_partitions
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.tasks.checks import _all_folds
from genebench_assets.defs.transfer.assets import PAIR_RAW_FILES, negative_controls, read_pair_folds, transfer_pair_folds


@dg.asset_check(asset=transfer_pair_folds, blocking=True, partitions_def=tissue_partitions,
                description="Per pair: no sample id in both splits; each sample's mission according to the raw "
                "counts file holding it is the training mission (train) or the test mission (test); no raw counts "
                "file (sha256) and no raw library (equal counts) feeds both train and test.")
def transfer_pairs_train_test_disjoint(context, settings: GenebenchSettings):
    from genebench_assets.science.tasks import leakage_checks
    from genebench_assets.science.tasks.transfer_checks import pair_train_test_disjoint

    tissue = context.partition_key
    store = settings.table_store()
    _, folds = read_pair_folds(store, tissue)
    raw_files = store.read_json(PAIR_RAW_FILES, tissue)
    evidence = leakage_checks.raw_sample_evidence(raw_files, settings.catalog().missions_by_osd(tissue))
    raw_counts = leakage_checks.raw_counts_from_files(raw_files)
    return to_check_result(_all_folds([(f.fold_id, pair_train_test_disjoint(f, evidence, raw_counts)) for f in folds],
                                      "pair folds: ids, raw-file missions, raw files and libraries, train vs test"))


@dg.asset_check(asset=transfer_pair_folds, blocking=True, partitions_def=tissue_partitions,
                description="Per pair, counted from the fold's labels: >= 3 Flight and >= 3 Ground in the "
                "training mission (SPEC §8), both classes in the test mission.")
def transfer_pairs_class_minimums(context, settings: GenebenchSettings):
    from genebench_assets.science.tasks.transfer_checks import pair_class_minimums

    _, folds = read_pair_folds(settings.table_store(), context.partition_key)
    return to_check_result(_all_folds([(f.fold_id, pair_class_minimums(f)) for f in folds],
                                      "pair folds: class counts of train and test"))


def _controls_outcome(settings, tissue: str, which: str):
    """NC1 / NC2 recomputed from the stored predictions (null refits, housekeeping-gene scores) and the
    stored folds' test labels; the recorded flags and means are compared, never trusted."""
    from genebench_assets.science.evaluation.transfer_evaluation import nc1_from_stored_scores, nc2_from_stored_scores
    from genebench_assets.science.tasks.folds import Fold

    store = settings.table_store()
    doc = store.read_json("negative_controls", tissue)[which]
    folds = [Fold.from_dict(d) for d in store.read_json("lomo_folds", tissue) if not d.get("holdout")]
    return (nc1_from_stored_scores if which == "nc1" else nc2_from_stored_scores)(doc, folds)


# The controls do not block (nothing downstream reads them); a failed WARN check is the visible flag.
@dg.asset_check(asset=negative_controls, partitions_def=tissue_partitions,
                description="NC1: the permutation null, recomputed from the stored null predictions, must centre on 0.5 "
                "(|mean - 0.5| <= max(0.05, 3 SE)); the recorded null means must be the recomputed ones.")
def nc1_null_centred_on_half(context, settings: GenebenchSettings):
    return to_check_result(_controls_outcome(settings, context.partition_key, "nc1"), severity=dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=negative_controls, partitions_def=tissue_partitions,
                description="NC2: the housekeeping-gene model's mean AUROC, recomputed from its stored scores, must fall "
                "in SPEC §8's [0.35, 0.65]; outside it, or not computable, is reported here.")
def nc2_housekeeping_within_interval(context, settings: GenebenchSettings):
    return to_check_result(_controls_outcome(settings, context.partition_key, "nc2"), severity=dg.AssetCheckSeverity.WARN)
