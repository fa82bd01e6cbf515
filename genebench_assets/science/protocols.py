"""The two protocols (SPEC §11) and what each one means for the steps that branch on it.

`seed` reproduces the published code (whole-dataset steps, its RandomState(42) calls); `strict`
fits every data-dependent step on training samples only and draws independent random streams.
Every place that branches on the protocol asks here, so the branches cannot drift apart."""

from __future__ import annotations

PROTOCOLS = ("seed", "strict")

# Category A evaluation (bootstrap CI, permutation p): the published RandomState(42) per fold in
# `seed`; one SeedSequence with a stream per fold in `strict` (metrics.RANDOMNESS_MODES).
_EVALUATION_RANDOMNESS = {"seed": "seed_randomstate", "strict": "strict"}
# Scoring an outside submission (text-LLM track): the seed evaluator's default_rng(42) in `seed`.
_SUBMISSION_RANDOMNESS = {"seed": "seed_default_rng", "strict": "strict"}


def check_protocol(protocol: str, where: str = "GENEBENCH_PROTOCOL") -> str:
    if protocol not in PROTOCOLS:
        raise ValueError(f"{where}: unknown protocol {protocol!r}; expected one of {list(PROTOCOLS)}")
    return protocol


def evaluation_randomness(protocol: str) -> str:
    return _EVALUATION_RANDOMNESS[check_protocol(protocol)]


def submission_randomness(protocol: str) -> str:
    return _SUBMISSION_RANDOMNESS[check_protocol(protocol)]


def fits_on_training_only(protocol: str) -> bool:
    """True when data-dependent steps (filters, scaling, PCA, GSVA kernels) see training samples only."""
    return check_protocol(protocol) == "strict"
