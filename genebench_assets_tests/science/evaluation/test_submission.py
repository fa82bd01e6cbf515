"""Submission evaluator: one test per rejection rule of SPEC §7 (each asserting its message), a
valid submission scored, and the score equal to the published evaluator's loop."""

import copy
from pathlib import Path
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from genebench_assets.science.release import genelab_release

from genebench_assets.science.evaluation import submission as S
from genebench_assets_tests.conftest import shared_path


@pytest.fixture
def task():
    folds = []
    for mission, n in (("RR-1", 8), ("RR-3", 10)):
        ids = tuple(f"{mission}_s{i}" for i in range(n))
        labels = tuple(float(v) for v in (np.arange(n) % 2))
        folds.append(S.FoldSpec(fold_id=f"fold_{mission}_test", test_mission=mission, train_ids=("x1", "x2"),
                                test_ids=ids, test_labels=labels))
    folds.append(S.FoldSpec(fold_id="fold_RR-9_holdout", test_mission="RR-9", train_ids=("x1",),
                            test_ids=("h1", "h2", "h3", "h4"), test_labels=(1.0, 0.0, 1.0, 0.0), optional=True))
    return S.TaskFolds(task_id="A9", folds=tuple(folds))


@pytest.fixture
def valid(task):
    rng = np.random.default_rng(1)
    return {"task_id": "A9", "model_name": "my-model_v1.0",
            "predictions": {f.fold_id: {sid: float(v) for sid, v in zip(f.test_ids, rng.random(len(f.test_ids)))}
                            for f in task.required}}


def _problems(obj, task):
    problems = S.validate_submission(obj, task)
    with pytest.raises(S.SubmissionError) as err:
        S.check_submission(obj, task)
    assert err.value.problems == problems
    return problems


def test_valid_submission_has_no_problem(valid, task):
    assert S.validate_submission(valid, task) == []
    S.check_submission(valid, task)


def test_not_an_object(task):
    assert S.validate_submission([1, 2], task) == ["submission must be a JSON object, got list"]


@pytest.mark.parametrize("field", ["task_id", "model_name", "predictions"])
def test_missing_field(valid, task, field):
    del valid[field]
    assert f"missing required field {field!r}" in _problems(valid, task)


def test_wrong_task(valid, task):
    valid["task_id"] = "A5"
    assert _problems(valid, task) == ["wrong task: submission is for task_id 'A5', evaluating 'A9'"]


@pytest.mark.parametrize("name", ["my model", "model/1", "naïve+", "bad\n"])
def test_model_name_characters(valid, task, name):
    valid["model_name"] = name
    assert _problems(valid, task) == [f"model_name {name!r} may hold only letters, digits, '_', '-' and '.'"]


def test_model_name_too_long(valid, task):
    valid["model_name"] = "m" * 51
    assert _problems(valid, task) == ["model_name is 51 characters long, at most 50 allowed"]
    valid["model_name"] = "m" * 50
    assert S.validate_submission(valid, task) == []


@pytest.mark.parametrize("name", ["", 42, None])
def test_model_name_empty_or_not_a_string(valid, task, name):
    valid["model_name"] = name
    assert _problems(valid, task) == [f"model_name must be a non-empty string, got {name!r}"]


def test_predictions_not_an_object(valid, task):
    valid["predictions"] = [0.5]
    assert _problems(valid, task) == ["'predictions' must be an object of fold id -> predictions, got list"]


def test_missing_fold(valid, task):
    del valid["predictions"]["fold_RR-3_test"]
    [problem] = _problems(valid, task)
    assert problem.startswith("missing folds: 'fold_RR-3_test' (task A9 needs ['fold_RR-1_test', 'fold_RR-3_test'])")


def test_unknown_fold(valid, task):
    valid["predictions"]["fold_RR-7_test"] = {}
    [problem] = _problems(valid, task)
    assert problem.startswith("unknown folds: 'fold_RR-7_test' (task A9 has ")


def test_holdout_fold_is_optional_but_checked_when_given(valid, task):
    valid["predictions"]["fold_RR-9_holdout"] = {"h1": 0.5, "h2": 0.5, "h3": 0.5}
    assert _problems(valid, task) == ["[fold_RR-9_holdout] missing predictions for test samples: 'h4'"]


def test_fold_predictions_not_an_object(valid, task):
    valid["predictions"]["fold_RR-1_test"] = [0.5] * 8
    assert _problems(valid, task) == ["[fold_RR-1_test] predictions must be an object of sample id -> probability, got list"]


def test_sample_missing_from_fold(valid, task):
    del valid["predictions"]["fold_RR-1_test"]["RR-1_s3"]
    assert _problems(valid, task) == ["[fold_RR-1_test] missing predictions for test samples: 'RR-1_s3'"]


def test_sample_not_in_fold_test_set(valid, task):
    valid["predictions"]["fold_RR-1_test"]["RR-3_s0"] = 0.4     # a sample of another fold
    assert _problems(valid, task) == ["[fold_RR-1_test] sample ids not in the fold's test set: 'RR-3_s0'"]


@pytest.mark.parametrize("value", [1.5, -0.01, math.inf])
def test_value_outside_unit_interval(valid, task, value):
    valid["predictions"]["fold_RR-3_test"]["RR-3_s2"] = value
    assert _problems(valid, task) == [f"[fold_RR-3_test] probability for sample 'RR-3_s2' is {value!r}, outside [0, 1]"]


def test_value_nan(valid, task):
    valid["predictions"]["fold_RR-3_test"]["RR-3_s2"] = float("nan")
    assert _problems(valid, task) == ["[fold_RR-3_test] probability for sample 'RR-3_s2' is NaN"]


@pytest.mark.parametrize("value", [True, False])
def test_value_boolean(valid, task, value):
    valid["predictions"]["fold_RR-1_test"]["RR-1_s0"] = value
    assert _problems(valid, task) == [f"[fold_RR-1_test] probability for sample 'RR-1_s0' is a boolean ({value!r}), expected a probability"]


@pytest.mark.parametrize("value", ["0.5", None, [0.5]])
def test_value_not_a_number(valid, task, value):
    valid["predictions"]["fold_RR-1_test"]["RR-1_s0"] = value
    assert _problems(valid, task) == [f"[fold_RR-1_test] probability for sample 'RR-1_s0' is not a number ({value!r})"]


def test_every_problem_is_reported_at_once(valid, task):
    valid["task_id"] = "A1"
    valid["model_name"] = "a b"
    valid["predictions"]["fold_RR-1_test"]["RR-1_s0"] = 2
    assert len(_problems(valid, task)) == 3


def test_integers_0_and_1_are_probabilities(valid, task):
    valid["predictions"]["fold_RR-1_test"]["RR-1_s0"] = 1
    valid["predictions"]["fold_RR-1_test"]["RR-1_s1"] = 0
    assert S.validate_submission(valid, task) == []


def test_scoring_rejects_invalid(valid, task):
    valid["predictions"]["fold_RR-1_test"]["RR-1_s0"] = -1
    with pytest.raises(S.SubmissionError, match="outside \\[0, 1\\]"):
        S.score_submission(valid, task)


def _published_evaluator(sub, task, n_boot, n_perm):
    """The published evaluator's loop: sklearn per draw, fresh default_rng(42) per fold and use."""
    def ci(y, s):
        rng = np.random.default_rng(42)
        b = []
        for _ in range(n_boot):
            idx = rng.integers(0, len(y), len(y))
            if len(np.unique(y[idx])) == 2:
                b.append(roc_auc_score(y[idx], s[idx]))
        return float(np.percentile(b, 2.5)), float(np.percentile(b, 97.5))

    def perm(y, s):
        rng = np.random.default_rng(42)
        obs = roc_auc_score(y, s)
        null = np.array([roc_auc_score(rng.permutation(y), s) for _ in range(n_perm)])
        return float((np.sum(null >= obs) + 1) / (n_perm + 1))

    rows, ys, ss = [], [], []
    for f in task.required:
        y = np.array(f.test_labels)
        s = np.array([float(sub["predictions"][f.fold_id][i]) for i in f.test_ids])
        rows.append((float(roc_auc_score(y, s)), *ci(y, s), perm(y, s)))
        ys.append(y)
        ss.append(s)
    y, s = np.concatenate(ys), np.concatenate(ss)
    return rows, (float(roc_auc_score(y, s)), *ci(y, s))


def test_valid_submission_scored_like_the_published_evaluator(valid, task):
    result = S.score_submission(valid, task, n_boot=400, n_perm=300)
    rows, pooled = _published_evaluator(valid, task, 400, 300)
    assert [(f["auroc"], f["ci_lower"], f["ci_upper"], f["perm_p"]) for f in result["folds"]] == rows
    s = result["summary"]
    assert (s["pooled_auroc"], s["pooled_ci_lower"], s["pooled_ci_upper"]) == pooled
    assert s["mean_auroc"] == float(np.mean([r[0] for r in rows])) and s["n_folds"] == 2
    assert result["task_id"] == "A9" and result["model_name"] == "my-model_v1.0"
    assert result["randomness"] == "seed_default_rng" and result["holdout_folds"] == []
    assert [f["fold_id"] for f in result["folds"]] == ["fold_RR-1_test", "fold_RR-3_test"]
    assert "| my-model_v1.0 | 2 |" in S.render_score_table(result)


def test_submitted_holdout_is_scored_apart(valid, task):
    sub = copy.deepcopy(valid)
    sub["predictions"]["fold_RR-9_holdout"] = {"h1": 0.9, "h2": 0.1, "h3": 0.8, "h4": 0.3}
    result = S.score_submission(sub, task, n_boot=100, n_perm=100)
    assert result["n_folds"] == 2 and [h["fold_id"] for h in result["holdout_folds"]] == ["fold_RR-9_holdout"]
    assert result["holdout_folds"][0]["auroc"] == 1.0


def test_task_folds_from_the_release():
    release = shared_path("genelab_release")
    task = S.TaskFolds.from_release(genelab_release.read_task(release, "A5"))
    assert [f.fold_id for f in task.folds] == ["fold_MHU-2_test", "fold_RR-6_test", "fold_RR-7_holdout", "fold_RR-7_test"]
    assert [f.fold_id for f in task.required] == ["fold_MHU-2_test", "fold_RR-6_test", "fold_RR-7_test"]
    mhu2 = task.fold("fold_MHU-2_test")
    assert len(mhu2.test_ids) == 35 and sum(mhu2.test_labels) == 11
    perfect = {"task_id": "A5", "model_name": "oracle",
               "predictions": {f.fold_id: dict(zip(f.test_ids, f.test_labels)) for f in task.required}}
    result = S.score_submission(perfect, task, n_boot=200, n_perm=200)
    assert result["summary"]["mean_auroc"] == 1.0 and result["summary"]["go"]


# ------------------------------------------------------------ reading hostile files (issue 10, item 5)
def _write(tmp_path, text: str):
    path = tmp_path / "sub.json"
    path.write_text(text)
    return path


def _read_error(path, **kw) -> str:
    with pytest.raises(S.SubmissionReadError) as err:
        S.read_submission_file(path, **kw)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_read_valid_file_round_trips(tmp_path, valid):
    import json
    assert S.read_submission_file(_write(tmp_path, json.dumps(valid))) == valid


def test_duplicate_sample_id_is_rejected_naming_fold_and_id(tmp_path):
    text = '{"task_id": "A9", "model_name": "m", "predictions": {"fold_RR-1_test": {"RR-1_s0": 0.9, "RR-1_s0": 0.1}}}'
    message = _read_error(_write(tmp_path, text))
    assert "duplicate sample id in fold 'fold_RR-1_test' 'RR-1_s0'" in message and "1 duplicate key(s)" in message


def test_duplicate_fold_key_and_field_are_rejected(tmp_path):
    fold = '{"fold_RR-1_test": {"a": 0.1}, "fold_RR-1_test": {"a": 0.2}}'
    assert "duplicate fold key 'fold_RR-1_test' at ['predictions']" in _read_error(
        _write(tmp_path, '{"task_id": "A9", "model_name": "m", "predictions": %s}' % fold))
    assert "duplicate field 'model_name' at top level" in _read_error(
        _write(tmp_path, '{"task_id": "A9", "model_name": "m", "model_name": "n", "predictions": {}}'))


def test_binary_directory_missing_and_special_files(tmp_path):
    binary = tmp_path / "sub.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff" * 100)
    assert "not UTF-8 text (byte 0x89 at offset 0)" in _read_error(binary)
    assert "is a directory" in _read_error(tmp_path)
    assert "file not found" in _read_error(tmp_path / "absent.json")
    assert "not a regular file" in _read_error(Path("/dev/null"))


def test_number_too_long_to_convert_is_kept_as_text_and_listed(tmp_path, valid, task):
    """Issue 19 item 7 / issue 25: a 4,000-digit integer is never converted (no traceback); it is read
    as an OversizedNumber and listed as a problem, as is a 400-digit integer (float() would overflow)."""
    import json

    from genebench_assets.science.inputs.guarded_files import OversizedNumber

    valid["predictions"]["fold_RR-3_test"]["RR-3_s2"] = 0.5
    text = json.dumps(valid).replace('"RR-3_s2": 0.5', '"RR-3_s2": ' + "4" * 4000)
    obj = S.read_submission_file(_write(tmp_path, text))
    assert isinstance(obj["predictions"]["fold_RR-3_test"]["RR-3_s2"], OversizedNumber)
    assert _problems(obj, task) == ["[fold_RR-3_test] probability for sample 'RR-3_s2' is a number of 4000 "
                                    "characters, too long to be a probability"]
    valid["predictions"]["fold_RR-3_test"]["RR-3_s2"] = 10 ** 400
    assert _problems(valid, task) == ["[fold_RR-3_test] probability for sample 'RR-3_s2' is "
                                      f"{S._short.repr(10 ** 400)}, outside [0, 1]"]


def test_too_deep_json_is_rejected(tmp_path):
    assert "nested too deep to parse" in _read_error(_write(tmp_path, "[" * 200_000 + "]" * 200_000))
    assert "nested deeper than 16 levels" in _read_error(_write(tmp_path, '{"a": ' + "[" * 40 + "]" * 40 + "}"))


def test_too_large_input_is_rejected_before_reading(tmp_path, valid):
    import json
    path = _write(tmp_path, json.dumps(valid))
    size = path.stat().st_size
    assert f"is {size} bytes, over the limit of 100 bytes (raise it with --max-bytes)" in _read_error(path, max_bytes=100)
    assert S.read_submission_file(path, max_bytes=size) == valid


def test_problems_are_capped_with_the_total(valid, task):
    for sid in valid["predictions"]["fold_RR-3_test"]:
        valid["predictions"]["fold_RR-3_test"][sid] = "x" * 10_000   # long values are quoted short
    for sid in valid["predictions"]["fold_RR-1_test"]:
        valid["predictions"]["fold_RR-1_test"][sid] = 7
    with pytest.raises(S.SubmissionError) as err:
        S.check_submission(valid, task, limit=5)
    assert len(err.value.problems) == 5 and err.value.total == 18
    assert "(and 13 more problems)" in str(err.value)
    assert all(len(p) < 200 for p in S.validate_submission(valid, task))
