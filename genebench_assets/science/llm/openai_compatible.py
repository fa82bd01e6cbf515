"""A thin OpenAI-compatible Chat Completions client (httpx + tenacity) for the second judge (issue 21).

``POST {base_url}/chat/completions`` with ``model``, ``messages`` (the system prompt as a ``system``
message, then the user prompt), ``max_tokens`` and, when set, ``temperature``; the reply text is
``choices[0].message.content`` (a string, or a list of parts whose ``text`` parts are joined). The
key, when there is one, goes in ``Authorization: Bearer``; a local server may need none.

Same contract as ``anthropic_calls.call_messages``: a call returns a ``CallResult``, never raises.

- Retries (tenacity): 408 / 409 / 429 / 5xx and connection errors or timeouts, ``max_retries`` times
  after the first try, exponential backoff (``backoff_sec`` * 2**n, capped), at least the server's
  ``retry-after`` (capped at 60 s). Any other status is not retried.
- A failure is recorded with the HTTP status and an ``error_type`` named like the Anthropic SDK's
  (``AuthenticationError`` for 401, ``InternalServerError`` for 5xx, ``APIConnectionError``, ...), so
  the one failure policy (failure_policy.py) treats both transports alike: a connection error or a
  401 stops the batch at the first call.
- Error texts are our own words plus the server's own error message (or the transport's innermost
  cause), never an HTTP library's exception text as the message.
- Cache: the ``ResponseCache`` of anthropic_calls, keyed by (model, prompt hash, settings, attempt),
  where the settings also name the API and the base URL (``ChatSettings``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

from genebench_assets.science.llm.anthropic_calls import CallResult, CallSettings, ResponseCache, _root_cause
from genebench_assets.science.llm.prompts import prompt_sha256

RETRY_STATUS = frozenset({408, 409, 429})
MAX_BACKOFF_SEC = 30.0
MAX_RETRY_AFTER_SEC = 60.0
# HTTP status -> error type, named as the Anthropic SDK names them (failure_policy.HARD_ERROR_TYPES).
ERROR_TYPES = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
               404: "NotFoundError", 409: "ConflictError", 413: "RequestTooLargeError",
               422: "UnprocessableEntityError", 429: "RateLimitError"}


@dataclass(frozen=True)
class ChatSettings(CallSettings):
    """CallSettings of an OpenAI-compatible endpoint: the API and base URL are part of the cache key."""

    base_url: str = ""

    def cache_fields(self) -> dict[str, Any]:
        return super().cache_fields() | {"api": "openai-chat-completions", "base_url": self.base_url.rstrip("/")}


def error_type_of(status: int) -> str:
    return ERROR_TYPES.get(status, "InternalServerError" if status >= 500 else "APIStatusError")


class _Retryable(Exception):
    """A failed try that may succeed on another one; carries its recorded result."""

    def __init__(self, result: CallResult, retry_after: float | None = None):
        super().__init__(result.error)
        self.result, self.retry_after = result, retry_after


def _server_message(response: httpx.Response) -> str:
    """The server's own error message ({"error": {"message": ...}} or {"error": "..."}), else its text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return " ".join(response.text.split())[:200] or "(empty body)"
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])
    if isinstance(err, str):
        return err
    return " ".join(json.dumps(body).split())[:200]


def _retry_after(response: httpx.Response) -> float | None:
    for header, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        try:
            return min(MAX_RETRY_AFTER_SEC, max(0.0, float(response.headers[header]) * scale))
        except (KeyError, ValueError):
            continue
    return None


def content_text(content: Any) -> str:
    """``message.content``: a string, or a list of parts (their ``text``s joined); None is ""."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type", "text") == "text")
    return str(content)


class OpenAICompatibleClient:
    """``POST {base_url}/chat/completions`` with retries; ``http_client`` may be injected (tests)."""

    def __init__(self, base_url: str, api_key: str | None = None, *, max_retries: int = 4, timeout: float = 120.0,
                 backoff_sec: float = 0.5, http_client: httpx.Client | None = None):
        if not base_url:
            raise ValueError("an OpenAI-compatible client needs a base URL")
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.max_retries, self.timeout, self.backoff_sec = max_retries, timeout, backoff_sec
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.http = http_client or httpx.Client(timeout=timeout)
        self.headers = headers

    def close(self) -> None:
        self.http.close()

    def _wait(self, state: tenacity.RetryCallState) -> float:
        backoff = min(MAX_BACKOFF_SEC, self.backoff_sec * 2 ** (state.attempt_number - 1))
        exc = state.outcome.exception() if state.outcome is not None else None
        after = exc.retry_after if isinstance(exc, _Retryable) and exc.retry_after is not None else 0.0
        return max(backoff, after)

    def _try_once(self, body: dict, phash: str, model: str, start: float) -> CallResult:
        def failed(error: str, error_type: str, status: int | None = None) -> CallResult:
            return CallResult(success=False, latency_sec=round(time.perf_counter() - start, 3), prompt_sha256=phash,
                              model=model, error=error, error_type=error_type, status_code=status)

        try:
            response = self.http.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
        except httpx.TimeoutException as e:
            raise _Retryable(failed(f"the server at {self.base_url} did not answer in time: {_root_cause(e)}",
                                    "APITimeoutError")) from None
        except httpx.TransportError as e:
            raise _Retryable(failed(f"could not connect to the server at {self.base_url}: {_root_cause(e)}",
                                    "APIConnectionError")) from None
        status = response.status_code
        if status >= 400:
            result = failed(f"the server refused the request: {_server_message(response)}", error_type_of(status), status)
            if status in RETRY_STATUS or status >= 500:
                raise _Retryable(result, _retry_after(response))
            return result
        try:
            data = response.json()
            choice = data["choices"][0]
            text = content_text(choice["message"].get("content"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return failed(f"the server's reply has no choices[0].message: {' '.join(response.text.split())[:160]!r}",
                          "MalformedResponseError", status)
        usage = data.get("usage") or {}
        finish = choice.get("finish_reason")
        return CallResult(success=True, text=text, input_tokens=usage.get("prompt_tokens"),
                          output_tokens=usage.get("completion_tokens"), latency_sec=round(time.perf_counter() - start, 3),
                          stop_reason=finish, truncated=finish == "length", prompt_sha256=phash, model=model)

    def chat(self, prompt: str, settings: CallSettings, *, cache: ResponseCache | None = None, attempt: int = 0) -> CallResult:
        """One chat completion (retries included); failures recorded, not raised; successes cached."""
        phash = prompt_sha256(prompt, settings.system)
        key = ResponseCache.key(settings, phash, attempt)
        if cache is not None and (hit := cache.get(settings, key)) is not None:
            return hit
        messages = ([{"role": "system", "content": settings.system}] if settings.system else []) + \
            [{"role": "user", "content": prompt}]
        body: dict[str, Any] = {"model": settings.model, "messages": messages, "max_tokens": settings.max_tokens}
        if settings.temperature is not None:
            body["temperature"] = settings.temperature
        start = time.perf_counter()
        try:
            result = tenacity.Retrying(
                stop=tenacity.stop_after_attempt(max(0, self.max_retries) + 1), wait=self._wait,
                retry=tenacity.retry_if_exception_type(_Retryable), reraise=True,
            )(self._try_once, body, phash, settings.model, start)
        except _Retryable as e:
            return e.result
        if result.success and cache is not None:
            cache.put(settings, key, result)
        return result
