"""Blocking means blocking: a study partition's outputs reach its readers only after its checks pass.

The evidence is Dagster's own record, read from the instance: for each gated asset of a (tissue,
mission) study, its latest materialization, the sha256 that materialization recorded, and the
latest evaluation of each of its blocking checks. A table is *verified* when

  1. the working copy on disk has the sha256 its latest materialization recorded (no file written
     by a run that failed, or by hand, slips through),
  2. every blocking check of the asset was evaluated on that very materialization and passed,
  3. (normalized_expression) the upstream versions it recorded are the current raw_counts and
     sample_metadata: one study version, never new metadata beside old expression.

Readers: a study's own downstream assets verify the upstream table they read (StudyPartition.read);
the tissue entry point (`load_tissue(..., instance=)`) verifies every study, promotes verified ones
(table_store.TableStore.promote) and refuses a blocked one, naming it and the check that failed.
See docs/ARCHITECTURE.md, "Blocking and promotion"."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import dagster as dg

from genebench_assets.defs.gating.read_gate import blocking_check_problems, blocking_checks, latest_materialization
from genebench_assets.science.storage.table_store import TableStore

# The per-study assets a tissue reads, in dependency order, and the non-asset files promoted with them.
GATED_ASSETS = ("raw_counts", "sample_metadata", "normalized_expression")
PROMOTED_TABLES = (("sample_metadata", "parquet"), ("normalized_expression", "parquet"), ("raw_files", "json"))
# Rule 3: what each gated table was computed from (its recorded provenance must name their current versions).
STUDY_INPUTS = {"sample_metadata": ("raw_counts",), "normalized_expression": ("raw_counts", "sample_metadata")}
# Promoted side files: the asset that wrote each one, which recorded its sha256 (`<name>_sha256` metadata).
SIDE_FILES = {"raw_files": "raw_counts"}


def partition_key(tissue: str, mission: str) -> str:
    return str(dg.MultiPartitionKey({"tissue": tissue, "mission": mission}))


@dataclasses.dataclass
class AssetVerdict:
    asset: str
    sha256: str | None = None
    storage_id: int | None = None
    run_id: str | None = None
    problems: list[str] = dataclasses.field(default_factory=list)
    upstream: dict[str, str] = dataclasses.field(default_factory=dict)  # asset -> data version it read
    side_files: dict[str, str] = dataclasses.field(default_factory=dict)  # e.g. raw_files -> sha256 recorded


def verify_asset(instance: dg.DagsterInstance, store: TableStore, asset: str, tissue: str,
                 mission: str) -> AssetVerdict:
    """Rules 1 and 2 of the module docstring for one gated table."""
    verdict = AssetVerdict(asset)
    pk = partition_key(tissue, mission)
    record = latest_materialization(instance, asset, pk)
    if record is None:
        verdict.problems.append(f"{asset} never materialized")
        return verdict
    verdict.storage_id, verdict.run_id = record.storage_id, record.run_id
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    recorded = getattr(metadata.get("sha256"), "value", None)
    if not recorded:  # no sha256 in the metadata: the data version is its first 16 hex digits
        recorded = (record.asset_materialization.tags or {}).get("dagster/data_version")
    # Side files written with the table (raw_counts' raw_files.json): the sha256 it recorded for each.
    verdict.side_files = {k.removesuffix("_sha256"): str(getattr(v, "value", v)) for k, v in metadata.items()
                          if k.endswith("_sha256") and k != "table_sha256"}
    if not store.exists(asset, tissue, mission):
        verdict.problems.append(f"{asset} materialized but its file is gone ({store.path(asset, tissue, mission)})")
        return verdict
    on_disk = store.sha256(asset, tissue, mission)
    if not recorded or not on_disk.startswith(str(recorded)):
        verdict.problems.append(f"{asset} on disk (sha256 {on_disk[:12]}) is not what its last materialization "
                                f"recorded ({str(recorded)[:12]}): written by a run that failed, or by hand")
        return verdict
    verdict.sha256 = on_disk
    prov = metadata.get("provenance")
    prov = getattr(prov, "value", prov) or {}
    if isinstance(prov, str):
        prov = json.loads(prov)
    verdict.upstream = {u["asset"]: u.get("data_version", "") for u in prov.get("upstream", [])}
    verdict.problems.extend(blocking_check_problems(instance, asset, pk, record, what=f"the latest {asset}"))
    return verdict


@dataclasses.dataclass
class StudyVerdict:
    tissue: str
    mission: str
    assets: dict[str, AssetVerdict]

    @property
    def problems(self) -> list[str]:
        out = [p for v in self.assets.values() for p in v.problems]
        if out:
            return out
        # rule 3: one study version — each table was computed from the current version of what it read
        for reader, ups in STUDY_INPUTS.items():
            if reader not in self.assets:
                continue
            for up in ups:
                want = (self.assets[up].sha256 or "")[:16]
                got = self.assets[reader].upstream.get(up)
                if got != want:
                    out.append(f"{reader} was computed from another {up} ({(got or 'none recorded')[:12]}, now "
                               f"{want[:12]}): re-materialize {reader}")
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    def evidence(self) -> dict[str, Any]:
        return {a: {"sha256": v.sha256, "run_id": v.run_id, "storage_id": v.storage_id,
                    "blocking_checks_passed": [k.name for k in blocking_checks().get(a, ())]}
                for a, v in self.assets.items()}


def verify_study(instance: dg.DagsterInstance, store: TableStore, tissue: str, mission: str) -> StudyVerdict:
    return StudyVerdict(tissue, mission, {a: verify_asset(instance, store, a, tissue, mission) for a in GATED_ASSETS})


def promote_study(instance: dg.DagsterInstance, store: TableStore, tissue: str, mission: str):
    """(promoted version, None) if the study verified, else (last promoted version or None, problems)."""
    verdict = verify_study(instance, store, tissue, mission)
    if not verdict.ok:
        return store.promoted(tissue, mission), verdict.problems
    expected = {(a, ext): store.sha256(a, tissue, mission, ext=ext) for a, ext in PROMOTED_TABLES}
    for a, ext in PROMOTED_TABLES:  # the verified assets must still be what was verified
        if a in verdict.assets and expected[(a, ext)] != verdict.assets[a].sha256:
            return store.promoted(tissue, mission), [f"{a} changed on disk while it was being promoted"]
        writer = SIDE_FILES.get(a)
        if writer is not None:  # a side file is promoted only as the version its writer recorded
            recorded = verdict.assets[writer].side_files.get(a)
            if recorded != expected[(a, ext)]:
                return store.promoted(tissue, mission), [
                    f"{a}.{ext} on disk (sha256 {expected[(a, ext)][:12]}) is not what the latest {writer} recorded "
                    f"({(recorded or 'none')[:12]}): re-materialize {writer}"]
    return store.promote(tissue, mission, expected, verdict.evidence()), None


def require_verified(instance: dg.DagsterInstance, store: TableStore, asset: str, tissue: str, mission: str) -> None:
    """For a study's own downstream assets: refuse to read an upstream table that did not pass."""
    problems = verify_asset(instance, store, asset, tissue, mission).problems
    if problems:
        raise dg.Failure(f"({tissue}, {mission}) is blocked: {'; '.join(problems)}; re-materialize {asset} "
                         "for this partition and let its checks pass before anything downstream runs")
