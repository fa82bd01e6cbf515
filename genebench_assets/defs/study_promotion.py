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
import functools
import json
from typing import Any

import dagster as dg

from genebench_assets.science.storage.table_store import TableStore

# The per-study assets a tissue reads, in dependency order, and the non-asset files promoted with them.
GATED_ASSETS = ("raw_counts", "sample_metadata", "normalized_expression")
PROMOTED_TABLES = (("sample_metadata", "parquet"), ("normalized_expression", "parquet"), ("raw_files", "json"))


@functools.lru_cache(maxsize=1)
def blocking_checks() -> dict[str, tuple[dg.AssetCheckKey, ...]]:
    """asset name -> its blocking check keys, from the code location's definitions."""
    from genebench_assets.definitions import defs

    found: dict[str, list[dg.AssetCheckKey]] = {}
    for checks_def in defs.asset_checks or []:
        for spec in checks_def.check_specs:
            if spec.blocking:
                found.setdefault(spec.asset_key.to_user_string(), []).append(spec.key)
    for asset in defs.assets or []:  # checks declared on the asset itself (check_specs=)
        for spec in getattr(asset, "check_specs", []) or []:
            if spec.blocking:
                found.setdefault(spec.asset_key.to_user_string(), []).append(spec.key)
    return {k: tuple(sorted(set(v), key=lambda c: c.name)) for k, v in found.items()}


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


def verify_asset(instance: dg.DagsterInstance, store: TableStore, asset: str, tissue: str,
                 mission: str) -> AssetVerdict:
    """Rules 1 and 2 of the module docstring for one gated table."""
    verdict = AssetVerdict(asset)
    pk = partition_key(tissue, mission)
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[pk]), limit=1).records
    if not records:
        verdict.problems.append(f"{asset} never materialized")
        return verdict
    record = records[0]
    verdict.storage_id, verdict.run_id = record.storage_id, record.run_id
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    recorded = getattr(metadata.get("sha256"), "value", None)
    if not recorded:  # no sha256 in the metadata: the data version is its first 16 hex digits
        recorded = (record.asset_materialization.tags or {}).get("dagster/data_version")
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
    keys = blocking_checks().get(asset, ())
    if not keys:
        return verdict
    infos = {i.check_key: i for i in instance.event_log_storage.get_asset_check_partition_info(
        list(keys), partition_keys=[pk])}
    for key in keys:
        info = infos.get(key)
        if info is None or info.latest_target_materialization_storage_id != record.storage_id:
            verdict.problems.append(f"blocking check {key.name} not evaluated on the latest {asset}")
        elif info.latest_execution_status.value != "SUCCEEDED":
            verdict.problems.append(f"blocking check {key.name} failed on the latest {asset} "
                                    f"(run {record.run_id[:8]})")
    return verdict


@dataclasses.dataclass
class StudyVerdict:
    tissue: str
    mission: str
    assets: dict[str, AssetVerdict]

    @property
    def problems(self) -> list[str]:
        out = [p for v in self.assets.values() for p in v.problems]
        ne = self.assets.get("normalized_expression")
        if not out and ne is not None:  # rule 3: one study version
            for up in ("raw_counts", "sample_metadata"):
                want = (self.assets[up].sha256 or "")[:16]
                got = ne.upstream.get(up)
                if got is not None and got != want:
                    out.append(f"normalized_expression was computed from another {up} ({got[:12]}, now "
                               f"{want[:12]}): re-materialize normalized_expression")
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
    return store.promote(tissue, mission, expected, verdict.evidence()), None


def require_verified(instance: dg.DagsterInstance, store: TableStore, asset: str, tissue: str, mission: str) -> None:
    """For a study's own downstream assets: refuse to read an upstream table that did not pass."""
    problems = verify_asset(instance, store, asset, tissue, mission).problems
    if problems:
        raise dg.Failure(f"({tissue}, {mission}) is blocked: {'; '.join(problems)}; re-materialize {asset} "
                         "for this partition and let its checks pass before anything downstream runs")
