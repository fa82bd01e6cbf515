"""Evaluation per tissue (SPEC §7): per-fold AUROC, bootstrap CI, permutation p; task means; GO/NO-GO;
pooled AUROC; positive and negative controls; ROC curves; and the lineage of every number."""


import base64
import io

import dagster as dg
import pandas as pd

from genebench_assets.defs.models.assets import model_predictions
from genebench_assets.defs.partitions import study_rollup_condition, tissue_partitions
from genebench_assets.defs.provenance import provenance_metadata
from genebench_assets.defs.settings import GenebenchSettings
from genebench_assets.science.storage.table_store import TableStore

RANDOMNESS = {"seed": "seed_randomstate", "strict": "strict"}


def evaluate_predictions(preds: pd.DataFrame, folds: list, *, protocol: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-fold metrics and per (feature set, model) task summaries, including the positive control."""
    from genebench_assets.science.evaluation.lomo_evaluation import evaluate_fold, positive_control_scores, pooled_auroc, summarize_task
    from genebench_assets.science.tasks.folds import fold_test_labels

    randomness = RANDOMNESS[protocol]
    labels = {f.fold_id: fold_test_labels(f) for f in folds}
    fold_rows, task_rows = [], []
    groups = list(preds.groupby(["feature_set", "model"], sort=True))
    # The positive control scores each fold from its labels: it must reach 1.0 (SPEC §6, ours).
    for feature_set in sorted(preds["feature_set"].unique()):
        pc = []
        for fold_id, y in labels.items():
            pc.append(pd.DataFrame({"fold_id": fold_id, "feature_set": feature_set, "model": "positive_control",
                                    "sample_id": y.index, "score": positive_control_scores(y.to_numpy())}))
        if pc:
            groups.append(((feature_set, "positive_control"), pd.concat(pc)))
    for (feature_set, model), g in groups:
        per_fold, pooled_y, pooled_s = [], [], []
        for fold_index, (fold_id, gf) in enumerate(g.groupby("fold_id", sort=True)):
            y = labels[fold_id].loc[gf["sample_id"]].to_numpy()
            s = gf["score"].to_numpy()
            res = evaluate_fold(y, s, randomness=randomness, fold_index=fold_index)
            fold = next(f for f in folds if f.fold_id == fold_id)
            res.update({"fold_id": fold_id, "test_mission": fold.test_mission,
                        "train_missions": ", ".join(fold.train_missions),
                        "feature_set": feature_set, "model": model})
            per_fold.append(res)
            pooled_y.append(y)
            pooled_s.append(s)
        fold_rows.extend(per_fold)
        lomo = [r for r in per_fold if not r["fold_id"].endswith("_holdout")]
        summary = summarize_task(lomo)
        keep = [not r["fold_id"].endswith("_holdout") for r in per_fold]
        pooled = pooled_auroc([y for y, k in zip(pooled_y, keep) if k], [s for s, k in zip(pooled_s, keep) if k],
                              randomness=randomness)
        task_rows.append({"feature_set": feature_set, "model": model, **summary,
                          **pooled})
    return pd.DataFrame(fold_rows), pd.DataFrame(task_rows)


def roc_png(preds: pd.DataFrame, folds: list, feature_set: str) -> str:
    """ROC curves of the pooled LOMO predictions, one line per model, as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    from genebench_assets.science.tasks.folds import fold_test_labels

    labels = pd.concat([fold_test_labels(f) for f in folds if not f.fold_id.endswith("_holdout")])
    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=80)
    for model, g in preds[preds["feature_set"] == feature_set].groupby("model"):
        g = g[g["sample_id"].isin(labels.index) & ~g["fold_id"].str.endswith("_holdout")]
        fpr, tpr, _ = roc_curve(labels.loc[g["sample_id"]].to_numpy(), g["score"].to_numpy())
        ax.plot(fpr, tpr, label=model, lw=1.4)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"pooled LOMO ROC ({feature_set})")
    ax.legend(fontsize=7, loc="lower right")
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def task_markdown(tasks: pd.DataFrame, task_id: str, tissue: str, simulated: bool) -> str:
    head = f"### {task_id} {tissue} — LOMO" + (" (SIMULATED demo data)" if simulated else "")
    lines = [head, "", "| features | model | mean AUROC | mean CI lower | mean p | pooled AUROC [95% CI] | GO |",
             "|---|---|---|---|---|---|---|"]
    for _, r in tasks.iterrows():
        lines.append(
            f"| {r['feature_set']} | {r['model']} | {r['mean_auroc']:.3f} | {r['mean_ci_lower']:.3f} | "
            f"{r['mean_perm_p']:.3f} | {r['pooled_auroc']:.3f} [{r['pooled_ci_lower']:.3f}, {r['pooled_ci_upper']:.3f}] | "
            f"{'GO' if r['go'] else 'NO-GO'} |"
        )
    return "\n".join(lines)


@dg.asset(
    group_name="evaluation",
    partitions_def=tissue_partitions,
    deps=[model_predictions],
    automation_condition=study_rollup_condition(),
    description="SPEC §7 per task and model: per-fold AUROC with bootstrap CI (2000) and permutation p "
    "(1000); task means; GO when mean AUROC > 0.700, mean CI lower > 0.500 and mean p < 0.050; pooled "
    "AUROC with CI; positive and negative controls; ROC curves; lineage of every number.",
)
def evaluation_summary(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.defs.lineage import lineage_markdown_for_tissue
    from genebench_assets.science.tasks.folds import Fold

    tissue = context.partition_key
    catalog = settings.catalog()
    store = TableStore(settings.data_dir)
    folds = [Fold.from_dict(d) for d in store.read_json("lomo_folds", tissue)]
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
    }
    for feature_set in sorted(preds["feature_set"].unique()):
        metadata[f"roc_{feature_set}"] = dg.MetadataValue.md(
            f"![ROC {feature_set}](data:image/png;base64,{roc_png(preds, folds, feature_set)})"
        )
    for _, r in tasks.iterrows():
        metadata[f"auroc_{r['feature_set']}_{r['model']}"] = float(r["mean_auroc"])
    upstream = [
        {"asset": "model_predictions", "partition": tissue,
         "data_version": store.sha256("model_predictions", tissue)[:16]},
        {"asset": "lomo_folds", "partition": tissue,
         "data_version": store.sha256("lomo_folds", tissue, ext="json")[:16]},
    ]
    metadata["lineage"] = dg.MetadataValue.md(lineage_markdown_for_tissue(store, catalog, tissue, tasks, folds))
    metadata.update(provenance_metadata(upstream=upstream, raw_files=raw_files, protocol=settings.protocol))
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata=metadata)


def _per_fold_md(per_fold: pd.DataFrame) -> str:
    lines = ["| features | model | fold | AUROC [95% CI] | p | n test (F/G) |", "|---|---|---|---|---|---|"]
    for _, r in per_fold.iterrows():
        lines.append(
            f"| {r['feature_set']} | {r['model']} | {r['fold_id']} | {r['auroc']:.3f} "
            f"[{r['ci_lower']:.3f}, {r['ci_upper']:.3f}] | {r['perm_p']:.3f} | "
            f"{r['n_test']} ({r['n_flight_test']}/{r['n_ground_test']}) |"
        )
    return "\n".join(lines)


@dg.asset_check(asset=evaluation_summary, partitions_def=tissue_partitions,
                description="Controls bracket every metric: negative control near 0.5, positive control at 1.0.")
def evaluation_controls_bracket(context, settings: GenebenchSettings):
    from genebench_assets.defs.check_results import to_check_result
    from genebench_assets.science.evaluation.lomo_evaluation import controls_bracket

    from genebench_assets.science.check_outcome import CheckOutcome

    tasks = TableStore(settings.data_dir).read_frame("evaluation_summary", context.partition_key)
    results, problems = {}, []
    for feature_set, g in tasks.groupby("feature_set"):
        res = controls_bracket({r["model"]: float(r["mean_auroc"]) for _, r in g.iterrows()})
        results[feature_set] = {"negative": res["negative"], "positive": res["positive"]}
        problems += [f"{feature_set}: {p}" for p in res["problems"]]
    return to_check_result(CheckOutcome(
        passed=not problems, description="mean AUROC of the negative (random) and positive (label) controls",
        metadata={"controls": results}, failures=problems))
