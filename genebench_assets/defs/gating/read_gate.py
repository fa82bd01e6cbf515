"""The one read gate: a reader consumes a version of a checked asset only if every blocking check of
that very version passed, in whatever run it happens (CLI, UI "Materialize selected", GraphQL,
sensors, schedules, automation).

Dagster's blocking checks stop downstream steps only inside the run that evaluated them; a later run
that selects only the readers would otherwise read outputs whose checks failed. So every reader asks
the instance, before it reads anything, about the input version it is about to read:

  1. the input partition was materialized, and its latest materialization is the one on disk (the
     reader passes the version it computes from the files, compared with the data version Dagster
     recorded: a file rewritten by a run that then failed, or by hand, is refused);
  2. every blocking check of the asset was evaluated on that very materialization and passed;
  3. (protocol-keyed tables) that materialization was made under the reader's protocol.

Otherwise the reader fails in one line naming the input, the version and the failed check, before it
writes or records anything. The study level (study_promotion.py) applies rules 1-2 to the per-study
tables and then promotes them into snapshots; tissue-, task-, category- and LLM-level readers call
`require_checked_inputs` directly. See docs/ARCHITECTURE.md, "Blocking and promotion"."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable
from typing import Any

import dagster as dg


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


@dataclasses.dataclass
class InputVerdict:
    """What the instance says about the latest materialization of one input partition."""

    asset: str
    partition: str | None
    record: Any = None  # the EventLogRecord of its latest materialization
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def metadata(self) -> dict[str, Any]:
        m = self.record.asset_materialization if self.record is not None else None
        return dict(m.metadata) if m is not None else {}

    @property
    def data_version(self) -> str | None:
        m = self.record.asset_materialization if self.record is not None else None
        return (m.tags or {}).get("dagster/data_version") if m is not None else None

    @property
    def run_id(self) -> str | None:
        return self.record.run_id if self.record is not None else None

    @property
    def storage_id(self) -> int | None:
        return self.record.storage_id if self.record is not None else None

    def provenance(self) -> dict[str, Any]:
        prov = self.metadata.get("provenance")
        prov = getattr(prov, "value", prov) or {}
        return json.loads(prov) if isinstance(prov, str) else dict(prov)

    @property
    def label(self) -> str:
        return f"{self.asset} [{self.partition}]" if self.partition else self.asset


def latest_materialization(instance: dg.DagsterInstance, asset: str, partition: str | None):
    flt = dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition] if partition else None)
    records = instance.fetch_materializations(flt, limit=1).records
    return records[0] if records else None


def blocking_check_problems(instance: dg.DagsterInstance, asset: str, partition: str | None, record, *,
                            what: str = "it") -> list[str]:
    """Rule 2: every blocking check of `asset` evaluated on this very materialization (`what`), and passed."""
    keys = blocking_checks().get(asset, ())
    if not keys:
        return []
    infos = {i.check_key: i for i in instance.event_log_storage.get_asset_check_partition_info(
        list(keys), partition_keys=[partition] if partition else None) if i.partition_key == partition}
    problems = []
    for key in keys:
        info = infos.get(key)
        if info is None or info.latest_target_materialization_storage_id != record.storage_id:
            problems.append(f"blocking check {key.name} was not evaluated on {what}")
        elif info.latest_execution_status.value == "FAILED":
            # As Dagster's own blocking: only a failure of severity ERROR blocks; a WARN (e.g. the seed
            # protocol's known defects, reproduced on purpose) is reported by the check and read on.
            if _severity(instance, info.latest_planned_run_id, key, record.storage_id) != "WARN":
                problems.append(f"blocking check {key.name} failed on {what} (run {record.run_id[:8]})")
        elif info.latest_execution_status.value != "SUCCEEDED":
            # PLANNED on the latest materialization: the check step started but raised or was killed.
            problems.append(f"blocking check {key.name} did not finish on {what} (run {record.run_id[:8]})")
    return problems


def _severity(instance: dg.DagsterInstance, run_id: str, key: dg.AssetCheckKey, target_storage_id: int) -> str | None:
    """The severity (ERROR / WARN) of check `key`'s evaluation, in run `run_id`, of the materialization
    stored under `target_storage_id` (the partition info's own event id names another table's row)."""
    severity = None
    for r in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
        evaluation = r.event_log_entry.dagster_event.event_specific_data
        target = getattr(evaluation.target_materialization_data, "storage_id", None)
        if evaluation.asset_check_key == key and target in (None, target_storage_id):
            severity = getattr(evaluation.severity, "value", None)
    return severity


def verify_input(instance: dg.DagsterInstance, asset: str, partition: str | None = None, *,
                 current_version: str | None = None, protocol: str | None = None) -> InputVerdict:
    """Rules 1-3 of the module docstring for one input partition. `current_version`: the data version the
    reader computes from the files it is about to read (None: the asset has no file of its own)."""
    verdict = InputVerdict(asset, partition)
    record = latest_materialization(instance, asset, partition)
    if record is None:
        verdict.problems.append("never materialized")
        return verdict
    verdict.record = record
    recorded = verdict.data_version
    if current_version is not None and (not recorded or not str(current_version).startswith(str(recorded)[:16])):
        verdict.problems.append(f"the files on disk (version {str(current_version)[:16]}) are not what its latest "
                                f"materialization recorded ({str(recorded)[:16]}): written by a run that failed, or "
                                "by hand")
        return verdict
    if protocol is not None:
        made_under = verdict.provenance().get("protocol") or getattr(verdict.metadata.get("protocol"), "value", None)
        if made_under is not None and made_under != protocol:
            verdict.problems.append(f"its latest materialization is the {made_under} protocol's, not {protocol}'s")
            return verdict
    verdict.problems.extend(blocking_check_problems(instance, asset, partition, record))
    return verdict


class InputRefused(dg.Failure):
    """A reader's input failed the gate; the message is one line."""


def refusal_message(reader: str, verdict: InputVerdict) -> str:
    version = f" version {verdict.data_version[:16]}" if verdict.data_version else ""
    return (f"{reader} refuses {verdict.label}{version}: {'; '.join(verdict.problems)}; nothing was written "
            f"— fix the cause and re-materialize {verdict.asset} so its blocking checks pass")


def require_checked_inputs(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext | None,
                           inputs: Iterable[tuple[str, str | None] | tuple[str, str | None, str | None]], *,
                           protocol: str | None = None, instance: dg.DagsterInstance | None = None,
                           reader: str | None = None) -> list[InputVerdict]:
    """Call first in a reader's body: `inputs` are (asset, partition[, current version]). Raises
    InputRefused (one line, the first refused input, and how many more) before anything is read."""
    instance = instance or context.instance
    reader = reader or _reader_name(context)
    verdicts, refused = [], []
    for item in inputs:
        asset, partition, *rest = item
        v = verify_input(instance, asset, partition, current_version=rest[0] if rest else None, protocol=protocol)
        verdicts.append(v)
        if v.problems:
            refused.append(v)
    if refused:
        more = f" (and {len(refused) - 1} more input(s): {', '.join(v.label for v in refused[1:4])})" \
            if len(refused) > 1 else ""
        raise InputRefused(refusal_message(reader, refused[0]) + more,
                           metadata={"refused_inputs": dg.MetadataValue.json(
                               [{"input": v.label, "data_version": v.data_version, "problems": v.problems}
                                for v in refused])})
    return verdicts


def _reader_name(context) -> str:
    if context is None:
        return "reader"
    try:
        name = context.asset_key.to_user_string()
    except Exception:  # a check or multi-asset context: the op's name
        name = context.op_def.name
    pk = context.partition_key if getattr(context, "has_partition_key", False) else None
    return f"{name} [{pk}]" if pk else name

