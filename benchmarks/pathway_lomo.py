"""Benchmark: evaluation of the published pathway LOMO, vectorized vs the published-style loop.

    .venv/bin/python benchmarks/pathway_lomo.py [--release ../shared/data/genelab_release]
                                                [--tissues liver,eye] [--n-boot 2000] [--n-perm 1000]

Six tissues x Hallmark x {LR, PCA-LR}, every LOMO fold: the models are fitted once and both
paths evaluate the same test scores in the same run:

- ours: ``genebench_assets.science.evaluation.lomo_evaluation.evaluate_fold`` (AUROC from sorted ranks, all
  bootstrap / permutation draws at once, sklearn-identical floats);
- reference: what the published scripts did: a fresh ``RandomState(42)`` per fold for each test,
  ``sklearn.metrics.roc_auc_score`` called once per bootstrap draw and once per permutation.

The numbers (AUROC, CI bounds, permutation p of every fold) must be identical, and the resulting
tables must equal the published Hallmark tables; the script exits non-zero otherwise. Printed:
wall time of each path, their ratio, each path's peak traced memory (tracemalloc, measured in a
separate untimed run) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genebench_assets.science.evaluation import lomo_evaluation as evaluation

from genebench_assets.science.release import pathway_lomo  # noqa: E402

FIXTURES = ROOT / "genebench_assets_tests" / "fixtures" / "published_pathway_results"
TISSUES = ("liver", "gastrocnemius", "kidney", "thymus", "skin", "eye")


def reference_evaluate(y: np.ndarray, s: np.ndarray, n_boot: int, n_perm: int) -> dict:
    """The straightforward loop of the published scripts."""
    from sklearn.metrics import roc_auc_score

    auroc = float(roc_auc_score(y, s))
    rng = np.random.RandomState(42)
    boots = []
    for _ in range(n_boot):
        idx = rng.randint(0, len(y), len(y))
        if len(np.unique(y[idx])) < 2:
            continue
        boots.append(roc_auc_score(y[idx], s[idx]))
    rng = np.random.RandomState(42)
    null = np.array([roc_auc_score(rng.permutation(y), s) for _ in range(n_perm)])
    return {"auroc": auroc, "ci_lower": float(np.percentile(boots, 2.5)), "ci_upper": float(np.percentile(boots, 97.5)),
            "perm_p": float((np.sum(null >= auroc) + 1) / (n_perm + 1))}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def traced_peak(fn) -> int:
    """Peak bytes allocated while ``fn`` runs (tracemalloc; a separate, untimed run because
    tracing slows allocation-heavy code such as sklearn's input validation several-fold)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", default=str(ROOT.parent / "shared" / "data" / "genelab_release"))
    ap.add_argument("--tissues", default=",".join(TISSUES))
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--n-perm", type=int, default=1000)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    tissues = [t.strip() for t in args.tissues.split(",") if t.strip()]

    # same inputs for both paths: features and model scores computed once
    t0 = time.perf_counter()
    cases = []   # (tissue, model, fold_features, scores, info)
    for tissue in tissues:
        for ff in pathway_lomo.build_fold_features(args.release, tissue, "hallmark"):
            for model in ("lr", "pca_lr"):
                scores, info = pathway_lomo.predict_fold(ff, model)
                cases.append((tissue, model, ff, scores, info))
    fit_seconds = time.perf_counter() - t0
    print(f"inputs: {len(tissues)} tissues x Hallmark x 2 models = {len(cases)} fold evaluations "
          f"(features + fits {fit_seconds:.1f} s, shared by both paths); N = {args.n_boot} bootstraps, "
          f"{args.n_perm} permutations per fold")

    def ours():
        return [evaluation.evaluate_fold(ff.y_test.to_numpy(), s, randomness="seed_randomstate",
                                         n_boot=args.n_boot, n_perm=args.n_perm) for _, _, ff, s, _ in cases]

    def reference():
        return [reference_evaluate(ff.y_test.to_numpy(), s, args.n_boot, args.n_perm) for _, _, ff, s, _ in cases]

    ours_rows, ours_s = timed(ours)
    print(f"ours (vectorized):            {ours_s:8.2f} s", flush=True)
    ref_rows, ref_s = timed(reference)
    print(f"reference (sklearn per draw): {ref_s:8.2f} s")
    print(f"speed-up: {ref_s / ours_s:.1f}x")
    # memory: ours over all folds; the reference keeps only a list of floats per fold, so its
    # peak is that of one fold evaluation (the largest test set)
    big = max(range(len(cases)), key=lambda i: len(cases[i][2].y_test))
    _, _, ff_big, s_big, _ = cases[big]
    ours_peak = traced_peak(ours)
    ref_peak = traced_peak(lambda: reference_evaluate(ff_big.y_test.to_numpy(), s_big, args.n_boot, args.n_perm))
    print(f"peak traced memory: ours {ours_peak / 2**10:,.0f} KiB (all folds), reference {ref_peak / 2**10:,.0f} KiB "
          f"(one fold, n_test = {len(ff_big.y_test)})")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

    keys = ("auroc", "ci_lower", "ci_upper", "perm_p")
    mismatches = [(t, m, ff.test_mission, k, a[k], b[k]) for (t, m, ff, _, _), a, b in zip(cases, ours_rows, ref_rows)
                  for k in keys if a[k] != b[k]]
    for mm in mismatches:
        print("MISMATCH %s %s %s %s: ours %r, reference %r" % mm)
    print(f"identical numbers: {not mismatches} ({len(cases) * len(keys)} values compared)")

    # and the tables they make are the published ones
    table_diffs = []
    if args.n_boot == 2000 and args.n_perm == 1000:
        for tissue in tissues:
            rows = {"lr": [], "pca_lr": []}
            for (t, m, ff, s, info), ev in zip(cases, ours_rows):
                if t == tissue:
                    row = {"test_mission": ff.test_mission, "train_missions": list(ff.train_missions), **ev,
                           "n_pathways": ff.n_pathways, "n_train": ff.n_train, "train_time_s": None}
                    rows[m].append({k: row[k] for k in pathway_lomo.FOLD_KEYS})
            published = json.loads((FIXTURES / pathway_lomo.result_filename(tissue, "hallmark")).read_text())
            diffs = pathway_lomo.compare_to_published(pathway_lomo.summarize_models(rows), published)
            table_diffs += [f"{tissue}: {d}" for d in diffs]
        print(f"tables equal the published Hallmark tables: {not table_diffs}")
        for d in table_diffs[:10]:
            print("  " + d)
    return 1 if mismatches or table_diffs else 0


if __name__ == "__main__":
    sys.exit(main())
