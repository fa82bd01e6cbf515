"""Killed runs end as failed (issue 10, item 7).

Dagster's run monitoring (in `dagster-daemon`) asks the run launcher whether a STARTED run's worker
is still alive; the stock DefaultRunLauncher cannot answer, so a run killed with SIGKILL stayed
STARTED for good. `LocalRunLauncher` is the DefaultRunLauncher plus that answer, for run workers on
this machine (the DefaultRunLauncher's own premise): the run's engine events record the pid of the
process that executes it (`EngineEventData.in_process(pid)`: "Started process for run (pid: N)" for
launched runs; with `step_keys`, the executor's "Executing steps ... (pid: N)" for `genebench
materialize`'s in-process runs). A pid that is gone, a zombie, or now a process started after the event
that recorded it (the pid reused: psutil's create time) means the worker died, and the daemon marks the
run failed within one poll interval.

`INSTANCE_YAML` is what `genebench` writes to `$DAGSTER_HOME/dagster.yaml` when there is none."""

from __future__ import annotations

import dagster as dg
import psutil

from genebench_assets.defs.runtime.dagster_internals import CheckRunHealthResult, WorkerStatus

POLL_INTERVAL_SECONDS = 5
# A process created more than this after the event that recorded its pid is another process (pid reuse);
# the margin covers the create time's resolution (clock ticks since boot).
PID_REUSE_MARGIN_SECONDS = 1.0

INSTANCE_YAML = f"""\
# Written by genebench (genebench_assets/defs/runtime/run_monitoring.py). Run monitoring needs
# `dagster-daemon run` (started by `dagster dev`): a run whose worker died (e.g. SIGKILL) is marked
# FAILURE within ~{POLL_INTERVAL_SECONDS} s; a run stuck starting or cancelling is ended after 60 s.
run_launcher:
  module: genebench_assets.defs.runtime.run_monitoring
  class: LocalRunLauncher
run_monitoring:
  enabled: true
  start_timeout_seconds: 60
  cancel_timeout_seconds: 60
  max_resume_run_attempts: 0
  poll_interval_seconds: {POLL_INTERVAL_SECONDS}
# No usage statistics, and so no telemetry banner on the first command (set to true to send them).
telemetry:
  enabled: false
"""


def run_worker(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, when it was recorded) of the process executing the run, from its engine events' metadata:
    the launched worker's (a pid without step keys) if any, else the executor's (a pid with step keys)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50).records
    launched, in_process = None, None
    for record in records:
        event = record.event_log_entry.dagster_event
        metadata = getattr(event.event_specific_data, "metadata", None) if event else None
        pid = getattr((metadata or {}).get("pid"), "value", None)
        if pid is None:
            continue
        found = (int(pid), float(record.event_log_entry.timestamp))
        if "step_keys" not in metadata:
            launched = launched or found
        else:
            in_process = in_process or found
    return launched or in_process


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the process executing the run (see `run_worker`)."""
    worker = run_worker(instance, run_id)
    return worker[0] if worker else None


def pid_alive(pid: int, recorded_at: float | None = None) -> bool:
    """Whether `pid` is a live process (not a zombie: a killed child its parent has not reaped yet) that
    already existed at `recorded_at` (a later process that reuses the pid is not the run worker)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return recorded_at is None or proc.create_time() <= recorded_at + PID_REUSE_MARGIN_SECONDS
    except psutil.NoSuchProcess:  # includes ZombieProcess
        return False
    except psutil.AccessDenied:
        return True  # someone else's process with that pid: cannot tell, assume alive


class LocalRunLauncher(dg.DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        worker = run_worker(self._instance, run.run_id)
        if worker is None:
            # Anything but RUNNING fails the run; a STARTED run records its pid within moments.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker pid recorded yet")
        pid, recorded_at = worker
        if pid_alive(pid, recorded_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} alive")
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker pid {pid} is gone (killed?)",
                                    run_worker_id=str(pid))
