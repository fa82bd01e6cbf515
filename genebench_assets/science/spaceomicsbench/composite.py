"""Composite score (SPEC §12): per task ``max(0, (score - chance) / (1 - chance))`` with the
*analytic* chance level of the primary metric, then the mean over each category's available tasks,
then the mean over categories. The seed normalized by its own Random baseline's score instead
(an empirical, noisy chance); both are computed and shown side by side.

Analytic chance, per fold then averaged over folds:
- AUROC: 0.5.
- AUPRC: the test fold's positive rate (the AUPRC of an uninformative scorer).
- macro-F1 (K classes, fixed label list): a uniform guesser's expected per-class F1 from expected
  counts, ``2 p_c / (1 + K p_c)`` with ``p_c`` the class's share of the test fold, averaged over
  the K classes.
- micro-F1 (multilabel): each (row, label) guessed positive with probability 1/2, so
  ``2 q / (1 + 2 q)`` with ``q`` the share of positive cells in the test fold.

Unavailable tasks are listed, not scored as zero; a category with no available task is left out of
the mean and named. Multilabel baselines (``multilabel_logreg``) count toward their model family
(``logreg``) in the analytic composite; the seed-style composite keeps the published names."""

from __future__ import annotations

import numpy as np

from genebench_assets.science.spaceomicsbench.task_definitions import CATEGORIES, SUPPLEMENTARY_TASKS


def analytic_chance(metric: str, y_tests: list[np.ndarray], n_classes: int | None = None) -> float:
    """Chance level of ``metric`` averaged over the test folds' labels ``y_tests``."""
    vals = []
    for y in y_tests:
        y = np.asarray(y)
        if metric == "auroc":
            vals.append(0.5)
        elif metric == "auprc":
            vals.append(float(np.mean(y == 1)))
        elif metric == "macro_f1":
            k = int(n_classes)
            p = np.array([np.mean(y == c) for c in range(k)])
            vals.append(float(np.mean(2 * p / (1 + k * p))))
        elif metric == "micro_f1":
            q = float(np.mean(y))
            vals.append(2 * q / (1 + 2 * q))
        else:
            raise ValueError(f"metric: no analytic chance for {metric!r}")
    return float(np.mean(vals))


def normalized(score: float, chance: float) -> float:
    if chance >= 1.0:
        return 0.0
    return max(0.0, (score - chance) / (1.0 - chance))


def model_family(model: str) -> str:
    return model.removeprefix("multilabel_")


def composite_scores(task_scores: dict[str, dict[str, float]], chance: dict[str, float],
                     unavailable: dict[str, str], *, families: bool = True) -> dict:
    """``task_scores``: task -> model -> primary-metric fold mean; ``chance``: task -> chance level.
    Returns model -> {category_scores, composite, n_categories, tasks_used} plus ``_unavailable``."""
    per_model: dict[str, dict[str, list[float]]] = {}
    used: dict[str, list[str]] = {}
    for task, models in task_scores.items():
        if task in SUPPLEMENTARY_TASKS or task not in chance:
            continue
        cat = next((c for c, ts in CATEGORIES.items() if task in ts), None)
        if cat is None:
            continue
        for model, score in models.items():
            name = model_family(model) if families else model
            per_model.setdefault(name, {}).setdefault(cat, []).append(normalized(score, chance[task]))
            used.setdefault(name, []).append(task)
    out: dict = {}
    for model in sorted(per_model):
        cats = {c: round(float(np.mean(v)), 4) for c, v in per_model[model].items()}
        out[model] = {"category_scores": cats, "composite": round(float(np.mean(list(cats.values()))), 4),
                      "n_categories": len(cats), "tasks_used": sorted(used[model])}
    empty = [c for c, ts in CATEGORIES.items() if all(t in unavailable for t in ts)]
    out["_unavailable"] = {"tasks": dict(sorted(unavailable.items())), "categories_without_data": empty}
    return out
