"""The result of a pure check function (source checks, leakage checks).

The Dagster layer turns it into an `AssetCheckResult`; the science core never imports Dagster."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

# A check may find thousands of offenders; the UI only needs the first few and the total.
MAX_FAILURES_SHOWN = 20


@dataclass(frozen=True)
class CheckOutcome:
    """`passed`; `description` = what was compared; `metadata` = numbers shown in the UI;
    `failures` = human-readable offenders (e.g. "S12 (OSD-48): -3 in gene ENSMUSG..."), at most
    `MAX_FAILURES_SHOWN` plus one "... and N more" line when built with `from_failures`."""

    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @classmethod
    def from_failures(
        cls,
        description: str,
        failures: Iterable[str],
        metadata: dict[str, Any] | None = None,
        *,
        limit: int = MAX_FAILURES_SHOWN,
    ) -> "CheckOutcome":
        """Passed iff there is no failure; records `n_failures` and keeps the first `limit` offenders."""
        failures = [str(f) for f in failures]
        return cls(
            passed=not failures,
            description=description,
            metadata={**(metadata or {}), "n_failures": len(failures)},
            failures=truncate_failures(failures, limit),
        )


def truncate_failures(failures: list[str], limit: int = MAX_FAILURES_SHOWN) -> list[str]:
    """First `limit` offenders, then a line saying how many were left out."""
    if len(failures) <= limit:
        return list(failures)
    return list(failures[:limit]) + [f"... and {len(failures) - limit} more"]
