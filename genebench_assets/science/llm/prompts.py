"""Answering and judging prompts for the SpaceOmicsBench question bank (SPEC §12).

Answering prompt: the question's context files, in the bank's order, joined by ``\\n\\n---\\n\\n``,
then ``**Question:** ...`` after one more separator. A short expert system prompt goes with it.

Judge prompt: the same ingredients the published SpaceOmicsBench judge used (jang1563/SpaceOmicsBench,
``evaluation/llm/score_responses.py``): the ground-truth reference (``ground_truth.md``), the question
id, difficulty and text, its expected reasoning points, key facts and per-dimension rubric, the
response, and the five 1-5 dimensions with the schema's weights; the judge returns one JSON object
with the five integers, strengths / weaknesses / missed points, five boolean flags and a short
justification. The wording here is our own. We do not ask the judge for a weighted score: it is
recomputed from the integers (judging.py), never taken from the judge.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from genebench_assets.science.llm.question_bank import AnnotationSchema, Question

CONTEXT_SEPARATOR = "\n\n---\n\n"

ANSWER_SYSTEM_PROMPT = (
    "You are an expert in space medicine, bioinformatics and multi-omics analysis, answering questions "
    "about the SpaceOmicsBench spaceflight data (Inspiration4, a 3-day mission with 4 crew; the NASA Twins "
    "Study, 340 days on the ISS with N=1; JAXA CFE). Use the provided context and cite its numbers where "
    "they apply; keep what the data show apart from your interpretation; state uncertainty honestly, "
    "given the very small sample sizes; connect omics layers and missions where relevant; never invent "
    "statistics, gene names or citations that the context does not contain."
)

JUDGE_SYSTEM_PROMPT = (
    "You are a careful scientific benchmark evaluator. Score the response against the reference and "
    "the rubric, and reply with one valid JSON object only."
)

JUDGE_DIMENSION_GUIDE = {
    "factual_accuracy": "Are the stated facts and data values correct with respect to the context and reference?",
    "reasoning_quality": "Is the scientific reasoning sound, valid and well structured?",
    "completeness": "Does it cover the expected reasoning points and the key factors?",
    "uncertainty_calibration": "Does it acknowledge limitations appropriately, above all the small samples (N=4, N=1)?",
    "domain_integration": "Does it connect findings across omics layers, missions and space physiology?",
}
JUDGE_FLAGS = ("hallucination", "factual_error", "harmful_recommendation", "exceeds_data_scope", "novel_insight")


def answer_context(question: Question, contexts: Mapping[str, str]) -> str:
    """The question's context files, stripped, in order, joined by the separator."""
    missing = [f for f in question.data_context_files if f not in contexts]
    if missing:
        raise KeyError(f"question {question.id}: context file {missing[0]!r} not available")
    return CONTEXT_SEPARATOR.join(contexts[f].strip() for f in question.data_context_files)


def build_answer_prompt(question: Question, contexts: Mapping[str, str]) -> str:
    return f"{answer_context(question, contexts)}{CONTEXT_SEPARATOR}**Question:** {question.question}"


def _bullets(items) -> str:
    return "\n".join(f"  - {x}" for x in items) or "  - (none given)"


def build_judge_prompt(question: Question, response: str, ground_truth: str, schema: AnnotationSchema) -> str:
    rubric = _bullets(f"{dim}: {text}" for dim, text in question.rubric.items())
    dims = "\n".join(
        f"{i}. **{d}** (weight {w}): {JUDGE_DIMENSION_GUIDE.get(d, schema.descriptions.get(d, ''))}"
        for i, (d, w) in enumerate(schema.weights.items(), start=1)
    )
    template = {d: "<integer 1-5>" for d in schema.weights}
    template |= {
        "strengths": ["..."],
        "weaknesses": ["..."],
        "missed_points": ["..."],
        "flags": {f: "<true|false>" for f in JUDGE_FLAGS},
        "justification": "Two or three sentences explaining the scores.",
    }
    return (
        "You are evaluating an answer for SpaceOmicsBench, a benchmark of AI on spaceflight biomedical data.\n\n"
        f"## Reference facts\n{ground_truth.strip()}\n\n"
        "## The question and what a good answer contains\n\n"
        f"**Question ID:** {question.id}\n"
        f"**Difficulty:** {question.difficulty}\n"
        f"**Question:** {question.question}\n\n"
        f"**Expected reasoning points:**\n{_bullets(question.expected_reasoning)}\n\n"
        f"**Key facts (must be stated accurately):**\n{_bullets(question.ground_truth_key_facts)}\n\n"
        f"**Rubric for this question:**\n{rubric}\n\n"
        f"---\n\n## Answer to evaluate\n\n{response}\n\n---\n\n"
        "## How to score\n\n"
        "Give each dimension an integer from 1 (poor) to 5 (excellent):\n\n"
        f"{dims}\n\n"
        "Set each flag to true or false. Reply with this JSON object only, without markdown fences:\n"
        f"{json.dumps(template, indent=2)}"
    )


def prompt_sha256(prompt: str, system: str | None = None) -> str:
    """Hash of exactly what is sent: system prompt and user prompt (NUL-separated)."""
    return hashlib.sha256(f"{system or ''}\x00{prompt}".encode("utf-8")).hexdigest()
