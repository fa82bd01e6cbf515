"""Read every real (tissue, mission) study of one tissue, for tissue-level assets: only promoted study
versions, one consistent version per study (see study_promotion.py and docs/ARCHITECTURE.md)."""

from __future__ import annotations

import dataclasses

import dagster as dg
import pandas as pd

from genebench_assets.science.osdr.study_catalog import StudyCatalog
from genebench_assets.science.storage.table_store import TableNotFoundError, TableStore

# Written beside lomo_folds (protocol-dependent): the study versions the folds were built from.
FOLD_INPUTS = "lomo_folds_inputs"


@dataclasses.dataclass
class TissueData:
    tissue: str
    missions: list[str]  # LOMO missions, sorted
    holdout_missions: list[str]
    expression: pd.DataFrame  # genes x samples, log2; NaN where a gene is absent from a study
    metadata: pd.DataFrame  # sample_metadata rows of every mission
    upstream: list[dict]  # [{asset, partition, data_version, study_version}]
    raw_files: list[dict]
    study_versions: dict[str, str] = dataclasses.field(default_factory=dict)  # mission -> promoted version

    def record_versions(self, store: TableStore) -> None:
        """Called by lomo_folds after writing its folds: later tissue assets check they read these."""
        store.write_json({"tissue": self.tissue, "study_versions": self.study_versions}, FOLD_INPUTS, self.tissue)


def load_tissue(store: TableStore, catalog: StudyCatalog, tissue: str, *,
                instance: dg.DagsterInstance | None = None) -> TissueData:
    """With `instance` (the tissue's entry point, lomo_folds): verify each study's blocking checks in
    the instance, promote the studies that pass, and fail naming any study that is blocked. Without:
    read the promoted versions and check they are the ones lomo_folds recorded, if it did."""
    from genebench_assets.defs.gating.study_promotion import promote_study

    missions = catalog.missions_for(tissue)
    holdouts = catalog.holdout_missions(tissue)
    versions, missing, blocked = {}, [], []
    for mission in missions + holdouts:
        if instance is not None:
            version, problems = promote_study(instance, store, tissue, mission)
            if problems and version is None and not store.exists("raw_counts", tissue, mission):
                missing.append(mission)  # nothing of the study yet: not blocked, just not there
                continue
            if problems:
                kept = f"last promoted version {version.version} ({version.promoted_at}) kept" if version else \
                    "no version ever promoted"
                blocked.append(f"({tissue}, {mission}) is blocked: {'; '.join(problems)} [{kept}]")
                continue
        else:
            version = store.promoted(tissue, mission)
            if version is None:
                missing.append(mission)
                continue
        versions[mission] = version
    problems = []
    if blocked:
        # Fail rather than train on the last good version: the user asked for the study as it is now,
        # and a result from other data than the current inputs would be reported as theirs.
        problems.append(f"{len(blocked)} stud{'y' if len(blocked) == 1 else 'ies'} did not pass blocking "
                        f"checks, nothing downstream runs on them: " + " | ".join(blocked))
    if missing:
        # A real study not yet materialized: say which, rather than quietly training on fewer missions.
        problems.append(f"studies not materialized yet for missions {missing}; materialize "
                        f"normalized_expression for ({tissue}, {', '.join(missing)}) first")
    if problems:
        raise dg.Failure(f"{tissue}: " + "; ".join(problems))
    study_versions = {m: v.version for m, v in versions.items()}
    if instance is None:
        _check_fold_inputs(store, tissue, study_versions)
    exprs, metas, upstream, raw_files = [], [], [], []
    for mission, version in versions.items():
        exprs.append(store.read_promoted_frame(version, "normalized_expression"))
        metas.append(store.read_promoted_frame(version, "sample_metadata"))
        raw_files.extend(store.read_promoted_json(version, "raw_files"))
        for asset in ("normalized_expression", "sample_metadata"):
            upstream.append({"asset": asset, "partition": f"{tissue}|{mission}",
                             "data_version": version.files[f"{asset}.parquet"][:16],
                             "study_version": version.version})
    expression = pd.concat(exprs, axis=1, join="outer")
    metadata = pd.concat(metas)
    return TissueData(tissue, missions, holdouts, expression, metadata, upstream, raw_files, study_versions)


def _check_fold_inputs(store: TableStore, tissue: str, versions: dict[str, str]) -> None:
    if store.protocol is None:
        return
    try:
        recorded = store.read_json(FOLD_INPUTS, tissue)["study_versions"]
    except TableNotFoundError:
        return
    changed = sorted(m for m in set(recorded) | set(versions) if recorded.get(m) != versions.get(m))
    if changed:
        raise dg.Failure(
            f"{tissue}: lomo_folds was built from other study versions than the promoted ones for "
            f"{changed} ({', '.join(f'{m}: {recorded.get(m)} -> {versions.get(m)}' for m in changed)}); "
            "re-materialize lomo_folds so folds and features come from one version of each study")


def lomo_folds_data_version(store: TableStore, tissue: str) -> str:
    """lomo_folds' Dagster data version: its folds table and its fold-features manifest (which names the
    sha256 of every fold's feature matrix) together, so new fold features are a new version of
    lomo_folds. Readers record it in their provenance as the version they read."""
    import hashlib

    import json

    folds_sha = store.sha256("lomo_folds", tissue, ext="json")
    manifest = "lomo_fold_features"  # defs/pathways/fold_features.FOLD_FEATURES
    # The content of the fold features (feature sets, collection, each matrix's sha256), not the manifest
    # file: the manifest also records provenance (promoted study versions, fetch times) that differ between
    # two runs on the same inputs, and the data version must not.
    content = ""
    if store.exists(manifest, tissue, ext="json"):
        m = store.read_json(manifest, tissue)
        content = json.dumps({"feature_sets": m.get("feature_sets"), "pathways": m.get("pathways")}, sort_keys=True)
    return hashlib.sha256(f"{folds_sha}{content}".encode()).hexdigest()[:16]


def require_checked_folds(context, store: TableStore, tissues, *, instance=None) -> None:
    """The read gate (gating/read_gate.py) for readers of lomo_folds: the folds (and fold features) on disk
    are the latest materialization of each tissue's lomo_folds under this protocol, and every blocking
    leakage check passed on it; otherwise one line naming tissue, version and check, before any read."""
    from genebench_assets.defs.gating.read_gate import require_checked_inputs

    require_checked_inputs(context, [
        ("lomo_folds", t, lomo_folds_data_version(store, t) if store.exists("lomo_folds", t, ext="json") else "none")
        for t in ([tissues] if isinstance(tissues, str) else tissues)], protocol=store.protocol, instance=instance,
        reader=None if context is not None else "export-folds")


def read_checked_folds(context, store: TableStore, tissue: str, *, instance=None) -> list:
    """A tissue's LOMO folds, through the read gate (the leakage checks themselves read them directly);
    outside a run (the CLI), pass the instance instead of a context."""
    from genebench_assets.science.tasks.folds import Fold

    require_checked_folds(context, store, tissue, instance=instance)
    return [Fold.from_dict(d) for d in store.read_json("lomo_folds", tissue)]
