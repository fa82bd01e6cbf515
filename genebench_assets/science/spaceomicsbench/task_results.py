"""One task's baseline results in the published ``baseline_results.json`` layout:
``model -> metric -> {mean, std}``, plus ``<model>_per_fold`` for leave-one-crew-out splits
(metrics rounded to 4 places and the held-out crew), so our file and the published one compare
key by key. Our additions sit under keys starting with ``_`` (bootstrap CI, versions)."""

from __future__ import annotations

import warnings

import numpy as np

from genebench_assets.science.spaceomicsbench.baselines import (
    FoldPrediction, encode_labels, library_versions, models_for, run_baseline)
from genebench_assets.science.spaceomicsbench.splits import Fold
from genebench_assets.science.spaceomicsbench.task_definitions import TASK_IDS
from genebench_assets.science.spaceomicsbench.task_data import TaskData
from genebench_assets.science.spaceomicsbench.task_metrics import aggregate, bootstrap_fold_mean_ci, fold_metrics


def label_list_for(data: TaskData, metric_protocol: str | None = None) -> list | None:
    """Fixed class codes for macro-F1 in strict (SPEC §12); the seed's default in seed.
    ``metric_protocol`` overrides the data's protocol for the metric alone: the seed metric on
    strict (id-joined) data is the intermediate step of the seed -> strict attribution
    (``defect_attribution``)."""
    if (metric_protocol or data.protocol) == "strict" and data.task_type == "multi_class_classification":
        return list(range(len(encode_labels(data)[1])))
    return None


def evaluate_predictions(data: TaskData, folds: list[Fold], model: str, preds: list[FoldPrediction],
                         primary_metric: str, n_boot: int = 200, metric_protocol: str | None = None,
                         ) -> tuple[dict, list[dict] | None, dict]:
    """(aggregate, per-fold details for LOCO splits or None, extras: CI and per-fold raw).
    ``metric_protocol``: score with that protocol's metric instead of the data's (see ``label_list_for``)."""
    y_enc, _ = encode_labels(data)
    labels = label_list_for(data, metric_protocol)
    per_fold, details, triples = [], [], []
    for f, p in zip(folds, preds):
        y_true = y_enc[np.asarray(f.test_rows)]
        m = fold_metrics(data.task_type, y_true, p.y_pred, p.y_score, labels)
        per_fold.append(m)
        triples.append((y_true, p.y_pred, p.y_score))
        d = {k: round(v, 4) for k, v in m.items()}
        if "crew" in f.held_out:
            d["test_crew"] = f.held_out["crew"]
        details.append(d)
    agg = aggregate(per_fold)
    ci = bootstrap_fold_mean_ci(data.task_type, primary_metric, triples, labels, n_boot=n_boot) if n_boot else None
    extras = {"per_fold_raw": per_fold, "ci95": ci, "n_boot": n_boot}
    loco = any("crew" in f.held_out for f in folds)
    return agg, (details if loco else None), extras


def run_task_baselines(data: TaskData, folds: list[Fold], primary_metric: str, models=None,
                       n_boot: int = 200) -> tuple[dict, dict[str, list[FoldPrediction]]]:
    """Every baseline of the task type on every fold -> (results in the published layout, predictions)."""
    results: dict = {}
    predictions: dict[str, list[FoldPrediction]] = {}
    ci: dict = {}
    for model in models or models_for(data.task_type):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # convergence warnings, as the seed silences them
            preds = run_baseline(model, data, folds)
        predictions[model] = preds
        agg, details, extras = evaluate_predictions(data, folds, model, preds, primary_metric, n_boot)
        results[model] = agg
        if details is not None:
            results[f"{model}_per_fold"] = details
        ci[model] = {"metric": primary_metric, "ci95": extras["ci95"], "n_boot": n_boot}
    results["_bootstrap_ci"] = ci
    results["_versions"] = library_versions()
    return results, predictions


def compare_with_published(ours: dict, published: dict, tol: float = 5e-5) -> list[dict]:
    """Key-by-key comparison of one task's model -> metric means (published vs ours)."""
    rows = []
    for model, metrics in published.items():
        if model.endswith("_per_fold") or not isinstance(metrics, dict) or model.startswith("_"):
            continue
        for metric, v in metrics.items():
            mine = ours.get(model, {}).get(metric, {}).get("mean")
            diff = None if mine is None else round(mine - v["mean"], 4)
            rows.append({"model": model, "metric": metric, "published": v["mean"], "ours": mine, "diff": diff,
                         "exact": mine is not None and abs(mine - v["mean"]) <= tol})
    return rows


def compare_results_files(ours: dict, published: dict) -> tuple[list[dict], dict[str, str]]:
    """Key-by-key comparison of two whole ``baseline_results.json`` files, over every task the
    published file scores and ours has: each model's metric ``mean`` and ``std``, and each
    ``<model>_per_fold`` value (field ``fold <i>``; the held-out crew must agree too).

    Returns (rows, skipped): rows {task, model, metric, field, published, ours, diff} with
    ``ours``/``diff`` None where our file lacks the key; ``skipped``: task -> why it was not
    compared (unavailable here, an error in the published run, or absent from ours)."""
    rows: list[dict] = []
    skipped: dict[str, str] = {}
    for task, pub in published.items():
        if task.startswith("_") or not isinstance(pub, dict):
            continue
        mine = ours.get(task)
        if mine is None:
            skipped[task] = "not in our results" if task in TASK_IDS else "not one of the 21 tasks"
            continue
        if "error" in mine or "error" in pub:
            skipped[task] = f"ours: {mine['error']}" if "error" in mine else f"published: {pub['error']}"
            continue
        for model, entry in pub.items():
            if model.startswith("_"):
                continue
            if model.endswith("_per_fold"):
                theirs_folds, our_folds = entry, mine.get(model) or []
                for i, fold in enumerate(theirs_folds):
                    our_fold = our_folds[i] if i < len(our_folds) else {}
                    for metric, v in fold.items():
                        if metric == "test_crew":
                            continue
                        if our_fold.get("test_crew") != fold.get("test_crew"):
                            our_v = None      # folds in another order: not comparable
                        else:
                            our_v = our_fold.get(metric)
                        rows.append(_row(task, model.removesuffix("_per_fold"), metric, f"fold {i}", v, our_v))
                continue
            for metric, v in entry.items():
                for fld in ("mean", "std"):
                    rows.append(_row(task, model, metric, fld, v[fld], mine.get(model, {}).get(metric, {}).get(fld)))
    return rows, skipped


def _row(task, model, metric, fld, published, ours) -> dict:
    diff = None if ours is None or published is None else round(float(ours) - float(published), 4)
    return {"task": task, "model": model, "metric": metric, "field": fld, "published": published, "ours": ours,
            "diff": diff}


def max_diff_by_model(rows: list[dict], tol: float = 5e-5) -> dict[str, dict]:
    """Per model: fold-mean values compared, how many equal to 4 decimals, the largest |diff| of the
    means (and the task/metric where it is), the largest |diff| of the stds and of the per-fold
    values, and keys our file lacks."""
    out: dict[str, dict] = {}
    for r in rows:
        m = out.setdefault(r["model"], {"means": 0, "means_equal": 0, "max_abs_diff_mean": 0.0, "where": "",
                                        "max_abs_diff_std": 0.0, "per_fold_values": 0,
                                        "max_abs_diff_per_fold": 0.0, "missing": 0})
        if r["diff"] is None:
            m["missing"] += 1
            continue
        d = abs(r["diff"])
        if r["field"] == "mean":
            m["means"] += 1
            m["means_equal"] += d <= tol
            if d > m["max_abs_diff_mean"]:
                m["max_abs_diff_mean"], m["where"] = d, f"{r['task']} {r['metric']}"
        elif r["field"] == "std":
            m["max_abs_diff_std"] = max(m["max_abs_diff_std"], d)
        else:
            m["per_fold_values"] += 1
            m["max_abs_diff_per_fold"] = max(m["max_abs_diff_per_fold"], d)
    return out
