"""The fit pool: results in task order whatever the number of processes, and a failing fit fails the
call without leaving a worker behind."""

import multiprocessing

import numpy as np
import pytest

from genebench_assets.science.models.classifiers import fit_predict
from genebench_assets.science.models.fit_pool import map_in_workers


def _fit(seed: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 30))
    y = (X[:, 0] + 0.3 * rng.normal(size=40) > 0).astype(int)
    return fit_predict("lr", X[:30], y[:30], X[30:])[0]  # scores; info holds wall times


def _boom(i: int):
    raise ValueError(f"fit {i} failed")


def test_results_equal_in_process_and_in_two_workers():
    tasks = [(s,) for s in range(4)]
    one = map_in_workers(_fit, tasks, n_jobs=1)
    two = map_in_workers(_fit, tasks, n_jobs=2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_failed_fit_fails_the_call_and_leaves_no_worker():
    with pytest.raises(ValueError, match=r"fit \d failed"):
        map_in_workers(_boom, [(0,), (1,)], n_jobs=2)
    assert multiprocessing.active_children() == []


def _started(i: int):
    import os
    import time

    return i, time.monotonic(), os.getpid()


def test_longest_first_schedule_and_completion_callback_keep_results_in_task_order():
    from genebench_assets.science.models.fit_pool import lpt_order

    assert lpt_order([1.0, 5.0, 3.0, 5.0]) == [1, 3, 2, 0]  # ties keep task order
    finished = []
    costs = [1.0, 9.0, 4.0, 2.0]
    for n_jobs in (1, 2):
        finished.clear()
        out = map_in_workers(_started, [(i,) for i in range(4)], n_jobs=n_jobs, costs=costs, on_done=finished.append)
        assert [r[0] for r in out] == [0, 1, 2, 3]  # results in task order whatever ran first
        assert sorted(finished) == [0, 1, 2, 3]
        if n_jobs == 1:  # in process: started strictly longest first
            assert [i for i, _, _ in sorted(out, key=lambda r: r[1])] == [1, 2, 3, 0]
    with pytest.raises(ValueError, match="3 costs for 4 tasks"):
        map_in_workers(_started, [(i,) for i in range(4)], n_jobs=1, costs=[1, 2, 3])


def test_timed_fit_predict_is_single_threaded_and_equal_to_fit_predict():
    from threadpoolctl import threadpool_info

    from genebench_assets.science.models.fit_pool import single_threaded, timed_fit_predict

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 60))
    y = (X[:, 0] > 0).astype(int)
    scores, seconds = timed_fit_predict("pca_lr", X[:30], y[:30], X[30:], 42)
    np.testing.assert_array_equal(scores, single_threaded(fit_predict, "pca_lr", X[:30], y[:30], X[30:])[0])
    assert seconds >= 0
    threads = single_threaded(lambda: {i["internal_api"]: i["num_threads"] for i in threadpool_info()})
    assert all(n == 1 for n in threads.values())


def _loaded(module: str):
    import sys

    return module in sys.modules


def test_worker_pool_starts_its_workers_with_their_imports_before_any_task():
    """The workers exist (and have imported `preload`) as soon as the pool is entered, so their start-up
    overlaps the caller's own work; results are the same as in process; on exit nothing is left."""
    from genebench_assets.science.models.fit_pool import worker_pool

    with worker_pool(2, preload=("xml.dom.minidom",)) as pool:
        assert len(multiprocessing.active_children()) == 2  # started at entry, not at the first task
        assert map_in_workers(_loaded, [("xml.dom.minidom",), ("xml.dom.minidom",)], n_jobs=2, pool=pool) == [True, True]
        tasks = [(s,) for s in range(3)]
        for a, b in zip(map_in_workers(_fit, tasks, n_jobs=2, pool=pool), map_in_workers(_fit, tasks, n_jobs=1)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert multiprocessing.active_children() == []
    with pytest.raises(ValueError, match=r"fit \d failed"):
        with worker_pool(2) as pool:
            map_in_workers(_boom, [(0,), (1,)], n_jobs=2, pool=pool)
    assert multiprocessing.active_children() == []
    with worker_pool(1) as pool:  # one job: no workers, fits in process
        assert pool is None and multiprocessing.active_children() == []


def test_cpu_slots_let_at_most_n_fits_run_at_once_across_processes(tmp_path, monkeypatch):
    """GENEBENCH_FIT_SLOTS (genebench materialize's two lanes): flock slots shared by every process; threads
    here stand in for workers (each open() is its own lock). Without the variable nothing waits."""
    import threading
    import time

    from genebench_assets.science.models.fit_pool import FIT_SLOTS_ENV, cpu_slot, in_cpu_slot

    lock, running, peak = threading.Lock(), [0], [0]

    def fit():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return "scores"

    def run_all(n_threads=5):
        peak[0] = 0
        results = []
        threads = [threading.Thread(target=lambda: results.append(in_cpu_slot(fit))) for _ in range(n_threads)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert results == ["scores"] * n_threads
        return peak[0]

    monkeypatch.setenv(FIT_SLOTS_ENV, f"2:{tmp_path}")
    assert run_all() == 2
    monkeypatch.delenv(FIT_SLOTS_ENV)
    assert run_all() == 5
    with cpu_slot(f"1:{tmp_path}"):  # a slot is free again after an exception in the block
        pass
    try:
        with cpu_slot(f"1:{tmp_path}"):
            raise ValueError("fit failed")
    except ValueError:
        pass
    with cpu_slot(f"1:{tmp_path}"):
        pass


def test_a_shared_pool_is_used_as_is_and_left_running():
    """`worker_pool(..., shared=pool)` (a step given the workers a command started) runs on those workers,
    starts none of its own, and leaves them to the block that started them."""
    from genebench_assets.science.models.fit_pool import worker_pool

    with worker_pool(2) as outer:
        workers = set(multiprocessing.active_children())
        with worker_pool(2, preload=("xml.dom.minidom",), shared=outer) as pool:
            assert pool is outer and set(multiprocessing.active_children()) == workers
            assert map_in_workers(_fit, [(0,), (1,)], n_jobs=2, pool=pool)[0] is not None
        assert set(multiprocessing.active_children()) == workers and all(p.is_alive() for p in workers)
    assert multiprocessing.active_children() == []
