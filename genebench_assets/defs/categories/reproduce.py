"""`genebench reproduce categories`: materialize the category assets on the release (recorded in the
Dagster instance) partition by partition, then write the published-layout files into --out, with the leakage audit beside them
(``leakage_audit.json`` / ``.md``: seed vs strict per figure, each move attributed to its defect). A
failed partition (a blocking check included) stops before the summary: no result file is written."""

import time
from pathlib import Path

from genebench_assets.defs.categories.assets import C_TASKS, D_TASKS, J5_TISSUES


def reproduce_categories(instance, defs, *, release: Path, out: Path, data_dir: Path | None = None,
                         partitions: list[str] | None = None) -> int:
    """Run every category partition (or only ``partitions``, e.g. ["C1"]), then the summary."""
    if not (Path(release) / "tasks").is_dir():
        print(f"genebench reproduce categories: GeneLab release not found: {release} has no tasks/ folder")
        return 2
    resources = {"release_settings": {"config": {"release_dir": str(release), "out_dir": str(out)}}}
    if data_dir is not None:
        resources["settings"] = {"config": {"data_dir": str(data_dir)}}
    run_config = {"resources": resources}
    failures = []
    plan = ([("categories_cross_tissue_job", t) for t in C_TASKS] + [("categories_condition_job", t) for t in D_TASKS]
            + [("categories_j5_job", t) for t in J5_TISSUES])
    plan = [(job, key) for job, key in plan if partitions is None or key in partitions]
    for job_name, key in plan:
        t0 = time.perf_counter()
        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False, partition_key=key)
        print(f"  {'ok' if result.success else 'FAILED':6s} {job_name:30s} {key:14s} {time.perf_counter() - t0:6.1f}s", flush=True)
        if not result.success:
            failures.append(f"{job_name}:{key}")
            for ev in result.all_events:
                if ev.event_type_value == "ASSET_CHECK_EVALUATION" and not ev.event_specific_data.passed:
                    check = ev.event_specific_data
                    print(f"      blocking check {check.check_name} failed: {check.description}")
                elif ev.is_step_failure and "asset check" not in (ev.message or ""):
                    print(f"      {ev.message}")
    if failures:
        print(f"failed: {failures}; no result file written to {out}")
        return 1
    result = defs.resolve_job_def("categories_summary_job").execute_in_process(
        instance=instance, run_config=run_config, raise_on_error=False)
    if not result.success:
        print("FAILED categories_summary_job")
        return 1
    audit = [p for p in (Path(out) / "leakage_audit.json", Path(out) / "leakage_audit.md") if p.is_file()]
    print(f"results in {out}" + (f" (leakage audit: {', '.join(p.name for p in audit)})" if audit else ""))
    from genebench_assets.defs.results.reproductions import record_categories

    print(record_categories(defs, release=release, out=out, data_dir=data_dir))
    return 0
