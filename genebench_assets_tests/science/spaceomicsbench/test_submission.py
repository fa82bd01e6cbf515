"""Submissions in the published harness format: scored like the baselines, malformed ones rejected
with one line naming file, entry and field."""

from __future__ import annotations

import json

import pytest

from genebench_assets_tests.conftest import shared_path


def _write(tmp_path, obj):
    p = tmp_path / "sub.json"
    p.write_text(json.dumps(obj) if not isinstance(obj, str) else obj)
    return p


def _folds(task_id):
    from genebench_assets.science.spaceomicsbench.splits import task_folds
    from genebench_assets.science.spaceomicsbench.task_data import build_task_data
    from genebench_assets.science.spaceomicsbench.task_definitions import load_task_definition

    root = shared_path("spaceomicsbench")
    task = load_task_definition(root / "tasks", task_id)
    data = build_task_data(task, root / "data", "strict")
    return data, task_folds(root / "splits", task.split_name, data)[0]


def test_perfect_a2_submission_scores_one_and_malformed_ones_are_rejected(tmp_path):
    from genebench_assets.science.spaceomicsbench.submission import SubmissionError, score_submission

    root = shared_path("spaceomicsbench")
    data, folds = _folds("A2")
    good = {"predictions": [{"split_idx": i, "y_pred": [str(data.y[r]) for r in f.test_rows]}
                            for i, f in enumerate(folds)]}
    out = score_submission(_write(tmp_path, good), "A2", root)
    assert out["summary"]["macro_f1"]["mean"] == 1.0
    cases = {
        "not json": ("{", "not valid JSON"),
        "no list": ({"preds": []}, "'predictions' list"),
        "missing fold": ({"predictions": good["predictions"][:3]}, "no entry for folds [3]"),
        "dup fold": ({"predictions": good["predictions"] + good["predictions"][:1]}, "fold 0 given twice"),
        "bad class": ({"predictions": [{**good["predictions"][0], "y_pred": ["space"] * len(folds[0].test_rows)}]
                       + good["predictions"][1:]}, "unknown classes ['space']"),
        "short": ({"predictions": [{**good["predictions"][0], "y_pred": ["recovery"]}] + good["predictions"][1:]},
                  "field 'y_pred' must be a list of 7"),
        "no index": ({"predictions": [{"y_pred": []}]}, "needs 'split_idx'"),
    }
    for name, (obj, msg) in cases.items():
        with pytest.raises(SubmissionError) as exc:
            score_submission(_write(tmp_path, obj), "A2", root)
        assert msg in str(exc.value) and "sub.json" in str(exc.value) and "\n" not in str(exc.value), name


def test_binary_submission_needs_finite_scores(tmp_path):
    from genebench_assets.science.spaceomicsbench.submission import SubmissionError, score_submission

    root = shared_path("spaceomicsbench")
    data, folds = _folds("I2")
    sub = {"predictions": [{"rep": i, "y_score": [float(data.y[r]) for r in f.test_rows]} for i, f in enumerate(folds)]}
    assert score_submission(_write(tmp_path, sub), "I2", root)["summary"]["auroc"]["mean"] == 1.0
    sub["predictions"][2]["y_score"][5] = "high"
    with pytest.raises(SubmissionError, match=r"fold 2: field 'y_score' row 5 has a non-finite or non-numeric"):
        score_submission(_write(tmp_path, sub), "I2", root)
