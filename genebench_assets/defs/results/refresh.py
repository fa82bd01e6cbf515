"""Refresh the leaderboards (issue 20): the `results_job` of defs/runtime/jobs.py, one unpartitioned run that
re-reads every results record in the data directory. `genebench materialize` runs it last (END_OF_RUN_JOBS);
`refresh_leaderboards` runs it alone, e.g. after `genebench evaluate` or `genebench reproduce`."""

from __future__ import annotations

import dagster as dg


def refresh_leaderboards(instance: dg.DagsterInstance, defs: dg.Definitions | None = None, *,
                         run_config: dict | None = None) -> dg.ExecuteInProcessResult:
    """Execute `results_job` in this process on `instance` (the code location's definitions by default);
    `run_config` e.g. {"resources": {"settings": {"config": {"data_dir": ...}}}}. Never raises for a failed
    step: the result says whether it succeeded (a malformed record fails the asset in one line)."""
    if defs is None:
        from genebench_assets.definitions import defs
    return defs.resolve_job_def("results_job").execute_in_process(
        instance=instance, run_config=run_config or {}, raise_on_error=False)
