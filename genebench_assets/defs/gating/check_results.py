"""Turn the science core's pure check outcomes into Dagster check results."""

from __future__ import annotations

import dagster as dg


def to_check_result(outcome, *, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    metadata = {"compared": outcome.description}
    for k, v in (outcome.metadata or {}).items():
        metadata[k] = v if isinstance(v, (int, float, str, bool)) else dg.MetadataValue.json(v)
    failures = list(getattr(outcome, "failures", []) or [])
    if failures:
        metadata["failures"] = dg.MetadataValue.md("\n".join(f"- {f}" for f in failures[:20]))
    return dg.AssetCheckResult(passed=bool(outcome.passed), severity=severity, metadata=metadata)


def skipped_absent(tissue: str, mission: str) -> dg.AssetCheckResult:
    """Every check of a per-study asset on an absent pair: passed, nothing to check (its record is
    the "absent" materialization of partitions.py, no table)."""
    return dg.AssetCheckResult(
        passed=True, metadata={"compared": f"({tissue}, {mission}) is not a study in the catalog: nothing to check",
                               "absent": True}
    )
