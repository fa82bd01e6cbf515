"""Per-fold and per-task evaluation of Category A predictions (SPEC §7).

- ``evaluate_fold``: AUROC, 95 % bootstrap CI, permutation p and class counts of one fold.
- ``summarize_task``: means over folds and the GO / NO-GO rule (mean AUROC > 0.700, mean CI lower
  > 0.500, mean p < 0.050). The standard deviation is numpy's default (ddof = 0), as published.
- ``pooled_auroc``: all folds' test predictions together, with a bootstrap CI.
- ``positive_control_scores`` / ``controls_bracket``: the controls (after Open Problems): random
  scores must land near 0.5 and scores taken from the labels at 1.0.
- ``render_markdown_table``: the task table for the UI.
"""

from __future__ import annotations

import math

import numpy as np

from genebench_assets.science.evaluation import metrics

GO_AUROC = 0.700
GO_CI_LOWER = 0.500
GO_PERM_P = 0.050


def evaluate_fold(y, scores, *, randomness="seed_randomstate", n_boot: int = 2000, n_perm: int = 1000,
                  fold_index: int = 0) -> dict:
    """Metrics of one fold. ``randomness``: a mode of ``metrics.RANDOMNESS_MODES`` or a
    ``metrics.Randomness``; ``fold_index`` selects the fold's own streams in "strict" mode (the seed
    modes restart from seed 42 in every fold, as the published code did)."""
    y = np.asarray(y, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    rnd = randomness if isinstance(randomness, metrics.Randomness) else metrics.Randomness(str(randomness), fold_index=fold_index)
    n_flight = int((y == 1).sum())
    n_ground = int((y == 0).sum())
    if n_flight == 0 or n_ground == 0:
        raise ValueError(f"fold test set holds a single class ({n_flight} Flight, {n_ground} Ground): AUROC undefined")
    auroc = metrics.auroc(y, scores)
    ci_lower, ci_upper = metrics.bootstrap_auroc_ci(y, scores, n_boot=n_boot, randomness=rnd)
    perm_p = metrics.permutation_p(y, scores, n_perm=n_perm, randomness=rnd)
    return {"auroc": auroc, "ci_lower": ci_lower, "ci_upper": ci_upper, "perm_p": perm_p,
            "n_test": int(len(y)), "n_flight_test": n_flight, "n_ground_test": n_ground}


def summarize_task(fold_results: list[dict]) -> dict:
    """Task means and GO / NO-GO from per-fold results (each with auroc, ci_lower, perm_p)."""
    if not fold_results:
        raise ValueError("no fold results to summarize")
    aurocs = [r["auroc"] for r in fold_results]
    mean_auroc = float(np.mean(aurocs))
    mean_ci_lower = float(np.mean([r["ci_lower"] for r in fold_results]))
    mean_perm_p = float(np.mean([r["perm_p"] for r in fold_results]))
    go_auroc = mean_auroc > GO_AUROC
    go_ci = mean_ci_lower > GO_CI_LOWER
    go_perm = mean_perm_p < GO_PERM_P
    return {"n_folds": len(fold_results), "mean_auroc": mean_auroc, "std_auroc": float(np.std(aurocs)),
            "mean_ci_lower": mean_ci_lower, "mean_perm_p": mean_perm_p, "go_auroc": go_auroc,
            "go_ci": go_ci, "go_perm": go_perm, "go": go_auroc and go_ci and go_perm}


def pooled_auroc(y_by_fold, scores_by_fold, *, randomness="seed_randomstate", n_boot: int = 2000) -> dict:
    """AUROC of all folds' test predictions concatenated (fold order), with its bootstrap CI."""
    y_by_fold, scores_by_fold = list(y_by_fold), list(scores_by_fold)
    if len(y_by_fold) != len(scores_by_fold):
        raise ValueError(f"{len(y_by_fold)} label arrays but {len(scores_by_fold)} score arrays")
    y = np.concatenate([np.asarray(v, dtype=np.float64) for v in y_by_fold])
    s = np.concatenate([np.asarray(v, dtype=np.float64) for v in scores_by_fold])
    # strict mode: a stream of its own, after the per-fold ones
    rnd = randomness if isinstance(randomness, metrics.Randomness) else metrics.Randomness(str(randomness), fold_index=len(y_by_fold))
    lo, hi = metrics.bootstrap_auroc_ci(y, s, n_boot=n_boot, randomness=rnd)
    return {"pooled_auroc": metrics.auroc(y, s), "pooled_ci_lower": lo, "pooled_ci_upper": hi, "n_pooled": int(len(y))}


def positive_control_scores(y_test) -> np.ndarray:
    """Scores taken from the true labels (a control, not a model): AUROC must be exactly 1."""
    return np.asarray(y_test, dtype=np.float64).copy()


def controls_bracket(metric_by_model: dict[str, float], *, negative: str = "negative_control",
                     positive: str = "positive_control", tolerance: float = 0.15) -> dict:
    """Check that the controls bracket a metric (AUROC): the negative control within
    ``tolerance`` of 0.5, the positive control at 1.0, every other model between 0 and the
    positive control. Returns {passed, negative, positive, problems}."""
    problems = []
    neg = metric_by_model.get(negative)
    pos = metric_by_model.get(positive)
    if neg is None or (isinstance(neg, float) and math.isnan(neg)):
        problems.append(f"negative control {negative!r} missing")
    elif abs(neg - 0.5) > tolerance:
        problems.append(f"negative control {negative!r} = {neg:.3f}, not within {tolerance} of 0.5")
    if pos is None:
        problems.append(f"positive control {positive!r} missing")
    elif pos != 1.0:
        problems.append(f"positive control {positive!r} = {pos!r}, expected 1.0")
    for name, value in metric_by_model.items():
        if name in (negative, positive):
            continue
        if not (0.0 <= value <= 1.0):
            problems.append(f"{name} = {value!r} outside [0, 1]")
    return {"passed": not problems, "negative": neg, "positive": pos, "problems": problems}


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "GO" if value else "NO-GO"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_markdown_table(summary_by_model: dict[str, dict], *, title: str | None = None) -> str:
    """Markdown for the UI: one row per model (task means and GO), then one row per model and fold."""
    lines = [f"### {title}", ""] if title else []
    lines += ["| model | folds | mean AUROC | SD | mean CI lower | mean perm p | GO |",
              "|---|---|---|---|---|---|---|"]
    for model, s in summary_by_model.items():
        lines.append(f"| {model} | {s['n_folds']} | {_fmt(s['mean_auroc'])} | {_fmt(s['std_auroc'])} | "
                     f"{_fmt(s['mean_ci_lower'])} | {_fmt(s['mean_perm_p'])} | {_fmt(bool(s['go']))} |")
    fold_rows = [(model, f) for model, s in summary_by_model.items() for f in s.get("folds", [])]
    if fold_rows:
        lines += ["", "| model | test mission | n (F/G) | AUROC | 95 % CI | perm p |", "|---|---|---|---|---|---|"]
        for model, f in fold_rows:
            lines.append(f"| {model} | {f.get('test_mission', f.get('fold_id', ''))} | {f['n_test']} "
                         f"({f['n_flight_test']}/{f['n_ground_test']}) | {_fmt(f['auroc'])} | "
                         f"[{_fmt(f['ci_lower'])}, {_fmt(f['ci_upper'])}] | {_fmt(f['perm_p'])} |")
    return "\n".join(lines) + "\n"


def render_roc_png(curves: dict[str, tuple], *, title: str = "ROC") -> bytes:
    """PNG of ROC curves for the UI: ``curves`` maps a label (e.g. "pca_lr RR-1") to (y, scores)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    for label, (y, s) in curves.items():
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
