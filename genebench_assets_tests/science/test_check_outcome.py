"""CheckOutcome: the small frozen result shared by source and leakage checks."""

from __future__ import annotations

import dataclasses

import pytest

from genebench_assets.science.check_outcome import MAX_FAILURES_SHOWN, CheckOutcome, truncate_failures


def test_fields_and_defaults():
    out = CheckOutcome(passed=True, description="ids are unique")
    assert out.metadata == {} and out.failures == []
    assert [f.name for f in dataclasses.fields(CheckOutcome)] == ["passed", "description", "metadata", "failures"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.passed = False  # type: ignore[misc]


def test_from_failures_passes_only_without_failures():
    assert CheckOutcome.from_failures("x", []).passed
    out = CheckOutcome.from_failures("x", ["S1 twice"], {"n_samples": 3})
    assert not out.passed and out.failures == ["S1 twice"]
    assert out.metadata == {"n_samples": 3, "n_failures": 1}


def test_many_failures_are_truncated_with_a_count():
    out = CheckOutcome.from_failures("x", [f"S{i}" for i in range(50)])
    assert len(out.failures) == MAX_FAILURES_SHOWN + 1
    assert out.failures[-1] == "... and 30 more" and out.metadata["n_failures"] == 50
    assert truncate_failures(["a", "b"], limit=5) == ["a", "b"]
