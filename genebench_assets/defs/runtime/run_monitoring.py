"""Killed runs end as failed (issue 10, item 7).

Dagster's run monitoring (in `dagster-daemon`) asks the run launcher whether a STARTED run's worker
is still alive; the stock DefaultRunLauncher cannot answer, so a run killed with SIGKILL stayed
STARTED for good. `LocalRunLauncher` is the DefaultRunLauncher plus that answer, for run workers on
this machine (the DefaultRunLauncher's own premise): the run's engine events record the pid of the
process that executes it ("Started process for run (pid: N)" for launched runs, "Executing steps in
process (pid: N)" for `genebench materialize`'s in-process runs); a pid that is gone or a zombie
means the worker died, and the daemon marks the run failed within one poll interval.

`INSTANCE_YAML` is what `genebench` writes to `$DAGSTER_HOME/dagster.yaml` when there is none."""

from __future__ import annotations

import os

import dagster as dg
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

POLL_INTERVAL_SECONDS = 5

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
"""


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the process executing the run, from its engine events (the launched worker's
    "Started process for run" if any, else the in-process executor's)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50).records
    launched, in_process = None, None
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data if event else None
        pid = getattr(getattr(data, "metadata", {}).get("pid"), "value", None) if data else None
        if pid is None:
            continue
        message = event.message or ""
        if message.startswith("Started process for run") and launched is None:
            launched = int(pid)
        elif message.startswith("Executing steps") and in_process is None:
            in_process = int(pid)
    return launched or in_process


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that pid: cannot tell, assume alive
    try:  # a killed child not yet reaped by its parent is a zombie: dead for our purpose
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class LocalRunLauncher(dg.DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        pid = run_worker_pid(self._instance, run.run_id)
        if pid is None:
            # Anything but RUNNING fails the run; a STARTED run records its pid within moments.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker pid recorded yet")
        if pid_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} alive")
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker pid {pid} is gone (killed?)",
                                    run_worker_id=str(pid))
