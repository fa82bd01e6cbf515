"""Validate and score an outside submission (SPEC §7 "Submission JSON").

A submission is ``{"task_id": "A5", "model_name": "my-model_v1.0",
"predictions": {"fold_MHU-2_test": {"<sample id>": 0.83, ...}, ...}}`` with one entry per fold of
the task (holdout folds may be added, they are scored apart) and, per fold, exactly the fold's
test samples mapped to P(Flight) in [0, 1].

The task comes in as a small ``TaskFolds`` (fold ids, test mission, train / test ids, test labels),
built from the published release (``TaskFolds.from_release``) or later from our own folds.
Scoring follows the published evaluator: per fold a fresh ``default_rng(42)`` for the bootstrap
(2000 x ``integers(0, n, n)``) and another for the permutations (1000), folds in fold-id order,
pooled AUROC over all folds' predictions in that order.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from numbers import Real

import numpy as np

from genebench_assets.science.evaluation import lomo_evaluation as evaluation

from genebench_assets.science.evaluation import metrics

MODEL_NAME_RE = re.compile(r"[\w\-.]+")
MAX_MODEL_NAME = 50
REQUIRED_FIELDS = ("task_id", "model_name", "predictions")


class SubmissionError(ValueError):
    """The submission is malformed; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid submission:\n- " + "\n- ".join(self.problems))


@dataclass(frozen=True)
class FoldSpec:
    fold_id: str                      # "fold_RR-1_test" (A) or "pair_RR-1_RR-3" (B)
    test_mission: str
    train_ids: tuple[str, ...]
    test_ids: tuple[str, ...]
    test_labels: tuple[float, ...]    # 1.0 Flight, 0.0 Ground, aligned with test_ids
    optional: bool = False            # holdout folds: may be submitted, never required


@dataclass(frozen=True)
class TaskFolds:
    task_id: str
    folds: tuple[FoldSpec, ...]

    @property
    def required(self) -> list[FoldSpec]:
        return [f for f in self.folds if not f.optional]

    def fold(self, fold_id: str) -> FoldSpec:
        for f in self.folds:
            if f.fold_id == fold_id:
                return f
        raise KeyError(fold_id)

    @classmethod
    def from_release(cls, task) -> "TaskFolds":
        """From a ``genelab_release.ReleaseTask``; folds sorted by fold id as the published
        evaluator iterated them (this order fixes the pooled AUROC's bootstrap)."""
        specs = [FoldSpec(fold_id=f.fold_id, test_mission=f.test_mission, train_ids=tuple(f.train_y.index),
                          test_ids=tuple(f.test_y.index), test_labels=tuple(float(v) for v in f.test_y.to_numpy()),
                          optional=f.holdout)
                 for f in list(task.folds) + list(task.holdout_folds)]
        return cls(task_id=task.task_id, folds=tuple(sorted(specs, key=lambda s: s.fold_id)))


def _preview(items, k: int = 5) -> str:
    items = sorted(items)
    more = f" and {len(items) - k} more" if len(items) > k else ""
    return ", ".join(repr(i) for i in items[:k]) + more


def _value_problem(value) -> str | None:
    if isinstance(value, (bool, np.bool_)):
        return f"is a boolean ({value!r}), expected a probability"
    if not isinstance(value, Real):
        return f"is not a number ({value!r})"
    v = float(value)
    if math.isnan(v):
        return "is NaN"
    if not 0.0 <= v <= 1.0:
        return f"is {value!r}, outside [0, 1]"
    return None


def validate_submission(obj, task: TaskFolds) -> list[str]:
    """Every problem of the submission, each naming what is wrong and where; [] when valid."""
    if not isinstance(obj, dict):
        return [f"submission must be a JSON object, got {type(obj).__name__}"]
    problems = [f"missing required field {name!r}" for name in REQUIRED_FIELDS if name not in obj]
    if "task_id" in obj and obj["task_id"] != task.task_id:
        problems.append(f"wrong task: submission is for task_id {obj['task_id']!r}, evaluating {task.task_id!r}")
    if "model_name" in obj:
        name = obj["model_name"]
        if not isinstance(name, str) or not name:
            problems.append(f"model_name must be a non-empty string, got {name!r}")
        else:
            if len(name) > MAX_MODEL_NAME:
                problems.append(f"model_name is {len(name)} characters long, at most {MAX_MODEL_NAME} allowed")
            if not MODEL_NAME_RE.fullmatch(name):
                problems.append(f"model_name {name!r} may hold only letters, digits, '_', '-' and '.'")
    if "predictions" not in obj:
        return problems
    preds = obj["predictions"]
    if not isinstance(preds, dict):
        return problems + [f"'predictions' must be an object of fold id -> predictions, got {type(preds).__name__}"]
    known = {f.fold_id for f in task.folds}
    missing = [f.fold_id for f in task.required if f.fold_id not in preds]
    if missing:
        problems.append(f"missing folds: {_preview(missing)} (task {task.task_id} needs {[f.fold_id for f in task.required]})")
    unknown = [k for k in preds if k not in known]
    if unknown:
        problems.append(f"unknown folds: {_preview(map(str, unknown))} (task {task.task_id} has {sorted(known)})")
    for spec in task.folds:
        if spec.fold_id not in preds:
            continue
        fold_preds = preds[spec.fold_id]
        if not isinstance(fold_preds, dict):
            problems.append(f"[{spec.fold_id}] predictions must be an object of sample id -> probability, "
                            f"got {type(fold_preds).__name__}")
            continue
        expected = set(spec.test_ids)
        given = set(fold_preds)
        if given - expected:
            problems.append(f"[{spec.fold_id}] sample ids not in the fold's test set: {_preview(map(str, given - expected))}")
        if expected - given:
            problems.append(f"[{spec.fold_id}] missing predictions for test samples: {_preview(expected - given)}")
        for sample_id, value in fold_preds.items():
            why = _value_problem(value)
            if why:
                problems.append(f"[{spec.fold_id}] probability for sample {sample_id!r} {why}")
    return problems


def check_submission(obj, task: TaskFolds) -> None:
    """Raise ``SubmissionError`` listing every problem, or return None."""
    problems = validate_submission(obj, task)
    if problems:
        raise SubmissionError(problems)


def _score_fold(spec: FoldSpec, fold_preds: dict, randomness, n_boot: int, n_perm: int, index: int) -> dict:
    y = np.asarray(spec.test_labels, dtype=np.float64)
    s = np.asarray([float(fold_preds[sid]) for sid in spec.test_ids], dtype=np.float64)
    row = {"fold_id": spec.fold_id, "test_mission": spec.test_mission}
    row.update(evaluation.evaluate_fold(y, s, randomness=randomness, n_boot=n_boot, n_perm=n_perm, fold_index=index))
    return row


def score_submission(obj, task: TaskFolds, randomness="seed_default_rng", *, n_boot: int = 2000,
                     n_perm: int = 1000) -> dict:
    """Validate (raising ``SubmissionError``) and score: per-fold rows, task summary with GO /
    NO-GO and the pooled AUROC with its bootstrap CI; submitted holdout folds are scored apart."""
    check_submission(obj, task)
    preds = obj["predictions"]
    folds, ys, ss = [], [], []
    for i, spec in enumerate(task.required):
        folds.append(_score_fold(spec, preds[spec.fold_id], randomness, n_boot, n_perm, i))
        ys.append(spec.test_labels)
        ss.append([float(preds[spec.fold_id][sid]) for sid in spec.test_ids])
    summary = evaluation.summarize_task(folds)
    summary.update(evaluation.pooled_auroc(ys, ss, randomness=randomness, n_boot=n_boot))
    holdout = [_score_fold(spec, preds[spec.fold_id], randomness, n_boot, n_perm, len(task.required) + 1 + j)
               for j, spec in enumerate(f for f in task.folds if f.optional and f.fold_id in preds)]
    return {"task_id": task.task_id, "model_name": obj["model_name"], "randomness": str(getattr(randomness, "mode", randomness)),
            "n_boot": n_boot, "n_perm": n_perm, "n_folds": len(folds), "folds": folds,
            "summary": summary, "holdout_folds": holdout}


def render_score_table(result: dict) -> str:
    """Markdown task table of a scored submission."""
    s = result["summary"]
    table = evaluation.render_markdown_table({result["model_name"]: {**s, "folds": result["folds"]}},
                                             title=f"{result['task_id']} - {result['model_name']}")
    return table + (f"\nPooled AUROC {s['pooled_auroc']:.3f} [{s['pooled_ci_lower']:.3f}, {s['pooled_ci_upper']:.3f}] "
                    f"over {s['n_pooled']} test samples.\n")
