"""Run independent fits on worker processes that never outlive the run that started them.

joblib's loky backend keeps a reusable pool of workers alive after `Parallel` returns (idle timeout
300 s) and, when the run process is killed with SIGKILL, the workers are orphaned: issue 10 saw them
for over 10 minutes. Here every pool belongs to one `map_in_workers` call or one `with worker_pool(...)`
block inside an asset body:

- workers are spawned (not forked: the parent has threads) and ask Linux to SIGKILL them when their
  parent dies (prctl PR_SET_PDEATHSIG), so even a SIGKILLed run takes its workers with it;
- on any exit from the call or block (result, exception, KeyboardInterrupt / Dagster's termination)
  pending tasks are cancelled and, unless it ended normally, the workers are killed in a `finally`.

Results come back in task order, so they do not depend on the number of processes.

Scheduling: with `costs`, tasks are submitted longest first (LPT), so the processes finish together
instead of one fitting the last big model alone; `on_done(i)` is called in the calling process as
task i finishes (progress in the run log). Neither changes any result.

Start-up: a spawned worker is a fresh interpreter that imports numpy, pandas and scikit-learn (and
xgboost) before its first fit, about a CPU second each. `worker_pool(n_jobs, preload=...)` starts the
workers and those imports at once, so they happen while the caller still reads and builds the fit
inputs; `map_in_workers(..., pool=pool)` then runs on them. Also nothing that changes a result."""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import importlib
import multiprocessing
import os
import signal
import sys
import time
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


def start_worker(parent_pid: int, preload: Sequence[str] = ()) -> None:
    """Worker initializer: die with the parent, then import what the fits will need (`preload`)."""
    die_with_parent(parent_pid)
    for module in preload:
        if module.startswith("?"):  # optional (a plug-in's module): a failure or hang is the fit's to report
            _optional_import(module[1:])
        else:
            importlib.import_module(module)


def _optional_import(module: str, limit: float = 60.0) -> None:
    """Import `module` now if it imports within `limit` seconds; any failure is left for the fit (which
    imports it again and reports in one line, science/models/plugins.py)."""
    class _Slow(Exception):
        pass

    def on_alarm(signum, frame):
        raise _Slow()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        importlib.import_module(module)
    except (Exception, _Slow):  # noqa: BLE001
        sys.modules.pop(module, None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def lpt_order(costs: Sequence[float]) -> list[int]:
    """Task indices, longest expected first (ties keep task order): the longest-processing-time
    rule, which keeps the last finishing process from running alone for long."""
    return sorted(range(len(costs)), key=lambda i: (-float(costs[i]), i))


# Relative cost per (training sample x feature) of one fit, by model kind: only the order fits
# start in depends on it (longest first), never a result. From the fit times model_predictions
# records (model_fit_times): saga elastic-net LR runs thousands of epochs on gene features, XGBoost
# (200 trees, depth 3) is the next, RF and PCA-LR are cheap, the negative control costs nothing.
FIT_COST_PER_CELL = {"lr": 1.0, "xgb": 0.3, "rf": 0.05, "pca_lr": 0.01, "negative_control": 0.0}


def expected_fit_cost(model: str, n_train: int, n_features: int) -> float:
    """Relative expected cost of fitting `model` (a positive control costs what its model costs)."""
    from genebench_assets.science.models.classifiers import MODEL_CONFIGS

    name = model.split(":", 1)[1] if ":" in model else model
    kind = MODEL_CONFIGS[name].kind if name in MODEL_CONFIGS else name
    return float(n_train) * float(n_features) * FIT_COST_PER_CELL.get(kind, 0.1)


# "N:DIR": at most N fits at once across every process that shares DIR. `genebench materialize` runs two
# runs at a time (defs/runtime/materialize_plan.py), each with its own fit pool: without a shared limit two
# tissues' fits put four workers on two cores, which costs CPU time (measured: 432 -> 478 CPU-s) and
# doubles memory without finishing sooner. With it, one lane's fits wait while the other's run, and the
# single-threaded steps of either lane fill the gaps.
FIT_SLOTS_ENV = "GENEBENCH_FIT_SLOTS"


@contextlib.contextmanager
def cpu_slot(spec: str | None = None):
    """Hold one of N slots (an exclusive flock on DIR/slot-<i>.lock) while the block runs; no-op without a spec
    (GENEBENCH_FIT_SLOTS unset). The kernel releases a slot when its process dies, even by SIGKILL."""
    import fcntl

    spec = os.environ.get(FIT_SLOTS_ENV, "") if spec is None else spec
    if not spec:
        yield
        return
    count, _, folder = spec.partition(":")
    while True:
        for i in range(max(1, int(count))):
            fd = os.open(os.path.join(folder, f"slot-{i}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
                return
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        time.sleep(0.02)


def in_cpu_slot(fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args) once a CPU slot is free (a worker's task under GENEBENCH_FIT_SLOTS): the fit's own timings,
    time limit and watchdog start after the wait."""
    with cpu_slot():
        return fn(*args)


def single_threaded(fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args) with one BLAS/OpenMP thread: floating-point sums (PCA's SVD) then do not depend on
    how many threads a process gets, so results are the same for any n_jobs. It is also faster on a
    shared 2-core machine: two workers with two BLAS threads each spin against each other."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return fn(*args)


def timed_fit_predict(model: str, X_train, y_train, X_test, seed: int):
    """(P(Flight) of the test rows, fit + predict seconds) of one single-threaded fit; a top-level
    science function so a spawned worker imports only the science core, not the Dagster wiring."""
    import functools

    from genebench_assets.science.models.classifiers import fit_predict

    t0 = time.perf_counter()
    scores, _ = single_threaded(functools.partial(fit_predict, seed=seed), model, X_train, y_train, X_test)
    return scores, time.perf_counter() - t0


def guarded_fit(model: str, X_train, y_train, X_test, seed: int, timeout: float | None = None,
                probe_seed: int | None = None) -> dict:
    """One fit as model_predictions runs it (built-in or plug-in), never raising for the model's faults.

    model: a built-in name (`fit_predict`) or `plugin:NAME=MODULE:FACTORY` (science/models/plugins.py:
    imported here by spec, output checked, SIGALRM after `timeout` seconds; a worker that does not react is
    killed by a watchdog; `probe_seed`: the label-blindness probe, plugins.fit_plugin). Returns {scores,
    fit_seconds, cpu_seconds, probe_cpu_seconds, peak_rss_mb, error}: error is one line (None when the fit
    succeeded); cpu_seconds is this process's user + system CPU during the fit and prediction, the same
    work a built-in does; probe_cpu_seconds the label-blindness probe's own (one more predict_proba, on one
    fit per plug-in and tissue), counted apart so the two kinds of model compare fit for fit;
    peak_rss_mb the process's peak resident memory after it (a worker's own, when run in one)."""
    import functools
    import resource
    import threading

    from genebench_assets.science.models.plugins import PLUGIN_PREFIX, PluginError, fit_plugin

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    t0, c0 = time.perf_counter(), cpu()
    watchdog = None
    error, scores, probe_cost = None, None, {"probe_cpu_seconds": 0.0}
    try:
        if model.startswith(PLUGIN_PREFIX):
            if timeout and multiprocessing.parent_process() is not None:
                # a fit stuck in native code ignores SIGALRM: the worker ends itself 10 s later
                watchdog = threading.Timer(float(timeout) + 10.0, os.kill, (os.getpid(), signal.SIGKILL))
                watchdog.daemon = True
                watchdog.start()
            scores = single_threaded(functools.partial(fit_plugin, cost=probe_cost), model[len(PLUGIN_PREFIX):],
                                     X_train, y_train, X_test, seed, timeout, probe_seed)
        else:
            from genebench_assets.science.models.classifiers import fit_predict

            scores, _ = single_threaded(functools.partial(fit_predict, seed=seed), model, X_train, y_train, X_test)
    except PluginError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - reported in one line by the caller
        error = f"raised {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    finally:
        if watchdog is not None:
            watchdog.cancel()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    probe_cpu = probe_cost["probe_cpu_seconds"]
    return {"scores": scores, "fit_seconds": time.perf_counter() - t0, "cpu_seconds": cpu() - c0 - probe_cpu,
            "probe_cpu_seconds": probe_cpu, "peak_rss_mb": round(peak, 1), "error": error,
            "label_blind_probe": probe_seed is not None}


@contextlib.contextmanager
def worker_pool(n_jobs: int, *, preload: Sequence[str] = (), force: bool = False,
                shared: concurrent.futures.ProcessPoolExecutor | None = None):
    """A pool of n_jobs spawned workers, started now (each imports `preload` as it starts), for
    `map_in_workers(..., pool=...)`; None when n_jobs <= 1 (fits then run in the calling process).
    On any exit the workers are shut down; on an exception (or Dagster's termination) pending
    tasks are cancelled and running workers killed, without waiting for running fits.
    shared: workers a caller's own `worker_pool` block started earlier (e.g. a command, before it loaded
    Dagster, for every step of its run): yielded as they are and left to that block to stop."""
    if shared is not None:
        yield shared
        return
    if n_jobs <= 1 and not force:  # force: one worker even for n_jobs 1 (plug-in code never runs in the run process)
        yield None
        return
    n_jobs = max(1, n_jobs)
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker, initargs=(os.getpid(), tuple(preload)))
    # A spawn-context pool starts a worker per submitted task while none is idle: n_jobs no-op tasks
    # start all of them now, so their start-up overlaps whatever the caller does next.
    for _ in range(n_jobs):
        pool.submit(os.getpid)
    clean_exit = False
    try:
        yield pool
        clean_exit = True
    finally:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=clean_exit, cancel_futures=True)
        if not clean_exit:
            for p in processes:  # a failed or interrupted run does not wait for running fits
                if p.is_alive():
                    p.kill()
            # The pool's manager thread may reap a killed worker first (waitpid in two threads): join then
            # returns with the exit code still unset until that thread records it. Wait for the record, so a
            # caller that lists the children right after (multiprocessing.active_children) sees none.
            deadline = time.monotonic() + 5
            for p in processes:
                p.join(timeout=max(0.0, deadline - time.monotonic()))
                while p.exitcode is None and time.monotonic() < deadline:
                    time.sleep(0.01)


def map_in_workers(fn: Callable[..., Any], arg_tuples: Iterable[Sequence[Any]], n_jobs: int, *,
                   costs: Sequence[float] | None = None, on_done: Callable[[int], None] | None = None,
                   pool: concurrent.futures.ProcessPoolExecutor | None = None) -> list[Any]:
    """[fn(*args) for args in arg_tuples], on up to n_jobs worker processes (in-process if n_jobs <= 1).

    costs: expected relative cost of each task (any unit); longest are started first.
    on_done: called with the task index as each task finishes, in the calling process.
    pool: workers already started by `worker_pool` (the caller's `with` block shuts them down);
    without it the call starts and stops its own."""
    arg_tuples = list(arg_tuples)
    if costs is not None and len(costs) != len(arg_tuples):
        raise ValueError(f"{len(costs)} costs for {len(arg_tuples)} tasks")
    order = lpt_order(costs) if costs is not None else list(range(len(arg_tuples)))
    if pool is None and (n_jobs <= 1 or len(arg_tuples) <= 1):
        results: list[Any] = [None] * len(arg_tuples)
        for i in order:
            results[i] = fn(*arg_tuples[i])
            if on_done:
                on_done(i)
        return results
    if pool is None:
        with worker_pool(min(n_jobs, len(arg_tuples))) as own:
            return map_in_workers(fn, arg_tuples, n_jobs, costs=costs, on_done=on_done, pool=own)
    # The pool's call queue is FIFO: submission order is start order.
    # Under `genebench materialize`'s two lanes, each fit waits for a machine-wide CPU slot (cpu_slot).
    slotted = bool(os.environ.get(FIT_SLOTS_ENV))
    futures = {(pool.submit(in_cpu_slot, fn, *arg_tuples[i]) if slotted else pool.submit(fn, *arg_tuples[i])): i
               for i in order}
    try:
        results = [None] * len(arg_tuples)
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if on_done:
                on_done(i)
        return results
    except BaseException:
        for future in futures:  # the caller's worker_pool kills what is running
            future.cancel()
        raise
