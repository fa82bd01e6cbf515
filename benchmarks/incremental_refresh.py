"""Incremental cost of a new OSDR mission (issue 5).

Materializes the full default demo graph, then publishes the demo's held-back study (thymus RR-10),
lets the refresh sensor and declarative automation decide what to run, runs exactly that, and
prints both wall times, their ratio, and which partitions were recomputed. Fails (exit 1) if
anything outside the new pair and its tissue's downstream assets was recomputed.

    .venv/bin/python benchmarks/incremental_refresh.py [--tissue thymus ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tissue", action="append", help="limit the initial graph to these tissues (default: all)")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="genebench-incremental-"))
    os.environ["GENEBENCH_DATA_DIR"] = str(work / "data")
    os.environ["DAGSTER_HOME"] = str(work / "home")
    (work / "home").mkdir(parents=True)
    (work / "home" / "dagster.yaml").touch()

    import dagster as dg

    from genebench_assets import cli
    from genebench_assets.definitions import defs
    from genebench_assets.defs.refresh.sensors import osdr_new_studies_sensor
    from genebench_assets.defs.runtime.settings import GenebenchSettings
    from genebench_assets.defs.sources.resources import OsdrSource
    from genebench_assets.science.osdr.demo_simulator import write_demo_mirror

    instance = dg.DagsterInstance.get()
    t0 = time.perf_counter()
    argv = ["materialize"] + sum((["--tissue", t] for t in args.tissue or []), [])
    if cli.main(argv) != 0:
        print("initial materialization failed")
        return 1
    full = time.perf_counter() - t0
    runs_before = {r.run_id for r in instance.get_runs()}

    settings, source = GenebenchSettings(), OsdrSource()
    tissue_selection = dg.AssetSelection.assets("lomo_folds", "model_predictions", "evaluation_summary")
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=tissue_selection)
    assert tick.total_requested == 0, "automation wanted work before anything changed"

    t1 = time.perf_counter()
    write_demo_mirror(source.demo_root(settings.data_dir), settings.catalog(), seed=source.demo_seed,
                      n_genes=source.demo_n_genes, publish_held_back=True)
    ctx = dg.build_sensor_context(instance=instance, resources={"settings": settings, "osdr_source": source})
    result = osdr_new_studies_sensor(ctx)
    for req in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    for req in result.run_requests:
        ok = defs.resolve_job_def(req.job_name).execute_in_process(
            instance=instance, partition_key=req.partition_key, raise_on_error=False).success
        print(f"  sensor run {req.job_name} {req.partition_key or ''}: {'ok' if ok else 'FAILED'}")
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=tissue_selection,
                                             cursor=tick.cursor)
    requested = sorted(set().union(*(tick.get_requested_partitions(dg.AssetKey(a))
                                     for a in ("lomo_folds", "model_predictions", "evaluation_summary"))))
    print(f"  automation requested tissue partitions: {requested}")
    for pk in requested:
        ok = defs.resolve_job_def("tissue_job").execute_in_process(
            instance=instance, partition_key=pk, raise_on_error=False).success
        print(f"  automation run tissue_job {pk}: {'ok' if ok else 'FAILED'}")
    refresh = time.perf_counter() - t1

    recomputed = set()
    for run in instance.get_runs():
        if run.run_id in runs_before:
            continue
        for ev in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            mat = ev.asset_materialization
            recomputed.add((mat.asset_key.to_user_string(), str(mat.partition or "")))
    allowed_partitions = {"", "thymus", str(dg.MultiPartitionKey({"tissue": "thymus", "mission": "RR-10"}))}
    unexpected = sorted(r for r in recomputed if r[1] not in allowed_partitions)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nfull demo graph: {full:.1f} s; refresh after publishing thymus RR-10: {refresh:.1f} s; "
          f"ratio refresh/full = {refresh / full:.3f}; peak RSS {peak:.0f} MiB")
    print("recomputed:")
    for asset, part in sorted(recomputed):
        print(f"  {asset} [{part or 'unpartitioned'}]")
    if unexpected:
        print(f"UNEXPECTED recomputation: {unexpected}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
