"""Where a run's steps execute, chosen by run config, never by code changes (issue 14).

Every job of the code location uses `genebench_executor`. Its config is a selector:

- `multiprocess` (the default, exactly Dagster's default executor) or `in_process`;
- `dask`: steps are submitted to a `dask.distributed` cluster through `dagster-dask`'s executor.
  `cluster` is required and must name a real cluster: `existing: {address: tcp://host:8786}` (a
  scheduler started by you, by a batch job or by a Helm chart) or a `dask-jobqueue` / `dask-kubernetes`
  cluster type (`slurm`, `pbs`, `sge`, `lsf`, `moab`, `oar`, `kube`), which the executor creates
  from the given keyword arguments.

`dagster-dask` falls back to an in-process `LocalCluster` when `cluster` is missing or `local`. That is
deliberately not offered here: a deployment that asks for dask and is misconfigured fails at config
validation (or when the scheduler cannot be reached) instead of silently running on the submitting
machine. Runs on dask need a persistent instance (`DAGSTER_HOME` with SQLite on a shared path, or
PostgreSQL) and a `GENEBENCH_DATA_DIR` that every worker reaches: the assets write their own tables.
See deploy/README.md.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.executor_definition import (
    IN_PROC_CONFIG,
    MULTI_PROC_CONFIG,
    _core_in_process_executor_creation,
    _core_multiprocess_executor_creation,
)

# dagster-dask's cluster types minus `local` (see the module docstring).
DASK_CLUSTER_TYPES = ("slurm", "pbs", "sge", "lsf", "moab", "oar", "kube", "yarn", "ssh")

DASK_CONFIG = dg.Field(
    {
        "cluster": dg.Field(
            dg.Selector({
                "existing": dg.Field(
                    {"address": dg.StringSource},
                    description="Connect to a running scheduler, e.g. tcp://10.0.0.5:8786 or {env: GENEBENCH_DASK_SCHEDULER}.",
                ),
                **{kind: dg.Field(dg.Permissive(), description=f"Keyword arguments of the {kind} cluster class "
                                  "(dask-jobqueue / dask-kubernetes / dask-yarn / distributed.SSHCluster).")
                   for kind in DASK_CLUSTER_TYPES},
            }),
            is_required=True,
            description="Which dask cluster runs the steps. Required: there is no local fallback.",
        ),
    },
    description="Run each step as a task on a dask.distributed cluster (dagster-dask).",
)


def _requirements(executor_config):
    # multiprocess and dask both need a persistent instance and reconstructable jobs.
    return [] if "in_process" in executor_config else dg.multiple_process_executor_requirements()


@dg.executor(
    name="genebench_executor",
    config_schema=dg.Field(
        dg.Selector({"multiprocess": MULTI_PROC_CONFIG, "in_process": IN_PROC_CONFIG, "dask": DASK_CONFIG}),
        default_value={"multiprocess": {}},
    ),
    requirements=_requirements,
)
def genebench_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """Dagster's default executor (multiprocess / in_process) plus `dask` on a named cluster."""
    config = init_context.executor_config
    if "dask" in config:
        from dagster_dask.executor import DaskExecutor

        ((cluster_type, cluster_config),) = config["dask"]["cluster"].items()
        return DaskExecutor(cluster_type, cluster_config)
    if "in_process" in config:
        return _core_in_process_executor_creation(config["in_process"])
    return _core_multiprocess_executor_creation(config["multiprocess"])


def execute_job_by_name(instance: dg.DagsterInstance, job_name: str, run_config: dict | None = None,
                        partition_key: str | dg.MultiPartitionKey | None = None) -> dg.JobExecutionResult:
    """Run one job of the code location through its configured executor (not in-process).

    The job is loaded as a reconstructable job (module `genebench_assets.definitions`, attribute
    `defs`), which is what a dask worker or a Kubernetes pod imports to execute a step, exactly as a
    code server would. `instance` must be persistent (multiprocess and dask both require it)."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    recon_job = ReconstructableRepository.for_module("genebench_assets.definitions", "defs").get_reconstructable_job(job_name)
    tags = {}
    if partition_key is not None:
        tags = dict(recon_job.get_definition().get_tags_for_partition_key(str(partition_key), None))
    return dg.execute_job(recon_job, instance, run_config=run_config or {}, tags=tags)
