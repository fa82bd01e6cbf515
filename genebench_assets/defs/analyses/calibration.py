"""Holdout fold as its own evaluation, calibration of the LOMO scores, and leave-one-animal-out within
each mission beside LOMO (issue 21). Science: science/evaluation/calibration.py,
science/tasks/within_mission.py; published layouts: A{n}_holdout_results.json, A{n}_calibration.json,
A{n}_within_loo.json (docs/analyses.md says which fields are exact)."""


import dagster as dg

from genebench_assets.defs.evaluation.assets import evaluation_summary
from genebench_assets.defs.gating.tissue_inputs import lomo_folds_data_version, read_checked_folds
from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import combined_version, provenance_metadata
from genebench_assets.defs.models.assets import ModelSettings, model_predictions
from genebench_assets.defs.runtime.partitions import study_rollup_condition, tissue_partitions
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.tasks.assets import lomo_folds

CALIBRATION_MODEL = "pca_lr"  # the published A4_calibration.json is PCA-LR on the LOMO folds (tested)


def analysis_model(models) -> str:
    """pca_lr (the published choice) when it was run, else the first model that is not a control."""
    real = [m for m in models if m != "negative_control" and not m.startswith("positive_control:")]
    if not real:
        raise dg.Failure("no model other than the controls was run: nothing to calibrate")
    return CALIBRATION_MODEL if CALIBRATION_MODEL in real else real[0]


def _simulated(store, tissue) -> bool:
    return any(f.get("source_mode") == "demo" for f in store.read_json("raw_files", tissue, "_tissue"))


@dg.asset(
    code_version=code_version_of(__file__, "holdout_calibration"),
    group_name="analyses",
    partitions_def=tissue_partitions,
    deps=[model_predictions, lomo_folds],
    automation_condition=study_rollup_condition(),
    description="Issue 21: the holdout fold (thymus RR-23, skin RR-7) evaluated on its own per model "
    "(A{n}_holdout_results.json layout: AUROC, bootstrap mean and CI, permutation p, counts, fit time), and "
    "calibration of the LOMO scores (A{n}_calibration.json layout, PCA-LR as published: per-class mean "
    "P(Flight), separation, error rates; plus Brier score and reliability curve per fold and pooled).",
)
def holdout_calibration(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.evaluation.calibration import (calibration_extended, calibration_published,
                                                                 holdout_fold_result, holdout_published)
    from genebench_assets.science.protocols import evaluation_randomness
    from genebench_assets.science.tasks.folds import fold_test_labels

    tissue = context.partition_key
    store = settings.table_store()
    folds = read_checked_folds(context, store, tissue)  # the read gate (gating/read_gate.py)
    preds = store.read_frame("model_predictions", tissue)
    preds = preds[~preds["model"].str.startswith("positive_control:")]
    times = {(t["fold"], t["feature_set"], t["model"]): t for t in store.read_json("model_fit_times", tissue)}
    randomness = evaluation_randomness(settings.protocol)
    by_id = {f.fold_id: f for f in folds}
    holdout, calibration, extended = {}, {}, {}
    for feature_set, g in preds.groupby("feature_set", sort=True):
        rows = []
        for model, gm in g.groupby("model", sort=True):
            for fold_id, gf in gm.groupby("fold_id", sort=True):
                fold = by_id[fold_id]
                if not fold.holdout:
                    continue
                y = fold_test_labels(fold).loc[gf["sample_id"]].to_numpy()
                res = holdout_fold_result(y, gf["score"].to_numpy(), randomness=randomness)
                t = times.get((fold_id, feature_set, model), {})
                res.update(test_mission=fold.test_mission, model=model, n_train=fold.n_train,
                           n_genes=t.get("n_features", fold.n_genes_after_var_filter), train_time_s=t.get("fit_seconds"))
                rows.append(res)
        if rows:
            holdout[feature_set] = holdout_published(rows)
        model = analysis_model(g["model"].unique())
        gm = g[g["model"] == model]
        per_fold = {}
        for fold_id, gf in gm.groupby("fold_id", sort=True):
            fold = by_id[fold_id]
            if fold.holdout:
                continue
            y = fold_test_labels(fold).loc[gf["sample_id"]].to_numpy()
            per_fold[fold.test_mission] = (gf["score"].to_numpy(), y)
        per_fold = dict(sorted(per_fold.items()))
        calibration[feature_set] = {"model": model, **calibration_published(per_fold)}
        extended[feature_set] = {"model": model, **calibration_extended(per_fold)}
    out = {"tissue": tissue, "protocol": settings.protocol, "simulated": _simulated(store, tissue),
           "holdout_results": holdout, "calibration": calibration, "calibration_extended": extended}
    _, sha = store.write_json(out, "holdout_calibration", tissue)
    upstream = [{"asset": "model_predictions", "partition": tissue,
                 "data_version": store.sha256("model_predictions", tissue)[:16]},
                {"asset": "lomo_folds", "partition": tissue, "data_version": lomo_folds_data_version(store, tissue)}]
    metadata = {"protocol": settings.protocol, "simulated": out["simulated"], "sha256": sha,
                "holdout_folds": ", ".join(sorted(f.fold_id for f in folds if f.holdout)) or "none",
                "calibration": dg.MetadataValue.json({fs: {k: c[k] for k in ("model", "flight_mean", "gc_mean",
                                                                               "separation", "flt_error_rate", "gc_error_rate")}
                                                      for fs, c in calibration.items()}),
                "brier": dg.MetadataValue.json({fs: e["pooled"]["brier"] for fs, e in extended.items()})}
    for fs, per_model in holdout.items():
        for model, r in per_model.items():
            metadata[f"holdout_auroc_{fs}_{model}"] = float(r["auroc"])
    metadata.update(provenance_metadata(upstream=upstream, raw_files=store.read_json("raw_files", tissue, "_tissue"),
                                        protocol=settings.protocol))
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata=metadata)


@dg.asset(
    code_version=code_version_of(__file__, "within_mission_loo"),
    group_name="analyses",
    partitions_def=tissue_partitions,
    deps=[lomo_folds, evaluation_summary],
    automation_condition=study_rollup_condition(),
    description="Issue 21: leave-one-animal-out within each mission (gene features, the LOMO fitted steps on the "
    "mission's other animals; PCA-LR as published, else the first model run), beside the LOMO AUROC of the same "
    "mission: the gap is the cross-mission penalty (A{n}_within_loo.json layout plus `cross_mission_penalty`).",
)
def within_mission_loo(context: dg.AssetExecutionContext, settings: GenebenchSettings,
                       model_settings: ModelSettings) -> dg.MaterializeResult:
    from genebench_assets.defs.gating.tissue_inputs import load_tissue
    from genebench_assets.science.tasks.within_mission import (build_within_mission_folds, cross_mission_penalty,
                                                                run_within_mission, within_loo_published)

    tissue = context.partition_key
    catalog = settings.catalog()
    store = settings.table_store()
    read_checked_folds(context, store, tissue)  # the read gate: LOMO results are compared only if their folds passed
    data = load_tissue(store, catalog, tissue)  # the promoted study versions lomo_folds was built from
    model = analysis_model(model_settings.models)
    task_id = catalog.task_ids[tissue]
    by_mission, skipped = build_within_mission_folds(data.expression, data.metadata, tissue=tissue, task_id=task_id,
                                                     missions=data.missions, protocol=settings.protocol)
    results = run_within_mission(data.expression, by_mission, model=model, seed=model_settings.seed)
    tracks = {}
    if "track" in data.metadata.columns:
        for m in results:
            vals = data.metadata.loc[data.metadata["mission"] == m, "track"].dropna().astype(str).unique()
            tracks[m] = ", ".join(sorted(vals)) or None
    published = within_loo_published(results, task_id=task_id, tissue=tissue, tracks=tracks)
    published["method"] = published["method"].replace("PCA-LR", {"pca_lr": "PCA-LR", "lr": "LR"}.get(model, model))
    per_fold = store.read_frame("evaluation_folds", tissue)
    lomo = per_fold[(per_fold["feature_set"] == "genes") & (per_fold["model"] == model)
                    & ~per_fold["fold_id"].str.endswith("_holdout")]
    penalty = cross_mission_penalty({m: r["auroc"] for m, r in results.items()},
                                    dict(zip(lomo["test_mission"], lomo["auroc"])))
    out = {**published, "model": model, "protocol": settings.protocol, "simulated": _simulated(store, tissue),
           "skipped": skipped, "cross_mission_penalty": penalty,
           "loo_scores": {m: {"scores": r["scores"], "labels": r["labels"]} for m, r in results.items()}}
    _, sha = store.write_json(out, "within_mission_loo", tissue)
    upstream = [*data.upstream,
                {"asset": "lomo_folds", "partition": tissue, "data_version": lomo_folds_data_version(store, tissue)},
                {"asset": "evaluation_summary", "partition": tissue,
                 "data_version": store.sha256("evaluation_summary", tissue)[:16]}]
    lines = ["| mission | n (F/G) | within LOO AUROC | LOMO AUROC | penalty |", "|---|---|---|---|---|"]
    for m, r in results.items():
        p = penalty.get(m)
        lines.append(f"| {m} | {r['n']} ({r['n_flight']}/{r['n_ground']}) | {r['auroc']:.3f} | "
                     f"{p['lomo_auroc']:.3f} | {p['cross_mission_penalty']:+.3f} |" if p else
                     f"| {m} | {r['n']} ({r['n_flight']}/{r['n_ground']}) | {r['auroc']:.3f} | - | - |")
    metadata = {"protocol": settings.protocol, "model": model, "sha256": sha, "simulated": out["simulated"],
                "within_vs_lomo": dg.MetadataValue.md("\n".join(lines)),
                "skipped_missions": dg.MetadataValue.json(skipped)}
    if penalty:
        metadata["mean_cross_mission_penalty"] = float(sum(p["cross_mission_penalty"] for p in penalty.values()) / len(penalty))
    metadata.update(provenance_metadata(upstream=upstream, raw_files=data.raw_files, protocol=settings.protocol))
    return dg.MaterializeResult(data_version=dg.DataVersion(combined_version([sha])), metadata=metadata)


defs = dg.Definitions(assets=[holdout_calibration, within_mission_loo])
