"""The `release` source mode: the published GeneLab release (labels, folds, real GSVA scores) run
through the pathway-level LOMO of SPEC §7, as assets, so `genebench lineage --release` works.

Partitioned by (tissue, collection), with a single-run backfill policy: a run may cover a range
of partitions (`genebench reproduce pathway-lomo` runs all 6 tissues x 4 collections as ONE run, a
UI backfill of the release assets is one run too). Each asset then loops over its partitions and
still gives every partition its own materialization, metadata and provenance. Each step's work runs
on worker processes, a task per partition (features, evaluation) or per fold (the fits, longest
first: saga elastic-net LR on Reactome's ~1,000 pathways is where a run spends its time), each
reading and writing the store itself (science/release/fold_tables.py); this process schedules them
and records the metadata. `genebench reproduce` starts the workers before it loads Dagster and passes
them as the `release_workers` resource, so the three steps share them (issue 22: both cores busy);
without it each step starts its own, or none for a small run.

Data versions: Dagster 1.13 records ONE data version per asset for all partitions of a run
(dagster-io/dagster#18649); a single-partition run records the partition's table sha256 (first 16
hex digits), a range run the sha256 over its partitions' table sha256s. Each partition's own table
sha256 is always in its metadata (`table_sha256`), and a downstream partition's provenance records
the data version Dagster recorded for the upstream partition it read, so lineage compares like with
like whatever the run shape."""

import hashlib
import warnings
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.release.resources import COLLECTIONS, ReleaseSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
# The stored fold tables: written and read by the science core (the steps' work runs on worker processes)
from genebench_assets.science.release.fold_tables import part_name as _part
from genebench_assets.science.release.fold_tables import load_features  # noqa: F401 (defs/analyses reads folds)
from genebench_assets.science.storage.table_store import TableStore

TISSUES = ["liver", "gastrocnemius", "kidney", "thymus", "skin", "eye"]
tissue_dim = dg.StaticPartitionsDefinition(TISSUES)
release_partitions = dg.MultiPartitionsDefinition(
    {"tissue": tissue_dim, "collection": dg.StaticPartitionsDefinition(COLLECTIONS)})
MODELS = ("lr", "pca_lr")
# One run for any range of release partitions (see the module docstring).
SINGLE_RUN = dg.BackfillPolicy.single_run()


def _release_asset(**kwargs):
    """dg.asset with the single-run backfill policy. Dagster flags the `backfill_policy` parameter
    as beta with a warning at definition time; `genebench evaluate` imports this module and prints
    one line on stderr, so the (known, intended) warning is not printed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.asset(backfill_policy=SINGLE_RUN, **kwargs)


def _pairs(context) -> list[tuple[str, str, dg.MultiPartitionKey]]:
    """(tissue, collection, partition key) of every partition this run materializes."""
    out = []
    for key in context.partition_keys:
        mkey = key if isinstance(key, dg.MultiPartitionKey) else release_partitions.get_partition_key_from_str(key)
        dims = mkey.keys_by_dimension
        out.append((dims["tissue"], dims["collection"], mkey))
    return out


def _run_data_version(shas: dict[str, str]) -> dg.DataVersion:
    """One partition: its table sha256[:16]; several: sha256 over (partition, sha256) pairs."""
    if len(shas) == 1:
        return dg.DataVersion(next(iter(shas.values()))[:16])
    return dg.DataVersion(hashlib.sha256("\n".join(f"{k}:{v}" for k, v in sorted(shas.items())).encode()).hexdigest()[:16])


def _recorded_version(context, asset: str, tissue: str, db: str, store: TableStore, *table: str, ext: str = "parquet") -> str:
    """The data version Dagster recorded for the upstream partition this step read (a range run
    records one version for all its partitions); its table sha256[:16] if it has no record."""
    from genebench_assets.defs.lineage.tracing import latest_materialization

    record = latest_materialization(context.instance, asset, _part(tissue, db))
    version = (record.asset_materialization.tags or {}).get("dagster/data_version") if record else None
    return version or store.sha256(*table, ext=ext)[:16]


def _workers(release_workers, n_jobs: int):
    """Worker processes for a step's per-partition work: the ones the command started before it loaded
    Dagster (`release_workers`, defs/release/reproduce.py), else the step's own (none for n_jobs 1:
    the work then runs in this process). Which processes run it changes no number."""
    from genebench_assets.science.models.fit_pool import worker_pool
    from genebench_assets.science.release import worker_modules

    return worker_pool(n_jobs, preload=worker_modules(), shared=release_workers)


def _step_jobs(release_settings: ReleaseSettings, pairs) -> int:
    """Processes for the features and the evaluation of a run: one per partition at most."""
    return min(release_settings.n_jobs, len(pairs))


@_release_asset(code_version=code_version_of(__file__, "release_fold_features"), group_name="release", partitions_def=release_partitions,
          description="Per fold of the published task: GSVA pathway features of the training and test "
          "missions (pathways intersected, duplicates keep the first occurrence), aligned to the task files.")
def release_fold_features(context, settings: GenebenchSettings, release_settings: ReleaseSettings,
                          release_workers: dg.ResourceParam[Any]) -> dg.MaterializeResult:
    from genebench_assets.defs.runtime.progress import Progress
    from genebench_assets.science.models.fit_pool import map_in_workers
    from genebench_assets.science.release.fold_tables import store_fold_features

    release_dir = release_settings.checked_release_dir()
    pairs = _pairs(context)
    n_jobs = _step_jobs(release_settings, pairs)
    progress = Progress(context, len(pairs), "release: fold features")
    # One task per partition, each writing its own tables (the step's work is reading, aligning and writing)
    with _workers(release_workers, n_jobs) as pool:
        stored = map_in_workers(store_fold_features, [(settings.data_dir, str(release_dir), tissue, db)
                                                      for tissue, db, _ in pairs],
                                n_jobs=n_jobs, on_done=progress.done, pool=pool)
    shas = {}
    for (tissue, db, key), s in zip(pairs, stored):
        shas[_part(tissue, db)] = s["table_sha256"]
        context.add_asset_metadata(
            {"task_id": s["task_id"], "n_folds": s["n_folds"], "table_sha256": s["table_sha256"],
             "folds": dg.MetadataValue.md(frame_markdown(pd.DataFrame(s["rows"]).set_index("fold"))),
             **provenance_metadata(upstream=[], raw_files=s["raw_files"], protocol="seed")}, partition_key=key)
    return dg.MaterializeResult(data_version=_run_data_version(shas))


# Below this total fit cost (about a second of saga on one core) the fits run in the step's own
# process: starting worker processes (each imports numpy, pandas, scikit-learn) costs more.
POOL_MIN_COST = 5e6


def _fit_cost(ff, model: str) -> float:
    """Expected relative cost of one fit, for longest-first scheduling only (never in a result):
    samples x pathways, saga LR about ten times PCA-LR (measured on the release's Reactome folds)."""
    return ff.n_train * ff.n_pathways * (10.0 if model == "lr" else 1.0)


def _fold_cost(entry: dict) -> float | None:
    """Expected cost of a fold's fits from the shape its index entry records (None: an older index)."""
    import types

    if "n_pathways" not in entry:
        return None
    shape = types.SimpleNamespace(n_train=entry["n_train"], n_pathways=entry["n_pathways"])
    return sum(_fit_cost(shape, model) for model in MODELS)


@_release_asset(code_version=code_version_of(__file__, "release_predictions"), group_name="release", partitions_def=release_partitions, deps=[release_fold_features],
          description="LR and PCA-LR (SPEC §7 pathway-level settings) per fold: P(Flight) for each test sample. "
          "The model sees training features and labels and test features only.")
def release_predictions(context, settings: GenebenchSettings, release_settings: ReleaseSettings,
                        release_workers: dg.ResourceParam[Any]) -> dg.MaterializeResult:
    from genebench_assets.defs.runtime.progress import Progress
    from genebench_assets.science.models.fit_pool import map_in_workers
    from genebench_assets.science.release.fold_tables import predict_stored_fold, read_index

    store = TableStore(settings.data_dir)
    pairs = _pairs(context)
    # One task per fold (its LR and PCA-LR): the worker reads the fold's table and drops its test labels
    # before any fit. The fold shapes release_fold_features recorded give each task's cost unread.
    tasks = [(n, entry) for n, (tissue, db, _) in enumerate(pairs) for entry in read_index(store, tissue, db)]
    planned = [_fold_cost(entry) for _, entry in tasks]
    known = None not in planned
    costs = planned if known else [1.0] * len(tasks)
    n_jobs = release_settings.n_jobs if release_workers is not None or not known or sum(costs) >= POOL_MIN_COST else 1
    progress = Progress(context, len(tasks), f"release: fits of {len(pairs)} partitions", weights=costs)
    context.log.info(f"{len(tasks) * len(MODELS)} fits ({len(pairs)} partitions) on {n_jobs} process(es), longest first")
    with _workers(release_workers, n_jobs) as pool:
        # One BLAS thread per fit, in process or not: predictions do not depend on n_jobs.
        results = map_in_workers(predict_stored_fold, [(settings.data_dir, *pairs[n][:2], entry, MODELS) for n, entry in tasks],
                                 n_jobs=n_jobs, costs=costs, on_done=progress.done, pool=pool)
    rows_by_pair: dict[int, list[dict]] = {n: [] for n in range(len(pairs))}
    for (n, entry), (sample_ids, fits) in zip(tasks, results):
        for model, (scores, info) in zip(MODELS, fits):
            rows_by_pair[n] += [{"fold_id": entry["fold_id"], "model": model, "sample_id": s, "score": float(p),
                                 "fit_seconds": float(info.get("fit_seconds", 0.0))} for s, p in zip(sample_ids, scores)]
    shas = {}
    for n, (tissue, db, key) in enumerate(pairs):
        part = _part(tissue, db)
        preds = pd.DataFrame(rows_by_pair[n])
        _, sha = store.write_frame(preds, "release_predictions", part)
        shas[part] = sha
        up = [{"asset": "release_fold_features", "partition": part,
               "data_version": _recorded_version(context, "release_fold_features", tissue, db, store,
                                                 "release_fold_features", part, "index", ext="json")}]
        context.add_asset_metadata(
            {"n_predictions": len(preds), "table_sha256": sha,
             **provenance_metadata(upstream=up, raw_files=store.read_json("release_files", part), protocol="seed")},
            partition_key=key)
    return dg.MaterializeResult(data_version=_run_data_version(shas))


@_release_asset(code_version=code_version_of(__file__, "release_evaluation"), group_name="release", partitions_def=release_partitions, deps=[release_predictions, release_fold_features],
          description="SPEC §7 evaluation with the published randomness (fresh RandomState(42) per fold, for "
          "the bootstrap and the permutations separately); writes A{n}_pathway_{db}_results.json in the "
          "published schema.")
def release_evaluation(context, settings: GenebenchSettings, release_settings: ReleaseSettings,
                       release_workers: dg.ResourceParam[Any]) -> dg.MaterializeResult:
    from genebench_assets.defs.runtime.progress import Progress
    from genebench_assets.science.evaluation.lomo_evaluation import render_markdown_table
    from genebench_assets.science.models.fit_pool import map_in_workers
    from genebench_assets.science.release.fold_tables import evaluate_stored_partition

    store = TableStore(settings.data_dir)
    pairs = _pairs(context)
    n_jobs = _step_jobs(release_settings, pairs)
    progress = Progress(context, len(pairs), "release: evaluations")
    # One task per partition (the bootstrap and the permutations of its folds): it reads the predictions
    # and labels from the store and writes the stored table and the published-layout file
    with _workers(release_workers, n_jobs) as pool:
        evaluated = map_in_workers(evaluate_stored_partition,
                                   [(settings.data_dir, tissue, db, MODELS, release_settings.out_dir) for tissue, db, _ in pairs],
                                   n_jobs=n_jobs, on_done=progress.done, pool=pool)
    context.log.info(f"wrote {len(evaluated)} result file(s) into {release_settings.out_dir}")
    shas = {}
    for (tissue, db, key), ev in zip(pairs, evaluated):
        part, result = _part(tissue, db), ev["result"]
        shas[part] = ev["table_sha256"]
        up = [{"asset": "release_predictions", "partition": part,
               "data_version": _recorded_version(context, "release_predictions", tissue, db, store, "release_predictions", part)}]
        metadata = {"result_file": ev["result_file"], "table_sha256": ev["table_sha256"],
                    "summary": dg.MetadataValue.md(render_markdown_table(result, title=Path(ev["result_file"]).name))}
        for model, res in result.items():
            metadata[f"auroc_{db}_{model}"] = float(res["mean_auroc"])
            metadata[f"go_{model}"] = bool(res["go"])
        metadata.update(provenance_metadata(upstream=up, raw_files=store.read_json("release_files", part), protocol="seed"))
        context.add_asset_metadata(metadata, partition_key=key)
    return dg.MaterializeResult(data_version=_run_data_version(shas))


release_job = dg.define_asset_job(
    "release_job", selection=dg.AssetSelection.groups("release"),
    description="The published pathway-level LOMO on the GeneLab release (genebench reproduce pathway-lomo). "
    "A run may cover any range of (tissue, collection) partitions; the reproduce command runs all of them as one run.")
