"""A scripted Anthropic Messages API behind the real SDK client (httpx2 mock transport; no network).

anthropic >= 2 is built on httpx2, so the mock is an ``httpx2.MockTransport`` inside an
``httpx2.Client`` (an ``httpx.Client`` is rejected by the SDK)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx2

from genebench_assets.science.llm.anthropic_calls import make_client


def message(text: str = "", *, stop_reason: str = "end_turn", input_tokens: int = 11, output_tokens: int = 7,
            thinking: str | None = None, model: str = "claude-test") -> Callable[[], httpx2.Response]:
    content = []
    if thinking is not None:
        content.append({"type": "thinking", "thinking": thinking, "signature": "sig"})
    content.append({"type": "text", "text": text})
    body = {"id": "msg_test", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}
    return lambda: httpx2.Response(200, json=body)


def error(status: int, kind: str = "api_error") -> Callable[[], httpx2.Response]:
    # retry-after-ms keeps the SDK's backoff to a millisecond in tests
    return lambda: httpx2.Response(status, headers={"retry-after-ms": "1"},
                           json={"type": "error", "error": {"type": kind, "message": f"mock {status}"}})


class ScriptedApi:
    """Replies (factories from message() / error()) in order, the last one repeating; or a function of
    the request body returning a factory. Records every request body."""

    def __init__(self, replies):
        self.replies = replies
        self.requests: list[dict] = []

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        if callable(self.replies):
            return self.replies(body)()
        i = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[i]()

    def client(self, max_retries: int = 2):
        return make_client("test-key", max_retries=max_retries,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(self.handler)))
