"""The one assertion every gated pair's test makes about a later run of a reader: it failed, in one line
naming the refused input (asset and partition) and the blocking check that failed on it."""

from __future__ import annotations


def step_failures(result) -> dict[str, str]:
    return {e.step_key: e.event_specific_data.error.message for e in result.all_events
            if e.event_type_value == "STEP_FAILURE"}


def assert_refused(result, reader: str, asset: str, partition: str | None, check: str) -> str:
    """Returns the one-line message. `partition` None: an unpartitioned input."""
    assert not result.success
    failures = step_failures(result)
    lines = failures[reader].strip().splitlines()
    assert len(lines) == 1, failures[reader]  # one line, no traceback
    label = f"{asset} [{partition}]" if partition else asset
    assert f"refuses {label}" in lines[0] and f"blocking check {check} failed" in lines[0], lines
    return lines[0]
