"""pandas vs polars reading a GeneLab-sized counts file (issue 14).

Writes a GeneLab RSEM unnormalized counts CSV of ~55,000 genes x ~100 samples (Ensembl ids, RSEM
expected counts with decimals, as GeneLab ships them), then reads it in fresh subprocesses:

- `pandas`: the call `read_counts_csv` used before (pd.read_csv, all columns typed by pandas);
- `polars`: `science/osdr/polars_csv.read_csv_cells` (polars reads strings, casts what is numeric);
- `read_counts_csv`: the whole validated parser, as the assets run it (structure scan + values).

Prints each reader's wall time (best of --repeat) and the peak RSS the read adds over the same
imports, and the ratios pandas / polars.

    .venv/bin/python benchmarks/counts_parsing.py [--genes 55000 --samples 100 --repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

READERS = {  # (imports, not timed; the read, timed)
    "pandas": ("import pandas as pd", "df = pd.read_csv(PATH, header=0, dtype={0: str}, keep_default_na=False, "
               "na_values=[], encoding='utf-8-sig', low_memory=False)"),
    "polars": ("import pandas, polars; from genebench_assets.science.osdr.polars_csv import read_csv_cells",
               "df = read_csv_cells(PATH)"),
    "read_counts_csv": ("import pandas, polars; from genebench_assets.science.osdr.parsing import read_counts_csv",
                        "df = read_counts_csv(PATH, osd='OSD-0')"),
}

CHILD = """
import json, resource, sys, time
PATH = sys.argv[1]
import pandas, polars, genebench_assets.science.osdr.parsing  # the same imports for every reader
{imports}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
{reader}
wall = time.perf_counter() - t0
print(json.dumps({{"wall": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before,
                   "shape": list(df.shape)}}))
"""


def write_counts(path: Path, n_genes: int, n_samples: int, seed: int = 42) -> None:
    rng = np.random.default_rng(seed)
    means = rng.lognormal(3.0, 2.0, n_genes)
    values = rng.poisson(means[:, None] * rng.uniform(0.5, 1.5, n_samples)) + rng.integers(0, 100, (n_genes, n_samples)) / 100
    values[rng.random(values.shape) < 0.3] = 0  # many zero rows/cells, as in real RSEM output
    samples = [f"Mmus_C57-6J_LVR_FLT_Rep{i}_F{i}" for i in range(n_samples)]
    with open(path, "w") as f:
        f.write("," + ",".join(samples) + "\n")
        for i in range(n_genes):
            f.write(f"ENSMUSG{i:011d}," + ",".join(f"{v:.2f}" for v in values[i]) + "\n")


def measure(reader: str, path: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD.format(imports=READERS[reader][0], reader=READERS[reader][1]), str(path)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"wall": min(r["wall"] for r in runs), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "shape": runs[0]["shape"]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--genes", type=int, default=55_000)
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="genebench-counts-") as tmp:
        path = Path(tmp) / "GLDS-0_rna_seq_RSEM_Unnormalized_Counts.csv"
        t = time.perf_counter()
        write_counts(path, args.genes, args.samples)
        print(f"counts file: {args.genes} genes x {args.samples} samples, {path.stat().st_size / 1e6:.0f} MB "
              f"(written in {time.perf_counter() - t:.1f}s)")
        results = {name: measure(name, path, args.repeat) for name in READERS}
    for name, r in results.items():
        print(f"  {name:16s} {r['wall']:7.2f}s  peak RSS +{r['peak_rss_mb']:6.0f} MB  shape {r['shape']}")
    pd_, pl_ = results["pandas"], results["polars"]
    print(f"pandas / polars: wall time x{pd_['wall'] / pl_['wall']:.2f}, peak RSS x{pd_['peak_rss_mb'] / pl_['peak_rss_mb']:.2f} "
          "(> 1: polars is better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
