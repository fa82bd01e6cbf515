"""SpaceOmicsBench: all 21 task partitions x 7 baselines through Dagster vs the published
``baselines/run_baselines.py`` on the same machine, in one command (issue 12).

Runs, one after the other, each in a fresh subprocess (so its peak RSS and CPU are its own):

- `dagster`: `genebench reproduce spaceomicsbench --protocol seed` (every task partition, then the
  leaderboard) into a temporary Dagster instance and data directory;
- `published`: the published script, from a checkout of https://github.com/jang1563/SpaceOmicsBench
  given by ``--published-repo`` (read from there, never copied here), with its ``data/processed``
  pointed at ``--data/data`` through a temporary copy of the checkout's tree layout (symlinks). Without
  a checkout the Dagster half still runs and the printout says how to get one (``git clone``).

Prints, per side: wall time, CPU seconds of the process tree (user+sys of the child and everything it
waited for, from ``os.wait4``: insensitive to the machine's load, unlike wall time), peak RSS; the
ratios dagster / published; the load average at start and end; and the key-by-key comparison of our
``baseline_results.json`` (fold means, stds, per-fold values) with (1) the published file and (2) the
published script's output re-run here (same libraries: what differs there is our code, not the
scikit-learn version), per model: how many fold means agree to 4 decimals, the largest |diff|. The
scikit-learn version is printed, since RandomForest depends on it.

``--tasks A1,A2,G1`` runs a subset on both sides (the published script through its own ``main()`` with
its task lists narrowed), to check the benchmark in a minute before the full ~30-minute run.

The published file is read from ``--published-results``, else ../shared/data/spaceomicsbench/baselines/,
else $GENEBENCH_PUBLISHED_RESULTS (default ../shared/data/published_results)/spaceomicsbench/, else the
checkout. The checkout needs only ``baselines/``, ``tasks/`` and ``splits/`` (the script reads
``--data``); from a mirror whose large data blobs are absent, export those with ``git show HEAD:<path>``.

    nice -n 19 .venv/bin/python benchmarks/spaceomicsbench_baselines.py --data ../shared/data/spaceomicsbench \\
        [--published-repo /path/to/SpaceOmicsBench] [--tasks A1,A2] [--skip-published] [--ours OUT/baseline_results.json]
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


def print_comparison(ours: dict, published: dict, published_path: Path, versions: str) -> None:
    import sklearn

    from genebench_assets.science.spaceomicsbench.task_results import compare_results_files, max_diff_by_model

    rows, skipped = compare_results_files(ours, published)
    print(f"key-by-key vs {published_path} (ours: scikit-learn {sklearn.__version__}; {versions})")
    print("  not compared: " + ("; ".join(f"{t} ({why})" for t, why in sorted(skipped.items())) or "none"))
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


PUBLISHED_URL = "https://github.com/jang1563/SpaceOmicsBench"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} CPUs)"


def _published_tree(pub: Path, data: Path, work: Path, tasks: list[str] | None) -> tuple[Path, list[str]]:
    """The checkout's layout in a temporary tree (tasks/, splits/ symlinked, data/processed -> --data/data),
    with a copy of run_baselines.py, and the command that runs it (all tasks, or ``tasks`` only)."""
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
    if not tasks:
        return tree, [sys.executable, str(script)]
    # The script has no task option: run its own main() with its task lists narrowed (its B1
    # ablation still runs, and fails fast: data absent).
    driver = tree / "baselines" / "run_subset.py"
    driver.write_text("import sys\n"
                      f"sys.path.insert(0, {str(script.parent)!r})\n"
                      "import run_baselines as rb\n"
                      f"rb.MAIN_TASKS = [t for t in rb.MAIN_TASKS if t in {tasks!r}]\n"
                      f"rb.SUPPLEMENTARY_TASKS = [t for t in rb.SUPPLEMENTARY_TASKS if t in {tasks!r}]\n"
                      "rb.ALL_TASKS = rb.MAIN_TASKS + rb.SUPPLEMENTARY_TASKS\n"
                      "sys.exit(rb.main() or 0)\n")
    return tree, [sys.executable, str(driver)]


def _ours_from_store(data_dir: Path, tasks: list[str]) -> dict:
    """A subset run writes no leaderboard: the per-task results from the stored evaluations."""
    out = {}
    for t in tasks:
        p = data_dir / "tables" / "soma_evaluation" / "seed" / f"{t}.json"
        if p.exists():
            rec = json.loads(p.read_text())
            out[t] = rec["results"] if rec["status"] == "available" else {"error": rec["status"]}
    return out


def _subset(results: dict, tasks: list[str] | None) -> dict:
    return results if not tasks else {t: v for t, v in results.items() if t in tasks}


def _side(name: str, m: dict | None) -> str:
    if m is None:
        return f"{name:10s}: not run"
    return (f"{name:10s}: wall {m['wall']:8.1f} s  CPU {m['cpu']:8.1f} s (process tree, user+sys)  "
            f"peak RSS {m['rss']:7.0f} MiB  exit {m['rc']}")


def main() -> int:
    from genebench_assets.science.spaceomicsbench.task_definitions import TASK_IDS

    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "spaceomicsbench"))
    ap.add_argument("--published-repo", help=f"a checkout of the published repository ({PUBLISHED_URL})")
    ap.add_argument("--published-results", help="the published baseline_results.json (default: in the checkout)")
    ap.add_argument("--tasks", help="comma-separated subset, e.g. A1,A2,G1 (both sides; default: all 21)")
    ap.add_argument("--skip-published", action="store_true", help="only the Dagster run")
    ap.add_argument("--ours", help="compare this baseline_results.json instead of running the Dagster side")
    args = ap.parse_args()
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    unknown = sorted(set(tasks or []) - set(TASK_IDS))
    if unknown:
        print(f"--tasks: unknown task ids {unknown}; expected some of {list(TASK_IDS)}")
        return 2
    data = Path(args.data).resolve()
    if not (data / "tasks").is_dir():
        print(f"--data {data}: no tasks/ folder (expected the SpaceOmicsBench directory with tasks/, splits/, data/)")
        return 2
    pub = Path(args.published_repo).resolve() if args.published_repo else None
    pub_missing = None
    if args.skip_published:
        pub_missing = "--skip-published"
    elif pub is None or not (pub / "baselines" / "run_baselines.py").exists():
        pub_missing = (f"{'--published-repo not given' if pub is None else f'{pub} has no baselines/run_baselines.py'}"
                       f"; get it with:  git clone {PUBLISHED_URL} /tmp/SpaceOmicsBench  and pass "
                       "--published-repo /tmp/SpaceOmicsBench (it needs baselines/, tasks/, splits/; the data is "
                       "read from --data)")
    work = Path(tempfile.mkdtemp(prefix="soma_bench_"))
    scope = f"tasks {','.join(tasks)}" if tasks else f"all {len(TASK_IDS)} tasks"
    print(f"SpaceOmicsBench baselines, seed protocol, {scope} x every baseline: Dagster vs the published "
          "run_baselines.py, one after the other on this machine", flush=True)
    load_start = _load()
    print(f"load average at start: {load_start}", flush=True)
    sides: dict[str, dict | None] = {"dagster": None, "published": None}
    ours: dict = {}
    rc = 0
    if args.ours:
        ours = json.loads(Path(args.ours).read_text())
    else:
        env = {**os.environ, "GENEBENCH_DATA_DIR": str(work / "data"), "DAGSTER_HOME": str(work / "dagster_home")}
        (work / "dagster_home").mkdir(parents=True)
        out = work / "out"
        cmd = [sys.executable, "-m", "genebench_assets.cli", "reproduce", "spaceomicsbench", "--data", str(data),
               "--protocol", "seed", "--out", str(out)]
        for t in tasks or []:
            cmd += ["--task", t]
        print("dagster   : genebench reproduce spaceomicsbench --protocol seed ... (running)", flush=True)
        wall, cpu, rss, rc = _timed(cmd, env, REPO)
        sides["dagster"] = {"wall": wall, "cpu": cpu, "rss": rss, "rc": rc}
        print(_side("dagster", sides["dagster"]) + f"  (load now {_load()})", flush=True)
        if tasks:
            ours = _ours_from_store(work / "data", tasks)
        elif (out / "baseline_results.json").exists():
            ours = json.loads((out / "baseline_results.json").read_text())
    rerun = None
    if pub_missing:
        print(f"published : not run: {pub_missing}", flush=True)
    else:
        tree, cmd = _published_tree(pub, data, work, tasks)
        print(f"published : {' '.join(cmd[1:])} (running)", flush=True)
        wall, cpu, rss, rc_p = _timed(cmd, {**os.environ}, tree)
        sides["published"] = {"wall": wall, "cpu": cpu, "rss": rss, "rc": rc_p}
        print(_side("published", sides["published"]) + "  (its B1/F1-F3 fail fast: data absent)"
              + f"  (load now {_load()})", flush=True)
        if (tree / "baselines" / "baseline_results.json").exists():
            rerun = json.loads((tree / "baselines" / "baseline_results.json").read_text())
    load_end = _load()
    print("\n== summary ==")
    print(f"scope: {scope}; seed protocol; Dagster side also computes a bootstrap CI per task and model "
          "(the published script does not)")
    print(_side("dagster", sides["dagster"]))
    print(_side("published", sides["published"]))
    d, p = sides["dagster"], sides["published"]
    if d and p and p["wall"] > 0 and p["cpu"] > 0:
        print(f"ratio dagster/published: wall {d['wall'] / p['wall']:.2f}x, CPU {d['cpu'] / p['cpu']:.2f}x "
              f"(CPU is the load-insensitive one), peak RSS {d['rss'] / p['rss']:.2f}x")
    else:
        print("ratio dagster/published: not available (one side did not run)")
    print(f"load average at start: {load_start}; at end: {load_end}")
    published_json = published_results_path(args.published_results, args.published_repo)
    if published_json and ours:
        print_comparison(ours, _subset(json.loads(published_json.read_text()), tasks), published_json,
                         "published file: made with an earlier scikit-learn, so RandomForest differs")
    elif not published_json:
        print("published baseline_results.json not found (pass --published-results or --published-repo, or put it "
              "in ../shared/data/spaceomicsbench/baselines/): comparison skipped")
    if rerun is not None and ours:
        # Same libraries, same machine: what differs here is our code, not the library versions.
        print_comparison(ours, _subset(rerun, tasks), Path("the published run_baselines.py re-run here"),
                         "same libraries, same machine: a difference here is our code's")
    print(f"outputs in {work}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
