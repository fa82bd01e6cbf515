"""Answering prompt (SPEC §12) and judge prompt contents."""

from __future__ import annotations

from genebench_assets.science.llm.prompts import (
    CONTEXT_SEPARATOR, build_answer_prompt, build_judge_prompt, prompt_sha256,
)
from genebench_assets.science.llm.question_bank import AnnotationSchema, Question

Q = Question(id="Q09", modality="transcriptomics", category="factual", difficulty="hard",
             question="Why is N=4 a problem?", data_context_files=("b.md", "a.md"),
             expected_reasoning=("small samples",), ground_truth_key_facts=("N=4 crew",),
             rubric={"uncertainty_calibration": "must mention N=4"})
SCHEMA = AnnotationSchema(weights={"factual_accuracy": 0.25, "reasoning_quality": 0.25, "completeness": 0.2,
                                   "uncertainty_calibration": 0.15, "domain_integration": 0.15},
                          descriptions={}, flags=())


def test_answer_prompt_is_contexts_joined_then_question():
    prompt = build_answer_prompt(Q, {"a.md": "AAA\n", "b.md": "\nBBB", "c.md": "unused"})
    assert prompt == "BBB\n\n---\n\nAAA\n\n---\n\n**Question:** Why is N=4 a problem?"
    assert CONTEXT_SEPARATOR == "\n\n---\n\n"


def test_judge_prompt_carries_reference_rubric_weights_and_response():
    p = build_judge_prompt(Q, "MY ANSWER", "REFERENCE FACTS", SCHEMA)
    for needle in ("REFERENCE FACTS", "**Question ID:** Q09", "**Difficulty:** hard", "Why is N=4 a problem?",
                   "  - small samples", "  - N=4 crew", "  - uncertainty_calibration: must mention N=4",
                   "MY ANSWER", "**factual_accuracy** (weight 0.25)", "**domain_integration** (weight 0.15)",
                   '"hallucination": "<true|false>"', '"justification"'):
        assert needle in p, needle
    assert "weighted_score" not in p  # recomputed by us, never asked of the judge


def test_prompt_hash_covers_system_prompt():
    assert prompt_sha256("p", "s1") != prompt_sha256("p", "s2") != prompt_sha256("p")
    assert len(prompt_sha256("p")) == 64
