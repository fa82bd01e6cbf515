"""Pathway-scoring benchmark: our `score_pathways` path vs a plain `gseapy.gsva(..., threads=1)` call.

    .venv/bin/python benchmarks/pathway_scoring.py [--repeat N (default 3)] [--no-strict]

Input: `../shared/data/reference_outputs/counts_large.csv` (20,000 genes x 120 samples) with its R
DESeq2 size factors, and the 50 mouse Hallmark sets. Each section runs in its own subprocess so its
peak RSS (getrusage ru_maxrss) is its own:

- `ours`: read the CSV -> normalize with the given size factors -> log2(x + 1) -> score_pathways
  (GSVA, Gaussian kernel) -> write Parquet atomically. All of it is timed.
- `baseline`: the same matrix prepared untimed, then only `gseapy.gsva(log2, sets, kcdf="Gaussian",
  threads=1)` is timed (the library call, nothing else).
- `strict` (information): `gsva_with_reference` with every sample as reference (our numpy port of
  R GSVA's kernel step, used by the strict protocol's folds).

Ratios are ours / baseline from the same run; with --repeat N each section runs N times and the
fastest run counts. Peak memory is reported as the process peak and as the increase over the RSS
right before the timed part (the baseline's input is already in memory by then, ours is not).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GENEBENCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
COUNTS = SHARED / "reference_outputs" / "counts_large.csv"
SIZE_FACTORS = SHARED / "reference_outputs" / "deseq2_size_factors_large.csv"
HALLMARK = SHARED / "gene_sets" / "mouse_hallmark_v7.0.gmt"


def _rss_mb() -> float:
    """Current resident set size in MB (Linux /proc), for the 'before' mark."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KB on Linux


def _read_inputs():
    import pandas as pd

    counts = pd.read_csv(COUNTS, index_col=0)
    size_factors = pd.read_csv(SIZE_FACTORS, index_col=0)["size_factor"]
    return counts, size_factors


def _log2_normalized(counts, size_factors):
    import numpy as np

    from genebench_assets.science.expression.normalization import normalize_counts

    return np.log2(normalize_counts(counts, size_factors) + 1.0)


def section(name: str) -> dict:
    """Run one section in this process and return its measurements."""
    import numpy as np  # noqa: F401  (imports are not part of any timing)
    import pandas as pd  # noqa: F401

    import gseapy

    from genebench_assets.science.storage.atomic_files import write_parquet
    from genebench_assets.science.pathways.gene_sets import read_gmt
    from genebench_assets.science.pathways.pathway_scoring import gsva_with_reference, score_pathways

    sets = read_gmt(HALLMARK)
    info: dict = {"section": name}
    if name == "ours":
        with tempfile.TemporaryDirectory() as tmp:
            before = _rss_mb()
            t0 = time.perf_counter()
            counts, size_factors = _read_inputs()
            t_read = time.perf_counter()
            log2 = _log2_normalized(counts, size_factors)
            t_norm = time.perf_counter()
            scores = score_pathways(log2, sets, method="gsva", kcdf="Gaussian", threads=1)
            t_score = time.perf_counter()
            write_parquet(scores, Path(tmp) / "pathway_scores.parquet")
            t_end = time.perf_counter()
        info.update(
            wall_s=t_end - t0, read_s=t_read - t0, normalize_s=t_norm - t_read, score_s=t_score - t_norm,
            write_s=t_end - t_score, shape=list(scores.shape),
        )
    else:
        counts, size_factors = _read_inputs()
        log2 = _log2_normalized(counts, size_factors)
        before = _rss_mb()
        t0 = time.perf_counter()
        if name == "baseline":
            result = gseapy.gsva(log2, sets, kcdf="Gaussian", min_size=15, max_size=500, threads=1, outdir=None)
            shape = [result.res2d["Term"].nunique(), result.res2d["Name"].nunique()]
        elif name == "strict":
            shape = list(gsva_with_reference(log2, sets, list(log2.columns)).shape)
        else:
            raise SystemExit(f"unknown section {name!r}")
        info.update(wall_s=time.perf_counter() - t0, shape=shape)
    info.update(rss_before_mb=before, peak_rss_mb=_peak_rss_mb())
    info["peak_increase_mb"] = info["peak_rss_mb"] - before
    return info


def _run_child(name: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, __file__, "--section", name], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"section {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _describe_input() -> str:
    import pandas as pd

    from genebench_assets.science.pathways.gene_sets import filter_gene_sets, read_gmt

    genes = pd.read_csv(COUNTS, index_col=0, usecols=[0]).index
    sets = read_gmt(HALLMARK)
    hallmark_genes = set().union(*sets.values())
    synthetic = genes.str.match(r"^Fill\d+$")
    kept, report = filter_gene_sets(sets, genes)
    return (
        f"input: {len(genes):,} genes x 120 samples; {int(synthetic.sum()):,} synthetic filler names "
        f"(Fill*), {len(genes) - int(synthetic.sum()):,} mouse symbols, {len(hallmark_genes & set(genes)):,} of "
        f"them in Hallmark; Hallmark sets scored: {report['n_kept']}/{len(sets)} "
        f"(sizes {min(report['kept'].values())}..{max(report['kept'].values())})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3, help="runs per section (default 3); the fastest counts")
    parser.add_argument("--no-strict", action="store_true", help="skip the strict-protocol section")
    args = parser.parse_args()
    if args.section:
        print(json.dumps(section(args.section)))
        return
    for path in (COUNTS, SIZE_FACTORS, HALLMARK):
        if not path.exists():
            raise SystemExit(f"reference data not found: {path}")

    print(_describe_input())
    names = ["baseline", "ours"] + ([] if args.no_strict else ["strict"])
    best: dict[str, dict] = {}
    for _ in range(max(1, args.repeat)):
        for name in names:
            run = _run_child(name)
            if name not in best or run["wall_s"] < best[name]["wall_s"]:
                best[name] = run
    base, ours = best["baseline"], best["ours"]
    print(f"baseline gseapy.gsva(threads=1): {base['wall_s']:.2f} s, peak RSS {base['peak_rss_mb']:.0f} MB "
          f"(+{base['peak_increase_mb']:.0f} MB over its loaded input)")
    print(f"ours (read CSV + normalize + score_pathways + write Parquet): {ours['wall_s']:.2f} s "
          f"[read {ours['read_s']:.2f}, normalize {ours['normalize_s']:.2f}, score {ours['score_s']:.2f}, "
          f"write {ours['write_s']:.2f}], peak RSS {ours['peak_rss_mb']:.0f} MB "
          f"(+{ours['peak_increase_mb']:.0f} MB, input loading included)")
    if "strict" in best:
        strict = best["strict"]
        print(f"strict gsva_with_reference (all samples as reference): {strict['wall_s']:.2f} s, "
              f"peak RSS {strict['peak_rss_mb']:.0f} MB (+{strict['peak_increase_mb']:.0f} MB)")
    print(f"ratio ours / baseline: wall {ours['wall_s'] / base['wall_s']:.2f}x, "
          f"scoring only {ours['score_s'] / base['wall_s']:.2f}x, "
          f"peak RSS {ours['peak_rss_mb'] / base['peak_rss_mb']:.2f}x")
    if "strict" in best:
        print(f"ratio strict / baseline: wall {best['strict']['wall_s'] / base['wall_s']:.2f}x")


if __name__ == "__main__":
    main()
