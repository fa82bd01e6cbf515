"""A real `dagster-daemon run` process for tests: started in its own session (so the code server and
the run workers it spawns share its process group), stopped afterwards with SIGTERM, then SIGKILL
after a bounded grace period. Only the processes started here are signalled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None,
             every: float = 1.0):
    """Poll `predicate` until it returns something truthy; fail naming `what` (and the daemon log tail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"dagster-daemon exited ({proc.returncode}) while waiting for {what}: "
                                 + (log.read_text()[-3000:] if log else ""))
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}"
                         + (": " + log.read_text()[-3000:] if log else ""))
