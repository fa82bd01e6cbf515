"""The judge is an interface (issue 21): a ``Judge`` scores one judge prompt into a ``Judgement``.

Every judge shares the prompt (prompts.build_judge_prompt), the parse and the score (judging.py) and
the ask-again loop (anthropic_calls.judge_until_parsed); only the transport differs:

- ``AnthropicJudge``: the Anthropic Messages API (anthropic_calls.call_messages, the SDK's retries);
- ``OpenAICompatibleJudge``: any OpenAI-compatible ``/chat/completions`` endpoint
  (openai_compatible.OpenAICompatibleClient: httpx + tenacity), e.g. a second vendor's model.

Both return ``(CallResult, Judgement)`` and record failures instead of raising, so one failure policy
(failure_policy.py) counts them alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from genebench_assets.science.llm.anthropic_calls import (JUDGE_MAX_TOKENS, CallResult, CallSettings, ResponseCache,
                                                           call_messages, judge_until_parsed)
from genebench_assets.science.llm.judging import Judgement
from genebench_assets.science.llm.openai_compatible import ChatSettings, OpenAICompatibleClient
from genebench_assets.science.llm.prompts import JUDGE_SYSTEM_PROMPT


@runtime_checkable
class Judge(Protocol):
    model: str

    def judge(self, prompt: str, weights: Mapping[str, float]) -> tuple[CallResult, Judgement]:
        """Score one judge prompt; a failed call or unusable reply is a failed Judgement, never raised."""
        ...


@dataclass
class AnthropicJudge:
    client: Any  # anthropic.Anthropic
    model: str
    max_tokens: int = JUDGE_MAX_TOKENS
    temperature: float | None = None
    system: str | None = JUDGE_SYSTEM_PROMPT
    cache: ResponseCache | None = None
    parse_attempts: int = 2

    def judge(self, prompt: str, weights: Mapping[str, float]) -> tuple[CallResult, Judgement]:
        settings = CallSettings(self.model, self.temperature, self.max_tokens, self.system)
        return judge_until_parsed(
            lambda attempt: call_messages(self.client, prompt, settings, cache=self.cache, attempt=attempt),
            weights, self.parse_attempts)


@dataclass
class OpenAICompatibleJudge:
    client: OpenAICompatibleClient
    model: str
    max_tokens: int = JUDGE_MAX_TOKENS
    temperature: float | None = 0.0  # SPEC §12's judge temperature; OpenAI-compatible APIs accept it
    system: str | None = JUDGE_SYSTEM_PROMPT
    cache: ResponseCache | None = None
    parse_attempts: int = 2

    @property
    def settings(self) -> ChatSettings:
        return ChatSettings(self.model, self.temperature, self.max_tokens, self.system, base_url=self.client.base_url)

    def judge(self, prompt: str, weights: Mapping[str, float]) -> tuple[CallResult, Judgement]:
        settings = self.settings
        return judge_until_parsed(
            lambda attempt: self.client.chat(prompt, settings, cache=self.cache, attempt=attempt),
            weights, self.parse_attempts)
