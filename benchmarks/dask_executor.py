"""The demo graph on the dask executor (2 local worker processes) vs in-process (issue 14).

Runs the benchmark path — catalog_job, study_job for every real study of the chosen tissues,
tissue_job per tissue — twice, each in a fresh child process with its own persistent instance and
data dir: once in-process (`execute_in_process`, what `genebench materialize` does) and once through
`genebench_executor`'s `dask` mode against a `dask scheduler` + 2 `dask worker` processes started on
127.0.0.1 (deploy/dask/run_config.yaml). Runs are submitted one after another, as the CLI does, so
dask parallelism is within a run (independent steps), not across runs.

Prints wall time and the peak total RSS of each child's whole process tree (sampled every 0.2 s:
the submitting process plus, for dask, the scheduler and the workers), and the ratios dask / in-process.

    .venv/bin/python benchmarks/dask_executor.py [--tissue gastrocnemius --tissue eye]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def child(mode: str, tissues: list[str], work: Path) -> dict:
    sys.path.insert(0, str(REPO))  # the test helper that starts dask processes
    import dagster as dg
    import yaml

    from genebench_assets.definitions import defs
    from genebench_assets.defs.runtime.execution import execute_job_by_name
    from genebench_assets.science.osdr.study_catalog import load_catalog
    from genebench_assets_tests.defs.dask_processes import dask_processes

    resources = {
        "settings": {"config": {"data_dir": str(work / "data"), "protocol": "strict"}},
        "osdr_source": {"config": {"mode": "demo", "demo_n_genes": 6000, "demo_publish_held_back": False}},
        "gene_set_settings": {"config": {"collections": {}, "symbol_map": ""}},
        "model_settings": {"config": {"models": ["lr", "negative_control"], "feature_sets": ["genes", "pathways"],
                                      "n_jobs": 1}},
    }
    pairs = [(t, m) for t, m in load_catalog().pairs() if t in tissues]
    plan = [("catalog_job", None)] + [("study_job", dg.MultiPartitionKey({"tissue": t, "mission": m}))
                                      for t, m in pairs] + [("tissue_job", t) for t in tissues]
    (work / "home").mkdir(parents=True)
    with dg.DagsterInstance.local_temp(str(work / "home")) as instance:
        t0 = time.perf_counter()
        if mode == "inprocess":
            results = [defs.resolve_job_def(job).execute_in_process(
                instance=instance, run_config={"resources": resources}, partition_key=pk, raise_on_error=False)
                for job, pk in plan]
        else:
            config = {**yaml.safe_load((REPO / "deploy" / "dask" / "run_config.yaml").read_text()),
                      "resources": resources}
            with dask_processes(2) as (address, _):
                os.environ["GENEBENCH_DASK_SCHEDULER"] = address
                t0 = time.perf_counter()  # cluster start-up excluded: a deployment has it running
                results = [execute_job_by_name(instance, job, config, pk) for job, pk in plan]
        wall = time.perf_counter() - t0
    return {"wall": wall, "runs": len(results), "failed": [r.job_def.name for r in results if not r.success]}


def measure(mode: str, tissues: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"genebench-dask-bench-{mode}-") as tmp:
        args = [sys.executable, __file__, "--child", mode, "--work", tmp, *sum((["--tissue", t] for t in tissues), [])]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        peak, root = 0, psutil.Process(proc.pid)

        def sample():
            nonlocal peak
            while proc.poll() is None:
                try:
                    tree = [root, *root.children(recursive=True)]
                    peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
                except psutil.Error:
                    pass
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, _ = proc.communicate()
        sampler.join()
        result = json.loads(out.strip().splitlines()[-1])
        result["peak_rss_mb"] = peak / 2**20
        return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tissue", action="append")
    p.add_argument("--child", choices=["inprocess", "dask"], help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    args = p.parse_args()
    tissues = args.tissue or ["gastrocnemius", "eye"]
    if args.child:
        print(json.dumps(child(args.child, tissues, Path(args.work))))
        return 0
    results = {mode: measure(mode, tissues) for mode in ("inprocess", "dask")}
    for mode, r in results.items():
        print(f"  {mode:10s} {r['wall']:7.1f}s  peak RSS (process tree) {r['peak_rss_mb']:7.0f} MB  "
              f"{r['runs']} runs, failed: {r['failed'] or 'none'}")
    base, dask = results["inprocess"], results["dask"]
    print(f"dask (2 workers) / in-process: wall time x{dask['wall'] / base['wall']:.2f}, "
          f"peak RSS x{dask['peak_rss_mb'] / base['peak_rss_mb']:.2f} (tissues: {', '.join(tissues)})")
    return 1 if base["failed"] or dask["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
