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

import heapq
import math
import re
import reprlib
from dataclasses import dataclass
from numbers import Real
from pathlib import Path

import numpy as np

from genebench_assets.science.evaluation import lomo_evaluation as evaluation
from genebench_assets.science.inputs.guarded_files import InputFileError, OversizedNumber, parse_json, read_text


MODEL_NAME_RE = re.compile(r"[\w\-.]+")
MAX_MODEL_NAME = 50
REQUIRED_FIELDS = ("task_id", "model_name", "predictions")


DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # a real submission is < 1 MB; raise with `--max-bytes`
MAX_DEPTH = 16  # a submission nests 3 deep; anything far deeper is not a submission
MAX_PROBLEMS = 20  # problems spelt out; the rest are counted

# Values quoted in messages are cut short (a hostile value can be a 50 MB string or a deep list).
_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxdict, _short.maxlevel = 60, 60, 4, 4, 3


class SubmissionError(ValueError):
    """The submission is malformed; ``problems`` lists the problems found (at most the cap),
    ``total`` counts them all."""

    def __init__(self, problems: list[str], total: int | None = None):
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else total
        more = f"\n(and {self.total - len(self.problems)} more problems)" if self.total > len(self.problems) else ""
        super().__init__("invalid submission:\n- " + "\n- ".join(self.problems) + more)


class SubmissionReadError(ValueError):
    """The file cannot be read as one unambiguous JSON document; the message is one line."""


class _DuplicateKeyDict(dict):
    """A JSON object that named a key twice (``json`` keeps the last silently); remembers which."""

    duplicates: list[str]


def _object_without_losing_duplicates(pairs):
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen, dups = set(), []
    for k, _ in pairs:
        if k in seen and k not in dups:
            dups.append(k)
        seen.add(k)
    obj = _DuplicateKeyDict(obj)
    obj.duplicates = dups
    return obj


def _where(path: tuple) -> str:
    return "top level" if not path else "".join(f"[{p!r}]" for p in path)


def _structure_problem(obj) -> tuple[str | None, int]:
    """The first duplicate key / too-deep nesting, named by where it is, and how many duplicates in all
    (an iterative walk: no recursion, whatever the input)."""
    first, n_dups = None, 0
    stack = [(obj, (), 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"JSON nested deeper than {MAX_DEPTH} levels at {_where(path[:3])}... (a submission nests 3)", n_dups
        if isinstance(node, dict):
            dups = getattr(node, "duplicates", ())
            n_dups += len(dups)
            if dups and first is None:
                what = ("field" if not path else "fold key" if path == ("predictions",)
                        else f"sample id in fold {path[1]!r}" if len(path) == 2 and path[0] == "predictions" else "key")
                first = f"duplicate {what} {_short.repr(dups[0])} at {_where(path)}"
            stack.extend((v, path + (k,), depth + 1) for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, path + (i,), depth + 1) for i, v in enumerate(node) if isinstance(v, (dict, list)))
    if first:
        return f"{first} ({n_dups} duplicate key(s) in all; JSON would silently keep the last)", n_dups
    return None, 0


def read_submission_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES):
    """The parsed submission, or ``SubmissionReadError`` with one line naming the file and the cause:
    not found, a directory or not a regular file, over ``max_bytes``, not UTF-8 text, not JSON,
    nested too deep, a duplicated key (field, fold key or sample id). Reads at most ``max_bytes + 1``
    bytes, so memory stays bounded by the limit whatever the file."""
    path = Path(path)
    try:  # the guarded reader (science/inputs): regular file, size, UTF-8; unusable numbers kept for listing
        text = read_text(path, max_bytes=max_bytes, hint="raise it with --max-bytes")
        obj = parse_json(text, path, max_depth=max(MAX_DEPTH, 64), numbers="keep",
                         object_pairs_hook=_object_without_losing_duplicates)
    except InputFileError as exc:
        raise SubmissionReadError(str(exc)) from None
    del text
    problem, _ = _structure_problem(obj)
    if problem:
        raise SubmissionReadError(f"{path}: {problem}")
    return obj


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
    items = list(items)
    more = f" and {len(items) - k} more" if len(items) > k else ""
    return ", ".join(_short.repr(i) for i in heapq.nsmallest(k, items)) + more


def _value_ok(value) -> bool:
    """The common case, decided without formatting anything (a JSON number is an int or a float)."""
    return type(value) in (float, int) and 0.0 <= value <= 1.0


def _value_problem(value, describe: bool = True) -> str | None:
    """What is wrong with a probability, or None; ``describe=False`` answers without formatting."""
    if isinstance(value, (bool, np.bool_)):
        return f"is a boolean ({value!r}), expected a probability" if describe else "bad"
    if isinstance(value, OversizedNumber):  # kept as text by the reader: never converted
        return f"is a number of {len(value)} characters, too long to be a probability" if describe else "bad"
    if isinstance(value, int) and not 0 <= value <= 1:  # float() of a 309-digit integer overflows
        return f"is {_short.repr(value)}, outside [0, 1]" if describe else "bad"
    if not isinstance(value, Real):
        return f"is not a number ({_short.repr(value)})" if describe else "bad"
    v = float(value)
    if math.isnan(v):
        return "is NaN"
    if not 0.0 <= v <= 1.0:
        return f"is {value!r}, outside [0, 1]" if describe else "bad"
    return None


class _Problems(list):
    """Problems up to ``limit`` spelt out, every one counted (6.5 million bad values must not
    become 6.5 million lines)."""

    def __init__(self, limit: int | None):
        super().__init__()
        self.limit, self.total = limit, 0

    def append(self, problem: str) -> None:
        self.total += 1
        if self.limit is None or len(self) < self.limit:
            super().append(problem)

    def full(self) -> bool:
        return self.limit is not None and len(self) >= self.limit


def validate_submission(obj, task: TaskFolds, limit: int | None = None) -> list[str]:
    """The problems of the submission, each naming what is wrong and where; [] when valid. With
    ``limit``, at most that many are listed and ``.total`` on the returned list counts them all."""
    problems = _Problems(limit)
    _collect_problems(obj, task, problems)
    return problems


def _collect_problems(obj, task: TaskFolds, problems: "_Problems") -> None:
    if not isinstance(obj, dict):
        problems.append(f"submission must be a JSON object, got {type(obj).__name__}")
        return
    for p in _top_level_problems(obj, task):
        problems.append(p)
    if "predictions" not in obj or not isinstance(obj["predictions"], dict):
        return
    _prediction_problems(obj["predictions"], task, problems)


def _top_level_problems(obj: dict, task: TaskFolds) -> list[str]:
    problems = [f"missing required field {name!r}" for name in REQUIRED_FIELDS if name not in obj]
    if "task_id" in obj and obj["task_id"] != task.task_id:
        problems.append(f"wrong task: submission is for task_id {_short.repr(obj['task_id'])}, evaluating {task.task_id!r}")
    if "model_name" in obj:
        name = obj["model_name"]
        if not isinstance(name, str) or not name:
            problems.append(f"model_name must be a non-empty string, got {_short.repr(name)}")
        else:
            if len(name) > MAX_MODEL_NAME:
                problems.append(f"model_name is {len(name)} characters long, at most {MAX_MODEL_NAME} allowed")
            if not MODEL_NAME_RE.fullmatch(name):
                problems.append(f"model_name {_short.repr(name)} may hold only letters, digits, '_', '-' and '.'")
    if "predictions" in obj and not isinstance(obj["predictions"], dict):
        problems.append(f"'predictions' must be an object of fold id -> predictions, "
                        f"got {type(obj['predictions']).__name__}")
    return problems


def _prediction_problems(preds: dict, task: TaskFolds, problems: "_Problems") -> None:
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
            if _value_ok(value):
                continue
            if problems.full():  # past the cap only the count is kept: no message is formatted
                problems.total += _value_problem(value, describe=False) is not None
            elif why := _value_problem(value):
                problems.append(f"[{spec.fold_id}] probability for sample {_short.repr(sample_id)} {why}")


def check_submission(obj, task: TaskFolds, limit: int | None = MAX_PROBLEMS) -> None:
    """Raise ``SubmissionError`` listing the problems (up to ``limit``, with the total), or return None."""
    problems = validate_submission(obj, task, limit)
    if problems:
        raise SubmissionError(list(problems), problems.total)


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
