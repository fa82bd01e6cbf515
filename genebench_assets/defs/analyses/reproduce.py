"""`genebench reproduce analyses --release DIR --out OUT`: the release reproduction plus its analyses
(issue 21), recorded in the Dagster instance, writing into OUT in the published layout:
A{n}_pathway_{db}_results.json (24), A{n}_pathway_{db}_shap.json (24; A6 hallmark is the published
one), multi_db_comparison.json, cell2020_validation.json and the T1-T3 summaries.

Three Dagster runs: one over the whole (tissue, collection) partition range (release assets +
release_pathway_interpretation, as `reproduce pathway-lomo`), then the unpartitioned
multi_db_comparison, which reads all 24 release_evaluation partitions; then cell2020_validation
(release fGSEA / DESeq2 tables only); then temporal_analyses (T1-T3 from the release's GSVA scores)."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg

from genebench_assets.defs.release.reproduce import CONSOLE_INFO, TISSUES, partition_ranges
from genebench_assets.defs.release.resources import COLLECTIONS


def analyses_definitions() -> dg.Definitions:
    from genebench_assets.defs import analyses, release
    from genebench_assets.defs.runtime.settings import GenebenchSettings

    return dg.Definitions.merge(release.defs, analyses.release_defs, dg.Definitions(resources={"settings": GenebenchSettings()}))


def reproduce_analyses(instance, defs, *, release: Path, out: Path) -> int:
    run_config = {"resources": {"release_settings": {"config": {"release_dir": str(release), "out_dir": str(out)}}},
                  **CONSOLE_INFO}
    failures = []
    (start, end), = partition_ranges(COLLECTIONS, TISSUES)
    steps = [(defs.resolve_job_def("release_analyses_job"),
              {"dagster/asset_partition_range_start": str(start), "dagster/asset_partition_range_end": str(end)},
              "release_pathway_interpretation", len(COLLECTIONS) * len(TISSUES)),
             (defs.resolve_job_def("multi_db_comparison_job"), {}, "multi_db_comparison", 1),
             (defs.resolve_job_def("cell2020_validation_job"), {}, "cell2020_validation", 1),
             (defs.resolve_job_def("temporal_analyses_job"), {}, "temporal_analyses", 1)]  # T1-T3 (release GSVA)
    for job, tags, asset, expected in steps:
        t0 = time.perf_counter()
        result = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False, tags=tags)
        done = len(result.asset_materializations_for_node(asset))
        ok = result.success and done == expected
        print(f"  {'ok' if ok else 'FAILED':6s} {asset}: {done} of {expected} materialized "
              f"(run {result.run_id[:8]}, {time.perf_counter() - t0:.1f}s)", flush=True)
        if not ok:
            failures.append(asset)
            for ev in result.all_events:
                if ev.is_failure:
                    print(f"      {ev.message}")
            break
    print(f"results in {out}" + (f"; failed: {failures}" if failures else ""))
    if not failures:
        from genebench_assets.defs.results.reproductions import record_analyses

        print(record_analyses(defs, release=release, out=out))
    return 1 if failures else 0
