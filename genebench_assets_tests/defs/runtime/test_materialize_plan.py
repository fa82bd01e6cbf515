"""The runs of `genebench materialize` and how two run at a time (defs/runtime/materialize_plan.py):
each tissue after its studies, B-D after the tissue, the final jobs after everything, never more runs
at once than lanes, nothing started after a failed catalog, and a crash of a run stops the command."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest

from genebench_assets.defs.runtime.materialize_plan import plan_runs, run_concurrently

PAIRS = [("eye", "RR-1"), ("eye", "RR-3"), ("liver", "RR-1"), ("liver", "RR-9"), ("kidney", "RR-1")]


def _index(plan, title):
    return next(i for i, r in enumerate(plan) if r.title == title)


def test_each_tissue_runs_after_its_studies_and_the_final_jobs_after_everything():
    plan = plan_runs(PAIRS, ["eye", "liver"], nes=True, categories=True, final_jobs=[("results_job", "leaderboards")])
    titles = [r.title for r in plan]
    assert titles[0] == "catalog_job catalog + gene sets" and plan[0].required
    assert not any("kidney" in t for t in titles)  # only the tissues asked for
    eye = _index(plan, "tissue_job eye")
    assert set(plan[eye].after) == {0, _index(plan, "study_job eye RR-1"), _index(plan, "study_job eye RR-3")}
    # plan order: eye's tissue run comes before liver's studies, so it starts first when eye is ready
    assert eye < _index(plan, "study_job liver RR-1")
    nes = _index(plan, "nes_study_job liver RR-9")
    assert _index(plan, "study_job liver RR-9") in plan[nes].after
    transfer = _index(plan, "transfer_tissue_job liver")
    assert _index(plan, "tissue_job liver") in plan[transfer].after
    summary = _index(plan, "transfer_summary_job NES vs transfer")
    assert {transfer, _index(plan, "nes_tissue_job eye"), _index(plan, "nes_tissue_job liver")} <= set(plan[summary].after)
    assert set(plan[-1].after) == set(range(len(plan) - 1)) and plan[-1].job == "results_job"


def _run(plan, lanes, outcome=lambda i: True, seconds=0.02):
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=8)
    lock, running, peak, order, ended = threading.Lock(), [0], [0], [], []

    def body(i):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            order.append(i)
            assert all(d in ended for d in plan[i].after), (plan[i].title, plan[i].after, ended)
        time.sleep(seconds)
        with lock:
            running[0] -= 1
        return outcome(i)

    def on_end(i, ok):
        ended.append(i)
        return ok

    never = run_concurrently(plan, lambda i: pool.submit(body, i), on_end, lanes=lanes)
    pool.shutdown()
    return never, peak[0], order


@pytest.mark.parametrize("lanes", [1, 2, 3])
def test_never_more_runs_at_once_than_lanes_and_every_run_after_what_it_needs(lanes):
    plan = plan_runs(PAIRS, ["eye", "liver", "kidney"], categories=True)
    never, peak, order = _run(plan, lanes)
    assert never == [] and sorted(order) == list(range(len(plan)))
    assert peak == lanes  # ... and with two or more, runs did overlap


def test_a_failed_run_does_not_stop_the_others_but_a_failed_catalog_stops_everything():
    plan = plan_runs(PAIRS, ["eye", "liver"])
    never, _, order = _run(plan, 2, outcome=lambda i: plan[i].title != "study_job eye RR-1")
    assert never == [] and len(order) == len(plan)  # the eye tissue run still runs (its reader refuses)
    never, _, order = _run(plan, 2, outcome=lambda i: i != 0)
    assert order == [0] and sorted(never) == list(range(1, len(plan)))


def test_a_crash_of_a_run_stops_the_command():
    plan = plan_runs(PAIRS, ["eye"])

    def boom(i):
        if i == 1:
            raise RuntimeError("lane died")
        return True

    with pytest.raises(RuntimeError, match="lane died"):
        _run(plan, 2, outcome=boom)
