"""Results records (science/results/record.py) of the Category B, C and SpaceOmicsBench evaluations (issue 20):
one per task, model and feature set (B: per tissue's B task; C: per method and protocol; SpaceOmicsBench:
per task), kind ``plug-in`` for the configured plug-ins and ``built-in`` otherwise. Chance baselines
(SpaceOmicsBench's random / majority) are controls, not leaderboard entries."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from genebench_assets.science.results.record import build_record

SOMA_CONTROL_MODELS = ("random", "majority")


def frame_sha256(frame: pd.DataFrame, columns: list[str]) -> str:
    """sha256 of a predictions frame's columns, rows sorted (the record's predictions_sha256)."""
    rows = frame[columns].sort_values(columns[:-1]).reset_index(drop=True)
    return hashlib.sha256(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes()).hexdigest()


def _cost(plugin_cost: dict, model: str) -> tuple[float | None, float | None]:
    c = plugin_cost.get(model) or {}
    return c.get("cpu_seconds"), c.get("peak_rss_mb")


def records_from_transfer(*, task_id: str, protocol: str, pairs: pd.DataFrame, tissue_rows: pd.DataFrame,
                          preds: pd.DataFrame, folds_data_version: str, code_version: str, plugins: dict,
                          plugin_cost: dict, seed: int, source: str) -> list[dict]:
    """Category B (SPEC §8: no GO rule, so ``go`` is None): per pair AUROC, mean over pairs and its CI."""
    out = []
    for _, t in tissue_rows.iterrows():
        fs, model = str(t["feature_set"]), str(t["model"])
        pf = pairs[(pairs["feature_set"] == fs) & (pairs["model"] == model)]
        p = preds[(preds["feature_set"] == fs) & (preds["model"] == model)]
        cpu, peak = _cost(plugin_cost, model)
        plugin = plugins.get(model)
        out.append(build_record(
            benchmark="genelab", task=task_id, model=model, kind="plug-in" if plugin else "built-in",
            protocol=protocol, metric="AUROC", feature_set=fs,
            folds=[{"fold_id": r["fold_id"], "value": r["auroc"], "ci_lower": r["ci_lower"], "ci_upper": r["ci_upper"],
                    "perm_p": r["perm_p"], "n_test": int(r["n_test"])} for _, r in pf.iterrows()],
            summary={"mean": float(t["mean_auroc"]), "std": t.get("std_auroc"), "mean_ci_lower": t["mean_auroc_ci"][0],
                     "mean_perm_p": t.get("mean_perm_p"), "pooled": t.get("pooled_auroc")},
            go=None, predictions_sha256=frame_sha256(p, ["fold_id", "sample_id", "score"]),
            folds_data_version=folds_data_version, code_version=plugin["code_version"] if plugin else code_version,
            seeds=[seed], cpu_seconds=cpu, peak_memory_mb=peak, source=source,
            notes="cross-mission transfer: mean AUROC over ordered mission pairs (no GO rule)"))
    return out


def records_from_cross_tissue(*, task_id: str, results: dict, scores: dict, folds_data_version: str,
                              code_version: str, plugins: dict, plugin_cost: dict, seed: int, source: str) -> list[dict]:
    """Category C methods A/B: ``results[(protocol, method, model)]`` = the fold's result (auroc, CI, p);
    ``scores`` the same keys -> test scores. A result that was not computed (< 2 genes) has no record."""
    out = []
    for (protocol, method, model), r in results.items():
        if r.get("auroc") is None:
            continue
        plugin = plugins.get(model)
        cpu, peak = _cost(plugin_cost, model)
        sha = hashlib.sha256(json.dumps([float(v) for v in scores[(protocol, method, model)]]).encode()).hexdigest()
        out.append(build_record(
            benchmark="genelab", task=task_id, model=model, kind="plug-in" if plugin else "built-in",
            protocol=protocol, metric="AUROC", feature_set=method,
            folds=[{"fold_id": f"{task_id}_{method}", "value": r["auroc"], "ci_lower": r["ci_low"],
                    "ci_upper": r["ci_high"], "perm_p": r["perm_p"], "n_test": int(r["n_test"])}],
            summary={"mean": float(r["auroc"]), "mean_ci_lower": r["ci_low"], "mean_perm_p": r["perm_p"]},
            go=None, predictions_sha256=sha, folds_data_version=folds_data_version,
            code_version=plugin["code_version"] if plugin else code_version, seeds=[seed], cpu_seconds=cpu,
            peak_memory_mb=peak, source=source, notes=r.get("flag")))
    return out


def records_from_soma(*, task_id: str, protocol: str, primary: str, scored: dict, predictions: dict,
                      folds_data_version: str, code_version: str, plugins: dict, plugin_cost: dict,
                      seed: int, source: str) -> list[dict]:
    """SpaceOmicsBench: ``scored[model]`` = (aggregate, extras) of ``task_results.evaluate_predictions``;
    ``predictions[model]`` the stored per-fold predictions. Chance baselines are left out."""
    out = []
    for model, (agg, extras) in scored.items():
        if model in SOMA_CONTROL_MODELS or primary not in agg:
            continue
        plugin = plugins.get(model)
        cpu, peak = _cost(plugin_cost, model)
        ci = extras.get("ci95") or (None, None)
        folds = [{"fold_id": f"fold_{i}", "value": m.get(primary)} for i, m in enumerate(extras["per_fold_raw"])]
        sha = hashlib.sha256(json.dumps(predictions[model], sort_keys=True, default=str).encode()).hexdigest()
        out.append(build_record(
            benchmark="spaceomicsbench", task=task_id, model=model, kind="plug-in" if plugin else "built-in",
            protocol=protocol, metric=primary, feature_set=None, folds=folds,
            summary={"mean": float(agg[primary]["mean"]), "std": agg[primary].get("std"), "mean_ci_lower": ci[0]},
            go=None, predictions_sha256=sha, folds_data_version=folds_data_version,
            code_version=plugin["code_version"] if plugin else code_version, seeds=[seed], cpu_seconds=cpu,
            peak_memory_mb=peak, source=source))
    return out
