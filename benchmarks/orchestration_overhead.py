"""Benchmark: how much of a genebench command's wall time is orchestration (issue 13 targets).

    .venv/bin/python benchmarks/orchestration_overhead.py [--release ../shared/data/genelab_release]
                                                          [--skip-materialize] [--skip-reproduce]

In ONE run, each in a fresh temporary DAGSTER_HOME and GENEBENCH_DATA_DIR (nothing of yours is touched):

1. `genebench materialize` (the whole demo benchmark graph);
2. `genebench reproduce pathway-lomo` for hallmark, kegg, reactome and mitocarta.

For each: the command's wall time (a subprocess, so imports count, as they do for a user), the number
of Dagster runs, and the time spent inside steps (sum of the STEP_SUCCESS/STEP_FAILURE durations of
every run, read back from the instance: asset bodies and asset checks, including their reads and
writes). Overhead = wall - in-step time: process start and imports, run creation, event-log writes,
resource set-up. Printed as ratios to the issue's targets (<= 1.00 meets it):

    materialize wall / 90 s,  reproduce (4 collections) wall / 15 s,  overhead % / 20 %

plus the slowest steps (where the time inside goes) and the peak RSS of the children.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"materialize": 90.0, "reproduce": 15.0, "overhead_pct": 20.0}
COLLECTIONS = ("hallmark", "kegg", "reactome", "mitocarta")


def _genebench(args: list[str], work: Path) -> tuple[float, subprocess.CompletedProcess]:
    env = dict(os.environ, DAGSTER_HOME=str(work / "home"), GENEBENCH_DATA_DIR=str(work / "data"))
    (work / "home").mkdir(parents=True, exist_ok=True)
    (work / "home" / "dagster.yaml").touch()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    return time.perf_counter() - t0, proc


def step_times(home: Path) -> tuple[int, float, dict[str, float]]:
    """(number of runs, total in-step seconds, seconds by step key) from the instance at `home`."""
    from dagster import DagsterEventType, DagsterInstance

    os.environ["DAGSTER_HOME"] = str(home)
    instance = DagsterInstance.get()
    by_step: dict[str, float] = defaultdict(float)
    runs = instance.get_runs()
    for run in runs:
        for rec in instance.all_logs(run.run_id, of_type={DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}):
            ev = rec.dagster_event
            data = ev.event_specific_data
            ms = getattr(data, "duration_ms", None) or 0.0
            by_step[f"{run.job_name}:{ev.step_key}"] += ms / 1000.0
    instance.dispose()
    return len(runs), sum(by_step.values()), dict(by_step)


def report(name: str, wall: float, home: Path, target: float) -> dict:
    n_runs, inside, by_step = step_times(home)
    overhead = wall - inside
    pct = 100.0 * overhead / wall if wall else float("nan")
    print(f"\n{name}: wall {wall:.1f} s in {n_runs} Dagster runs; inside steps {inside:.1f} s; "
          f"overhead {overhead:.1f} s = {pct:.0f} %")
    print(f"  ratio to target: wall {wall:.1f} / {target:.0f} s = {wall / target:.2f}; "
          f"overhead {pct:.0f} / {TARGETS['overhead_pct']:.0f} % = {pct / TARGETS['overhead_pct']:.2f}")
    print("  slowest steps (s, summed over partitions):")
    for step, s in sorted(by_step.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {s:7.1f}  {step}")
    return {"wall": wall, "runs": n_runs, "inside": inside, "overhead_pct": pct}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", default=str(ROOT.parent / "shared" / "data" / "genelab_release"))
    ap.add_argument("--skip-materialize", action="store_true")
    ap.add_argument("--skip-reproduce", action="store_true")
    args = ap.parse_args(argv)
    results, failed = {}, False
    with tempfile.TemporaryDirectory(prefix="genebench_overhead_") as tmp:
        tmp = Path(tmp)
        if not args.skip_materialize:
            work = tmp / "materialize"
            wall, proc = _genebench(["materialize"], work)
            failed |= proc.returncode != 0
            if proc.returncode:
                print(proc.stdout[-2000:], proc.stderr[-2000:])
            results["materialize"] = report("genebench materialize (demo)", wall, work / "home", TARGETS["materialize"])
        if not args.skip_reproduce:
            if not Path(args.release).is_dir():
                print(f"\nskipping reproduce: no release at {args.release}")
            else:
                work = tmp / "reproduce"
                wall = 0.0
                for db in COLLECTIONS:
                    w, proc = _genebench(["reproduce", "pathway-lomo", "--release", args.release, "--db", db,
                                          "--out", str(work / "out")], work)
                    print(f"  reproduce {db:10s} {w:6.1f} s" + ("" if proc.returncode == 0 else "  FAILED"))
                    failed |= proc.returncode != 0
                    wall += w
                results["reproduce"] = report("genebench reproduce pathway-lomo (4 collections)", wall,
                                              work / "home", TARGETS["reproduce"])
    print("\nsummary (ratio to target, <= 1.00 meets it):")
    for name, r in results.items():
        print(f"  {name:12s} wall {r['wall'] / TARGETS[name]:.2f}   overhead {r['overhead_pct'] / TARGETS['overhead_pct']:.2f}")
    print(f"peak RSS of the genebench processes: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB; "
          f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
