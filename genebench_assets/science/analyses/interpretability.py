"""Model interpretation of the pathway-level LOMO fits (issue 21): ``A6_pathway_hallmark_shap.json``.

The published file ("PCA-LR pathway Hallmark", "Coefficients mapped back from PCA space to original
pathway space (mean across folds)") is, per LOMO fold, the PCA-LR pipeline of SPEC §7 fitted on the
fold's training samples (the very fit of ``pathway_lomo.predict_fold``, same folds, features, seed)
and its logistic coefficients mapped back to the pathways::

    w_fold = (clf.coef_ @ pca.components_) / scaler.scale_      # per unit of the raw GSVA score

then ``mean_coef`` = mean of w over folds, ``abs_mean_coef`` = mean of |w| over folds, pathways
sorted by ``abs_mean_coef`` descending. Ours agree with the published floats to ~1e-13 (not bit for
bit: the lbfgs optimum differs in the last digits between numerical library builds; the AUROCs,
which only see ranks, are exact), and the pathway order is identical.

Beyond the published file: per-fold values and the rank agreement across folds (mean pairwise
Spearman of the folds' coefficients, overlap of their top 10), and ``tree_shap`` - mean |SHAP| of
the RF (or XGBoost) of ``classifiers`` per feature from ``shap.TreeExplainer``, summarised in the layout of
``A*_shap_rf.json`` by ``gene_shap.shap_rf_document`` (gene level: ``gene_shap.py``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from genebench_assets.science.models import classifiers as models

DB_LABELS = {"hallmark": "Hallmark", "kegg": "KEGG", "reactome": "Reactome", "mitocarta": "MitoCarta"}
NOTE = "Coefficients mapped back from PCA space to original pathway space (mean across folds)"


def shap_filename(task_id: str, db: str) -> str:
    return f"{task_id}_pathway_{db}_shap.json"


def pca_lr_feature_coefficients(X_train: pd.DataFrame, y_train, *, model: str = "pathway_pca_lr",
                                seed: int = models.DEFAULT_SEED) -> pd.Series:
    """One fold: the PCA-LR fit's logistic coefficients mapped back to the input features."""
    fitted = models.fit_model(model, X_train.to_numpy(), np.asarray(y_train), seed=seed)
    coef = fitted.named_steps["clf"].coef_ @ fitted.named_steps["pca"].components_
    return pd.Series(coef[0] / fitted.named_steps["scaler"].scale_, index=X_train.columns, name="coef")


def fold_coefficients(folds, *, model: str = "pathway_pca_lr", seed: int = models.DEFAULT_SEED) -> pd.DataFrame:
    """folds: ``pathway_lomo.FoldFeatures`` (or anything with fold_id, X_train, y_train) -> folds x features."""
    rows = {ff.fold_id: pca_lr_feature_coefficients(ff.X_train, ff.y_train, model=model, seed=seed) for ff in folds}
    frame = pd.DataFrame(rows).T
    if frame.isna().any().any():
        raise ValueError("the folds do not share their features; coefficients cannot be averaged")
    return frame


def coefficient_summary(coefs: pd.DataFrame, *, task: str, db: str, model_label: str | None = None) -> dict:
    """The published layout: task, model, db, note, pathways (by abs_mean_coef descending)."""
    values = coefs.to_numpy()
    mean, abs_mean = np.mean(values, axis=0), np.mean(np.abs(values), axis=0)
    order = np.argsort(-abs_mean, kind="stable")
    pathways = [{"pathway": str(coefs.columns[i]), "mean_coef": float(mean[i]), "abs_mean_coef": float(abs_mean[i])}
                for i in order]
    return {"task": task, "model": model_label or f"PCA-LR pathway {DB_LABELS.get(db, db)}", "db": db,
            "note": NOTE, "pathways": pathways}


def rank_agreement(per_fold: pd.DataFrame, *, top: int = 10) -> dict:
    """How consistent the folds are: mean / min pairwise Spearman of the per-fold values and the mean
    overlap of their top-``top`` features by magnitude. A fold whose values are all equal (e.g. a tree
    model that made no split: every |SHAP| 0) has no ranking: its pairs are left out of the Spearman
    (``None`` when no pair is left, ``n_constant_folds`` says how many), and a feature of value 0 is
    never among a fold's top (the order of tied zeros is arbitrary)."""
    from scipy.stats import spearmanr

    pairs = list(itertools.combinations(per_fold.index, 2))
    constant = [f for f in per_fold.index if per_fold.loc[f].nunique() <= 1]
    out = {"n_folds": len(per_fold), "mean_spearman": None, "min_spearman": None, f"top{top}_overlap": None}
    if constant:
        out["n_constant_folds"] = len(constant)
    if not pairs:
        return out
    rhos = [float(spearmanr(per_fold.loc[a], per_fold.loc[b])[0]) for a, b in pairs
            if a not in constant and b not in constant]
    magnitude = per_fold.abs()
    tops = {f: set(magnitude.loc[f][magnitude.loc[f] > 0].nlargest(top).index) for f in per_fold.index}
    overlap = [len(tops[a] & tops[b]) / top for a, b in pairs]
    if rhos:
        out.update(mean_spearman=float(np.mean(rhos)), min_spearman=float(np.min(rhos)))
    out[f"top{top}_overlap"] = float(np.mean(overlap))
    return out


def tree_shap(X_train: pd.DataFrame, y_train, X_explain: pd.DataFrame, *, model: str = "rf",
              seed: int = models.DEFAULT_SEED) -> pd.Series:
    """Mean |SHAP value| (P(Flight) for RF, log-odds for XGBoost) of each feature over ``X_explain``,
    from ``shap.TreeExplainer`` on the fold's fitted tree model."""
    import shap

    fitted = models.fit_model(model, X_train.to_numpy(), np.asarray(y_train), seed=seed)
    values = shap.TreeExplainer(fitted).shap_values(X_explain.to_numpy(dtype=np.float64))
    values = np.asarray(values[1] if isinstance(values, list) else values)
    if values.ndim == 3:  # (samples, features, classes): the Flight class
        values = values[:, :, 1]
    return pd.Series(np.abs(values).mean(axis=0), index=X_train.columns, name="mean_abs_shap")


def fold_tree_shap(folds, *, model: str = "rf", seed: int = models.DEFAULT_SEED) -> pd.DataFrame:
    """Per fold, mean |SHAP| on the fold's held-out test samples (features only) -> folds x features."""
    return pd.DataFrame({ff.fold_id: tree_shap(ff.X_train, ff.y_train, ff.X_test, model=model, seed=seed)
                         for ff in folds}).T


def compare_coefficient_summary(ours: dict, published: dict) -> tuple[list[str], float]:
    """(differences other than float noise, max |difference| of mean_coef / abs_mean_coef). Every
    field but the two floats must be equal, the pathway order included."""
    diffs = [f"{k}: {ours.get(k)!r} != published {published.get(k)!r}"
             for k in ("task", "model", "db", "note") if ours.get(k) != published.get(k)]
    if list(ours) != list(published):
        diffs.append(f"keys {list(ours)} != published {list(published)}")
    a, b = ours.get("pathways", []), published.get("pathways", [])
    if [p["pathway"] for p in a] != [p["pathway"] for p in b]:
        diffs.append("pathway order differs")
    pub = {p["pathway"]: p for p in b}
    worst = 0.0
    for p in a:
        q = pub.get(p["pathway"])
        if q is None:
            diffs.append(f"{p['pathway']} not published")
            continue
        if list(p) != list(q):
            diffs.append(f"{p['pathway']}: keys {list(p)} != {list(q)}")
        worst = max(worst, abs(p["mean_coef"] - q["mean_coef"]), abs(p["abs_mean_coef"] - q["abs_mean_coef"]))
    return diffs, worst


def top_features_png(values: pd.Series, *, title: str, n: int = 20, xlabel: str = "mean coefficient") -> bytes:
    """Horizontal bar chart of the n features of largest |value| (signed bars)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = values.reindex(values.abs().sort_values(ascending=False, kind="stable").index[:n])[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.25 * len(top) + 1.2), dpi=100)
    ax.barh([str(i).replace("HALLMARK_", "") for i in top.index], top.to_numpy(),
            color=["#c0392b" if v > 0 else "#2e86c1" for v in top.to_numpy()])
    ax.axvline(0, color="grey", lw=0.8)
    ax.set(xlabel=xlabel, title=title)
    ax.tick_params(axis="y", labelsize=7)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
