"""A real dask.distributed cluster for tests and benchmarks: `dask scheduler` and `dask worker`
started as separate OS processes on 127.0.0.1 (not an in-process LocalCluster), stopped afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

DASK = Path(sys.executable).with_name("dask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dask_processes(n_workers: int = 2, env: dict | None = None, log_dir: Path | None = None):
    """Yield (address, worker pids). Every process gets its own session so that stopping it also
    stops the worker process its nanny forked; only the processes started here are signalled."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    # Workers resolve the run config too (dagster-dask rebuilds the plan on the worker), so they need
    # the variable deploy/dask/run_config.yaml reads the address from, as in deploy/README.md.
    env = {**os.environ, **(env or {}), "GENEBENCH_DASK_SCHEDULER": address}
    procs: list[subprocess.Popen] = []
    logs = []

    def start(args, name):
        log = open(log_dir / f"{name}.log", "w") if log_dir else subprocess.DEVNULL
        if log_dir:
            logs.append(log)
        procs.append(subprocess.Popen([str(DASK), *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))

    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], "scheduler")
        for i in range(n_workers):
            start(["worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                   "--name", f"genebench-worker-{i}", "--memory-limit", "0"], f"worker-{i}")
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(n_workers, timeout=120)
            pids = sorted(client.run(os.getpid).values())  # asks each worker process itself
        yield address, pids
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for log in logs:
            log.close()
