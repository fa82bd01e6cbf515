"""`genebench reproduce pathway-lomo`: materialize the release assets (recorded in the Dagster
instance, so lineage works) and write A{n}_pathway_{db}_results.json into --out."""

import time
from pathlib import Path

import dagster as dg

TISSUES = ["liver", "gastrocnemius", "kidney", "thymus", "skin", "eye"]


def reproduce_pathway_lomo(instance, defs, *, release: Path, db: str, out: Path, tissues=None) -> int:
    job = defs.resolve_job_def("release_job")
    run_config = {"resources": {"release_settings": {"config": {"release_dir": str(release), "out_dir": str(out)}}}}
    failures = []
    for tissue in tissues or TISSUES:
        t0 = time.perf_counter()
        result = job.execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False,
            partition_key=dg.MultiPartitionKey({"tissue": tissue, "collection": db}))
        status = "ok" if result.success else "FAILED"
        print(f"  {status:6s} {tissue:14s} {db:10s} {time.perf_counter() - t0:6.1f}s", flush=True)
        if not result.success:
            failures.append(tissue)
            for ev in result.all_events:
                if ev.is_failure:
                    print(f"      {ev.message}")
    print(f"results in {out}" + (f"; failed: {failures}" if failures else ""))
    return 1 if failures else 0
