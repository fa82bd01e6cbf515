"""expected_counts_match before / after exclusions, and an advisory outcome (issue 25)."""

from __future__ import annotations

from genebench_assets.science.osdr import source_checks as sc
from genebench_assets_tests.science.osdr.test_source_checks import CLEAN, metadata


def test_counts_before_exclusions_ignore_qc_exclusions():
    meta = metadata(CLEAN)
    meta.loc["S05", "excluded"] = True  # a Ground sample excluded by QC
    assert not sc.expected_counts_match(meta, expected_flight=4, expected_ground=4).passed
    before = sc.expected_counts_match(meta, expected_flight=4, expected_ground=4, after_exclusions=False)
    assert before.passed and "before exclusions" in before.description
    meta.loc["S04", "label"] = 1.0  # ... but a relabelled sample still fails
    assert not sc.expected_counts_match(meta, expected_flight=4, expected_ground=4, after_exclusions=False).passed


def test_advisory_passes_and_keeps_what_it_found():
    failed = sc.expected_counts_match(metadata(CLEAN), expected_flight=6, expected_ground=6)
    out = sc.advisory(failed, "my.yaml sets expected_counts: advisory")
    assert out.passed and out.failures == []
    assert out.metadata["advisory"] is True and out.metadata["advisory_mismatch"] == failed.failures
    assert "advisory" in out.description and out.metadata["n_flight"] == 4
    passed = sc.expected_counts_match(metadata(CLEAN), expected_flight=4, expected_ground=4)
    assert sc.advisory(passed, "x") is passed
