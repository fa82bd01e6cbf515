"""Question bank validation: the real bank loads; malformed banks are rejected naming question and field."""

from __future__ import annotations

import copy
import json

import pytest

from genebench_assets.science.llm.question_bank import QuestionBank, QuestionBankError, load_question_bank
from genebench_assets_tests.conftest import shared_path

SCHEMA = {"version": "t", "rating_dimensions": {
    "factual_accuracy": {"weight": 0.25}, "reasoning_quality": {"weight": 0.25}, "completeness": {"weight": 0.20},
    "uncertainty_calibration": {"weight": 0.15}, "domain_integration": {"weight": 0.15}},
    "additional_flags": {"hallucination_detected": {}}}


def question(qid="Q1", **kw):
    q = {"id": qid, "modality": "clinical", "category": "factual", "difficulty": "easy",
         "question": "How many features?", "data_context_files": ["overview.md"],
         "expected_reasoning": ["39 features"], "ground_truth_key_facts": ["39 = 20 + 19"],
         "rubric": {"factual_accuracy": "must say 39"}}
    q.update(kw)
    return q


def write_bank(tmp_path, questions, schema=SCHEMA, **extra):
    (tmp_path / "data_context").mkdir(exist_ok=True)
    (tmp_path / "data_context" / "overview.md").write_text("# Overview\nsynthetic context\n")
    (tmp_path / "data_context" / "ground_truth.md").write_text("# Facts\n")
    (tmp_path / "question_bank.json").write_text(json.dumps({"version": "t", "questions": questions, **extra}))
    (tmp_path / "annotation_schema.json").write_text(json.dumps(schema))
    return tmp_path


def test_synthetic_bank_loads_and_round_trips(tmp_path):
    bank = load_question_bank(write_bank(tmp_path, [question("Q1"), question("Q2", difficulty="expert")], total_questions=2))
    assert [q.id for q in bank.questions] == ["Q1", "Q2"]
    assert list(bank.schema.weights) == ["factual_accuracy", "reasoning_quality", "completeness",
                                         "uncertainty_calibration", "domain_integration"]
    assert len(bank.content_hash) == 64
    again = QuestionBank.from_dict(json.loads(json.dumps(bank.to_dict())))
    assert again.questions == bank.questions and again.content_hash == bank.content_hash
    assert bank.counts().loc["total", "total"] == 2


def test_hash_changes_with_any_input(tmp_path):
    h1 = load_question_bank(write_bank(tmp_path, [question()])).content_hash
    (tmp_path / "data_context" / "overview.md").write_text("changed")
    h2 = load_question_bank(tmp_path).content_hash
    assert h1 != h2


@pytest.mark.parametrize("mutate, message", [
    (lambda q: q.pop("rubric"), "question Q7: field 'rubric' is missing"),
    (lambda q: q.update(difficulty="trivial"), "question Q7: field 'difficulty' must be one of"),
    (lambda q: q.update(question=""), "question Q7: field 'question' must be a non-empty string"),
    (lambda q: q.update(expected_reasoning="one string"), "question Q7: field 'expected_reasoning' must be a list"),
    (lambda q: q.update(ground_truth_key_facts=[]), "question Q7: field 'ground_truth_key_facts' must not be empty"),
    (lambda q: q.update(data_context_files=["nope.md"]), "question Q7: field 'data_context_files' names 'nope.md'"),
    (lambda q: q.update(rubric={"style": "pretty"}), "question Q7: field 'rubric' names unknown dimension 'style'"),
])
def test_bad_question_is_rejected_naming_question_and_field(tmp_path, mutate, message):
    bad = question("Q7")
    mutate(bad)
    with pytest.raises(QuestionBankError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        load_question_bank(write_bank(tmp_path, [question("Q1"), bad]))


def test_duplicate_ids_and_wrong_totals_are_rejected(tmp_path):
    with pytest.raises(QuestionBankError, match="question Q1: field 'id' is duplicated"):
        load_question_bank(write_bank(tmp_path, [question("Q1"), question("Q1")]))
    with pytest.raises(QuestionBankError, match="'total_questions' says 3, found 1"):
        load_question_bank(write_bank(tmp_path, [question("Q1")], total_questions=3))


def test_question_without_id_is_named_by_position(tmp_path):
    q = question()
    q.pop("id")
    with pytest.raises(QuestionBankError, match="question at position 0: field 'id' is missing"):
        load_question_bank(write_bank(tmp_path, [q]))


def test_bad_schema_weights_are_rejected(tmp_path):
    schema = copy.deepcopy(SCHEMA)
    schema["rating_dimensions"]["completeness"]["weight"] = 0.5
    with pytest.raises(QuestionBankError, match="sum to 1"):
        load_question_bank(write_bank(tmp_path, [question()], schema=schema))


def test_real_bank_is_valid():
    bank = load_question_bank(shared_path("spaceomicsbench", "llm"))
    assert len(bank.questions) == 100
    assert dict(bank.schema.weights) == {"factual_accuracy": 0.25, "reasoning_quality": 0.25, "completeness": 0.20,
                                         "uncertainty_calibration": 0.15, "domain_integration": 0.15}
    counts = bank.counts()
    assert counts.loc["total", ["easy", "medium", "hard", "expert"]].tolist() == [17, 32, 31, 20]
    assert "ground_truth.md" in bank.contexts and len(bank.content_hash) == 64
