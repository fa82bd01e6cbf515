"""The published pathway-level LOMO (SPEC §7) on the GeneLab release, in separable steps.

    folds = build_fold_features(release_dir, "A6", "hallmark")           # 1. features per fold
    for i, ff in enumerate(folds):
        scores, info = predict_fold(ff, "pca_lr")                         # 2. fit / predict
        row = evaluate_pathway_fold(ff, scores, info, fold_index=i)       # 3. evaluate
    result = summarize_models({"lr": rows_lr, "pca_lr": rows_pca})        # 4. summarize

or all at once: ``run_pathway_lomo(release_dir, "eye", "hallmark")``. The output has the layout and
key names of the published ``A{n}_pathway_{db}_results.json`` (see the fixtures in
``genebench_assets_tests/fixtures/published_pathway_results``).

What the published numbers depend on, reproduced here:
- features: per-mission GSVA scores; the training missions' files stacked with pathways
  intersected (sorted by name), duplicate samples keep their first occurrence (missions sorted),
  then train and test restricted to the pathways they share, sorted by name; no variance filter;
- samples in the order of the fold's ``train_y.csv`` / ``test_y.csv`` (this order feeds the
  saga solver and the bootstrap indices, so it matters);
- models ``lr`` = saga elastic net (l1_ratio 0.5, max_iter 5000), ``pca_lr`` = PCA(min(50,
  n_train - 1, n_features), random_state 42) + lbfgs L2 (max_iter 2000), both after StandardScaler,
  class_weight balanced, C 1, seed 42;
- per fold and separately for the bootstrap (2000) and the permutations (1000): a fresh
  ``RandomState(42)``; AUROC floats identical to ``roc_auc_score`` (see ``metrics``).
``train_time_s`` is our own fit time (rounded to 0.01 s as published); it is not reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genebench_assets.science.evaluation import lomo_evaluation as evaluation

from genebench_assets.science.release import genelab_release

from genebench_assets.science.models import classifiers as models

PUBLISHED_MODELS = {"lr": "pathway_lr", "pca_lr": "pathway_pca_lr"}   # published key -> our config
FOLD_KEYS = ("test_mission", "train_missions", "auroc", "ci_lower", "ci_upper", "perm_p", "n_test",
             "n_flight_test", "n_ground_test", "n_pathways", "n_train", "train_time_s")


@dataclass(frozen=True)
class FoldFeatures:
    """One fold's pathway features, aligned to the task files' sample order."""

    task_id: str
    tissue: str
    db: str
    fold_id: str
    test_mission: str
    train_missions: tuple[str, ...]
    X_train: pd.DataFrame      # samples x pathways
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series

    @property
    def n_pathways(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])


def fold_features(release_dir: Path | str, task: genelab_release.ReleaseTask, fold: genelab_release.ReleaseFold,
                  db: str) -> FoldFeatures:
    """Step 1 for one fold: the release's per-mission GSVA files (a mission with several files, skin
    MHU-2, read as one) combined by `folds.fold_pathway_scores`, the same function the demo / live
    seed protocol uses, then aligned to the task files' sample ids and order."""
    from genebench_assets.science.tasks.folds import fold_pathway_scores

    missions = [*fold.train_missions, fold.test_mission]
    by_mission = {m: genelab_release.read_pathway_scores(release_dir, task.tissue, [m], db).T for m in missions}
    scores = fold_pathway_scores(by_mission, missions).T  # samples x pathways, pathways sorted
    if scores.shape[1] == 0:
        raise genelab_release.ReleaseError(f"{task.task_id} {fold.fold_id} ({db}): train and test share no pathway")
    where = f"{task.tissue} {db} GSVA scores"
    X_train = genelab_release.align_samples(scores, fold.train_y.index, source=f"{where} ({', '.join(fold.train_missions)})")
    X_test = genelab_release.align_samples(scores, fold.test_y.index, source=f"{where} ({fold.test_mission})")
    return FoldFeatures(task.task_id, task.tissue, db, fold.fold_id, fold.test_mission, fold.train_missions,
                        X_train, fold.train_y, X_test, fold.test_y)


def build_fold_features(release_dir: Path | str, task_or_tissue, db: str) -> list[FoldFeatures]:
    """Step 1: features of every LOMO fold of the task, in task_info.json order. `task_or_tissue`: a task
    id or tissue, or a task already read by `genelab_release.read_task` (a caller building several
    collections of one tissue reads its task files once)."""
    task = (genelab_release.read_task(release_dir, task_or_tissue) if isinstance(task_or_tissue, str)
            else task_or_tissue)
    return [fold_features(release_dir, task, fold, db) for fold in task.folds]


def predict_fold(ff: FoldFeatures, model: str, *, seed: int = models.DEFAULT_SEED) -> tuple[np.ndarray, dict]:
    """Step 2: fit on the fold's training samples, P(Flight) for its test samples. ``model`` is a
    published key ('lr', 'pca_lr') or any name of ``models.MODEL_NAMES``. Test labels are not passed."""
    name = PUBLISHED_MODELS.get(model, model)
    return models.fit_predict(name, ff.X_train.to_numpy(), ff.y_train.to_numpy(), ff.X_test.to_numpy(), seed=seed)


def evaluate_pathway_fold(ff: FoldFeatures, scores, info: dict | None = None, *, randomness="seed_randomstate",
                          n_boot: int = 2000, n_perm: int = 1000, fold_index: int = 0) -> dict:
    """Step 3: the fold's row in the published layout."""
    ev = evaluation.evaluate_fold(ff.y_test.to_numpy(), scores, randomness=randomness, n_boot=n_boot,
                                  n_perm=n_perm, fold_index=fold_index)
    row = {"test_mission": ff.test_mission, "train_missions": list(ff.train_missions), **ev,
           "n_pathways": ff.n_pathways, "n_train": ff.n_train,
           "train_time_s": round(float(info["fit_seconds"]), 2) if info and "fit_seconds" in info else None}
    return {k: row[k] for k in FOLD_KEYS}


def summarize_models(fold_rows_by_model: dict[str, list[dict]]) -> dict:
    """Step 4: per model the task summary followed by its folds (published layout)."""
    return {model: {**evaluation.summarize_task(rows), "folds": rows} for model, rows in fold_rows_by_model.items()}


def run_pathway_lomo(release_dir: Path | str, tissue_or_task: str, db: str, *, models=("lr", "pca_lr"),
                     randomness="seed_randomstate", n_boot: int = 2000, n_perm: int = 1000) -> dict:
    """All four steps; returns the ``A{n}_pathway_{db}_results.json`` dict."""
    folds = build_fold_features(release_dir, tissue_or_task, db)
    rows: dict[str, list[dict]] = {m: [] for m in models}
    for i, ff in enumerate(folds):
        for m in models:
            scores, info = predict_fold(ff, m)
            rows[m].append(evaluate_pathway_fold(ff, scores, info, randomness=randomness, n_boot=n_boot,
                                                 n_perm=n_perm, fold_index=i))
    return summarize_models(rows)


def result_filename(tissue_or_task: str, db: str) -> str:
    task_id, _ = genelab_release.resolve_task(tissue_or_task)
    return f"{task_id}_pathway_{db}_results.json"


def compare_to_published(ours: dict, published: dict, *, ignore=("train_time_s",)) -> list[str]:
    """Every difference between two results dicts (values compared exactly, key order included),
    as readable strings; empty when they match."""
    diffs: list[str] = []

    def walk(a, b, path):
        if isinstance(a, dict) and isinstance(b, dict):
            ka = [k for k in a if k not in ignore]
            kb = [k for k in b if k not in ignore]
            if ka != kb:
                diffs.append(f"{path}: keys {ka} != published {kb}")
            for k in ka:
                if k in b:
                    walk(a[k], b[k], f"{path}.{k}")
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                diffs.append(f"{path}: {len(a)} items != published {len(b)}")
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{path}[{i}]")
        elif type(a) is not type(b) or a != b:
            diffs.append(f"{path}: {a!r} != published {b!r}")

    walk(ours, published, "")
    return diffs


def write_results(result: dict, out_dir: Path | str, tissue_or_task: str, db: str) -> Path:
    """Write ``A{n}_pathway_{db}_results.json`` formatted as published (``json.dump(indent=2)``,
    key order kept), atomically. Returns the path."""
    import json

    from genebench_assets.science.storage.atomic_files import write_text

    return write_text(json.dumps(result, indent=2), Path(out_dir) / result_filename(tissue_or_task, db))
