"""Killed runs end as failed, and take their workers with them (issue 10, item 7).

A real run (recorded in a temp DAGSTER_HOME whose dagster.yaml is the one `genebench` ships) sits in
two model-fitting worker processes; it is killed with SIGKILL. The real `dagster-daemon` (run
monitoring on, as shipped) must mark it FAILURE within a bounded time, and no worker may outlive it
by more than a few seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from genebench_assets.defs.runtime.run_monitoring import INSTANCE_YAML, POLL_INTERVAL_SECONDS
from genebench_assets_tests.e2e.dagster_server import descendants

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _is_fit_worker(pid: int) -> bool:
    """A spawned pool worker (not multiprocessing's resource tracker)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return "spawn_main" in cmdline


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def test_sigkilled_run_is_marked_failed_and_leaves_no_worker(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO)}
    logs = tmp_path / "logs"
    logs.mkdir()

    run = subprocess.Popen([sys.executable, "-m", "genebench_assets_tests.defs.killable_run"], cwd=tmp_path, env=env,
                           stdout=open(logs / "run.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    daemon = None
    try:
        # The run has started and its two fit workers are up.
        def two_workers():
            assert run.poll() is None, (logs / "run.log").read_text()[-3000:]
            started = (logs / "run.log").read_text().count("fit started in worker")
            live = [p for p in descendants(run.pid) if _alive(p) and _is_fit_worker(p)]
            return live if started >= 2 and len(live) >= 2 else None

        workers = _wait(two_workers, 120, "two fit workers under the run")
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        killed_at = time.monotonic()
        # No worker outlives the run by more than a few seconds.
        _wait(lambda: not any(_alive(p) for p in workers), 5, f"fit workers {workers} to die with the run")
        worker_lag = time.monotonic() - killed_at

        with dg.DagsterInstance.from_config(str(home)) as instance:
            [record] = instance.get_run_records()
            assert record.dagster_run.status == dg.DagsterRunStatus.STARTED  # what issue 10 saw, for good
            daemon = subprocess.Popen(
                [str(BIN / "dagster-daemon"), "run", "-m", "genebench_assets_tests.defs.killable_run"],
                cwd=tmp_path, env=env, stdout=open(logs / "daemon.log", "w"), stderr=subprocess.STDOUT,
                start_new_session=True)
            bound = 60 + 2 * POLL_INTERVAL_SECONDS  # daemon start-up, then at most two polls
            failed = _wait(lambda: instance.get_run_by_id(record.dagster_run.run_id).status
                           == dg.DagsterRunStatus.FAILURE, bound, "the daemon to mark the killed run FAILURE")
            assert failed
            print(f"workers gone {worker_lag:.1f}s after SIGKILL; run FAILURE "
                  f"{time.monotonic() - killed_at:.1f}s after SIGKILL (daemon start-up included)")
            messages = [r.event_log_entry.message for r in instance.get_records_for_run(record.dagster_run.run_id).records]
            assert any("is gone" in (m or "") for m in messages), messages[-5:]
        assert worker_lag < 5
    finally:
        if run.poll() is None:
            run.kill()
        if daemon is not None:
            _stop(daemon)


def test_pid_alive_refuses_gone_zombie_and_reused_pids():
    from genebench_assets.defs.runtime.run_monitoring import pid_alive

    assert pid_alive(os.getpid(), time.time())
    assert not pid_alive(os.getpid(), time.time() - 3600)  # a process started after the event: pid reused
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.time() + 30
    while pid_alive(child.pid) and time.time() < deadline:  # exited, not reaped yet: a zombie
        time.sleep(0.05)
    assert not pid_alive(child.pid)
    child.wait()
    assert not pid_alive(child.pid)
