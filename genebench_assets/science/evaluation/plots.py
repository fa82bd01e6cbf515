"""The ROC plot: one implementation, used by the Category A evaluation asset and by anyone rendering
ROC curves of (labels, scores) pairs.

- ``roc_png(curves, title=...)`` -> PNG bytes; ``curves`` maps a label (e.g. "lr" or "pca_lr RR-1")
  to (y, scores). Points come from ``metrics.roc_curve_points`` (sklearn's ``roc_curve``).
- ``pooled_lomo_curves(preds, labels, feature_set)`` -> the curves of the pooled LOMO predictions of
  one feature set, one per model (held-out missions excluded, as in the pooled AUROC).
- ``png_markdown(png, alt)`` -> an inline image for Dagster markdown metadata.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd

from genebench_assets.science.evaluation import metrics


def roc_png(curves: dict[str, tuple], *, title: str = "ROC") -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    for label, (y, s) in curves.items():
        y, s = np.asarray(y, dtype=np.float64), np.asarray(s, dtype=np.float64)
        fpr, tpr = metrics.roc_curve_points(y, s)
        ax.plot(fpr, tpr, lw=1.5, label=f"{label} (AUROC {metrics.auroc(y, s):.3f})")
    ax.plot([0, 1], [0, 1], ls="--", lw=1, color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize=7)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def pooled_lomo_curves(preds: pd.DataFrame, labels: pd.Series, feature_set: str) -> dict[str, tuple]:
    """preds: rows (fold_id, feature_set, model, sample_id, score); labels: test labels by sample id."""
    out = {}
    if "seed" in preds.columns:  # several seeds: the curve of the first
        preds = preds[preds["seed"] == preds["seed"].min()]
    lomo = preds[(preds["feature_set"] == feature_set) & ~preds["fold_id"].str.endswith("_holdout")
                 & preds["sample_id"].isin(labels.index)]
    for model, g in lomo.groupby("model", sort=True):
        out[model] = (labels.loc[g["sample_id"]].to_numpy(), g["score"].to_numpy())
    return out


def png_markdown(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def roc_points_png(curves: dict[str, tuple], *, title: str = "ROC") -> bytes:
    """Like ``roc_png`` from stored curve points: ``curves`` maps a label to (fpr, tpr)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    for label, (fpr, tpr) in curves.items():
        ax.plot(fpr, tpr, lw=1.5, label=label)
    ax.plot([0, 1], [0, 1], ls="--", lw=1, color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize=7)
    return _png(fig)


def bar_png(labels: list[str], values: list[float], *, title: str, xlabel: str, colors: list[str] | None = None) -> bytes:
    """A horizontal bar chart (a leaderboard: one bar per row, best at the top)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 0.3 * max(len(labels), 3) + 1), dpi=100)
    ax.barh(range(len(labels)), values, color=colors)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel=xlabel, title=title)
    return _png(fig)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
