"""The one ROC plotter: PNG bytes from (labels, scores) curves; pooled LOMO curves per model."""

import numpy as np
import pandas as pd

from genebench_assets.science.evaluation import plots


def test_roc_png_is_a_png():
    y = np.array([1.0, 0, 1, 0, 1, 0])
    png = plots.roc_png({"lr RR-1": (y, np.array([0.9, 0.1, 0.7, 0.8, 0.6, 0.2]))}, title="A6")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert plots.png_markdown(png, "ROC").startswith("![ROC](data:image/png;base64,iVBOR")


def test_pooled_curves_leave_out_holdouts_and_other_feature_sets():
    preds = pd.DataFrame({
        "fold_id": ["f1", "f1", "f2", "f2", "h_holdout", "f1"],
        "feature_set": ["genes"] * 5 + ["pathways"],
        "model": ["lr"] * 6,
        "sample_id": ["a", "b", "c", "d", "e", "a"],
        "score": [0.9, 0.1, 0.8, 0.3, 0.5, 0.2],
    })
    labels = pd.Series([1.0, 0.0, 1.0, 0.0], index=["a", "b", "c", "d"])
    curves = plots.pooled_lomo_curves(preds, labels, "genes")
    y, s = curves["lr"]
    assert list(y) == [1.0, 0.0, 1.0, 0.0] and list(s) == [0.9, 0.1, 0.8, 0.3]
