"""Failures fail (issue 10, items 3-4): a batch of LLM calls whose failures exceed an allowed share
is an error, named once by its first cause, never a result.

A track that failed everywhere used to report success: every call failed (no network, a fake key),
each failure became an "unparsed" answer worth P = 0.5, and a submission scoring AUROC 0.5 was
written after minutes of retries. Here a batch keeps one ``FailureTally``:

- a *hard* failure (connection error or timeout after the SDK's own retries, 400/401/403/404/413/422:
  nothing a later call would do differently) stops the batch at once;
- any other failure (a 429/5xx after the SDK's retries, an unparsed reply) is counted, and the batch
  stops as soon as the failures can no longer stay within ``max_share`` of the batch (default 0:
  the first failure);
- ``check()`` at the end raises if the share is exceeded.

The error is one line: what, how many of how many, the allowed share and the setting that raises it,
and the first cause with its HTTP status and message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SETTING = "GENEBENCH_LLM_MAX_FAILURE_SHARE"
HARD_STATUS = frozenset({400, 401, 403, 404, 413, 422})
HARD_ERROR_TYPES = frozenset({"APIConnectionError", "APITimeoutError", "AuthenticationError",
                              "PermissionDeniedError", "NotFoundError", "BadRequestError"})
_CAUSE_CHARS = 240


class LlmFailureError(RuntimeError):
    """A batch of LLM calls failed beyond the allowed share; the message is one line."""


def call_cause(call) -> str:
    """``HTTP 401 AuthenticationError: <message>`` of a failed ``CallResult``, on one line, short."""
    status = f"HTTP {call.status_code} " if getattr(call, "status_code", None) else ""
    text = " ".join(str(getattr(call, "error", "") or "").split())
    text = text if len(text) <= _CAUSE_CHARS else text[: _CAUSE_CHARS - 3] + "..."
    return f"{status}{getattr(call, 'error_type', '') or 'error'}: {text}".strip()


def is_hard_failure(call) -> bool:
    return (getattr(call, "status_code", None) in HARD_STATUS
            or getattr(call, "error_type", "") in HARD_ERROR_TYPES)


@dataclass
class FailureTally:
    """Failures of one batch of ``n_total`` items (answers, judgements, samples)."""

    what: str  # e.g. "llm_answers (claude-x)"
    n_total: int
    max_share: float = 0.0
    n_done: int = 0
    n_api_failed: int = 0
    n_unparsed: int = 0
    first_cause: str = ""
    causes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        if not (0.0 <= self.max_share <= 1.0) or math.isnan(self.max_share):
            raise ValueError(f"{SETTING} must be a share in [0, 1], got {self.max_share!r}")

    @property
    def n_failed(self) -> int:
        return self.n_api_failed + self.n_unparsed

    @property
    def allowed(self) -> int:
        """Most failures the batch may have and still stand."""
        return math.floor(self.max_share * self.n_total + 1e-9)

    def _note(self, cause: str) -> None:
        self.first_cause = self.first_cause or cause
        key = cause.split(":", 1)[0]
        self.causes[key] = self.causes.get(key, 0) + 1

    def ok(self) -> None:
        self.n_done += 1

    def api_failure(self, call) -> None:
        """Count a failed call; raise at once on a hard one or when the share is already lost."""
        self.n_done += 1
        self.n_api_failed += 1
        self._note(call_cause(call))
        if is_hard_failure(call):
            raise LlmFailureError(f"{self.what}: stopped at the first hard API error after {self.n_done} of "
                                  f"{self.n_total} call(s), nothing written: {call_cause(call)}")
        self._stop_if_lost()

    def unparsed(self, reply: str, why: str = "reply has no usable answer") -> None:
        """Count a successful call (already counted by ``ok``) whose reply could not be used."""
        self.n_unparsed += 1
        excerpt = " ".join(str(reply or "").split())[:80]
        self._note(f"unparsed: {why} (reply {excerpt!r})")
        self._stop_if_lost()

    def _stop_if_lost(self) -> None:
        if self.n_failed > self.allowed:
            raise LlmFailureError(self._message(stopped=True))

    def _message(self, stopped: bool = False) -> str:
        share = self.n_failed / self.n_total if self.n_total else 1.0
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.causes.items()))
        head = (f"{self.what}: stopped after {self.n_done} of {self.n_total}: {self.n_failed} failed"
                if stopped else f"{self.what}: {self.n_failed} of {self.n_total} failed")
        return (f"{head} ({share:.1%}; allowed {self.max_share:.1%} by {SETTING}; {kinds}); "
                f"first cause: {self.first_cause}; nothing written")

    def check(self) -> None:
        """Raise ``LlmFailureError`` when the failures exceed the allowed share."""
        if self.n_failed > self.allowed:
            raise LlmFailureError(self._message())

    def metadata(self) -> dict:
        return {"n_failed": self.n_failed, "n_api_failed": self.n_api_failed, "n_unparsed": self.n_unparsed,
                "max_failure_share": self.max_share, "first_failure_cause": self.first_cause}
