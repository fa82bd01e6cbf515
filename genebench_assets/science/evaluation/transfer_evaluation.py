"""Category B predictions and evaluation (SPEC §8), and the negative controls NC1 / NC2, on the
Category A machinery: `folds.fold_matrices` / `model_fit_rows` for the features, `classifiers`
for PCA-LR, `lomo_evaluation.evaluate_fold` / `summarize_task` / `pooled_auroc` and `metrics` for
AUROC, CI, p and every random draw.

- `lfc_direction_scores(X_train, y_train, X_test)`: SPEC §8's "LFC" method, u = unit(mean Flight -
  mean Ground) on the training mission, score = (x - mean Ground_train) . u, on the log2 features of
  the pair (variance-filtered on mission i, not z-scored: the direction is a log fold change).
- `pair_predictions(folds, expression, models, pathway_matrices=None)` -> rows (fold_id, feature_set,
  model, sample_id, score): gene features from the fold's own genes, and - when `pathway_matrices`
  (fold -> (X_train, y_train, X_test), the Category A pathway builder) is given - pathway features of
  the same folds, so both feature sets share one fold, one set of checks and one evaluation.
- `evaluate_pairs(preds, folds, protocol)` -> (per-pair rows, per (feature set, model) tissue summaries): SPEC §8's
  transfer pattern (mean, bootstrap CI over pairs, counts; `categories.cross_mission`), the pooled
  AUROC and, for comparison with the published B evaluator, Category A's GO fields (SPEC §8: B has
  no GO rule; `go_rule` says so).
- `training_label_permutation_null(fold, expression, model, n_perm, randomness)` (NC1): the model
  refit on permuted *training* labels, AUROC on the true test labels; `null_centre_flag`.
- `housekeeping_gene_ids(symbols, symbol_map)` and `housekeeping_folds(folds, gene_ids)` (NC2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from genebench_assets.science.evaluation import lomo_evaluation, metrics
from genebench_assets.science.models import classifiers
from genebench_assets.science.tasks.folds import Fold, fold_matrices, fold_test_labels, model_fit_rows

LFC_DIRECTION = "lfc_direction"
TRANSFER_MODELS = ("pca_lr", LFC_DIRECTION)
NC2_INTERVAL = (0.35, 0.65)  # SPEC §8: housekeeping-gene mean AUROC should fall here
NC1_CENTRE_TOLERANCE = 0.05  # |mean of the null - 0.5| above this (and above 3 SE) is flagged


def lfc_direction_scores(X_train: pd.DataFrame, y_train: pd.Series, X_test: pd.DataFrame) -> np.ndarray:
    y = np.asarray(y_train, dtype=float)
    Xtr = np.asarray(X_train, dtype=float)
    if not ((y == 1).any() and (y == 0).any()):
        raise ValueError("lfc_direction: the training mission needs both classes")
    ground = Xtr[y == 0].mean(axis=0)
    direction = Xtr[y == 1].mean(axis=0) - ground
    norm = np.linalg.norm(direction)
    if norm == 0:
        raise ValueError("lfc_direction: mean Flight equals mean Ground on every feature")
    return (np.asarray(X_test, dtype=float) - ground) @ (direction / norm)


def _scores(model: str, X_fit: pd.DataFrame, y_fit, X_test: pd.DataFrame,
            seed: int = classifiers.DEFAULT_SEED) -> tuple[np.ndarray, dict]:
    if model == LFC_DIRECTION:  # deterministic: the seed changes nothing
        return lfc_direction_scores(X_fit, y_fit, X_test), {"model": model, "n_features": X_fit.shape[1]}
    return classifiers.fit_predict(model, X_fit, y_fit, X_test, seed=seed)


def predict_matrices(fold: Fold, X_train: pd.DataFrame, y_train: pd.Series, X_test: pd.DataFrame,
                     model: str, seed: int = classifiers.DEFAULT_SEED) -> tuple[pd.Series, dict]:
    """Scores of one fold's test samples by `model` on given feature matrices, fitted on exactly the
    rows the fold recorded for the model fit (`model_fit_rows`, as in Category A)."""
    X_fit, y_fit = model_fit_rows(fold, X_train, y_train)
    scores, info = _scores(model, X_fit, y_fit, X_test, seed)
    return pd.Series(scores, index=X_test.index, name="score"), info


def predict_fold(fold: Fold, expression: pd.DataFrame, model: str,
                 seed: int = classifiers.DEFAULT_SEED) -> tuple[pd.Series, dict]:
    """Scores of one fold's test samples by `model` ("lfc_direction" or a `classifiers` model name) on
    the fold's genes (z-scored on the training ids, except for the LFC direction: a log fold change)."""
    X_train, y_train, X_test = fold_matrices(fold, expression, zscore=model != LFC_DIRECTION)
    return predict_matrices(fold, X_train, y_train, X_test, model, seed)


PREDICTION_COLUMNS = ["fold_id", "feature_set", "model", "sample_id", "score"]


def plugin_matrices(fold: Fold, expression: pd.DataFrame, feature_set: str,
                    pathway_matrices: Callable[[Fold], tuple] | None = None) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """(X_fit, y_fit, X_test) a model plug-in is fitted on for one pair and feature set: what PCA-LR gets
    (the fold's genes z-scored on the training ids, or the pair's pathway scores; the rows the fold recorded
    for the model fit). No test label."""
    X_train, y_train, X_test = pathway_matrices(fold) if feature_set == "pathways" else fold_matrices(fold, expression)
    X_fit, y_fit = model_fit_rows(fold, X_train, y_train)
    return X_fit, y_fit, X_test


def score_rows(fold: Fold, feature_set: str, model: str, sample_ids, scores) -> list[dict]:
    """Prediction rows (PREDICTION_COLUMNS) of one fit."""
    return [{"fold_id": fold.fold_id, "feature_set": feature_set, "model": model, "sample_id": s, "score": float(v)}
            for s, v in zip(sample_ids, scores)]


def pair_predictions(folds: Sequence[Fold], expression: pd.DataFrame, models: Iterable[str] = TRANSFER_MODELS, *,
                     feature_sets: Sequence[str] = ("genes",),
                     pathway_matrices: Callable[[Fold], tuple] | None = None,
                     seed: int = classifiers.DEFAULT_SEED) -> pd.DataFrame:
    """Rows (fold_id, feature_set, model, sample_id, score). "pathways" needs `pathway_matrices`: fold ->
    (X_train, y_train, X_test) pathway scores (computed once per fold, shared by the models). `seed`: the
    models' (one run of `--seeds`; the caller adds a `seed` column when there are several)."""
    unknown = sorted(set(feature_sets) - {"genes", "pathways"})
    if unknown:
        raise ValueError(f"unknown feature set(s) {unknown} (known: genes, pathways)")
    if "pathways" in feature_sets and pathway_matrices is None:
        raise ValueError("feature set 'pathways' needs pathway_matrices (fold -> X_train, y_train, X_test)")
    models = list(models)
    rows = []
    for fold in folds:
        for feature_set in feature_sets:
            matrices = pathway_matrices(fold) if feature_set == "pathways" else None
            for model in models:
                scores, _ = (predict_fold(fold, expression, model, seed) if matrices is None
                             else predict_matrices(fold, *matrices, model, seed))
                rows += score_rows(fold, feature_set, model, scores.index, scores.to_numpy())
    return pd.DataFrame(rows, columns=PREDICTION_COLUMNS)


def evaluate_pairs(preds: pd.DataFrame, folds: Sequence[Fold], *, protocol: str, n_boot: int = 2000,
                   n_perm: int = 1000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-pair rows, per (feature set, model) tissue rows). A multi-seed table (a `seed` column, `--seeds`):
    each seed evaluated alone, then the tissue rows are the mean ± sd over seeds (science/evaluation/
    over_seeds.py: `sd_auroc_over_seeds`, `n_seeds`, `seeds`; Category A's GO fields on the means); the
    per-pair rows keep a `seed` column."""
    from genebench_assets.science.categories.cross_mission import transfer_pattern_summary
    from genebench_assets.science.protocols import evaluation_randomness

    if "seed" in preds.columns:
        from genebench_assets.science.evaluation.over_seeds import frame_over_seeds

        per_seed = [evaluate_pairs(g.drop(columns="seed"), folds, protocol=protocol, n_boot=n_boot, n_perm=n_perm)
                    for _, g in preds.groupby("seed", sort=True)]
        seeds = sorted(int(s) for s in preds["seed"].unique())
        pairs = pd.concat([p.assign(seed=s) for (p, _), s in zip(per_seed, seeds)], ignore_index=True)
        by_seed = pd.concat([t.assign(seed=s) for (_, t), s in zip(per_seed, seeds)], ignore_index=True)
        return pairs, frame_over_seeds(by_seed, ["feature_set", "model"], "mean_auroc", rules=_category_a_go)
    randomness = evaluation_randomness(protocol)
    by_id = {f.fold_id: f for f in folds}
    pair_rows, tissue_rows = [], []
    if "feature_set" not in preds.columns:  # a gene-only table (before pathway features existed)
        preds = preds.assign(feature_set="genes")
    # Each (feature set, model) is evaluated alone, with the fold index as its random stream.
    for (feature_set, model), g in preds.groupby(["feature_set", "model"], sort=True):
        per_pair, ys, ss = [], [], []
        for fold_index, (fold_id, gf) in enumerate(g.groupby("fold_id", sort=True)):
            fold = by_id[fold_id]
            y = fold_test_labels(fold).loc[gf["sample_id"]].to_numpy()
            s = gf["score"].to_numpy()
            res = lomo_evaluation.evaluate_fold(y, s, randomness=randomness, fold_index=fold_index,
                                                n_boot=n_boot, n_perm=n_perm)
            res.update({"fold_id": fold_id, "feature_set": feature_set, "model": model,
                        "train_mission": fold.train_missions[0], "test_mission": fold.test_mission,
                        "n_train": fold.n_train, "n_features": len(fold.genes) if feature_set == "genes" else None})
            per_pair.append(res)
            ys.append(y)
            ss.append(s)
        pair_rows += per_pair
        pattern = transfer_pattern_summary(per_pair, n_boot=n_boot)
        a_style = lomo_evaluation.summarize_task(per_pair)
        pooled = lomo_evaluation.pooled_auroc(ys, ss, randomness=randomness, n_boot=n_boot)
        tissue_rows.append({"feature_set": feature_set, "model": model, **pattern, "std_auroc": a_style["std_auroc"],
                            "mean_ci_lower": a_style["mean_ci_lower"], "mean_perm_p": a_style["mean_perm_p"],
                            "category_a_go": a_style["go"], **pooled})
    return pd.DataFrame(pair_rows), pd.DataFrame(tissue_rows)


def _category_a_go(row: dict) -> dict:
    """Category A's GO rule on a tissue row's means over seeds (shown for comparison only: B has no GO rule)."""
    return {"category_a_go": lomo_evaluation.go_on_means(row)["go"]}


# --------------------------------------------------------------------------------------------- NC1
def training_label_permutation_null(fold: Fold, expression: pd.DataFrame, model: str = "pca_lr", *,
                                    n_perm: int = 100, randomness="seed_randomstate") -> np.ndarray:
    """NC1: AUROCs on the true test labels of `model` refit `n_perm` times on permuted training
    labels (permutations from `metrics.permutation_indices`, the one RNG of the evaluation)."""
    scores = training_label_permutation_scores(fold, expression, model, n_perm=n_perm, randomness=randomness)
    return null_aurocs(scores, fold)


def training_label_permutation_scores(fold: Fold, expression: pd.DataFrame, model: str = "pca_lr", *,
                                      n_perm: int = 100, randomness="seed_randomstate") -> pd.DataFrame:
    """NC1's predictions: the test scores of `model` refit `n_perm` times on permuted training labels
    (rows = permutations, columns = test sample ids); stored, so the check recomputes the null."""
    X_train, y_train, X_test = fold_matrices(fold, expression, zscore=model != LFC_DIRECTION)
    X_fit, y_fit = model_fit_rows(fold, X_train, y_train)
    y = y_fit.to_numpy()
    idx = metrics.permutation_indices(len(y), n_perm, randomness)
    # The features do not depend on the labels (variance filter, z-score): only the model is refit.
    return pd.DataFrame([_scores(model, X_fit, y[perm], X_test)[0] for perm in idx], columns=list(X_test.index))


def null_aurocs(scores: pd.DataFrame, fold: Fold) -> np.ndarray:
    """One AUROC per permutation (row of `scores`) on the fold's true test labels."""
    y_test = fold_test_labels(fold).loc[list(scores.columns)].to_numpy()
    return np.array([metrics.auroc(y_test, row) for row in scores.to_numpy(dtype=float)])


def null_centre_flag(null_aurocs: np.ndarray, tolerance: float = NC1_CENTRE_TOLERANCE) -> dict:
    """Summary of a computed null: centred on 0.5 when |mean - 0.5| <= max(tolerance, 3 standard
    errors of the mean) - small test sets give a coarse, noisy null - else flagged with the numbers."""
    null = np.asarray(null_aurocs, dtype=float)
    mean = float(null.mean())
    sd = float(null.std(ddof=1)) if len(null) > 1 else 0.0
    allowed = max(tolerance, 3 * sd / np.sqrt(len(null)))
    centred = abs(mean - 0.5) <= allowed
    return {"n": int(len(null)), "mean": mean, "median": float(np.median(null)), "sd": sd,
            "q025": float(np.percentile(null, 2.5)), "q975": float(np.percentile(null, 97.5)),
            "allowed_deviation": float(allowed), "centred_on_0_5": bool(centred),
            "flag": None if centred else f"null mean {mean:.3f} is more than {allowed:.3f} from 0.5"}


def null_histogram_png(null_by_fold: Mapping[str, np.ndarray], *, title: str) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
    bins = np.linspace(0, 1, 21)
    for label, values in null_by_fold.items():
        ax.hist(np.asarray(values, dtype=float), bins=bins, alpha=0.5, label=label)
    ax.axvline(0.5, color="black", ls="--", lw=1)
    ax.set(xlabel="AUROC with permuted training labels", ylabel="count", title=title, xlim=(0, 1))
    ax.legend(fontsize=7)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------- NC2
def read_housekeeping_symbols(path) -> list[str]:
    from pathlib import Path

    symbols = [s.strip() for s in Path(path).read_text().splitlines() if s.strip() and not s.startswith("#")]
    return list(dict.fromkeys(symbols))


def housekeeping_gene_ids(symbols: Sequence[str], symbol_map: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(Ensembl ids, unmapped symbols). `symbol_map`: columns ENSEMBL, SYMBOL (the release's
    ensembl_symbol_map.csv); a symbol mapped by several ids keeps every id (in map order)."""
    m = symbol_map.rename(columns=str.upper)
    missing = {"ENSEMBL", "SYMBOL"} - set(m.columns)
    if missing:
        raise KeyError(f"symbol map lacks the columns {sorted(missing)} (has {list(symbol_map.columns)})")
    ids, unmapped = [], []
    for sym in symbols:
        hits = m.loc[m["SYMBOL"].astype(str) == sym, "ENSEMBL"].astype(str).tolist()
        (ids.extend(hits) if hits else unmapped.append(sym))
    return list(dict.fromkeys(ids)), unmapped


def housekeeping_folds(folds: Sequence[Fold], gene_ids: Sequence[str], expression: pd.DataFrame) -> list[Fold]:
    """NC2: the same folds with only the housekeeping genes as features (those present, without NaN,
    in every train and test sample of the fold); no variance filter, as published."""
    out = []
    wanted = pd.Index([g for g in dict.fromkeys(map(str, gene_ids)) if g in expression.index])
    for fold in folds:
        block = expression.loc[wanted, list(fold.train_ids) + list(fold.test_ids)]
        genes = tuple(block.index[block.notna().all(axis=1).to_numpy()])
        out.append(dataclasses.replace(fold, genes=genes, n_genes_before_var_filter=len(genes),
                                       var_percentile_cutoff=None, var_threshold=None,
                                       feature_source="housekeeping_genes"))
    return out


def _differs(a, b, tolerance: float = 1e-9) -> bool:
    return a is None or b is None or not abs(float(a) - float(b)) <= tolerance


def nc1_from_stored_scores(nc1: Mapping, folds: Sequence[Fold]):
    """NC1's check from the stored null predictions, not the recorded flag: every fold's null AUROCs
    recomputed from its stored permuted-label test scores and the fold's test labels, the pooled null
    centred on 0.5 (`null_centre_flag`), and the recorded means equal to the recomputed ones."""
    from genebench_assets.science.check_outcome import CheckOutcome

    stored = nc1.get("null_scores") or {}
    failures, nulls = [], {}
    for fold in folds:
        if fold.fold_id not in stored:
            failures.append(f"{fold.fold_id}: no stored null predictions")
            continue
        rec = stored[fold.fold_id]
        nulls[fold.fold_id] = null_aurocs(pd.DataFrame(rec["scores"], columns=rec["sample_ids"]), fold)
        recorded = (nc1.get("per_fold") or {}).get(fold.fold_id, {}).get("mean")
        if _differs(recorded, nulls[fold.fold_id].mean()):
            failures.append(f"{fold.fold_id}: recorded null mean {recorded} is not the stored predictions' "
                            f"{nulls[fold.fold_id].mean():.4f}")
    metadata = {"n_folds": len(nulls)}
    if nulls:
        pooled = null_centre_flag(np.concatenate(list(nulls.values())))
        metadata.update(null_mean=pooled["mean"], allowed_deviation=pooled["allowed_deviation"], n=pooled["n"])
        if pooled["flag"]:
            failures.insert(0, pooled["flag"])
        if _differs((nc1.get("pooled") or {}).get("mean"), pooled["mean"]):
            failures.append(f"recorded pooled null mean {(nc1.get('pooled') or {}).get('mean')} is not the stored "
                            f"predictions' {pooled['mean']:.4f}")
    return CheckOutcome.from_failures(
        f"NC1 null AUROCs ({nc1.get('model')} refit on permuted training labels) recomputed from the stored "
        "predictions, centred on 0.5", failures, metadata)


def nc2_from_stored_scores(nc2: Mapping, folds: Sequence[Fold]):
    """NC2's check from the stored housekeeping-gene scores, not the recorded flag: every fold's AUROC
    recomputed from its stored test scores and the fold's test labels, the mean within SPEC §8's
    interval (`nc2_flag`), and the recorded AUROCs equal to the recomputed ones. Not computable (no
    housekeeping gene in the matrix) is reported as a failure, never passed."""
    from genebench_assets.science.check_outcome import CheckOutcome

    description = f"NC2 housekeeping-gene mean AUROC ({nc2.get('model')}) recomputed from the stored scores, within {list(NC2_INTERVAL)}"
    metadata = {"symbols_mapped": f"{nc2.get('n_mapped_symbols')} of {nc2.get('n_symbols')}"}
    if nc2.get("mean_auroc") is None and not nc2.get("per_fold"):
        return CheckOutcome.from_failures(description, [nc2.get("flag") or "not computed"], metadata)
    by_id = {f.fold_id: f for f in folds}
    failures, aurocs = [], []
    for row in nc2.get("per_fold") or []:
        fold = by_id.get(row["fold_id"])
        if fold is None or "scores" not in row:
            failures.append(f"{row['fold_id']}: no stored scores or no such fold")
            continue
        y = fold_test_labels(fold).loc[list(row["sample_ids"])].to_numpy()
        auroc = metrics.auroc(y, np.asarray(row["scores"], dtype=float))
        aurocs.append(auroc)
        if _differs(row.get("auroc"), auroc):
            failures.append(f"{row['fold_id']}: recorded AUROC {row.get('auroc')} is not the stored scores' {auroc:.4f}")
    if aurocs:
        mean = float(np.mean(aurocs))
        metadata["mean_auroc"] = mean
        flag = nc2_flag(mean)
        if flag:
            failures.insert(0, flag)
        if _differs(nc2.get("mean_auroc"), mean):
            failures.append(f"recorded mean AUROC {nc2.get('mean_auroc')} is not the stored scores' {mean:.4f}")
    return CheckOutcome.from_failures(description, failures, metadata)


def nc2_flag(mean_auroc: float, interval: tuple[float, float] = NC2_INTERVAL) -> str | None:
    lo, hi = interval
    if lo <= mean_auroc <= hi:
        return None
    return f"housekeeping-gene mean AUROC {mean_auroc:.3f} is outside SPEC §8's [{lo}, {hi}]"
