"""Run independent fits on worker processes that never outlive the run that started them.

joblib's loky backend keeps a reusable pool of workers alive after `Parallel` returns (idle timeout
300 s) and, when the run process is killed with SIGKILL, the workers are orphaned: issue 10 saw them
for over 10 minutes. Here every call gets its own pool:

- workers are spawned (not forked: the parent has threads) and ask Linux to SIGKILL them when their
  parent dies (prctl PR_SET_PDEATHSIG), so even a SIGKILLed run takes its workers with it;
- on any exit from `map_in_workers` (result, exception, KeyboardInterrupt / Dagster's termination)
  pending tasks are cancelled and the workers are killed in a `finally`.

Results come back in task order, so they do not depend on the number of processes."""

from __future__ import annotations

import concurrent.futures
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: SIGKILL this process when its parent dies (Linux; a no-op elsewhere).
    A parent that died while this worker was still starting (before prctl) sends no signal: then
    the parent pid has already changed, and the worker exits at once."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


def map_in_workers(fn: Callable[..., Any], arg_tuples: Iterable[Sequence[Any]], n_jobs: int) -> list[Any]:
    """[fn(*args) for args in arg_tuples], on up to n_jobs worker processes (in-process if n_jobs <= 1)."""
    arg_tuples = list(arg_tuples)
    if n_jobs <= 1 or len(arg_tuples) <= 1:
        return [fn(*args) for args in arg_tuples]
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=min(n_jobs, len(arg_tuples)), mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent, initargs=(os.getpid(),))
    clean_exit = False
    try:
        futures = [pool.submit(fn, *args) for args in arg_tuples]
        results = [f.result() for f in futures]
        clean_exit = True
        return results
    finally:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=clean_exit, cancel_futures=True)
        if not clean_exit:
            for p in processes:  # a failed or interrupted run does not wait for running fits
                if p.is_alive():
                    p.kill()
            for p in processes:
                p.join(timeout=5)
