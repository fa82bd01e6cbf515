"""Thin functions over an ``anthropic.Anthropic`` client: answer, judge, and the text-track asker.

Retries: transport-level retries are the SDK's own (``max_retries``; it retries 408 / 409 / 429 /
5xx and connection errors with exponential backoff, honouring ``retry-after``). A call that still
fails after them is *recorded* as failed (``CallResult.success = False`` with the error and HTTP
status), never raised, so a batch keeps going and the failure is counted downstream. An unparseable
judge reply is a different failure: ``judge()`` asks again (``parse_attempts``) and then records a
failed judgement.

Cache: a successful call is stored as one JSON file keyed by sha256 of (model, prompt sha256,
settings, attempt), written atomically (temp file + rename), so a rerun costs nothing and an
interrupted run resumes where it stopped. Failures are not cached: a rerun tries them again.

Temperature: SPEC §12 asks for 0.3 (answers) and 0 (judge), but the anthropic Python SDK 2.x
removed the sampling parameters (temperature, top_p, top_k) from ``messages.create`` and sends API
version 2026-10-21, which rejects any of them with HTTP 400. So by default no temperature is sent
(``temperature=None``, recorded as such in the cache key and results); a caller who targets an API
version / model that still accepts it can pass a number, which is sent through ``extra_body``.

Note: anthropic >= 2 is built on ``httpx2``; a custom ``http_client`` (e.g. a mock transport in
tests) must be an ``httpx2.Client``, not an ``httpx.Client``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import anthropic

from genebench_assets.science.storage.atomic_files import write_json
from genebench_assets.science.llm.judging import Judgement, parse_judge_reply, text_of_content
from genebench_assets.science.llm.prompts import ANSWER_SYSTEM_PROMPT, JUDGE_SYSTEM_PROMPT, prompt_sha256

DEFAULT_MAX_RETRIES = 4
ANSWER_MAX_TOKENS = 2000  # SPEC §12
JUDGE_MAX_TOKENS = 2048  # as in the stored results' metadata
# SPEC §12 temperatures (0.3 answers, 0 judge); not sendable with SDK 2.x, see the module docstring.
SPEC_ANSWER_TEMPERATURE, SPEC_JUDGE_TEMPERATURE = 0.3, 0.0


def make_client(api_key: str | None = None, *, max_retries: int = DEFAULT_MAX_RETRIES, timeout: float = 120.0, http_client: Any = None, base_url: str | None = None) -> anthropic.Anthropic:
    kwargs: dict[str, Any] = {"api_key": api_key, "max_retries": max_retries, "timeout": timeout}
    if http_client is not None:
        kwargs["http_client"] = http_client
    if base_url:
        kwargs["base_url"] = base_url
    return anthropic.Anthropic(**kwargs)


@dataclass(frozen=True)
class CallSettings:
    model: str
    temperature: float | None  # None: not sent (SDK 2.x / API 2026-10-21 reject sampling parameters)
    max_tokens: int
    system: str | None = None

    def cache_fields(self) -> dict[str, Any]:
        return {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens}


@dataclass
class CallResult:
    success: bool
    text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_sec: float | None = None
    stop_reason: str | None = None
    truncated: bool = False  # stop_reason == "max_tokens"
    prompt_sha256: str = ""
    model: str = ""
    error: str = ""
    error_type: str = ""
    status_code: int | None = None
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ResponseCache:
    """One JSON file per successful call under ``root/<model>/<key[:2]>/<key>.json``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @staticmethod
    def key(settings: CallSettings, prompt_hash: str, attempt: int = 0) -> str:
        payload = {"prompt_sha256": prompt_hash, "attempt": attempt, **settings.cache_fields()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _path(self, settings: CallSettings, key: str) -> Path:
        safe_model = "".join(c if c.isalnum() or c in "-._" else "_" for c in settings.model)
        return self.root / safe_model / key[:2] / f"{key}.json"

    def get(self, settings: CallSettings, key: str) -> CallResult | None:
        p = self._path(settings, key)
        if not p.is_file():
            return None
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # a damaged entry is a miss, not an error
        known = {f.name for f in fields(CallResult)}
        return CallResult(**{k: v for k, v in d.items() if k in known} | {"cached": True})

    def put(self, settings: CallSettings, key: str, result: CallResult) -> None:
        write_json(result.to_dict() | {"cached": False}, self._path(settings, key))


def call_messages(client: anthropic.Anthropic, prompt: str, settings: CallSettings, *, cache: ResponseCache | None = None, attempt: int = 0) -> CallResult:
    """One Messages API call (SDK retries included); text blocks only; failures recorded, not raised."""
    phash = prompt_sha256(prompt, settings.system)
    key = ResponseCache.key(settings, phash, attempt)
    if cache is not None and (hit := cache.get(settings, key)) is not None:
        return hit
    kwargs: dict[str, Any] = {
        "model": settings.model,
        "max_tokens": settings.max_tokens,
        "messages": [{"role": "user", "content": prompt}],
    }
    if settings.system:
        kwargs["system"] = settings.system
    if settings.temperature is not None:
        kwargs["extra_body"] = {"temperature": settings.temperature}
    start = time.perf_counter()
    try:
        msg = client.messages.create(**kwargs)
    except anthropic.APIStatusError as e:
        return CallResult(success=False, latency_sec=round(time.perf_counter() - start, 3), prompt_sha256=phash,
                          model=settings.model, error=str(e), error_type=type(e).__name__, status_code=e.status_code)
    except anthropic.APIError as e:  # connection errors and timeouts, after the SDK's retries
        # Our own words, not the SDK's (its message for the same failure changed between releases): what
        # failed, then the innermost transport error (e.g. "[Errno 111] Connection refused"), the cause.
        why = f"{_NO_RESPONSE.get(type(e).__name__, 'no response from the API')}: {_root_cause(e)}"
        return CallResult(success=False, latency_sec=round(time.perf_counter() - start, 3), prompt_sha256=phash,
                          model=settings.model, error=why, error_type=type(e).__name__)
    result = CallResult(
        success=True,
        text=text_of_content(msg.content),
        input_tokens=msg.usage.input_tokens,
        output_tokens=msg.usage.output_tokens,
        latency_sec=round(time.perf_counter() - start, 3),
        stop_reason=msg.stop_reason,
        truncated=msg.stop_reason == "max_tokens",
        prompt_sha256=phash,
        model=settings.model,
    )
    if cache is not None:
        cache.put(settings, key, result)
    return result


_NO_RESPONSE = {"APIConnectionError": "could not connect to the API", "APITimeoutError": "the API did not answer in time"}


def _root_cause(error: BaseException) -> str:
    """The innermost exception's text (the transport's), falling back to its type name."""
    while error.__cause__ is not None or (error.__context__ is not None and not error.__suppress_context__):
        error = error.__cause__ or error.__context__
    return str(error) or type(error).__name__


def answer(client: anthropic.Anthropic, prompt: str, *, model: str, temperature: float | None = None, max_tokens: int = ANSWER_MAX_TOKENS, system: str | None = ANSWER_SYSTEM_PROMPT, cache: ResponseCache | None = None) -> CallResult:
    return call_messages(client, prompt, CallSettings(model, temperature, max_tokens, system), cache=cache)


def judge(client: anthropic.Anthropic, prompt: str, *, model: str, weights: Mapping[str, float], max_tokens: int = JUDGE_MAX_TOKENS, temperature: float | None = None, system: str | None = JUDGE_SYSTEM_PROMPT, cache: ResponseCache | None = None, parse_attempts: int = 2) -> tuple[CallResult, Judgement]:
    """Judge once; ask again when the reply is unusable, then record a failed judgement.

    Each attempt has its own cache key (``attempt``), so a resumed run replays the same sequence."""
    settings = CallSettings(model, temperature, max_tokens, system)
    return judge_until_parsed(lambda attempt: call_messages(client, prompt, settings, cache=cache, attempt=attempt),
                              weights, parse_attempts)


def judge_until_parsed(call_once: Callable[[int], CallResult], weights: Mapping[str, float], parse_attempts: int = 2) -> tuple[CallResult, Judgement]:
    """The judging loop of every transport (judges.py): call (``attempt`` = 0, 1, ...), parse the reply;
    ask again while it is unusable, then record a failed judgement. A failed call ends the loop (the
    transport already retried it)."""
    call, judgement = CallResult(success=False), Judgement(success=False, error="not attempted")
    for attempt in range(max(1, parse_attempts)):
        call = call_once(attempt)
        if not call.success:
            # The transport already retried; another loop would only repeat that.
            return call, Judgement(success=False, error=f"judge call failed: {call.error_type} {call.error}".strip())
        judgement = parse_judge_reply(call.text, weights)
        if judgement.success:
            return call, judgement
    judgement.error = f"after {max(1, parse_attempts)} attempts: {judgement.error}"
    return call, judgement


def text_track_asker(client: anthropic.Anthropic, *, model: str, temperature: float | None = None, max_tokens: int = 256, cache: ResponseCache | None = None, tally=None) -> Callable[[str], str]:
    """prompt -> reply text for text_track.predict_fold (a failed call yields "" and parses as unanswered).

    With ``tally`` (a ``failure_policy.FailureTally``), every failed call and unparsed reply is
    counted there, and the batch stops (``LlmFailureError``) at a hard error or once the allowed
    share of failures is lost, instead of turning each failure into P = 0.5."""
    from genebench_assets.science.llm.text_track import parse_answer

    settings = CallSettings(model, temperature, max_tokens, None)

    def ask(prompt: str) -> str:
        res = call_messages(client, prompt, settings, cache=cache)
        if tally is not None:
            if not res.success:
                tally.api_failure(res)
            else:
                tally.ok()
                if parse_answer(res.text) is None:
                    tally.unparsed(res.text, "no 'A 0.7'-style answer")
        return res.text if res.success else ""

    return ask
