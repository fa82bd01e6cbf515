"""Blocking check on batch_corrected_features: the test mission's labels never enter a correction (issue 21).
Pure function: science/batch_correction/checks.labels_never_enter, per stored fold correction."""


import dagster as dg

from genebench_assets.defs.batch_correction.assets import (FEATURES, batch_corrected_features, correction_inputs,
                                                           correction_matrix)
from genebench_assets.defs.gating.check_results import to_check_result
from genebench_assets.defs.runtime.partitions import tissue_partitions
from genebench_assets.defs.runtime.settings import GenebenchSettings


@dg.asset_check(
    asset=batch_corrected_features,
    blocking=True,
    partitions_def=tissue_partitions,
    description="Every stored fold correction vs its fold: no test sample among the samples whose labels entered "
    "the design; under strict none among the samples the fit saw (seed: the fit saw the whole tissue without labels, "
    "as published - reported); and the correction re-run with the test labels flipped, all Flight and all Ground "
    "gives the stored features. A failure stops batch_correction_comparison.",
)
def batch_correction_test_labels_never_enter(context: dg.AssetCheckExecutionContext,
                                             settings: GenebenchSettings) -> dg.AssetCheckResult:
    from genebench_assets.science.batch_correction.checks import labels_never_enter
    from genebench_assets.science.batch_correction.corrections import CorrectionRecord
    from genebench_assets.science.check_outcome import CheckOutcome, truncate_failures
    from genebench_assets.science.tasks.folds import Fold

    tissue = context.partition_key
    store = settings.table_store()
    manifest = store.read_json(FEATURES, tissue, "manifest")  # the check reads its own asset directly
    inputs = correction_inputs(store, settings.catalog(), tissue)
    outcomes = []
    caches: dict[str, dict] = {}  # per method (one matrix each): the re-runs share ComBat-seq fits of equal inputs
    for e in manifest["entries"]:
        fold, record = Fold.from_dict(e["fold"]), CorrectionRecord.from_dict(e["record"])
        stored = store.read_frame(FEATURES, tissue, e["method"], fold.fold_id)
        outcomes.append(labels_never_enter(e["method"], correction_matrix(inputs, e["method"]), inputs.batch_of, fold,
                                           manifest["protocol"], inputs.seed_ids[e["method"]], stored, record,
                                           cache=caches.setdefault(e["method"], {})))
    failures = [f for o in outcomes for f in o.failures]
    exceptions = sorted({o.metadata["seed_exception"] for o in outcomes if o.metadata.get("seed_exception")})
    outcome = CheckOutcome(
        passed=bool(outcomes) and all(o.passed for o in outcomes),
        description=outcomes[0].description if outcomes else "no correction to check",
        metadata={"n_corrections": len(outcomes), "n_failures": len(failures), "protocol": manifest["protocol"],
                  "max_abs_difference_with_changed_test_labels":
                      max((o.metadata["max_abs_difference_with_changed_test_labels"] for o in outcomes), default=0.0),
                  "seed_exceptions": "; ".join(exceptions) or "none"},
        failures=truncate_failures(failures) if outcomes else ["no correction to check"])
    return to_check_result(outcome)
