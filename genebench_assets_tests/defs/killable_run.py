"""A run that sits in model-fitting workers until it is killed (for test_run_monitoring.py).

`python -m genebench_assets_tests.defs.killable_run` executes `fit_forever_job` in this process,
recorded in the instance at $DAGSTER_HOME, like `genebench materialize` does; its one op fans out to
two worker processes through the same pool `model_predictions` uses. The module is also the code
location the test's `dagster-daemon` loads (`-m`), a light one, so the daemon starts quickly."""

from __future__ import annotations

import os
import time

import dagster as dg

from genebench_assets.science.models.fit_pool import map_in_workers


def slow_fit(seconds: float) -> float:
    print(f"fit started in worker {os.getpid()}", flush=True)  # the test waits for two of these
    time.sleep(seconds)
    return seconds


@dg.op
def fit_forever(context) -> None:
    context.log.info("fitting on 2 workers")
    map_in_workers(slow_fit, [(600.0,), (600.0,)], n_jobs=2)


@dg.job
def fit_forever_job():
    fit_forever()


defs = dg.Definitions(jobs=[fit_forever_job])

if __name__ == "__main__":
    fit_forever_job.execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False)
