"""Calibration of leakage check 6 (`no_expression_near_duplicates`, issue 9) on the demo simulator.

For pairs of simulated studies of one tissue (train study S, test study T, the demo's own model:
shared tissue / mission / study effects, animal-level pathway activity, gamma-Poisson counts), three
kinds of (test, train) pairs are made and normalized as the pipeline does (DESeq2 size factors per
study, log2(x + 1)):

- different animals: every original T sample vs every S sample;
- re-processed duplicates: each S library re-processed into T (`demo_simulator.reprocessed_duplicate`:
  Poisson-resampled at 90 % depth, rescaled per gene by one ~10 % pipeline bias), vs its original;
- technical replicates: each S library sequenced again into T (`technical_replicate`, depth 50-100 %).

Prints, per statistic, the distribution (min / 5 % / median / 95 % / max) of each kind and the gap
between the highest different-animal pair and the lowest duplicate / replicate:
- `fingerprint` - `leakage_checks.fingerprint_similarity`, the check's statistic;
- `pearson_z` - the baseline measured in the same run: plain Pearson r of z-scored profiles (z with
  the training samples' gene means and SDs), what the issue measured at r = 0.87-0.89.
The threshold (`leakage_checks.NEAR_DUPLICATE_THRESHOLD`) is checked to sit inside the fingerprint gap.

    .venv/bin/python benchmarks/near_duplicate_calibration.py [--genes 6000 --seed 42]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from genebench_assets.science.expression.normalization import log2_normalized
from genebench_assets.science.osdr import demo_simulator as sim
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets.science.tasks import leakage_checks as lc

PAIRS = [("liver", "RR-1", "RR-6"), ("liver", "RR-8", "RR-9"), ("gastrocnemius", "RR-1", "RR-9"),
         ("thymus", "RR-6", "RR-9")]


def _study_counts(universe, catalog, tissue, mission):
    study = catalog.studies_for(tissue, mission)[0]
    samples = sim._plan_samples(study, [], sim._study_group_strings([study]))
    counts = sim._simulate_row(universe, study, samples)
    return pd.DataFrame(counts, index=universe.gene_ids, columns=[f"{mission}:{s['name']}" for s in samples])


def _pearson_z(expr, test, train):
    tr = expr[train]
    mu, sd = tr.mean(axis=1), tr.std(axis=1, ddof=1).replace(0, np.nan)
    z = expr.sub(mu, axis=0).div(sd, axis=0).dropna()
    return pd.DataFrame(np.corrcoef(z[test].T.to_numpy(), z[train].T.to_numpy())[: len(test), len(test):],
                        index=test, columns=train)


def calibrate(n_genes: int = 6000, seed: int = 42) -> dict[str, dict[str, list[float]]]:
    catalog = load_catalog()
    universe = sim._Universe(seed, n_genes)
    rng = np.random.default_rng(seed)
    out = {"fingerprint": {"different animals": [], "re-processed duplicates": [], "technical replicates": []},
           "pearson_z": {"different animals": [], "re-processed duplicates": [], "technical replicates": []}}
    for tissue, ms, mt in PAIRS:
        S = _study_counts(universe, catalog, tissue, ms)
        T = _study_counts(universe, catalog, tissue, mt)
        bias = sim.pipeline_bias(rng, n_genes)  # one other pipeline for the whole re-processed set
        dups = {f"dup:{c}": sim.reprocessed_duplicate(S[c].to_numpy(), rng, bias=bias) for c in S.columns}
        reps = {f"rep:{c}": sim.technical_replicate(S[c].to_numpy(), rng, depth=rng.uniform(0.5, 1.0)) for c in S.columns}
        T_all = pd.concat([T, pd.DataFrame(dups, index=S.index), pd.DataFrame(reps, index=S.index)], axis=1)
        expr = pd.concat([log2_normalized(S, study="S")[0], log2_normalized(T_all, study="T")[0]], axis=1)
        study_of = {c: "S" for c in S.columns} | {c: "T" for c in T_all.columns}
        train, test = list(S.columns), list(T_all.columns)
        for stat, frame in (("fingerprint", lc.fingerprint_similarity(expr, study_of, test, train)),
                            ("pearson_z", _pearson_z(expr, test, train))):
            out[stat]["different animals"] += frame.loc[list(T.columns)].to_numpy().ravel().tolist()
            out[stat]["re-processed duplicates"] += [frame.at[f"dup:{c}", c] for c in S.columns]
            out[stat]["technical replicates"] += [frame.at[f"rep:{c}", c] for c in S.columns]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    dists = calibrate(args.genes, args.seed)
    gaps = {}
    for stat, kinds in dists.items():
        print(f"\n{stat}:  kind                       n     min     5%   median    95%     max")
        for kind, values in kinds.items():
            v = np.asarray(values)
            q = np.quantile(v, [0, 0.05, 0.5, 0.95, 1])
            print(f"    {kind:<26}{len(v):5d}  " + "  ".join(f"{x:6.3f}" for x in q))
        low = min(min(kinds["re-processed duplicates"]), min(kinds["technical replicates"]))
        gaps[stat] = low - max(kinds["different animals"])
        print(f"    gap (lowest duplicate/replicate - highest different-animal pair): {gaps[stat]:+.3f}")
    thr = lc.NEAR_DUPLICATE_THRESHOLD
    fp = dists["fingerprint"]
    inside = max(fp["different animals"]) < thr < min(min(fp["re-processed duplicates"]), min(fp["technical replicates"]))
    print(f"\nthreshold {thr} inside the fingerprint gap: {inside}")
    print(f"separation ratio fingerprint gap / pearson_z gap (baseline, same run): "
          f"{gaps['fingerprint']:+.3f} / {gaps['pearson_z']:+.3f}")
    print(f"wall {time.perf_counter() - t0:.1f} s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0 if inside else 1


if __name__ == "__main__":
    raise SystemExit(main())
