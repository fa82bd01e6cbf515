"""The real anthropic client against a scripted API (httpx2 mock transport): answers, judge, failures, cache."""

from __future__ import annotations

import json

import pytest

from genebench_assets.science.llm import anthropic_calls as ac
from genebench_assets.science.llm.prompts import ANSWER_SYSTEM_PROMPT, prompt_sha256
from genebench_assets_tests.science.llm.mock_api import ScriptedApi, error, message

WEIGHTS = {"factual_accuracy": 0.25, "reasoning_quality": 0.25, "completeness": 0.20,
           "uncertainty_calibration": 0.15, "domain_integration": 0.15}
GOOD = {"factual_accuracy": 5, "reasoning_quality": 4, "completeness": 5, "uncertainty_calibration": 4,
        "domain_integration": 3, "weighted_score": 1.0, "flags": {"hallucination": True, "novel_insight": False},
        "justification": "fine"}


def test_normal_answer_returns_text_tokens_latency_and_prompt_hash():
    api = ScriptedApi([message("The answer.", input_tokens=120, output_tokens=30)])
    res = ac.answer(api.client(), "PROMPT", model="claude-x")
    assert res.success and res.text == "The answer."
    assert (res.input_tokens, res.output_tokens) == (120, 30)
    assert res.stop_reason == "end_turn" and not res.truncated
    assert res.latency_sec is not None and res.latency_sec >= 0
    assert res.prompt_sha256 == prompt_sha256("PROMPT", ANSWER_SYSTEM_PROMPT)
    sent = api.requests[0]
    assert sent["model"] == "claude-x" and sent["max_tokens"] == 2000
    assert "temperature" not in sent  # SDK 2.x / API 2026-10-21 reject sampling parameters
    assert sent["messages"] == [{"role": "user", "content": "PROMPT"}] and sent["system"] == ANSWER_SYSTEM_PROMPT


def test_max_tokens_stop_is_flagged_truncated():
    api = ScriptedApi([message("cut off mid-sent", stop_reason="max_tokens", output_tokens=2000)])
    res = ac.answer(api.client(), "P", model="m")
    assert res.success and res.truncated and res.stop_reason == "max_tokens"


def test_429_then_success_succeeds_through_sdk_retries():
    api = ScriptedApi([error(429, "rate_limit_error"), message("ok")])
    res = ac.answer(api.client(max_retries=2), "P", model="m")
    assert res.success and res.text == "ok"
    assert len(api.requests) == 2


def test_persistent_500_fails_and_is_recorded_not_raised():
    api = ScriptedApi([error(500)])
    res = ac.answer(api.client(max_retries=2), "P", model="m")
    assert not res.success
    assert res.status_code == 500 and res.error_type == "InternalServerError"
    assert len(api.requests) == 3  # first try + max_retries
    assert res.prompt_sha256  # the failure still says which prompt it was


def test_thinking_block_is_ignored():
    api = ScriptedApi([message("visible answer", thinking="secret chain of thought {\"factual_accuracy\": 1}")])
    res = ac.answer(api.client(), "P", model="m")
    assert res.text == "visible answer"


def test_judge_reply_in_fence_parses_and_recomputes_weighted_score():
    reply = "Here is my evaluation:\n```json\n" + json.dumps(GOOD) + "\n```\nDone."
    api = ScriptedApi([message(reply)])
    call, j = ac.judge(api.client(), "JUDGE PROMPT", model="judge", weights=WEIGHTS)
    assert call.success and j.success
    assert j.weighted_score == 4.3  # 0.25*5 + 0.25*4 + 0.2*5 + 0.15*4 + 0.15*3, not the judge's 1.0
    assert j.flags["hallucination"] is True and j.flags["factual_error"] is False
    assert "temperature" not in api.requests[0]


def test_judge_with_thinking_block_uses_text_only():
    api = ScriptedApi([message(json.dumps(GOOD), thinking="{not json at all")])
    _, j = ac.judge(api.client(), "J", model="judge", weights=WEIGHTS)
    assert j.success and j.weighted_score == 4.3


def test_judge_missing_dimensions_is_retried_then_failed():
    partial = {k: v for k, v in GOOD.items() if k not in ("completeness", "domain_integration")}
    api = ScriptedApi([message(json.dumps(partial))])
    call, j = ac.judge(api.client(), "J", model="judge", weights=WEIGHTS, parse_attempts=2)
    assert not j.success and j.weighted_score is None
    assert "missing dimensions: completeness, domain_integration" in j.error
    assert "after 2 attempts" in j.error
    assert len(api.requests) == 2


def test_judge_not_json_then_good_reply_succeeds_on_retry():
    api = ScriptedApi([message("I cannot produce JSON today."), message(json.dumps(GOOD))])
    _, j = ac.judge(api.client(), "J", model="judge", weights=WEIGHTS, parse_attempts=2)
    assert j.success and len(api.requests) == 2


def test_judge_not_json_is_recorded_failed():
    api = ScriptedApi([message("Score: five out of five. Great answer!")])
    _, j = ac.judge(api.client(), "J", model="judge", weights=WEIGHTS, parse_attempts=2)
    assert not j.success and "no JSON object" in j.error
    assert j.raw == "Score: five out of five. Great answer!"


def test_judge_transport_failure_is_a_failed_judgement():
    api = ScriptedApi([error(500)])
    call, j = ac.judge(api.client(max_retries=1), "J", model="judge", weights=WEIGHTS)
    assert not call.success and not j.success and "InternalServerError" in j.error
    assert len(api.requests) == 2  # the SDK's retries only; no extra parse retries on a dead API


def test_cache_makes_rerun_free_and_failures_are_not_cached(tmp_path):
    cache = ac.ResponseCache(tmp_path)
    api = ScriptedApi([message("cached answer")])
    first = ac.answer(api.client(), "P", model="m", cache=cache)
    second = ac.answer(api.client(), "P", model="m", cache=cache)
    assert len(api.requests) == 1 and not first.cached and second.cached
    assert second.text == "cached answer" and second.prompt_sha256 == first.prompt_sha256
    # other settings -> other key; an explicit temperature is sent through extra_body
    ac.answer(api.client(), "P", model="m", temperature=0.0, cache=cache)
    assert len(api.requests) == 2 and api.requests[1]["temperature"] == 0.0
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temp files

    failing = ScriptedApi([error(500)])
    assert not ac.answer(failing.client(max_retries=0), "Q", model="m", cache=cache).success
    ok = ScriptedApi([message("now it works")])
    assert ac.answer(ok.client(), "Q", model="m", cache=cache).text == "now it works"


def test_cache_resumes_an_interrupted_batch(tmp_path):
    cache = ac.ResponseCache(tmp_path)
    api = ScriptedApi(lambda body: message("A:" + body["messages"][0]["content"]))
    client = api.client()
    for p in ("q1", "q2"):  # "interrupted" after two of four
        ac.answer(client, p, model="m", cache=cache)
    results = [ac.answer(client, p, model="m", cache=cache) for p in ("q1", "q2", "q3", "q4")]
    assert [r.text for r in results] == ["A:q1", "A:q2", "A:q3", "A:q4"]
    assert len(api.requests) == 4  # q1, q2 once each; q3, q4 once each


def test_httpx_client_is_rejected_with_a_clear_error():
    httpx = pytest.importorskip("httpx")
    with pytest.raises(TypeError, match="httpx2"):
        ac.make_client("k", http_client=httpx.Client())


def test_text_track_asker_returns_text_and_empty_on_failure():
    ask = ac.text_track_asker(ScriptedApi([message("A 0.8")]).client(), model="m")
    assert ask("genes") == "A 0.8"
    ask_fail = ac.text_track_asker(ScriptedApi([error(500)]).client(max_retries=0), model="m")
    assert ask_fail("genes") == ""


def test_connection_error_is_recorded_after_sdk_retries():
    import httpx2

    calls = []

    def handler(request):
        calls.append(1)
        raise httpx2.ConnectError("no route to host", request=request)

    client = ac.make_client("k", max_retries=1, http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    res = ac.answer(client, "P", model="m")
    assert not res.success and res.error_type == "APIConnectionError" and res.status_code is None
    assert len(calls) == 2
