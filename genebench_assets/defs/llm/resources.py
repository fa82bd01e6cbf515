"""Resources of the LLM question-bank assets: where the SpaceOmicsBench data is, which mode, which model.

Environment variables (all optional):

- ``GENEBENCH_SPACEOMICSBENCH_DIR``: the SpaceOmicsBench data directory (the one holding ``llm/``).
  Default: ``../shared/data/spaceomicsbench`` relative to the current directory, if it exists.
  The data is CC BY-NC 4.0: it is read from there and never copied into the repository.
- ``GENEBENCH_LLM_MODE``: ``auto`` (default), ``replay`` or ``live``. ``auto`` means replay when
  the stored judged results (``llm/results/*.json``) are found; live calls are never made unless
  the mode is ``live`` explicitly (they cost money).
- ``ANTHROPIC_API_KEY``: needed for ``live`` only.
- ``GENEBENCH_LLM_MODEL`` / ``GENEBENCH_LLM_JUDGE_MODEL``: answering and judge models (live).
- ``GENEBENCH_LLM_CACHE``: response cache directory (default ``$GENEBENCH_DATA_DIR/llm_cache``).
- ``GENEBENCH_LLM_JUDGE2_BASE_URL`` / ``GENEBENCH_LLM_JUDGE2_API_KEY`` / ``GENEBENCH_LLM_JUDGE2_MODEL``:
  the second judge (issue 21), any OpenAI-compatible ``/chat/completions`` endpoint (live). Without
  base URL and model, ``llm_judge2_scores`` says ``unavailable: no second judge configured``.

Nothing here fails at import or at code-location load: a missing key or data directory only fails
the LLM assets themselves, when they are materialized, with a message saying what to set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import dagster as dg

from genebench_assets.defs.runtime.settings import default_data_dir, from_env

MODES = ("auto", "replay", "live")
SETUP_HELP = (
    "To materialize the LLM assets, either point GENEBENCH_SPACEOMICSBENCH_DIR at the SpaceOmicsBench "
    "data directory (the one containing llm/question_bank.json and llm/results/*.json) for offline "
    "replay, or also set GENEBENCH_LLM_MODE=live and ANTHROPIC_API_KEY to call the Anthropic API. "
    "These assets are in the 'llm' group and are not part of the default job."
)


class LlmSetupError(dg.Failure):
    """Raised by the LLM assets when data or key are missing; the description says what to set."""

    def __init__(self, problem: str):
        super().__init__(description=f"{problem} {SETUP_HELP}", metadata={"help": SETUP_HELP}, allow_retries=False)


def default_spaceomicsbench_dir() -> str:
    env = os.environ.get("GENEBENCH_SPACEOMICSBENCH_DIR", "")
    if env:
        return env
    candidate = Path.cwd().parent / "shared" / "data" / "spaceomicsbench"
    return str(candidate) if candidate.is_dir() else ""


class SpaceOmicsBenchResource(dg.ConfigurableResource):
    """The SpaceOmicsBench data directory, the run mode and the response cache."""

    data_dir: str = ""  # empty: GENEBENCH_SPACEOMICSBENCH_DIR, else ../shared/data/spaceomicsbench
    mode: str = ""  # empty: GENEBENCH_LLM_MODE, else "auto"
    cache_dir: str = ""  # empty: GENEBENCH_LLM_CACHE, else $GENEBENCH_DATA_DIR/llm_cache

    def root(self) -> Path:
        d = self.data_dir or default_spaceomicsbench_dir()
        if not d:
            raise LlmSetupError("No SpaceOmicsBench data directory configured.")
        return Path(d)

    def llm_dir(self) -> Path:
        llm = self.root() / "llm"
        if not (llm / "question_bank.json").is_file():
            raise LlmSetupError(f"{llm / 'question_bank.json'} not found.")
        return llm

    def results_dir(self) -> Path:
        return self.llm_dir() / "results"

    def cache_root(self) -> Path:
        return Path(self.cache_dir or os.environ.get("GENEBENCH_LLM_CACHE", "") or Path(default_data_dir()) / "llm_cache")

    def requested_mode(self) -> str:
        mode = (self.mode or os.environ.get("GENEBENCH_LLM_MODE", "") or "auto").lower()
        if mode not in MODES:
            raise LlmSetupError(f"LLM mode {mode!r} is not one of {MODES}.")
        return mode

    def resolve_mode(self, api_key_present: bool) -> str:
        """'replay' or 'live', or a clear failure saying what to configure."""
        mode = self.requested_mode()
        from genebench_assets.science.llm.replay import discover_stored_runs

        if mode == "live":
            if not api_key_present:
                raise LlmSetupError("LLM mode is 'live' but ANTHROPIC_API_KEY is not set.")
            self.llm_dir()
            return "live"
        has_results = bool(discover_stored_runs(self.results_dir()))
        if has_results:
            return "replay"
        raise LlmSetupError(f"No stored judged results in {self.results_dir()} to replay (mode {mode}).")


class AnthropicResource(dg.ConfigurableResource):
    """Anthropic Messages API settings for live answering and judging.

    ``api_key``: bind ``dg.EnvVar("ANTHROPIC_API_KEY")`` to take it from the environment explicitly;
    left unset, the key is read from ``ANTHROPIC_API_KEY`` when a call is made, so that an absent
    key never breaks loading or other jobs."""

    api_key: Optional[str] = None
    model: str = os.environ.get("GENEBENCH_LLM_MODEL", "claude-sonnet-4-6")
    # SPEC §12 wants 0.3 (answers) and 0 (judge), but SDK 2.x / API 2026-10-21 reject sampling
    # parameters with a 400; None sends none. Set a number only for an API that accepts it.
    temperature: Optional[float] = None
    judge_temperature: Optional[float] = None
    max_tokens: int = 2000  # answering, SPEC §12
    judge_model: str = os.environ.get("GENEBENCH_LLM_JUDGE_MODEL", "claude-sonnet-4-6")
    judge_max_tokens: int = 2048
    judge_parse_attempts: int = 2
    max_retries: int = 4  # the SDK's own retries (429, 5xx, connection errors)
    timeout_sec: float = 120.0
    # Share of failed calls / unparsed replies an LLM asset tolerates before failing (issue 10):
    # 0 by default, so any failure fails the asset instead of becoming a result.
    max_failure_share: float = from_env("GENEBENCH_LLM_MAX_FAILURE_SHARE", "0", float)

    def failure_tally(self, what: str, n_total: int):
        from genebench_assets.science.llm.failure_policy import FailureTally

        return FailureTally(what=what, n_total=n_total, max_share=self.max_failure_share)

    def resolved_api_key(self) -> str:
        return self.api_key or os.environ.get("ANTHROPIC_API_KEY", "")

    def client(self):
        """An ``anthropic.Anthropic`` client; tests override this to inject a mock transport."""
        from genebench_assets.science.llm.anthropic_calls import make_client

        key = self.resolved_api_key()
        if not key:
            raise LlmSetupError("ANTHROPIC_API_KEY is not set.")
        return make_client(key, max_retries=self.max_retries, timeout=self.timeout_sec)


NO_SECOND_JUDGE = "unavailable: no second judge configured"


class SecondJudgeResource(dg.ConfigurableResource):
    """The second judge: an OpenAI-compatible Chat Completions endpoint (issue 21), read at call time
    from GENEBENCH_LLM_JUDGE2_BASE_URL / _API_KEY / _MODEL unless set here. The key may be empty (a
    local server); base URL and model are what make it configured."""

    base_url: str = ""
    api_key: Optional[str] = None
    model: str = ""
    temperature: Optional[float] = 0.0  # SPEC §12's judge temperature (OpenAI-compatible APIs accept it)
    max_tokens: int = 2048
    parse_attempts: int = 2
    max_retries: int = 4  # tenacity: 408/409/429/5xx and connection errors
    backoff_sec: float = 0.5
    timeout_sec: float = 120.0

    def resolved_base_url(self) -> str:
        return self.base_url or os.environ.get("GENEBENCH_LLM_JUDGE2_BASE_URL", "")

    def resolved_model(self) -> str:
        return self.model or os.environ.get("GENEBENCH_LLM_JUDGE2_MODEL", "")

    def resolved_api_key(self) -> str:
        return self.api_key or os.environ.get("GENEBENCH_LLM_JUDGE2_API_KEY", "")

    def configured(self) -> bool:
        return bool(self.resolved_base_url() and self.resolved_model())

    def client(self):
        """An ``OpenAICompatibleClient``; tests may override this to inject a transport."""
        from genebench_assets.science.llm.openai_compatible import OpenAICompatibleClient

        return OpenAICompatibleClient(self.resolved_base_url(), self.resolved_api_key() or None,
                                      max_retries=self.max_retries, timeout=self.timeout_sec, backoff_sec=self.backoff_sec)

    def judge(self, cache=None):
        """The second ``Judge`` (science/llm/judges.py)."""
        from genebench_assets.science.llm.judges import OpenAICompatibleJudge

        return OpenAICompatibleJudge(self.client(), self.resolved_model(), max_tokens=self.max_tokens,
                                     temperature=self.temperature, cache=cache, parse_attempts=self.parse_attempts)
