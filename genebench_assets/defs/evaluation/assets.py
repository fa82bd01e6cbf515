"""Evaluation per tissue (SPEC §7): per-fold AUROC, bootstrap CI, permutation p; task means; GO/NO-GO;
pooled AUROC; positive and negative controls; ROC curves; and the lineage of every number."""


import dagster as dg
import pandas as pd

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.models.assets import model_predictions
from genebench_assets.defs.tasks.assets import lomo_folds
from genebench_assets.defs.runtime.partitions import study_rollup_condition, tissue_partitions
from genebench_assets.defs.lineage.provenance import provenance_metadata
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.gating.tissue_inputs import lomo_folds_data_version, read_checked_folds
from genebench_assets.science.markdown_tables import markdown_table


def task_markdown(tasks: pd.DataFrame, task_id: str, tissue: str, simulated: bool) -> str:
    head = f"### {task_id} {tissue} — LOMO" + (" (SIMULATED demo data)" if simulated else "")
    table = markdown_table(
        ["features", "model", "mean AUROC", "mean CI lower", "mean p", "pooled AUROC [95% CI]", "GO"],
        [[r["feature_set"], r["model"], f"{r['mean_auroc']:.3f}", f"{r['mean_ci_lower']:.3f}", f"{r['mean_perm_p']:.3f}",
          f"{r['pooled_auroc']:.3f} [{r['pooled_ci_lower']:.3f}, {r['pooled_ci_upper']:.3f}]",
          "GO" if r["go"] else "NO-GO"] for _, r in tasks.iterrows()])
    return "\n".join([head, "", table])


@dg.asset(
    code_version=code_version_of(__file__, "evaluation_summary"),
    group_name="evaluation",
    partitions_def=tissue_partitions,
    deps=[model_predictions, lomo_folds],
    automation_condition=study_rollup_condition(),
    description="SPEC §7 per task and model: per-fold AUROC with bootstrap CI (2000) and permutation p "
    "(1000); task means; GO when mean AUROC > 0.700, mean CI lower > 0.500 and mean p < 0.050; pooled "
    "AUROC with CI; positive and negative controls; ROC curves; lineage of every number.",
)
def evaluation_summary(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.defs.lineage.tracing import lineage_markdown_for_tissue
    from genebench_assets.science.evaluation.lomo_evaluation import POSITIVE_CONTROL_PREFIX, evaluate_predictions
    from genebench_assets.science.evaluation.plots import pooled_lomo_curves, png_markdown, roc_png
    from genebench_assets.science.tasks.folds import fold_test_labels

    tissue = context.partition_key
    catalog = settings.catalog()
    store = settings.table_store()
    folds = read_checked_folds(context, store, tissue)  # the read gate (gating/read_gate.py)
    preds = store.read_frame("model_predictions", tissue)
    per_fold, tasks = evaluate_predictions(preds, folds, protocol=settings.protocol)
    store.write_frame(per_fold, "evaluation_folds", tissue)
    _, sha = store.write_frame(tasks, "evaluation_summary", tissue)
    raw_files = store.read_json("raw_files", tissue, "_tissue")
    simulated = any(f.get("source_mode") == "demo" for f in raw_files)
    task_id = catalog.task_ids[tissue]
    md = task_markdown(tasks, task_id, tissue, simulated)
    metadata = {
        "task_id": task_id,
        "protocol": settings.protocol,
        "simulated": simulated,
        "summary": dg.MetadataValue.md(md),
        "per_fold": dg.MetadataValue.md(_per_fold_md(per_fold)),
        "sha256": sha,
        # The positive control runs on one fold (lomo_evaluation.positive_control_fold): named here.
        "positive_control_fold": ", ".join(sorted(preds.loc[preds["model"].str.startswith(POSITIVE_CONTROL_PREFIX),
                                                            "fold_id"].unique())) or "none",
    }
    lomo_labels = pd.concat([fold_test_labels(f) for f in folds if not f.fold_id.endswith("_holdout")])
    for feature_set in sorted(preds["feature_set"].unique()):
        png = roc_png(pooled_lomo_curves(preds, lomo_labels, feature_set), title=f"pooled LOMO ROC ({feature_set})")
        metadata[f"roc_{feature_set}"] = dg.MetadataValue.md(png_markdown(png, f"ROC {feature_set}"))
    for _, r in tasks.iterrows():
        metadata[f"auroc_{r['feature_set']}_{r['model']}"] = float(r["mean_auroc"])
    upstream = [
        {"asset": "model_predictions", "partition": tissue,
         "data_version": store.sha256("model_predictions", tissue)[:16]},
        {"asset": "lomo_folds", "partition": tissue,
         "data_version": lomo_folds_data_version(store, tissue)},
    ]
    metadata["lineage"] = dg.MetadataValue.md(lineage_markdown_for_tissue(store, catalog, tissue, tasks, folds,
                                                                           instance=context.instance))
    metadata.update(provenance_metadata(upstream=upstream, raw_files=raw_files, protocol=settings.protocol))
    # The controls bracket (issue 9): negative interval, per-model positive controls, flagged models.
    from genebench_assets.science.evaluation.lomo_evaluation import controls_bracket_by_feature_set

    bracket, bracket_problems = controls_bracket_by_feature_set(tasks)
    metadata["controls_bracket"] = dg.MetadataValue.json(bracket)
    metadata["controls_bracket_problems"] = dg.MetadataValue.json(bracket_problems)
    # Issue 20: one results record per (feature set, model) in <data_dir>/results/genelab/<task>/ (docs/results.md).
    from genebench_assets.defs.results.records import write_evaluation_records

    metadata["results_records"] = write_evaluation_records(
        settings, store, tissue, task_id, per_fold, tasks, preds, lomo_labels, upstream[1]["data_version"],
        context.assets_def.code_versions_by_key.get(context.asset_key) or "unknown")
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata=metadata)


def _per_fold_md(per_fold: pd.DataFrame) -> str:
    return markdown_table(
        ["features", "model", "fold", "AUROC [95% CI]", "p", "n test (F/G)"],
        [[r["feature_set"], r["model"], r["fold_id"], f"{r['auroc']:.3f} [{r['ci_lower']:.3f}, {r['ci_upper']:.3f}]",
          f"{r['perm_p']:.3f}", f"{r['n_test']} ({r['n_flight_test']}/{r['n_ground_test']})"]
         for _, r in per_fold.iterrows()])


@dg.asset_check(asset=evaluation_summary, partitions_def=tissue_partitions,
                description="Controls bracket every model, recomputed from the stored predictions and fold labels (not "
                "from the summary): none below the negative control's interval, none above its positive control (the "
                "model on a copy with label features planted, >= 0.9); the summary's mean AUROCs equal the recomputed ones.")
def evaluation_controls_bracket(context, settings: GenebenchSettings):
    from genebench_assets.defs.gating.check_results import to_check_result
    from genebench_assets.science.evaluation.lomo_evaluation import controls_bracket_from_predictions
    from genebench_assets.science.tasks.folds import Fold

    from genebench_assets.science.check_outcome import CheckOutcome

    tissue = context.partition_key
    store = settings.table_store()
    results, problems = controls_bracket_from_predictions(
        store.read_frame("model_predictions", tissue), [Fold.from_dict(d) for d in store.read_json("lomo_folds", tissue)],
        protocol=settings.protocol, summary=store.read_frame("evaluation_summary", tissue))
    from genebench_assets.science.evaluation.lomo_evaluation import bracket_severity

    return to_check_result(CheckOutcome(
        passed=not problems,
        description="mean AUROC of every model, from the stored scores, vs the negative control's interval (random "
        "scores, pooled bootstrap CI) and vs its positive control (the same model on a copy with label features "
        "planted); evaluation_summary agrees with the stored scores",
        metadata={"controls": results}, failures=problems),
        severity=dg.AssetCheckSeverity(bracket_severity(problems)))
