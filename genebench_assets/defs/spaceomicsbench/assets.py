"""SpaceOmicsBench's 21 ML tasks as assets, partitioned by task (SPEC §12, issue 12):

task definition -> task data (id joins + join report) -> split folds (blocking checks) ->
predictions per baseline -> evaluation per task -> leaderboard (composite score, all tasks).

Every table lives under ``<data_dir>/tables/<asset>/<protocol>/<task>``: the protocol is part of a
result's identity, so seed and strict results sit side by side. Unavailable tasks (B1, F1-F3: files
absent from the data) materialize as records saying ``unavailable: <missing file>`` all the way to
the leaderboard, which lists them; nothing is faked or dropped silently."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.models.plugin_fits import configured_plugins, plugin_metadata, versioned_data_version
from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.spaceomicsbench.resources import SpaceOmicsBenchMLSettings
from genebench_assets.science.spaceomicsbench.task_definitions import TASK_IDS
from genebench_assets.science.storage.atomic_files import sha256_file, write_json, write_text
from genebench_assets.science.storage.table_store import TableStore

soma_task_partitions = dg.StaticPartitionsDefinition(list(TASK_IDS))
GROUP = "spaceomicsbench"


def _ctx(context, settings: GenebenchSettings, soma: SpaceOmicsBenchMLSettings):
    return TableStore(settings.data_dir), soma.checked_protocol(), context.partition_key


def _upstream(store: TableStore, asset: str, protocol: str, task: str, ext: str = "json") -> list[dict]:
    return [{"asset": asset, "partition": task, "protocol": protocol,
             "data_version": store.sha256(asset, protocol, task, ext=ext)[:16]}]


def _unavailable(store: TableStore, asset: str, protocol: str, task: str, status: str) -> dg.MaterializeResult:
    _, sha = store.write_json({"task_id": task, "status": status}, asset, protocol, task)
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]),
                                metadata={"status": status, "protocol": protocol})


def _status(store: TableStore, protocol: str, task: str) -> str:
    return store.read_json("soma_task_definition", protocol, task)["status"]


def _raw_files(store: TableStore, protocol: str, task: str) -> list[dict]:
    return store.read_json("soma_task_definition", protocol, task).get("files", [])


def load_task_data(store: TableStore, protocol: str, task: str):
    from genebench_assets.science.spaceomicsbench.task_data import TaskData

    return TaskData.from_stored(store.read_frame("soma_task_data", protocol, task, "X"),
                                store.read_frame("soma_task_data", protocol, task, "rows"),
                                store.read_json("soma_task_data", protocol, task, "spec"))


def require_checked_split_folds(context, store: TableStore, protocol: str, task: str) -> None:
    """The read gate (gating/read_gate.py) for readers of soma_split_folds: the folds on disk are its latest
    materialization, made under this protocol, and its four blocking checks passed on it."""
    from genebench_assets.defs.gating.read_gate import require_checked_inputs

    on_disk = store.sha256("soma_split_folds", protocol, task, ext="json")[:16] \
        if store.exists("soma_split_folds", protocol, task, ext="json") else "none"
    require_checked_inputs(context, [("soma_split_folds", task, on_disk)], protocol=protocol)


def load_folds(store: TableStore, protocol: str, task: str):
    from genebench_assets.science.spaceomicsbench.splits import Fold

    return [Fold.from_dict(d) for d in store.read_json("soma_split_folds", protocol, task)["folds"]]


@dg.asset(code_version=code_version_of(__file__, "soma_task_definition"), group_name=GROUP, partitions_def=soma_task_partitions,
          description="The task file validated against tasks/task_schema.json (a malformed file fails naming the "
          "file, field and value), its data files with sha256, and whether they are all present: a task whose "
          "files are absent is 'unavailable: <missing file>' (B1, F1-F3 in the shared data).")
def soma_task_definition(context, settings: GenebenchSettings, soma_settings: SpaceOmicsBenchMLSettings):
    from genebench_assets.science.spaceomicsbench.task_definitions import (
        TaskDefinitionError, category_of, load_task_definition, missing_files)

    store, protocol, task_id = _ctx(context, settings, soma_settings)
    root = soma_settings.root()
    try:
        task = load_task_definition(root / "tasks", task_id)
    except TaskDefinitionError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    missing = missing_files(task, root / "data")
    status = f"unavailable: {', '.join(missing)}" if missing else "available"
    present = [f for f in task.all_files() if f not in missing]
    files = [{"osd": "SpaceOmicsBench", "file_name": f"tasks/{task_id}.json", "origin": str(task.path),
              "sha256": sha256_file(task.path), "source_mode": "spaceomicsbench"}]
    for f in sorted(set(present)):
        p = root / "data" / f
        files.append({"osd": "SpaceOmicsBench", "file_name": f"data/{f}", "origin": str(p), "size": p.stat().st_size,
                      "sha256": sha256_file(p), "source_mode": "spaceomicsbench"})
    record = {"task_id": task_id, "status": status, "missing_files": missing, "definition": task.raw,
              "supplementary": task.supplementary, "category": category_of(task_id), "files": files}
    _, sha = store.write_json(record, "soma_task_definition", protocol, task_id)
    if missing:
        context.log.warning(f"{task_id}: {status}")
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata={
        "status": status, "task_type": task.task_type, "primary_metric": task.primary_metric,
        "split": task.split_name, "supplementary": task.supplementary, "category": str(category_of(task_id)),
        **provenance_metadata(upstream=[], raw_files=files, protocol=protocol)})


@dg.asset(code_version=code_version_of(__file__, "soma_task_data"), group_name=GROUP, partitions_def=soma_task_partitions, deps=[soma_task_definition],
          description="Features and labels of the task. strict: every feature file joined onto the label rows by "
          "sample / gene id (polars), never by position; seed: the published pairing, positional joins included, "
          "with each feature row's own id kept beside its label row's id. Metadata: the join report (ids matched, "
          "dropped, duplicated, positional id matches), class balance, the seed defects found.")
def soma_task_data(context, settings: GenebenchSettings, soma_settings: SpaceOmicsBenchMLSettings):
    from genebench_assets.science.spaceomicsbench.task_data import build_task_data
    from genebench_assets.science.spaceomicsbench.task_definitions import load_task_definition

    store, protocol, task_id = _ctx(context, settings, soma_settings)
    status = _status(store, protocol, task_id)
    if status != "available":
        return _unavailable(store, "soma_task_data", protocol, task_id, status)
    root = soma_settings.root()
    data = build_task_data(load_task_definition(root / "tasks", task_id), root / "data", protocol)
    store.write_frame(pd.DataFrame(data.X, columns=[f"f{i}" for i in range(data.X.shape[1])]),
                      "soma_task_data", protocol, task_id, "X")
    store.write_frame(data.rows_frame(), "soma_task_data", protocol, task_id, "rows")
    store.write_json(data.spec(), "soma_task_data", protocol, task_id, "spec")
    _, sha = store.write_json({"task_id": task_id, "status": "available", "n_rows": data.n_rows},
                              "soma_task_data", protocol, task_id)
    joins = pd.DataFrame([{k: (len(v) if isinstance(v, list) else v) for k, v in r.items()} for r in data.join_report])
    balance = pd.DataFrame([data.class_balance()], index=["rows"]).T
    balance.index.name = "class"
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata={
        "status": "available", "n_rows": data.n_rows, "n_features": int(data.X.shape[1]),
        "join_report": dg.MetadataValue.md(frame_markdown(joins.set_index("join"))),
        "join_report_ids": dg.MetadataValue.json(data.join_report),
        "class_balance": dg.MetadataValue.md(frame_markdown(balance)),
        "seed_defects": dg.MetadataValue.md("\n".join(f"- {d}" for d in data.defects) or "none"),
        **provenance_metadata(upstream=_upstream(store, "soma_task_definition", protocol, task_id),
                              raw_files=_raw_files(store, protocol, task_id), protocol=protocol)})


@dg.asset(code_version=code_version_of(__file__, "soma_split_folds"), group_name=GROUP, partitions_def=soma_task_partitions, deps=[soma_task_definition, soma_task_data],
          description="The task's folds as row ids (the split file's positional indices resolved once against the "
          "label rows). strict regenerates C2's split stratified in the baselines' row order. Blocking checks: "
          "train/test disjoint, LOCO/LOTO groups held out, feature ids = label ids, test classes seen in training.")
def soma_split_folds(context, settings: GenebenchSettings, soma_settings: SpaceOmicsBenchMLSettings):
    from genebench_assets.science.spaceomicsbench.splits import class_counts, task_folds

    store, protocol, task_id = _ctx(context, settings, soma_settings)
    status = _status(store, protocol, task_id)
    if status != "available":
        return _unavailable(store, "soma_split_folds", protocol, task_id, status)
    definition = store.read_json("soma_task_definition", protocol, task_id)["definition"]
    data = load_task_data(store, protocol, task_id)
    folds, note = task_folds(soma_settings.root() / "splits", definition["split"], data)
    counts = class_counts(folds, data)
    _, sha = store.write_json({"task_id": task_id, "status": "available", "split": definition["split"], "note": note,
                               "folds": [f.to_dict() for f in folds], "class_counts": counts},
                              "soma_split_folds", protocol, task_id)
    table = pd.DataFrame([{"fold": f.name, "n_train": len(f.train_rows), "n_test": len(f.test_rows),
                           "dropped_ids": len(f.dropped_ids)} for f in folds]).set_index("fold")
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata={
        "status": "available", "split": definition["split"], "n_folds": len(folds),
        "regenerated": bool(note["regenerated"]), "split_note": dg.MetadataValue.json(note),
        "folds": dg.MetadataValue.md(frame_markdown(table)),
        "class_counts_per_fold": dg.MetadataValue.md(frame_markdown(pd.DataFrame(counts).set_index("fold"))),
        **provenance_metadata(upstream=_upstream(store, "soma_task_data", protocol, task_id),
                              raw_files=_raw_files(store, protocol, task_id), protocol=protocol)})


@dg.asset(code_version=code_version_of(__file__, "soma_predictions"), group_name=GROUP, partitions_def=soma_task_partitions,
          deps=[soma_task_definition, soma_task_data, soma_split_folds],
          description="Per baseline (Random, Majority, LogisticRegression, RandomForest, MLP, XGBoost, LightGBM; "
          "multilabel one-vs-rest for B2) and fold: predictions and scores of the test rows. Mean imputer -> "
          "optional PCA -> StandardScaler fitted on the training rows; seed 42 (with --seeds: once per seed, and 42, "
          "each entry naming its seed).")
def soma_predictions(context, settings: GenebenchSettings, soma_settings: SpaceOmicsBenchMLSettings,
                     model_settings: ModelSettings):
    import warnings

    from genebench_assets.science.spaceomicsbench.baselines import (
        baseline_seeds, library_versions, models_for, run_baseline)

    store, protocol, task_id = _ctx(context, settings, soma_settings)
    require_checked_split_folds(context, store, protocol, task_id)
    status = _status(store, protocol, task_id)
    if status != "available":
        return _unavailable(store, "soma_predictions", protocol, task_id, status)
    data = load_task_data(store, protocol, task_id)
    folds = load_folds(store, protocol, task_id)
    models = [m for m in models_for(data.task_type) if not soma_settings.models or m in soma_settings.models]
    plugins = configured_plugins(model_settings, reserved=models_for(data.task_type))  # before any fit
    # Seeds (issue 20, `--seeds`): with several, each baseline is fitted once per seed (seed 42 too, for the
    # published layout) and every entry names its seed; one seed: seed 42 alone, the file as before.
    seeds = baseline_seeds(model_settings.run_seeds())
    out, timing = {}, {}
    for model in models:
        out[model], timing[model] = [], 0.0
        for seed in seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                preds = run_baseline(model, data, folds, seed=seed)
            out[model] += [{"fold": p.fold, "row_ids": folds[i].test_ids, "y_pred": p.y_pred.tolist(),
                            "y_score": p.y_score.tolist(), "fit_seconds": round(p.fit_seconds, 4),
                            **({"seed": seed} if len(seeds) > 1 else {})} for i, p in enumerate(preds)]
            timing[model] += sum(p.fit_seconds for p in preds)
        timing[model] = round(timing[model], 2)
        context.log.info(f"{task_id} {model}: {timing[model]}s")
    doc = {"task_id": task_id, "status": "available", "models": models, "versions": library_versions(),
           "predictions": out}
    if len(seeds) > 1:
        doc["baseline_seeds"] = model_settings.run_seeds()
    # Plug-ins (issue 20): on binary tasks, through the fit workers, kept apart from the baselines so the
    # published-layout results and the composite stay the baselines'; nothing is written if one fails.
    plugin_meta = _soma_plugin_fits(context, model_settings, plugins, data, folds, doc)
    _, sha = store.write_json(doc, "soma_predictions", protocol, task_id)
    return dg.MaterializeResult(data_version=dg.DataVersion(versioned_data_version(sha, plugins)), metadata={
        "status": "available", "models": ", ".join(models), "fit_seconds": dg.MetadataValue.json(timing),
        "versions": dg.MetadataValue.json(library_versions()), **plugin_meta,
        **provenance_metadata(upstream=_upstream(store, "soma_split_folds", protocol, task_id),
                              raw_files=_raw_files(store, protocol, task_id), protocol=protocol,
                              extra={"plugins": plugin_metadata(plugins)} if plugins else None)})


def _soma_plugin_fits(context, model_settings: ModelSettings, plugins: dict, data, folds, doc: dict) -> dict:
    """Every plug-in on every fold of a binary task (into ``doc["plugin_predictions"]``), or the reason a task
    of another type skips them (``doc["plugins_skipped"]``); returns the metadata to show. No plug-in
    configured: ``doc`` is left as it was (the baselines' file byte for byte)."""
    from genebench_assets.defs.models.plugin_fits import PluginFit, run_plugin_fits
    from genebench_assets.science.evaluation.over_seeds import seed_note
    from genebench_assets.science.models.plugin_scope import soma_skip_reason
    from genebench_assets.science.spaceomicsbench.baselines import plugin_fold_inputs, plugin_prediction

    if not plugins:
        return {}
    skipped = soma_skip_reason(data.task_type)
    doc["plugins"] = plugin_metadata(plugins)
    if skipped:
        doc["plugins_skipped"] = skipped
        context.log.info(f"{doc['task_id']}: plug-ins {list(plugins)} {skipped}")
        return {"plugins": dg.MetadataValue.json(doc["plugins"]), "plugins_skipped": skipped}
    # Seeds (issue 20, `--seeds`): each a full run of the plug-ins' fits; with several, each fold's entry names
    # its seed and soma_evaluation reports the mean ± sd over seeds (one seed: the file as before).
    seeds = model_settings.run_seeds()
    fits, fit_folds = [], []
    for fold in folds:
        X_train, y_train, X_test = plugin_fold_inputs(data, fold)
        for seed in seeds:
            for name in plugins:
                fits.append(PluginFit(name, f"fold {fold.index} ({fold.name}{seed_note(seed, seeds)})", X_train, y_train,
                                      X_test, seed=seed))
                fit_folds.append((fold, seed))
    results, label_blind, cost = run_plugin_fits(context, model_settings, plugins, fits)
    doc["plugin_predictions"] = {name: [] for name in plugins}
    for f, (fold, seed), res in zip(fits, fit_folds, results):
        p = plugin_prediction(fold, res["scores"], res["fit_seconds"])
        doc["plugin_predictions"][f.name].append({"fold": p.fold, "row_ids": fold.test_ids, "y_pred": p.y_pred.tolist(),
                                                  "y_score": p.y_score.tolist(), "fit_seconds": round(p.fit_seconds, 4),
                                                  **({"seed": seed} if len(seeds) > 1 else {})})
    doc["plugin_fit_cost"] = cost
    doc["plugin_seed"] = seeds[0]
    if len(seeds) > 1:
        doc["plugin_seeds"] = seeds
    return {"plugins": dg.MetadataValue.json(doc["plugins"]), "label_blind": dg.MetadataValue.json(label_blind),
            "plugin_fit_cost": dg.MetadataValue.json(cost)}


@dg.asset(code_version=code_version_of(__file__, "soma_evaluation"), group_name=GROUP, partitions_def=soma_task_partitions,
          deps=[soma_task_definition, soma_task_data, soma_split_folds, soma_predictions],
          description="Metrics of the task type per fold (macro-F1 + accuracy; AUROC + AUPRC (+F1); micro-F1), fold "
          "mean and std (published layout), a bootstrap 95% CI of the fold mean of the primary metric, and the "
          "analytic chance level beside the Random baseline's score. strict, multi-class tasks: the same predictions "
          "also scored with the seed's macro-F1 (_strict_data_seed_metric), to split seed vs strict per defect.")
def soma_evaluation(context, settings: GenebenchSettings, soma_settings: SpaceOmicsBenchMLSettings):
    from genebench_assets.science.spaceomicsbench.baselines import SEED, FoldPrediction, encode_labels
    from genebench_assets.science.spaceomicsbench.composite import analytic_chance
    from genebench_assets.science.spaceomicsbench.defect_attribution import BETWEEN_KEY, needs_between
    from genebench_assets.science.spaceomicsbench.task_results import evaluate_predictions

    store, protocol, task_id = _ctx(context, settings, soma_settings)
    require_checked_split_folds(context, store, protocol, task_id)
    status = _status(store, protocol, task_id)
    if status != "available":
        return _unavailable(store, "soma_evaluation", protocol, task_id, status)
    definition = store.read_json("soma_task_definition", protocol, task_id)["definition"]
    primary = definition["evaluation"]["primary_metric"]
    data = load_task_data(store, protocol, task_id)
    folds = load_folds(store, protocol, task_id)
    stored = store.read_json("soma_predictions", protocol, task_id)
    results, ci, scored = {}, {}, {}
    plugin_predictions = stored.get("plugin_predictions", {})  # issue 20: plug-ins, kept apart from the baselines
    plugin_results = {}
    over_seeds = stored.get("baseline_seeds")  # issue 20: the baselines' run seeds (absent: seed 42 alone)
    baselines_over_seeds = {}
    for model in [*stored["models"], *plugin_predictions]:
        entries = (stored["predictions"] if model in stored["models"] else plugin_predictions)[model]
        per_seed = []  # one evaluation per seed (plug-ins under --seeds: entries name their seed)
        for seed in sorted({p.get("seed") for p in entries}, key=lambda x: -1 if x is None else x):
            preds = []
            for i, p in enumerate([p for p in entries if p.get("seed") == seed]):
                if p["row_ids"] != folds[i].test_ids:
                    raise dg.Failure(f"soma_predictions {task_id} {model} fold {i}: predicted rows differ from the "
                                     "fold's test rows", allow_retries=False)
                preds.append(FoldPrediction(p["fold"], np.asarray(p["y_pred"]), np.asarray(p["y_score"], dtype=float),
                                            p["fit_seconds"]))
            per_seed.append((seed, evaluate_predictions(data, folds, model, preds, primary, n_boot=soma_settings.n_boot)))
        if model in stored["models"] and over_seeds:
            # Baselines under --seeds: the published layout keeps seed 42's numbers; the mean ± sd over the
            # run seeds (the plug-ins' code) goes beside them and into the results records.
            by_seed = dict(per_seed)
            agg, details, extras = by_seed[SEED]
            over_agg, _, over_extras = _over_seeds([(seed, by_seed[seed]) for seed in over_seeds])
            baselines_over_seeds[model] = over_agg
            scored[model] = (over_agg, over_extras)
        else:
            agg, details, extras = per_seed[0][1] if len(per_seed) == 1 else _over_seeds(per_seed)
            scored[model] = (agg, extras)
        target = results if model in stored["models"] else plugin_results
        target[model] = agg
        if details is not None:
            target[f"{model}_per_fold"] = details
        ci[model] = {"metric": primary, "ci95": extras["ci95"], "n_boot": extras["n_boot"]}
    if protocol == "strict" and needs_between(task_id, primary):
        # The same predictions scored with the seed metric: the point between the data step and
        # the metric step of the seed -> strict attribution (no refit, no bootstrap).
        results[BETWEEN_KEY] = {}
        for model in stored["models"]:
            preds = [FoldPrediction(p["fold"], np.asarray(p["y_pred"]), np.asarray(p["y_score"], dtype=float),
                                    p["fit_seconds"]) for p in stored["predictions"][model]
                     if p.get("seed", SEED) == SEED]
            results[BETWEEN_KEY][model] = evaluate_predictions(data, folds, model, preds, primary, n_boot=0,
                                                               metric_protocol="seed")[0]
    y_enc, classes = encode_labels(data)
    chance = analytic_chance(primary, [y_enc[np.asarray(f.test_rows)] for f in folds], n_classes=len(classes))
    empirical = results.get("random", {}).get(primary, {}).get("mean")
    record = {"task_id": task_id, "status": "available", "primary_metric": primary, "results": results,
              "bootstrap_ci": ci, "analytic_chance": chance, "empirical_random": empirical,
              "supplementary": store.read_json("soma_task_definition", protocol, task_id)["supplementary"],
              "versions": stored["versions"]}
    if "plugins" in stored:  # only with plug-ins configured: otherwise the file is the baselines' alone
        record.update(plugins=stored["plugins"], plugin_results=plugin_results,
                      **({"plugins_skipped": stored["plugins_skipped"]} if "plugins_skipped" in stored else {}))
    if over_seeds:
        record.update(baseline_seeds=over_seeds, baseline_results_over_seeds=baselines_over_seeds)
    _, sha = store.write_json(record, "soma_evaluation", protocol, task_id)
    rows = []
    for model in [*stored["models"], *plugin_results]:
        row = {"model": model, **{k: v["mean"] for k, v in {**results, **plugin_results}[model].items()}}
        lo, hi = ci[model]["ci95"] or (float("nan"), float("nan"))
        row[f"{primary} 95% CI"] = f"[{lo:.3f}, {hi:.3f}]"
        rows.append(row)
    meta = {"status": "available", "primary_metric": primary, "analytic_chance": round(chance, 4),
            "empirical_random": float(empirical) if empirical is not None else float("nan"),
            "results": dg.MetadataValue.md(frame_markdown(pd.DataFrame(rows).set_index("model")))}
    for model, agg in {**results, **plugin_results}.items():
        if not model.endswith("_per_fold") and primary in agg:
            meta[f"{primary}_{model}"] = float(agg[primary]["mean"])
    if BETWEEN_KEY in results:
        meta["strict_data_seed_metric"] = dg.MetadataValue.json(
            {m: v.get(primary, {}).get("mean") for m, v in results[BETWEEN_KEY].items()})
    if "plugins_skipped" in stored:
        meta["plugins_skipped"] = stored["plugins_skipped"]
    if over_seeds:
        over_rows = [{"model": m, f"{primary} mean over seeds": a[primary]["mean"],
                      "sd_over_seeds": a[primary]["sd_over_seeds"], "seeds": a[primary]["seeds"]}
                     for m, a in baselines_over_seeds.items() if primary in a]
        meta["baselines_over_seeds"] = dg.MetadataValue.md(
            frame_markdown(pd.DataFrame(over_rows).set_index("model")) if over_rows else "none")
    meta.update(provenance_metadata(upstream=_upstream(store, "soma_predictions", protocol, task_id),
                                    raw_files=_raw_files(store, protocol, task_id), protocol=protocol,
                                    extra={"plugins": stored["plugins"]} if stored.get("plugins") else None))
    # Issue 20: one results record per model (chance baselines aside) in <data_dir>/results/spaceomicsbench/<task>/.
    from genebench_assets.science.results.from_tasks import records_from_soma
    from genebench_assets.science.results.record import write_record

    records = records_from_soma(
        task_id=task_id, protocol=protocol, primary=primary, scored=scored,
        predictions={**{m: [p for p in e if p.get("seed") in (over_seeds or [None])]
                        for m, e in stored["predictions"].items()}, **plugin_predictions},
        folds_data_version=_upstream(store, "soma_split_folds", protocol, task_id)[0]["data_version"],
        code_version=context.assets_def.code_versions_by_key.get(context.asset_key) or "unknown",
        plugins=stored.get("plugins", {}), plugin_cost=stored.get("plugin_fit_cost", {}),
        seeds=stored.get("plugin_seeds") or [stored.get("plugin_seed", 42)], source=f"soma_predictions [{task_id}] ({protocol})")
    paths = [write_record(settings.data_dir, r) for r in records]
    meta["results_records"] = str(paths[0].parent) if paths else "none"
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata=meta)


def _over_seeds(per_seed: list[tuple[int, tuple]]) -> tuple[dict, list | None, dict]:
    """A model's (aggregate, details, extras) over seeds (plug-ins; baselines under --seeds): each metric's mean
    and std are the means over seeds, with ``sd_over_seeds``, ``n_seeds``, ``seeds``
    (science/evaluation/over_seeds.py); the CI is averaged; per-fold values and details are every seed's, each
    naming its seed."""
    from genebench_assets.science.evaluation.over_seeds import mean_over_seeds

    aggs = [(seed, ev[0]) for seed, ev in per_seed]
    agg = {metric: mean_over_seeds([{"seed": seed, **a[metric]} for seed, a in aggs], "mean", sd_column="sd_over_seeds")
           for metric in aggs[0][1]}
    cis = [ev[2]["ci95"] for _, ev in per_seed]
    extras = {"per_fold_raw": [{**m, "seed": seed} for seed, ev in per_seed for m in ev[2]["per_fold_raw"]],
              "ci95": None if any(c is None for c in cis) else [float(np.mean([c[i] for c in cis])) for i in (0, 1)],
              "n_boot": per_seed[0][1][2]["n_boot"]}
    details = None if per_seed[0][1][1] is None else [{**d, "seed": seed} for seed, ev in per_seed for d in ev[1]]
    return agg, details, extras


def _leaderboard_out_dir(settings: GenebenchSettings, soma: SpaceOmicsBenchMLSettings, protocol: str) -> Path:
    return Path(soma.out_dir) if soma.out_dir else Path(settings.data_dir) / "spaceomicsbench_results" / protocol


def collect_results(store: TableStore, protocol: str) -> dict | None:
    """The whole benchmark's results file for ``protocol`` from the stored evaluations, or None if
    any task's evaluation is not materialized."""
    from genebench_assets.science.spaceomicsbench.leaderboard import results_file

    task_results, unavailable, chance, empirical, primary = {}, {}, {}, {}, {}
    for task in TASK_IDS:
        if not store.exists("soma_evaluation", protocol, task, ext="json"):
            return None
        rec = store.read_json("soma_evaluation", protocol, task)
        if rec["status"] != "available":
            unavailable[task] = rec["status"]
            continue
        task_results[task] = rec["results"]
        chance[task] = rec["analytic_chance"]
        primary[task] = rec["primary_metric"]
        if rec.get("empirical_random") is not None:
            empirical[task] = rec["empirical_random"]
    out = results_file(task_results, unavailable, chance, empirical, primary, protocol)
    out["_primary_metrics"] = primary
    return out


@dg.asset(code_version=code_version_of(__file__, "soma_leaderboard"), group_name=GROUP, deps=[soma_evaluation],
          description="All 21 tasks: baseline_results.json in the published layout (task -> model -> metric -> "
          "{mean, std}, <model>_per_fold, _composite), the composite score with analytic chance (and the seed's "
          "Random-normalized one beside it), unavailable tasks listed, a per-category chart, and seed vs strict "
          "per task when both protocols are materialized, the difference split over the defects in a fixed order "
          "(data: id join / C2 split, then metric: macro-F1 class list; remainder shown), also written beside the "
          "results file as seed_vs_strict.md / .json.")
def soma_leaderboard(context, settings: GenebenchSettings, soma_settings: SpaceOmicsBenchMLSettings):
    from genebench_assets.science.spaceomicsbench.defect_attribution import ORDER_NOTE
    from genebench_assets.science.spaceomicsbench.leaderboard import (
        attribution_by_task, attribution_by_task_markdown, category_chart_markdown, leaderboard_markdown,
        seed_vs_strict, seed_vs_strict_markdown)

    store = TableStore(settings.data_dir)
    protocol = soma_settings.checked_protocol()
    results = collect_results(store, protocol)
    if results is None:
        missing = [t for t in TASK_IDS if not store.exists("soma_evaluation", protocol, t, ext="json")]
        raise dg.Failure(f"soma_leaderboard ({protocol}): soma_evaluation not materialized for tasks {missing}; "
                         "materialize every task partition first", allow_retries=False)
    primary = results.pop("_primary_metrics")
    out = write_json(results, _leaderboard_out_dir(settings, soma_settings, protocol) / "baseline_results.json",
                     sort_keys=False, indent=2)
    _, sha = store.write_json(results, "soma_leaderboard", protocol)
    meta = {"protocol": protocol, "results_file": str(out),
            "leaderboard": dg.MetadataValue.md(leaderboard_markdown(results)),
            "chart": dg.MetadataValue.md(category_chart_markdown(results)),
            "chance_levels": dg.MetadataValue.json(results["_chance_levels"])}
    for model, v in results["_composite"].items():
        if not model.startswith("_"):
            meta[f"composite_{model}"] = float(v["composite"])
    other = "strict" if protocol == "seed" else "seed"
    other_results = collect_results(store, other)
    if other_results is None:      # no side-by-side now: leave no stale one beside the results
        for name in ("seed_vs_strict.json", "seed_vs_strict.md"):
            (out.parent / name).unlink(missing_ok=True)
    else:
        other_results.pop("_primary_metrics")
        seed_r, strict_r = (results, other_results) if protocol == "seed" else (other_results, results)
        rows = seed_vs_strict(seed_r, strict_r, primary)
        moved = [r for r in rows if r["strict_minus_seed"]]
        by_task = attribution_by_task([r for r in rows if r["task"] in {m["task"] for m in moved}])
        md_rows = seed_vs_strict_markdown(moved) if moved else "no difference"
        md_tasks = attribution_by_task_markdown(by_task) if moved else "no difference"
        meta["seed_vs_strict"] = dg.MetadataValue.md(md_rows)
        meta["seed_vs_strict_by_defect"] = dg.MetadataValue.md(md_tasks)
        meta["seed_vs_strict_attribution"] = dg.MetadataValue.json(by_task)
        store.write_json(rows, "soma_leaderboard", "seed_vs_strict")
        # Beside baseline_results.json, so `genebench reproduce spaceomicsbench` shows it too.
        out_dir = out.parent
        write_json({"order": ORDER_NOTE, "by_task": by_task, "rows": rows}, out_dir / "seed_vs_strict.json",
                   sort_keys=False, indent=2)
        write_text(md_tasks + "\n\n" + md_rows + "\n", out_dir / "seed_vs_strict.md")
    upstream, raw = [], []
    for task in TASK_IDS:
        upstream += _upstream(store, "soma_evaluation", protocol, task)
        raw += _raw_files(store, protocol, task)
    meta.update(provenance_metadata(upstream=upstream, raw_files=raw, protocol=protocol))
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata=meta)


SOMA_TASK_ASSETS = ["soma_task_definition", "soma_task_data", "soma_split_folds", "soma_predictions", "soma_evaluation"]
soma_tasks_job = dg.define_asset_job(
    "soma_tasks_job", selection=dg.AssetSelection.assets(*SOMA_TASK_ASSETS),
    description="SpaceOmicsBench, per task: definition -> data -> folds (blocking checks) -> predictions -> evaluation.")
soma_leaderboard_job = dg.define_asset_job(
    "soma_leaderboard_job", selection=dg.AssetSelection.assets("soma_leaderboard"),
    description="SpaceOmicsBench leaderboard and baseline_results.json (after every task partition).")
