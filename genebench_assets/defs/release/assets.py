"""The `release` source mode: the published GeneLab release (labels, folds, real GSVA scores) run
through the pathway-level LOMO of SPEC §7, as assets, so `genebench lineage --release` works."""

import dagster as dg
import pandas as pd

from genebench_assets.defs.code_versions import code_version_of
from genebench_assets.defs.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.release.resources import COLLECTIONS, ReleaseSettings
from genebench_assets.defs.settings import GenebenchSettings
from genebench_assets.science.storage.atomic_files import sha256_file, write_json
from genebench_assets.science.storage.table_store import TableStore

tissue_dim = dg.StaticPartitionsDefinition(["liver", "gastrocnemius", "kidney", "thymus", "skin", "eye"])
release_partitions = dg.MultiPartitionsDefinition(
    {"tissue": tissue_dim, "collection": dg.StaticPartitionsDefinition(COLLECTIONS)})
MODELS = ("lr", "pca_lr")


def _pair(context) -> tuple[str, str]:
    dims = context.partition_key.keys_by_dimension
    return dims["tissue"], dims["collection"]


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


@dg.asset(code_version=code_version_of(__file__, "release_fold_features"), group_name="release", partitions_def=release_partitions,
          description="Per fold of the published task: GSVA pathway features of the training and test "
          "missions (pathways intersected, duplicates keep the first occurrence), aligned to the task files.")
def release_fold_features(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.science.release import genelab_release
    from genebench_assets.science.release.pathway_lomo import build_fold_features

    tissue, db = _pair(context)
    release_dir = release_settings.checked_release_dir()
    task = genelab_release.read_task(release_dir, tissue)
    folds = build_fold_features(release_dir, tissue, db)
    store = TableStore(settings.data_dir)
    rows = []
    for ff in folds:
        part = f"{tissue}|{db}"
        store.write_frame(ff.X_train, "release_fold_features", part, ff.fold_id, "X_train")
        store.write_frame(ff.X_test, "release_fold_features", part, ff.fold_id, "X_test")
        store.write_frame(ff.y_train.to_frame("y"), "release_fold_features", part, ff.fold_id, "y_train")
        store.write_frame(ff.y_test.to_frame("y"), "release_fold_features", part, ff.fold_id, "y_test")
        rows.append({"fold": ff.fold_id, "train_missions": ", ".join(ff.train_missions), "n_train": ff.n_train,
                     "n_test": len(ff.X_test), "n_pathways": ff.n_pathways})
    index = [{"task_id": ff.task_id, "fold_id": ff.fold_id, "test_mission": ff.test_mission,
              "train_missions": list(ff.train_missions)} for ff in folds]
    _, sha = store.write_json(index, "release_fold_features", f"{tissue}|{db}", "index")
    raw_files = _release_files(release_dir, task, db)
    store.write_json(raw_files, "release_files", f"{tissue}|{db}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={"task_id": task.task_id, "n_folds": len(folds),
                  "folds": dg.MetadataValue.md(frame_markdown(pd.DataFrame(rows).set_index("fold"))),
                  **provenance_metadata(upstream=[], raw_files=raw_files, protocol="seed")})


def load_features(store: TableStore, tissue: str, db: str):
    from genebench_assets.science.release.pathway_lomo import FoldFeatures

    part = f"{tissue}|{db}"
    out = []
    for entry in store.read_json("release_fold_features", part, "index"):
        fid = entry["fold_id"]
        out.append(FoldFeatures(
            task_id=entry["task_id"], tissue=tissue, db=db, fold_id=fid, test_mission=entry["test_mission"],
            train_missions=tuple(entry["train_missions"]),
            X_train=store.read_frame("release_fold_features", part, fid, "X_train"),
            y_train=store.read_frame("release_fold_features", part, fid, "y_train")["y"],
            X_test=store.read_frame("release_fold_features", part, fid, "X_test"),
            y_test=store.read_frame("release_fold_features", part, fid, "y_test")["y"]))
    return out


@dg.asset(code_version=code_version_of(__file__, "release_predictions"), group_name="release", partitions_def=release_partitions, deps=[release_fold_features],
          description="LR and PCA-LR (SPEC §7 pathway-level settings) per fold: P(Flight) for each test sample. "
          "The model sees training features and labels and test features only.")
def release_predictions(context, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.release.pathway_lomo import predict_fold

    tissue, db = _pair(context)
    store = TableStore(settings.data_dir)
    rows = []
    for ff in load_features(store, tissue, db):
        # Only what a method may see: the test labels stay in the store.
        blind = ff.__class__(**{**ff.__dict__, "y_test": ff.y_test.iloc[0:0]})
        for model in MODELS:
            scores, info = predict_fold(blind, model)
            rows += [{"fold_id": ff.fold_id, "model": model, "sample_id": s, "score": float(p),
                      "fit_seconds": float(info.get("fit_seconds", 0.0))} for s, p in zip(ff.X_test.index, scores)]
    preds = pd.DataFrame(rows)
    _, sha = store.write_frame(preds, "release_predictions", f"{tissue}|{db}")
    up = [{"asset": "release_fold_features", "partition": f"{tissue}|{db}",
           "data_version": store.sha256("release_fold_features", f"{tissue}|{db}", "index", ext="json")[:16]}]
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={"n_predictions": len(preds),
                  **provenance_metadata(upstream=up, raw_files=store.read_json("release_files", f"{tissue}|{db}"),
                                        protocol="seed")})


@dg.asset(code_version=code_version_of(__file__, "release_evaluation"), group_name="release", partitions_def=release_partitions, deps=[release_predictions, release_fold_features],
          description="SPEC §7 evaluation with the published randomness (fresh RandomState(42) per fold, for "
          "the bootstrap and the permutations separately); writes A{n}_pathway_{db}_results.json in the "
          "published schema.")
def release_evaluation(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from pathlib import Path

    from genebench_assets.science.evaluation.lomo_evaluation import render_markdown_table
    from genebench_assets.science.release.pathway_lomo import evaluate_pathway_fold, result_filename, summarize_models

    tissue, db = _pair(context)
    store = TableStore(settings.data_dir)
    preds = store.read_frame("release_predictions", f"{tissue}|{db}")
    rows = {m: [] for m in MODELS}
    for i, ff in enumerate(load_features(store, tissue, db)):
        for model in MODELS:
            g = preds[(preds["fold_id"] == ff.fold_id) & (preds["model"] == model)].set_index("sample_id")
            scores = g.loc[ff.X_test.index, "score"].to_numpy()
            info = {"fit_seconds": float(g["fit_seconds"].iloc[0])}
            rows[model].append(evaluate_pathway_fold(ff, scores, info, randomness="seed_randomstate", fold_index=i))
    result = summarize_models(rows)
    name = result_filename(tissue, db)
    _, sha = store.write_json(result, "release_evaluation", f"{tissue}|{db}")
    out = write_json(result, Path(release_settings.out_dir) / name, sort_keys=False, indent=2)
    context.log.info(f"wrote {out}")
    up = [{"asset": "release_predictions", "partition": f"{tissue}|{db}",
           "data_version": store.sha256("release_predictions", f"{tissue}|{db}")[:16]}]
    metadata = {"result_file": str(out), "summary": dg.MetadataValue.md(render_markdown_table(result, title=name))}
    for model, res in result.items():
        metadata[f"auroc_{db}_{model}"] = float(res["mean_auroc"])
        metadata[f"go_{model}"] = bool(res["go"])
    metadata.update(provenance_metadata(upstream=up, raw_files=store.read_json("release_files", f"{tissue}|{db}"),
                                        protocol="seed"))
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata=metadata)


release_job = dg.define_asset_job(
    "release_job", selection=dg.AssetSelection.groups("release"),
    description="The published pathway-level LOMO on the GeneLab release (genebench reproduce pathway-lomo).")
