"""The second judge's transport (issue 21): an OpenAI-compatible /chat/completions client (httpx +
tenacity) against a fake server on 127.0.0.1, behind the same Judge interface as the Anthropic one."""

from __future__ import annotations

import json

from genebench_assets.science.llm.anthropic_calls import ResponseCache
from genebench_assets.science.llm.failure_policy import is_hard_failure
from genebench_assets.science.llm.judges import AnthropicJudge, Judge, OpenAICompatibleJudge
from genebench_assets.science.llm.judging import parse_judge_reply
from genebench_assets.science.llm.openai_compatible import OpenAICompatibleClient
from genebench_assets.science.llm.prompts import JUDGE_SYSTEM_PROMPT, prompt_sha256
from genebench_assets_tests.science.llm.fake_openai import FakeChatServer, closed_port_url, completion, failure
from genebench_assets_tests.science.llm.mock_api import ScriptedApi, message
from genebench_assets_tests.science.llm.test_anthropic_calls import GOOD, WEIGHTS

REPLY = "Here is my judgement:\n```json\n" + json.dumps(GOOD) + "\n```"


def judge_for(server, **kw) -> OpenAICompatibleJudge:
    client = OpenAICompatibleClient(server.base_url, kw.pop("api_key", "k2"), max_retries=kw.pop("max_retries", 2),
                                    backoff_sec=0, timeout=5)
    return OpenAICompatibleJudge(client, "judge2-model", **kw)


def test_both_judges_are_judges_and_give_the_same_judgement_for_the_same_reply():
    with FakeChatServer([completion(REPLY)]) as server:
        second = judge_for(server)
        call2, j2 = second.judge("PROMPT", WEIGHTS)
    first = AnthropicJudge(ScriptedApi([message(REPLY)]).client(), "claude-judge")
    call1, j1 = first.judge("PROMPT", WEIGHTS)
    assert isinstance(first, Judge) and isinstance(second, Judge)
    assert j2 == parse_judge_reply(REPLY, WEIGHTS) == j1  # one parse and score, whatever the transport
    assert j2.success and j2.weighted_score == 4.3  # 5*.25 + 4*.25 + 5*.2 + 4*.15 + 3*.15
    assert call2.success and (call2.input_tokens, call2.output_tokens) == (13, 9) and not call2.truncated
    assert call2.prompt_sha256 == call1.prompt_sha256 == prompt_sha256("PROMPT", JUDGE_SYSTEM_PROMPT)


def test_the_request_is_an_openai_chat_completion():
    with FakeChatServer([completion(REPLY)]) as server:
        judge_for(server, temperature=0.0).judge("PROMPT", WEIGHTS)
        judge_for(server, temperature=None, api_key=None).judge("PROMPT", WEIGHTS)
    first, second = server.requests
    assert first["path"] == "/v1/chat/completions"
    assert first["headers"]["Authorization"] == "Bearer k2" and "Authorization" not in second["headers"]
    assert first["body"] == {"model": "judge2-model", "max_tokens": 2048, "temperature": 0.0,
                             "messages": [{"role": "system", "content": JUDGE_SYSTEM_PROMPT},
                                          {"role": "user", "content": "PROMPT"}]}
    assert "temperature" not in second["body"]


def test_an_unparseable_reply_is_asked_again_then_a_failed_judgement():
    with FakeChatServer([completion("no json here"), completion(REPLY)]) as server:
        call, j = judge_for(server).judge("P", WEIGHTS)
        assert j.success and len(server.requests) == 2
    with FakeChatServer([completion("still no json")]) as server:
        call, j = judge_for(server, parse_attempts=2).judge("P", WEIGHTS)
    assert call.success and not j.success and j.error.startswith("after 2 attempts: no JSON object")


def test_cache_keyed_by_judge_model_prompt_and_settings(tmp_path):
    cache = ResponseCache(tmp_path)
    with FakeChatServer([completion(REPLY)]) as server:
        first = judge_for(server, cache=cache).judge("P", WEIGHTS)
        again = judge_for(server, cache=cache).judge("P", WEIGHTS)
        assert len(server.requests) == 1 and again[0].cached and again[1] == first[1]
        judge_for(server, cache=cache, temperature=0.5).judge("P", WEIGHTS)  # other settings: a new call
        judge_for(server, cache=cache).judge("Q", WEIGHTS)  # another prompt: a new call
        other = judge_for(server, cache=cache)
        other.model = "judge2-other"
        other.judge("P", WEIGHTS)  # another judge model: a new call
    assert len(server.requests) == 4


def test_401_is_recorded_once_not_retried_and_is_a_hard_failure():
    with FakeChatServer([failure(401, "invalid api key", "invalid_request_error")]) as server:
        call, j = judge_for(server).judge("P", WEIGHTS)
    assert len(server.requests) == 1
    assert not call.success and call.status_code == 401 and call.error_type == "AuthenticationError"
    assert call.error == "the server refused the request: invalid api key"
    assert is_hard_failure(call) and not j.success


def test_500_is_retried_then_recorded_and_not_hard():
    with FakeChatServer([failure(500), failure(503), completion(REPLY)]) as server:
        call, j = judge_for(server, max_retries=2).judge("P", WEIGHTS)
        assert call.success and j.success and len(server.requests) == 3
    with FakeChatServer([failure(500, "boom")]) as server:
        call, _ = judge_for(server, max_retries=1).judge("P", WEIGHTS)
    assert len(server.requests) == 2 and call.status_code == 500 and call.error_type == "InternalServerError"
    assert not is_hard_failure(call)


def test_no_server_is_a_connection_failure_in_our_words():
    client = OpenAICompatibleClient(closed_port_url(), "k", max_retries=1, backoff_sec=0, timeout=5)
    call, j = OpenAICompatibleJudge(client, "m").judge("P", WEIGHTS)
    assert not call.success and call.error_type == "APIConnectionError" and is_hard_failure(call)
    assert call.error.startswith("could not connect to the server at http://127.0.0.1:")


def test_a_reply_without_choices_is_a_failed_call():
    with FakeChatServer([(200, {"object": "chat.completion"})]) as server:
        call, j = judge_for(server).judge("P", WEIGHTS)
    assert not call.success and call.error_type == "MalformedResponseError" and not j.success
    assert call.error.startswith("the server's reply has no choices[0].message")


def test_finish_reason_length_is_truncated():
    with FakeChatServer([completion(REPLY, finish_reason="length")]) as server:
        call, _ = judge_for(server).judge("P", WEIGHTS)
    assert call.truncated and call.stop_reason == "length"
