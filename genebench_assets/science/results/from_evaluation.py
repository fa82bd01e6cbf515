"""Results records from a tissue's Category A evaluation (the ``evaluation_summary`` asset): one per
(feature set, model), controls left out; models named ``plugin:<name>`` are kind ``plug-in``."""

from __future__ import annotations

import hashlib

import pandas as pd

from genebench_assets.science.evaluation import metrics
from genebench_assets.science.evaluation.lomo_evaluation import POSITIVE_CONTROL_PREFIX
from genebench_assets.science.evaluation.over_seeds import SD_COLUMN
from genebench_assets.science.models.classifiers import MODEL_NAMES
from genebench_assets.science.results.record import build_record

PLUGIN_PREFIX = "plugin:"   # science/models/plugins.py
CONTROL_MODELS = ("negative_control",)


def _fit_cost(fit_times: list[dict] | None, feature_set: str, model: str) -> tuple[list[int], float | None, float | None]:
    rows = [t for t in fit_times or [] if t.get("model") == model and t.get("feature_set", feature_set) == feature_set]
    if not rows:
        return [42], None, None
    seeds = sorted({int(t["seed"]) for t in rows if t.get("seed") is not None}) or [42]
    cpu = sum(float(t.get("cpu_seconds") or 0.0) for t in rows)
    peak = max(float(t.get("peak_rss_mb") or 0.0) for t in rows)
    return seeds, round(cpu, 3), round(peak, 1)


def auroc_folds(per_fold: pd.DataFrame) -> list[dict]:
    """A record's ``folds`` from per-fold AUROC rows (fold_id, auroc, ci_lower, ci_upper, perm_p, n_test); with
    several seeds one entry per fold and seed, with its ``seed``."""
    out = []
    for _, r in per_fold.iterrows():
        fold = {"fold_id": r["fold_id"], "value": r["auroc"], "ci_lower": r["ci_lower"], "ci_upper": r["ci_upper"],
                "perm_p": r["perm_p"], "n_test": int(r["n_test"])}
        if "seed" in r.index and r["seed"] == r["seed"]:
            fold["seed"] = int(r["seed"])
        out.append(fold)
    return out


def over_seeds(summary: dict, row, *, sd_column: str = SD_COLUMN) -> dict:
    """A record's ``summary`` with ``sd_over_seeds`` (the sd of the seeds' means, science/evaluation/over_seeds.py)
    when ``row`` (a task row) was made over several seeds; ``summary`` unchanged for one seed."""
    sd = row.get(sd_column) if hasattr(row, "get") else None
    n = row.get("n_seeds") if hasattr(row, "get") else None
    if sd is None or n is None or n != n or int(n) < 2:
        return summary
    return {**summary, "sd_over_seeds": sd}


def records_from_evaluation(*, task_id: str, protocol: str, per_fold: pd.DataFrame, tasks: pd.DataFrame,
                            preds: pd.DataFrame, lomo_labels: pd.Series, folds_data_version: str, code_version: str,
                            fit_times: list[dict] | None = None, source: str | None = None) -> list[dict]:
    out = []
    for _, t in tasks.iterrows():
        model, fs = str(t["model"]), str(t["feature_set"])
        if model.startswith(POSITIVE_CONTROL_PREFIX) or model in CONTROL_MODELS:
            continue
        pf = per_fold[(per_fold["feature_set"] == fs) & (per_fold["model"] == model)]
        p = preds[(preds["feature_set"] == fs) & (preds["model"] == model)].sort_values(["fold_id", "sample_id"])
        sha = hashlib.sha256(pd.util.hash_pandas_object(p[["fold_id", "sample_id", "score"]], index=False)
                             .to_numpy().tobytes()).hexdigest()
        lomo = p[~p["fold_id"].str.endswith("_holdout") & p["sample_id"].isin(lomo_labels.index)]
        roc = None
        if len(lomo):
            y = lomo_labels.loc[lomo["sample_id"]].to_numpy(dtype=float)
            if 0 < y.sum() < len(y):
                fpr, tpr = metrics.roc_curve_points(y, lomo["score"].to_numpy(dtype=float))
                roc = {"fpr": [round(float(v), 5) for v in fpr], "tpr": [round(float(v), 5) for v in tpr]}
        seeds, cpu, peak = _fit_cost(fit_times, fs, model)
        # a plug-in's record carries its own code version (model_predictions' fit times) beside the evaluation's
        own = next((t["code_version"] for t in fit_times or [] if t.get("model") == model and t.get("code_version")), None)
        # model_predictions names a plug-in by its own name, which may not be a built-in's (plugins.parse_spec)
        kind = "built-in" if model in MODEL_NAMES else "plug-in"
        out.append(build_record(
            benchmark="genelab", task=task_id, model=model.removeprefix(PLUGIN_PREFIX), kind=kind, protocol=protocol,
            metric="AUROC", feature_set=fs,
            folds=auroc_folds(pf),
            summary=over_seeds({"mean": t["mean_auroc"], "std": t.get("std_auroc"), "mean_ci_lower": t["mean_ci_lower"],
                                "mean_perm_p": t["mean_perm_p"], "pooled": t.get("pooled_auroc")}, t),
            go=bool(t["go"]), predictions_sha256=sha, folds_data_version=folds_data_version,
            code_version=f"{code_version}; plug-in {own}" if own else code_version, seeds=seeds, cpu_seconds=cpu,
            peak_memory_mb=peak, source=source, roc=roc))
    return out


def record_from_submission(result: dict, task, *, submission_bytes: bytes, protocol: str = "strict",
                           benchmark: str = "genelab", source: str | None = None,
                           predictions: dict | None = None) -> dict:
    """The record of a scored GeneLab submission (``submission.score_submission``'s result, its
    ``TaskFolds``): predictions sha256 = the submission file's bytes; folds data version = a hash of
    every fold's id, test ids and labels."""
    import json
    from importlib import metadata

    import numpy as np

    folds_key = json.dumps([[f.fold_id, list(f.test_ids), list(f.test_labels)] for f in task.folds])
    s = result["summary"]
    ys, ss = [], []
    preds = predictions or {}
    for f in task.folds:
        if not f.optional and f.fold_id in preds:
            ys += list(f.test_labels)
            ss += [float(preds[f.fold_id][sid]) for sid in f.test_ids]
    roc = None
    if ys and 0 < sum(ys) < len(ys):
        fpr, tpr = metrics.roc_curve_points(np.asarray(ys), np.asarray(ss))
        roc = {"fpr": [round(float(v), 5) for v in fpr], "tpr": [round(float(v), 5) for v in tpr]}
    try:
        version = metadata.version("genebench")
    except metadata.PackageNotFoundError:
        version = "0"
    return build_record(
        benchmark=benchmark, task=result["task_id"], model=str(result["model_name"]), kind="submission",
        protocol=protocol, metric="AUROC", feature_set=None,
        folds=[{"fold_id": f["fold_id"], "value": f.get("auroc"), "ci_lower": f.get("ci_lower"),
                "ci_upper": f.get("ci_upper"), "perm_p": f.get("perm_p"), "n_test": f.get("n_test")} for f in result["folds"]],
        summary={"mean": s["mean_auroc"], "std": s.get("std_auroc"), "mean_ci_lower": s.get("mean_ci_lower"),
                 "mean_perm_p": s.get("mean_perm_p"), "pooled": s.get("pooled_auroc")},
        go=s.get("go"), predictions_sha256=hashlib.sha256(submission_bytes).hexdigest(),
        folds_data_version=hashlib.sha256(folds_key.encode()).hexdigest()[:16], code_version=f"genebench {version}",
        seeds=[], source=source, roc=roc)
