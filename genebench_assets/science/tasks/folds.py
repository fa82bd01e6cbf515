"""Category A folds: leave one mission out per tissue (SPEC §5), with the fitted steps of SPEC §4
(low-expression filter, variance filter, z-scoring) fitted on the training missions.

Public API
- `Fold` — one fold, JSON-able (`to_dict` / `from_dict`). It keeps the test labels (`y_test`) for
  the evaluator, but the model-facing view `fold_matrices` never returns them; the evaluator asks
  `fold_test_labels`.
- `build_lomo_folds(expression, metadata, *, tissue, task_id, missions, ...)` -> `FoldList`.
- `build_pathway_folds(scores_by_mission, metadata, *, tissue, task_id, missions, ...)` -> `FoldList`.
- `combine_mission_scores(scores_by_mission)` -> the pathways x samples matrix to hand to
  `fold_matrices` for pathway folds.
- `fold_matrices(fold, expression)` -> (X_train, y_train, X_test), samples x features.
- `fold_test_labels(fold)` -> test labels (evaluator only).
- `model_fit_rows(fold, X_train, y_train)` -> the rows the model fit uses (the recorded ids).
- `export_release_layout(folds, expression, metadata, out_dir, task_info)` -> the published layout.

Decisions
- Binary samples only: label 1.0 (Flight) / 0.0 (GC, VC), not QC-excluded. Sample order within
  train and test = metadata row order (the published files follow their metadata order too).
- A gene missing (NaN) in any training or test sample of the fold cannot be a feature: it is
  dropped before any step is fitted (count kept in `n_genes_missing`). This uses the test
  samples' gene *presence* (a property of the study's annotation, not of values or labels), as the
  seed's intersection across missions did.
- Low-expression filter: strict = fitted on the training binary samples only; seed = fitted on
  every non-excluded sample (any group, test included) of the fold's missions, as the seed did over
  the whole tissue. For a LOMO fold the fold's missions are all LOMO missions, so every seed LOMO
  fold gets the same gene list (the published `n_genes_before_var_filter` is constant per task).
- Every step records the sample ids it read (`Fold.fitted_steps`); `fold_matrices` fits the z-score
  on exactly the ids recorded under "train_zscore", so the record is what is used. Steps fitted later,
  after the folds are recorded here too, so the blocking checks on lomo_folds see them:
  STEP_MODEL_FIT (scaler + PCA + classifier in model_predictions; `model_fit_rows` selects exactly
  these rows) and, for the pathway feature set, STEP_GSVA_REFERENCE (strict: the GSVA kernel
  reference, which `pathway_features.fold_pathway_features` uses as recorded when lomo_folds builds
  the fold's pathway matrix) or STEP_PATHWAY_SCORING (seed: the stored per-mission GSVA).
- Skipped folds (test mission < `min_test` binary samples, or a class missing in test or train) are
  not returned as folds; `FoldList.skipped` holds each with its reason.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from functools import reduce
from pathlib import Path
from typing import Any

import pandas as pd

from genebench_assets.science.osdr.identifiers import path_inside
from genebench_assets.science.storage.atomic_files import atomic_path
from genebench_assets.science.protocols import PROTOCOLS
from genebench_assets.science.tasks.feature_filters import LowExpressionFilter, TrainZScore, VarianceFilter

log = logging.getLogger(__name__)

MIN_TEST_SAMPLES = 4  # SPEC §5: skip a fold whose test mission has < 4 binary samples
VAR_PERCENTILE_CUTOFF = 0.25  # SPEC §4 step 4, written as the published fold_info writes it
LABEL_NAMES = {1.0: "Flight", 0.0: "Ground"}

# Names of the fitted steps as recorded in Fold.fitted_steps (leakage check 3 reads them).
STEP_LOW_EXPRESSION = "low_expression_filter"
STEP_VARIANCE = "variance_filter"
STEP_ZSCORE = "train_zscore"
STEP_PATHWAY_SCORING = "pathway_scoring_per_mission"
# The model fit of model_predictions (StandardScaler -> PCA -> classifier, or RF / XGB): recorded here,
# at the tasks stage, so the blocking checks see it; model_predictions fits on exactly these ids.
STEP_MODEL_FIT = "model_fit_scaler_pca_classifier"
# Strict pathway features: the GSVA kernel CDFs are estimated on these samples only.
STEP_GSVA_REFERENCE = "gsva_reference_kernels"


@dataclasses.dataclass(frozen=True)
class Fold:
    task_id: str
    tissue: str
    fold_id: str  # fold_{MISSION}_test or fold_{MISSION}_holdout
    test_mission: str
    train_missions: tuple[str, ...]
    train_ids: tuple[str, ...]
    test_ids: tuple[str, ...]
    y_train: tuple[float, ...]  # aligned with train_ids; 1.0 Flight, 0.0 Ground
    y_test: tuple[float, ...]  # aligned with test_ids; for the evaluator only, never for model code
    genes: tuple[str, ...]  # selected features (gene ids, or pathway names for pathway folds)
    n_genes_before_var_filter: int
    var_percentile_cutoff: float | None  # 0.25, as published; None when there is no variance filter
    var_threshold: float | None  # the variance value at that percentile
    train_label_distribution: dict[str, int]
    test_label_distribution: dict[str, int]
    protocol: str  # "seed" or "strict"
    fitted_steps: dict[str, tuple[str, ...]]  # step name -> sample ids it read
    excluded_bc_ag_samples: int  # non-binary samples (BC, AG, unknown group) of the fold's missions
    excluded_qc_samples: int  # binary samples of the fold's missions removed by sample QC
    n_genes_missing: int = 0  # genes dropped because missing (NaN) in some train or test sample
    holdout: bool = False
    feature_type: str = "genes"  # "genes" or "pathways"
    feature_source: str = "normalized_expression"

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"{self.fold_id}: protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if len(self.y_train) != len(self.train_ids) or len(self.y_test) != len(self.test_ids):
            raise ValueError(f"{self.fold_id}: labels are not aligned with sample ids")

    @property
    def n_train(self) -> int:
        return len(self.train_ids)

    @property
    def n_test(self) -> int:
        return len(self.test_ids)

    @property
    def n_genes_after_var_filter(self) -> int:
        return len(self.genes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (lists, not tuples); `from_dict` restores the fold exactly."""
        d = dataclasses.asdict(self)
        for key, value in d.items():
            if isinstance(value, tuple):
                d[key] = list(value)
        d["fitted_steps"] = {k: list(v) for k, v in self.fitted_steps.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Fold":
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}  # ignore keys of a newer writer
        for key in ("train_missions", "train_ids", "test_ids", "genes"):
            kwargs[key] = tuple(str(x) for x in kwargs[key])
        for key in ("y_train", "y_test"):
            kwargs[key] = tuple(float(x) for x in kwargs[key])
        kwargs["fitted_steps"] = {k: tuple(map(str, v)) for k, v in kwargs["fitted_steps"].items()}
        return cls(**kwargs)


@dataclasses.dataclass(frozen=True)
class SkippedFold:
    fold_id: str
    test_mission: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


class FoldList(list):
    """A list of `Fold`s that also says which folds were skipped and why (`skipped`)."""

    def __init__(self, folds: Iterable[Fold] = (), skipped: Iterable[SkippedFold] = ()):
        super().__init__(folds)
        self.skipped: list[SkippedFold] = list(skipped)


# ---------------------------------------------------------------------------------------------
# metadata helpers


def _prepare_metadata(metadata: pd.DataFrame, tissue: str) -> pd.DataFrame:
    """Index = sample id (str), one tissue, `excluded` as bool, `label` as float."""
    meta = metadata.copy()
    if "sample_id" in meta.columns:
        meta = meta.set_index("sample_id")
    meta.index = meta.index.astype(str)
    for col in ("mission", "label"):
        if col not in meta.columns:
            raise KeyError(f"sample metadata lacks the column {col!r}")
    if "tissue" in meta.columns:
        meta = meta[meta["tissue"].astype(str) == tissue]
    if meta.index.has_duplicates:
        dup = sorted(set(meta.index[meta.index.duplicated()]))
        raise ValueError(f"{tissue}: duplicated sample ids in the metadata, e.g. {dup[:5]}")
    meta["mission"] = meta["mission"].astype(str)
    meta["label"] = pd.to_numeric(meta["label"], errors="coerce").astype(float)
    bad = meta["label"].notna() & ~meta["label"].isin([0.0, 1.0])
    if bad.any():
        raise ValueError(f"{tissue}: labels must be 1.0, 0.0 or NaN; got {sorted(set(meta.loc[bad, 'label']))}")
    excluded = meta["excluded"] if "excluded" in meta.columns else pd.Series(False, index=meta.index)
    meta["excluded"] = excluded.fillna(False).astype(bool)
    return meta


def binary_samples(meta: pd.DataFrame) -> pd.DataFrame:
    """Rows with a binary label (Flight / GC / VC) that sample QC kept."""
    return meta[meta["label"].notna() & ~meta["excluded"]]


def label_distribution(labels: Iterable[float]) -> dict[str, int]:
    labels = list(labels)
    return {"Flight": sum(1 for y in labels if y == 1.0), "Ground": sum(1 for y in labels if y == 0.0)}


def _skip_reason(test: pd.DataFrame, train: pd.DataFrame, test_mission: str, min_test: int) -> str | None:
    if len(test) < min_test:
        return f"test mission {test_mission} has {len(test)} binary samples (< {min_test})"
    for name, part in (("test mission " + test_mission, test), ("training missions", train)):
        dist = label_distribution(part["label"])
        absent = [k for k, n in dist.items() if n == 0]
        if absent:
            return f"{name} lack the class {', '.join(absent)} ({dist})"
    return None


def observed_genes(matrix: pd.DataFrame, sample_ids: Sequence[str]) -> pd.Index:
    """Rows with a value (not NaN) in every one of `sample_ids`: the only possible features."""
    return matrix.index[matrix.loc[:, list(sample_ids)].notna().all(axis=1).to_numpy()]


def _fold_plan(missions, holdout_missions):
    """(fold_id, test_mission, train_missions, is_holdout) for every fold, missions sorted."""
    missions = sorted(missions)
    plan = [(f"fold_{m}_test", m, tuple(x for x in missions if x != m), False) for m in missions]
    plan += [(f"fold_{h}_holdout", h, tuple(missions), True) for h in sorted(holdout_missions)]
    return plan


def _split(meta, test_mission, train_missions, min_test):
    binary = binary_samples(meta)
    test = binary[binary["mission"] == test_mission]
    train = binary[binary["mission"].isin(train_missions)]
    return train, test, _skip_reason(test, train, test_mission, min_test)


def _exclusion_counts(meta, fold_missions) -> tuple[int, int]:
    rows = meta[meta["mission"].isin(fold_missions)]
    return int(rows["label"].isna().sum()), int((rows["label"].notna() & rows["excluded"]).sum())


def _require_columns(matrix: pd.DataFrame, ids: Sequence[str], what: str) -> None:
    missing = list(pd.Index(list(ids)).difference(matrix.columns))
    if missing:
        raise KeyError(f"{what}: {len(missing)} samples of the metadata are not in the matrix, e.g. {missing[:5]}")


# ---------------------------------------------------------------------------------------------
# builders


def _fold(meta, fold_missions, train, test, *, task_id, tissue, fold_id, test_mission, train_missions,
          protocol, holdout, **features) -> Fold:
    """A Fold from a split's train / test metadata rows; `features` carries what the feature set decides."""
    n_bc_ag, n_qc = _exclusion_counts(meta, fold_missions)
    return Fold(
        task_id=task_id,
        tissue=tissue,
        fold_id=fold_id,
        test_mission=test_mission,
        train_missions=tuple(train_missions),
        train_ids=tuple(train.index),
        test_ids=tuple(test.index),
        y_train=tuple(map(float, train["label"])),
        y_test=tuple(map(float, test["label"])),
        train_label_distribution=label_distribution(train["label"]),
        test_label_distribution=label_distribution(test["label"]),
        protocol=protocol,
        excluded_bc_ag_samples=n_bc_ag,
        excluded_qc_samples=n_qc,
        holdout=holdout,
        **features,
    )


def build_lomo_folds(
    expression: pd.DataFrame,
    metadata: pd.DataFrame,
    *,
    tissue: str,
    task_id: str,
    missions: Sequence[str],
    holdout_missions: Sequence[str] = (),
    protocol: str = "strict",
    normalized_counts: pd.DataFrame | None = None,
    min_test: int = MIN_TEST_SAMPLES,
    var_percentile: float = VAR_PERCENTILE_CUTOFF * 100,
) -> FoldList:
    """One fold per mission (sorted), then one per holdout mission (training on all `missions`).

    `expression`: genes x samples, log2(normalized count + 1), NaN where a gene is absent from a
    study. `normalized_counts` (same shape, not logged) is optional: when given, the low-expression
    filter reads it (count > 1) instead of the log2 values (log2(x+1) > 1), which keep the same genes.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    meta = _prepare_metadata(metadata, tissue)
    expression = expression.copy(deep=False)
    expression.columns = expression.columns.astype(str)
    expression.index = expression.index.astype(str)
    if normalized_counts is not None:
        normalized_counts = normalized_counts.copy(deep=False)
        normalized_counts.columns = normalized_counts.columns.astype(str)
        normalized_counts.index = normalized_counts.index.astype(str)

    folds, skipped = [], []
    for fold_id, test_mission, train_missions, is_holdout in _fold_plan(missions, holdout_missions):
        train, test, reason = _split(meta, test_mission, train_missions, min_test)
        if reason:
            log.info("%s %s skipped: %s", tissue, fold_id, reason)
            skipped.append(SkippedFold(fold_id, test_mission, reason))
            continue
        train_ids, test_ids = list(train.index), list(test.index)
        _require_columns(expression, train_ids + test_ids, f"{tissue} {fold_id} expression")
        fold_missions = set(train_missions) | {test_mission}

        # Low-expression filter: strict = training binary samples; seed = every kept sample of the
        # fold's missions, test included, as the seed did over the whole tissue.
        if protocol == "strict":
            low_ids = train_ids
        else:
            rows = meta[meta["mission"].isin(fold_missions) & ~meta["excluded"]]
            low_ids = [s for s in rows.index if s in expression.columns]

        # A gene missing in any train or test sample cannot be a feature (module docstring).
        available = observed_genes(expression, train_ids + test_ids)
        fold_cols = list(dict.fromkeys(train_ids + test_ids + list(low_ids)))
        expr = expression.loc[available, fold_cols]  # one copy per fold, only the columns it needs
        if normalized_counts is not None:
            _require_columns(normalized_counts, low_ids, f"{tissue} {fold_id} normalized counts")
            low = LowExpressionFilter(scale="counts").fit(normalized_counts.reindex(available), low_ids)
        else:
            low = LowExpressionFilter(scale="log2").fit(expr, low_ids)

        var = VarianceFilter(percentile=var_percentile).fit(expr.loc[list(low.genes_)], train_ids)
        if not var.genes_:
            raise ValueError(f"{tissue} {fold_id}: no gene left after the filters")
        folds.append(
            _fold(
                meta, fold_missions, train, test, task_id=task_id, tissue=tissue, fold_id=fold_id,
                test_mission=test_mission, train_missions=train_missions, protocol=protocol, holdout=is_holdout,
                genes=var.genes_,
                n_genes_before_var_filter=len(low.genes_),
                var_percentile_cutoff=var_percentile / 100,
                var_threshold=var.threshold_,
                fitted_steps={
                    STEP_LOW_EXPRESSION: low.fitted_on,
                    STEP_VARIANCE: var.fitted_on,
                    STEP_ZSCORE: tuple(train_ids),  # fold_matrices fits on exactly these ids
                    STEP_MODEL_FIT: tuple(train_ids),  # model_predictions fits on exactly these ids
                    # The pathway feature set of this fold (model_predictions reads these records):
                    # strict = GSVA kernel CDFs on exactly these ids; seed = the stored per-mission
                    # GSVA, which scored every sample of the fold's missions (a seed exception).
                    **({STEP_GSVA_REFERENCE: tuple(train_ids)} if protocol == "strict" else
                       {STEP_PATHWAY_SCORING: tuple(s for s in meta.index[meta["mission"].isin(fold_missions)]
                                                    if s in expression.columns)}),
                },
                n_genes_missing=int(len(expression) - len(available)),
            )
        )
    return FoldList(folds, skipped)


def combine_mission_scores(scores_by_mission: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per-mission pathways x samples frames side by side (outer join on pathways), missions in
    sorted order; a sample id in several frames keeps its first occurrence (SPEC §7: thymus
    `MHU-2` scores also hold the MHU-1 samples, and the MHU-1 file's row wins)."""
    frames = [scores_by_mission[m] for m in sorted(scores_by_mission)]
    combined = pd.concat(frames, axis=1, join="outer", sort=False)
    combined.columns = combined.columns.astype(str)
    return combined.loc[:, ~combined.columns.duplicated(keep="first")]


def fold_pathway_scores(scores_by_mission: Mapping[str, pd.DataFrame], missions: Iterable[str]) -> pd.DataFrame:
    """The pathways x samples scores of one fold's missions (SPEC §7, the published pathway LOMO): the
    one implementation of the seed protocol's pathway fold features, used by `build_pathway_folds`,
    `pathway_features.fold_pathway_features` (seed) and the exact release reproduction
    (`science/release/pathway_lomo.fold_features`). Pathways present in every mission, sorted by name
    (the published code sorted the shared pathways; the column order reaches the saga solver's sums,
    so it matters for bit-exact numbers); samples side by side, a sample scored in several missions
    keeping its first occurrence with missions sorted (thymus: MHU-2's file also scores the MHU-1
    animals, MHU-1's own rows win, as published)."""
    frames = [scores_by_mission[m] for m in sorted(missions)]
    pathways = reduce(lambda a, b: a.intersection(b, sort=False), (f.index for f in frames))
    pathways = pd.Index(sorted(pathways), name=frames[0].index.name)
    combined = pd.concat([f.loc[pathways] for f in frames], axis=1)
    combined.columns = combined.columns.astype(str)
    return combined.loc[:, ~combined.columns.duplicated(keep="first")]


def build_pathway_folds(
    scores_by_mission: Mapping[str, pd.DataFrame],
    metadata: pd.DataFrame,
    *,
    tissue: str,
    task_id: str,
    missions: Sequence[str],
    holdout_missions: Sequence[str] = (),
    protocol: str = "seed",
    min_test: int = MIN_TEST_SAMPLES,
    feature_source: str = "gsva",
) -> FoldList:
    """Folds on pathway scores (one pathways x samples frame per mission, e.g. GSVA per mission).

    Features = pathways present in every mission of the fold (train and test), in the order of the
    first such mission (sorted); no variance filter (SPEC §7). Per-mission scoring saw every sample
    of its mission, the test mission's included: recorded as the step `pathway_scoring_per_mission`,
    a documented seed-protocol exception for leakage check 3 (strict scores inside the fold)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    meta = _prepare_metadata(metadata, tissue)
    combined = combine_mission_scores(scores_by_mission)
    folds, skipped = [], []
    for fold_id, test_mission, train_missions, is_holdout in _fold_plan(missions, holdout_missions):
        train, test, reason = _split(meta, test_mission, train_missions, min_test)
        fold_missions = sorted(set(train_missions) | {test_mission})
        absent = [m for m in fold_missions if m not in scores_by_mission]
        if not reason and absent:
            reason = f"no pathway scores for missions {absent}"
        if reason:
            log.info("%s %s skipped: %s", tissue, fold_id, reason)
            skipped.append(SkippedFold(fold_id, test_mission, reason))
            continue
        train_ids, test_ids = list(train.index), list(test.index)
        _require_columns(combined, train_ids + test_ids, f"{tissue} {fold_id} pathway scores")
        frames = [scores_by_mission[m] for m in fold_missions]
        pathways = fold_pathway_scores(scores_by_mission, fold_missions).index
        observed = observed_genes(combined.loc[pathways], train_ids + test_ids)
        scored = tuple(dict.fromkeys(str(s) for f in frames for s in f.columns))
        folds.append(
            _fold(
                meta, set(fold_missions), train, test, task_id=task_id, tissue=tissue, fold_id=fold_id,
                test_mission=test_mission, train_missions=train_missions, protocol=protocol, holdout=is_holdout,
                genes=tuple(map(str, observed)),
                n_genes_before_var_filter=len(observed),
                var_percentile_cutoff=None,
                var_threshold=None,
                fitted_steps={STEP_PATHWAY_SCORING: scored, STEP_ZSCORE: tuple(train_ids),
                              STEP_MODEL_FIT: tuple(train_ids)},
                n_genes_missing=int(len(pathways) - len(observed)),
                feature_type="pathways",
                feature_source=feature_source,
            )
        )
    return FoldList(folds, skipped)


# ---------------------------------------------------------------------------------------------
# views


def fold_matrices(
    fold: Fold, expression: pd.DataFrame, *, zscore: bool = True
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """The model-facing view: (X_train, y_train, X_test), X as samples x features (fold.genes order),
    z-scored with the training mean and SD (ddof 1) unless `zscore=False`. No test labels here.

    `expression`: features x samples — the tissue's expression for gene folds, or
    `combine_mission_scores(...)` for pathway folds."""
    expression = expression.copy(deep=False)
    expression.columns = expression.columns.astype(str)
    expression.index = expression.index.astype(str)
    genes = list(fold.genes)
    missing = list(pd.Index(genes).difference(expression.index))
    if missing:
        raise KeyError(f"{fold.fold_id}: {len(missing)} fold features not in the matrix, e.g. {missing[:5]}")
    train_ids, test_ids = list(fold.train_ids), list(fold.test_ids)
    _require_columns(expression, train_ids + test_ids, fold.fold_id)
    block = expression.loc[genes, train_ids + test_ids]
    if block.isna().to_numpy().any():
        raise ValueError(f"{fold.fold_id}: NaN among the fold's features; was the fold built on this matrix?")
    if zscore:
        # Fit on exactly the ids the fold recorded, so the record is what was used.
        scaler = TrainZScore().fit(block, fold.fitted_steps.get(STEP_ZSCORE, fold.train_ids))
        block = scaler.transform(block)
    X_train = block[train_ids].T
    X_test = block[test_ids].T
    for X in (X_train, X_test):
        X.index.name, X.columns.name = "sample_id", None
    y_train = pd.Series(fold.y_train, index=pd.Index(train_ids, name="sample_id"), name="label")
    return X_train, y_train, X_test


def model_fit_rows(fold: Fold, X_train: pd.DataFrame, y_train: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """The training rows the model fit (scaler, PCA, classifier) uses: exactly the ids recorded under
    STEP_MODEL_FIT, in that order, so the record leakage check 4 verifies is what is fitted. A recorded
    id that is not a training row is an error, never silently dropped."""
    ids = [str(s) for s in fold.fitted_steps.get(STEP_MODEL_FIT, fold.train_ids)]
    missing = [s for s in ids if s not in X_train.index]
    if missing:
        raise ValueError(f"{fold.fold_id}: the recorded model fit ids include non-training samples {missing[:5]}")
    return X_train.loc[ids], y_train.loc[ids]


def fold_test_labels(fold: Fold) -> pd.Series:
    """Test labels (1.0 Flight, 0.0 Ground) indexed by sample id: for the evaluator only."""
    return pd.Series(fold.y_test, index=pd.Index(list(fold.test_ids), name="sample_id"), name="label")


# ---------------------------------------------------------------------------------------------
# export in the published release layout

# published train_meta.csv column <- our sample_metadata column (data contract)
RELEASE_META_COLUMNS = {
    "library_size": "library_size",
    "n_detected_genes": "n_detected_genes",
    "pct_top100_genes": "pct_top100_genes",
    "remove_low_library": "qc_low_library",
    "remove_low_genes": "qc_low_genes",
    "remove_pca_outlier": "qc_pca_outlier",
    "remove_duplicate": "qc_near_duplicate",
    "REMOVE": "excluded",
    "label": "group",  # the published meta's `label` is the group name (Flight / GC / VC)
    "mission": "mission",
    "osd_id": "osd",
    "strain": "strain",
    "track": "track",
    "duration_days": "duration_days",
    "tissue": "tissue",
}


def release_fold_info(fold: Fold, metadata: pd.DataFrame | None = None) -> dict[str, Any]:
    """`fold_info.json` with the published keys, in the published order."""
    info: dict[str, Any] = {}
    if fold.holdout:  # the published A5 RR-7 holdout adds these
        info["fold_type"] = "held_out"
    info["test_mission"] = fold.test_mission
    if fold.holdout and metadata is not None and "osd" in metadata.columns:
        osds = metadata.reindex(list(fold.test_ids))["osd"].dropna().astype(str)
        info["test_osd"] = ", ".join(dict.fromkeys(osds))
    info["train_missions"] = list(fold.train_missions)
    info["n_train"] = fold.n_train
    info["n_test"] = fold.n_test
    if fold.holdout:
        info["n_flight_test"] = fold.test_label_distribution["Flight"]
        info["n_ground_test"] = fold.test_label_distribution["Ground"]
    info["n_genes_before_var_filter"] = fold.n_genes_before_var_filter
    info["n_genes_after_var_filter"] = fold.n_genes_after_var_filter
    info["var_percentile_cutoff"] = fold.var_percentile_cutoff
    info["train_label_distribution"] = dict(fold.train_label_distribution)
    info["test_label_distribution"] = dict(fold.test_label_distribution)
    info["excluded_bc_ag_samples"] = fold.excluded_bc_ag_samples
    if fold.holdout:
        info["label_public"] = True
    return info


def _write_json(obj: Any, target: Path) -> None:
    with atomic_path(target) as tmp:  # indent 2, no trailing newline: as the published files
        tmp.write_text(json.dumps(obj, indent=2))


def _write_labels(ids: Sequence[str], labels: Sequence[float], target: Path) -> None:
    # header ",0", index = sample id, values 1.0 / 0.0: pandas' format for an unnamed Series
    series = pd.Series([float(y) for y in labels], index=pd.Index(list(ids)), name=0)
    with atomic_path(target) as tmp:
        series.to_csv(tmp)


def _release_meta(meta: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    rows = meta.reindex(list(ids))
    out = pd.DataFrame(index=pd.Index(list(ids)))
    for published, ours in RELEASE_META_COLUMNS.items():
        if ours in rows.columns:
            out[published] = rows[ours].to_numpy()
    return out


def export_release_layout(
    folds: Sequence[Fold],
    expression: pd.DataFrame | None,
    metadata: pd.DataFrame,
    out_dir: str | Path,
    task_info: Mapping[str, Any] | None = None,
    *,
    write_features: bool = False,
) -> Path:
    """Write `out_dir/A{n}_{tissue}_lomo/` as the published release (SPEC §5): per fold
    `train_y.csv`, `test_y.csv`, `train_meta.csv`, `test_meta.csv`, `selected_genes.txt`,
    `fold_info.json`, and `task_info.json` (its `folds` list = the LOMO folds, as published).
    With `write_features`, also `train_X.csv` / `test_X.csv` (samples x selected genes, log2, not
    scaled). `task_info` entries override the defaults (e.g. `generated_at` for a stable output).
    Every file is written atomically. Returns the task directory."""
    if not folds:
        raise ValueError("no folds to export")
    tissues = {f.tissue for f in folds}
    task_ids = {f.task_id for f in folds}
    if len(tissues) != 1 or len(task_ids) != 1:
        raise ValueError(f"folds of one task only; got tasks {sorted(task_ids)} and tissues {sorted(tissues)}")
    tissue, task_id = tissues.pop(), task_ids.pop()
    meta = _prepare_metadata(metadata, tissue)
    # Task id, tissue and fold id come from stored folds (and a user's catalog): every output path is
    # resolved inside out_dir, or refused (IdentifierError) before anything is written (issue 25).
    task_dir = path_inside(out_dir, f"{task_id}_{tissue}_lomo")
    for fold in folds:
        path_inside(task_dir, fold.fold_id)
    lomo_infos = []
    for fold in folds:
        fdir = path_inside(task_dir, fold.fold_id)
        _write_labels(fold.train_ids, fold.y_train, fdir / "train_y.csv")
        _write_labels(fold.test_ids, fold.y_test, fdir / "test_y.csv")
        for part, ids in (("train", fold.train_ids), ("test", fold.test_ids)):
            with atomic_path(fdir / f"{part}_meta.csv") as tmp:
                _release_meta(meta, ids).to_csv(tmp)
        with atomic_path(fdir / "selected_genes.txt") as tmp:
            tmp.write_text("".join(f"{g}\n" for g in fold.genes))
        if write_features:
            if expression is None:
                raise ValueError("write_features needs the expression matrix")
            X = expression.copy(deep=False)
            X.columns = X.columns.astype(str)
            for part, ids in (("train", fold.train_ids), ("test", fold.test_ids)):
                with atomic_path(fdir / f"{part}_X.csv") as tmp:
                    X.loc[list(fold.genes), list(ids)].T.to_csv(tmp)
        info = release_fold_info(fold, meta)
        _write_json(info, fdir / "fold_info.json")
        if not fold.holdout:
            lomo_infos.append(info)
    lomo_missions = sorted({m for f in folds if not f.holdout for m in (*f.train_missions, f.test_mission)})
    info = {
        "task": f"Spaceflight detection \u2014 {tissue.capitalize()}",
        "tissue": tissue,
        "split": "LOMO",
        "n_missions": len(lomo_missions),
        "n_folds_generated": len(lomo_infos),
        "folds": lomo_infos,
        "task_id": task_id,
        "generated_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(),
        "dry_run": False,
    }
    info.update(task_info or {})
    _write_json(info, task_dir / "task_info.json")
    return task_dir
