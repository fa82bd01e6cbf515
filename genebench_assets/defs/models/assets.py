"""Model predictions per LOMO fold: the model sees training features and labels and test features only."""

import hashlib
import json
from concurrent.futures.process import BrokenProcessPool

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
from genebench_assets.science.models.fit_pool import expected_fit_cost, guarded_fit, map_in_workers, worker_pool
from genebench_assets.science.models.plugins import (
    PLUGIN_PREFIX, PluginError, plugin_code_version)


def _fit_cost(timings: list[dict]) -> dict:
    """Per model: fits, seeds, total fit and CPU seconds, the largest peak RSS of a fitting process."""
    out: dict[str, dict] = {}
    for t in timings:
        m = out.setdefault(t["model"], {"fits": 0, "seeds": [], "fit_seconds": 0.0, "cpu_seconds": 0.0, "peak_rss_mb": 0.0})
        m["fits"] += 1
        m["seeds"] = sorted(set(m["seeds"]) | {t["seed"]})
        m["fit_seconds"] = round(m["fit_seconds"] + t["fit_seconds"], 3)
        m["cpu_seconds"] = round(m["cpu_seconds"] + t["cpu_seconds"], 3)
        if t.get("probe_cpu_seconds"):  # a plug-in's label-blindness probe, counted apart (fit_pool.guarded_fit)
            m["probe_cpu_seconds"] = round(m.get("probe_cpu_seconds", 0.0) + t["probe_cpu_seconds"], 3)
        m["peak_rss_mb"] = max(m["peak_rss_mb"], t["peak_rss_mb"])
    return out

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
    # Plug-ins (issue 20, science/models/plugins.py): named, located and versioned before any fit; a bad
    # spec or a missing module ends the run in one line.
    try:
        plugins = model_settings.plugins()
    except PluginError as e:
        raise dg.Failure(f"model plug-ins, all folds: {e}") from None
    plugin_versions = {}
    for p in plugins:
        try:
            plugin_versions[p.name] = plugin_code_version(p)
        except PluginError as e:
            raise dg.Failure(f"model {p.name}, all folds: {e}") from None
    # (name in the table, what the fit worker runs): built-ins by name, plug-ins by spec (picklable)
    runs = [(m, m) for m in model_settings.models] + [(p.name, f"{PLUGIN_PREFIX}{p.spec}") for p in plugins]
    seeds = model_settings.run_seeds()
    timeout = model_settings.fit_timeout if model_settings.fit_timeout > 0 else None
    # The fit workers start now and import the estimators' modules while this process reads and builds
    # the fit inputs below (science/models/fit_pool.worker_pool); the `with` block stops them. Plug-in code
    # never runs in this process: with plug-ins there is at least one worker.
    preload = (*estimator_modules(model_settings.models), *(("pandas", *(f"?{p.module}" for p in plugins)) if plugins else ()))
    with worker_pool(model_settings.n_jobs, preload=preload, force=bool(plugins)) as pool:
        folds = read_checked_folds(context, store, tissue)  # the read gate first: nothing read before it
        data = load_tissue(store, settings.catalog(), tissue)
        built = read_manifest(store, tissue)
        control_fold = positive_control_fold(folds)  # the positive control runs on this fold only
        probe_fold = control_fold or (folds[0].fold_id if folds else None)
        # Build every fold's features first (cheap), then fit all (seed, fold, feature set, model) tasks,
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
                for seed in seeds:
                    for name, worker_model in runs:
                        # Label blindness (issue 20): on one fold, the fitted plug-in also scores the test rows in
                        # another order (it sees row positions, never sample ids or labels); its scores must follow
                        # the rows, or the run fails (science/models/plugins.fit_plugin).
                        probe = (seed if worker_model.startswith(PLUGIN_PREFIX) and fold.fold_id == probe_fold
                                 and feature_set == model_settings.feature_sets[0] and seed == seeds[0] else None)
                        tasks.append((fold, feature_set, name, X_train, y_train, X_test, worker_model, seed, probe))
                # Positive control (issue 9): a copy of the data with label-carrying features planted, run
                # through the same models; only this copy reads the test labels, to plant them. One fold
                # per tissue (positive_control_fold): it tests the pipeline, which every fold shares.
                if fold.fold_id != control_fold:
                    continue
                Xp_train, Xp_test = planted_label_copy(X_train, y_train, X_test, fold_test_labels(fold).loc[X_test.index],
                                                       seed=model_settings.seed)
                for seed in seeds:
                    for name, worker_model in runs:
                        if name != "negative_control":
                            tasks.append((fold, feature_set, f"{POSITIVE_CONTROL_PREFIX}{name}", Xp_train, y_train, Xp_test,
                                          worker_model, seed, None))
        context.log.info(f"{tissue}: {len(tasks)} fits ({len(folds)} folds x {len(model_settings.feature_sets)} "
                         f"feature sets x {len(runs)} models x {len(seeds)} seeds) on {model_settings.n_jobs} processes")
        # Workers die with the run, even a SIGKILLed one; each fit is single-threaded and the worker imports
        # only the science core (guarded_fit); the longest fits start first, so both processes finish
        # together; "n of N fits, elapsed, about ... left" goes to the run log (science/models/fit_pool.py).
        from genebench_assets.defs.runtime.progress import Progress

        costs = [expected_fit_cost(t[6], *t[3].shape) for t in tasks]
        try:
            results = map_in_workers(guarded_fit, [(t[6], t[3], t[4], t[5], t[7], timeout, t[8]) for t in tasks],
                                     n_jobs=model_settings.n_jobs, costs=costs, pool=pool,
                                     on_done=Progress(context, len(tasks), f"{tissue}: model fits", weights=costs).done)
        except BrokenProcessPool:
            raise dg.Failure(f"model {', '.join(p.name for p in plugins) or 'fits'}, fold unknown: a fit worker died "
                             f"(killed after the {timeout} s time limit, GENEBENCH_FIT_TIMEOUT, or crashed)") from None
    # A fit that failed, or a plug-in whose output is unusable, ends the run here: nothing is written.
    label_blind = {}
    for (fold, feature_set, name, *_rest, seed, _probe), res in zip(tasks, results):
        if res["error"]:
            limit = f" ({timeout:g} s, GENEBENCH_FIT_TIMEOUT)" if res["error"] == "slower than the time limit" else ""
            raise dg.Failure(f"model {name}, fold {fold.fold_id} ({feature_set}"
                             f"{f', seed {seed}' if len(seeds) > 1 else ''}): {res['error']}{limit}")
        if res.get("label_blind_probe"):
            label_blind[name] = {"fold": fold.fold_id, "feature_set": feature_set,
                                 "inputs": "train features + train labels; test features only (no label, no sample id)",
                                 "rows_reordered_scores_follow": True}
    rows, timings = [], []
    for (fold, feature_set, model, X_train, _, X_test, _, seed, _), res in zip(tasks, results):
        timings.append({"fold": fold.fold_id, "feature_set": feature_set, "model": model, "seed": seed,
                        "n_features": X_train.shape[1], "fit_seconds": round(res["fit_seconds"], 3),
                        "cpu_seconds": round(res["cpu_seconds"], 3), "peak_rss_mb": res["peak_rss_mb"],
                        "probe_cpu_seconds": round(res.get("probe_cpu_seconds", 0.0), 3),
                        # a plug-in's own code version (source + distribution), for its results record
                        **({"code_version": plugin_versions[model]} if model in plugin_versions else {})})
        # Fit times live beside the table, not in it: the table's hash is the data version,
        # and the same inputs must give the same version.
        for sid, s in zip(X_test.index, res["scores"]):
            row = {"fold_id": fold.fold_id, "test_mission": fold.test_mission,
                   "feature_set": feature_set, "model": model, "sample_id": sid, "score": float(s)}
            if len(seeds) > 1:  # one seed: the table as before (byte-identical); several: a seed column
                row["seed"] = int(seed)
            rows.append(row)
    preds = pd.DataFrame(rows)
    _, sha = store.write_frame(preds, "model_predictions", tissue)
    # A plug-in's code version is part of the predictions' data version (the asset's code_version is
    # static): a changed plug-in changes the version even when its scores happen not to.
    data_version = sha[:16] if not plugin_versions else hashlib.sha256(
        (sha + json.dumps(plugin_versions, sort_keys=True)).encode()).hexdigest()[:16]
    timing = pd.DataFrame(timings)
    store.write_json(timings, "model_fit_times", tissue)  # per fit: model, seed, fit / CPU seconds, peak RSS
    fold_version = lomo_folds_data_version(store, tissue)
    # What the features were computed from, as lomo_folds recorded it when it built them.
    inputs = {k: v for k, v in ((built or {}).get("feature_inputs") or {}).items() if k in model_settings.feature_sets}
    if "genes" in model_settings.feature_sets:
        inputs["genes"] = {"from": [u for u in data.upstream if u["asset"] == "normalized_expression"]}
    return dg.MaterializeResult(
        data_version=dg.DataVersion(data_version),
        metadata={
            "n_predictions": len(preds),
            "models": dg.MetadataValue.json([name for name, _ in runs]),
            # issue 20: plug-ins (spec, source, code version), seeds, label blindness, per-model fit cost
            "plugins": dg.MetadataValue.json({p.name: {"spec": p.spec, "source": p.source,
                                                       "code_version": plugin_versions[p.name]} for p in plugins}),
            "plugin_code_versions": dg.MetadataValue.json(plugin_versions),
            "seeds": dg.MetadataValue.json(seeds),
            "label_blind": dg.MetadataValue.json(label_blind),
            "fit_cost": dg.MetadataValue.json(_fit_cost(timings)),
            "positive_control_fold": control_fold or "none",
            "feature_sets": dg.MetadataValue.json(list(model_settings.feature_sets)),
            "fit_times": dg.MetadataValue.md(
                frame_markdown(timing.groupby(["feature_set", "model"])[["fit_seconds", "cpu_seconds", "n_features"]].mean())
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
