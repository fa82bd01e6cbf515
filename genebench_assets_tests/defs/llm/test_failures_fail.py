"""Failures fail (issue 10, items 3-4), through the real LLM assets with the real SDK on a mock API:
an API error or unparsed reply fails the asset unless under GENEBENCH_LLM_MAX_FAILURE_SHARE (default
0), named once with its cause; a hard error stops at the first call; nothing is written afterwards.
The leaderboard builds from the model partitions present and lists the missing ones."""

from __future__ import annotations

import json
import time

import dagster as dg
import httpx2
import pytest

from genebench_assets.defs.llm import assets
from genebench_assets.defs.llm.resources import SpaceOmicsBenchResource
from genebench_assets_tests.defs.llm.test_assets import ALL, GOOD, PER_MODEL, MockAnthropic, write_synthetic_bank
from genebench_assets_tests.science.llm.mock_api import ScriptedApi, error, message
from genebench_assets.science.llm.prompts import ANSWER_SYSTEM_PROMPT

MODEL = "claude-mock"


class Scripted(MockAnthropic):
    """MockAnthropic bound to this module's API script."""

    def client(self):
        return SCRIPT.client(max_retries=2)


SCRIPT = ScriptedApi([])


def _answers_then_judge(answer, judge):
    def reply(body):
        return answer(body) if body.get("system") == ANSWER_SYSTEM_PROMPT else judge(body)
    return reply


def ok_answer(body):
    return message("An answer about N=4.", output_tokens=100)


def ok_judge(body):
    return message("```json\n" + json.dumps(GOOD) + "\n```")


@pytest.fixture
def env(tmp_path):
    write_synthetic_bank(tmp_path / "sob")
    SCRIPT.requests = []
    instance = dg.DagsterInstance.ephemeral()

    def resources(**anthropic):
        return {"spaceomicsbench": SpaceOmicsBenchResource(data_dir=str(tmp_path / "sob"), mode="live",
                                                           cache_dir=str(tmp_path / "cache")),
                "anthropic": Scripted(api_key="test-key", model=MODEL, judge_model="judge-mock", **anthropic),
                "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io"))}

    assert dg.materialize(ALL, instance=instance, resources=resources(), selection=[assets.llm_question_bank]).success
    return instance, resources, tmp_path / "io"


def _run(instance, resources, selection, partition=MODEL):
    return dg.materialize(ALL, instance=instance, resources=resources, partition_key=partition,
                          selection=selection, raise_on_error=False)


def _failure(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1
    return failures[0].event_specific_data.error.message


def test_401_stops_at_the_first_call_and_writes_nothing(env):
    instance, resources, io = env
    SCRIPT.replies = [error(401, "authentication_error")]
    result = _run(instance, resources(), PER_MODEL)
    assert not result.success
    why = _failure(result)
    assert "llm_answers (claude-mock): stopped at the first hard API error after 1 of 3 call(s)" in why
    assert "HTTP 401 AuthenticationError" in why and why.count("mock 401") == 1
    assert len(SCRIPT.requests) == 1  # no retry of every question
    assert not (io / "llm_answers").exists() and not (io / "llm_judge_scores").exists()


def test_no_network_stops_after_one_call_s_retries(env):
    instance, resources, io = env

    def down(body):
        raise httpx2.ConnectError("[Errno 111] Connection refused")
    SCRIPT.replies = down
    t0 = time.perf_counter()
    result = _run(instance, resources(), PER_MODEL)
    assert not result.success and time.perf_counter() - t0 < 60
    # The exception type and our own words with the transport's cause (planted above), not the SDK's wording.
    assert "APIConnectionError: could not connect to the API: [Errno 111] Connection refused" in _failure(result)
    assert len(SCRIPT.requests) == 3  # one call: the first try and the SDK's 2 retries, not 3 x 3
    assert not (io / "llm_answers").exists()


def test_a_server_error_fails_by_default_and_passes_under_the_setting(env):
    instance, resources, io = env
    SCRIPT.replies = _answers_then_judge(
        lambda body: (error(529, "overloaded_error") if "Question 2?" in body["messages"][0]["content"]
                      else ok_answer(body)), ok_judge)
    result = _run(instance, resources(), PER_MODEL)
    assert not result.success
    why = _failure(result)
    assert "llm_answers (claude-mock): stopped after 2 of 3: 1 failed" in why
    assert "allowed 0.0% by GENEBENCH_LLM_MAX_FAILURE_SHARE" in why and "first cause: HTTP 529" in why
    assert not (io / "llm_answers").exists()
    # Raising the allowed share is a decision the user makes; then the failure is kept and counted.
    passed = _run(instance, resources(max_failure_share=0.34), PER_MODEL)
    assert passed.success and (io / "llm_answers" / MODEL).exists()
    assert passed.output_for_node("llm_answers")["answer_success"].tolist() == [True, False, True]


def test_unparsed_judgements_fail_the_judge_scores(env):
    instance, resources, io = env
    SCRIPT.replies = _answers_then_judge(ok_answer, lambda body: message("I refuse to emit JSON."))
    result = _run(instance, resources(), PER_MODEL)
    assert not result.success
    why = _failure(result)
    assert "llm_judge_scores (claude-mock, judge judge-mock): stopped after 1 of 3: 1 failed" in why
    assert "unparsed" in why and "no JSON object in the judge reply" in why
    assert (io / "llm_answers" / MODEL).exists() and not (io / "llm_judge_scores").exists()


def test_leaderboard_from_the_partitions_present_lists_the_missing(env):
    instance, resources, io = env
    instance.add_dynamic_partitions(assets.llm_model_partitions.name, ["claude-other"])
    SCRIPT.replies = _answers_then_judge(ok_answer, ok_judge)
    # No partition materialized yet: a failure saying which to materialize, not a FileNotFoundError.
    none = dg.materialize(ALL, instance=instance, resources=resources(), selection=[assets.llm_leaderboard],
                          raise_on_error=False)
    why = _failure(none)
    assert "no llm_judge_scores partition is materialized" in why and "--partition claude-mock" in why
    assert "FileNotFoundError" not in str([e.event_specific_data for e in none.all_events if e.is_step_failure])
    assert _run(instance, resources(), PER_MODEL).success
    board = dg.materialize(ALL, instance=instance, resources=resources(), selection=[assets.llm_leaderboard])
    value = board.output_for_node("llm_leaderboard")
    assert [m["model"] for m in value["models"]] == [MODEL] and value["models_missing"] == ["claude-other"]
    meta = board.get_asset_materialization_events()[0].materialization.metadata
    assert meta["models_missing"].value == ["claude-other"] and meta["n_models"].value == 1
