"""The release steps' per-partition work (SPEC §7), as plain functions on the table store that a worker
process runs (science/models/fit_pool): each reads its inputs from the store and writes what it makes,
so the run process only schedules the partitions and records their metadata, and the steps keep both
cores busy (issue 22). Nothing here changes a number: the same functions, in whichever process.

Stored per (tissue, collection) partition ``<tissue>|<db>`` under ``release_fold_features``: one table
per fold (``<fold_id>/fold``: features of the training then the test samples, their SPLIT and LABEL)
and an ``index`` of the folds with their shape.

    store_fold_features(data_dir, release_dir, "eye", "hallmark")   # 1. features -> store, metadata back
    predict_stored_fold(data_dir, "eye", "hallmark", fold_id, ["lr", "pca_lr"])   # 2. blind fits
    evaluate_stored_partition(data_dir, "eye", "hallmark", models, out_dir)   # 3.+4. the published file
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from genebench_assets.science.release import genelab_release
from genebench_assets.science.release.pathway_lomo import (
    FoldFeatures, build_fold_features, evaluate_pathway_fold, predict_fold, summarize_models, write_results)
from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets.science.storage.table_store import TableStore

FEATURES = "release_fold_features"
# Stored per fold: features of the training then the test samples, their split and label.
SPLIT, LABEL = "__split__", "__y__"


def part_name(tissue: str, db: str) -> str:
    return f"{tissue}|{db}"


def fold_frame(ff: FoldFeatures) -> pd.DataFrame:
    """One stored table per fold (one wide write instead of four: parquet's cost is per column)."""
    train = ff.X_train.assign(**{SPLIT: "train", LABEL: ff.y_train.to_numpy()})
    test = ff.X_test.assign(**{SPLIT: "test", LABEL: ff.y_test.to_numpy()})
    return pd.concat([train, test], axis=0)


def release_files(release_dir, task: genelab_release.ReleaseTask, db: str) -> list[dict]:
    """Provenance of every release file the features came from: path, size, sha256."""
    paths = []
    for fold in task.folds:
        fold_dir = task.task_dir / fold.fold_id
        paths += [fold_dir / "train_y.csv", fold_dir / "test_y.csv"]
    for mission in sorted({m for f in task.folds for m in (f.test_mission, *f.train_missions)}):
        paths += genelab_release.pathway_score_files(release_dir, task.tissue, mission, db)
    return [{"osd": "GeneLab release", "file_name": str(p.relative_to(release_dir)), "origin": str(p),
             "size": p.stat().st_size, "sha256": sha256_file(p), "source_mode": "release"} for p in paths]


def store_fold_features(data_dir, release_dir, tissue: str, db: str) -> dict:
    """Step 1 of one partition: every fold's features written to the store, then the index (with each
    fold's shape, so the later steps plan without reading the features) and the release files' provenance.
    Returns what the step records: task_id, n_folds, a row per fold, the index's sha256, raw_files."""
    release_dir = Path(release_dir)
    store = TableStore(data_dir)
    task = genelab_release.read_task(release_dir, tissue)
    folds = build_fold_features(release_dir, task, db)
    part = part_name(tissue, db)
    for ff in folds:
        store.write_frame(fold_frame(ff), FEATURES, part, ff.fold_id, "fold")
    index = [{"task_id": ff.task_id, "fold_id": ff.fold_id, "test_mission": ff.test_mission,
              "train_missions": list(ff.train_missions), "n_train": ff.n_train, "n_pathways": ff.n_pathways}
             for ff in folds]
    _, sha = store.write_json(index, FEATURES, part, "index")
    raw_files = release_files(release_dir, task, db)
    store.write_json(raw_files, "release_files", part)
    rows = [{"fold": ff.fold_id, "train_missions": ", ".join(ff.train_missions), "n_train": ff.n_train,
             "n_test": len(ff.X_test), "n_pathways": ff.n_pathways} for ff in folds]
    return {"task_id": task.task_id, "n_folds": len(folds), "rows": rows, "table_sha256": sha, "raw_files": raw_files}


def read_index(store: TableStore, tissue: str, db: str) -> list[dict]:
    return store.read_json(FEATURES, part_name(tissue, db), "index")


def _features(frame: pd.DataFrame, entry: dict, tissue: str, db: str) -> FoldFeatures:
    train, test = frame[frame[SPLIT] == "train"], frame[frame[SPLIT] == "test"]
    features = [c for c in frame.columns if c not in (SPLIT, LABEL)]
    return FoldFeatures(
        task_id=entry["task_id"], tissue=tissue, db=db, fold_id=entry["fold_id"], test_mission=entry["test_mission"],
        train_missions=tuple(entry["train_missions"]),
        X_train=train[features], y_train=train[LABEL].rename("y"),
        X_test=test[features], y_test=test[LABEL].rename("y"))


def load_features(store: TableStore, tissue: str, db: str) -> list[FoldFeatures]:
    """Every stored fold of the partition, test labels included (for evaluations and analyses)."""
    part = part_name(tissue, db)
    return [_features(store.read_frame(FEATURES, part, entry["fold_id"], "fold"), entry, tissue, db)
            for entry in read_index(store, tissue, db)]


def predict_stored_fold(data_dir, tissue: str, db: str, entry: dict, models) -> tuple[list[str], list[tuple]]:
    """Step 2 for one stored fold: (test sample ids, (P(Flight), info) per model), each fit with one BLAS
    thread (fit_pool.single_threaded: results do not depend on the process). The test labels are dropped
    as the table is read: the models see training features and labels and test features only."""
    from genebench_assets.science.models.fit_pool import single_threaded

    frame = TableStore(data_dir).read_frame(FEATURES, part_name(tissue, db), entry["fold_id"], "fold")
    ff = _features(frame, entry, tissue, db)
    blind = dataclasses.replace(ff, y_test=ff.y_test.iloc[0:0])
    return list(blind.X_test.index), [single_threaded(predict_fold, blind, model) for model in models]


@dataclasses.dataclass(frozen=True)
class FoldLabels:
    """What the evaluation needs of a stored fold: its test labels (task-file order) and what the
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
    part = part_name(tissue, db)
    out = []
    for entry in read_index(store, tissue, db):
        fid = entry["fold_id"]
        if "n_pathways" in entry:
            frame = store.read_frame(FEATURES, part, fid, "fold", columns=[SPLIT, LABEL])
            n_train, n_pathways = int(entry["n_train"]), int(entry["n_pathways"])
        else:  # an index written before it recorded the shape
            frame = store.read_frame(FEATURES, part, fid, "fold")
            n_train, n_pathways = int((frame[SPLIT] == "train").sum()), frame.shape[1] - 2
        out.append(FoldLabels(fid, entry["test_mission"], tuple(entry["train_missions"]),
                              frame.loc[frame[SPLIT] == "test", LABEL].rename("y"), n_train, n_pathways))
    return out


def evaluate_stored_partition(data_dir, tissue: str, db: str, models, out_dir) -> dict:
    """Steps 3 and 4 of one partition from its stored predictions and test labels: the
    ``A{n}_pathway_{db}_results.json`` dict (published randomness: a fresh RandomState(42) per fold),
    stored as ``release_evaluation`` and written in the published layout into `out_dir`.
    Returns {result, table_sha256, result_file}."""
    store = TableStore(data_dir)
    preds = store.read_frame("release_predictions", part_name(tissue, db))
    rows: dict[str, list[dict]] = {m: [] for m in models}
    for i, ff in enumerate(load_fold_labels(store, tissue, db)):
        for model in models:
            g = preds[(preds["fold_id"] == ff.fold_id) & (preds["model"] == model)].set_index("sample_id")
            scores = g.loc[ff.y_test.index, "score"].to_numpy()
            info = {"fit_seconds": float(g["fit_seconds"].iloc[0])}
            rows[model].append(evaluate_pathway_fold(ff, scores, info, randomness="seed_randomstate", fold_index=i))
    result = summarize_models(rows)
    _, sha = store.write_json(result, "release_evaluation", part_name(tissue, db))
    return {"result": result, "table_sha256": sha, "result_file": str(write_results(result, out_dir, tissue, db))}
