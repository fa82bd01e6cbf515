"""The `release` source mode: the published GeneLab release (labels, folds, real GSVA scores) run
through the pathway-level LOMO of SPEC §7, as assets, so `genebench lineage --release` works.

Partitioned by (tissue, collection), with a single-run backfill policy: a run may cover a range
of partitions (`genebench reproduce pathway-lomo` runs all 6 tissues x 4 collections as ONE run, a
UI backfill of the release assets is one run too). Each asset then loops over its partitions and
still gives every partition its own materialization, metadata and provenance. The model fits of
all partitions of a run share one pool of worker processes (longest first), because fitting is
where a reproduce run spends its time (saga elastic-net LR on Reactome's ~1,000 pathways).

Data versions: Dagster 1.13 records ONE data version per asset for all partitions of a run
(dagster-io/dagster#18649); a single-partition run records the partition's table sha256 (first 16
hex digits), a range run the sha256 over its partitions' table sha256s. Each partition's own table
sha256 is always in its metadata (`table_sha256`), and a downstream partition's provenance records
the data version Dagster recorded for the upstream partition it read, so lineage compares like with
like whatever the run shape."""

import dataclasses
import hashlib
import time
import warnings

import dagster as dg
import pandas as pd

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.release.resources import COLLECTIONS, ReleaseSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.storage.atomic_files import sha256_file, write_json
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
# Stored per fold: features of the training then the test samples, their split and label.
SPLIT, LABEL = "__split__", "__y__"


def _pairs(context) -> list[tuple[str, str, dg.MultiPartitionKey]]:
    """(tissue, collection, partition key) of every partition this run materializes."""
    out = []
    for key in context.partition_keys:
        mkey = key if isinstance(key, dg.MultiPartitionKey) else release_partitions.get_partition_key_from_str(key)
        dims = mkey.keys_by_dimension
        out.append((dims["tissue"], dims["collection"], mkey))
    return out


def _part(tissue: str, db: str) -> str:
    return f"{tissue}|{db}"


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


def _release_files(release_dir, task, db) -> list[dict]:
    """Provenance of every release file the features came from: path, size, sha256."""
    from genebench_assets.science.release import genelab_release

    paths = []
    for fold in task.folds:
        fold_dir = task.task_dir / fold.fold_id
        paths += [fold_dir / "train_y.csv", fold_dir / "test_y.csv"]
    for mission in sorted({m for f in task.folds for m in (f.test_mission, *f.train_missions)}):
        paths += genelab_release.pathway_score_files(release_dir, task.tissue, mission, db)
    return [{"osd": "GeneLab release", "file_name": str(p.relative_to(release_dir)), "origin": str(p),
             "size": p.stat().st_size, "sha256": sha256_file(p), "source_mode": "release"} for p in paths]


def _fold_frame(ff) -> pd.DataFrame:
    """One stored table per fold (one wide write instead of four: parquet's cost is per column)."""
    train = ff.X_train.assign(**{SPLIT: "train", LABEL: ff.y_train.to_numpy()})
    test = ff.X_test.assign(**{SPLIT: "test", LABEL: ff.y_test.to_numpy()})
    return pd.concat([train, test], axis=0)


@_release_asset(code_version=code_version_of(__file__, "release_fold_features"), group_name="release", partitions_def=release_partitions,
          description="Per fold of the published task: GSVA pathway features of the training and test "
          "missions (pathways intersected, duplicates keep the first occurrence), aligned to the task files.")
def release_fold_features(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.science.release import genelab_release
    from genebench_assets.science.release.pathway_lomo import build_fold_features

    release_dir = release_settings.checked_release_dir()
    store = TableStore(settings.data_dir)
    shas = {}
    tasks = {}  # a tissue's task files (labels of every fold) are read once, not once per collection
    for tissue, db, key in _pairs(context):
        if tissue not in tasks:
            tasks[tissue] = genelab_release.read_task(release_dir, tissue)
        task = tasks[tissue]
        folds = build_fold_features(release_dir, task, db)
        part = _part(tissue, db)
        rows = []
        for ff in folds:
            store.write_frame(_fold_frame(ff), "release_fold_features", part, ff.fold_id, "fold")
            rows.append({"fold": ff.fold_id, "train_missions": ", ".join(ff.train_missions), "n_train": ff.n_train,
                         "n_test": len(ff.X_test), "n_pathways": ff.n_pathways})
        # n_train / n_pathways: what the evaluation reports besides the labels, so it need not read the features
        index = [{"task_id": ff.task_id, "fold_id": ff.fold_id, "test_mission": ff.test_mission,
                  "train_missions": list(ff.train_missions), "n_train": ff.n_train, "n_pathways": ff.n_pathways}
                 for ff in folds]
        _, sha = store.write_json(index, "release_fold_features", part, "index")
        shas[part] = sha
        raw_files = _release_files(release_dir, task, db)
        store.write_json(raw_files, "release_files", part)
        context.add_asset_metadata(
            {"task_id": task.task_id, "n_folds": len(folds), "table_sha256": sha,
             "folds": dg.MetadataValue.md(frame_markdown(pd.DataFrame(rows).set_index("fold"))),
             **provenance_metadata(upstream=[], raw_files=raw_files, protocol="seed")}, partition_key=key)
    return dg.MaterializeResult(data_version=_run_data_version(shas))


def load_features(store: TableStore, tissue: str, db: str):
    from genebench_assets.science.release.pathway_lomo import FoldFeatures

    part = _part(tissue, db)
    out = []
    for entry in store.read_json("release_fold_features", part, "index"):
        fid = entry["fold_id"]
        frame = store.read_frame("release_fold_features", part, fid, "fold")
        train, test = frame[frame[SPLIT] == "train"], frame[frame[SPLIT] == "test"]
        features = [c for c in frame.columns if c not in (SPLIT, LABEL)]
        out.append(FoldFeatures(
            task_id=entry["task_id"], tissue=tissue, db=db, fold_id=fid, test_mission=entry["test_mission"],
            train_missions=tuple(entry["train_missions"]),
            X_train=train[features], y_train=train[LABEL].rename("y"),
            X_test=test[features], y_test=test[LABEL].rename("y")))
    return out


@dataclasses.dataclass(frozen=True)
class FoldLabels:
    """What release_evaluation needs of a stored fold: its test labels (task-file order) and what the
    published rows report about it. It has the attributes `pathway_lomo.evaluate_pathway_fold` reads of
    a FoldFeatures, so the evaluation does not read the features again (issue 13: they are the wide
    part of every fold table)."""

    fold_id: str
    test_mission: str
    train_missions: tuple[str, ...]
    y_test: pd.Series
    n_train: int
    n_pathways: int


def load_fold_labels(store: TableStore, tissue: str, db: str) -> list[FoldLabels]:
    part = _part(tissue, db)
    out = []
    for entry in store.read_json("release_fold_features", part, "index"):
        fid = entry["fold_id"]
        if "n_pathways" in entry:
            frame = store.read_frame("release_fold_features", part, fid, "fold", columns=[SPLIT, LABEL])
            n_train, n_pathways = int(entry["n_train"]), int(entry["n_pathways"])
        else:  # an index written before it recorded the shape
            frame = store.read_frame("release_fold_features", part, fid, "fold")
            n_train, n_pathways = int((frame[SPLIT] == "train").sum()), frame.shape[1] - 2
        out.append(FoldLabels(fid, entry["test_mission"], tuple(entry["train_missions"]),
                              frame.loc[frame[SPLIT] == "test", LABEL].rename("y"), n_train, n_pathways))
    return out


# Below this total fit cost (about a second of saga on one core) the fits run in the step's own
# process: starting worker processes (each imports numpy, pandas, scikit-learn) costs more.
POOL_MIN_COST = 5e6


def _fit_cost(ff, model: str) -> float:
    """Expected relative cost of one fit, for longest-first scheduling only (never in a result):
    samples x pathways, saga LR about ten times PCA-LR (measured on the release's Reactome folds)."""
    return ff.n_train * ff.n_pathways * (10.0 if model == "lr" else 1.0)


def _planned_cost(store: TableStore, pairs) -> float | None:
    """Total expected fit cost from the fold shapes in the partitions' index files (`_fit_cost` of
    every fold and model), or None when an index does not record them."""
    import types

    total = 0.0
    for tissue, db, _ in pairs:
        for entry in store.read_json("release_fold_features", _part(tissue, db), "index"):
            if "n_pathways" not in entry:
                return None
            shape = types.SimpleNamespace(n_train=entry["n_train"], n_pathways=entry["n_pathways"])
            total += sum(_fit_cost(shape, model) for model in MODELS)
    return total


@_release_asset(code_version=code_version_of(__file__, "release_predictions"), group_name="release", partitions_def=release_partitions, deps=[release_fold_features],
          description="LR and PCA-LR (SPEC §7 pathway-level settings) per fold: P(Flight) for each test sample. "
          "The model sees training features and labels and test features only.")
def release_predictions(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.defs.runtime.progress import Progress
    from genebench_assets.science.models.classifiers import estimator_modules
    from genebench_assets.science.models.fit_pool import map_in_workers, single_threaded, worker_pool
    from genebench_assets.science.release import pathway_lomo
    from genebench_assets.science.release.pathway_lomo import predict_fold

    store = TableStore(settings.data_dir)
    pairs = _pairs(context)
    # The fold shapes release_fold_features recorded give the fits' cost before the tables are read, so
    # the workers start (and import scikit-learn) while this process reads them (None: an older index).
    planned = _planned_cost(store, pairs)
    n_jobs = release_settings.n_jobs if planned is not None and planned >= POOL_MIN_COST else 1
    preload = (pathway_lomo.__name__, *estimator_modules(pathway_lomo.PUBLISHED_MODELS.values()))
    with worker_pool(n_jobs, preload=preload) as pool:
        tasks = []  # (partition index, fold features without test labels, model)
        for n, (tissue, db, _) in enumerate(pairs):
            for ff in load_features(store, tissue, db):
                # Only what a method may see: the test labels stay in the store.
                blind = ff.__class__(**{**ff.__dict__, "y_test": ff.y_test.iloc[0:0]})
                tasks += [(n, blind, model) for model in MODELS]
        costs = [_fit_cost(ff, model) for _, ff, model in tasks]
        if planned is None:
            n_jobs = release_settings.n_jobs if sum(costs) >= POOL_MIN_COST else 1
        progress = Progress(context, len(tasks), f"release: fits of {len(pairs)} partitions", weights=costs)
        context.log.info(f"{len(tasks)} fits ({len(pairs)} partitions) on {n_jobs} process(es), longest first")
        # One BLAS thread per fit, in process or not: predictions do not depend on n_jobs.
        results = map_in_workers(single_threaded, [(predict_fold, ff, model) for _, ff, model in tasks],
                                 n_jobs=n_jobs, costs=costs, on_done=progress.done, pool=pool)
    rows_by_pair: dict[int, list[dict]] = {n: [] for n in range(len(pairs))}
    for (n, ff, model), (scores, info) in zip(tasks, results):
        rows_by_pair[n] += [{"fold_id": ff.fold_id, "model": model, "sample_id": s, "score": float(p),
                             "fit_seconds": float(info.get("fit_seconds", 0.0))} for s, p in zip(ff.X_test.index, scores)]
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
def release_evaluation(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from pathlib import Path

    from genebench_assets.defs.runtime.progress import log_progress
    from genebench_assets.science.evaluation.lomo_evaluation import render_markdown_table
    from genebench_assets.science.release.pathway_lomo import evaluate_pathway_fold, result_filename, summarize_models

    store = TableStore(settings.data_dir)
    pairs = _pairs(context)
    shas = {}
    t0 = time.perf_counter()
    for n, (tissue, db, key) in enumerate(pairs, start=1):
        part = _part(tissue, db)
        preds = store.read_frame("release_predictions", part)
        rows = {m: [] for m in MODELS}
        for i, ff in enumerate(load_fold_labels(store, tissue, db)):
            for model in MODELS:
                g = preds[(preds["fold_id"] == ff.fold_id) & (preds["model"] == model)].set_index("sample_id")
                scores = g.loc[ff.y_test.index, "score"].to_numpy()
                info = {"fit_seconds": float(g["fit_seconds"].iloc[0])}
                rows[model].append(evaluate_pathway_fold(ff, scores, info, randomness="seed_randomstate", fold_index=i))
        result = summarize_models(rows)
        name = result_filename(tissue, db)
        _, sha = store.write_json(result, "release_evaluation", part)
        shas[part] = sha
        out = write_json(result, Path(release_settings.out_dir) / name, sort_keys=False, indent=2)
        context.log.info(f"wrote {out}")
        up = [{"asset": "release_predictions", "partition": part,
               "data_version": _recorded_version(context, "release_predictions", tissue, db, store, "release_predictions", part)}]
        metadata = {"result_file": str(out), "table_sha256": sha,
                    "summary": dg.MetadataValue.md(render_markdown_table(result, title=name))}
        for model, res in result.items():
            metadata[f"auroc_{db}_{model}"] = float(res["mean_auroc"])
            metadata[f"go_{model}"] = bool(res["go"])
        metadata.update(provenance_metadata(upstream=up, raw_files=store.read_json("release_files", part), protocol="seed"))
        context.add_asset_metadata(metadata, partition_key=key)
        log_progress(context, n, len(pairs), t0, "release: evaluations", every=6)
    return dg.MaterializeResult(data_version=_run_data_version(shas))


release_job = dg.define_asset_job(
    "release_job", selection=dg.AssetSelection.groups("release"),
    description="The published pathway-level LOMO on the GeneLab release (genebench reproduce pathway-lomo). "
    "A run may cover any range of (tissue, collection) partitions; the reproduce command runs all of them as one run.")
