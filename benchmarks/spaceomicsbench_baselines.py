"""SpaceOmicsBench: all 21 task partitions x 7 baselines through Dagster vs the published
``baselines/run_baselines.py`` on the same machine (issue 12).

Runs, each in a fresh subprocess (so peak RSS is the run's own):

- `dagster`: `genebench reproduce spaceomicsbench --protocol seed` (every task partition, then the
  leaderboard) into a temporary Dagster instance and data directory;
- `published`: the published script, from a checkout of github.com/jang1563/SpaceOmicsBench given by
  ``--published-repo`` (read from there, never copied here), with its ``data/processed`` pointed at
  ``--data/data`` through a temporary copy of the checkout's tree layout (symlinks).

Prints wall time, CPU time, peak RSS, the ratios dagster / published, and the key-by-key comparison of our
``baseline_results.json`` (fold means, stds, per-fold values) with (1) the published file and (2) the
published script's output re-run here (same libraries: what differs there is our code, not the
scikit-learn version), per model: how many fold means agree to 4 decimals, the largest |diff|. The
scikit-learn version is printed, since RandomForest depends on it.

The published file is read from ``--published-results``, else ../shared/data/spaceomicsbench/baselines/,
else $GENEBENCH_PUBLISHED_RESULTS (default ../shared/data/published_results)/spaceomicsbench/, else the
checkout. The checkout needs only ``baselines/``, ``tasks/`` and ``splits/`` (the script reads
``--data``); from a mirror whose large data blobs are absent, export those with ``git show HEAD:<path>``.

    nice -n 19 .venv/bin/python benchmarks/spaceomicsbench_baselines.py --data ../shared/data/spaceomicsbench \\
        [--published-repo /path/to/SpaceOmicsBench] [--skip-published] [--ours OUT/baseline_results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds user+sys, peak RSS MiB, return code) of this child alone
    (os.wait4). On a machine shared with others the CPU seconds are the comparable figure: wall
    time grows with everyone else's load."""
    t0 = time.perf_counter()
    log = open(Path(tempfile.gettempdir()) / f"soma_bench_{os.getpid()}_{int(t0)}.log", "w")
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    log.close()
    rc = os.waitstatus_to_exitcode(status)
    print(f"  (exit {rc}; log: {log.name})")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, rc


def published_results_path(explicit: str | None, published_repo: str | None) -> Path | None:
    """The published baselines/baseline_results.json: --published-results, else the shared data
    (../shared/data/spaceomicsbench/baselines/, or GENEBENCH_PUBLISHED_RESULTS /
    ../shared/data/published_results under spaceomicsbench/), else the checkout's. It is data from
    the published repository: read where it is, never copied into this repository."""
    if explicit:
        return Path(explicit)
    shared = REPO.parent / "shared" / "data"
    candidates = [shared / "spaceomicsbench" / "baselines" / "baseline_results.json",
                  Path(os.environ.get("GENEBENCH_PUBLISHED_RESULTS", shared / "published_results"))
                  / "spaceomicsbench" / "baseline_results.json"]
    if published_repo:
        candidates.append(Path(published_repo) / "baselines" / "baseline_results.json")
    return next((c for c in candidates if c.exists()), None)


def print_comparison(ours: dict, published: dict, published_path: Path) -> None:
    import sklearn

    from genebench_assets.science.spaceomicsbench.task_results import compare_results_files, max_diff_by_model

    rows, skipped = compare_results_files(ours, published)
    print(f"key-by-key vs {published_path} (scikit-learn {sklearn.__version__}; published: an earlier release)")
    print("  not compared: " + "; ".join(f"{t} ({why})" for t, why in sorted(skipped.items())))
    print(f"  {'model':20s} {'means =4dp':>11s} {'max|d| mean':>11s} {'at':18s} {'max|d| std':>10s} "
          f"{'max|d| fold':>11s} {'missing':>7s}")
    summary = max_diff_by_model(rows)
    rf = sorted(m for m in summary if m.endswith("rf"))
    for model in sorted(summary, key=lambda m: (m in rf, m)):
        m = summary[model]
        print(f"  {model:20s} {m['means_equal']:4d}/{m['means']:<6d} {m['max_abs_diff_mean']:11.4f} {m['where']:18s} "
              f"{m['max_abs_diff_std']:10.4f} {m['max_abs_diff_per_fold']:11.4f} {m['missing']:7d}")
    off = [r for r in rows if r["field"] == "mean" and r["diff"] and not r["model"].endswith("rf")]
    for r in off:
        print(f"    not RF, differs: {r['task']} {r['model']} {r['metric']}: published {r['published']} ours {r['ours']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "spaceomicsbench"))
    ap.add_argument("--published-repo", help="a checkout of the published SpaceOmicsBench repository")
    ap.add_argument("--published-results", help="the published baseline_results.json (default: in the checkout)")
    ap.add_argument("--skip-published", action="store_true", help="only the Dagster run")
    ap.add_argument("--ours", help="compare this baseline_results.json instead of running the Dagster side")
    args = ap.parse_args()
    data = Path(args.data).resolve()
    work = Path(tempfile.mkdtemp(prefix="soma_bench_"))
    rc = 0
    if args.ours:
        ours = json.loads(Path(args.ours).read_text())
    else:
        env = {**os.environ, "GENEBENCH_DATA_DIR": str(work / "data"), "DAGSTER_HOME": str(work / "dagster_home")}
        (work / "dagster_home").mkdir(parents=True)
        out = work / "out"
        wall_d, cpu_d, rss_d, rc = _timed([sys.executable, "-m", "genebench_assets.cli", "reproduce", "spaceomicsbench",
                                    "--data", str(data), "--protocol", "seed", "--out", str(out)], env, REPO)
        print(f"dagster   : wall {wall_d:8.1f}s  CPU {cpu_d:8.1f}s  peak RSS {rss_d:7.0f} MiB  rc={rc}")
        ours = json.loads((out / "baseline_results.json").read_text()) if (out / "baseline_results.json").exists() else {}
    published_json = published_results_path(args.published_results, args.published_repo)
    rerun = None
    if args.published_repo and not args.skip_published:
        pub = Path(args.published_repo).resolve()
        tree = work / "published"
        (tree / "data").mkdir(parents=True)
        (tree / "baselines").mkdir()
        for sub in ("tasks", "splits"):
            (tree / sub).symlink_to(pub / sub)
        (tree / "data" / "processed").symlink_to(data / "data")
        # A copy, not a symlink: the script finds data/ and writes baselines/ relative to
        # Path(__file__).resolve(), which would follow a symlink back into the checkout.
        script = tree / "baselines" / "run_baselines.py"
        shutil.copyfile(pub / "baselines" / "run_baselines.py", script)
        wall_p, cpu_p, rss_p, rc_p = _timed([sys.executable, str(script)], {**os.environ}, tree)
        print(f"published : wall {wall_p:8.1f}s  CPU {cpu_p:8.1f}s  peak RSS {rss_p:7.0f} MiB  rc={rc_p} "
              "(its B1/F1-F3 fail fast: data absent)")
        if not args.ours:
            print(f"ratio dagster/published: wall {wall_d / wall_p:.2f}x, CPU {cpu_d / cpu_p:.2f}x, "
                  f"peak RSS {rss_d / rss_p:.2f}x")
        if (tree / "baselines" / "baseline_results.json").exists():
            rerun = json.loads((tree / "baselines" / "baseline_results.json").read_text())
    if published_json and ours:
        print_comparison(ours, json.loads(published_json.read_text()), published_json)
    elif not published_json:
        print("published baseline_results.json not found (pass --published-results or --published-repo, or put it "
              "in ../shared/data/spaceomicsbench/baselines/): comparison skipped")
    if rerun is not None and ours:
        # Same libraries, same machine: what differs here is our code, not the library versions.
        print_comparison(ours, rerun, Path("the published run_baselines.py re-run here"))
    print(f"outputs in {work}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
