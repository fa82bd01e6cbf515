"""Score a SpaceOmicsBench submission in the published harness format (``evaluation/eval_harness.py``):

    {"predictions": [{"split_idx": 0, "y_pred": [...]}, ...]}        sample-level (LOCO) tasks
    {"predictions": [{"rep": 0, "y_score": [...]}, ...]}             feature-level binary tasks
    {"predictions": [{"rep": 0, "y_pred": [[...]], "y_score": [[...]]}]}   multilabel (B2)

one entry per fold of the task's split, values in the fold's test-row order. Every malformed case is
rejected with one line naming the file, the entry and the field. Binary hard predictions, when
absent, are ``y_score >= 0.5`` (as the harness)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, load_json, short
from genebench_assets.science.spaceomicsbench.baselines import encode_labels
from genebench_assets.science.spaceomicsbench.splits import task_folds
from genebench_assets.science.spaceomicsbench.task_data import build_task_data
from genebench_assets.science.spaceomicsbench.task_definitions import load_task_definition
from genebench_assets.science.spaceomicsbench.task_metrics import aggregate, fold_metrics


class SubmissionError(ValueError):
    """A submission that cannot be scored; one line naming file, entry, field and value."""


def _fail(src: str, where: str, msg: str):
    raise SubmissionError(f"{src}: {where}: {msg}")


def _numbers(src, where, field, values, n, width=None) -> np.ndarray:
    if not isinstance(values, list):
        _fail(src, where, f"field '{field}' must be a list (value: {type(values).__name__})")
    if len(values) != n:
        _fail(src, where, f"field '{field}' has {len(values)} values for {n} test rows")
    rows = values if width is not None else [[v] for v in values]
    for i, row in enumerate(rows):
        if not isinstance(row, list) or (width is not None and len(row) != width):
            _fail(src, where, f"field '{field}' row {i} must be a list of {width} values (value: {short(row, 40)})")
        for v in row:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
                _fail(src, where, f"field '{field}' row {i} has a non-finite or non-numeric value ({short(v, 40)})")
    return np.asarray(values, dtype=float)


DEFAULT_MAX_BYTES = LIMITS["submission"]


def read_submission(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES):
    """The submission JSON through the guarded reader (regular file, size, UTF-8, nesting, no duplicate
    key, numbers that fit a float); SubmissionError, one line naming file, field and value, otherwise."""
    try:
        return load_json(path, max_bytes=max_bytes, hint="raise it with --max-bytes")
    except InputFileError as exc:
        raise SubmissionError(str(exc)) from None


def score_submission(path: str | Path, task_id: str, root: str | Path, protocol: str = "strict",
                     max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    root, src = Path(root), str(path)
    sub = read_submission(path, max_bytes)
    task = load_task_definition(root / "tasks", task_id)
    data = build_task_data(task, root / "data", protocol)
    folds, _ = task_folds(root / "splits", task.split_name, data)
    if not isinstance(sub, dict) or not isinstance(sub.get("predictions"), list):
        _fail(src, "top level", "expected an object with a 'predictions' list")
    y_enc, classes = encode_labels(data)
    seen: dict[int, dict] = {}
    for k, entry in enumerate(sub["predictions"]):
        where = f"predictions[{k}]"
        if not isinstance(entry, dict):
            _fail(src, where, "must be an object")
        key = "split_idx" if "split_idx" in entry else "rep" if "rep" in entry else None
        if key is None:
            _fail(src, where, "needs 'split_idx' (sample-level tasks) or 'rep' (feature-level tasks)")
        idx = entry[key]
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < len(folds):
            _fail(src, where, f"field '{key}' must be a fold number 0..{len(folds) - 1} (value: {short(idx, 40)})")
        if idx in seen:
            _fail(src, where, f"fold {idx} given twice")
        seen[idx] = entry
    missing = sorted(set(range(len(folds))) - set(seen))
    if missing:
        _fail(src, "predictions", f"no entry for folds {missing} (task {task_id} has {len(folds)} folds)")
    per_fold = []
    for i, fold in enumerate(folds):
        entry, where, n = seen[i], f"fold {i}", len(fold.test_rows)
        y_true = y_enc[np.asarray(fold.test_rows)]
        if data.task_type == "binary_classification":
            if "y_score" not in entry:
                _fail(src, where, "binary task: field 'y_score' (P(positive) per test row) is required")
            y_score = _numbers(src, where, "y_score", entry["y_score"], n)
            y_pred = (_numbers(src, where, "y_pred", entry["y_pred"], n) if "y_pred" in entry
                      else (y_score >= 0.5).astype(int))
        elif data.task_type == "multilabel_classification":
            width = y_true.shape[1]
            if "y_pred" not in entry:
                _fail(src, where, "multilabel task: field 'y_pred' (0/1 per label) is required")
            y_pred = _numbers(src, where, "y_pred", entry["y_pred"], n, width)
            if not np.isin(y_pred, (0, 1)).all():
                _fail(src, where, "field 'y_pred' must hold 0/1 values")
            y_pred = y_pred.astype(int)
            y_score = np.zeros_like(y_pred, dtype=float)
        else:
            values = entry.get("y_pred")
            if not isinstance(values, list) or len(values) != n:
                _fail(src, where, f"field 'y_pred' must be a list of {n} class names")
            unknown = sorted({str(v) for v in values} - {str(c) for c in classes})
            if unknown:
                _fail(src, where, f"field 'y_pred' has unknown classes {unknown[:5]} (known: {classes})")
            code = {str(c): j for j, c in enumerate(classes)}
            y_pred = np.array([code[str(v)] for v in values])
            y_score = np.zeros(n)
        labels = (list(range(len(classes))) if data.task_type == "multi_class_classification" and protocol == "strict"
                  else None)
        per_fold.append(fold_metrics(data.task_type, y_true, y_pred, y_score, labels))
    return {"task_id": task_id, "protocol": protocol, "primary_metric": task.primary_metric,
            "per_fold": per_fold, "summary": aggregate(per_fold)}
