"""Where a run's steps execute, chosen by run config, never by code changes (issue 14).

Every job of the code location uses `genebench_executor`. Its config is a selector:

- `multiprocess` (the default, exactly Dagster's default executor) or `in_process`;
- `dask`: steps are submitted to a `dask.distributed` cluster through `dagster-dask`'s executor.
  `cluster` is required and must name a real cluster: `existing: {address: tcp://host:8786}` (a
  scheduler started by you, by a batch job or by a Helm chart) or a `dask-jobqueue` / `dask-kubernetes`
  cluster type (`slurm`, `pbs`, `sge`, `lsf`, `moab`, `oar`, `kube`), which the executor creates
  from the given keyword arguments.
- `k8s`: each step is a Kubernetes Job (`dagster-k8s`'s `k8s_job_executor`, its config schema and its
  construction unchanged: `job_image`, `job_namespace`, env, volumes, resources, ...). Out of a cluster
  it needs `load_incluster_config: false` and a kubeconfig; it never falls back to local processes.

The default (for runs without `execution:` in their run config: sensor, automation and schedule runs)
is `multiprocess`, or the `execution:` of the YAML file named by GENEBENCH_EXECUTOR_CONFIG, so a
deployment routes those runs too by configuration (`default_executor_config`).

`dagster-dask` falls back to an in-process `LocalCluster` when `cluster` is missing or `local`. That is
deliberately not offered here: a deployment that asks for dask and is misconfigured fails at config
validation (or when the scheduler cannot be reached) instead of silently running on the submitting
machine. Runs on dask need a persistent instance (`DAGSTER_HOME` with SQLite on a shared path, or
PostgreSQL) and a `GENEBENCH_DATA_DIR` that every worker reaches: the assets write their own tables.
See deploy/README.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from genebench_assets.defs.runtime.dagster_internals import (
    IN_PROC_CONFIG,
    MULTI_PROC_CONFIG,
    _core_in_process_executor_creation,
    _core_multiprocess_executor_creation,
)
from dagster_k8s.executor import k8s_job_executor

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


# dagster-k8s's own schema, so the launchpad and run-config validation check it exactly as
# `k8s_job_executor` would (a misspelt key or a wrong type is a config error, before any pod).
K8S_CONFIG = dg.Field(
    k8s_job_executor.config_schema.config_type,
    description="Run each step as a Kubernetes Job (dagster-k8s k8s_job_executor); see deploy/k8s/run_config.yaml.",
)


class RunConfigError(ValueError):
    """A run config file that cannot be used, in one line naming the file, the field and the value."""


def _config_type_at(root, path: list[str]):
    """The config type at `path` below the config type `root` (None when the path leaves the schema)."""
    config_type = root
    for name in path:
        fields = getattr(config_type, "fields", None) or {}
        if name not in fields:
            return None
        config_type = fields[name].config_type
    return config_type


def _error_line(source: str, root, error, prefix: tuple[str, ...] = ()) -> str:
    """One config evaluation error (against config type `root`, found at `prefix` of the file) as
    `file: field.path: what is wrong (value)`."""
    # the reason's name (a public attribute of the error), not its private enum class
    reason = error.reason.name
    inner = [getattr(e, "field_name", None) or str(getattr(e, "list_index", "")) for e in error.stack.entries]
    path = [*prefix, *inner]
    where = ".".join(path) or "(top level)"
    data = error.error_data
    if reason == "FIELD_NOT_DEFINED":
        expected = sorted(getattr(_config_type_at(root, inner), "fields", None) or {})
        what = f"unknown field {data.field_name!r}" + (f" (expected one of: {', '.join(expected)})" if expected else "")
    elif reason == "FIELDS_NOT_DEFINED":
        what = f"unknown fields {', '.join(map(repr, data.field_names))}"
    elif reason == "MISSING_REQUIRED_FIELD":
        what = f"missing required field {data.field_name!r}"
    elif reason == "MISSING_REQUIRED_FIELDS":
        what = f"missing required fields {', '.join(map(repr, data.field_names))}"
    elif reason == "RUNTIME_TYPE_MISMATCH":
        expected = data.config_type_snap.given_name or data.config_type_snap.kind.value.lower()
        what = f"value {data.value_rep} is not a valid {expected}"
    elif reason == "SELECTOR_FIELD_ERROR":
        choices = sorted(getattr(_config_type_at(root, inner), "fields", None) or {})
        what = f"choose exactly one of: {', '.join(choices)}"
    else:
        import re

        unset = re.search(r'environment variable "([^"]+)" which is not set', error.message)
        what = (f"environment variable {unset.group(1)} is not set ({{env: {unset.group(1)}}})" if unset
                else error.message.splitlines()[0])
    return f"{source}: {where}: {what}"


def read_run_config_file(path: str | Path) -> dict:
    """A run config YAML file that chooses an executor (`execution: config: <name>: ...`), else
    RunConfigError: a file without one would run locally without saying so."""
    from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, load_yaml

    source = str(path)
    try:  # the guarded reader: regular file, 1 MB, UTF-8, no alias bomb, no duplicate key (science/inputs)
        config = load_yaml(path, max_bytes=LIMITS["run_config"])
    except InputFileError as exc:
        raise RunConfigError(str(exc)) from None
    if not isinstance(config, dict):
        raise RunConfigError(f"{source}: (top level): expected a mapping with `execution:`, got {type(config).__name__} "
                             f"{str(config)[:80]!r}")
    execution = config.get("execution")
    if not (execution.get("config") if isinstance(execution, dict) else None):
        raise RunConfigError(f"{source}: execution.config: missing; choose the executor explicitly (dask, k8s, "
                             "multiprocess or in_process), e.g. deploy/dask/run_config.yaml")
    return config


EXECUTOR_CHOICES = dg.Selector({"multiprocess": MULTI_PROC_CONFIG, "in_process": IN_PROC_CONFIG,
                                "dask": DASK_CONFIG, "k8s": K8S_CONFIG})


def default_executor_config() -> dict:
    """The executor of runs that do not choose one (sensor, automation and schedule runs, launchpad
    runs without `execution:`): multiprocess, or the `execution:` of the run config file named by
    GENEBENCH_EXECUTOR_CONFIG in the code location's environment, so a deployment sends those runs
    to dask or Kubernetes by configuration. A bad file stops the code location from loading, with one
    line naming file, field and value, instead of quietly running them locally."""
    from genebench_assets.defs.runtime.dagster_internals import validate_config

    path = os.environ.get("GENEBENCH_EXECUTOR_CONFIG", "")
    if not path:
        return {"multiprocess": {}}
    source = f"GENEBENCH_EXECUTOR_CONFIG={path}"
    try:
        config = read_run_config_file(path)
    except RunConfigError as exc:
        raise RunConfigError(f"GENEBENCH_EXECUTOR_CONFIG: {exc}") from None
    if set(config) != {"execution"}:
        raise RunConfigError(f"{source}: (top level): only `execution:` is read from this file, found "
                             f"{', '.join(sorted(set(config) - {'execution'}))}")
    result = validate_config(EXECUTOR_CHOICES, config["execution"]["config"])
    if not result.success:
        raise RunConfigError(_error_line(source, EXECUTOR_CHOICES, result.errors[0], ("execution", "config")))
    return config["execution"]["config"]


def _requirements(executor_config):
    # multiprocess, dask and k8s need a persistent instance and reconstructable jobs.
    return [] if "in_process" in executor_config else dg.multiple_process_executor_requirements()


@dg.executor(
    name="genebench_executor",
    config_schema=dg.Field(EXECUTOR_CHOICES, default_value=default_executor_config()),
    requirements=_requirements,
)
def genebench_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """Dagster's default executor (multiprocess / in_process) plus `dask` on a named cluster and `k8s`."""
    config = init_context.executor_config
    if "k8s" in config:
        return k8s_job_executor.executor_creation_fn(dg.InitExecutorContext(
            job=init_context.job, executor_def=k8s_job_executor, executor_config=config["k8s"],
            instance=init_context.instance))
    if "dask" in config:
        from dagster_dask.executor import DaskExecutor

        ((cluster_type, cluster_config),) = config["dask"]["cluster"].items()
        return DaskExecutor(cluster_type, cluster_config)
    if "in_process" in config:
        return _core_in_process_executor_creation(config["in_process"])
    return _core_multiprocess_executor_creation(config["multiprocess"])


def execute_job_by_name(instance: dg.DagsterInstance, job_name: str, run_config: dict | None = None,
                        partition_key: str | dg.MultiPartitionKey | None = None,
                        tags: dict | None = None) -> dg.JobExecutionResult:
    """Run one job of the code location through its configured executor (not in-process).

    The job is loaded as a reconstructable job (module `genebench_assets.definitions`, attribute
    `defs`), which is what a dask worker or a Kubernetes pod imports to execute a step, exactly as a
    code server would. `instance` must be persistent (multiprocess and dask both require it)."""
    from genebench_assets.defs.runtime.dagster_internals import ReconstructableRepository

    recon_job = ReconstructableRepository.for_module("genebench_assets.definitions", "defs").get_reconstructable_job(job_name)
    tags = dict(tags or {})
    if partition_key is not None:
        tags.update(recon_job.get_definition().get_tags_for_partition_key(str(partition_key), None))
    return dg.execute_job(recon_job, instance, run_config=run_config or {}, tags=tags)


# ---- `genebench materialize --run-config FILE` -------------------------------------------------

# The jobs `genebench materialize` runs (--nes, --categories included); a --run-config file must be
# valid for every one of them.
MATERIALIZE_JOBS = ("catalog_job", "study_job", "tissue_job", "nes_study_job", "nes_tissue_job",
                    "transfer_tissue_job", "transfer_summary_job")


def load_cli_run_config(path: str | Path, defs: dg.Definitions, pinned: dict[tuple[str, str], object],
                        job_names=MATERIALIZE_JOBS) -> dict:
    """Read and validate a `--run-config` YAML file for `genebench materialize`; RunConfigError otherwise.

    The file must choose an executor explicitly (`execution: config: <dask|k8s|multiprocess|in_process>`):
    a file that forgets it would run locally without saying so. `pinned` holds the resource fields
    the command itself decides and prints (data directory, protocol, source mode): they are written
    into the run config, because steps on other machines would otherwise read them from their own
    environment; a file that sets one of them to a different value is refused, naming both values."""
    source = str(path)
    config = read_run_config_file(path)
    config = {**config, "resources": {k: dict(v) if isinstance(v, dict) else v
                                      for k, v in (config.get("resources") or {}).items()}}
    for (resource, field), value in pinned.items():
        entry = config["resources"].setdefault(resource, {})
        if not isinstance(entry, dict):
            continue  # the schema check below names it
        entry["config"] = fields = dict(entry.get("config") or {})
        if field in fields and fields[field] != value:
            raise RunConfigError(f"{source}: resources.{resource}.config.{field}: {fields[field]!r} differs from "
                                 f"{value!r}, which genebench materialize uses (environment / flags); make them equal")
        fields[field] = value
    present = {j.name for j in defs.jobs or ()}
    for name in (n for n in job_names if n in present):
        job = defs.resolve_job_def(name)
        try:
            dg.validate_run_config(job, config)
        except dg.DagsterInvalidConfigError as exc:
            more = f" (+{len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
            raise RunConfigError(_error_line(source, job.run_config_schema.config_type, exc.errors[0]) + more) from None
    return config


_CLI_RUN_CONFIGS: dict[str, dict] = {}


def check_k8s_client_config(source: str | Path, config: dict) -> None:
    """For the `k8s` executor, that a Kubernetes client configuration can be loaded where the CLI runs
    (in a pod, or `load_incluster_config: false` with a kubeconfig), before any run starts: otherwise
    dagster-k8s fails inside the run with a traceback. RunConfigError (one line) when it cannot."""
    k8s = ((config.get("execution") or {}).get("config") or {}).get("k8s")
    if not isinstance(k8s, dict):
        return
    import kubernetes

    where = f"{source}: execution.config.k8s"
    if k8s.get("load_incluster_config", True):
        try:
            kubernetes.config.load_incluster_config()
        except kubernetes.config.ConfigException as exc:
            raise RunConfigError(f"{where}.load_incluster_config: true, but this is not a Kubernetes pod "
                                 f"({' '.join(str(exc).split())[:100]}); from outside a cluster set "
                                 "load_incluster_config: false and kubeconfig_file") from None
        return
    kubeconfig = k8s.get("kubeconfig_file") or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    try:
        kubernetes.config.load_kube_config(config_file=kubeconfig, context=k8s.get("kubeconfig_context") or None)
    except Exception as exc:  # noqa: BLE001 - the client raises several types; each becomes one line
        raise RunConfigError(f"{where}.kubeconfig_file: {kubeconfig!r} cannot be used "
                             f"({type(exc).__name__}: {' '.join(str(exc).split())[:100]})") from None


def execute_for_cli(defs: dg.Definitions, instance: dg.DagsterInstance, job_name: str, partition_key=None,
                    tags: dict | None = None, run_config_file: str | None = None):
    """One run of `genebench materialize`.

    Without a run config file: in-process (the laptop default). With one: the file is validated
    against every materialize job on first use, before anything runs (a bad file prints one line
    naming file, field and value, and exits 2), then each run goes through the configured executor
    as a reconstructable job (`execute_job_by_name`), e.g. on a dask cluster."""
    if run_config_file is None:
        return defs.resolve_job_def(job_name).execute_in_process(
            instance=instance, partition_key=partition_key, raise_on_error=False, tags=tags)
    if run_config_file not in _CLI_RUN_CONFIGS:
        import sys

        from genebench_assets.defs.runtime.settings import GenebenchSettings
        from genebench_assets.defs.sources.resources import OsdrSource

        settings = GenebenchSettings()
        pinned = {("settings", "data_dir"): settings.data_dir, ("settings", "protocol"): settings.protocol,
                  ("osdr_source", "mode"): OsdrSource().mode}
        try:
            _CLI_RUN_CONFIGS[run_config_file] = load_cli_run_config(run_config_file, defs, pinned)
            check_k8s_client_config(run_config_file, _CLI_RUN_CONFIGS[run_config_file])
        except RunConfigError as exc:
            print(f"genebench materialize: --run-config {exc}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None
    return execute_job_by_name(instance, job_name, _CLI_RUN_CONFIGS[run_config_file], partition_key, tags=tags)
