"""What went wrong in a run, in a few lines a user can act on: each failed check with what it found,
each failed step with its root cause in one line (not Dagster's "Execution of step ... failed"), and
the assets that were planned but not materialized because of them."""

from __future__ import annotations

import re

import dagster as dg

MAX_LINE = 600


def one_line(text: str) -> str:
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def root_cause(event: dg.DagsterEvent) -> str:
    """The user's own message: a dg.Failure's description, else the outermost exception in the chain
    that is not Dagster's wrapper ("Error occurred while executing op ..."). Not the innermost: our
    errors name the study, file and field, and are raised *from* the library error that caused them
    (a gzip file named .csv: "OSD-48: <file>: not a UTF-8 text file" from a bare UnicodeDecodeError)."""
    data = event.event_specific_data
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        return one_line(user.description)
    err = getattr(data, "error", None)
    if err is None:
        return one_line(event.message)
    while (err.cls_name or "").startswith("Dagster") and (err.cause is not None or err.context is not None):
        err = err.cause or err.context
    message = err.message.strip()
    # SerializableErrorInfo messages read "module.ClassName: text"; keep the bare class name.
    head, sep, rest = message.partition(": ")
    if sep and "." in head and " " not in head:
        message = f"{head.rsplit('.', 1)[-1]}: {rest}"
    return one_line(message)


def _check_detail(data) -> str:
    meta = data.metadata or {}
    failures = getattr(meta.get("failures"), "value", None) or getattr(meta.get("failures"), "md_str", None)
    if failures:
        items = [ln.lstrip("- ").strip() for ln in str(failures).splitlines() if ln.strip()]
        more = f" (+{len(items) - 3} more)" if len(items) > 3 else ""
        return "; ".join(items[:3]) + more
    compared = getattr(meta.get("compared"), "value", None)
    return str(compared or "")


def failed_error_checks(events: list[dg.DagsterEvent]) -> list[str]:
    """"check on asset" for every failed check evaluation of severity ERROR in a run, blocking or not:
    a run with one is not ok, even when Dagster calls it a success (a non-blocking check)."""
    out: list[str] = []
    for ev in events:
        if ev.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        data = ev.event_specific_data
        if data.passed or data.severity != dg.AssetCheckSeverity.ERROR:
            continue
        name = f"{data.check_name} on {data.asset_key.to_user_string()}"
        if data.partition:
            name += f" [{data.partition}]"
        if name not in out:
            out.append(name)
    return out


def run_outcome(instance: dg.DagsterInstance, result) -> tuple[bool, list[str], list[str]]:
    """(ok, failed ERROR checks, summary lines) of a finished run, as `genebench materialize` reports it:
    ok only if the run succeeded and no check of severity ERROR failed."""
    checks = failed_error_checks(result.all_events)
    ok = bool(result.success) and not checks
    return ok, checks, ([] if ok else run_failure_lines(instance, result))


def planned_assets(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The assets a run planned to materialize, in plan order (the instance records these when the
    run is created; they are not among an in-process result's events)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED).records
    keys: list[str] = []
    for r in records:
        key = r.event_log_entry.dagster_event.event_specific_data.asset_key.to_user_string()
        if key not in keys:
            keys.append(key)
    return keys


def run_failure_lines(instance: dg.DagsterInstance, result) -> list[str]:
    return failure_lines(result.all_events, planned=planned_assets(instance, result.run_id))


def failure_lines(events: list[dg.DagsterEvent], planned: list[str] = ()) -> list[str]:
    """One line per failed check and per failed step, then one line naming the skipped assets."""
    lines: list[str] = []
    materialized, failed_assets = set(), set()
    for ev in events:
        kind = ev.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            materialized.add(ev.asset_key.to_user_string())
        elif kind == "ASSET_CHECK_EVALUATION" and not ev.event_specific_data.passed:
            data = ev.event_specific_data
            blocking = " (blocking)" if getattr(data, "blocking", False) else ""
            lines.append(one_line(f"check {data.check_name} on {data.asset_key.to_user_string()} "
                                  f"failed{blocking}: {_check_detail(data)}"))
        elif ev.is_step_failure:
            err = getattr(ev.event_specific_data, "error", None)
            if err is not None and err.cls_name == "DagsterAssetCheckFailedError":
                continue  # the failed check's own line above says more
            failed_assets.add(ev.step_key)
            lines.append(f"step {ev.step_key} failed: {root_cause(ev)}")
    skipped = [k for k in planned if k not in materialized and k not in failed_assets]
    if skipped and lines:
        lines.append(f"skipped (not materialized): {', '.join(skipped)}")
    return lines
