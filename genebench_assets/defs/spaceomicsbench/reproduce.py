"""`genebench reproduce spaceomicsbench`: materialize every task partition and the leaderboard in the
Dagster instance (so the UI and lineage show them), and write OUT/baseline_results.json in the
published layout."""

from __future__ import annotations

import time
from pathlib import Path

from genebench_assets.science.spaceomicsbench.task_definitions import TASK_IDS


def run_config(data: Path, protocol: str, out: Path, models: list[str] | None = None, n_boot: int | None = None,
               data_dir: Path | None = None) -> dict:
    cfg = {"data_root": str(Path(data).resolve()), "protocol": protocol, "out_dir": str(Path(out).resolve())}
    if models:
        cfg["models"] = list(models)
    if n_boot is not None:
        cfg["n_boot"] = int(n_boot)
    resources = {"soma_settings": {"config": cfg}}
    if data_dir is not None:
        resources["settings"] = {"config": {"data_dir": str(Path(data_dir).resolve())}}
    return {"resources": resources}


def reproduce_spaceomicsbench(instance, defs, *, data: Path, protocol: str, out: Path, tasks=None,
                              models=None, n_boot=None, data_dir: Path | None = None) -> int:
    if not (Path(data) / "tasks").is_dir():
        print(f"genebench reproduce spaceomicsbench: --data {data}: no tasks/ folder (expected the SpaceOmicsBench "
              "directory with tasks/, splits/, data/)")
        return 2
    cfg = run_config(data, protocol, out, models, n_boot, data_dir)
    job = defs.resolve_job_def("soma_tasks_job")
    failures = []
    for task in tasks or TASK_IDS:
        t0 = time.perf_counter()
        result = job.execute_in_process(instance=instance, run_config=cfg, partition_key=task, raise_on_error=False)
        status = "ok" if result.success else "FAILED"
        note = ""
        for ev in result.get_asset_materialization_events():
            md = ev.materialization.metadata
            if ev.asset_key.path[-1] == "soma_task_definition" and md.get("status") is not None:
                note = md["status"].value
        print(f"  {status:6s} {task:3s} {protocol:6s} {time.perf_counter() - t0:6.1f}s {note}", flush=True)
        if not result.success:
            failures.append(task)
            for ev in result.all_events:
                if ev.is_failure or (ev.event_type_value == "ASSET_CHECK_EVALUATION"
                                     and not getattr(ev.event_specific_data, "passed", True)):
                    print(f"      {ev.message}")
    if tasks:      # a subset: the leaderboard needs every task
        print(f"results per task in the Dagster instance; leaderboard skipped (subset {list(tasks)})")
        return 1 if failures else 0
    lb = defs.resolve_job_def("soma_leaderboard_job").execute_in_process(
        instance=instance, run_config=cfg, raise_on_error=False)
    if not lb.success:
        for ev in lb.all_events:
            if ev.is_failure:
                print(f"      {ev.message}")
        return 1
    print(f"wrote {Path(out) / 'baseline_results.json'}" + (f"; failed: {failures}" if failures else ""))
    from genebench_assets.defs.results.reproductions import record_spaceomicsbench

    print(record_spaceomicsbench(defs, data=data, out=out, protocol=protocol, data_dir=data_dir,
                                 tasks=[t for t in TASK_IDS if t not in failures]))
    print_seed_vs_strict(Path(out))
    return 1 if failures else 0


def print_seed_vs_strict(out: Path) -> None:
    """When the instance holds both protocols, the leaderboard wrote seed_vs_strict.json beside the
    results: print which defect moved each task, step by step in the stated order."""
    import json

    path = out / "seed_vs_strict.json"
    if not path.exists():
        print("seed vs strict: materialize the other protocol in the same instance to see it side by side")
        return
    doc = json.loads(path.read_text())
    print(f"seed vs strict ({doc['order']}); per row: {out / 'seed_vs_strict.md'}")
    for e in doc["by_task"]:
        if e["step"] == "remainder" and not e["models_moved"]:
            continue
        mean = "not split" if e["mean_delta"] is None else f"mean {e['mean_delta']:+.4f}, largest {e['largest_delta']:+.4f}"
        print(f"  {e['task']:3s} {e['metric']:9s} {e['step']:20s} moved {e['models_moved']}/{e['models']} models: {mean}")
