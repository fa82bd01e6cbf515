"""Calibration of the demo simulator's Flight effect sizes (issue 11): the demo's Category A mean LOMO
AUROC per tissue and model vs the published GeneLab benchmark numbers.

The science core runs directly, without Dagster and without materializing the graph, exactly as the
assets compose it: the demo mirror is written for the chosen tissues' studies only (the simulator
draws every study from its own random streams, so a study's files are byte-identical whatever else is
written) -> `assemble_pair` parses each (tissue, mission) pair -> per study DESeq2 size factors,
log2(x + 1) and sample QC (`qc_flags` / `apply_qc`, as `sample_metadata`), normalized expression on
the kept samples (as `normalized_expression`) -> `build_lomo_folds` (strict) -> per fold
`fold_matrices` / `model_fit_rows` -> `fit_predict` -> `evaluate_predictions` (the one evaluator).
The calibration target is the published gene-level PCA-LR LOMO mean
(`demo_simulator.PUBLISHED_GENE_PCA_LR_AUROC`). With `--pathways`, the pathway features too (strict: GSVA
in each fold on its training samples, `pathway_features.fold_pathway_features`, the builder lomo_folds
uses), shown beside J5's published pathway means (reported, not calibrated: the published pathway run used
50 Hallmark sets, the demo 30 simulated ones).

Prints per tissue, feature set and model: demo mean AUROC, the published number, the difference, the
target, the lower bound of the random-score negative control's pooled CI (`neg lo`), the demo's per-fold
AUROCs and the tissue's time; then whether every gene PCA-LR mean lies within
`demo_simulator.CALIBRATION_TOLERANCE` of its target (kidney: see `CALIBRATION_TARGETS`), no tissue scores
1.000 with every model; which models fall below `neg lo` (what the graph's non-blocking controls check
flags); wall time and peak RSS.

    .venv/bin/python benchmarks/demo_calibration.py [--tissues thymus,liver] [--models pca_lr,lr,rf,xgb]
                                                    [--pathways] [--genes 6000] [--seed 42]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from genebench_assets.science.evaluation.lomo_evaluation import evaluate_predictions
from genebench_assets.science.expression.normalization import log2_normalized
from genebench_assets.science.expression.sample_qc import apply_qc, qc_flags
from genebench_assets.science.models.classifiers import fit_predict
from genebench_assets.science.osdr import demo_simulator as sim
from genebench_assets.science.osdr.mirror import MirrorSource
from genebench_assets.science.osdr.parsing import assemble_pair
from genebench_assets.science.osdr.study_catalog import StudyCatalog, load_catalog
from genebench_assets.science.pathways.gene_sets import read_gmt, read_symbol_map
from genebench_assets.science.tasks.folds import build_lomo_folds, fold_matrices, model_fit_rows
from genebench_assets.science.tasks.pathway_features import fold_pathway_features

DEFAULT_MODELS = ("pca_lr", "lr", "rf", "xgb")

# Secondary references, not calibrated against: the published per-model gene-level LOMO means
# (GeneLab_benchmark evaluation/A{1..6}_baseline_results.json, `<model>.mean_auroc`, commit ca4abd9ea496).
# Their pca_lr equals the J5 target for gastrocnemius, thymus, skin and eye; for liver (0.587) and kidney
# (0.460) J5's fresh re-run (the target) differs. Missing = the published run has no such model.
PUBLISHED_BASELINE_AUROC = {
    "liver": {"lr": 0.5880, "pca_lr": 0.5871, "rf": 0.5895},
    "gastrocnemius": {"lr": 0.9074, "pca_lr": 0.8241, "rf": 0.6910, "xgb": 0.6227},
    "kidney": {"lr": 0.5211, "pca_lr": 0.4602, "rf": 0.5638},
    "thymus": {"pca_lr": 0.9232},
    "skin": {"lr": 0.8214, "pca_lr": 0.7944, "rf": 0.7631, "xgb": 0.7563},
    "eye": {"lr": 0.8106, "pca_lr": 0.7894, "rf": 0.7230},
}
# J5_gene_vs_pathway.json `category_a_details.<tissue>.pathway_mean_auroc` (commit 9d3a11e85311; GSVA
# Hallmark -> StandardScaler -> L2 LR); skin is not in J5. Shown beside the demo's pathway PCA-LR: with 30
# demo pathways PCA keeps every component, an orthogonal rotation the L2 penalty does not see, so it is
# the same model.
PUBLISHED_PATHWAY_AUROC = {"liver": 0.5741, "gastrocnemius": 0.6875, "kidney": 0.7429, "thymus": 0.8789,
                           "eye": 0.9146}


def subset_catalog(catalog: StudyCatalog, tissues) -> StudyCatalog:
    """The catalog restricted to `tissues` (no excluded duplicate study: it feeds no fold)."""
    import dataclasses

    return dataclasses.replace(catalog, studies=tuple(s for s in catalog.studies if s.tissue in set(tissues)),
                               excluded=())


def study_tables(root: Path, catalog: StudyCatalog, tissue: str, mission: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(normalized expression, sample metadata) of one (tissue, mission) pair, as the study assets make them."""
    source = MirrorSource(root, source_mode="demo")
    studies = catalog.studies_for(tissue, mission)
    counts, samples = assemble_pair(studies, {s.osd: source.fetch_study(s) for s in studies})
    flags, parts = [], []
    for osd, ids in samples.groupby("osd").groups.items():  # QC is per study (SPEC §4.2)
        study_counts = counts[list(ids)].dropna(axis=0, how="any").astype("int64")
        nonzero = study_counts.columns[study_counts.sum(axis=0) > 0]
        log2_expr, _ = log2_normalized(study_counts[nonzero], study=osd)
        flags.append(qc_flags(study_counts, log2_expr, samples.loc[list(ids)]))
    meta = apply_qc(samples, pd.concat(flags))
    keep = meta.index[meta["qc_reason"].str.len() == 0]
    for osd, ids in meta.loc[keep].groupby("osd").groups.items():  # size factors on the kept samples
        study_counts = counts[list(ids)].dropna(axis=0, how="any").astype("int64")
        parts.append(log2_normalized(study_counts, study=osd)[0])
    return pd.concat(parts, axis=1, join="outer"), meta


def tissue_evaluation(root: Path, catalog: StudyCatalog, tissue: str, models, seed: int = 42,
                      feature_sets=("genes",)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-fold metrics without holdout folds, task summaries): `evaluate_predictions` of `models` and the
    negative control on `feature_sets`, strict protocol."""
    missions, holdouts = catalog.missions_for(tissue), catalog.holdout_missions(tissue)
    tables = [study_tables(root, catalog, tissue, m) for m in missions + holdouts]
    expression = pd.concat([e for e, _ in tables], axis=1, join="outer")
    metadata = pd.concat([m for _, m in tables])
    folds = build_lomo_folds(expression, metadata, tissue=tissue, task_id=catalog.task_ids[tissue],
                             missions=missions, holdout_missions=holdouts, protocol="strict")
    if "pathways" in feature_sets:
        gene_sets = read_gmt(root / sim.GENE_SETS_DIR / sim.GMT_NAME)
        symbol_map = read_symbol_map(root / sim.GENE_SETS_DIR / sim.SYMBOL_MAP_NAME)
    rows = []
    for fold in folds:
        for feature_set in feature_sets:
            if feature_set == "genes":
                X_train, y_train, X_test = fold_matrices(fold, expression)
            else:  # the matrices lomo_folds stores, read as model_predictions reads them
                frame = fold_pathway_features(fold, protocol="strict", expression=expression, symbol_map=symbol_map,
                                              gene_sets=gene_sets)
                X_train, X_test = frame[list(fold.train_ids)].T, frame[list(fold.test_ids)].T
                y_train = pd.Series(fold.y_train, index=pd.Index(list(fold.train_ids), name="sample_id"))
            X_train, y_train = model_fit_rows(fold, X_train, y_train)
            for model in [*models, "negative_control"]:
                scores, _ = fit_predict(model, X_train, y_train, X_test, seed=seed)
                rows += [{"fold_id": fold.fold_id, "test_mission": fold.test_mission, "feature_set": feature_set,
                          "model": model, "sample_id": sid, "score": float(s)} for sid, s in zip(X_test.index, scores)]
    per_fold, tasks = evaluate_predictions(pd.DataFrame(rows), list(folds), protocol="strict")
    return per_fold[~per_fold["fold_id"].str.endswith("_holdout")], tasks


def calibrate(tissues=None, models=DEFAULT_MODELS, *, n_genes: int = sim.DEFAULT_N_GENES,
              seed: int = sim.DEFAULT_SEED, feature_sets=("genes",)) -> pd.DataFrame:
    """One row per (tissue, feature set, model): demo mean AUROC, per-fold AUROCs, published number and
    target (gene PCA-LR only), difference, seconds (the tissue's whole evaluation)."""
    catalog = load_catalog()
    tissues = list(tissues or catalog.tissues)
    sub = subset_catalog(catalog, tissues)
    rows = []
    with tempfile.TemporaryDirectory(prefix="demo_calibration_") as tmp:
        sim.write_demo_mirror(tmp, sub, seed=seed, n_genes=n_genes)
        for tissue in tissues:
            t0 = time.perf_counter()
            per_fold, tasks = tissue_evaluation(Path(tmp), sub, tissue, models, seed=seed, feature_sets=feature_sets)
            seconds = time.perf_counter() - t0
            for feature_set in feature_sets:
                for model in models:
                    f = per_fold[(per_fold["model"] == model) & (per_fold["feature_set"] == feature_set)]
                    gene_pca = feature_set == "genes" and model == "pca_lr"
                    # the interval the graph's evaluation_controls_bracket check puts every model above:
                    # the random-score negative control's pooled bootstrap CI
                    neg = tasks[(tasks["model"] == "negative_control") & (tasks["feature_set"] == feature_set)].iloc[0]
                    if feature_set == "genes":
                        published = PUBLISHED_BASELINE_AUROC[tissue].get(model, np.nan)
                    else:
                        published = PUBLISHED_PATHWAY_AUROC.get(tissue, np.nan) if model == "pca_lr" else np.nan
                    rows.append({
                        "tissue": tissue, "feature_set": feature_set, "model": model,
                        "demo_mean_auroc": float(f["auroc"].mean()),
                        "published": sim.PUBLISHED_GENE_PCA_LR_AUROC[tissue] if gene_pca else published,
                        "target": sim.CALIBRATION_TARGETS[tissue] if gene_pca else np.nan,
                        "per_fold": {m: round(float(a), 3) for m, a in zip(f["test_mission"], f["auroc"])},
                        "negative_ci_lower": float(neg["pooled_ci_lower"]),
                        "seconds": seconds,
                    })
    out = pd.DataFrame(rows)
    out["difference"] = out["demo_mean_auroc"] - out["published"]
    return out


def calibration_problems(table: pd.DataFrame, tolerance: float = sim.CALIBRATION_TOLERANCE) -> list[str]:
    """What is off (gene features): a PCA-LR mean farther than `tolerance` from its target, a tissue at 1.000
    for every model."""
    problems = []
    table = table[table["feature_set"] == "genes"]
    for row in table[table["model"] == "pca_lr"].itertuples():
        if abs(row.demo_mean_auroc - row.target) > tolerance:
            problems.append(f"{row.tissue}: PCA-LR mean AUROC {row.demo_mean_auroc:.3f}, target {row.target:.3f} "
                            f"+- {tolerance}")
    for tissue, g in table.groupby("tissue"):
        if (g["demo_mean_auroc"] >= 1.0 - 1e-12).all():
            problems.append(f"{tissue}: every model scores 1.000 ({', '.join(g['model'])})")
    return problems


def below_negative_control(table: pd.DataFrame) -> list[str]:
    """Models below the random-score negative control's pooled CI, which the graph's non-blocking
    `evaluation_controls_bracket` check flags. Reported, not a calibration failure: that interval is the CI of
    one random draw (kidney's draw has a pooled AUROC near 0.6, lower bound 0.497), so any near-chance tissue
    (kidney by design; the published kidney, 0.432, too) has models under it."""
    return [f"{r.tissue}: {r.feature_set} {r.model} {r.demo_mean_auroc:.3f} < {r.negative_ci_lower:.3f}"
            for r in table.itertuples() if r.demo_mean_auroc < r.negative_ci_lower]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tissues", default="", help="comma-separated (default: every catalog tissue)")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--pathways", action="store_true", help="also pathway features (GSVA in each fold)")
    parser.add_argument("--genes", type=int, default=sim.DEFAULT_N_GENES)
    parser.add_argument("--seed", type=int, default=sim.DEFAULT_SEED)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    tissues = [t for t in args.tissues.split(",") if t] or None
    table = calibrate(tissues, [m for m in args.models.split(",") if m], n_genes=args.genes, seed=args.seed,
                      feature_sets=("genes", "pathways") if args.pathways else ("genes",))
    print(f"demo simulator v{sim.SIMULATOR_VERSION}, {args.genes} genes, seed {args.seed}; strict protocol\n"
          f"{'tissue':<14}{'features':<9}{'model':<8}{'demo':>7}{'published':>10}{'diff':>8}{'target':>8}{'neg lo':>8}  "
          f"{'s':>5}  per fold")
    for r in table.itertuples():
        pub = "-" if np.isnan(r.published) else f"{r.published:.3f}"
        diff = "-" if np.isnan(r.difference) else f"{r.difference:+.3f}"
        tgt = "" if np.isnan(r.target) else f"{r.target:.3f}"
        print(f"{r.tissue:<14}{r.feature_set:<9}{r.model:<8}{r.demo_mean_auroc:7.3f}{pub:>10}{diff:>8}{tgt:>8}{r.negative_ci_lower:8.3f}  {r.seconds:5.1f}  "
              + ", ".join(f"{m} {a:.3f}" for m, a in r.per_fold.items()))
    below = below_negative_control(table)
    print("below the negative control's interval (evaluation_controls_bracket would flag): "
          + (", ".join(below) if below else "none"))
    problems = calibration_problems(table)
    print("calibrated: " + ("yes" if not problems else "NO\n  " + "\n  ".join(problems)))
    print(f"wall {time.perf_counter() - t0:.1f} s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
