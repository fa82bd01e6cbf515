"""The only place genebench imports Dagster's private modules (`dagster._*`), each with the reason no
public API serves (Dagster 1.13). Everything else uses `import dagster as dg`. A Dagster upgrade that
moves one of these breaks this module's import, in one place (test_dagster_internals.py imports it and
checks no other module reaches into `dagster._`)."""

from __future__ import annotations

# Executor configuration (defs/runtime/execution.py). `genebench_executor` offers Dagster's own
# multiprocess / in_process executors beside dask and k8s, as one Selector: the public
# `dg.multiprocess_executor` / `dg.in_process_executor` are ExecutorDefinitions whose config schema and
# creation function are not exposed publicly, and an executor cannot delegate to another
# ExecutorDefinition's config (only to a creation function taking the config).
from dagster._core.definitions.executor_definition import (  # noqa: F401
    IN_PROC_CONFIG,
    MULTI_PROC_CONFIG,
    _core_in_process_executor_creation,
    _core_multiprocess_executor_creation,
)

# Validating the executor choice of GENEBENCH_EXECUTOR_CONFIG (execution.py) while the code location's
# executor is being defined, i.e. before any job exists, with one line naming file, field and value:
# the public `dg.validate_run_config` needs a built job; this validates against the config type alone.
from dagster._config.validate import validate_config  # noqa: F401

# Running a job of the code location on dask / Kubernetes workers (execution.py): the workers import
# the same repository pointer (`genebench_assets.definitions:defs`) a code server does. Public
# `dg.reconstructable` needs a module-level job or job factory (our jobs are built inside Definitions);
# `dg.build_reconstructable_job` could serve through such a factory but changes what every worker
# imports: not switched without a run of the real dask and Kubernetes tests.
from dagster._core.definitions.reconstruct import ReconstructableRepository  # noqa: F401

# Run monitoring of killed runs (run_monitoring.py): a RunLauncher's `check_run_worker_health` must
# return these types; the public API exports the launcher (`dg.DefaultRunLauncher`), not its result types.
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus  # noqa: F401

# Partition-range loading (partition_range_io.py) extends the pickling filesystem IO manager Dagster
# builds behind the public `dg.FilesystemIOManager` factory; the factory cannot be subclassed to load a
# range of partitions in one call.
from dagster._core.storage.fs_io_manager import PickledObjectFilesystemIOManager  # noqa: F401

# A custom automation condition (partitions.py, `recorded_as_absent`) builds its true subset from
# asset partitions: `AssetGraphView.get_asset_subset_from_asset_partitions` takes these keys and no
# public type or constructor produces them.
from dagster._core.definitions.events import AssetKeyPartitionKey  # noqa: F401

# `genebench lineage`'s stale status (lineage/tracing.py), computed as the UI does: Dagster's stale
# status resolver has no public API (the UI reads it through GraphQL from a running webserver).
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext  # noqa: F401
from dagster._core.definitions.data_version import CachingStaleStatusResolver  # noqa: F401

# An LLM judge-score check evaluation logged per partition (defs/llm/checks.py) names the materialization
# it judged; `dg.AssetCheckEvaluation(target_materialization_data=...)` is public, its data type is not.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (  # noqa: F401
    AssetCheckEvaluationTargetMaterializationData,
)

__all__ = [
    "IN_PROC_CONFIG", "MULTI_PROC_CONFIG", "_core_in_process_executor_creation", "_core_multiprocess_executor_creation",
    "validate_config", "ReconstructableRepository", "CheckRunHealthResult", "WorkerStatus",
    "PickledObjectFilesystemIOManager", "AssetKeyPartitionKey", "AssetGraphView", "TemporalContext",
    "CachingStaleStatusResolver", "AssetCheckEvaluationTargetMaterializationData",
]
