"""Results records (science/results/record.py) of the Category B, C and SpaceOmicsBench evaluations (issue 20):
one per task, model and feature set (B: per tissue's B task; C: per method and protocol; SpaceOmicsBench:
per task), kind ``plug-in`` for the configured plug-ins and ``built-in`` otherwise. Chance baselines
(SpaceOmicsBench's random / majority) are controls, not leaderboard entries. Several seeds (``--seeds``): the
summary is the mean over seeds with ``sd_over_seeds``, the folds one entry per fold and seed, ``seeds`` all of
them, as Category A's records (from_evaluation.auroc_folds / over_seeds)."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from genebench_assets.science.evaluation.lomo_evaluation import POSITIVE_CONTROL_PREFIX
from genebench_assets.science.evaluation.over_seeds import seeds_of
from genebench_assets.science.results.from_evaluation import auroc_folds, over_seeds
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
                          plugin_cost: dict, seeds: list[int], source: str) -> list[dict]:
    """Category B (SPEC §8: no GO rule, so ``go`` is None): per pair AUROC, mean over pairs and its CI (per seed,
    then mean ± sd over seeds: transfer_evaluation.evaluate_pairs)."""
    out = []
    for _, t in tissue_rows.iterrows():
        fs, model = str(t["feature_set"]), str(t["model"])
        if model.startswith(POSITIVE_CONTROL_PREFIX):  # a control, not a leaderboard entry (as in Category A)
            continue
        pf = pairs[(pairs["feature_set"] == fs) & (pairs["model"] == model)]
        p = preds[(preds["feature_set"] == fs) & (preds["model"] == model)]
        cpu, peak = _cost(plugin_cost, model)
        plugin = plugins.get(model)
        out.append(build_record(
            benchmark="genelab", task=task_id, model=model, kind="plug-in" if plugin else "built-in",
            protocol=protocol, metric="AUROC", feature_set=fs,
            folds=auroc_folds(pf),
            summary=over_seeds({"mean": float(t["mean_auroc"]), "std": t.get("std_auroc"),
                                "mean_ci_lower": t["mean_auroc_ci"][0], "mean_perm_p": t.get("mean_perm_p"),
                                "pooled": t.get("pooled_auroc")}, t),
            go=None, predictions_sha256=frame_sha256(p, [*(["seed"] if "seed" in p.columns else []),
                                                         "fold_id", "sample_id", "score"]),
            folds_data_version=folds_data_version, code_version=plugin["code_version"] if plugin else code_version,
            seeds=seeds_of(t, seeds), cpu_seconds=cpu, peak_memory_mb=peak, source=source,
            notes="cross-mission transfer: mean AUROC over ordered mission pairs (no GO rule)"))
    return out


def records_from_cross_tissue(*, task_id: str, results: dict, scores: dict, folds_data_version: str,
                              code_version: str, plugins: dict, plugin_cost: dict, seeds: list[int],
                              source: str) -> list[dict]:
    """Category C methods A/B: ``results[(protocol, method, model)]`` = the fold's result (auroc, CI, p; over
    several seeds the mean with ``sd_auroc_over_seeds``, ``seeds`` and each seed's result in ``per_seed``);
    ``scores`` the same keys -> test scores (every seed's, in seed order). A result that was not computed
    (< 2 genes) has no record."""
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
            folds=auroc_folds(pd.DataFrame([{"fold_id": f"{task_id}_{method}", "auroc": x["auroc"], "ci_lower": x["ci_low"],
                                             "ci_upper": x["ci_high"], "perm_p": x["perm_p"], "n_test": r["n_test"],
                                             **({"seed": x["seed"]} if "seed" in x else {})}
                                            for x in r.get("per_seed") or [r]])),
            summary=over_seeds({"mean": float(r["auroc"]), "mean_ci_lower": r["ci_low"], "mean_perm_p": r["perm_p"]}, r),
            go=None, predictions_sha256=sha, folds_data_version=folds_data_version,
            code_version=plugin["code_version"] if plugin else code_version, seeds=seeds_of(r, seeds), cpu_seconds=cpu,
            peak_memory_mb=peak, source=source, notes=r.get("flag")))
    return out


def records_from_soma(*, task_id: str, protocol: str, primary: str, scored: dict, predictions: dict,
                      folds_data_version: str, code_version: str, plugins: dict, plugin_cost: dict,
                      seeds: list[int], source: str) -> list[dict]:
    """SpaceOmicsBench: ``scored[model]`` = (aggregate, extras) of ``task_results.evaluate_predictions``;
    ``predictions[model]`` the stored per-fold predictions. Chance baselines are left out."""
    out = []
    for model, (agg, extras) in scored.items():
        if model in SOMA_CONTROL_MODELS or primary not in agg:
            continue
        plugin = plugins.get(model)
        cpu, peak = _cost(plugin_cost, model)
        ci = extras.get("ci95") or (None, None)
        folds, counts = [], {}  # fold_<i> per seed (several seeds: each fold once per seed, naming it)
        for m in extras["per_fold_raw"]:
            seed = m.get("seed")
            counts[seed] = counts.get(seed, -1) + 1
            folds.append({"fold_id": f"fold_{counts[seed]}", "value": m.get(primary),
                          **({"seed": int(seed)} if seed is not None else {})})
        sha = hashlib.sha256(json.dumps(predictions[model], sort_keys=True, default=str).encode()).hexdigest()
        out.append(build_record(
            benchmark="spaceomicsbench", task=task_id, model=model, kind="plug-in" if plugin else "built-in",
            protocol=protocol, metric=primary, feature_set=None, folds=folds,
            summary=over_seeds({"mean": float(agg[primary]["mean"]), "std": agg[primary].get("std"),
                                "mean_ci_lower": ci[0]}, agg[primary], sd_column="sd_over_seeds"),
            go=None, predictions_sha256=sha, folds_data_version=folds_data_version,
            code_version=plugin["code_version"] if plugin else code_version, seeds=seeds_of(agg[primary], seeds),
            cpu_seconds=cpu,
            peak_memory_mb=peak, source=source))
    return out
