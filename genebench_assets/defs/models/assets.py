"""Model predictions per LOMO fold: the model sees training features and labels and test features only."""

import dagster as dg
import pandas as pd

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.models.resources import DEFAULT_MODELS, ModelSettings  # noqa: F401 (re-exported)
from genebench_assets.defs.runtime.partitions import by_tissue, study_rollup_condition, tissue_partitions
from genebench_assets.defs.lineage.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.expression.assets import normalized_expression
from genebench_assets.defs.sources.assets import raw_counts, sample_metadata
from genebench_assets.defs.gating.tissue_inputs import load_tissue, lomo_folds_data_version, read_checked_folds
from genebench_assets.science.models.classifiers import estimator_modules
from genebench_assets.science.models.fit_pool import expected_fit_cost, map_in_workers, timed_fit_predict, worker_pool

# ModelSettings lives in defs/models/resources.py (lomo_folds reads its feature sets too); re-exported here.


@dg.asset(
    code_version=code_version_of(__file__, "model_predictions"),
    group_name="models",
    partitions_def=tissue_partitions,
    # Everything the body reads: folds and the fold features lomo_folds built (pathways; lomo_folds is
    # named by key: defs/tasks imports this package's resources); each study's expression, metadata and
    # raw-file provenance (load_tissue). The gene-set files and stored GSVA scores are lomo_folds' inputs.
    deps=[dg.AssetKey("lomo_folds"),
          *(dg.AssetDep(a, partition_mapping=by_tissue) for a in (normalized_expression, sample_metadata, raw_counts))],
    automation_condition=study_rollup_condition(),
    description="Scores (P(Flight)) for every test sample of every fold, per feature set and model "
    "(LR, PCA-LR, RF, XGB as SPEC §6, and a random-score negative control). Model code receives "
    "training features and labels and test features only, never test labels; it is fitted on exactly the "
    "ids lomo_folds recorded for the model fit; pathway features are the matrices lomo_folds built and its "
    "blocking checks verified (this asset only fits). Positive control rows `positive_control:<model>`: the same "
    "model on a copy of the fold with label-carrying features planted (only that copy reads test labels).",
)
def model_predictions(
    context: dg.AssetExecutionContext, settings: GenebenchSettings, model_settings: ModelSettings,
) -> dg.MaterializeResult:
    from genebench_assets.defs.pathways.fold_features import (
        FoldFeaturesError, read_manifest, read_pathway_fold_features, stored_pathway_matrices)
    from genebench_assets.science.evaluation.lomo_evaluation import (
        POSITIVE_CONTROL_PREFIX, planted_label_copy, positive_control_fold)
    from genebench_assets.science.tasks.folds import fold_matrices, fold_test_labels, model_fit_rows

    tissue = context.partition_key
    store = settings.table_store()
    # The fit workers start now and import the estimators' modules while this process reads and builds
    # the fit inputs below (science/models/fit_pool.worker_pool); the `with` block stops them.
    with worker_pool(model_settings.n_jobs, preload=estimator_modules(model_settings.models)) as pool:
        folds = read_checked_folds(context, store, tissue)  # the read gate first: nothing read before it
        data = load_tissue(store, settings.catalog(), tissue)
        built = read_manifest(store, tissue)
        control_fold = positive_control_fold(folds)  # the positive control runs on this fold only
        # Build every fold's features first (cheap), then fit all (fold, feature set, model) tasks,
        # which are independent, on n_jobs processes. Each fit is seeded, so the result does not
        # depend on n_jobs; rows are assembled in task order.
        tasks = []
        for fold in folds:
            for feature_set in model_settings.feature_sets:
                if feature_set == "genes":
                    X_train, y_train, X_test = fold_matrices(fold, data.expression)
                elif feature_set == "pathways":
                    try:
                        frame = read_pathway_fold_features(store, tissue, built, fold)
                    except FoldFeaturesError as e:
                        raise dg.Failure(str(e)) from None
                    X_train, y_train, X_test = stored_pathway_matrices(frame, fold)
                else:
                    raise dg.Failure(f"unknown feature set {feature_set!r} (known: genes, pathways)")
                # Scaler, PCA and classifier are fitted on exactly the ids lomo_folds recorded for the model
                # fit, which its blocking leakage check verified.
                X_train, y_train = model_fit_rows(fold, X_train, y_train)
                for model in model_settings.models:
                    tasks.append((fold, feature_set, model, X_train, y_train, X_test))
                # Positive control (issue 9): a copy of the data with label-carrying features planted, run
                # through the same models; only this copy reads the test labels, to plant them. One fold
                # per tissue (positive_control_fold): it tests the pipeline, which every fold shares.
                if fold.fold_id != control_fold:
                    continue
                Xp_train, Xp_test = planted_label_copy(X_train, y_train, X_test, fold_test_labels(fold).loc[X_test.index],
                                                       seed=model_settings.seed)
                for model in model_settings.models:
                    if model != "negative_control":
                        tasks.append((fold, feature_set, f"{POSITIVE_CONTROL_PREFIX}{model}", Xp_train, y_train, Xp_test))
        context.log.info(f"{tissue}: {len(tasks)} fits ({len(folds)} folds x {len(model_settings.feature_sets)} "
                         f"feature sets x {len(model_settings.models)} models) on {model_settings.n_jobs} processes")
        # Workers die with the run, even a SIGKILLed one; each fit is single-threaded and the worker imports
        # only the science core (timed_fit_predict); the longest fits start first, so both processes finish
        # together; "n of N fits, elapsed, about ... left" goes to the run log (science/models/fit_pool.py).
        from genebench_assets.defs.runtime.progress import Progress

        costs = [expected_fit_cost(model, *X_train.shape) for _, _, model, X_train, _, _ in tasks]
        results = map_in_workers(timed_fit_predict, [(model.removeprefix(POSITIVE_CONTROL_PREFIX), X_train, y_train, X_test,
                                                      model_settings.seed)
                                                     for _, _, model, X_train, y_train, X_test in tasks],
                                 n_jobs=model_settings.n_jobs, costs=costs, pool=pool,
                                 on_done=Progress(context, len(tasks), f"{tissue}: model fits", weights=costs).done)
    rows, timings = [], []
    for (fold, feature_set, model, X_train, _, X_test), (scores, elapsed) in zip(tasks, results):
        timings.append({"fold": fold.fold_id, "feature_set": feature_set, "model": model,
                        "n_features": X_train.shape[1], "fit_seconds": round(elapsed, 3)})
        # Fit times live beside the table, not in it: the table's hash is the data version,
        # and the same inputs must give the same version.
        for sid, s in zip(X_test.index, scores):
            rows.append({"fold_id": fold.fold_id, "test_mission": fold.test_mission,
                         "feature_set": feature_set, "model": model, "sample_id": sid, "score": float(s)})
    preds = pd.DataFrame(rows)
    _, sha = store.write_frame(preds, "model_predictions", tissue)
    timing = pd.DataFrame(timings)
    store.write_json(timings, "model_fit_times", tissue)
    fold_version = lomo_folds_data_version(store, tissue)
    # What the features were computed from, as lomo_folds recorded it when it built them.
    inputs = {k: v for k, v in ((built or {}).get("feature_inputs") or {}).items() if k in model_settings.feature_sets}
    if "genes" in model_settings.feature_sets:
        inputs["genes"] = {"from": [u for u in data.upstream if u["asset"] == "normalized_expression"]}
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "n_predictions": len(preds),
            "models": dg.MetadataValue.json(list(model_settings.models)),
            "positive_control_fold": control_fold or "none",
            "feature_sets": dg.MetadataValue.json(list(model_settings.feature_sets)),
            "fit_times": dg.MetadataValue.md(
                frame_markdown(timing.groupby(["feature_set", "model"])[["fit_seconds", "n_features"]].mean())
                if len(timing) else "no folds"
            ),
            "sha256": sha,
            **provenance_metadata(
                upstream=[{"asset": "lomo_folds", "partition": tissue, "data_version": fold_version},
                          *data.upstream],
                raw_files=data.raw_files,
                protocol=settings.protocol,
                extra={"feature_inputs": inputs},
            ),
        },
    )
