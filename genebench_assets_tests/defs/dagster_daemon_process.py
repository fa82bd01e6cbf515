"""A real `dagster-daemon run` process for tests: started in its own session (so the code server and
the run workers it spawns share its process group), stopped afterwards with SIGTERM, then SIGKILL
after a bounded grace period. Only the processes started here are signalled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

DAGSTER_DAEMON = Path(sys.executable).with_name("dagster-daemon")


@contextmanager
def dagster_daemon(env: dict, log: Path, cwd: Path, module: str = "genebench_assets.definitions"):
    """Yield the running daemon (Popen) serving the code location `module`."""
    with open(log, "w") as out:
        proc = subprocess.Popen([str(DAGSTER_DAEMON), "run", "-m", module], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            # Run workers the daemon launched are in its process group: none may outlive the test.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def instance_event_pages(instance):
    """A RunEventTracker source reading a DagsterInstance directly: status and new events of each run."""

    def fetch(requests):
        out = {}
        for rid, cursor in requests.items():
            run = instance.get_run_by_id(rid)
            conn = instance.get_records_for_run(rid, cursor=cursor, limit=1000)
            events = []
            for rec in conn.records:
                entry = rec.event_log_entry
                events.append({"type": entry.dagster_event_type.name if entry.dagster_event_type else "LOG",
                               "message": entry.user_message or entry.message or "",
                               "step": entry.step_key, "timestamp": entry.timestamp})
            out[rid] = {"status": run.status.value if run else "?", "job_name": run.job_name if run else "",
                        "partition": run.tags.get("dagster/partition") if run else None,
                        "events": events, "cursor": conn.cursor, "has_more": conn.has_more}
        return out

    return fetch


def wait_for(predicate, idle_timeout: float | None, what: str, proc: subprocess.Popen | None = None,
             log: Path | None = None, every: float = 1.0, runs=None, instance=None,
             ceiling: float | None = None):
    """Poll `predicate` until it returns something truthy, as long as something progresses; fail naming
    `what` (and the daemon log tail) after `idle_timeout` s without progress (None: the e2e default,
    GENEBENCH_E2E_IDLE_SECONDS, 300 s), or at once if the daemon exits.

    Progress: with `runs` (a callable returning the run ids to follow) and `instance`, new runs, run
    status changes and new events in their event logs (the failure then names the stuck run, its
    status and its last event); without, the daemon's log growing (start-up). Not the log with runs:
    the daemon logs every sensor evaluation, a heartbeat that would hide a stuck run."""
    from genebench_assets_tests.e2e.progress import Observation, RunEventTracker, StalledWait, wait_with_progress

    tracker = RunEventTracker(instance_event_pages(instance)) if runs is not None else None

    def check() -> None:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"dagster-daemon exited ({proc.returncode}) while waiting for {what}: "
                                 + (log.read_text()[-3000:] if log else ""))

    def observe() -> Observation:
        value = predicate()
        if value:
            return Observation(done=True, value=value)
        if tracker is not None:
            tracker.update(runs())
            progress = tracker.fingerprint()
        else:
            progress = log.stat().st_size if log is not None and log.exists() else 0
        return Observation(done=False, progress=progress,
                           summary=f"{len(tracker.runs)} runs, {tracker.total_events} events" if tracker else "")

    def describe() -> str:
        text = tracker.stuck_report() if tracker is not None else ""
        return text + ("\ndaemon log tail:\n" + log.read_text()[-3000:] if log else "")

    try:
        return wait_with_progress(observe, what=f"waiting for {what}", idle_timeout=idle_timeout, ceiling=ceiling,
                                  poll=every, describe_stuck=describe, check=check)
    except StalledWait as exc:
        raise AssertionError(str(exc)) from None
