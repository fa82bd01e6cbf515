"""`genebench reproduce pathway-lomo`: materialize the release assets (recorded in the Dagster
instance, so lineage works) and write A{n}_pathway_{db}_results.json into --out.

All requested (tissue, collection) partitions go into as few Dagster runs as the partition space
allows: a run covers a rectangular range (collections x tissues, each contiguous in the partitions'
order), so the default - every tissue of the requested collections - is ONE run; each partition
still gets its own materialization and metadata (defs/release/assets.py). Per-run cost (run
creation, resource set-up, event-log writes) is paid once, and every step of the run works on the
worker processes the caller started (`workers`: the command starts them before it loads Dagster)."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg

from genebench_assets.defs.release.resources import COLLECTIONS
from genebench_assets.defs.runtime.partition_range_io import contiguous_runs

TISSUES = ["liver", "gastrocnemius", "kidney", "thymus", "skin", "eye"]
# The terminal gets our per-partition lines and the run's progress; the full event log (DEBUG) is
# in the instance and the UI.
CONSOLE_INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def release_definitions() -> dg.Definitions:
    """The release assets alone, with the resources they use: a one-shot command loads these in a
    fraction of the time of the whole code location (the UI loads the full definitions)."""
    from genebench_assets.defs import release
    from genebench_assets.defs.runtime.settings import GenebenchSettings

    return dg.Definitions.merge(release.defs, dg.Definitions(resources={"settings": GenebenchSettings()}))


def partition_ranges(dbs, tissues) -> list[tuple[dg.MultiPartitionKey, dg.MultiPartitionKey]]:
    """(start, end) keys of the rectangular ranges that cover exactly dbs x tissues."""
    ranges = []
    for c0, c1 in contiguous_runs(COLLECTIONS, set(dbs)):
        for t0, t1 in contiguous_runs(TISSUES, set(tissues)):
            ranges.append((dg.MultiPartitionKey({"tissue": t0, "collection": c0}),
                           dg.MultiPartitionKey({"tissue": t1, "collection": c1})))
    return ranges


def reproduce_pathway_lomo(instance, defs, *, release: Path, db, out: Path, tissues=None, workers=None) -> int:
    """db: one collection or several (a list); tissues: all six by default. workers: a fit pool
    (science/models/fit_pool.worker_pool) the caller started, shared by every step of every run (the
    command starts it before it loads Dagster, so the workers' imports overlap its own); without it
    each step starts its own workers."""
    dbs = [db] if isinstance(db, str) else list(dict.fromkeys(db))
    tissues = list(dict.fromkeys(tissues or TISSUES))
    unknown = [t for t in tissues if t not in TISSUES]
    if unknown:
        print(f"genebench reproduce: unknown tissue {unknown[0]!r}; known: {', '.join(TISSUES)}")
        return 2
    job = defs.resolve_job_def("release_job")
    run_config = {"resources": {"release_settings": {"config": {"release_dir": str(release), "out_dir": str(out)}}},
                  **CONSOLE_INFO}
    failures = []
    ranges = partition_ranges(dbs, tissues)
    for start, end in ranges:
        t0 = time.perf_counter()
        result = job.execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False,
            tags={"dagster/asset_partition_range_start": str(start), "dagster/asset_partition_range_end": str(end)},
            resources={"release_workers": workers} if workers is not None else None)
        done = {str(m.partition) for m in result.asset_materializations_for_node("release_evaluation")}
        covered = _keys_in(start, end)
        for key in covered:
            tissue, collection = key.keys_by_dimension["tissue"], key.keys_by_dimension["collection"]
            ok = str(key) in done
            print(f"  {'ok' if ok else 'FAILED':6s} {tissue:14s} {collection:10s}", flush=True)
            if not ok:
                failures.append(f"{tissue} {collection}")
        print(f"run {result.run_id[:8]}: {len(covered)} partitions in {time.perf_counter() - t0:.1f}s", flush=True)
        if not result.success:
            for ev in result.all_events:
                if ev.is_failure:
                    print(f"      {ev.message}")
    print(f"results in {out}; {len(ranges)} Dagster run(s)" + (f"; failed: {failures}" if failures else ""))
    from genebench_assets.defs.results.reproductions import record_pathway_lomo
    from genebench_assets.science.release.genelab_release import TISSUE_TASKS

    done_tissues = [t for t in tissues if not any(f.startswith(f"{t} ") for f in failures)]
    print(record_pathway_lomo(defs, release=release, out=out, tasks=[TISSUE_TASKS[t] for t in done_tissues], dbs=dbs))
    return 1 if failures else 0


def _keys_in(start: dg.MultiPartitionKey, end: dg.MultiPartitionKey) -> list[dg.MultiPartitionKey]:
    from genebench_assets.defs.release.assets import release_partitions

    return release_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(str(start), str(end)))
