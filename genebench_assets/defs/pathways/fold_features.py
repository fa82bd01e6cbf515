"""Pathway fold features, built at the tasks stage (issue 9): lomo_folds builds them with the one
science builder (`science.tasks.pathway_features.fold_pathway_features`) right after its folds and writes them
beside the folds; the blocking leakage checks on lomo_folds verify exactly these matrices; and
model_predictions only reads them (`read_pathway_fold_features`) and fits.

seed: the stored per-study GSVA scores (as published), pathways intersected across the fold's missions.
strict: GSVA inside the fold, with kernel CDFs estimated on training samples only, so no test sample
influences any training feature.

Layout (protocol-keyed, like the folds): tables/<protocol>/lomo_fold_features/<tissue>/pathways/<fold_id>.parquet
(pathways x the fold's train ids then test ids, not scaled) and a manifest
tables/<protocol>/lomo_fold_features/<tissue>.json (feature sets built, collection, sha256 of each
fold's table and of the lomo_folds table they belong to, what the features were computed from)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from genebench_assets.science.storage.table_store import TableNotFoundError, TableStore

FOLD_FEATURES = "lomo_fold_features"


@dataclasses.dataclass
class PathwayFoldInputs:
    """What the pathway features of a tissue's folds are computed from (the builder's keyword arguments)."""

    collection: str
    gene_sets: dict
    symbol_map: pd.Series
    scores_by_mission: dict[str, pd.DataFrame] | None  # seed: stored per-study GSVA scores
    min_size: int
    max_size: int

    def kwargs(self) -> dict[str, Any]:
        return {"gene_sets": self.gene_sets[self.collection], "symbol_map": self.symbol_map,
                "scores_by_mission": self.scores_by_mission, "min_size": self.min_size, "max_size": self.max_size}


def pathway_fold_inputs(data, settings, gs_settings, source, *, protocol: str) -> PathwayFoldInputs:
    """Gene sets (first collection), the symbol map and, for the seed protocol, each study's stored GSVA
    scores of that collection (per-study tables: shared by both protocols, read from the plain store)."""
    from genebench_assets.defs.pathways.assets import load_gene_sets

    sets, symbol_map, _ = load_gene_sets(settings, gs_settings, source)
    collection = next(iter(sets))
    scores = None
    if protocol == "seed":
        store = TableStore(settings.data_dir)
        scores = {m: store.read_frame("pathway_scores", collection, data.tissue, m)
                  for m in data.missions + data.holdout_missions
                  if store.exists("pathway_scores", collection, data.tissue, m)}
    return PathwayFoldInputs(collection, sets, symbol_map, scores, gs_settings.min_size, gs_settings.max_size)


def build_pathway_fold_features(folds, data, inputs: PathwayFoldInputs, *, protocol: str) -> dict[str, pd.DataFrame]:
    """fold_id -> pathways x (train ids + test ids), by the one science builder."""
    from genebench_assets.science.tasks import pathway_features

    return {f.fold_id: pathway_features.fold_pathway_features(f, protocol=protocol, expression=data.expression,
                                                          **inputs.kwargs())
            for f in folds}


def write_fold_features(store: TableStore, tissue: str, *, feature_sets: list[str], folds_sha256: str,
                        pathways: dict[str, pd.DataFrame] | None = None, collection: str | None = None,
                        feature_inputs: dict | None = None, upstream: list[dict] | None = None) -> tuple[dict, str]:
    """Write each fold's pathway matrix and the manifest; returns (manifest, manifest sha256). The
    manifest is written every time lomo_folds runs, so a later reader never takes pathway tables of an
    older fold set for the current one (it names the lomo_folds table sha256 they belong to)."""
    tables = {}
    for fold_id, frame in (pathways or {}).items():
        frame = frame.copy()
        frame.index = frame.index.astype(str)
        frame.columns = frame.columns.astype(str)
        _, sha = store.write_frame(frame, FOLD_FEATURES, tissue, "pathways", fold_id)
        tables[fold_id] = sha
    manifest = {"tissue": tissue, "protocol": store.protocol, "feature_sets": list(feature_sets),
                "lomo_folds_sha256": folds_sha256, "pathways": {"collection": collection, "tables": tables}
                if pathways is not None else None, "feature_inputs": feature_inputs or {}, "upstream": upstream or []}
    _, sha = store.write_json(manifest, FOLD_FEATURES, tissue)
    return manifest, sha


def read_manifest(store: TableStore, tissue: str) -> dict | None:
    try:
        return store.read_json(FOLD_FEATURES, tissue)
    except TableNotFoundError:
        return None


class FoldFeaturesError(RuntimeError):
    """The fold features lomo_folds wrote do not fit the folds being read (one line, names what to do)."""


def read_pathway_fold_features(store: TableStore, tissue: str, manifest: dict | None, fold) -> pd.DataFrame:
    """The pathway matrix lomo_folds wrote for `fold`, after checking it belongs to the current folds."""
    if not manifest or not manifest.get("pathways"):
        built = (manifest or {}).get("feature_sets", "nothing")
        raise FoldFeaturesError(
            f"{tissue}: lomo_folds built no pathway fold features (feature sets it built: {built}); "
            "re-materialize lomo_folds with 'pathways' in GENEBENCH_FEATURE_SETS")
    current = store.sha256("lomo_folds", tissue, ext="json")
    if manifest["lomo_folds_sha256"] != current:
        raise FoldFeaturesError(
            f"{tissue}: {store.path(FOLD_FEATURES, tissue, ext='json')} belongs to lomo_folds "
            f"{manifest['lomo_folds_sha256'][:16]}, the folds on disk are {current[:16]}; re-materialize lomo_folds")
    if fold.fold_id not in manifest["pathways"]["tables"]:
        raise FoldFeaturesError(f"{tissue}: no pathway fold features for {fold.fold_id} "
                                f"(have {sorted(manifest['pathways']['tables'])}); re-materialize lomo_folds")
    frame = store.read_frame(FOLD_FEATURES, tissue, "pathways", fold.fold_id)
    ids = list(fold.train_ids) + list(fold.test_ids)
    if list(frame.columns) != ids:
        raise FoldFeaturesError(f"{tissue} {fold.fold_id}: pathway fold features hold samples "
                                f"{list(frame.columns)[:3]}..., not the fold's train + test ids; re-materialize lomo_folds")
    return frame


def pathway_fold_matrices(fold, data, settings, gs_settings, source, collection: str | None = None):
    """(X_train, y_train, X_test) of one fold computed on the spot by the same builder, for folds that
    have no tasks-stage feature table (Category B's transfer pair folds; `data` needs `.tissue` and
    `.expression`). Category A's folds read what lomo_folds wrote (`read_pathway_fold_features`)."""
    from genebench_assets.defs.pathways.assets import load_gene_sets
    from genebench_assets.science.tasks import folds as fold_science
    from genebench_assets.science.tasks import pathway_features

    sets, symbol_map, _ = load_gene_sets(settings, gs_settings, source)
    collection = collection or next(iter(sets))
    scores = None
    if settings.protocol == "seed":
        store = TableStore(settings.data_dir)
        missions = sorted(set(fold.train_missions) | {fold.test_mission})
        scores = {m: store.read_frame("pathway_scores", collection, data.tissue, m) for m in missions}
    if fold_science.STEP_GSVA_REFERENCE not in fold.fitted_steps:
        # Transfer pair folds record no GSVA reference: theirs is the training mission's samples.
        fold = dataclasses.replace(fold, fitted_steps={**fold.fitted_steps,
                                                       fold_science.STEP_GSVA_REFERENCE: tuple(fold.train_ids)})
    frame = pathway_features.fold_pathway_features(
        fold, protocol=settings.protocol, scores_by_mission=scores, expression=data.expression,
        symbol_map=symbol_map, gene_sets=sets[collection], min_size=gs_settings.min_size, max_size=gs_settings.max_size)
    return stored_pathway_matrices(frame, fold)


def stored_pathway_matrices(frame: pd.DataFrame, fold) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """(X_train, y_train, X_test), samples x pathways, from a fold's pathway matrix."""
    train_ids, test_ids = list(fold.train_ids), list(fold.test_ids)
    X_train, X_test = frame[train_ids].T, frame[test_ids].T
    for X in (X_train, X_test):
        X.index.name, X.columns.name = "sample_id", None
    y_train = pd.Series(fold.y_train, index=pd.Index(train_ids, name="sample_id"), name="label")
    return X_train, y_train, X_test
