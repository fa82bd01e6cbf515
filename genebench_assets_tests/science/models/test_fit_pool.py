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
