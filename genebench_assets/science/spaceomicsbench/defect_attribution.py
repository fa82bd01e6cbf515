"""Which seed defects the strict protocol fixes in each SpaceOmicsBench task, and how much of a
task's seed -> strict move each one explains (issue 12, SPEC §11/§12).

Fixed order of the steps from seed to strict:

1. the data defect: a positional join replaced by an id join (A1, B2, E1-E4, F4, F5, G1), or
   C2's published split indices mapped to their genes by the generator's row order (same partition);
2. the metric defect: macro-F1 over the task's fixed class list instead of the classes present in
   the fold (the primary metric of the multi-class tasks: A1, A2, C1, F4, F5, G1).

Where a task has the metric step, the point between the two ends is measured: the strict run's
predictions (id-joined rows, strict folds) scored with the seed's macro-F1 (``BETWEEN_KEY`` in the
strict results). Predictions do not depend on the metric, so nothing is refitted. Then

    data step   = between - seed
    metric step = strict - between
    remainder   = (strict - seed) - sum of the steps

A task without a data defect (A2, C1: one table, no join) has no data step, so its
``between - seed`` is the remainder: a difference between the protocols' data that no declared
defect explains is shown, not credited to the metric. A task with one step and no measured point
(binary tasks: C2's split, E1-E4's and B2's joins) credits the whole move to its only defect; a task
with no defect shows any move as remainder. Values are the 4-decimal fold means of the results
files, so the steps and the remainder add up to strict - seed exactly (to 4 decimals)."""

from __future__ import annotations

ID_JOIN = "id_join"
C2_SPLIT = "c2_split"
CLASS_LIST = "macro_f1_class_list"
SHORT_NAMES = {ID_JOIN: "id join", C2_SPLIT: "C2 split", CLASS_LIST: "macro-F1 class list"}
# Strict results, per task: model -> metric -> {mean, std} of the strict predictions scored with
# the seed metric ("_" prefix: our addition, skipped by the key-by-key comparison).
BETWEEN_KEY = "_strict_data_seed_metric"

# Step 1 of each task that has one: (defect, what the strict protocol does about it).
DATA_DEFECT = {
    "A1": (ID_JOIN, "positional join of clinical_cbc.csv + clinical_cmp.csv (aligned: no effect expected)"),
    "B2": (ID_JOIN, "positional join of correlation and cluster-label rows (aligned: no effect expected)"),
    "C2": (C2_SPLIT, "published split indices read in the baselines' row order, not the generator's (mapped by id)"),
    "E1": (ID_JOIN, "positional join of all_skin features and layer labels (aligned)"),
    "E2": (ID_JOIN, "positional join of all_skin features and layer labels (aligned)"),
    "E3": (ID_JOIN, "positional join of all_skin features and layer labels (aligned)"),
    "E4": (ID_JOIN, "positional join of all_skin features and layer labels (aligned)"),
    "F4": (ID_JOIN, "positional join of pathway columns and metadata rows (misaligned: 3/275)"),
    "F5": (ID_JOIN, "positional join of pathway columns and metadata rows (misaligned: 3/275)"),
    "G1": (ID_JOIN, "positional join of proteomics and metabolomics rows to clinical rows (misaligned)"),
}
METRIC_DEFECT = (CLASS_LIST, "macro-F1 over the fixed class list (seed: classes present in the fold)")
ORDER_NOTE = ("steps in a fixed order: 1. data (id join / C2 split), scored with the seed metric; "
              "2. metric (macro-F1 over the fixed class list); remainder = strict − seed − steps")


def defect_steps(task_id: str, metric: str) -> list[tuple[str, str]]:
    """The task's defects fixed by strict, in attribution order. The metric step applies to
    macro-F1, the primary metric of the multi-class tasks only (B2's multilabel primary is micro-F1)."""
    steps = [DATA_DEFECT[task_id]] if task_id in DATA_DEFECT else []
    if metric == "macro_f1":
        steps.append(METRIC_DEFECT)
    return steps


def needs_between(task_id: str, metric: str) -> bool:
    """Whether the strict evaluation scores its predictions with the seed metric too (the point
    between the data step and the metric step)."""
    return any(key == CLASS_LIST for key, _ in defect_steps(task_id, metric))


def _d(a: float, b: float) -> float:
    return round(a - b, 4)


def attribute(task_id: str, metric: str, seed: float, strict: float, between: float | None = None) -> dict:
    """The seed -> strict move of one (task, model, metric) split over the task's defects.

    Returns ``{"steps": [{"defect", "fixes", "delta"}], "remainder", "measured", "moved_by"}``;
    ``delta`` None where the split needs the ``between`` value and it is missing (then the whole
    move is the remainder and ``measured`` is False). ``moved_by``: the defects with a non-zero
    step, plus "unexplained" for a non-zero remainder."""
    total = _d(strict, seed)
    steps = [{"defect": key, "fixes": text, "delta": None} for key, text in defect_steps(task_id, metric)]
    measured = True
    if not steps:
        pass                                   # no declared defect: any move is the remainder
    elif steps[-1]["defect"] == CLASS_LIST:
        if between is None:
            if len(steps) == 1:
                steps[0]["delta"] = total      # no data defect: the metric is the only difference
            else:
                measured = False
        else:
            steps[-1]["delta"] = _d(strict, between)
            if len(steps) == 2:
                steps[0]["delta"] = _d(between, seed)
    else:
        steps[0]["delta"] = total              # one defect, no metric step: the whole move
    explained = sum(s["delta"] for s in steps if s["delta"] is not None)
    remainder = round(total - explained, 4)
    moved_by = [s["defect"] for s in steps if s["delta"]]
    if remainder:
        moved_by.append("unexplained")
    return {"steps": steps, "remainder": remainder, "measured": measured, "moved_by": moved_by}


def attribution_text(attr: dict) -> str:
    """One cell: each step in order with its share, then the remainder."""
    parts = [f"{SHORT_NAMES.get(s['defect'], s['defect'])} "
             + ("not split" if s["delta"] is None else f"{s['delta']:+.4f}") for s in attr["steps"]]
    parts.append(f"remainder {attr['remainder']:+.4f}")
    return "; ".join(parts)
