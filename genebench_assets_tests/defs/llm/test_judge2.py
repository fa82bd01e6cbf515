"""The second judge in Dagster (issue 21): llm_judge2_scores against a fake OpenAI-compatible server on
127.0.0.1 (answers and the first judge on the mocked Anthropic API), failures failing as in the
Anthropic path, replay with and without a stored second judge, and llm_judge_agreement."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from genebench_assets.defs.llm import assets
from genebench_assets.defs.llm.resources import NO_SECOND_JUDGE, SecondJudgeResource, SpaceOmicsBenchResource
from genebench_assets.science.llm.judging import parse_judge_reply
from genebench_assets.science.llm.question_bank import load_question_bank
from genebench_assets_tests.defs.llm.test_assets import GOOD, write_synthetic_bank
from genebench_assets_tests.defs.llm.test_failures_fail import SCRIPT, Scripted, _answers_then_judge, ok_answer, ok_judge
from genebench_assets_tests.defs.llm.test_assets import ALL as ALL1
from genebench_assets_tests.science.llm.fake_openai import FakeChatServer, completion, failure

MODEL = "claude-mock"
ALL = [*ALL1, assets.llm_judge2_scores, assets.llm_judge_agreement]
PER_MODEL = [assets.llm_answers, assets.llm_judge_scores, assets.llm_judge2_scores]
SECOND = {"factual_accuracy": 4, "reasoning_quality": 4, "completeness": 3, "uncertainty_calibration": 2,
          "domain_integration": 5, "justification": "second opinion"}


def second_reply(body):
    """Q1 scored like GOOD (4.1) but Q2 and Q3 lower: GOOD vs SECOND differ by question."""
    prompt = body["messages"][-1]["content"]
    return completion("```json\n" + json.dumps(GOOD if "Question 1?" in prompt else SECOND) + "\n```")


@pytest.fixture
def live(tmp_path):
    write_synthetic_bank(tmp_path / "sob")
    SCRIPT.requests = []
    SCRIPT.replies = _answers_then_judge(ok_answer, ok_judge)
    instance = dg.DagsterInstance.ephemeral()

    def resources(server=None, max_failure_share=0.0, **judge2):
        cfg = {"base_url": server.base_url, "model": "judge2-model", "api_key": "k2"} if server else {}
        return {"spaceomicsbench": SpaceOmicsBenchResource(data_dir=str(tmp_path / "sob"), mode="live",
                                                           cache_dir=str(tmp_path / "cache")),
                "anthropic": Scripted(api_key="test-key", model=MODEL, judge_model="judge-mock",
                                      max_failure_share=max_failure_share),
                "judge2": SecondJudgeResource(max_retries=1, backoff_sec=0, timeout_sec=10, **cfg, **judge2),
                "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io"))}

    assert dg.materialize(ALL, instance=instance, resources=resources(), selection=[assets.llm_question_bank]).success
    return instance, resources, tmp_path


def _run(instance, resources, selection, partition=MODEL):
    return dg.materialize(ALL, instance=instance, resources=resources, partition_key=partition, selection=selection,
                          raise_on_error=False)


def _failure(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1
    return failures[0].event_specific_data.error.message


def _meta(result, asset):
    return next(e.materialization.metadata for e in result.get_asset_materialization_events()
                if e.asset_key == asset.key)


def test_second_judge_scores_are_what_the_parse_gives_and_agreement_is_built(live, monkeypatch):
    instance, resources, tmp = live
    monkeypatch.delenv("GENEBENCH_LLM_JUDGE2_BASE_URL", raising=False)
    with FakeChatServer(second_reply) as server:
        result = _run(instance, resources(server), PER_MODEL)
        assert result.success
    assert len(server.requests) == 3 and all(r["path"] == "/v1/chat/completions" for r in server.requests)
    weights = dict(load_question_bank(tmp / "sob" / "llm").schema.weights)
    scores = result.output_for_node("llm_judge2_scores").set_index("question_id")
    for q, obj in (("Q1", GOOD), ("Q2", SECOND), ("Q3", SECOND)):
        want = parse_judge_reply("```json\n" + json.dumps(obj) + "\n```", weights)
        assert scores.loc[q, "judge_success"] and scores.loc[q, "weighted_score"] == want.weighted_score
        assert {d: scores.loc[q, d] for d in weights} == want.scores
    assert set(scores["judge_model"]) == {"judge2-model"} and set(scores["source"]) == {"live"}
    meta = _meta(result, assets.llm_judge2_scores)
    assert meta["status"].value == "available" and meta["n_scored"].value == 3
    # the same prompt as the first judge's, only another transport
    first_prompts = [b["messages"][0]["content"] for b in SCRIPT.requests if b.get("system") != "answer"][-3:]
    assert [b["messages"][-1]["content"] for b in server.bodies] == first_prompts

    board = dg.materialize(ALL, instance=instance, resources=resources(), selection=[assets.llm_judge_agreement])
    value = board.output_for_node("llm_judge_agreement")
    assert value["available"] and value["models_compared"] == [MODEL] and value["n_paired_answers"] == 3
    assert value["judge1_models"] == ["judge-mock"] and value["judge2_models"] == ["judge2-model"]
    dims = {d["dimension"]: d for d in value["dimensions"]}
    # judge 1 gives GOOD (4.1) to all three, judge 2 GOOD then SECOND (3.65) twice: mean difference -1/3
    assert dims["weighted_score"]["mean_difference"] == pytest.approx((0 - 0.45 - 0.45) / 3)
    assert value["n_reversals"] == 0 and value["n_model_pairs"] == 0
    meta = _meta(board, assets.llm_judge_agreement)
    assert "| dimension |" in meta["by_dimension"].value and meta["n_reversals"].value == 0


def test_401_stops_at_the_first_call_with_one_line(live):
    instance, resources, tmp = live
    with FakeChatServer([failure(401, "bad key", "invalid_request_error")]) as server:
        result = _run(instance, resources(server), PER_MODEL)
    assert not result.success
    why = _failure(result)
    assert "\n" not in why.strip()  # one line
    assert ("llm_judge2_scores (claude-mock, judge judge2-model): stopped at the first hard API error "
                          "after 1 of 3 call(s), nothing written: HTTP 401 AuthenticationError: "
                          "the server refused the request: bad key") in why
    assert len(server.requests) == 1
    assert not (tmp / "io" / "llm_judge2_scores").exists()


def test_500_fails_by_default_and_passes_under_the_max_failure_share(live):
    instance, resources, tmp = live

    def flaky(body):
        return failure(500, "overloaded") if "Question 2?" in body["messages"][-1]["content"] else second_reply(body)
    with FakeChatServer(flaky) as server:
        result = _run(instance, resources(server), PER_MODEL)
        assert not result.success
        why = _failure(result)
        assert "llm_judge2_scores (claude-mock, judge judge2-model): stopped after 2 of 3: 1 failed" in why
        assert "allowed 0.0% by GENEBENCH_LLM_MAX_FAILURE_SHARE" in why and "first cause: HTTP 500" in why
        assert not (tmp / "io" / "llm_judge2_scores").exists()
        passed = _run(instance, resources(server, max_failure_share=0.34), PER_MODEL)
    assert passed.success
    scores = passed.output_for_node("llm_judge2_scores")
    assert scores["judge_success"].tolist() == [True, False, True]


def test_live_without_a_second_judge_is_unavailable_not_a_failure(live, monkeypatch):
    instance, resources, tmp = live
    for v in ("GENEBENCH_LLM_JUDGE2_BASE_URL", "GENEBENCH_LLM_JUDGE2_MODEL"):
        monkeypatch.delenv(v, raising=False)
    result = _run(instance, resources(), PER_MODEL)
    assert result.success and result.output_for_node("llm_judge2_scores").empty
    assert _meta(result, assets.llm_judge2_scores)["status"].value == NO_SECOND_JUDGE
    agreement = dg.materialize(ALL, instance=instance, resources=resources(), selection=[assets.llm_judge_agreement])
    value = agreement.output_for_node("llm_judge_agreement")
    assert not value["available"] and value["status"] == NO_SECOND_JUDGE
    assert value["models_without_second_judge"] == [MODEL]


def _stored_run(root, label, with_second: bool):
    results = []
    for i in (1, 2, 3):
        r = {"question_id": f"Q{i}", "modality": "clinical", "difficulty": "easy", "category": "factual",
             "success": True, "response": f"answer {i}", "input_tokens": 10, "output_tokens": 20,
             "scores": {**GOOD, "success": True}}
        if with_second:
            r["scores_judge2"] = {**(GOOD if i == 1 else SECOND), "success": True}
        results.append(r)
    meta = {"model": label, "judge_model": "judge-one"} | ({"judge2_model": "judge-two"} if with_second else {})
    path = root / "llm" / "results" / f"scored_eval_{label}_judged-by-x.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"metadata": meta, "summary": {}, "results": results}))


@pytest.mark.parametrize("with_second", [False, True])
def test_replay_uses_a_stored_second_judge_or_says_unavailable(tmp_path, with_second):
    write_synthetic_bank(tmp_path / "sob")
    _stored_run(tmp_path / "sob", "m1", with_second)
    instance = dg.DagsterInstance.ephemeral()
    resources = {"spaceomicsbench": SpaceOmicsBenchResource(data_dir=str(tmp_path / "sob"), mode="replay"),
                 "anthropic": Scripted(), "judge2": SecondJudgeResource(),
                 "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io"))}
    assert dg.materialize(ALL, instance=instance, resources=resources, selection=[assets.llm_question_bank]).success
    result = _run(instance, resources, PER_MODEL, partition="m1")
    assert result.success
    scores = result.output_for_node("llm_judge2_scores")
    agreement = dg.materialize(ALL, instance=instance, resources=resources, selection=[assets.llm_judge_agreement])
    value = agreement.output_for_node("llm_judge_agreement")
    if not with_second:
        assert scores.empty and _meta(result, assets.llm_judge2_scores)["status"].value == NO_SECOND_JUDGE
        assert not value["available"] and value["status"] == NO_SECOND_JUDGE
        return
    assert scores["weighted_score"].tolist() == [4.1, 3.65, 3.65] and set(scores["judge_model"]) == {"judge-two"}
    assert value["available"] and value["judge2_models"] == ["judge-two"] and value["n_paired_answers"] == 3


def test_later_runs_of_judge2_and_agreement_refuse_a_bank_whose_check_failed(live):
    """Both new readers of llm_question_bank go through the read gate: once the bank's check fails
    (planted: a duplicated question id in the stored bank), later runs are refused in one line and ask
    the second judge nothing."""
    import pickle

    from genebench_assets.defs.llm import checks
    from genebench_assets_tests.defs.gating.refusals import assert_refused

    instance, resources, tmp = live
    with FakeChatServer(second_reply) as server:
        assert _run(instance, resources(server), PER_MODEL).success
        path = tmp / "io" / "llm_question_bank"
        value = pickle.loads(path.read_bytes())
        value["questions"][1]["id"] = value["questions"][0]["id"]
        path.write_bytes(pickle.dumps(value))
        check = dg.materialize(ALL, instance=instance, resources=resources(server), raise_on_error=False,
                               selection=dg.AssetSelection.checks(checks.llm_question_bank_valid))
        assert not check.success or not all(e.passed for e in check.get_asset_check_evaluations())
        n = len(server.requests)
        assert_refused(_run(instance, resources(server), [assets.llm_judge2_scores]), "llm_judge2_scores",
                       "llm_question_bank", None, "llm_question_bank_valid")
        assert_refused(dg.materialize(ALL, instance=instance, resources=resources(server), raise_on_error=False,
                                      selection=[assets.llm_judge_agreement]), "llm_judge_agreement",
                       "llm_question_bank", None, "llm_question_bank_valid")
        assert len(server.requests) == n
