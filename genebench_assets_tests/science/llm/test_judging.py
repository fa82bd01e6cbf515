"""Judge reply parsing: fences, prose, thinking blocks, missing or odd dimensions, clamping, recomputation."""

from __future__ import annotations

import json

import pytest

from genebench_assets.science.llm.judging import (
    extract_json_object, judgement_record, parse_judge_reply, text_of_content, validate_scores, weighted_score,
    JudgeParseError,
)

W = {"factual_accuracy": 0.25, "reasoning_quality": 0.25, "completeness": 0.20,
     "uncertainty_calibration": 0.15, "domain_integration": 0.15}
S = {"factual_accuracy": 5, "reasoning_quality": 4, "completeness": 5, "uncertainty_calibration": 4, "domain_integration": 3}


def test_weighted_score_is_recomputed_not_taken_from_the_judge():
    j = parse_judge_reply(json.dumps(S | {"weighted_score": 2.0}), W)
    assert j.success and j.weighted_score == 4.3 == weighted_score(S, W)


@pytest.mark.parametrize("text", [
    json.dumps(S),
    "```json\n" + json.dumps(S, indent=2) + "\n```",
    "```\n" + json.dumps(S) + "\n```",
    "Sure. Here are the scores:\n" + json.dumps(S) + "\nHope this helps {really}.",
    "Draft: {\"factual_accuracy\": 1}\nFinal:\n```json\n" + json.dumps(S) + "\n```",
])
def test_fenced_bare_and_embedded_json(text):
    j = parse_judge_reply(text, W)
    assert j.success and j.scores == S


def test_braces_inside_strings_do_not_break_parsing():
    obj = S | {"justification": "uses {curly} braces and a \"quote\" }"}
    j = parse_judge_reply("prefix " + json.dumps(obj) + " suffix", W)
    assert j.success and j.justification.startswith("uses {curly}")


def test_not_json_is_a_failed_judgement():
    j = parse_judge_reply("The answer deserves a 4 overall.", W)
    assert not j.success and j.weighted_score is None and "no JSON object" in j.error
    with pytest.raises(JudgeParseError):
        extract_json_object("[1, 2, 3]")


def test_missing_dimensions_fail_and_are_named():
    j = parse_judge_reply(json.dumps({"factual_accuracy": 4, "reasoning_quality": 4}), W)
    assert not j.success
    assert j.error == "missing dimensions: completeness, uncertainty_calibration, domain_integration"


@pytest.mark.parametrize("bad", [3.5, "four", None, True, [4]])
def test_non_integer_scores_fail(bad):
    j = validate_scores(S | {"completeness": bad}, W)
    assert not j.success and "completeness" in j.error


def test_out_of_range_scores_are_clamped_and_recorded():
    j = validate_scores(S | {"factual_accuracy": 7, "domain_integration": 0}, W)
    assert j.success and j.scores["factual_accuracy"] == 5 and j.scores["domain_integration"] == 1
    assert j.clamped == ["factual_accuracy", "domain_integration"]
    assert j.weighted_score == weighted_score(j.scores, W)


def test_integral_floats_and_digit_strings_are_accepted():
    j = validate_scores(S | {"completeness": 5.0, "reasoning_quality": "4"}, W)
    assert j.success and j.scores["completeness"] == 5 and j.scores["reasoning_quality"] == 4


def test_flags_missing_count_as_false():
    j = validate_scores(S | {"flags": {"hallucination": True}}, W)
    assert j.flags == {"hallucination": True, "factual_error": False, "harmful_recommendation": False,
                       "exceeds_data_scope": False, "novel_insight": False}


def test_text_of_content_ignores_thinking_blocks_dicts_and_objects():
    class Block:
        def __init__(self, type, **kw):
            self.type = type
            self.__dict__.update(kw)

    blocks = [{"type": "thinking", "thinking": "{\"x\": 1}"}, {"type": "redacted_thinking", "data": "zz"},
              {"type": "text", "text": "part1 "}, Block("text", text="part2")]
    assert text_of_content(blocks) == "part1 part2"


def test_weighted_score_agrees_with_published_float_rounding_on_every_combination():
    # Ours is exact decimal arithmetic; the published scorer used round(float sum, 2). With the
    # schema's weights the two agree on all 5**5 integer combinations, so replay can be exact.
    import itertools

    for combo in itertools.product(range(1, 6), repeat=5):
        s = dict(zip(W, combo))
        assert weighted_score(s, W) == round(sum(s[d] * w for d, w in W.items()), 2), combo
    assert weighted_score(dict(zip(W, (4, 5, 4, 3, 4))), W) == 4.1


def test_failed_record_has_no_scores():
    row = judgement_record(parse_judge_reply("nope", W), W)
    assert row["judge_success"] is False and row["weighted_score"] is None
    assert all(row[d] is None for d in W) and row["judge_raw"] == "nope"
