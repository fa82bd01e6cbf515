"""The runs of `genebench materialize`, their order, and two runs at a time (issue 22: both cores used).

`plan_runs` lists every run the command makes (catalog, each study, each tissue, optional NES and
Category B-D runs) with the runs that must have ENDED before it starts. "Ended", not "succeeded": a
run after a failed one still runs, and every reader in it asks the read gate (defs/gating/read_gate.py)
whether its inputs passed their checks, exactly as when the runs went one after another. Only the
catalog is `required`: when it fails nothing else is started (nothing can be read without it).

`run_concurrently` starts each run as soon as the runs it needs have ended, up to `lanes` at once, in
plan order (a tissue's own runs come before the next tissue's studies): while tissue A's models are
fitted on the fit pool's workers, the other lane normalizes and scores tissue B's studies, so the
single-threaded steps (parsing, normalization, GSVA, folds, checks, evaluation) no longer leave a core
idle. Each lane is a spawned process that imports the code location once and executes runs in-process
there (`lane_execute`), so one lane's Python never waits for the other's (a thread would: the GIL). The
instance is the same persistent instance for both (SQLite handles concurrent runs as under `dagster dev`;
TableStore's promotion is locked across processes).

No Dagster import at module level: `plan_runs` and `run_concurrently` are plain Python (unit-tested)."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


@dataclass(frozen=True)
class PlannedRun:
    job: str
    partition: Any          # None, a tissue, or {"tissue": t, "mission": m} (a MultiPartitionKey)
    label: str
    after: tuple[int, ...] = ()   # indexes of the runs that must have ended first
    required: bool = False        # when it fails, nothing else is started

    @property
    def title(self) -> str:
        return f"{self.job} {self.label}".strip()


@dataclass
class _Plan:
    runs: list[PlannedRun] = field(default_factory=list)

    def add(self, job: str, partition, label: str, after: Sequence[int] = (), required: bool = False) -> int:
        self.runs.append(PlannedRun(job, partition, label, tuple(after), required))
        return len(self.runs) - 1


def plan_runs(pairs: Sequence[tuple[str, str]], tissues: Sequence[str], *, nes: bool = False,
              categories: bool = False, final_jobs: Sequence[tuple[str, str]] = ()) -> list[PlannedRun]:
    """The runs of `genebench materialize` for `tissues` (in order) and the catalog's (tissue, mission)
    `pairs`, each tissue's studies then the tissue itself; `final_jobs` ((job, label), unpartitioned)
    run after everything else."""
    plan = _Plan()
    catalog = plan.add("catalog_job", None, "catalog + gene sets", required=True)
    studies: dict[str, list[int]] = {}
    tissue_runs: dict[str, int] = {}
    for tissue in tissues:
        studies[tissue] = [plan.add("study_job", {"tissue": t, "mission": m}, f"{t} {m}", [catalog])
                           for t, m in pairs if t == tissue]
        tissue_runs[tissue] = plan.add("tissue_job", tissue, tissue, [catalog, *studies[tissue]])
    nes_runs: list[int] = []
    if nes:
        for tissue in tissues:
            nes_studies = [plan.add("nes_study_job", {"tissue": t, "mission": m}, f"{t} {m}", [study])
                           for (t, m), study in zip(((t, m) for t, m in pairs if t == tissue), studies[tissue])]
            nes_runs.append(plan.add("nes_tissue_job", tissue, tissue, [catalog, *nes_studies]))
    transfer_runs: list[int] = []
    if categories:
        # Category B (genes and pathways) + negative controls per tissue, then NES vs our transfer AUROCs.
        for tissue in tissues:
            transfer_runs.append(plan.add("transfer_tissue_job", tissue, tissue,
                                          [catalog, *studies[tissue], tissue_runs[tissue]]))
        transfer_runs.append(plan.add("transfer_summary_job", None, "NES vs transfer",
                                      [catalog, *nes_runs, *transfer_runs]))
    everything = list(range(len(plan.runs)))
    for job, label in final_jobs:
        plan.add(job, None, label, everything)
    return plan.runs


def run_concurrently(plan: Sequence[PlannedRun], start: Callable[[int], concurrent.futures.Future],
                     on_end: Callable[[int, Any], bool], on_start: Callable[[int], None] | None = None,
                     lanes: int = 2) -> list[int]:
    """Start run i with `start(i)` (a Future) once every run in its `after` has ended, at most `lanes`
    at a time, in plan order; `on_end(i, result)` (in this process, as each ends) says whether it was
    ok. Returns the indexes of the runs never started (after a required run failed). An exception of a
    run (not a failed run: a crash of the command itself) propagates after the others are cancelled."""
    ended: set[int] = set()
    running: dict[concurrent.futures.Future, int] = {}
    waiting = list(range(len(plan)))
    stop = False
    while (waiting and not stop) or running:
        if not stop:
            for i in [i for i in waiting if all(d in ended for d in plan[i].after)]:
                if len(running) >= lanes:
                    break
                waiting.remove(i)
                if on_start:
                    on_start(i)
                running[start(i)] = i
        if not running:  # nothing can start: a dependency that is not in the plan (a bug in the plan)
            raise RuntimeError(f"runs {[plan[i].title for i in waiting]} wait for runs that never start")
        done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in sorted(done, key=lambda f: running[f]):
            i = running.pop(future)
            ended.add(i)
            ok = on_end(i, future.result())  # re-raises a crash of the run's process
            if not ok and plan[i].required:
                stop = True
    return waiting if stop else []


# ---- the lanes: spawned processes that execute runs in-process --------------------------------

_LANE: dict[str, Any] = {}


def _lane_start(log_path: str | None) -> None:
    """Each lane's start: Dagster's console log (stderr) into the log file, the code location loaded."""
    if log_path:
        sys.stderr = open(log_path, "a", buffering=1)  # noqa: SIM115 - the lane's stderr for its lifetime
    import dagster as dg

    try:
        from genebench_assets.definitions import defs
    except Exception as exc:  # noqa: BLE001 - a bad GENEBENCH_EXECUTOR_CONFIG, catalog, ...: one line (lane_loaded)
        _LANE["load_error"] = " ".join(str(exc).split())[:600] or type(exc).__name__
        return
    _LANE["defs"], _LANE["instance"] = defs, dg.DagsterInstance.get()


def lane_loaded() -> str | None:
    """None when this lane loaded the code location, else why not (one line); asked once before any run, so
    the command can stop with that line instead of failing every run."""
    return _LANE.get("load_error")


def lane_execute(job: str, partition, tags: dict) -> tuple[bool, list[str], list[str]]:
    """One run in this lane, in-process: (ok, failed ERROR checks, report lines) of run_report.run_outcome."""
    import dagster as dg

    from genebench_assets.defs.runtime.execution import execute_for_cli
    from genebench_assets.defs.runtime.run_report import run_outcome

    if "defs" not in _LANE:
        _lane_start(None)
    key = dg.MultiPartitionKey(partition) if isinstance(partition, dict) else partition
    result = execute_for_cli(_LANE["defs"], _LANE["instance"], job, key, tags=tags)
    return run_outcome(_LANE["instance"], result)


def lane_pool(lanes: int, log_path: str | os.PathLike | None) -> concurrent.futures.ProcessPoolExecutor:
    """`lanes` spawned processes (the environment, DAGSTER_HOME and the settings the command set, are
    inherited), each loading the code location as it starts, so both load at once."""
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=lanes, mp_context=multiprocessing.get_context("spawn"),
        initializer=_lane_start, initargs=(str(log_path) if log_path else None,))
    for _ in range(lanes):  # start every lane now (a spawn pool starts one per task while none is idle)
        pool.submit(os.getpid)
    return pool


def stop_lanes(pool: concurrent.futures.ProcessPoolExecutor, clean: bool) -> None:
    """Shut the lanes down; after an interrupt or a crash, kill them without waiting for their runs."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=clean, cancel_futures=True)
    if not clean:
        for p in processes:
            if p.is_alive():
                p.kill()
        for p in processes:
            p.join(timeout=5)
