"""An IO manager that persists one output covering several partitions (a single-run backfill).

Dagster's filesystem IO manager refuses an output that spans several partitions. Assets with
``BackfillPolicy.single_run()`` that return values (the LLM answers and judge scores) return
``{partition_key: value}`` when a run covers several partitions; this IO manager writes each value
to that partition's own file, exactly where ``FilesystemIOManager`` would, so single-partition runs,
range runs and downstream loads all read the same files. Loading is FilesystemIOManager's: a bare
value for one partition, ``{partition_key: value}`` for several."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from genebench_assets.defs.runtime.dagster_internals import PickledObjectFilesystemIOManager


class _PartitionRangePickleIOManager(PickledObjectFilesystemIOManager):
    def handle_output(self, context: dg.OutputContext, obj: Any):
        if not (context.has_asset_partitions and len(context.asset_partition_keys) > 1):
            return super().handle_output(context, obj)
        paths = self._get_paths_for_partitions(context)
        if not isinstance(obj, Mapping) or set(obj) != set(paths):
            got = sorted(obj) if isinstance(obj, Mapping) else type(obj).__name__
            raise dg.Failure(description=f"{context.asset_key.to_user_string()}: a run over {len(paths)} partitions "
                             f"must return {{partition_key: value}} for exactly {sorted(paths)}; got {got}")
        for key, path in paths.items():
            self.make_directory(path.parent)
            self.dump_to_path(context=context, obj=obj[key], path=path)
        context.log.debug(f"wrote {len(paths)} partitions under {next(iter(paths.values())).parent}")


class PartitionRangeFilesystemIOManager(dg.ConfigurableIOManagerFactory):
    """FilesystemIOManager that also accepts a run over several partitions (see module docstring)."""

    base_dir: str | None = None  # default: the instance's storage directory, like fs_io_manager

    def create_io_manager(self, context: dg.InitResourceContext) -> _PartitionRangePickleIOManager:
        return _PartitionRangePickleIOManager(base_dir=self.base_dir or context.instance.storage_directory())


def contiguous_runs(order: list[str], wanted) -> list[tuple[str, str]]:
    """(first, last) of each run of consecutive `wanted` items in `order` (usually one): the partition
    key ranges a single-run backfill of exactly `wanted` needs."""
    out, start, prev = [], None, None
    for k in order:
        if k in wanted:
            start, prev = (start or k), k
        elif start:
            out.append((start, prev))
            start = None
    if start:
        out.append((start, prev))
    return out
