"""SpaceOmicsBench: all 21 task partitions x 7 baselines through Dagster vs the published
``baselines/run_baselines.py`` on the same machine (issue 12).

Runs, each in a fresh subprocess (so peak RSS is the run's own):

- `dagster`: `genebench reproduce spaceomicsbench --protocol seed` (every task partition, then the
  leaderboard) into a temporary Dagster instance and data directory;
- `published`: the published script, from a checkout of github.com/jang1563/SpaceOmicsBench given by
  ``--published-repo`` (read from there, never copied here), with its ``data/processed`` pointed at
  ``--data/data`` through a temporary copy of the checkout's tree layout (symlinks).

Prints wall time, peak RSS, the ratio dagster / published, and the key-by-key comparison of the two
``baseline_results.json`` files (per model: how many fold-mean metrics agree to 4 decimals, max
|diff|) with the scikit-learn version, since RandomForest depends on it.

    .venv/bin/python benchmarks/spaceomicsbench_baselines.py --data ../shared/data/spaceomicsbench \\
        [--published-repo /path/to/SpaceOmicsBench] [--skip-published]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB of this child alone (os.wait4), return code)."""
    t0 = time.perf_counter()
    log = open(Path(tempfile.gettempdir()) / f"soma_bench_{os.getpid()}_{int(t0)}.log", "w")
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    log.close()
    rc = os.waitstatus_to_exitcode(status)
    if rc:
        print(f"  (exit {rc}; log: {log.name})")
    return wall, usage.ru_maxrss / 1024, rc


def compare(ours: dict, published: dict) -> dict:
    from genebench_assets.science.spaceomicsbench.task_results import compare_with_published

    per_model: dict[str, dict] = {}
    for task, res in published.items():
        if task.startswith("_") or task not in ours or "error" in ours[task] or "error" in res:
            continue
        for row in compare_with_published(ours[task], res):
            m = per_model.setdefault(row["model"], {"exact": 0, "total": 0, "max_abs_diff": 0.0})
            m["total"] += 1
            m["exact"] += bool(row["exact"])
            if row["diff"] is not None:
                m["max_abs_diff"] = max(m["max_abs_diff"], abs(row["diff"]))
    return per_model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "spaceomicsbench"))
    ap.add_argument("--published-repo", help="a checkout of the published SpaceOmicsBench repository")
    ap.add_argument("--published-results", help="the published baseline_results.json (default: in the checkout)")
    ap.add_argument("--skip-published", action="store_true", help="only the Dagster run")
    args = ap.parse_args()
    import sklearn

    data = Path(args.data).resolve()
    work = Path(tempfile.mkdtemp(prefix="soma_bench_"))
    env = {**os.environ, "GENEBENCH_DATA_DIR": str(work / "data"), "DAGSTER_HOME": str(work / "dagster_home")}
    (work / "dagster_home").mkdir(parents=True)
    out = work / "out"
    wall_d, rss_d, rc = _timed([sys.executable, "-m", "genebench_assets.cli", "reproduce", "spaceomicsbench",
                                "--data", str(data), "--protocol", "seed", "--out", str(out)], env, REPO)
    print(f"dagster   : {wall_d:8.1f}s  peak RSS {rss_d:7.0f} MiB  rc={rc}")
    ours = json.loads((out / "baseline_results.json").read_text()) if (out / "baseline_results.json").exists() else {}
    published_json = Path(args.published_results) if args.published_results else (
        Path(args.published_repo) / "baselines" / "baseline_results.json" if args.published_repo else None)
    if args.published_repo and not args.skip_published:
        pub = Path(args.published_repo).resolve()
        tree = work / "published"
        (tree / "data").mkdir(parents=True)
        for sub in ("tasks", "splits", "baselines"):
            (tree / sub).symlink_to(pub / sub) if sub != "baselines" else (tree / sub).mkdir()
        (tree / "data" / "processed").symlink_to(data / "data")
        script = tree / "baselines" / "run_baselines.py"
        script.symlink_to(pub / "baselines" / "run_baselines.py")
        wall_p, rss_p, rc_p = _timed([sys.executable, str(script)], {**os.environ}, tree)
        print(f"published : {wall_p:8.1f}s  peak RSS {rss_p:7.0f} MiB  rc={rc_p}")
        print(f"ratio dagster/published: wall {wall_d / wall_p:.2f}x")
    if published_json and published_json.exists() and ours:
        print(f"scikit-learn {sklearn.__version__}: fold means equal to the published ones (4 decimals):")
        for model, m in sorted(compare(ours, json.loads(published_json.read_text())).items()):
            print(f"  {model:20s} {m['exact']:3d}/{m['total']:3d}  max|diff| {m['max_abs_diff']:.4f}")
    print(f"outputs in {work}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
